"""Reference data (reasons, rules, calendar, canned replies), the work calendar and demo tickets."""

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from kdcs import workcalendar
from kdcs.demo import seed_demo
from kdcs.extensions import db
from kdcs.models import (
    AuditLog,
    CannedReply,
    Category,
    DeadlineRule,
    Outlet,
    QueueState,
    Ticket,
    TicketEvent,
    TicketReason,
    WorkCalendarDay,
)
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import StaleEdit, ValidationError
from kdcs.tickets import deadlines, reference, service
from kdcs.tickets.demo import seed_demo_tickets, waybill_for
from tests import factories as f


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_reference_seed_is_idempotent_and_covers_every_category():
    first = reference.seed_reference_data()
    assert first["reasons"] > 40 and first["rules"] == len(reference.DEFAULT_RULES)
    assert first["calendar_days"] > 100 and first["canned_replies"] == len(reference.CANNED_REPLIES)
    totals = (count(TicketReason), count(DeadlineRule), count(CannedReply), count(WorkCalendarDay))
    assert reference.seed_reference_data() == {"reasons": 0, "rules": 0, "canned_replies": 0, "evidence_items": 0,
                                               "calendar_days": 0}
    assert (count(TicketReason), count(DeadlineRule), count(CannedReply), count(WorkCalendarDay)) == totals
    rules = list(db.session.scalars(select(DeadlineRule)))
    for category in Category:
        assert service.reasons_for(category), category
        # every category has a catch-all rule, so a ticket always gets deadlines
        assert deadlines.select_rule(rules, brand_id=None, category=category, reason_id=None) is not None
        assert reference.canned_replies_for(category)
    complaint = db.session.scalar(select(TicketReason).where(TicketReason.category == "work_order",
                                                             TicketReason.name == "投诉"))
    chosen = deadlines.select_rule(rules, brand_id=None, category="work_order", reason_id=complaint.id)
    assert (chosen.reply_minutes, chosen.resolve_minutes) == (24 * 60, 7 * 24 * 60)
    message = deadlines.select_rule(rules, brand_id=None, category="message", reason_id=None)
    assert message.mode == "service_hours" and message.reply_minutes == 120


def test_calendar_seed_knows_national_day_and_make_up_days_and_keeps_admin_edits(users):
    workcalendar.seed_calendar({2026})
    db.session.commit()
    calendar = workcalendar.DbCalendar()
    assert not calendar(date(2026, 10, 1)) and not calendar(date(2026, 10, 7))
    assert calendar(date(2026, 10, 10))  # Saturday, 调休上班
    assert calendar(date(2026, 10, 8)) and not calendar(date(2026, 10, 11))  # plain weekday / Sunday
    row = db.session.scalar(select(WorkCalendarDay).where(WorkCalendarDay.day == date(2026, 10, 1)))
    assert row.name == "国庆节" and row.source == "chinesecalendar"
    make_up = db.session.scalar(select(WorkCalendarDay).where(WorkCalendarDay.day == date(2026, 10, 10)))
    assert make_up.name.startswith("调休上班")

    # An admin turns 10-10 into a day off; a re-seed keeps it.
    with pytest.raises(PermissionDenied):
        workcalendar.set_calendar_day(users["lead"], date(2026, 10, 10), is_workday=False)
    with pytest.raises(StaleEdit):
        workcalendar.set_calendar_day(users["admin"], date(2026, 10, 10), is_workday=False, version=make_up.version + 1)
    workcalendar.set_calendar_day(users["admin"], date(2026, 10, 10), is_workday=False, name="公司团建",
                                  version=make_up.version)
    counts = workcalendar.seed_calendar({2026})
    db.session.commit()
    assert counts["kept"] == 1 and counts["created"] == 0
    assert not workcalendar.DbCalendar()(date(2026, 10, 10))
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.entity_type == "calendar_day")) == "calendar_day.update"
    # A new admin-only day (a local holiday).
    workcalendar.set_calendar_day(users["admin"], date(2026, 11, 25), is_workday=False, name="台风停工")
    assert not workcalendar.is_workday(date(2026, 11, 25))
    with pytest.raises(ValidationError):
        workcalendar.set_calendar_day(users["admin"], date(2026, 11, 26), is_workday=False, name="长" * 33)
    first, last = workcalendar.package_years()
    assert first <= 2026 <= last
    assert workcalendar.next_workdays(date(2026, 9, 30), 3) == [date(2026, 9, 30), date(2026, 10, 8), date(2026, 10, 9)]


def test_import_mapping_is_remembered_per_brand(users):
    brand = f.make_brand()
    assert reference.get_import_mapping(brand.id) is None
    with pytest.raises(PermissionDenied):
        reference.save_import_mapping(users["agent"], brand.id, {"waybill_no": "运单号"})
    reference.save_import_mapping(users["lead"], brand.id, {"columns": {"waybill_no": "运单编号"}})
    reference.save_import_mapping(users["admin"], brand.id, {"columns": {"waybill_no": "运单号"}})
    assert reference.get_import_mapping(brand.id) == {"columns": {"waybill_no": "运单号"}}
    with pytest.raises(ValidationError):
        reference.save_import_mapping(users["admin"], 999999, {})


@pytest.mark.parametrize(("brand", "pattern"), [
    ("ZTO", r"7[3-8]\d{12}"), ("YTO", r"YT\d{13}"), ("JT", r"JT\d{13}"),
    ("YUNDA", r"[34]\d{14}|5\d{12}"), ("STO", r"77\d{12,15}"),
])
def test_demo_waybills_follow_brand_formats(brand, pattern):
    import random

    rng = random.Random(1)
    for _ in range(50):
        waybill = waybill_for(brand, rng)
        assert re.fullmatch(pattern, waybill), waybill
        assert service.waybill_error(waybill) is None
        assert service.waybill_matches_brand(brand, waybill)


@pytest.mark.slow
def test_demo_tickets_are_realistic_and_idempotent():
    today = date(2026, 11, 24)
    created = seed_demo(today)  # seed-demo loads the demo tickets too
    assert created["tickets"] == count(Outlet) * 24 and created["fines"] > 0
    assert seed_demo_tickets(today) == {"tickets": 0, "events": 0, "fines": 0}
    assert count(Ticket) == created["tickets"]
    now = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # 15:00 in Shanghai, the seed's "now"
    categories = set(db.session.scalars(select(Ticket.category).distinct()))
    assert categories == {c.value for c in Category}
    # Dozens open per agent, some overdue.
    open_per_agent = db.session.execute(select(Ticket.assignee_id, func.count()).where(
        service.open_clause()).group_by(Ticket.assignee_id)).all()
    assert len(open_per_agent) == 12 and min(n for _, n in open_per_agent) >= 24
    assert db.session.scalar(select(func.count()).where(service.overdue_clause(now))) > 20
    # Derived fields agree with the service's rule; every ticket has a timeline starting with "created".
    for ticket in db.session.scalars(select(Ticket).limit(200)):
        due, state = ticket.due_at, ticket.queue_state
        service.refresh_derived(ticket)
        assert (ticket.due_at, ticket.queue_state) == (due, state)
        assert ticket.registered_at <= now
        if ticket.fine_amount is not None:
            assert 0 <= ticket.fine_agent_share <= ticket.fine_amount
        assert ticket.status in service.statuses_for(ticket.category)
    db.session.rollback()
    first_events = db.session.execute(select(TicketEvent.ticket_id, TicketEvent.kind)
                                      .order_by(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.id)).all()
    seen = {}
    for ticket_id, kind in first_events:
        seen.setdefault(ticket_id, kind)
    assert set(seen.values()) == {"created"}
    assert db.session.scalar(select(func.count()).where(Ticket.queue_state == QueueState.CLOSED)) > 50
