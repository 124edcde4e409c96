"""Ticket settings pages through the client: full pages and htmx
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


def toasts(response) -> str:
    """The toast messages an htmx response carries in HX-Trigger, joined."""
    events = json.loads(response.headers.get("HX-Trigger", "{}"))
    return " ".join(t["message"] for t in events.get("toast", []))


def stored_box(html: str) -> dict[str, str]:
    """{label: value} of the conflict box's "stored now" list (what the 409 says is saved now)."""
    box = re.search(r'<dl class="stored">(.*?)</dl>', html, re.S)
    assert box, "no conflict box"
    return dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", box.group(1), re.S))


def posted_version(html: str) -> str:
    """The version the (edit or conflict) form will post."""
    return re.search(r'<input type="hidden" name="version" value="(\d*)">', html).group(1)


@pytest.fixture
def world(settings_world):
    """The settings records by id, for URL templates; ``reason`` is 投诉 (work order)."""
    world = settings_world.with_ids("brand", "complaint", "chase", "damaged", "rule", "reply")
    world["reason"] = world["complaint"]
    return world


# Who may open which settings page, anonymous redirects, 403s and 404s: rows of the route
# matrix in tests/test_route_permissions.py.


def test_tabs_admin_sees_all_trainer_only_canned(client, auth, world):
    auth.login(world["admin"])
    html = client.get("/tickets/rules").get_data(as_text=True)
    for href, text in [("/tickets/rules", "时效规则"), ("/tickets/calendar", "工作日历"),
                       ("/tickets/reason-lists", "工单原因"), ("/tickets/canned-replies", "常用回复")]:
        assert f'href="{href}"' in html and text in html
    auth.logout()
    auth.login(world["trainer"])
    html = client.get("/tickets/canned-replies").get_data(as_text=True)
    assert 'href="/tickets/canned-replies"' in html
    assert 'href="/tickets/rules"' not in html and 'href="/tickets/calendar"' not in html


# --------------------------------------------------------------------------- rules


def test_rules_page_shows_rules_in_human_units_and_the_note(client, auth, world):
    admin = world["admin"]
    svc.create_rule(admin, brand_id=world["brand"], category="work_order", reason_id=world["reason"],
                    reply_minutes=24 * 60, resolve_minutes=3 * 24 * 60, mode="clock", note="投诉规则")
    svc.create_rule(admin, brand_id=None, category="message", reason_id=None, reply_minutes=90,
                    resolve_minutes=120, mode="service_hours")
    auth.login(admin)
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


def test_create_rule_with_hours_and_minutes(client, auth, world):
    auth.login(world["admin"])
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


def test_create_rule_htmx_success_triggers_refresh_and_toast(client, auth, world):
    auth.login(world["admin"])
    response = client.htmx("post", "/tickets/rules/new", data={
        "brand_id": "0", "category": "problem", "reason_id": "0", "reply_hours": "24", "reply_mins": "0",
        "resolve_hours": "72", "resolve_mins": "0", "mode": "clock"})
    assert response.status_code == 200
    assert "rules-changed" in json.loads(response.headers["HX-Trigger"])
    assert "规则“任意品牌 · 问题件 · 任意原因” 已创建" in toasts(response)


def test_create_rule_validation_messages(client, auth, world):
    auth.login(world["admin"])
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


def test_inline_edit_rule_row_and_conflict(client, auth, world):
    auth.login(world["admin"])
    url = "/tickets/rules/{rule}/edit".format(**world)
    form = client.htmx("get", url).get_data(as_text=True)
    assert form.strip().startswith('<tr id="rule-{rule}" class="editing">'.format(**world)) and posted_version(form) == "1"
    assert 'name="reply_hours"' in form and 'value="2"' in form  # 120 minutes shown as 2 h 0 min
    assert "已有工单的时限保持不变" in form
    data = {"brand_id": "0", "category": "work_order", "reason_id": "0", "reply_hours": "4", "reply_mins": "0",
            "resolve_hours": "48", "resolve_mins": "0", "mode": "clock", "version": "1"}
    response = client.htmx("post", url, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.strip().startswith("<tr") and "4 小时" in html and "2 天" in html
    assert "规则“任意品牌 · 工单 · 任意原因” 已保存" in toasts(response)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "deadline_rule.update"))
    assert entry.before == {"reply_minutes": 120, "resolve_minutes": 1440}
    assert entry.after == {"reply_minutes": 240, "resolve_minutes": 2880}
    # the same form again, with the old version: 409 conflict form in Chinese, nothing overwritten;
    # it shows what is stored now, keeps what was typed and carries the current version
    response = client.htmx("post", url, data=data | {"reply_hours": "9", "note": "我的备注"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and 'class="editing conflict"' in html
    assert "其他人保存了规则“任意品牌 · 工单 · 任意原因”" in html
    stored = stored_box(html)
    assert stored["回复时限"] == "4 小时" and stored["办结时限"] == "2 天" and stored["备注"] == "—"
    assert 'name="reply_hours" type="number" value="9"' in html and 'value="我的备注"' in html
    assert posted_version(html) == "2"
    assert db.session.get(DeadlineRule, world["rule"]).reply_minutes == 240
    # a missing or malformed version is as stale as an old one
    for version in (None, "", "x1", "-1", "1" * 12):
        posted = {k: v for k, v in data.items() if k != "version"} | ({} if version is None else {"version": version})
        assert client.htmx("post", url, data=posted).status_code == 409, version
    # without htmx a stale edit is the 409 page with the same form
    response = client.post(url, data=data)
    assert response.status_code == 409 and "<html" in response.get_data(as_text=True)
    assert stored_box(response.get_data(as_text=True))["回复时限"] == "4 小时"
    # resubmitting the conflict form (current version) saves what was typed
    response = client.htmx("post", url, data=data | {"reply_hours": "9", "version": "2"})
    assert response.status_code == 200 and "9 小时" in response.get_data(as_text=True)
    assert db.session.get(DeadlineRule, world["rule"]).reply_minutes == 540
    # Cancel: the plain row
    assert 'id="rule-{rule}"'.format(**world) in client.htmx("get", "/tickets/rules/{rule}/row".format(**world)).get_data(as_text=True)


def test_rule_edit_errors_stay_beside_the_fields(client, auth, world):
    admin = world["admin"]
    svc.create_rule(admin, brand_id=None, category="work_order", reason_id=world["reason"], reply_minutes=60,
                    resolve_minutes=60, mode="clock")
    auth.login(admin)
    url = "/tickets/rules/{rule}/edit".format(**world)
    data = {"brand_id": "0", "category": "work_order", "reason_id": str(world["reason"]), "reply_hours": "0",
            "reply_mins": "0", "resolve_hours": "1", "resolve_mins": "0", "mode": "clock", "version": "1"}
    response = client.htmx("post", url, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="editing"' in html
    assert "至少 1 分钟" in html  # the service's reply_minutes error sits under the hours input
    data["reply_hours"] = "1"
    html = client.htmx("post", url, data=data).get_data(as_text=True)
    assert "“任意品牌 · 工单 · 投诉”的规则已存在" in html
    rule = db.session.get(DeadlineRule, world["rule"])
    assert (rule.reason_id, rule.reply_minutes, rule.version) == (None, 120, 1)


def test_rules_search(client, auth, world):
    admin = world["admin"]
    svc.create_rule(admin, brand_id=world["brand"], category="problem", reason_id=None, reply_minutes=60,
                    resolve_minutes=60, mode="clock", note="50%折扣_规则")
    auth.login(admin)
    html = client.htmx("get", "/tickets/rules?q=中通").get_data(as_text=True)
    assert "50%折扣_规则" in html and "1 条规则" in html
    html = client.htmx("get", "/tickets/rules?q=%25折扣_").get_data(as_text=True)  # LIKE wildcards are literal
    assert "50%折扣_规则" in html
    assert "没有符合条件的规则" in client.htmx("get", "/tickets/rules?q=折__规").get_data(as_text=True)  # not "any two"


def test_edit_rule_without_javascript(client, auth, world):
    auth.login(world["admin"])
    url = "/tickets/rules/{rule}/edit".format(**world)
    page = client.get(url).get_data(as_text=True)
    assert "<html" in page and "编辑 · 规则“任意品牌 · 工单 · 任意原因”" in page and 'name="reply_hours"' in page
    response = client.post(url, data={"brand_id": "0", "category": "work_order", "reason_id": "0", "reply_hours": "3",
                                      "reply_mins": "0", "resolve_hours": "30", "resolve_mins": "0", "mode": "clock",
                                      "version": "1"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/tickets/rules")
    assert db.session.get(DeadlineRule, world["rule"]).reply_minutes == 180


def test_deactivate_rule_htmx_row(client, auth, world):
    auth.login(world["admin"])
    response = client.htmx("post", "/tickets/rules/{rule}/active".format(**world), data={"active": "0"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="inactive"' in html and "启用" in html
    assert not db.session.get(DeadlineRule, world["rule"]).is_active
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.entity_id == world["rule"])) == "deadline_rule.deactivate"


def test_preview_shows_due_times_with_holidays(client, auth, world):
    admin = world["admin"]
    auth.login(admin)
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


def test_calendar_month_grid_and_day_edit(client, auth, world):
    admin = world["admin"]
    svc.load_year(admin, 2026)
    auth.login(admin)
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
    assert posted_version(fragment) == "0"  # the day has no row yet
    response = client.htmx("post", "/tickets/calendar/2026-12-24", data={"is_workday": "0", "name": "公司年会", "version": "0"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and re.search(r'id="day-2026-12-24" data-workday="0"\s+class="cal-day holiday', html)
    assert "公司年会" in html and "手工修改" in html and "休息日" in toasts(response)
    day = db.session.scalar(select(WorkCalendarDay).where(WorkCalendarDay.day == date(2026, 12, 24)))
    assert (day.is_workday, day.name, day.source) == (False, "公司年会", "admin")
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "calendar_day.update")).entity_id == day.id
    # stale version (the form still thought the day had no row): 409, the stored state beside what was typed
    response = client.htmx("post", "/tickets/calendar/2026-12-24", data={"is_workday": "1", "name": "圣诞", "version": "0"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "其他人保存了12月24日（周四）" in html
    assert stored_box(html) == {"这一天": "休息日", "名称": "公司年会"}
    assert 'value="圣诞"' in html and re.search(r'<input checked id="is_workday-0" name="is_workday" required type="radio" value="1">', html)
    assert posted_version(html) == str(day.version)
    assert not db.session.get(WorkCalendarDay, day.id).is_workday
    # a missing or malformed version is stale too
    for data in ({"is_workday": "1"}, {"is_workday": "1", "version": ""}, {"is_workday": "1", "version": "v"}):
        assert client.htmx("post", "/tickets/calendar/2026-12-24", data=data).status_code == 409
    # saving the conflict form again (current version) replaces the stored day
    response = client.htmx("post", "/tickets/calendar/2026-12-24",
                           data={"is_workday": "1", "name": "圣诞", "version": posted_version(html)})
    assert response.status_code == 200
    assert (db.session.get(WorkCalendarDay, day.id).is_workday, db.session.get(WorkCalendarDay, day.id).name) == (True, "圣诞")
    # no choice: a Chinese message
    response = client.htmx("post", "/tickets/calendar/2026-12-25", data={"name": "x", "version": "0"})
    assert response.status_code == 200 and "请选择上班或休息" in response.get_data(as_text=True)


def test_calendar_day_without_javascript_redirects_back(client, auth, world):
    auth.login(world["admin"])
    response = client.post("/tickets/calendar/2026-11-28", data={"is_workday": "1", "name": "调休上班", "version": "0"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/tickets/calendar?year=2026&month=11&day=2026-11-28")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'id="day-2026-11-28" data-workday="1"\s+class="cal-day makeup', page)
    # the same form again (it still says the day had no row): the 409 page with the stored day
    response = client.post("/tickets/calendar/2026-11-28", data={"is_workday": "0", "name": "", "version": "0"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "<html" in html
    assert stored_box(html) == {"这一天": "工作日", "名称": "调休上班"}


def test_calendar_load_keeps_hand_edits(client, auth, world):
    admin = world["admin"]
    auth.login(admin)
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


def test_reasons_page_add_rename_move_deactivate_delete(client, auth, world):
    auth.login(world["admin"])
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
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "其他人保存了原因“投诉（升级）”" in html
    assert stored_box(html) == {"原因": "投诉（升级）"} and 'value="再改"' in html and posted_version(html) == "2"
    assert db.session.get(TicketReason, world["reason"]).name == "投诉（升级）"
    # move 催件 up: now first
    html = client.htmx("post", "/tickets/reason-lists/{chase}/move".format(**world), data={"direction": "up"}).get_data(as_text=True)
    assert html.index("催件") < html.index("投诉（升级）")
    # a tampered direction is a 400 (the buttons only send up or down), nothing moves
    for direction in ("", "sideways", None):
        data = {} if direction is None else {"direction": direction}
        assert client.htmx("post", "/tickets/reason-lists/{chase}/move".format(**world), data=data).status_code == 400
    assert [r.name for r in svc.reasons_by_category()["work_order"]][:2] == ["催件", "投诉（升级）"]
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


def test_trainer_manages_canned_replies(client, auth, world):
    auth.login(world["trainer"])
    response = client.htmx("post", "/tickets/canned-replies/new",
                           data={"category": "", "title": "结束语", "body": "感谢您的耐心等待！"})
    assert response.status_code == 200 and "canneds-changed" in json.loads(response.headers["HX-Trigger"])
    assert "常用回复“结束语” 已创建" in toasts(response)
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
    assert "canneds-changed" not in response.headers.get("HX-Trigger", "")  # same group: the row alone
    response = client.htmx("post", url, data={"category": "work_order", "title": "x", "body": "y", "version": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "其他人保存了常用回复“催件回复（新）”" in html
    assert stored_box(html) == {"类别": "工单", "原因": "—", "标题": "催件回复（新）", "内容": "新内容"}
    assert 'value="x"' in html and re.search(r">\s*y</textarea>", html) and posted_version(html) == "2"
    # another category: the reply joins that group, so the table reloads (HX-Trigger)
    response = client.htmx("post", url, data={"category": "", "title": "催件回复（新）", "body": "新内容", "version": "2"})
    assert response.status_code == 200 and "canneds-changed" in json.loads(response.headers["HX-Trigger"])
    # validation
    html = client.htmx("post", "/tickets/canned-replies/new", data={"category": "", "title": "", "body": ""}).get_data(as_text=True)
    assert "请输入标题" in html and "请输入回复内容" in html
    # deactivate
    html = client.htmx("post", "/tickets/canned-replies/{reply}/active".format(**world), data={"active": "0"}).get_data(as_text=True)
    assert 'class="inactive"' in html
    actions = set(db.session.scalars(select(AuditLog.action).where(AuditLog.actor_id == world["trainer"].id)))
    assert actions == {"canned_reply.create", "canned_reply.update", "canned_reply.deactivate"}
    assert db.session.get(CannedReply, world["reply"]).category is None


def test_canned_move_keeps_filters(client, auth, world):
    admin = world["admin"]
    svc.create_canned(admin, category="work_order", title="查件回复", body="已查询")
    auth.login(admin)
    html = client.htmx("post", "/tickets/canned-replies/{reply}/move".format(**world),
                       data={"direction": "down", "category": "work_order"}).get_data(as_text=True)
    assert html.index("查件回复") < html.index("催件回复")
    assert client.htmx("post", "/tickets/canned-replies/{reply}/move".format(**world), data={"direction": "x"}).status_code == 400


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
