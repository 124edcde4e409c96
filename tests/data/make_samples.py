"""Generate the sample brand exports in tests/data/ (reproducible: fixed seed and dates).

    .venv/bin/python tests/data/make_samples.py

* ``sto_inbound_complaints.xls``: an STO 进港投诉明细-like export, really an
  .xlsx under a .xls name; a 汇总 sheet in front; a title row, a two-row header
  (merged section titles, 运单编号 spanning both rows, two "时间" columns),
  29 columns, 是/否 flags, dates as datetimes, Excel serials and text; 60 rows
  of which some are wrong on purpose (unknown outlet, bad waybill, unknown
  reason, bad date, missing waybill, a repeated row). The outlet codes are the
  demo company's STO outlets, so it imports into `flask seed-demo` data
  (after `flask tickets seed-reference`) with brand 申通.
* ``sto_inbound_complaints_gb18030.csv`` / ``..._utf8bom.csv``: the same
  rows as one-header-row CSV in GB18030 and in UTF-8 with a BOM.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

HERE = Path(__file__).parent
XLS_NAME = "sto_inbound_complaints.xls"
CSV_GB = "sto_inbound_complaints_gb18030.csv"
CSV_BOM = "sto_inbound_complaints_utf8bom.csv"

# The demo company's STO outlets (kdcs/demo.py).
OUTLETS = [
    ("STO021101", "申通上海嘉定瓶窑网点"), ("STO020102", "申通广州番禺城厢网点"), ("STO571103", "申通杭州萧山北干网点"),
    ("STO021104", "申通上海嘉定蒋村网点"), ("STO020105", "申通广州番禺半山网点"), ("STO571106", "申通杭州拱墅木渎网点"),
    ("STO021107", "申通上海嘉定黄桥网点"),
]
REASONS = ["催件", "查件", "投诉", "改地址", "拦截"]
COMPLAINT_TYPES = ["派送延误", "未按址派送", "快递员态度", "虚假签收", "包裹破损", "未经同意放驿站"]
CONTENT = {
    "催件": "客户反映快件已到{city}两天仍未派送，要求今天送达。",
    "查件": "客户查询物流一直停留在{city}转运中心，请核实快件位置。",
    "投诉": "客户投诉快递员未电话联系直接放驿站，要求道歉并送货上门。",
    "改地址": "客户要求改派至公司地址，请联系客户确认新地址。",
    "拦截": "客户申请拦截退回寄件人，请尽快处理并回复结果。",
}
NAMES = ["王建华", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵丽", "黄磊", "周敏", "吴军"]

# (section title or None, field name) — None section: the title spans both header rows.
COLUMNS = [
    (None, "统计日期"), (None, "运单编号"),
    ("投诉信息", "投诉类型"), ("投诉信息", "工单类型"), ("投诉信息", "工单内容"), ("投诉信息", "投诉人"),
    ("投诉信息", "联系电话"), ("投诉信息", "是否加急"),
    ("所属网点", "网点编码"), ("所属网点", "网点名称"), ("所属网点", "进港出港"), ("所属网点", "片区"),
    ("工单信息", "工单编号"), ("工单信息", "工单创建时间"), ("工单信息", "时间"), ("工单信息", "来源"),
    ("工单信息", "是否重复投诉"), ("工单信息", "催办次数"),
    ("处理信息", "处理人"), ("处理信息", "处理状态"), ("处理信息", "时间"), ("处理信息", "回复内容"),
    ("处理信息", "是否超时"),
    ("其他", "签收时间"), ("其他", "寄件网点"), ("其他", "目的网点"), ("其他", "重量(kg)"), ("其他", "备注"),
    ("其他", "是否理赔"),
]
assert len(COLUMNS) == 29

BASE = datetime(2025, 11, 3, 8, 0)


def excel_serial(moment: datetime) -> float:
    return round((moment - datetime(1899, 12, 30)).total_seconds() / 86400, 6)


def make_rows(rng: random.Random, count: int = 60) -> list[dict]:
    rows = []
    for n in range(count):
        code, name = OUTLETS[n % len(OUTLETS)]
        reason = REASONS[n % len(REASONS)]
        created = BASE + timedelta(hours=5 * n + rng.randint(0, 4), minutes=rng.randint(0, 59))
        style = n % 3  # how the creation time is written
        created_value = created if style == 0 else (excel_serial(created) if style == 1 else created.strftime("%Y/%-m/%-d %H:%M"))
        rows.append({
            "统计日期": created.strftime("%Y-%m-%d"),
            "运单编号": f"77{rng.randint(10**11, 10**12 - 1)}",
            "投诉类型": rng.choice(COMPLAINT_TYPES),
            "工单类型": reason,
            "工单内容": CONTENT[reason].format(city=name[2:4]),
            "投诉人": rng.choice(NAMES),
            "联系电话": f"13{rng.randint(100000000, 999999999)}",
            "是否加急": "是" if n % 7 == 0 else "否",
            "网点编码": code,
            "网点名称": name,
            "进港出港": "进港",
            "片区": name[2:4] + "片区",
            "工单编号": f"GD{20251103000 + n}",
            "工单创建时间": created_value,
            "工单信息-时间": (created + timedelta(minutes=3)).strftime("%H:%M"),
            "来源": rng.choice(["总部工单", "客户来电", "在线客服"]),
            "是否重复投诉": "否",
            "催办次数": rng.randint(0, 3),
            "处理人": "",
            "处理状态": "待处理",
            "处理信息-时间": "",
            "回复内容": "",
            "是否超时": "否",
            "签收时间": "",
            "寄件网点": "申通义乌分拨中心",
            "目的网点": name,
            "重量(kg)": round(rng.uniform(0.2, 8.0), 2),
            "备注": "",
            "是否理赔": "否",
        })
    # Wrong on purpose, so the preview has something to show.
    rows[5]["网点编码"], rows[5]["网点名称"] = "STO999999", "申通不存在网点"  # unknown outlet
    rows[11]["运单编号"] = "77-ABC"  # bad waybill
    rows[17]["工单类型"] = "咨询"  # unknown reason
    rows[23]["工单创建时间"] = "2025-13-45 25:00"  # bad date
    rows[29]["运单编号"] = ""  # missing waybill
    rows[35]["是否加急"] = "可能"  # bad flag
    rows[41]["网点编码"] = ""  # outlet by name only: fine
    rows[47] = dict(rows[46])  # the same case twice: a duplicate
    return rows


def write_xlsx(rows: list[dict], path: Path) -> None:
    wb = Workbook()
    summary = wb.active
    summary.title = "汇总"
    summary.append(["申通快递 进港投诉汇总"])
    summary.append(["网点", "投诉量", "超时量"])
    for code, name in OUTLETS:
        summary.append([name, sum(1 for r in rows if r["网点编码"] == code), 0])

    ws = wb.create_sheet("进港投诉明细")
    last = len(COLUMNS)
    ws.append([f"申通快递 进港投诉明细（统计日期：{BASE:%Y-%m-%d} 至 {BASE + timedelta(days=13):%Y-%m-%d}）"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    ws.cell(1, 1).font = Font(bold=True, size=14)
    # Row 2: section titles (merged across their fields) and both-row titles; row 3: field names.
    col = 1
    while col <= last:
        section, field = COLUMNS[col - 1]
        if section is None:
            ws.cell(2, col, field)
            ws.merge_cells(start_row=2, start_column=col, end_row=3, end_column=col)
            col += 1
            continue
        end = col
        while end + 1 <= last and COLUMNS[end][0] == section:
            end += 1
        ws.cell(2, col, section)
        if end > col:
            ws.merge_cells(start_row=2, start_column=col, end_row=2, end_column=end)
        for c in range(col, end + 1):
            ws.cell(3, c, COLUMNS[c - 1][1])
        col = end + 1
    fill = PatternFill("solid", fgColor="FCE4D6")
    for r in (2, 3):
        for c in range(1, last + 1):
            ws.cell(r, c).font = Font(bold=True)
            ws.cell(r, c).fill = fill
            ws.cell(r, c).alignment = Alignment(horizontal="center", vertical="center")
    keys = [f"{s}-{f}" if f == "时间" else f for s, f in COLUMNS]
    for index, row in enumerate(rows, start=4):
        for c, key in enumerate(keys, start=1):
            cell = ws.cell(index, c, row[key])
            if isinstance(row[key], datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
    ws.freeze_panes = "C4"
    wb.save(path)


def write_csv(rows: list[dict], path: Path, encoding: str) -> None:
    keys = [f"{s}-{f}" if f == "时间" else f for s, f in COLUMNS]
    headers = [k.replace("运单编号", "运单号") for k in keys]  # another spelling of the same field
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for row in rows:
            values = []
            for key in keys:
                value = row[key]
                if isinstance(value, datetime):
                    value = value.strftime("%Y-%m-%d %H:%M:%S")
                values.append(value)
            writer.writerow(values)


def main() -> None:
    rows = make_rows(random.Random(20251103))
    write_xlsx(rows, HERE / XLS_NAME)
    write_csv(rows, HERE / CSV_GB, "gb18030")
    write_csv(rows, HERE / CSV_BOM, "utf-8-sig")
    print(f"wrote {XLS_NAME}, {CSV_GB}, {CSV_BOM} in {HERE}")


if __name__ == "__main__":
    main()
