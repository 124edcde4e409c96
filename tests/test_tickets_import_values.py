"""Brand values mapped, not refused (issue 9 part 1): the value table, whole-file outlet and time,
errors by kind, the rejected-rows file, counts of the current run, jobs that end themselves.

The two files are built here in the shapes brands export (no customer data): an STO-style complaint
export (title row, 29 columns, 投诉类型 holding 破损 that KDCS files under 问题件), and a J&T-style
problem-parcel template (a 说明 sheet, no outlet and no time column).
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from kdcs.extensions import db
from kdcs.models import (
    ImportJob,
    ImportJobRow,
    ImportMapping,
    ImportStatus,
    ImportValueMap,
    RowState,
    Ticket,
    TicketReason,
)
from kdcs.tickets.imports import service as importing
from kdcs.tickets.imports import values
from tests import factories
from tests.test_tickets_import import clean_uploads, job_from, map_form, upload  # noqa: F401  (fixture)

STO_HEADER = ["序号", "运单号", "投诉类型", "投诉内容", "投诉人", "联系电话", "是否加急", "网点编码", "网点名称",
              "进港出港", "片区", "工单编号", "工单创建时间", "来源", "是否重复投诉", "催办次数", "处理人", "处理状态",
              "处理时间", "回复内容", "是否超时", "签收时间", "寄件网点", "目的网点", "重量(kg)", "备注", "是否理赔",
              "省份", "城市"]
# (投诉类型, rows): 破损 is a 问题件 reason in KDCS, 服务态度差 the brand's word for 服务态度.
STO_VALUES = [("催件", 15), ("查件", 10), ("破损", 8), ("服务态度差", 4), ("投诉", 3)]
STO_ROWS = sum(n for _v, n in STO_VALUES)


def sto_complaints(outlets, extra_rows: list[list] = (), title: str = "申通快递 投诉工单明细 导出时间：2025-11-20 10:00:00"):
    """The STO-style complaint export: a title row, the 29-column header, one row per complaint."""
    rows = [[title], list(STO_HEADER)]
    n = 0
    for reason, count in STO_VALUES:
        for _i in range(count):
            outlet = outlets[n % len(outlets)]
            rows.append([n + 1, f"7731650{n:07d}", reason, "客户反映快件问题，请网点尽快处理。", "周敏",
                         "13174881377", "否", outlet.code, outlet.name, "进港", "上海片区", f"GD2025{n:05d}",
                         f"2025-11-{3 + n % 10:02d} 09:{n % 60:02d}", "客户来电", "否", 0, "", "待处理", "", "", "否",
                         "", "申通义乌分拨中心", outlet.name, 1.5, "", "否", "上海市", "上海市"])
            n += 1
    rows.extend(extra_rows)
    assert all(len(r) == 29 for r in rows[1:]), "the STO-style export has 29 columns"
    return _xlsx({"投诉明细": rows})


def jt_template(count: int = 12):
    """The J&T-style problem-parcel template: a 说明 sheet first, then the rows without outlet or time."""
    kinds = ["地址不详", "电话无人接听", "拒收", "破损"]
    rows = [["运单号", "操作类型", "问题件一级类型", "问题件二级类型", "问题件原因"]]
    for n in range(count):
        rows.append([f"JT00{n:011d}", "登记", "派件异常", kinds[n % 4], f"第{n + 1}件：客户电话多次无人接听"])
    notes = [["极兔速递 问题件登记模板 说明"], ["1. 运单号必填，一行一件。"], ["2. 问题件二级类型按系统选项填写。"],
             ["导出时间：2025-11-20 08:30"]]
    return _xlsx({"说明": notes, "问题件登记": rows})


def _xlsx(sheets: dict[str, list[list]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(r, c, value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # text a user typed, as a brand export stores it (not a formula)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def value_form(page: str) -> dict[str, str]:
    """The value table's form as the page pre-fills it (selected options)."""
    form = {}
    for select_match in re.finditer(r'<select id="val-[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        name = select_match.group(1).replace("&#34;", '"').replace("&amp;", "&")
        chosen = re.search(r'<option value="([^"]*)" selected>', select_match.group(2))
        form[name] = chosen.group(1) if chosen else ""
    return form


def reason(category: str, name: str) -> TicketReason:
    return db.session.scalar(select(TicketReason).where(TicketReason.category == category, TicketReason.name == name))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --------------------------------------------------------------------------- the STO-style complaint export


def test_sto_complaints_values_mapped_remembered_and_reimported(client, auth, sto_world):
    auth.login(sto_world["admin"])
    outlets = sto_world["outlets"]
    data = sto_complaints(outlets)
    job = job_from(upload(client, sto_world["brand"], data, "投诉工单明细.xls"))
    assert (job.header_row, job.header_depth) == (2, 1)
    assert job.mapping["columns"]["reason"] == "投诉类型"
    client.post(f"/tickets/import/{job.id}/map", data=map_form(job, default_category="work_order"))
    db.session.refresh(job)
    # First check: 破损 (not a 工单 reason) and 服务态度差 (brand wording) are not guessed silently.
    assert (job.valid_rows, job.error_rows) == (STO_ROWS - 12, 12)
    assert job.error_groups["reason_unknown"]["n"] == 12

    page = client.get(f"/tickets/import/{job.id}").get_data(as_text=True)
    assert 'id="value-table"' in page
    form = value_form(page)
    damaged = f"v|reason|work_order|{values.key('破损')}"
    manner = f"v|reason|work_order|{values.key('服务态度差')}"
    assert form[damaged] == f"reason:{reason('problem', '破损').id}"  # same name in another category
    assert form[manner] == f"reason:{reason('work_order', '服务态度').id}"  # known brand wording
    assert form[f"v|reason|work_order|{values.key('催件')}"] == f"reason:{reason('work_order', '催件').id}"
    assert "其他类别的同名原因" in page and "品牌常用说法" in page
    # The value table shows each value with its row count.
    assert re.search(r'data-value="破损".*?<td class="num">8</td>', page, re.S)

    response = client.post(f"/tickets/import/{job.id}/values", data=form)
    assert response.status_code == 303
    db.session.refresh(job)
    assert job.status == ImportStatus.VALIDATED
    assert (job.valid_rows, job.duplicate_rows, job.error_rows) == (STO_ROWS, 0, 0)
    assert not job.error_groups

    client.post(f"/tickets/import/{job.id}/commit")
    db.session.refresh(job)
    assert job.status == ImportStatus.DONE and job.inserted_rows == STO_ROWS
    assert count(Ticket) == STO_ROWS
    problem_damaged = reason("problem", "破损")
    moved = db.session.scalars(select(Ticket).where(Ticket.reason_id == problem_damaged.id)).all()
    assert len(moved) == 8 and {t.category for t in moved} == {"problem"}  # the rows took the reason's category
    assert count(Ticket, Ticket.reason_id == reason("work_order", "服务态度").id) == 4
    assert count(Ticket, Ticket.category == "work_order") == STO_ROWS - 8
    remembered = {(m.field, m.context, m.source_text): m.target for m in db.session.scalars(
        select(ImportValueMap).where(ImportValueMap.brand_id == sto_world["brand"].id))}
    assert remembered[("reason", "work_order", "破损")] == f"reason:{problem_damaged.id}"
    assert remembered[("reason", "work_order", "服务态度差")] == f"reason:{reason('work_order', '服务态度').id}"
    # The column mapping is remembered without the values or anything chosen for one file.
    column_memory = db.session.scalar(select(ImportMapping).where(ImportMapping.brand_id == sto_world["brand"].id))
    assert "values" not in column_memory.mapping and "outlet_id" not in column_memory.mapping["defaults"]

    # The same file again: the remembered values apply at once; nothing is duplicated, and a job
    # with nothing to import ends itself.
    again = job_from(upload(client, sto_world["brand"], data, "投诉工单明细.xls"))
    client.post(f"/tickets/import/{again.id}/map", data=map_form(again))
    db.session.refresh(again)
    assert (again.valid_rows, again.duplicate_rows, again.error_rows) == (0, STO_ROWS, 0)
    assert again.status == ImportStatus.DONE and again.inserted_rows == 0 and again.stored_name is None
    assert count(Ticket) == STO_ROWS
    page = client.get(f"/tickets/import/{again.id}").get_data(as_text=True)
    assert "没有可导入的数据" in page
    assert count(ImportJobRow, ImportJobRow.job_id == again.id) == 0
    # Another brand does not get STO's values.
    other = factories.make_brand("ZTO", "中通")
    assert values.remembered(other.id)["reason"] == {}


def test_values_can_refuse_rows_and_an_admin_can_add_a_reason(client, auth, sto_world):
    auth.login(sto_world["admin"])
    job = job_from(upload(client, sto_world["brand"], sto_complaints(sto_world["outlets"])))
    client.post(f"/tickets/import/{job.id}/map", data=map_form(job, default_category="work_order"))
    form = value_form(client.get(f"/tickets/import/{job.id}").get_data(as_text=True))
    form[f"v|reason|work_order|{values.key('破损')}"] = "reject"
    form[f"v|reason|work_order|{values.key('服务态度差')}"] = "new:work_order"
    client.post(f"/tickets/import/{job.id}/values", data=form)
    db.session.refresh(job)
    created = reason("work_order", "服务态度差")
    assert created is not None and created.is_active
    assert (job.valid_rows, job.error_rows) == (STO_ROWS - 8, 8)
    assert job.error_groups["value_rejected"]["n"] == 8
    page = client.get(f"/tickets/import/{job.id}").get_data(as_text=True)
    assert "按对应规则不导入" in page and "“破损”" in page


def test_a_lead_cannot_add_reasons_from_the_value_table(client, auth, sto_world):
    auth.login(sto_world["lead"])
    job = job_from(upload(client, sto_world["brand"], sto_complaints(sto_world["outlets"])))
    client.post(f"/tickets/import/{job.id}/map", data=map_form(job, default_category="work_order"))
    page = client.get(f"/tickets/import/{job.id}").get_data(as_text=True)
    assert 'value="new:' not in page
    form = value_form(page)
    form[f"v|reason|work_order|{values.key('服务态度差')}"] = "new:work_order"
    client.post(f"/tickets/import/{job.id}/values", data=form)
    assert reason("work_order", "服务态度差") is None


def test_error_groups_outside_team_and_the_rejected_rows_file(app, client, auth, sto_world):
    other_agent = factories.make_user("agent", username="agent_b", team=factories.make_team("二组"))
    foreign = factories.make_outlet(brand=sto_world["brand"], agent=other_agent, code="STO888001", name="申通二组网点")
    outlet = sto_world["outlets"][0]
    formula = '=HYPERLINK("http://evil.example","点我")'

    def bad(n, code, name, when="2025-11-05 10:00", waybill=None):
        return [900 + n, waybill if waybill is not None else f"77316599{n:06d}", "催件", formula, "周敏",
                "13174881377", "否", code, name, "进港", "上海片区", f"GDX{n}", when, "客户来电", "否", 0, "",
                "待处理", "", "", "否", "", "申通义乌分拨中心", name, 1.5, "", "否", "上海市", "上海市"]

    extra = [bad(1, foreign.code, foreign.name), bad(2, foreign.code, foreign.name), bad(3, "STO999999", "不存在网点"),
             bad(4, outlet.code, outlet.name, when="2025-13-45 25:00"), bad(5, outlet.code, outlet.name, waybill="")]
    auth.login(sto_world["lead"])
    job = job_from(upload(client, sto_world["brand"], sto_complaints(sto_world["outlets"], extra)))
    client.post(f"/tickets/import/{job.id}/map", data=map_form(job, default_category="work_order"))
    db.session.refresh(job)
    assert job.error_rows == 12 + 5
    groups = job.error_groups
    assert groups["outlet_not_in_team"]["n"] == 2  # counted apart from outlets that do not exist
    assert groups["outlet_unknown"]["n"] == 1
    assert groups["reason_unknown"]["n"] == 12 and len(groups["reason_unknown"]["examples"]) == 3
    examples = " ".join(m for _line, m in groups["reason_unknown"]["examples"])
    assert "破损" in examples and "服务态度差" in examples  # different values preferred as examples
    assert groups["time_invalid"]["n"] == 1 and groups["waybill_missing"]["n"] == 1

    page = client.get(f"/tickets/import/{job.id}").get_data(as_text=True)
    assert "网点不属于你的组" in page and "网点“STO888001”不属于你的组" in page
    assert "网点不存在" in page
    # Groups (with counts and examples) come before the row list; the actions before both.
    assert page.index('data-import-actions') < page.index('id="import-error-groups"') < page.index('id="import-errors"')
    assert page.count('data-error-kind="reason_unknown"') == 1

    response = client.get(f"/tickets/import/{job.id}/rejected.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == STO_HEADER + ["导入错误"]
    assert len(rows) == 1 + job.error_rows
    by_waybill = {r[1]: r for r in rows[1:]}
    foreign_row = by_waybill["77316599000001"]
    assert "不属于你的组" in foreign_row[-1] and foreign_row[7] == foreign.code
    formula_cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value == formula]
    assert formula_cells and all(c.data_type == "s" for c in formula_cells)  # text, never a formula

    # Fixed in Excel (the wrong outlet and time corrected, the rest removed) and uploaded again.
    fixed = [list(STO_HEADER) + ["导入错误"]]
    for r in rows[1:]:
        r = list(r)
        if r[1] in ("77316599000003", "77316599000004"):
            r[7], r[8], r[12] = outlet.code, outlet.name, "2025-11-05 10:00"
            fixed.append(r)
    again = job_from(upload(client, sto_world["brand"], _xlsx({"未导入行": fixed}), "未导入行.xlsx"))
    assert again.header_row == 1
    client.post(f"/tickets/import/{again.id}/map", data=map_form(again, default_category="work_order"))
    db.session.refresh(again)
    assert (again.valid_rows, again.error_rows) == (2, 0)
    client.post(f"/tickets/import/{again.id}/commit")
    assert count(Ticket, Ticket.waybill_no.in_(["77316599000003", "77316599000004"])) == 2


def test_the_rejected_rows_file_stays_after_the_import(client, auth, sto_world):
    auth.login(sto_world["admin"])
    job = job_from(upload(client, sto_world["brand"], sto_complaints(sto_world["outlets"])))
    client.post(f"/tickets/import/{job.id}/map", data=map_form(job, default_category="work_order"))
    client.post(f"/tickets/import/{job.id}/commit")
    db.session.refresh(job)
    assert job.status == ImportStatus.DONE and job.stored_name is None
    response = client.get(f"/tickets/import/{job.id}/rejected.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 1 + 12
    page = client.get(f"/tickets/import/{job.id}").get_data(as_text=True)
    assert "/rejected.xlsx" in page and 'id="import-error-groups"' in page


def test_no_rejected_rows_file_without_errors(client, auth, sto_world):
    auth.login(sto_world["admin"])
    rows = [["运单号", "网点编码", "工单类型", "工单创建时间"], ["77316523125896", "STO021101", "催件", "2025-11-03 09:00"]]
    job = job_from(upload(client, sto_world["brand"], _xlsx({"Sheet1": rows})))
    assert client.get(f"/tickets/import/{job.id}/rejected.xlsx").status_code == 404  # not checked yet
    client.post(f"/tickets/import/{job.id}/map", data=map_form(job))
    assert client.get(f"/tickets/import/{job.id}/rejected.xlsx").status_code == 404  # nothing rejected
    page = client.get(f"/tickets/import/{job.id}").get_data(as_text=True)
    assert "/rejected.xlsx" not in page


# --------------------------------------------------------------------------- the J&T-style template


def test_jt_template_without_outlet_and_time_columns(client, auth, sto_world):
    brand = factories.make_brand("JT", "极兔")
    outlet = factories.make_outlet(brand=brand, agent=sto_world["agent"], code="JT571001", name="极兔杭州余杭网点")
    auth.login(sto_world["lead"])
    job = job_from(upload(client, brand, jt_template(), "问题件登记模板.xlsx"))
    assert job.sheets == ["说明", "问题件登记"] and job.sheet_name == "问题件登记"
    assert job.mapping["columns"]["reason"] == "问题件二级类型"
    assert job.mapping["columns"]["description"] == "问题件原因"
    assert "outlet_code" not in job.mapping["columns"] and "registered_at" not in job.mapping["columns"]

    page = client.get(f"/tickets/import/{job.id}").get_data(as_text=True)
    assert 'id="whole_outlet_id"' in page and f'<option value="{outlet.id}"' in page
    assert 'value="2025-11-20T08:30"' in page  # the export time the 说明 sheet states
    assert "文件注明的导出时间" in page

    # Neither an outlet column nor an outlet for the whole file: the form says so.
    response = client.post(f"/tickets/import/{job.id}/map", data=map_form(job, default_category="problem",
                                                                           whole_registered_at="2025-11-20T08:30"))
    assert response.status_code == 200 and "或为整个文件选择一个网点" in response.get_data(as_text=True)

    response = client.post(f"/tickets/import/{job.id}/map", data=map_form(
        job, default_category="problem", whole_outlet_id=str(outlet.id), whole_registered_at="2025-11-20T08:30"))
    assert response.status_code == 303
    db.session.refresh(job)
    assert job.status == ImportStatus.VALIDATED
    assert (job.valid_rows, job.error_rows) == (9, 3)  # 电话无人接听 is J&T's wording: not guessed silently
    page = client.get(f"/tickets/import/{job.id}").get_data(as_text=True)
    form = value_form(page)
    assert form[f"v|reason|problem|{values.key('电话无人接听')}"] == f"reason:{reason('problem', '电话错误/无人接听').id}"
    client.post(f"/tickets/import/{job.id}/values", data=form)
    db.session.refresh(job)
    assert (job.valid_rows, job.error_rows) == (12, 0)
    page = client.get(f"/tickets/import/{job.id}").get_data(as_text=True)
    assert "为整个文件选择" in page and outlet.code in page and "2025-11-20 08:30" in page

    client.post(f"/tickets/import/{job.id}/commit")
    tickets = db.session.scalars(select(Ticket).where(Ticket.brand_id == brand.id)).all()
    assert len(tickets) == 12
    assert {t.outlet_id for t in tickets} == {outlet.id}
    assert {t.registered_at for t in tickets} == {datetime(2025, 11, 20, 0, 30, tzinfo=UTC)}
    assert {t.category for t in tickets} == {"problem"}
    assert any("无人接听" in t.description for t in tickets)
    assert {t.assignee_id for t in tickets} == {sto_world["agent"].id}
    remembered = db.session.scalar(select(ImportMapping).where(ImportMapping.brand_id == brand.id))
    assert "outlet_id" not in remembered.mapping["defaults"] and "registered_at" not in remembered.mapping["defaults"]

    # The same template again: nothing duplicated, and the job ends itself.
    again = job_from(upload(client, brand, jt_template(), "问题件登记模板.xlsx"))
    client.post(f"/tickets/import/{again.id}/map", data=map_form(
        again, default_category="problem", whole_outlet_id=str(outlet.id), whole_registered_at="2025-11-20T08:30"))
    db.session.refresh(again)
    assert (again.duplicate_rows, again.valid_rows, again.status) == (12, 0, ImportStatus.DONE)
    assert count(Ticket, Ticket.brand_id == brand.id) == 12


def test_whole_file_outlet_must_be_one_of_the_users(client, auth, sto_world):
    brand = factories.make_brand("JT", "极兔")
    other_agent = factories.make_user("agent", username="agent_b", team=factories.make_team("二组"))
    foreign = factories.make_outlet(brand=brand, agent=other_agent, code="JT571002")
    auth.login(sto_world["lead"])
    job = job_from(upload(client, brand, jt_template()))
    response = client.post(f"/tickets/import/{job.id}/map", data=map_form(
        job, default_category="problem", whole_outlet_id=str(foreign.id), whole_registered_at="2025-11-20T08:30"))
    assert response.status_code == 200 and "请选择你负责的该品牌网点" in response.get_data(as_text=True)
    response = client.post(f"/tickets/import/{job.id}/map", data=map_form(
        job, default_category="problem", whole_outlet_id=str(foreign.id), whole_registered_at="2099-01-01T08:30"))
    assert "登记时间不能晚于当前时间" in response.get_data(as_text=True)


# --------------------------------------------------------------------------- progress, hint, categories


def test_a_rerun_shows_only_its_own_counts(client, auth, sto_world, monkeypatch):
    from kdcs.tickets.imports import tasks

    auth.login(sto_world["admin"])
    job = job_from(upload(client, sto_world["brand"], sto_complaints(sto_world["outlets"])))
    client.post(f"/tickets/import/{job.id}/map", data=map_form(job, default_category="work_order"))
    db.session.refresh(job)
    assert job.error_rows == 12
    monkeypatch.setattr(tasks, "validate_import", lambda job_id: None)  # the worker has not started yet
    form = value_form(client.get(f"/tickets/import/{job.id}").get_data(as_text=True))
    client.post(f"/tickets/import/{job.id}/values", data=form)
    db.session.refresh(job)
    assert job.status == ImportStatus.VALIDATING
    assert (job.processed_rows, job.valid_rows, job.duplicate_rows, job.error_rows) == (0, 0, 0, 0)
    body = client.htmx("get", f"/tickets/import/{job.id}/progress").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))
    assert "已检查 0 行" in text and "有错误 0 行" in text and "12" not in text


def test_upload_hint_says_exactly_which_xls_files_are_read(client, auth, sto_world):
    auth.login(sto_world["lead"])
    page = client.get("/tickets/import").get_data(as_text=True)
    hint = re.search(r"data-file-hint>(.*?)</div>", page, re.S).group(1)
    assert ".xlsx" in hint and ".csv" in hint and "GB18030" in hint
    assert "实际是 .xlsx 的 .xls" in hint and "旧版二进制 .xls" in hint and "另存为 .xlsx" in hint


def test_category_values_are_mapped_and_group_the_reasons(client, auth, sto_world):
    auth.login(sto_world["admin"])
    rows = [["运单号", "网点编码", "业务类别", "原因", "登记时间"]]
    for n in range(6):
        rows.append([f"7731652312{n:04d}", "STO021101", "客诉工单" if n % 2 else "问题件", "破损", "2025-11-03 09:00"])
    job = job_from(upload(client, sto_world["brand"], _xlsx({"Sheet1": rows})))
    assert job.mapping["columns"]["category"] == "业务类别"
    client.post(f"/tickets/import/{job.id}/map", data=map_form(job))
    db.session.refresh(job)
    assert (job.valid_rows, job.error_rows) == (3, 3)
    assert job.error_groups["category_unknown"]["n"] == 3
    page = client.get(f"/tickets/import/{job.id}").get_data(as_text=True)
    form = value_form(page)
    assert form[f"v|category||{values.key('客诉工单')}"] == "work_order"  # contains 工单
    client.post(f"/tickets/import/{job.id}/values", data=form)
    db.session.refresh(job)
    # Now the 工单 rows' 破损 shows up as a reason value of 工单 (not a 工单 reason: suggested elsewhere).
    table = importing.value_table(job)
    contexts = {(r.context, r.text) for r in table if r.field == "reason"}
    assert ("work_order", "破损") in contexts and ("problem", "破损") in contexts
    form = value_form(client.get(f"/tickets/import/{job.id}").get_data(as_text=True))
    form[f"v|reason|work_order|{values.key('破损')}"] = f"reason:{reason('arbitration', '破损').id}"
    client.post(f"/tickets/import/{job.id}/values", data=form)
    db.session.refresh(job)
    assert (job.valid_rows, job.error_rows) == (6, 0)
    client.post(f"/tickets/import/{job.id}/commit")
    assert count(Ticket, Ticket.category == "arbitration") == 3 and count(Ticket, Ticket.category == "problem") == 3


@pytest.mark.parametrize("text,expected", [
    ("破损", ("problem", "other_category")), ("服务态度差", ("work_order", "alias")), ("催件", ("work_order", "exact")),
    ("催件了", ("work_order", "closest")), ("完全无关的说法ABC", None),
])
def test_reason_suggestions(sto_world, text, expected):
    reasons = list(db.session.scalars(select(TicketReason)))
    target, source = values.suggest_reason("work_order", text, reasons)
    if expected is None:
        assert (target, source) == ("", "")
    else:
        chosen = db.session.get(TicketReason, int(target.split(":")[1]))
        assert (chosen.category, source) == expected


def test_staged_error_rows_keep_their_cells(client, auth, sto_world):
    auth.login(sto_world["admin"])
    job = job_from(upload(client, sto_world["brand"], sto_complaints(sto_world["outlets"])))
    client.post(f"/tickets/import/{job.id}/map", data=map_form(job, default_category="work_order"))
    row = db.session.scalar(select(ImportJobRow).where(ImportJobRow.job_id == job.id,
                                                       ImportJobRow.state == RowState.ERROR).limit(1))
    assert len(row.raw) == 29 and row.raw[2] in ("破损", "服务态度差")
    assert row.errors[0][2] == "reason_unknown"
    assert db.session.get(ImportJob, job.id).header_names == STO_HEADER
