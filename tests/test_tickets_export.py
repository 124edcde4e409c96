"""Exporting the filtered queue to .xlsx (/tickets/export.xlsx and export_tickets_xlsx)."""

from __future__ import annotations

import io
import os
from datetime import datetime

import pytest
from openpyxl import load_workbook

from kdcs.tickets import exporting, service


def read(response) -> list[list]:
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return [list(row) for row in wb["工单"].iter_rows(values_only=True)]


def test_admin_exports_everything_with_chinese_headers(client, auth, export_world):
    auth.login(export_world["admin"])
    rows = read(client.get("/tickets/export.xlsx?scope=all&status=all"))
    header = rows[0]
    assert header[:5] == ["工单编号", "运单号", "品牌", "网点编码", "网点名称"]
    assert len(rows) == 1 + 5
    by_waybill = {r[1]: dict(zip(header, r, strict=False)) for r in rows[1:]}
    first = by_waybill["77316523120000"]
    assert first["品牌"] == "申通" and first["类别"] == "工单" and first["原因"] == "催件"
    assert first["客户电话"] == "138****5678"  # masked, as in lists
    assert isinstance(first["回复时限"], datetime)


def test_export_follows_the_queue_filters(client, auth, export_world):
    auth.login(export_world["admin"])
    rows = read(client.get("/tickets/export.xlsx?scope=all&category=work_order"))
    assert len(rows) == 1 + 3 and {r[6] for r in rows[1:]} == {"工单"}
    rows = read(client.get(f"/tickets/export.xlsx?scope=all&outlet={export_world['other'].id}"))
    assert {r[3] for r in rows[1:]} == {"STO020102"}


def test_agent_exports_only_their_scope(client, auth, export_world):
    auth.login(export_world["agent"])
    rows = read(client.get("/tickets/export.xlsx"))
    assert {r[3] for r in rows[1:]} == {"STO021101"} and len(rows) == 1 + 3


@pytest.mark.parametrize("role,expected", [("trainer", 403), ("lead", 200), ("admin", 200)])
def test_export_by_role(client, auth, export_world, role, expected):
    auth.login(export_world[role])
    assert client.get("/tickets/export.xlsx").status_code == expected


def test_anonymous_export_goes_to_login(client, export_world):
    response = client.get("/tickets/export.xlsx")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_export_function_streams_to_a_file_and_cuts_at_the_limit(app, export_world, tmp_path):
    query = service.order_by_deadline(service.visible_tickets_query(export_world["admin"]))
    path = exporting.export_tickets_xlsx(query, max_rows=2, path=str(tmp_path / "x.xlsx"))
    wb = load_workbook(path, read_only=True)
    rows = list(wb["工单"].iter_rows(values_only=True))
    assert len(rows) == 1 + 2 + 1 and "仅导出前 2 条" in rows[-1][0]
    temp = exporting.export_tickets_xlsx(query)
    assert os.path.exists(temp)
    handle = exporting.open_and_unlink(temp)
    assert not os.path.exists(temp) and handle.read(2) == b"PK"
    handle.close()
