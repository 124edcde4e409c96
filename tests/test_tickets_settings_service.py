"""Ticket settings services (rules, calendar, reasons, canned replies), without HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models import AuditLog
from kdcs.models.ticket import CannedReply, DeadlineRule, Ticket, TicketReason, WorkCalendarDay
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import StaleEdit, ValidationError
from kdcs.tickets.settings import service as svc
from kdcs.workcalendar import SHANGHAI
from tests import factories


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def ref():
    brand = factories.make_brand("ZTO", "中通")
    reasons = {}
    for category, name in [("work_order", "投诉"), ("work_order", "催件"), ("problem", "破损"), ("message", "催派送")]:
        reason = TicketReason(category=category, name=name, sort_order=len(reasons) * 10 + 10)
        db.session.add(reason)
        reasons[name] = reason
    db.session.commit()
    return {"brand": brand, **reasons}


def audit(action: str) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def make_rule(admin, **kw):
    values = {"brand_id": None, "category": "work_order", "reason_id": None, "reply_minutes": 120,
              "resolve_minutes": 1440, "mode": "clock"} | kw
    return svc.create_rule(admin, **values)


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize("minutes, mode, text", [
    (30, "clock", "30 分钟"), (120, "clock", "2 小时"), (90, "clock", "1 小时 30 分钟"),
    (1440, "clock", "24 小时"), (4320, "clock", "3 天"), (2880, "service_hours", "48 小时"),
])
def test_format_minutes_in_human_units(app, minutes, mode, text):
    with app.test_request_context("/"):
        assert svc.format_minutes(minutes, mode) == text


# --------------------------------------------------------------------------- deadline rules


def test_create_rule_audits_and_stores_minutes(users, ref):
    admin = users["admin"]
    rule = make_rule(admin, brand_id=ref["brand"].id, reason_id=ref["投诉"].id, reply_minutes=24 * 60,
                     resolve_minutes=7 * 24 * 60, note="  投诉  7 天 ")
    assert (rule.reply_minutes, rule.resolve_minutes, rule.note, rule.is_active) == (1440, 10080, "投诉 7 天", True)
    assert rule.service_start is None  # clock mode keeps no window
    entry = audit("deadline_rule.create")[0]
    assert entry.actor_id == admin.id and entry.entity_id == rule.id
    assert entry.after["reply_minutes"] == 1440 and entry.after["brand_id"] == ref["brand"].id
    assert "中通" in entry.summary and "投诉" in entry.summary


def test_duplicate_rule_is_refused_in_chinese(users, ref):
    admin = users["admin"]
    first = make_rule(admin, reason_id=ref["投诉"].id)
    with pytest.raises(ValidationError) as exc:
        make_rule(admin, reason_id=ref["投诉"].id, reply_minutes=60)
    assert exc.value.errors["reason_id"] == "“任意品牌 · 工单 · 投诉”的规则已存在，请直接修改那条规则。"
    # any brand vs. a brand, any reason vs. a reason: different keys, allowed
    make_rule(admin, brand_id=ref["brand"].id, reason_id=ref["投诉"].id)
    make_rule(admin)
    with pytest.raises(ValidationError):
        make_rule(admin)
    # an inactive duplicate is still a duplicate (activate it instead)
    svc.set_rule_active(admin, first, False)
    with pytest.raises(ValidationError) as exc:
        make_rule(admin, reason_id=ref["投诉"].id)
    assert "停用" in exc.value.errors["reason_id"]
    assert db.session.scalar(select(db.func.count()).select_from(DeadlineRule)) == 3


def test_rule_validation_messages(users, ref):
    admin = users["admin"]
    with pytest.raises(ValidationError) as exc:
        make_rule(admin, category="nonsense", brand_id=99999, reply_minutes=0, resolve_minutes=-5, mode="x")
    assert set(exc.value.errors) >= {"category", "brand_id", "reply_minutes", "resolve_minutes", "mode"}
    with pytest.raises(ValidationError) as exc:  # reason of another category
        make_rule(admin, category="problem", reason_id=ref["投诉"].id)
    assert exc.value.errors["reason_id"] == "该原因属于其他类别。"
    with pytest.raises(ValidationError) as exc:
        make_rule(admin, reply_minutes=300, resolve_minutes=120)
    assert "resolve_minutes" in exc.value.errors
    with pytest.raises(ValidationError) as exc:
        make_rule(admin, reply_minutes=91 * 24 * 60, resolve_minutes=91 * 24 * 60)
    assert "90" in exc.value.errors["reply_minutes"]


def test_service_hours_need_start_before_end(users, ref):
    admin = users["admin"]
    with pytest.raises(ValidationError) as exc:
        make_rule(admin, mode="service_hours", service_start=time(20), service_end=time(8))
    assert "08:00" in exc.value.errors["service_end"]
    with pytest.raises(ValidationError):
        make_rule(admin, mode="service_hours", service_start=time(9), service_end=time(9))
    rule = make_rule(admin, mode="service_hours")  # default window
    assert (rule.service_start, rule.service_end) == (time(8), time(20))
    entry = audit("deadline_rule.create")[0]
    assert entry.after["service_start"] == "08:00"  # times audited as text


def test_update_rule_checks_version_and_keeps_ticket_deadlines(users, ref):
    admin = users["admin"]
    rule = make_rule(admin)
    outlet = factories.make_outlet(brand=ref["brand"])
    due = datetime(2026, 11, 20, 10, tzinfo=UTC)
    ticket = Ticket(outlet_id=outlet.id, brand_id=ref["brand"].id, direction="inbound", category="work_order",
                    reason_id=ref["催件"].id, waybill_no="ZT1234567890", registered_at=due, status="new",
                    reply_due_at=due, resolve_due_at=due, due_at=due, deadline_rule_id=rule.id)
    db.session.add(ticket)
    db.session.commit()
    version = rule.version
    svc.update_rule(admin, rule, version=version, brand_id=None, category="work_order", reason_id=None,
                    reply_minutes=30, resolve_minutes=600, mode="service_hours",
                    service_start=time(9), service_end=time(18), note="新规")
    assert rule.version == version + 1 and rule.reply_minutes == 30
    entry = audit("deadline_rule.update")[0]
    assert entry.before == {"reply_minutes": 120, "resolve_minutes": 1440, "mode": "clock", "service_start": None,
                            "service_end": None, "note": ""}
    assert entry.after["service_end"] == "18:00"
    db.session.refresh(ticket)
    assert ticket.reply_due_at == due and ticket.resolve_due_at == due  # not moved
    with pytest.raises(StaleEdit):
        svc.update_rule(admin, rule, version=version, brand_id=None, category="work_order", reason_id=None,
                        reply_minutes=60, resolve_minutes=600, mode="clock")


def test_update_rule_into_duplicate_is_refused(users, ref):
    admin = users["admin"]
    make_rule(admin)
    other = make_rule(admin, reason_id=ref["投诉"].id)
    with pytest.raises(ValidationError):
        svc.update_rule(admin, other, version=other.version, brand_id=None, category="work_order", reason_id=None,
                        reply_minutes=60, resolve_minutes=600, mode="clock")


def test_activate_deactivate_rule_audits(users, ref):
    admin = users["admin"]
    rule = make_rule(admin)
    svc.set_rule_active(admin, rule, False)
    svc.set_rule_active(admin, rule, False)  # no-op, no second row
    svc.set_rule_active(admin, rule, True)
    assert [e.after for e in audit("deadline_rule.deactivate")] == [{"is_active": False}]
    assert [e.after for e in audit("deadline_rule.activate")] == [{"is_active": True}]


@pytest.mark.parametrize("role", ["agent", "trainer", "lead"])
def test_only_admin_manages_rules_calendar_reasons(users, ref, role):
    user = users[role]
    with pytest.raises(PermissionDenied):
        make_rule(user)
    with pytest.raises(PermissionDenied):
        svc.list_rules(user)
    with pytest.raises(PermissionDenied):
        svc.set_day(user, date(2026, 12, 1), is_workday=False)
    with pytest.raises(PermissionDenied):
        svc.load_year(user, 2026)
    with pytest.raises(PermissionDenied):
        svc.create_reason(user, category="problem", name="x")
    with pytest.raises(PermissionDenied):
        svc.set_reason_active(user, ref["破损"], False)


@pytest.mark.parametrize("role", ["agent", "lead"])
def test_canned_replies_admin_and_trainer_only(users, role):
    with pytest.raises(PermissionDenied):
        svc.create_canned(users[role], category=None, title="t", body="b")
    for allowed in ("admin", "trainer"):
        svc.create_canned(users[allowed], category=None, title=f"{allowed}标题", body="正文")


# --------------------------------------------------------------------------- preview (试算)


def test_preview_uses_the_work_calendar_and_service_hours(users, ref):
    admin = users["admin"]
    rule = make_rule(admin, reply_minutes=120, resolve_minutes=24 * 60, mode="service_hours")
    # Friday 2026-11-20 19:00: 1 h left that day, then Monday 08:00 + 1 h.
    preview = svc.preview_rule(admin, rule, sh(2026, 11, 20, 19, 0))
    assert preview.reply_due.astimezone(SHANGHAI) == sh(2026, 11, 23, 9, 0)
    # 24 service hours = two full working days: Mon 08:00 → ... Monday 19:00 + 12 h → Tuesday 19:00
    assert preview.resolve_due.astimezone(SHANGHAI) == sh(2026, 11, 24, 19, 0)
    # Make Monday a holiday: everything moves a working day later.
    svc.set_day(admin, date(2026, 11, 23), is_workday=False, name="测试假日")
    preview = svc.preview_rule(admin, rule, sh(2026, 11, 20, 19, 0))
    assert preview.reply_due.astimezone(SHANGHAI) == sh(2026, 11, 24, 9, 0)
    # A make-up Saturday counts.
    svc.set_day(admin, date(2026, 11, 21), is_workday=True, name="调休上班")
    preview = svc.preview_rule(admin, rule, sh(2026, 11, 20, 19, 0))
    assert preview.reply_due.astimezone(SHANGHAI) == sh(2026, 11, 21, 9, 0)


def test_preview_clock_mode_ignores_calendar(users, ref):
    admin = users["admin"]
    rule = make_rule(admin, reply_minutes=120, resolve_minutes=3 * 24 * 60)
    preview = svc.preview_rule(admin, rule, sh(2026, 9, 30, 23, 0))
    assert preview.reply_due.astimezone(SHANGHAI) == sh(2026, 10, 1, 1, 0)
    assert preview.resolve_due.astimezone(SHANGHAI) == sh(2026, 10, 3, 23, 0)


# --------------------------------------------------------------------------- calendar


def test_month_grid_marks_holidays_and_makeup_days(users):
    admin = users["admin"]
    svc.load_year(admin, 2026)
    weeks = svc.month_grid(admin, 2026, 10)
    cells = {c.day: c for week in weeks for c in week}
    assert all(len(week) == 7 for week in weeks) and weeks[0][0].day.weekday() == 0
    assert cells[date(2026, 10, 1)].kind == "holiday" and not cells[date(2026, 10, 1)].is_workday
    assert cells[date(2026, 10, 10)].kind == "makeup" and cells[date(2026, 10, 10)].is_workday  # Saturday
    assert cells[date(2026, 10, 12)].kind == "workday" and cells[date(2026, 10, 18)].kind == "weekend"
    assert not cells[date(2026, 9, 28)].in_month


def test_load_year_keeps_days_edited_by_hand_and_audits(users):
    admin = users["admin"]
    counts = svc.load_year(admin, 2026)
    assert counts["created"] > 20
    svc.set_day(admin, date(2026, 10, 7), is_workday=True, name="公司安排上班")
    svc.set_day(admin, date(2026, 12, 24), is_workday=False, name="公司假日")
    counts = svc.load_year(admin, 2026)
    assert counts == {"created": 0, "updated": 0, "kept": 1}
    row = db.session.scalar(select(WorkCalendarDay).where(WorkCalendarDay.day == date(2026, 10, 7)))
    assert row.is_workday and row.name == "公司安排上班" and row.source == "admin"
    entries = audit("calendar.load")
    assert len(entries) == 2 and entries[-1].after == {"calendar_year": 2026, "days_created": 0, "days_updated": 0, "days_kept": 1}
    assert audit("calendar_day.update")


def test_load_year_outside_package_range(users):
    with pytest.raises(ValidationError) as exc:
        svc.load_year(users["admin"], 2099)
    assert "2099" in exc.value.errors["year"]


def test_set_day_stale_version_and_name_limit(users):
    admin = users["admin"]
    row = svc.set_day(admin, date(2026, 12, 31), is_workday=False, name="跨年")
    with pytest.raises(StaleEdit):
        svc.set_day(admin, date(2026, 12, 31), is_workday=True, version=row.version + 5)
    with pytest.raises(StaleEdit):  # someone created the row meanwhile... and we thought it had none
        svc.set_day(admin, date(2027, 1, 4), is_workday=False, version=3)
    with pytest.raises(ValidationError):
        svc.set_day(admin, date(2026, 12, 30), is_workday=False, name="长" * 33)


def test_set_day_version_zero_means_the_day_had_no_row(users):
    """The day editor posts 0 for a day that followed the weekday rule; a row saved meanwhile makes it stale."""
    admin = users["admin"]
    assert svc.day_state(admin, date(2026, 12, 24)) == (True, "", 0)
    row = svc.set_day(admin, date(2026, 12, 24), is_workday=False, name="年会", version=0)
    assert svc.day_state(admin, date(2026, 12, 24)) == (False, "年会", row.version)
    with pytest.raises(StaleEdit):  # the form still thought the day had no row
        svc.set_day(admin, date(2026, 12, 24), is_workday=True, version=0)
    assert not db.session.dirty and not db.session.new
    svc.set_day(admin, date(2026, 12, 24), is_workday=True, name="", version=row.version)
    assert svc.day_state(admin, date(2026, 12, 24))[0] is True


def test_set_day_lost_race_is_stale_and_leaves_the_session_clean(users, monkeypatch):
    """Two admins save the same day at once: the loser's flush fails; the service rolls back and says StaleEdit."""
    from sqlalchemy.orm.exc import StaleDataError

    from kdcs import workcalendar

    admin = users["admin"]
    row = svc.set_day(admin, date(2026, 12, 25), is_workday=False, name="圣诞")

    def racing(*args, **kwargs):
        db.session.get(WorkCalendarDay, row.id).name = "改了一半"
        raise StaleDataError("someone else saved it")

    monkeypatch.setattr(workcalendar, "set_calendar_day", racing)
    with pytest.raises(StaleEdit):
        svc.set_day(admin, date(2026, 12, 25), is_workday=True, version=row.version)
    assert not db.session.dirty
    assert db.session.get(WorkCalendarDay, row.id).name == "圣诞"


def test_year_runs_merge_consecutive_days(users):
    admin = users["admin"]
    for day in (1, 2, 3):
        svc.set_day(admin, date(2026, 10, day), is_workday=False, name="国庆节")
    svc.set_day(admin, date(2026, 10, 10), is_workday=True, name="调休上班")
    runs = svc.year_runs(admin, 2026)
    assert [(r["start"], r["end"], r["days"], r["name"], r["admin"]) for r in runs] == [
        (date(2026, 10, 1), date(2026, 10, 3), 3, "国庆节", True),
        (date(2026, 10, 10), date(2026, 10, 10), 1, "调休上班", True),
    ]


# --------------------------------------------------------------------------- reasons


def test_reason_create_rename_unique_per_category(users, ref):
    admin = users["admin"]
    reason = svc.create_reason(admin, category="problem", name=" 超区 ")
    assert reason.name == "超区" and reason.sort_order > ref["破损"].sort_order
    with pytest.raises(ValidationError) as exc:
        svc.create_reason(admin, category="problem", name="破损")
    assert "破损" in exc.value.errors["name"]
    svc.create_reason(admin, category="arbitration", name="破损")  # another category: fine
    with pytest.raises(ValidationError):
        svc.rename_reason(admin, reason, name="破损", version=reason.version)
    svc.rename_reason(admin, reason, name="超区/超派", version=reason.version)
    assert audit("ticket_reason.update")[0].after == {"name": "超区/超派"}
    with pytest.raises(StaleEdit):
        svc.rename_reason(admin, reason, name="x", version=reason.version - 1)
    with pytest.raises(ValidationError):
        svc.create_reason(admin, category="bogus", name="x")


def test_reason_position_in_its_list(users, ref):
    assert svc.reason_position(ref["投诉"]) == (1, 2) and svc.reason_position(ref["催件"]) == (2, 2)
    assert svc.reason_position(ref["破损"]) == (1, 1)


def test_rules_search_brand_reason_and_note(users, ref):
    admin = users["admin"]
    by_brand = make_rule(admin, brand_id=ref["brand"].id, category="problem", note="")
    by_reason = make_rule(admin, category="work_order", reason_id=ref["投诉"].id, note="")
    by_note = make_rule(admin, category="message", note="品牌通知 2026-03")
    assert svc.list_rules(admin, q="zto") == [by_brand]
    assert svc.list_rules(admin, q="投诉") == [by_reason]
    assert svc.list_rules(admin, q="通知") == [by_note]
    assert svc.list_rules(admin, q="%") == []  # a LIKE wildcard is a literal character here


def test_move_reason_renumbers_and_audits(users, ref):
    admin = users["admin"]
    a = svc.create_reason(admin, category="problem", name="甲")
    b = svc.create_reason(admin, category="problem", name="乙")
    svc.move_reason(admin, b, "up")
    names = [r.name for r in svc.reasons_by_category(admin)["problem"]]
    assert names == ["破损", "乙", "甲"]
    svc.move_reason(admin, ref["破损"], "up")  # already first: nothing
    assert [r.name for r in svc.reasons_by_category(admin)["problem"]] == ["破损", "乙", "甲"]
    assert {e.entity_id for e in audit("ticket_reason.reorder")} >= {a.id, b.id}
    with pytest.raises(ValidationError):
        svc.move_reason(admin, a, "sideways")


def test_reason_used_by_tickets_or_rules_cannot_be_deleted(users, ref):
    admin = users["admin"]
    outlet = factories.make_outlet(brand=ref["brand"])
    now = datetime.now(UTC)
    db.session.add(Ticket(outlet_id=outlet.id, brand_id=ref["brand"].id, direction="inbound", category="problem",
                          reason_id=ref["破损"].id, waybill_no="YT1234567890", registered_at=now, status="new"))
    db.session.commit()
    with pytest.raises(ValidationError) as exc:
        svc.delete_reason(admin, ref["破损"])
    assert "停用" in exc.value.errors["reason"]
    make_rule(admin, reason_id=ref["投诉"].id)
    with pytest.raises(ValidationError):
        svc.delete_reason(admin, ref["投诉"])
    svc.set_reason_active(admin, ref["破损"], False)
    assert not ref["破损"].is_active and audit("ticket_reason.deactivate")
    unused = svc.create_reason(admin, category="problem", name="临时")
    svc.delete_reason(admin, unused)
    assert db.session.get(TicketReason, unused.id) is None
    assert audit("ticket_reason.delete")[0].before["name"] == "临时"


# --------------------------------------------------------------------------- canned replies


def test_canned_reply_lifecycle(users):
    trainer = users["trainer"]
    a = svc.create_canned(trainer, category="work_order", title=" 催件回复 ", body="您好，已催促网点。\r\n谢谢")
    b = svc.create_canned(trainer, category="work_order", title="查件回复", body="您好")
    shared = svc.create_canned(trainer, category=None, title="结束语", body="感谢")
    assert a.title == "催件回复" and a.body == "您好，已催促网点。\n谢谢" and b.sort_order > a.sort_order
    assert [r.title for r in svc.list_canned(trainer)] == ["结束语", "催件回复", "查件回复"]
    assert [r.title for r in svc.list_canned(trainer, category="all")] == ["结束语"]
    assert [r.title for r in svc.list_canned(trainer, q="查件")] == ["查件回复"]
    svc.move_canned(trainer, b, "up")
    assert [r.title for r in svc.list_canned(trainer, category="work_order")] == ["查件回复", "催件回复"]
    assert svc.canned_positions() == {shared.id: (True, True), b.id: (True, False), a.id: (False, True)}
    svc.update_canned(trainer, a, version=a.version, category="problem", title="改了", body="新内容")
    entry = audit("canned_reply.update")[0]
    assert entry.before["category"] == "work_order" and entry.after["category"] == "problem"
    with pytest.raises(StaleEdit):
        svc.update_canned(trainer, a, version=a.version - 1, category=None, title="x", body="y")
    svc.set_canned_active(trainer, shared, False)
    assert [r.title for r in svc.list_canned(trainer, active="0")] == ["结束语"]
    assert audit("canned_reply.deactivate")[0].actor_id == trainer.id
    with pytest.raises(ValidationError) as exc:
        svc.create_canned(trainer, category="bogus", title="", body="")
    assert set(exc.value.errors) == {"category", "title", "body"}
    assert db.session.scalar(select(db.func.count()).select_from(CannedReply)) == 3
