"""Ticket import through the client: upload → mapping → preview → commit (Huey in immediate mode)."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import event, func, select

from kdcs.extensions import db
from kdcs.models import (
    AuditLog,
    ImportJob,
    ImportJobRow,
    ImportMapping,
    ImportStatus,
    Priority,
    Ticket,
    TicketEvent,
    TicketSource,
)
from kdcs.tickets.imports import service as importing
from tests import factories
from tests.worlds import STO_SAMPLE_OUTLETS

DATA = Path(__file__).parent / "data"
SAMPLE_XLS = DATA / "sto_inbound_complaints.xls"
SAMPLE_CODES = [code for code, _name in STO_SAMPLE_OUTLETS]


@pytest.fixture(autouse=True)
def clean_uploads(app):
    """Each test starts with an empty upload folder (jobs left open by other tests keep files)."""
    folder = app.config["KDCS_UPLOAD_DIR"]
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            if name.startswith(importing.UPLOAD_PREFIX):
                os.unlink(os.path.join(folder, name))


def upload(client, brand, data: bytes | Path, filename: str = "export.xlsx", htmx: bool = False):
    if isinstance(data, Path):
        data = data.read_bytes()
    payload = {"brand_id": str(brand.id), "file": (io.BytesIO(data), filename)}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/tickets/import", data=payload, content_type="multipart/form-data", headers=headers)


def job_from(response) -> ImportJob:
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    job_id = int(re.search(r"/tickets/import/(\d+)$", response.headers["Location"]).group(1))
    return db.session.get(ImportJob, job_id)


def map_form(job: ImportJob, **overrides) -> dict:
    """The mapping form as the page pre-fills it (plus overrides)."""
    form = {f"col_{key}": header for key, header in job.mapping["columns"].items()}
    form.update({f"default_{key}": str(value) for key, value in job.mapping["defaults"].items()})
    form.update(overrides)
    return form


def uploads_left(app) -> list[str]:
    folder = app.config["KDCS_UPLOAD_DIR"]
    return [n for n in os.listdir(folder) if n.startswith(importing.UPLOAD_PREFIX)] if os.path.isdir(folder) else []


def xlsx(rows: list[list], title: str = "Sheet1") -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- the whole flow


def test_sample_file_upload_preview_commit(app, client, auth, sto_world):
    auth.login(sto_world["lead"])
    job = job_from(upload(client, sto_world["brand"], SAMPLE_XLS, "进港投诉明细.xls"))
    assert job.file_kind == "xlsx" and job.sheet_name == "进港投诉明细"
    assert (job.header_row, job.header_depth) == (2, 2)

    page = client.get(f"/tickets/import/{job.id}").get_data(as_text=True)
    assert "对应列" in page and "运单编号" in page and "工单信息-时间" in page
    assert 'name="col_waybill_no"' in page

    response = client.post(f"/tickets/import/{job.id}/map", data=map_form(job))
    assert response.status_code == 303
    db.session.refresh(job)
    assert job.status == ImportStatus.VALIDATED
    assert (job.processed_rows, job.valid_rows, job.duplicate_rows, job.error_rows) == (60, 53, 1, 6)
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0  # a preview writes no ticket

    page = client.get(f"/tickets/import/{job.id}").get_data(as_text=True)
    for message in ("未知网点“STO999999”", "该类别下没有原因“咨询”", "“2025-13-45 25:00”不是有效的日期时间",
                    "缺少运单号", "“可能”不是“是”或“否”", "运单号"):
        assert message in page, message
    assert "导入 53 条工单" in page

    response = client.post(f"/tickets/import/{job.id}/commit")
    assert response.status_code == 303
    db.session.refresh(job)
    assert job.status == ImportStatus.DONE and job.inserted_rows == 53 and job.duplicate_rows == 1
    tickets = db.session.scalars(select(Ticket)).all()
    assert len(tickets) == 53
    assert {t.source for t in tickets} == {TicketSource.IMPORT}
    assert all(t.assignee_id == sto_world["agent"].id for t in tickets)  # the outlet's primary agent
    assert all(t.reply_due_at and t.resolve_due_at and t.due_at and t.deadline_rule_id for t in tickets)
    assert sum(1 for t in tickets if t.priority == Priority.URGENT) >= 1  # 是否加急 = 是
    assert db.session.scalar(select(func.count()).select_from(TicketEvent)) == 53
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "ticket.import")) == 1
    assert uploads_left(app) == []  # the upload is deleted after the job
    assert db.session.scalar(select(func.count()).select_from(ImportJobRow).where(
        ImportJobRow.job_id == job.id)) == 6  # only the error rows stay, for the result page
    page = client.get(f"/tickets/import/{job.id}").get_data(as_text=True)
    assert "导入完成：已导入 53 条工单，跳过重复 1 条，6 行有错误未导入" in page


def test_reimport_skips_every_existing_ticket(client, auth, sto_world):
    auth.login(sto_world["admin"])
    first = job_from(upload(client, sto_world["brand"], SAMPLE_XLS))
    client.post(f"/tickets/import/{first.id}/map", data=map_form(first))
    client.post(f"/tickets/import/{first.id}/commit")
    second = job_from(upload(client, sto_world["brand"], DATA / "sto_inbound_complaints_gb18030.csv", "明细.csv"))
    assert second.file_kind == "csv" and second.encoding == "gb18030"
    client.post(f"/tickets/import/{second.id}/map", data=map_form(second))
    db.session.refresh(second)
    assert (second.valid_rows, second.duplicate_rows, second.error_rows) == (0, 54, 6)
    page = client.get(f"/tickets/import/{second.id}").get_data(as_text=True)
    assert "没有可导入的数据" in page
    response = client.post(f"/tickets/import/{second.id}/commit")
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 53


def test_duplicates_that_appear_after_the_preview_are_skipped_at_commit(client, auth, sto_world):
    auth.login(sto_world["admin"])
    a = job_from(upload(client, sto_world["brand"], SAMPLE_XLS))
    b = job_from(upload(client, sto_world["brand"], DATA / "sto_inbound_complaints_utf8bom.csv", "b.csv"))
    for job in (a, b):
        client.post(f"/tickets/import/{job.id}/map", data=map_form(job))
    client.post(f"/tickets/import/{a.id}/commit")
    client.post(f"/tickets/import/{b.id}/commit")
    db.session.refresh(b)
    assert b.status == ImportStatus.DONE and b.inserted_rows == 0 and b.duplicate_rows == 54
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 53


# --------------------------------------------------------------------------- mapping memory


def test_mapping_is_remembered_per_brand(client, auth, sto_world):
    other_brand = factories.make_brand("ZTO", "中通")
    auth.login(sto_world["admin"])
    rows = [["快件号", "网点编码", "工单类型", "工单创建时间"],
            ["77316523125896", "STO021101", "催件", "2025-11-03 09:00"]]
    job = job_from(upload(client, sto_world["brand"], xlsx(rows)))
    assert "waybill_no" not in job.mapping["columns"]  # 快件号 is no synonym
    response = client.post(f"/tickets/import/{job.id}/map", data=map_form(job))
    assert response.status_code == 200
    assert "请选择“运单号”所在的列" in response.get_data(as_text=True)
    client.post(f"/tickets/import/{job.id}/map", data=map_form(job, col_waybill_no="快件号", default_category="work_order"))
    client.post(f"/tickets/import/{job.id}/commit")
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1
    remembered = db.session.scalar(select(ImportMapping).where(ImportMapping.brand_id == sto_world["brand"].id))
    assert remembered.mapping["columns"]["waybill_no"] == "快件号"

    again = job_from(upload(client, sto_world["brand"], xlsx(rows)))
    assert again.mapping["columns"]["waybill_no"] == "快件号"
    page = client.get(f"/tickets/import/{again.id}").get_data(as_text=True)
    assert re.search(r'<option value="快件号" selected>', page)
    elsewhere = job_from(upload(client, other_brand, xlsx(rows)))
    assert "waybill_no" not in elsewhere.mapping["columns"]


def test_sheet_choice_and_header_row_override(client, auth, sto_world):
    auth.login(sto_world["admin"])
    data = xlsx([["说明"], ["随便写的"]], "说明")
    wb_rows = {"说明": [["说明文字", "更多"], ["a", "b"]],
               "明细": [["报表标题"], ["运单号", "网点编码", "工单类型", "工单创建时间"],
                        ["77316523125896", "STO021101", "催件", "2025-11-03 09:00"]]}
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in wb_rows.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    data = buffer.getvalue()
    job = job_from(upload(client, sto_world["brand"], data))
    assert job.sheets == ["说明", "明细"] and job.sheet_name == "明细" and job.header_row == 2

    # htmx: choosing another sheet swaps the mapping form only.
    response = client.htmx("post", f"/tickets/import/{job.id}/layout", data={"sheet": "说明"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="import-mapping"' in body
    assert "说明文字" in body
    db.session.refresh(job)
    assert job.sheet_name == "说明"
    # Without JavaScript: the same form posts and redirects.
    response = client.post(f"/tickets/import/{job.id}/layout", data={"sheet": "明细"})
    assert response.status_code == 303
    response = client.post(f"/tickets/import/{job.id}/layout", data={"sheet": "明细", "header_row": "1"})
    db.session.refresh(job)
    assert job.header_row == 1 and "waybill_no" not in job.mapping["columns"]
    client.post(f"/tickets/import/{job.id}/layout", data={"sheet": "明细", "header_row": "2"})
    db.session.refresh(job)
    assert job.mapping["columns"]["waybill_no"] == "运单号"


# --------------------------------------------------------------------------- rejections


@pytest.mark.parametrize("data,filename,message", [
    (b"", "empty.xlsx", "文件是空的"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "photo.xlsx", "这不是表格文件"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old.xls", "旧版 .xls"),
    ("<html><table><tr><td>运单号</td></tr></table></html>".encode(), "export.xls", "网页"),
    (None, "header-only.xlsx", "没有数据行"),
    ("运单号,网点编码,工单类型\n".encode("gb18030"), "header-only.csv", "没有数据行"),
])
def test_unusable_files_are_rejected_and_nothing_is_written(app, client, auth, sto_world, data, filename, message):
    if data is None:
        data = xlsx([["申通进港投诉明细"], ["运单号", "网点编码", "工单类型", "工单创建时间"]])
    auth.login(sto_world["lead"])
    response = upload(client, sto_world["brand"], data, filename)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0
    assert uploads_left(app) == []


def test_too_large_file_is_rejected(app, client, auth, sto_world):
    app.config["KDCS_IMPORT_MAX_MB"] = 0.05  # 51 KB
    try:
        auth.login(sto_world["lead"])
        big = ("运单号,网点编码\n" + "77316523125896,STO021101\n" * 4000).encode()
        response = upload(client, sto_world["brand"], big, "big.csv")
        assert response.status_code == 400  # over the import limit: the upload page says so
        assert "文件超过 0.05 MB" in response.get_data(as_text=True)
        assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0
        assert uploads_left(app) == []
        huge = b"x" * (2 * 1024 * 1024)  # over the request limit as well
        response = upload(client, sto_world["brand"], huge, "huge.csv")
        assert response.status_code == 413 and "文件超过" in response.get_data(as_text=True)
    finally:
        app.config.pop("KDCS_IMPORT_MAX_MB")


def test_missing_brand_or_file(client, auth, sto_world):
    auth.login(sto_world["lead"])
    response = client.post("/tickets/import", data={"brand_id": "", "file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "请选择导出该文件的品牌" in response.get_data(as_text=True)
    response = client.post("/tickets/import", data={"brand_id": str(sto_world["brand"].id)})
    assert response.status_code == 400 and "请选择要上传的文件" in response.get_data(as_text=True)


# --------------------------------------------------------------------------- one transaction, batches


def test_a_failure_mid_commit_writes_nothing(app, client, auth, sto_world, monkeypatch):
    auth.login(sto_world["admin"])
    job = job_from(upload(client, sto_world["brand"], SAMPLE_XLS))
    client.post(f"/tickets/import/{job.id}/map", data=map_form(job))
    real = importing.run_commit
    monkeypatch.setattr(importing, "run_commit", lambda job_id: real(job_id, _fail_after_tickets=True))
    client.post(f"/tickets/import/{job.id}/commit")
    db.session.refresh(job)
    assert job.status == ImportStatus.FAILED
    assert "没有导入任何数据" in job.message
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert db.session.scalar(select(func.count()).select_from(TicketEvent)) == 0
    assert db.session.scalar(select(ImportMapping.id)) is None
    assert uploads_left(app) == []
    page = client.get(f"/tickets/import/{job.id}").get_data(as_text=True)
    assert "没有导入任何数据" in page


def test_a_few_thousand_rows_are_checked_in_batches(client, auth, sto_world):
    """2,500 rows: three batches; duplicate checks are per batch, not per row."""
    auth.login(sto_world["admin"])
    lines = ["运单号,网点编码,工单类型,工单创建时间,是否加急"]
    for n in range(2500):
        lines.append(f"7731652{n:07d},{SAMPLE_CODES[n % 7]},{'催件' if n % 2 else '查件'},45964.{n % 10},{'是' if n % 50 == 0 else '否'}")
    lines.append("77316520000000,STO021101,查件,45964.1,否")  # the same case as row 2
    job = job_from(upload(client, sto_world["brand"], "\n".join(lines).encode("utf-8-sig"), "big.csv"))

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        client.post(f"/tickets/import/{job.id}/map", data=map_form(job))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    db.session.refresh(job)
    assert (job.processed_rows, job.valid_rows, job.duplicate_rows, job.error_rows) == (2501, 2500, 1, 0)
    ticket_lookups = [s for s in statements if "FROM tickets" in s]
    assert len(ticket_lookups) <= 6, len(ticket_lookups)  # 3 batches, not 2,501 rows
    staging_inserts = [s for s in statements if s.startswith("INSERT INTO import_job_rows")]
    assert 3 <= len(staging_inserts) <= 6
    client.post(f"/tickets/import/{job.id}/commit")
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 2500
    assert db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.priority == Priority.URGENT)) == 50


# --------------------------------------------------------------------------- roles, htmx, scope


@pytest.mark.parametrize("role,expected", [("agent", 403), ("trainer", 403), ("lead", 200), ("admin", 200)])
def test_import_page_by_role(client, auth, sto_world, role, expected):
    auth.login(sto_world[role])
    assert client.get("/tickets/import").status_code == expected
    assert client.htmx("get", "/tickets/import").status_code == expected
    response = upload(client, sto_world["brand"], SAMPLE_XLS)
    assert response.status_code == (303 if expected == 200 else 403)


def test_agent_and_trainer_cannot_touch_a_job(client, auth, sto_world):
    auth.login(sto_world["admin"])
    job = job_from(upload(client, sto_world["brand"], SAMPLE_XLS))
    auth.logout()
    for role in ("agent", "trainer"):
        auth.login(sto_world[role])
        for method, url in (("get", f"/tickets/import/{job.id}"), ("post", f"/tickets/import/{job.id}/map"),
                            ("get", f"/tickets/import/{job.id}/progress"), ("post", f"/tickets/import/{job.id}/commit"),
                            ("post", f"/tickets/import/{job.id}/cancel")):
            assert client.open(url, method=method.upper()).status_code == 403, (role, url)
        auth.logout()


def test_anonymous_goes_to_login(client, sto_world):
    response = client.get("/tickets/import")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    response = client.htmx("get", "/tickets/import")
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("/login")


def test_another_lead_gets_404_for_a_job(client, auth, sto_world):
    other_lead = factories.make_user("lead", username="lead_b", team=factories.make_team("二组"))
    auth.login(sto_world["lead"])
    job = job_from(upload(client, sto_world["brand"], SAMPLE_XLS))
    auth.logout()
    auth.login(other_lead)
    assert client.get(f"/tickets/import/{job.id}").status_code == 404
    assert client.post(f"/tickets/import/{job.id}/cancel").status_code == 404
    auth.logout()
    auth.login(sto_world["admin"])
    assert client.get(f"/tickets/import/{job.id}").status_code == 200


def test_lead_imports_only_outlets_in_their_scope(client, auth, sto_world):
    foreign = factories.make_outlet(brand=sto_world["brand"], agent=None, code="STO999001", name="申通外组网点")
    auth.login(sto_world["lead"])
    rows = [["运单号", "网点编码", "工单类型", "工单创建时间"],
            ["77316523125896", "STO021101", "催件", "2025-11-03 09:00"],
            ["77316523125897", foreign.code, "催件", "2025-11-03 09:00"]]
    job = job_from(upload(client, sto_world["brand"], xlsx(rows)))
    client.post(f"/tickets/import/{job.id}/map", data=map_form(job))
    db.session.refresh(job)
    assert (job.valid_rows, job.error_rows) == (1, 1)


def test_full_page_and_fragments(client, auth, sto_world):
    auth.login(sto_world["lead"])
    page = client.get("/tickets/import")
    assert page.headers.get("Vary") and "HX-Request" in page.headers["Vary"]
    assert "<html" in page.get_data(as_text=True)
    fragment = client.htmx("get", "/tickets/import").get_data(as_text=True)
    assert "<html" not in fragment and 'id="import-upload"' in fragment
    job = job_from(upload(client, sto_world["brand"], SAMPLE_XLS))
    fragment = client.htmx("get", f"/tickets/import/{job.id}").get_data(as_text=True)
    assert "<html" not in fragment and 'id="import-mapping"' in fragment
    # A mapping error answers the form fragment for htmx (200), with the message.
    response = client.htmx("post", f"/tickets/import/{job.id}/map", data=map_form(job, col_waybill_no=""))
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and "请选择“运单号”所在的列" in body


def test_progress_is_polled_while_running_and_redirects_when_done(client, auth, sto_world):
    auth.login(sto_world["lead"])
    job = job_from(upload(client, sto_world["brand"], SAMPLE_XLS))
    job.status, job.processed_rows, job.total_rows = ImportStatus.VALIDATING, 30, 60
    db.session.commit()
    fragment = client.htmx("get", f"/tickets/import/{job.id}/progress")
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and 'hx-trigger="every 1s"' in body and "已检查 30 行，共约 60 行（50%）" in body
    assert 'aria-valuenow="50"' in body
    full = client.get(f"/tickets/import/{job.id}").get_data(as_text=True)  # a reload shows the same bar
    assert "已检查 30 行" in full and "<html" in full
    job.status = ImportStatus.UPLOADED
    db.session.commit()
    response = client.htmx("get", f"/tickets/import/{job.id}/progress")
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/tickets/import/{job.id}"


def test_a_stalled_job_offers_to_start_again(client, auth, sto_world):
    from datetime import timedelta

    auth.login(sto_world["lead"])
    job = job_from(upload(client, sto_world["brand"], SAMPLE_XLS))
    job.status = ImportStatus.VALIDATING
    job.heartbeat_at = job.created_at - timedelta(minutes=10)
    db.session.commit()
    body = client.get(f"/tickets/import/{job.id}").get_data(as_text=True)
    assert "flask worker" in body and "重新开始" in body
    response = client.post(f"/tickets/import/{job.id}/retry")
    assert response.status_code == 303
    db.session.refresh(job)
    assert job.status == ImportStatus.VALIDATED  # immediate mode: checked again at once


def test_cancel_deletes_the_upload(app, client, auth, sto_world):
    auth.login(sto_world["lead"])
    job = job_from(upload(client, sto_world["brand"], SAMPLE_XLS))
    assert len(uploads_left(app)) == 1
    response = client.post(f"/tickets/import/{job.id}/cancel")
    assert response.status_code == 303
    db.session.refresh(job)
    assert job.status == ImportStatus.CANCELLED and uploads_left(app) == []
    assert client.post(f"/tickets/import/{job.id}/commit").status_code == 303  # moved on: back to the job


def test_uploaded_files_are_never_served(app, client, auth, sto_world):
    auth.login(sto_world["admin"])
    job = job_from(upload(client, sto_world["brand"], SAMPLE_XLS))
    assert job.stored_name.startswith(importing.UPLOAD_PREFIX) and job.stored_name.endswith(".upload")
    assert "进港" not in job.stored_name  # a random name, not the user's
    for url in (f"/static/../uploads/{job.stored_name}", f"/uploads/{job.stored_name}",
                f"/tickets/import/{job.stored_name}"):
        assert client.get(url).status_code == 404
