"""Exporting the filtered queue to .xlsx (/tickets/export.xlsx and export_tickets_xlsx)."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models import Category, Direction, TicketReason
from kdcs.tickets import exporting, service
from tests import factories


@pytest.fixture
def queue(users):
    from kdcs.tickets.reference import seed_reference_data

    seed_reference_data(calendar=False)
    brand = factories.make_brand("STO", "申通")
    mine = factories.make_outlet(brand=brand, agent=users["agent"], code="STO021101", name="申通上海嘉定瓶窑网点")
    other = factories.make_outlet(brand=brand, agent=None, code="STO020102", name="申通广州番禺城厢网点")
    reasons = {(r.category, r.name): r.id for r in db.session.scalars(select(TicketReason))}
    start = datetime.now(UTC) - timedelta(hours=3)
    made = []
    for n, (outlet, category, reason) in enumerate([
        (mine, Category.WORK_ORDER, "催件"), (mine, Category.WORK_ORDER, "查件"), (mine, Category.PROBLEM, "地址不详"),
        (other, Category.WORK_ORDER, "催件"), (other, Category.ARBITRATION, "遗失"),
    ]):
        made.append(service.create_ticket(
            users["admin"], outlet_id=outlet.id, direction=Direction.INBOUND, category=category,
            reason_id=reasons[(category, reason)], waybill_no=f"7731652312{n:04d}", registered_at=start,
            customer_name="王建华", customer_phone="13812345678", description="客户催派送"))
    return {"tickets": made, "mine": mine, "other": other, **users}


def read(response) -> list[list]:
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return [list(row) for row in wb["工单"].iter_rows(values_only=True)]


def test_admin_exports_everything_with_chinese_headers(client, auth, queue):
    auth.login(queue["admin"])
    rows = read(client.get("/tickets/export.xlsx?scope=all&status=all"))
    header = rows[0]
    assert header[:5] == ["工单编号", "运单号", "品牌", "网点编码", "网点名称"]
    assert len(rows) == 1 + 5
    by_waybill = {r[1]: dict(zip(header, r, strict=False)) for r in rows[1:]}
    first = by_waybill["77316523120000"]
    assert first["品牌"] == "申通" and first["类别"] == "工单" and first["原因"] == "催件"
    assert first["客户电话"] == "138****5678"  # masked, as in lists
    assert isinstance(first["回复时限"], datetime)


def test_export_follows_the_queue_filters(client, auth, queue):
    auth.login(queue["admin"])
    rows = read(client.get("/tickets/export.xlsx?scope=all&category=work_order"))
    assert len(rows) == 1 + 3 and {r[6] for r in rows[1:]} == {"工单"}
    rows = read(client.get(f"/tickets/export.xlsx?scope=all&outlet={queue['other'].id}"))
    assert {r[3] for r in rows[1:]} == {"STO020102"}


def test_agent_exports_only_their_scope(client, auth, queue):
    auth.login(queue["agent"])
    rows = read(client.get("/tickets/export.xlsx"))
    assert {r[3] for r in rows[1:]} == {"STO021101"} and len(rows) == 1 + 3


@pytest.mark.parametrize("role,expected", [("trainer", 403), ("lead", 200), ("admin", 200)])
def test_export_by_role(client, auth, queue, role, expected):
    auth.login(queue[role])
    assert client.get("/tickets/export.xlsx").status_code == expected


def test_anonymous_export_goes_to_login(client, queue):
    response = client.get("/tickets/export.xlsx")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_export_function_streams_to_a_file_and_cuts_at_the_limit(app, queue, tmp_path):
    query = service.order_by_deadline(service.visible_tickets_query(queue["admin"]))
    path = exporting.export_tickets_xlsx(query, max_rows=2, path=str(tmp_path / "x.xlsx"))
    wb = load_workbook(path, read_only=True)
    rows = list(wb["工单"].iter_rows(values_only=True))
    assert len(rows) == 1 + 2 + 1 and "仅导出前 2 条" in rows[-1][0]
    temp = exporting.export_tickets_xlsx(query)
    assert os.path.exists(temp)
    handle = exporting.open_and_unlink(temp)
    assert not os.path.exists(temp) and handle.read(2) == b"PK"
    handle.close()
