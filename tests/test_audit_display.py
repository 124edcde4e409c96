"""The audit log and the ticket timeline in people's words: labels, names and Beijing time,
never codes (``to_file``), ids (``outlet_id: 37``), ``True`` or a raw ``+00:00`` time."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from kdcs.auditing import describe_change, describe_entries, describe_event, record
from kdcs.extensions import db
from kdcs.models import AuditLog, TicketEvent
from kdcs.tickets import service as tickets
from kdcs.tickets.labels import label
from tests import factories
from tests.sql_statements import statements as count_statements


@pytest.fixture
def zh(app):
    with app.test_request_context("/"), force_locale("zh_CN"):
        yield


def _text(entity, field, old, new, **kwargs) -> str:
    return str(describe_change(entity, field, old, new, **kwargs))


# --------------------------------------------------------------------------- formatter


def test_codes_become_labels(zh):
    assert _text("ticket", "category", None, "problem", has_old=False) == "类别：问题件"
    assert _text("ticket", "status", "new", "to_file") == "状态：新建 → 待上报"
    assert _text("ticket", "priority", "normal", "urgent") == "优先级：普通 → 紧急"
    assert _text("ticket", "fine_bearer", None, "company") == "罚款承担方：— → 公司"
    assert _text("user", "role", "agent", "lead") == "角色：客服 → 组长"
    assert _text("deadline_rule", "mode", "clock", "service_hours").startswith("计时方式：")
    assert "service_hours" not in _text("deadline_rule", "mode", "clock", "service_hours")


def test_ids_become_names(zh, users):
    mate = factories.make_user("agent", username="agent_z", display_name="吴静", team=users["team"])
    first = factories.make_user("agent", username="agent_y", display_name="张敏", team=users["team"])
    outlet = factories.make_outlet(code="HZ001", name="良渚网点")
    assert _text("ticket", "assignee_id", first.id, mate.id) == "处理人：张敏 → 吴静"
    assert _text("ticket", "assignee_id", None, mate.id) == "处理人：— → 吴静"
    assert _text("ticket", "outlet_id", None, outlet.id, has_old=False) == "网点：HZ001 良渚网点"
    assert _text("outlet", "brand_id", None, outlet.brand_id, has_old=False) == f"品牌：{outlet.brand.name}"
    assert _text("user", "team_id", None, users["team"].id) == "团队：— → 一组"
    # a record that is gone: its number, not a crash
    assert _text("outlet", "primary_agent_id", 98765, None) == "主责客服：#98765 → —"


def test_flags_times_and_money(zh):
    assert _text("user", "is_active_account", True, False) == "账号：启用 → 停用"
    assert _text("team", "is_active", False, True) == "启用状态：停用 → 启用"
    assert _text("calendar_day", "is_workday", True, False) == "工作日：是 → 否"
    # UTC in the row, Beijing time on the page
    assert _text("ticket", "first_replied_at", None, "2026-03-02T01:05:00+00:00") == "首次回复：— → 2026-03-02 09:05"
    assert _text("ticket", "reply_due_at", "2026-03-01T16:30:00.123456+00:00", None) == "回复时限：2026-03-02 00:30 → —"
    assert _text("ticket", "fine_amount", None, "50.5") == "罚款金额：— → ¥50.50"
    assert _text("outlet", "rate_per_parcel", "0.0250", "0.03") == "单票费率：¥0.0250 → ¥0.0300"
    assert _text("deadline_rule", "reply_minutes", 120, 90) == "回复时限（分钟）：2 小时 → 1 小时 30 分钟"


def test_unknown_fields_and_odd_values_stay_readable(zh):
    assert _text("gadget", "colour_code", "a", "b") == "colour code：a → b"
    assert _text("gadget", "widget_id", 1, 2) == "widget：1 → 2"
    assert _text("gadget", "flag", None, True) == "flag：— → 是"
    assert _text("gadget", "when", None, "2026-01-01T00:00:00+00:00") == "when：— → 2026-01-01 08:00"
    assert _text("gadget", "data", None, {"a": "网点"}) == 'data：— → {"a": "网点"}'
    # values a field's formatter does not expect: shown as text, never an exception
    assert _text("ticket", "fine_amount", None, "abc") == "罚款金额：— → abc"
    assert _text("ticket", "first_replied_at", None, "yesterday") == "首次回复：— → yesterday"
    assert _text("ticket", "assignee_id", None, "someone") == "处理人：— → #someone"
    assert _text("ticket", "status", None, "no_such_status") == "状态：— → no_such_status"


def test_a_page_of_rows_loads_names_once_per_kind(zh, users):
    outlets = [factories.make_outlet(agent=users["agent"]) for _ in range(3)]
    agents = [factories.make_user("agent", team=users["team"]) for _ in range(6)]
    for i, agent in enumerate(agents):
        record(users["admin"], "outlet.assign", "outlet", outlets[i % 3].id,
               before={"primary_agent_id": agents[i - 1].id}, after={"primary_agent_id": agent.id})
        record(users["admin"], "user.update", "user", agent.id,
               before={"team_id": None}, after={"team_id": users["team"].id})
    db.session.commit()
    entries = db.session.scalars(select(AuditLog).options(joinedload(AuditLog.actor))).all()
    with count_statements() as statements:
        rows = describe_entries(entries)
    # users (names), users (records with 工号), outlets, teams: one query each, not one per row
    assert len(statements) <= 4, statements
    texts = [str(c) for row in rows for c in row.changes]
    assert f"主责客服：{agents[-1].display_name} → {agents[0].display_name}" in texts
    assert f"团队：— → {users['team'].name}" in texts
    assert {row.record for row in rows if row.entry.entity_type == "outlet"} == {f"{o.code} {o.name}" for o in outlets}


def test_ticket_events_in_words(zh):
    def ev(kind, old=None, new=None, body=""):
        return describe_event(TicketEvent(kind=kind, from_value=old, to_value=new, body=body))

    assert [str(c) for c in ev("status", "to_file", "filed").changes] == ["状态：待上报 → 已上报"]
    assert [str(c) for c in ev("created", None, "new").changes] == ["状态：新建"]
    assert [str(c) for c in ev("assign", "张敏", "吴静").changes] == ["处理人：张敏 → 吴静"]
    assert [str(c) for c in ev("assign", None, "吴静").changes] == ["处理人：未分配 → 吴静"]
    assert [str(c) for c in ev("first_reply", None, "2026-03-02T01:05+00:00").changes] == ["首次回复：2026-03-02 09:05"]
    fine = [str(c) for c in ev("fine", None, "50.00 company 10.00").changes]
    assert fine == ["罚款：¥50.00 · 公司 · 客服承担 ¥10.00"]
    edit = ev("edit", body="customer_name, priority")
    assert [str(c) for c in edit.changes] == ["修改：客户姓名、优先级"] and edit.body == ""
    assert ev("note", body="已联系网点").body == "已联系网点"


# --------------------------------------------------------------------------- pages


@pytest.fixture
def worked_ticket(users):
    """A ticket created, replied to, reassigned, filed and fined through the services."""
    from kdcs.models import Ticket

    brand = factories.make_brand("ZTO", "中通")
    users["agent"].display_name = "张敏"
    mate = factories.make_user("agent", username="agent_b", display_name="吴静", team=users["team"])
    outlet = factories.make_outlet(brand, users["agent"], code="HZ001", name="良渚网点")
    reason = factories.make_reason("arbitration", "虚假签收")
    factories.make_rule("arbitration")
    db.session.commit()
    ticket = tickets.create_ticket(
        users["lead"], outlet_id=outlet.id, direction="inbound", category="arbitration", reason_id=reason.id,
        waybill_no="75121488720001", registered_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    tickets.record_reply(users["lead"], ticket.id, version=ticket.version, channel="brand_system",
                         body="已联系网点核实", sent_at=datetime(2026, 3, 2, 1, 5, tzinfo=UTC))
    ticket = db.session.get(Ticket, ticket.id)
    tickets.assign(users["lead"], ticket.id, mate.id, version=ticket.version)
    tickets.record_fine(users["lead"], ticket.id, version=ticket.version, amount="50", bearer="company")
    return ticket


RAW = ["+00:00", "outlet_id", "assignee_id", "True", "False", "to_file", "arbitration", "company"]


def _visible(html: str) -> str:
    """The page without tags and attributes: what people read."""
    return re.sub(r"<[^>]+>", "", html.split("<main", 1)[-1])


def test_audit_page_shows_names_labels_and_beijing_time(client, auth, users, worked_ticket):
    auth.login(users["admin"])
    html = client.get("/admin/audit").get_data(as_text=True)
    text = _visible(html)
    assert "处理人：张敏 → 吴静" in text
    assert "类别：仲裁" in text
    assert "网点：HZ001 良渚网点" in text
    assert "首次回复：— → 2026-03-02 09:05" in text
    assert "时效规则：任意品牌 · 仲裁 · 任意原因" in text
    assert "75121488720001" in text
    for raw in RAW:
        assert raw not in text, raw


def test_user_detail_history_in_words(client, auth, users):
    from kdcs.admin import service as admin

    auth.login(users["admin"])
    agent = users["agent"]
    admin.set_user_active(users["admin"], agent, False)
    html = client.get(f"/admin/users/{agent.id}").get_data(as_text=True)
    assert "账号：启用 → 停用" in _visible(html)
    assert "True" not in _visible(html)


def test_ticket_timeline_shows_names_labels_and_beijing_time(client, auth, users, worked_ticket):
    auth.login(users["lead"])
    html = client.get(f"/tickets/{worked_ticket.id}").get_data(as_text=True)
    timeline = html[html.index('class="timeline"'):]
    timeline = timeline[:timeline.index("</ol>")]
    assert "处理人：张敏 → 吴静" in timeline
    assert "渠道：品牌系统" in timeline and "发送时间：2026-03-02 09:05" in timeline  # the first reply
    assert f"状态：{label('status', worked_ticket.events[0].to_value)}" in timeline
    assert "罚款：¥50.00 · 公司" in timeline
    for raw in RAW:
        assert raw not in _visible(timeline), raw
