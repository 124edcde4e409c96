"""Reading messy brand exports: sniffing, encodings, sheets, header rows, dates and flags."""

from __future__ import annotations

import codecs
import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from kdcs.tickets.imports import reader
from kdcs.tickets.imports import service as importing
from kdcs.tickets.imports.reader import FileRejected

DATA = Path(__file__).parent / "data"
SAMPLE_XLS = DATA / "sto_inbound_complaints.xls"


def write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- sniffing


def test_sample_named_xls_is_read_as_xlsx():
    kind, encoding = reader.sniff(str(SAMPLE_XLS))
    assert (kind, encoding) == ("xlsx", None)
    assert reader.sheet_names(str(SAMPLE_XLS), kind) == ["汇总", "进港投诉明细"]


@pytest.mark.parametrize("encoding,expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030")])
def test_csv_encodings_are_detected(tmp_path, encoding, expected):
    text = "运单号,网点编码,工单类型,登记时间\n77316523125896,STO021101,催件,2025-11-03 09:00\n"
    path = write(tmp_path, "x.csv", text.encode(encoding))
    assert reader.sniff(path) == ("csv", expected)
    with reader.RowSource(path, "csv", None, expected) as source:
        rows = list(source.rows())
    assert rows[0] == ["运单号", "网点编码", "工单类型", "登记时间"]
    assert rows[1][2] == "催件"


def test_tab_separated_text_is_a_csv(tmp_path):
    path = write(tmp_path, "x.txt", "运单号\t网点编码\n77316523125896\tSTO021101\n".encode())
    kind, encoding = reader.sniff(path)
    with reader.RowSource(path, kind, None, encoding) as source:
        assert list(source.rows())[1] == ["77316523125896", "STO021101"]


@pytest.mark.parametrize("data,words", [
    (b"", "空"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "不是表格"),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00", "不是表格"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "旧版"),
    ("<html><body><table><tr><td>运单号</td></tr></table></body></html>".encode(), "网页"),
    ("这是一段说明文字，没有任何列。\n第二行也没有。\n".encode(), "不是表格"),
])
def test_non_spreadsheets_are_rejected_in_chinese(app, tmp_path, data, words):
    path = write(tmp_path, "upload.xlsx", data)
    with pytest.raises(FileRejected) as caught:
        reader.sniff(path)
    assert words in str(caught.value)


def test_a_zip_that_is_not_a_workbook_is_rejected(app, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    path = write(tmp_path, "x.xlsx", buffer.getvalue())
    with pytest.raises(FileRejected, match="不是表格"):
        reader.sniff(path)


def test_undecodable_csv_is_rejected(app, tmp_path):
    path = write(tmp_path, "x.csv", b"a,b\n\xff\xfe\xff\x81\x30,\n")
    with pytest.raises(FileRejected, match="编码"):
        reader.sniff(path)


# --------------------------------------------------------------------------- headers


KNOWN = importing.KNOWN_HEADER_KEYS


def test_title_row_above_the_header_is_skipped():
    rows = [["申通快递 进港投诉明细"], ["运单号", "网点编码", "工单类型", "工单创建时间"], ["773", "STO1", "催件", "x"]]
    assert reader.detect_header(rows, KNOWN) == (2, 1)
    assert reader.header_names(rows, 2, 1) == ["运单号", "网点编码", "工单类型", "工单创建时间"]


def test_two_row_header_with_merged_sections_and_repeated_names():
    rows = [
        ["标题"],
        ["运单编号", "投诉信息", None, None, "处理信息", None],
        [None, "工单类型", "时间", "网点编码", "时间", "工单创建时间"],
        ["77316523125896", "催件", "10:00", "STO021101", "11:00", "2025-11-03 09:00"],
    ]
    assert reader.detect_header(rows, KNOWN) == (2, 2)
    assert reader.header_names(rows, 2, 2) == [
        "运单编号", "工单类型", "投诉信息-时间", "网点编码", "处理信息-时间", "工单创建时间"]


def test_single_header_is_not_mistaken_for_two_rows():
    rows = [["运单号", "网点编码", "工单类型"], ["77316523125896", "STO021101", "催件"], ["77316523125897", "STO021101", "查件"]]
    assert reader.detect_header(rows, KNOWN) == (1, 1)


def test_empty_and_repeated_header_cells_get_unique_names(app):
    assert reader.unique_names(["运单号", "", "备注", "备注"]) == ["运单号", "第2列", "备注", "备注(2)"]


def test_sample_file_layout_and_suggested_mapping(app):
    rows = reader.first_rows(str(SAMPLE_XLS), "xlsx", "进港投诉明细", None)
    header_row, depth = reader.detect_header(rows, KNOWN)
    assert (header_row, depth) == (2, 2)
    names = reader.header_names(rows, header_row, depth)
    assert len(names) == 29 and names[1] == "运单编号" and "工单信息-时间" in names

    class Job:
        brand_id = -1

    mapping = importing.suggest_mapping(Job, names)
    assert mapping["columns"]["waybill_no"] == "运单编号"
    assert mapping["columns"]["registered_at"] == "工单创建时间"
    assert mapping["columns"]["outlet_code"] == "网点编码"
    assert mapping["columns"]["urgent"] == "是否加急"


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("value,expected", [
    (datetime(2025, 11, 3, 9, 30), datetime(2025, 11, 3, 1, 30, tzinfo=UTC)),  # Beijing time → UTC
    (date(2025, 11, 3), datetime(2025, 11, 2, 16, 0, tzinfo=UTC)),
    (45964.395833, datetime(2025, 11, 3, 1, 30, tzinfo=UTC)),  # Excel serial
    ("45964.395833", datetime(2025, 11, 3, 1, 30, tzinfo=UTC)),  # serial as text (CSV)
    ("2025-11-03 09:30:00", datetime(2025, 11, 3, 1, 30, tzinfo=UTC)),
    ("2025/11/3 9:30", datetime(2025, 11, 3, 1, 30, tzinfo=UTC)),
    ("2025.11.03 09:30", datetime(2025, 11, 3, 1, 30, tzinfo=UTC)),
    ("2025年11月3日 9时30分", datetime(2025, 11, 3, 1, 30, tzinfo=UTC)),
    ("2025-11-03T09:30", datetime(2025, 11, 3, 1, 30, tzinfo=UTC)),
    ("20251103093000", datetime(2025, 11, 3, 1, 30, tzinfo=UTC)),
    ("2025-11-03", datetime(2025, 11, 2, 16, 0, tzinfo=UTC)),
])
def test_dates_as_text_serials_and_datetimes(value, expected):
    assert reader.parse_datetime(value) == expected


@pytest.mark.parametrize("value", ["昨天", "2025-13-45 25:00", "12", 3.5, "", None, "2025-11"])
def test_bad_dates_raise(value):
    with pytest.raises(ValueError):
        reader.parse_datetime(value)


@pytest.mark.parametrize("value,expected", [("是", True), ("否", False), ("Y", True), ("n", False), (1, True),
                                            (0, False), ("√", True), ("×", False), ("", None), (None, None), (True, True)])
def test_flags(value, expected):
    assert reader.parse_flag(value) is expected


def test_bad_flag_raises():
    with pytest.raises(ValueError):
        reader.parse_flag("可能")


def test_numbers_read_as_typed():
    assert reader.cell_text(75121488724296.0) == "75121488724296"
    assert reader.cell_text(571101) == "571101"
    assert reader.cell_text(" 催件 ") == "催件"


def test_xlsx_rows_stream_past_a_wrong_dimension(tmp_path):
    data = xlsx_bytes({"明细": [["运单号", "网点编码"], *[[f"7731652312{n:04d}", "STO021101"] for n in range(30)]]})
    # Pretend the exporter wrote a wrong <dimension ref="A1:B2">.
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                content = content.replace(b'<dimension ref="A1:B31"/>', b'<dimension ref="A1:B2"/>')
            dst.writestr(item, content)
    path = write(tmp_path, "x.xlsx", out.getvalue())
    with reader.RowSource(path, "xlsx", "明细") as source:
        assert len(list(source.rows())) == 31


def test_gb18030_detection_reads_the_whole_file(tmp_path):
    # UTF-8 for the first megabyte, then a GBK byte sequence: the file is not UTF-8.
    data = ("a,b\n" + "x,y\n" * 300_000).encode() + "张三,李四\n".encode("gb18030")
    path = write(tmp_path, "x.csv", data)
    assert reader.detect_encoding(path) == "gb18030"
    assert codecs.lookup(reader.detect_encoding(path)).name == "gb18030"


def test_fast_reader_gives_what_openpyxl_gives(tmp_path):
    """The streamed sheet reader against openpyxl's own iter_rows on mixed cells."""
    from openpyxl import load_workbook
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    wb = Workbook()
    ws = wb.active
    ws.title = "明细"
    ws.append(["运单号", "数量", "是否", "时间", "公式", "富文本", "转义"])
    ws.append(["77316523125896", 3, True, datetime(2025, 11, 3, 9, 30), "=B2*2",
               CellRichText("加急", TextBlock(InlineFont(b=True), "件")), "A & B <c>"])
    ws.cell(4, 3, "隔一行")  # row 3 missing, sparse cells in row 4
    ws.cell(5, 1, 45964.5)
    ws.cell(5, 2, 0.25)
    ws.cell(5, 4, date(2025, 11, 3))
    path = tmp_path / "mixed.xlsx"
    wb.save(path)

    expected_wb = load_workbook(path, read_only=True, data_only=True)
    expected = []
    for row in expected_wb["明细"].iter_rows(values_only=True):
        values = [str(v) if v.__class__.__name__ == "CellRichText" else v for v in row]
        while values and values[-1] in (None, ""):
            values.pop()
        expected.append(values)
    with reader.RowSource(str(path), "xlsx", "明细") as source:
        got = list(source.rows())
    assert got[:2] == [expected[0], [*expected[1][:4], None, "加急件", "A & B <c>"]]  # no cached formula value
    assert got[2] == [] and got[3] == [None, None, "隔一行"]
    assert got[4][0] == 45964.5 and got[4][1] == 0.25 and got[4][3] == datetime(2025, 11, 3, 0, 0)
    assert len(got) == len(expected) == 5


def test_fast_reader_handles_prefixed_namespaces_and_inline_strings(tmp_path):
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
        '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>运单号</x:t></x:is></x:c>'
        '<x:c r="B1" t="inlineStr"><x:is><x:r><x:t>网点</x:t></x:r><x:r><x:t xml:space="preserve">编码</x:t></x:r></x:is></x:c></x:row>'
        '<x:row r="3"><x:c r="A3"><x:v>77316523125896</x:v></x:c><x:c r="C3" t="b"><x:v>1</x:v></x:c></x:row>'
        '</x:sheetData></x:worksheet>'
    )
    data = xlsx_bytes({"S": [["x"]]})
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = sheet.encode()
            dst.writestr(item, content)
    path = write(tmp_path, "ns.xlsx", out.getvalue())
    with reader.RowSource(path, "xlsx", "S") as source:
        assert list(source.rows()) == [["运单号", "网点编码"], [], [77316523125896, None, True]]
