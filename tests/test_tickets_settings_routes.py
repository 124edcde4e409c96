"""Ticket settings pages through the client: access per role, full pages and htmx
fragments, validation, conflicts (409), CSRF, audit."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models import AuditLog
from kdcs.models.ticket import CannedReply, DeadlineRule, TicketReason, WorkCalendarDay
from kdcs.tickets.settings import service as svc
from tests import factories
from tests.conftest import login

ROLES = ("anon", "agent", "trainer", "lead", "admin")


def toasts(response) -> str:
    """The toast messages an htmx response carries in HX-Trigger, joined."""
    events = json.loads(response.headers.get("HX-Trigger", "{}"))
    return " ".join(t["message"] for t in events.get("toast", []))


def row(anon=302, agent=403, trainer=403, lead=403, admin=200):
    return {"anon": anon, "agent": agent, "trainer": trainer, "lead": lead, "admin": admin}


def canned(admin=200):
    return row(trainer=admin, admin=admin)


@pytest.fixture
def world(users):
    admin = users["admin"]
    brand = factories.make_brand("ZTO", "中通")
    complaint = svc.create_reason(admin, category="work_order", name="投诉")
    chase = svc.create_reason(admin, category="work_order", name="催件")
    damaged = svc.create_reason(admin, category="problem", name="破损")
    rule = svc.create_rule(admin, brand_id=None, category="work_order", reason_id=None, reply_minutes=120,
                           resolve_minutes=1440, mode="clock")
    reply = svc.create_canned(admin, category="work_order", title="催件回复", body="您好，已为您催促网点。")
    db.session.query(AuditLog).delete()
    db.session.commit()
    return {"brand": brand.id, "rule": rule.id, "reason": complaint.id, "chase": chase.id, "damaged": damaged.id,
            "reply": reply.id, **users}


# (endpoint, method, url, expected per role, form data)
ROUTES = [
    ("tickets.rules", "GET", "/tickets/rules", row(), None),
    ("tickets.rules", "GET", "/tickets/rules?category=work_order&brand=-1&active=1", row(), None),
    ("tickets.rule_create", "POST", "/tickets/rules/new", row(), {}),  # empty: re-rendered with errors
    ("tickets.rule_row", "GET", "/tickets/rules/{rule}/row", row(admin=303), None),
    ("tickets.rule_edit", "GET", "/tickets/rules/{rule}/edit", row(), None),
    ("tickets.rule_edit", "POST", "/tickets/rules/{rule}/edit", row(), {}),
    ("tickets.rule_edit", "GET", "/tickets/rules/999999/edit", row(admin=404), None),
    ("tickets.rule_set_active", "POST", "/tickets/rules/{rule}/active", row(admin=303), {"active": "1"}),
    ("tickets.rule_preview", "GET", "/tickets/rules/preview?rule_id={rule}&start=2026-10-01T09:30", row(), None),
    ("tickets.calendar", "GET", "/tickets/calendar", row(), None),
    ("tickets.calendar", "GET", "/tickets/calendar?year=2026&month=10&day=2026-10-01", row(), None),
    ("tickets.calendar_day", "GET", "/tickets/calendar/2026-10-01", row(admin=303), None),
    ("tickets.calendar_day", "POST", "/tickets/calendar/2026-12-24", row(admin=303), {"is_workday": "0", "name": "平安夜"}),
    ("tickets.calendar_day", "GET", "/tickets/calendar/not-a-day", row(admin=404), None),
    ("tickets.calendar_load", "POST", "/tickets/calendar/load", row(admin=303), {"year": "2026", "month": "10"}),
    ("tickets.reasons", "GET", "/tickets/reason-lists", row(), None),
    ("tickets.reasons", "GET", "/tickets/reason-lists?category=arbitration", row(), None),
    ("tickets.reason_create", "POST", "/tickets/reason-lists/new", row(admin=303), {"category": "arbitration", "name": "遗失"}),
    ("tickets.reason_row", "GET", "/tickets/reason-lists/{reason}/row", row(admin=303), None),
    ("tickets.reason_edit", "GET", "/tickets/reason-lists/{reason}/edit", row(), None),
    ("tickets.reason_edit", "POST", "/tickets/reason-lists/{reason}/edit", row(), {}),
    ("tickets.reason_move", "POST", "/tickets/reason-lists/{chase}/move", row(admin=303), {"direction": "up"}),
    ("tickets.reason_set_active", "POST", "/tickets/reason-lists/{reason}/active", row(admin=303), {"active": "1"}),
    ("tickets.reason_delete", "POST", "/tickets/reason-lists/{damaged}/delete", row(admin=303), {}),
    ("tickets.reason_delete", "POST", "/tickets/reason-lists/999999/delete", row(admin=404), {}),
    ("tickets.canned_replies", "GET", "/tickets/canned-replies", canned(), None),
    ("tickets.canned_replies", "GET", "/tickets/canned-replies?category=all&q=催&active=1", canned(), None),
    ("tickets.canned_create", "POST", "/tickets/canned-replies/new", canned(), {}),
    ("tickets.canned_row", "GET", "/tickets/canned-replies/{reply}/row", canned(303), None),
    ("tickets.canned_edit", "GET", "/tickets/canned-replies/{reply}/edit", canned(), None),
    ("tickets.canned_edit", "POST", "/tickets/canned-replies/{reply}/edit", canned(), {}),
    ("tickets.canned_move", "POST", "/tickets/canned-replies/{reply}/move", canned(303), {"direction": "down"}),
    ("tickets.canned_set_active", "POST", "/tickets/canned-replies/{reply}/active", canned(303), {"active": "1"}),
    ("tickets.canned_set_active", "POST", "/tickets/canned-replies/999999/active", canned(404), {"active": "1"}),
]

CASES = [
    pytest.param(method, url, expected, data, role, id=f"{method}-{url}-{role}")
    for _endpoint, method, url, expected, data in ROUTES
    for role in ROLES
]


@pytest.mark.parametrize("method,url,expected,data,role", CASES)
def test_route_outcome_per_role(client, world, method, url, expected, data, role):
    if role != "anon":
        login(client, world[role])
    response = client.open(url.format(**world), method=method, data=data or {})
    assert response.status_code == expected[role], f"{role} {method} {url}: {response.status_code}"
    if expected[role] == 302:
        assert response.headers["Location"].startswith("/login")
    if expected[role] == 403:
        assert "没有权限" in response.get_data(as_text=True)


@pytest.mark.parametrize("method,url", sorted({(m, u) for _e, m, u, _x, _d in ROUTES}))
def test_anonymous_htmx_gets_hx_redirect(client, world, method, url):
    response = client.htmx(method, url.format(**world), data={})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login")


def test_every_settings_route_is_walked(app):
    from kdcs.tickets.settings import routes as settings_routes

    walked = {(endpoint, method) for endpoint, method, *_ in ROUTES}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "__module__", "") != settings_routes.__name__:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (rule.endpoint, method) in walked, f"{method} {rule.rule} is not walked"


def test_forbidden_roles_change_nothing(client, world):
    for role in ("agent", "lead"):
        client.post("/logout")
        login(client, world[role])
        client.post("/tickets/rules/{rule}/active".format(**world), data={"active": "0"})
        client.post("/tickets/canned-replies/{reply}/active".format(**world), data={"active": "0"})
        client.post("/tickets/calendar/2026-12-24", data={"is_workday": "0"})
    assert db.session.get(DeadlineRule, world["rule"]).is_active
    assert db.session.get(CannedReply, world["reply"]).is_active
    assert db.session.scalar(select(WorkCalendarDay.id)) is None
    assert db.session.scalar(select(AuditLog.id).where(AuditLog.action != "user.login")) is None


# --------------------------------------------------------------------------- tabs and navigation


def test_tabs_admin_sees_all_trainer_only_canned(client, world):
    login(client, world["admin"])
    html = client.get("/tickets/rules").get_data(as_text=True)
    for href, text in [("/tickets/rules", "时效规则"), ("/tickets/calendar", "工作日历"),
                       ("/tickets/reason-lists", "工单原因"), ("/tickets/canned-replies", "常用回复")]:
        assert f'href="{href}"' in html and text in html
    client.post("/logout")
    login(client, world["trainer"])
    html = client.get("/tickets/canned-replies").get_data(as_text=True)
    assert 'href="/tickets/canned-replies"' in html
    assert 'href="/tickets/rules"' not in html and 'href="/tickets/calendar"' not in html


# --------------------------------------------------------------------------- rules


def test_rules_page_shows_rules_in_human_units_and_the_note(client, world):
    admin = world["admin"]
    svc.create_rule(admin, brand_id=world["brand"], category="work_order", reason_id=world["reason"],
                    reply_minutes=24 * 60, resolve_minutes=3 * 24 * 60, mode="clock", note="投诉规则")
    svc.create_rule(admin, brand_id=None, category="message", reason_id=None, reply_minutes=90,
                    resolve_minutes=120, mode="service_hours")
    login(client, admin)
    html = client.get("/tickets/rules").get_data(as_text=True)
    assert "修改规则不会改变已有工单的时限" in html
    assert "任意品牌" in html and "任意原因" in html and "中通" in html and "投诉规则" in html
    assert "2 小时" in html and "24 小时" in html and "3 天" in html and "1 小时 30 分钟" in html
    assert "服务时段 08:00–20:00（工作日）" in html and "自然时间" in html
    assert "<html" in html and 'id="rule-table"' in html
    # the htmx filter answers the table only
    fragment = client.htmx("get", "/tickets/rules?category=message").get_data(as_text=True)
    assert "<html" not in fragment and "<table" in fragment
    assert "1 小时 30 分钟" in fragment and "3 天" not in fragment


def test_create_rule_with_hours_and_minutes(client, world):
    login(client, world["admin"])
    data = {"brand_id": str(world["brand"]), "category": "work_order", "reason_id": str(world["reason"]),
            "reply_hours": "1", "reply_mins": "30", "resolve_hours": "72", "resolve_mins": "0",
            "mode": "service_hours", "service_start": "09:00", "service_end": "18:00", "note": "新规"}
    response = client.post("/tickets/rules/new", data=data)
    assert response.status_code == 303 and response.headers["Location"].endswith("/tickets/rules")
    rule = db.session.scalar(select(DeadlineRule).where(DeadlineRule.brand_id == world["brand"]))
    assert (rule.reply_minutes, rule.resolve_minutes, rule.mode) == (90, 72 * 60, "service_hours")
    assert rule.service_start.strftime("%H:%M") == "09:00" and rule.service_end.strftime("%H:%M") == "18:00"
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "deadline_rule.create")).entity_id == rule.id
    # the same again: refused in Chinese, via htmx the form comes back with the message
    response = client.htmx("post", "/tickets/rules/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "“中通 · 工单 · 投诉”的规则已存在" in html and "<html" not in html
    assert 'value="90"' not in html and 'name="reply_hours"' in html


def test_create_rule_htmx_success_triggers_refresh_and_toast(client, world):
    login(client, world["admin"])
    response = client.htmx("post", "/tickets/rules/new", data={
        "brand_id": "0", "category": "problem", "reason_id": "0", "reply_hours": "24", "reply_mins": "0",
        "resolve_hours": "72", "resolve_mins": "0", "mode": "clock"})
    assert response.status_code == 200
    assert "rules-changed" in json.loads(response.headers["HX-Trigger"])
    assert "规则已创建" in toasts(response)


def test_create_rule_validation_messages(client, world):
    login(client, world["admin"])
    html = client.post("/tickets/rules/new", data={
        "brand_id": "0", "category": "work_order", "reason_id": str(world["damaged"]), "reply_hours": "0",
        "reply_mins": "0", "resolve_hours": "1", "resolve_mins": "75", "mode": "service_hours",
        "service_start": "20:00", "service_end": "08:00"}).get_data(as_text=True)
    assert "0 到 59 分钟" in html
    html = client.post("/tickets/rules/new", data={
        "brand_id": "0", "category": "work_order", "reason_id": str(world["damaged"]), "reply_hours": "0",
        "reply_mins": "0", "resolve_hours": "1", "resolve_mins": "0", "mode": "service_hours",
        "service_start": "20:00", "service_end": "08:00"}).get_data(as_text=True)
    assert "至少 1 分钟" in html and "属于其他类别" in html and "结束时间必须晚于开始时间" in html
    assert db.session.scalar(select(db.func.count()).select_from(DeadlineRule)) == 1


def test_inline_edit_rule_row_and_conflict(client, world):
    login(client, world["admin"])
    url = "/tickets/rules/{rule}/edit".format(**world)
    form = client.htmx("get", url).get_data(as_text=True)
    assert form.strip().startswith("<tr") and 'class="editing"' in form and 'name="version" type="hidden" value="1"' in form
    assert 'name="reply_hours"' in form and 'value="2"' in form  # 120 minutes shown as 2 h 0 min
    data = {"brand_id": "0", "category": "work_order", "reason_id": "0", "reply_hours": "4", "reply_mins": "0",
            "resolve_hours": "48", "resolve_mins": "0", "mode": "clock", "version": "1"}
    response = client.htmx("post", url, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.strip().startswith("<tr") and "4 小时" in html and "2 天" in html
    assert "已有工单的时限不变" in toasts(response)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "deadline_rule.update"))
    assert entry.before == {"reply_minutes": 120, "resolve_minutes": 1440}
    assert entry.after == {"reply_minutes": 240, "resolve_minutes": 2880}
    # the same form again, with the old version: 409 row in Chinese, nothing overwritten
    response = client.htmx("post", url, data=data | {"reply_hours": "9"})
    assert response.status_code == 409
    assert "其他人刚刚修改了这条规则" in response.get_data(as_text=True)
    assert db.session.get(DeadlineRule, world["rule"]).reply_minutes == 240
    # without htmx a stale edit is the 409 page
    assert client.post(url, data=data).status_code == 409
    # Cancel: the plain row
    assert 'id="rule-{rule}"'.format(**world) in client.htmx("get", "/tickets/rules/{rule}/row".format(**world)).get_data(as_text=True)


def test_edit_rule_without_javascript(client, world):
    login(client, world["admin"])
    url = "/tickets/rules/{rule}/edit".format(**world)
    page = client.get(url).get_data(as_text=True)
    assert "<html" in page and "编辑时效规则" in page
    response = client.post(url, data={"brand_id": "0", "category": "work_order", "reason_id": "0", "reply_hours": "3",
                                      "reply_mins": "0", "resolve_hours": "30", "resolve_mins": "0", "mode": "clock",
                                      "version": "1"})
    assert response.status_code == 303
    assert db.session.get(DeadlineRule, world["rule"]).reply_minutes == 180


def test_deactivate_rule_htmx_row(client, world):
    login(client, world["admin"])
    response = client.htmx("post", "/tickets/rules/{rule}/active".format(**world), data={"active": "0"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="inactive"' in html and "启用" in html
    assert not db.session.get(DeadlineRule, world["rule"]).is_active
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.entity_id == world["rule"])) == "deadline_rule.deactivate"


def test_preview_shows_due_times_with_holidays(client, world):
    admin = world["admin"]
    login(client, admin)
    svc.load_year(admin, 2026)
    rule = svc.create_rule(admin, brand_id=None, category="message", reason_id=None, reply_minutes=120,
                           resolve_minutes=600, mode="service_hours")
    # 2026-09-30 19:00 (Wed): 1 h that evening, then National Day 10-01..10-07 off → 10-08 09:00
    response = client.htmx("get", f"/tickets/rules/preview?rule_id={rule.id}&start=2026-09-30T19:00")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert re.search(r'data-testid="reply-due">2026-10-08（周四）09:00<', html)
    assert re.search(r'data-testid="resolve-due">2026-10-08（周四）17:00<', html)
    # without JavaScript: the whole page with the result
    page = client.get(f"/tickets/rules/preview?rule_id={rule.id}&start=2026-09-30T19:00").get_data(as_text=True)
    assert "<html" in page and "2026-10-08（周四）09:00" in page
    # bad input: Chinese messages
    assert "请选择一条规则" in client.htmx("get", "/tickets/rules/preview?start=2026-09-30T19:00").get_data(as_text=True)
    assert "请输入开始时间" in client.htmx("get", f"/tickets/rules/preview?rule_id={rule.id}&start=soon").get_data(as_text=True)
    # a year the calendar does not know is flagged
    html = client.htmx("get", f"/tickets/rules/preview?rule_id={rule.id}&start=2031-01-02T10:00").get_data(as_text=True)
    assert "没有 2031 年的节假日" in html


# --------------------------------------------------------------------------- calendar


def test_calendar_month_grid_and_day_edit(client, world):
    admin = world["admin"]
    svc.load_year(admin, 2026)
    login(client, admin)
    html = client.get("/tickets/calendar?year=2026&month=10").get_data(as_text=True)
    assert "2026年10月" in html and "国庆节" in html
    assert re.search(r'id="day-2026-10-01" data-workday="0"\s+class="cal-day holiday', html)
    assert re.search(r'id="day-2026-10-10" data-workday="1"\s+class="cal-day makeup', html)
    assert "调休上班" in html
    # htmx month navigation answers the calendar body only
    fragment = client.htmx("get", "/tickets/calendar?year=2026&month=11").get_data(as_text=True)
    assert "<html" not in fragment and "2026年11月" in fragment
    # the day editor alone (htmx GET of the day URL)
    editor = client.htmx("get", "/tickets/calendar/2026-10-01")
    assert editor.status_code == 200 and "<html" not in editor.get_data(as_text=True)
    assert "2026-10-01（周四）" in editor.get_data(as_text=True) and "chinesecalendar" in editor.get_data(as_text=True)
    # select a day and save it as a company holiday
    fragment = client.htmx("get", "/tickets/calendar?year=2026&month=12&day=2026-12-24").get_data(as_text=True)
    assert "2026-12-24（周四）" in fragment and 'name="is_workday"' in fragment
    response = client.htmx("post", "/tickets/calendar/2026-12-24", data={"is_workday": "0", "name": "公司年会", "version": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and re.search(r'id="day-2026-12-24" data-workday="0"\s+class="cal-day holiday', html)
    assert "公司年会" in html and "手工修改" in html and "休息日" in toasts(response)
    day = db.session.scalar(select(WorkCalendarDay).where(WorkCalendarDay.day == date(2026, 12, 24)))
    assert (day.is_workday, day.name, day.source) == (False, "公司年会", "admin")
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "calendar_day.update")).entity_id == day.id
    # stale version: 409 with the current state
    response = client.htmx("post", "/tickets/calendar/2026-12-24", data={"is_workday": "1", "name": "", "version": "0"})
    assert response.status_code == 409 and "其他人刚刚修改了这一天" in response.get_data(as_text=True)
    assert not db.session.get(WorkCalendarDay, day.id).is_workday
    # no choice: a Chinese message
    response = client.htmx("post", "/tickets/calendar/2026-12-25", data={"name": "x"})
    assert response.status_code == 200 and "请选择上班或休息" in response.get_data(as_text=True)


def test_calendar_day_without_javascript_redirects_back(client, world):
    login(client, world["admin"])
    response = client.post("/tickets/calendar/2026-11-28", data={"is_workday": "1", "name": "调休上班"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/tickets/calendar?year=2026&month=11&day=2026-11-28")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'id="day-2026-11-28" data-workday="1"\s+class="cal-day makeup', page)


def test_calendar_load_keeps_hand_edits(client, world):
    admin = world["admin"]
    login(client, admin)
    svc.set_day(admin, date(2026, 10, 7), is_workday=True, name="公司安排上班")
    response = client.htmx("post", "/tickets/calendar/load", data={"year": "2026", "month": "10"})
    assert response.status_code == 200
    assert "保留手工修改的 1 天" in toasts(response)
    row = db.session.scalar(select(WorkCalendarDay).where(WorkCalendarDay.day == date(2026, 10, 7)))
    assert row.is_workday and row.source == "admin"
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "calendar.load")).after["calendar_year"] == 2026
    html = client.htmx("post", "/tickets/calendar/load", data={"year": "2099", "month": "1"}).get_data(as_text=True)
    assert "只包含" in html and "2099" in html


# --------------------------------------------------------------------------- reasons


def test_reasons_page_add_rename_move_deactivate_delete(client, world):
    login(client, world["admin"])
    html = client.get("/tickets/reason-lists?category=work_order").get_data(as_text=True)
    assert "<html" in html and "投诉" in html and "催件" in html and "1 条时效规则" not in html
    # add (htmx: the panel comes back with the new reason)
    response = client.htmx("post", "/tickets/reason-lists/new", data={"category": "work_order", "name": "拦截"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and "拦截" in html
    assert "已为“工单”添加原因“拦截”" in toasts(response)
    # duplicate: message in the form
    html = client.htmx("post", "/tickets/reason-lists/new", data={"category": "work_order", "name": "拦截"}).get_data(as_text=True)
    assert "该类别已有原因“拦截”" in html
    # rename inline
    url = "/tickets/reason-lists/{reason}/edit".format(**world)
    assert 'class="editing"' in client.htmx("get", url).get_data(as_text=True)
    html = client.htmx("post", url, data={"name": "投诉（升级）", "version": "1"}).get_data(as_text=True)
    assert html.strip().startswith("<tr") and "投诉（升级）" in html
    response = client.htmx("post", url, data={"name": "再改", "version": "1"})
    assert response.status_code == 409 and "其他人刚刚修改了这个原因" in response.get_data(as_text=True)
    # move 催件 up: now first
    html = client.htmx("post", "/tickets/reason-lists/{chase}/move".format(**world), data={"direction": "up"}).get_data(as_text=True)
    assert html.index("催件") < html.index("投诉（升级）")
    # deactivate: row shows 已停用
    html = client.htmx("post", "/tickets/reason-lists/{reason}/active".format(**world), data={"active": "0"}).get_data(as_text=True)
    assert 'class="inactive"' in html and "已停用" in html
    # delete an unused reason; a used one is refused
    response = client.htmx("post", "/tickets/reason-lists/{damaged}/delete".format(**world))
    assert response.status_code == 200 and db.session.get(TicketReason, world["damaged"]) is None
    svc.create_rule(world["admin"], brand_id=None, category="work_order", reason_id=world["chase"], reply_minutes=60,
                    resolve_minutes=60, mode="clock")
    response = client.htmx("post", "/tickets/reason-lists/{chase}/delete".format(**world))
    assert "时效规则引用" in toasts(response)
    assert db.session.get(TicketReason, world["chase"]) is not None
    html = client.get("/tickets/reason-lists?category=work_order").get_data(as_text=True)
    assert "1 条时效规则" in html


# --------------------------------------------------------------------------- canned replies


def test_trainer_manages_canned_replies(client, world):
    login(client, world["trainer"])
    response = client.htmx("post", "/tickets/canned-replies/new",
                           data={"category": "", "title": "结束语", "body": "感谢您的耐心等待！"})
    assert response.status_code == 200 and "canned-changed" in json.loads(response.headers["HX-Trigger"])
    shared = db.session.scalar(select(CannedReply).where(CannedReply.title == "结束语"))
    assert shared.category is None
    html = client.get("/tickets/canned-replies").get_data(as_text=True)
    assert "结束语" in html and "催件回复" in html and html.index("结束语") < html.index("催件回复")
    # search fragment
    fragment = client.htmx("get", "/tickets/canned-replies?q=耐心").get_data(as_text=True)
    assert "结束语" in fragment and "催件回复" not in fragment and "<html" not in fragment
    # inline edit and a stale second save
    url = "/tickets/canned-replies/{reply}/edit".format(**world)
    assert 'class="editing"' in client.htmx("get", url).get_data(as_text=True)
    response = client.htmx("post", url, data={"category": "work_order", "title": "催件回复（新）", "body": "新内容", "version": "1"})
    assert response.status_code == 200 and "催件回复（新）" in response.get_data(as_text=True)
    response = client.htmx("post", url, data={"category": "work_order", "title": "x", "body": "y", "version": "1"})
    assert response.status_code == 409 and "其他人刚刚修改了这条常用回复" in response.get_data(as_text=True)
    # validation
    html = client.htmx("post", "/tickets/canned-replies/new", data={"category": "", "title": "", "body": ""}).get_data(as_text=True)
    assert "请输入标题" in html and "请输入回复内容" in html
    # deactivate
    html = client.htmx("post", "/tickets/canned-replies/{reply}/active".format(**world), data={"active": "0"}).get_data(as_text=True)
    assert 'class="inactive"' in html
    actions = set(db.session.scalars(select(AuditLog.action).where(AuditLog.actor_id == world["trainer"].id)))
    assert actions == {"canned_reply.create", "canned_reply.update", "canned_reply.deactivate"}


def test_canned_move_keeps_filters(client, world):
    admin = world["admin"]
    svc.create_canned(admin, category="work_order", title="查件回复", body="已查询")
    login(client, admin)
    html = client.htmx("post", "/tickets/canned-replies/{reply}/move".format(**world),
                       data={"direction": "down", "category": "work_order"}).get_data(as_text=True)
    assert html.index("查件回复") < html.index("催件回复")


# --------------------------------------------------------------------------- CSRF


def test_settings_posts_need_a_csrf_token(client, world, csrf_on):
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    response = client.post("/login", data={"username": world["admin"].username, "password": factories.PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 303
    for url, data in [("/tickets/rules/{rule}/active", {"active": "0"}),
                      ("/tickets/calendar/2026-12-24", {"is_workday": "0"}),
                      ("/tickets/reason-lists/{damaged}/delete", {}),
                      ("/tickets/canned-replies/{reply}/active", {"active": "0"})]:
        response = client.post(url.format(**world), data=data)
        assert response.status_code == 400, url
        assert "表单已过期" in response.get_data(as_text=True)
    assert db.session.get(DeadlineRule, world["rule"]).is_active
    assert db.session.get(TicketReason, world["damaged"]) is not None
    # with the token from the page (the htmx header way) it works
    page = client.get("/tickets/rules").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    response = client.htmx("post", "/tickets/rules/{rule}/active".format(**world), data={"active": "0"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert not db.session.get(DeadlineRule, world["rule"]).is_active
