"""Reading brand exports as they come: sniffing, sheets, header rows, cell values.

Brand systems export messy files (see DOMAIN.md "Brand exports are messy"):
a file named .xls that is really .xlsx, several sheets, a title row above the
header or a two-row header (merged section titles over field names, some names
repeated), flags as 是/否, dates as text, Excel serials or datetimes, CSV in
UTF-8 (with or without BOM) or GB18030. Everything here streams: openpyxl in
read-only mode, ``csv`` over a text stream, so memory does not grow with the
file. No database and no Flask request in here.
"""

from __future__ import annotations

import codecs
import csv
import html
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls / .doc
HEADER_SEARCH_ROWS = 12
SAMPLE_BYTES = 64 * 1024


class FileRejected(Exception):
    """The file as a whole cannot be imported; the message is for the user (Chinese)."""


# --------------------------------------------------------------------------- sniffing


def sniff(path: str) -> tuple[str, str | None]:
    """(kind, encoding) of an uploaded file by its content, never by its name.

    kind is "xlsx" or "csv"; raises FileRejected with a clear message otherwise.
    """
    with open(path, "rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if not head:
        raise FileRejected(_("The file is empty."))
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            raise FileRejected(_("The file is damaged: it could not be opened as an Excel workbook.")) from None
        if "xl/workbook.xml" not in names:
            raise FileRejected(_("This is not a spreadsheet. Upload an .xlsx or .csv file exported from the brand system."))
        return "xlsx", None
    if head.startswith(OLE_MAGIC):
        raise FileRejected(_("This is an old-format .xls file. Open it in Excel, save it as .xlsx (or .csv) and upload it again."))
    if b"\x00" in head:
        raise FileRejected(_("This is not a spreadsheet. Upload an .xlsx or .csv file exported from the brand system."))
    encoding = detect_encoding(path)
    text = head.decode(encoding, errors="ignore").lstrip("\ufeff \r\n\t")
    if text[:1] == "<":
        raise FileRejected(_("This file is a web page, not a spreadsheet. Export the data as .xlsx or .csv from the brand system."))
    if not text.strip():
        raise FileRejected(_("The file is empty."))
    first_lines = [line for line in text.splitlines()[:HEADER_SEARCH_ROWS] if line.strip()]
    delimiter = _delimiter(first_lines)
    if delimiter is None:
        raise FileRejected(_("This is not a spreadsheet: no columns separated by commas or tabs were found."))
    return "csv", encoding


def detect_encoding(path: str) -> str:
    """utf-8-sig with a BOM; utf-8 when every byte decodes; else gb18030 (GBK's superset)."""
    with open(path, "rb") as handle:
        if handle.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("gb18030")()
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise FileRejected(_("The text encoding of this CSV file is not recognised. Save it as UTF-8 or GB18030 and upload it again.")) from None
        return "gb18030"


def _delimiter(lines: list[str]) -> str | None:
    best, best_count = None, 0
    for candidate in (",", "\t", ";", "|"):
        count = max((line.count(candidate) for line in lines), default=0)
        if count > best_count:
            best, best_count = candidate, count
    return best


# --------------------------------------------------------------------------- sheets and rows


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')


class _HeadSizedWorksheet(ReadOnlyWorksheet):
    """A read-only worksheet that learns its size from the <dimension> tag at the top of the
    sheet XML only. openpyxl's own ``_get_size`` parses the WHOLE sheet when the tag is
    missing (many exporters omit it), on every open: seconds per open for a 50,000-row file.
    Without the tag, the size is unknown (None) and rows are read until the end, as always.
    """

    def _get_size(self):
        src = self._get_source()
        try:
            head = src.read(8192)
        finally:
            src.close()
        match = _DIMENSION.search(head)
        if match:
            ref = match.group(1).decode()
            if ":" not in ref:
                ref = f"{ref}:{ref}"
            self._min_column, self._min_row, self._max_column, self._max_row = range_boundaries(ref)


def _open_workbook(path: str):
    from openpyxl import load_workbook
    from openpyxl.reader import excel as openpyxl_excel

    # Read-only worksheets are created by openpyxl's reader; give it ours (same behaviour,
    # without the full scan). Idempotent; affects only read-only loads.
    openpyxl_excel.ReadOnlyWorksheet = _HeadSizedWorksheet

    # A file object, not a path: openpyxl refuses names ending in .xls.
    handle = open(path, "rb")  # noqa: SIM115 - closed in close_workbook
    try:
        wb = load_workbook(handle, read_only=True, data_only=True)
    except Exception:
        handle.close()
        raise FileRejected(_("The file is damaged: it could not be opened as an Excel workbook.")) from None
    wb._kdcs_handle = handle  # type: ignore[attr-defined]
    return wb


def _close_workbook(wb) -> None:
    try:
        wb.close()
    finally:
        handle = getattr(wb, "_kdcs_handle", None)
        if handle is not None:
            handle.close()


def sheet_names(path: str, kind: str) -> list[str]:
    """The workbook's visible worksheets (a CSV has one, named "CSV")."""
    if kind == "csv":
        return ["CSV"]
    wb = _open_workbook(path)
    try:
        return [ws.title for ws in wb.worksheets if getattr(ws, "sheet_state", "visible") == "visible"] or wb.sheetnames
    finally:
        _close_workbook(wb)


class RowSource:
    """Rows of one sheet (or the CSV) as lists of raw values, streamed; a context manager."""

    def __init__(self, path: str, kind: str, sheet: str | None = None, encoding: str | None = None):
        self.path, self.kind, self.sheet, self.encoding = path, kind, sheet, encoding
        self._wb = None
        self._handle = None
        self.estimated_rows: int | None = None

    def __enter__(self) -> RowSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the workbook or file handle (idempotent)."""
        if self._wb is not None:
            _close_workbook(self._wb)
            self._wb = None
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def rows(self) -> Iterator[list]:
        """Every row from the first, as a list (trailing empty cells trimmed)."""
        if self.kind == "csv":
            yield from self._csv_rows()
        else:
            yield from self._xlsx_rows()

    def _xlsx_rows(self) -> Iterator[list]:
        self._wb = _open_workbook(self.path)
        names = self._wb.sheetnames
        name = self.sheet if self.sheet in names else names[0]
        ws = self._wb[name]
        max_row = ws.max_row  # from the <dimension> tag only (see _HeadSizedWorksheet)
        self.estimated_rows = max_row if isinstance(max_row, int) and max_row > 1 else None
        yield from fast_sheet_rows(ws)

    def _csv_rows(self) -> Iterator[list]:
        with open(self.path, "rb") as raw:
            self.estimated_rows = sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b"")) or None
        self._handle = open(self.path, encoding=self.encoding or "utf-8", newline="", errors="replace")  # noqa: SIM115
        sample = [line for line in (self._handle.readline() for _ in range(HEADER_SEARCH_ROWS)) if line.strip()]
        self._handle.seek(0)
        delimiter = _delimiter(sample) or ","
        for row in csv.reader(self._handle, delimiter=delimiter):
            values = [cell.strip() for cell in row]
            while values and values[-1] == "":
                values.pop()
            yield values


_COLUMN_CACHE: dict[str, int] = {}


def _column_index(ref: str) -> int:
    """1-based column of a cell reference ("AC12" -> 29)."""
    letters = ref.rstrip("0123456789")
    index = _COLUMN_CACHE.get(letters)
    if index is None:
        index = 0
        for char in letters:
            index = index * 26 + ord(char) - 64
        _COLUMN_CACHE[letters] = index
    return index


_ROW_RE = re.compile(rb"<(?:\w+:)?row\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?row>)", re.S)
_CELL_RE = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_ATTR_R = re.compile(rb'\br="([A-Z]*)(\d*)"')
_ATTR_T = re.compile(rb'\bt="(\w+)"')
_ATTR_S = re.compile(rb'\bs="(\d+)"')
_VALUE_RE = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)
_TEXT_RE = re.compile(rb"<(?:\w+:)?t(?:\s[^>]*)?>(.*?)</(?:\w+:)?t>", re.S)
_PHONETIC_RE = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)
_ROW_END = re.compile(rb"</(?:\w+:)?row>|<(?:\w+:)?row\b[^>]*/>")


def _xml_text(raw: bytes) -> str:
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text


def fast_sheet_rows(ws, chunk_size: int = 1 << 18) -> Iterator[list]:
    """Rows of a read-only worksheet as lists of values, streamed.

    The values openpyxl's ``iter_rows(values_only=True)`` gives for what imports
    need (shared and inline strings, numbers, booleans, dates by number format,
    cached formula results), several times faster: the SpreadsheetML of
    ``<row>`` and ``<c>`` elements is regular enough for compiled regular
    expressions, and no cell objects are made. The sheet XML is read in 256 KB
    chunks and complete rows are cut off the front, so memory does not depend
    on the sheet's size. Missing rows come out empty: line numbers match Excel's.
    """
    from openpyxl.utils.datetime import from_excel

    wb = ws.parent
    shared = ws._shared_strings
    date_styles = wb._date_formats
    timedelta_styles = wb._timedelta_formats
    epoch = wb.epoch
    expected = 1

    def parse_row(attrs: bytes, body: bytes | None) -> tuple[int | None, list]:
        match = _ATTR_R.search(attrs)
        number = int(match.group(2)) if match and match.group(2) else None
        values: list = []
        if not body:
            return number, values
        for cell_attrs, inner in _CELL_RE.findall(body):
            ref = _ATTR_R.search(cell_attrs)
            column = _column_index(ref.group(1).decode()) if ref and ref.group(1) else len(values) + 1
            while len(values) < column - 1:
                values.append(None)
            kind_match = _ATTR_T.search(cell_attrs)
            kind = kind_match.group(1) if kind_match else b"n"
            value = None
            if inner:
                if kind == b"inlineStr":
                    if b"rPh" in inner:
                        inner = _PHONETIC_RE.sub(b"", inner)
                    value = "".join(_xml_text(t) for t in _TEXT_RE.findall(inner))
                else:
                    found = _VALUE_RE.search(inner)
                    raw = found.group(1) if found else b""
                    if raw:
                        if kind == b"s":
                            value = shared[int(raw)]
                        elif kind == b"n":
                            value = float(raw) if (b"." in raw or b"E" in raw or b"e" in raw) else int(raw)
                            style = _ATTR_S.search(cell_attrs)
                            if style and int(style.group(1)) in date_styles:
                                style_id = int(style.group(1))
                                try:
                                    value = from_excel(value, epoch, timedelta=style_id in timedelta_styles)
                                except (OverflowError, ValueError):
                                    pass
                        elif kind == b"b":
                            value = raw == b"1"
                        else:  # str (formula result), e (error), d (ISO date as text)
                            value = _xml_text(raw)
            values.append(value)
        while values and values[-1] in (None, ""):
            values.pop()
        return number, values

    pending = b""
    with ws._get_source() as source:
        while True:
            chunk = source.read(chunk_size)
            pending += chunk
            # Cut at the last complete row; the rest waits for the next chunk.
            last_end = max((m.end() for m in _ROW_END.finditer(pending)), default=None)
            if last_end is not None or not chunk:
                cut = last_end if last_end is not None else len(pending)
                head, pending = pending[:cut], pending[cut:]
                for attrs, body in _ROW_RE.findall(head):
                    number, values = parse_row(attrs, body)
                    index = number or expected
                    while expected < index:
                        yield []
                        expected += 1
                    yield values
                    expected = index + 1
            if not chunk:
                break


def first_rows(path: str, kind: str, sheet: str | None, encoding: str | None, count: int = HEADER_SEARCH_ROWS) -> list[list]:
    """The first ``count`` rows of a sheet, for header detection and the preview."""
    rows = []
    with RowSource(path, kind, sheet, encoding) as source:
        for row in source.rows():
            rows.append(row)
            if len(rows) >= count:
                break
    return rows


# --------------------------------------------------------------------------- headers


def header_key(value) -> str:
    """A header compared loosely: no spaces or line breaks, unified brackets, lower case."""
    return _header_key(cell_text(value))


@lru_cache(maxsize=4096)
def _header_key(text: str) -> str:
    text = text.lower()
    text = text.replace("（", "(").replace("）", ")").replace("／", "/").replace("：", "").replace(":", "")
    return re.sub(r"\s+", "", text)


def _non_empty(row: list) -> int:
    return sum(1 for value in row if cell_text(value))


def combine_headers(upper: list, lower: list) -> list[str]:
    """Column names of a two-row header: merged section titles over field names.

    A field name under a section is used as is, or as "section-field" when the
    same name appears more than once (两个 "时间" under 投诉信息 and 处理信息);
    a column whose title spans both rows (vertical merge) takes the upper text.
    """
    width = max(len(upper), len(lower))
    names_lower = [cell_text(lower[i]) if i < len(lower) else "" for i in range(width)]
    counts: dict[str, int] = {}
    for name in names_lower:
        if name:
            counts[name] = counts.get(name, 0) + 1
    names = []
    section = ""
    for i in range(width):
        top = cell_text(upper[i]) if i < len(upper) else ""
        if top:
            section = top
        low = names_lower[i]
        if not low:
            names.append(top)
        elif counts[low] > 1 and section:
            names.append(f"{section}-{low}")
        else:
            names.append(low)
    return names


def single_headers(row: list) -> list[str]:
    """One header row as column names (cell text)."""
    return [cell_text(value) for value in row]


def unique_names(names: list[str]) -> list[str]:
    """Empty names become "第N列"; repeats get "(2)", "(3)" so every column has its own name."""
    seen: dict[str, int] = {}
    result = []
    for index, name in enumerate(names):
        name = name or _("Column %(n)d", n=index + 1)
        if name in seen:
            seen[name] += 1
            name = f"{name}({seen[name]})"
        else:
            seen[name] = 1
        result.append(name)
    return result


def detect_header(rows: list[list], known_keys: set[str]) -> tuple[int, int]:
    """(header row 1-based, depth 1 or 2) that names the most known fields.

    A title row above the header names nothing, so it loses; a two-row header
    wins only when the combined names are strictly better than either row alone.
    """
    def score(names: list[str]) -> int:
        return len({header_key(n) for n in names if header_key(n) in known_keys})

    best = (0, 1, 1)  # (score, row, depth)
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if _non_empty(row) == 0:
            continue
        single = score(single_headers(row))
        if single > best[0]:
            best = (single, index + 1, 1)
        if index + 1 < len(rows) and _non_empty(row) >= 2:
            below = rows[index + 1]
            double = score(combine_headers(row, below))
            if double > single and double > score(single_headers(below)) and double > best[0]:
                best = (double, index + 1, 2)
    if best[0] == 0:
        # Nothing known: take the first row with at least two filled cells.
        for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
            if _non_empty(row) >= 2:
                return index + 1, 1
        return 1, 1
    return best[1], best[2]


def header_names(rows: list[list], header_row: int, depth: int) -> list[str]:
    """Unique column names of the header at ``header_row`` (two rows combined when ``depth`` is 2)."""
    index = header_row - 1
    if index >= len(rows):
        return []
    if depth == 2 and index + 1 < len(rows):
        return unique_names(combine_headers(rows[index], rows[index + 1]))
    return unique_names(single_headers(rows[index]))


# --------------------------------------------------------------------------- values


def cell_text(value) -> str:
    """A cell as the text a person typed: 571101.0 -> '571101', None -> ''."""
    if type(value) is str:  # the common case first: this runs for every cell of an import
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


YES_WORDS = {"是", "y", "yes", "true", "1", "√", "✓", "有", "对"}
NO_WORDS = {"否", "n", "no", "false", "0", "×", "✗", "x", "无", "不"}


def parse_flag(value) -> bool | None:
    """是/否 (and Y/N, 1/0, √/×) -> True/False; empty -> None; ValueError otherwise."""
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if not text:
        return None
    if text in YES_WORDS:
        return True
    if text in NO_WORDS:
        return False
    raise ValueError(text)


EXCEL_EPOCH = datetime(1899, 12, 30)
SERIAL_RANGE = (20000, 80000)  # 1954 .. 2119: a number outside is not a date
_DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]*(\d{1,2})\s*[:：时点]\s*(\d{1,2})\s*分?(?:\s*[:：]?\s*(\d{1,2})(?:\.\d+)?\s*秒?)?)?\s*$"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$")


def parse_datetime(value, tz: ZoneInfo = SHANGHAI) -> datetime:
    """A brand system's time (Beijing time) as aware UTC; ValueError when it is not a date.

    Accepts datetimes and dates (openpyxl), Excel serial numbers (as numbers or
    text, e.g. 45413.5), and text such as "2024-05-01 10:20:30",
    "2024/5/1 10:20", "2024年5月1日 10时20分", "20240501102030".
    """
    if value is None or value == "":
        raise ValueError("empty")
    if isinstance(value, datetime):
        local = value if value.tzinfo else value.replace(tzinfo=tz)
        return local.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tzinfo=tz).astimezone(UTC)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return _from_serial(float(value), tz)
    text = str(value).strip().replace("\u3000", " ")
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _from_serial(float(text), tz)
    match = _DATE_TEXT.match(text) or _COMPACT.match(text)
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second = (int(part) if part else 0 for part in match.groups())
    return datetime(year, month, day, hour, minute, second, tzinfo=tz).astimezone(UTC)


def _from_serial(serial: float, tz: ZoneInfo) -> datetime:
    if not SERIAL_RANGE[0] <= serial <= SERIAL_RANGE[1]:
        raise ValueError(str(serial))
    naive = EXCEL_EPOCH + timedelta(days=serial)
    # Round to the second: serials carry float noise (…:59.9999).
    naive = (naive + timedelta(microseconds=500_000)).replace(microsecond=0)
    return naive.replace(tzinfo=tz).astimezone(UTC)


_EXPORT_TIME = re.compile(r"(?:导出|生成|下载|打印|制表)(?:时间|日期)\s*[:：]?\s*(\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?"
                          r"(?:[ T]*\d{1,2}\s*[:：时点]\s*\d{1,2}\s*分?(?:\s*[:：]?\s*\d{1,2}\s*秒?)?)?)")


def stated_export_time(rows: list[list]) -> datetime | None:
    """The export time a file states in its text ("导出时间：2025-11-03 10:20" in a title row or a
    说明 sheet), as aware UTC; None when no cell states one."""
    for row in rows:
        for value in row:
            text = cell_text(value)
            if not text or len(text) > 200:
                continue
            match = _EXPORT_TIME.search(text)
            if match:
                try:
                    return parse_datetime(match.group(1).strip())
                except ValueError:
                    continue
    return None
