"""Ticket service: creation and deadlines, status machines, scope, assignment, fines, bulk, locking."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update

from kdcs.extensions import db
from kdcs.models import (
    AuditLog,
    QueueState,
    Ticket,
    TicketEvent,
    WorkCalendarDay,
    utcnow,
)
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import StaleEdit, ValidationError
from kdcs.tickets import service
from kdcs.tickets.service import TicketNotFound
from kdcs.workcalendar import SHANGHAI
from tests import factories as f


def create(actor, s, **overrides):
    values = dict(outlet_id=s["outlet"].id, direction="inbound", category="work_order",
                  reason_id=s["reason"].id, waybill_no="75121488724296",
                  registered_at=datetime(2026, 11, 23, 1, 0, tzinfo=UTC), customer_name="王先生",
                  customer_phone="13812345678", description="客户催件")
    values.update(overrides)
    return service.create_ticket(actor, **values)


def errors_of(excinfo) -> dict:
    return excinfo.value.errors


# -- create -------------------------------------------------------------------

def test_create_computes_deadlines_assigns_primary_agent_and_records_event_and_audit(desk_world):
    ticket = create(desk_world["agent"], desk_world, waybill_no=" yt 1234567890123 ")
    assert ticket.waybill_no == "YT1234567890123"
    assert ticket.brand_id == desk_world["brand"].id
    assert ticket.assignee_id == desk_world["agent"].id
    assert ticket.status == "new"
    assert ticket.reply_due_at == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    assert ticket.resolve_due_at == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    assert ticket.deadline_rule_id == desk_world["rule"].id
    assert ticket.queue_state == QueueState.ACTIVE and ticket.due_at == ticket.reply_due_at
    events = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).all()
    assert [(e.kind, e.to_value, e.actor_id) for e in events] == [("created", "new", desk_world["agent"].id)]
    audit = db.session.scalars(select(AuditLog).where(AuditLog.entity_type == "ticket")).all()
    assert [a.action for a in audit] == ["ticket.create"]


def test_create_uses_most_specific_rule_and_service_hours_calendar(desk_world):
    brand_rule = f.make_rule("work_order", brand=desk_world["brand"], reason=desk_world["reason"], reply_minutes=60,
                             resolve_minutes=600, mode="service_hours")
    # 2026-10-01..07 off; Wednesday 09-30 19:30 Shanghai + 60 service minutes → 10-08 08:30.
    for d in range(1, 8):
        db.session.add(WorkCalendarDay(day=date(2026, 10, d), is_workday=False, name="国庆节"))
    db.session.commit()
    start = datetime(2026, 9, 30, 19, 30, tzinfo=SHANGHAI)
    ticket = create(desk_world["admin"], desk_world, registered_at=start)
    assert ticket.deadline_rule_id == brand_rule.id
    assert ticket.reply_due_at.astimezone(SHANGHAI) == datetime(2026, 10, 8, 8, 30, tzinfo=SHANGHAI)
    # 600 min: 30 on 09-30, 570 from 10-08 08:00 → 17:30
    assert ticket.resolve_due_at.astimezone(SHANGHAI) == datetime(2026, 10, 8, 17, 30, tzinfo=SHANGHAI)


def test_changing_a_rule_does_not_move_existing_deadlines(desk_world):
    ticket = create(desk_world["agent"], desk_world)
    reply_due = ticket.reply_due_at
    desk_world["rule"].reply_minutes = 5
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).reply_due_at == reply_due


@pytest.mark.parametrize(("field", "overrides"), [
    ("waybill_no", {"waybill_no": "123"}),
    ("waybill_no", {"waybill_no": "75121488724296!"}),
    ("waybill_no", {"waybill_no": "A" * 21}),
    ("direction", {"direction": "sideways"}),
    ("category", {"category": "gossip"}),
    ("reason_id", {"category": "problem"}),  # reason belongs to work_order
    ("registered_at", {"registered_at": datetime(2026, 11, 23, 9, 0)}),  # naive
    ("registered_at", {"registered_at": utcnow() + timedelta(days=1)}),
    ("customer_phone", {"customer_phone": "call me"}),
    ("priority", {"priority": "whenever"}),
    ("outlet_id", {"outlet_id": 999999}),
])
def test_create_validates_each_field(desk_world, field, overrides):
    with pytest.raises(ValidationError) as excinfo:
        create(desk_world["admin"], desk_world, **overrides)
    assert field in errors_of(excinfo)
    assert db.session.scalar(select(Ticket.id)) is None


def test_create_refuses_inactive_outlet_other_agents_outlet_and_duplicates(desk_world):
    inactive = f.make_outlet(brand=desk_world["brand"], agent=desk_world["agent"], active=False)
    with pytest.raises(ValidationError) as excinfo:
        create(desk_world["agent"], desk_world, outlet_id=inactive.id)
    assert "outlet_id" in errors_of(excinfo)
    stranger = f.make_outlet(brand=desk_world["brand"], agent=f.make_user("agent"))
    with pytest.raises(ValidationError) as excinfo:
        create(desk_world["agent"], desk_world, outlet_id=stranger.id)
    assert "outlet_id" in errors_of(excinfo)
    first = create(desk_world["agent"], desk_world)
    with pytest.raises(ValidationError) as excinfo:
        create(desk_world["agent"], desk_world, waybill_no="75121488724296")
    assert str(first.id) in errors_of(excinfo)["waybill_no"]
    assert service.find_duplicate("75121488724296", desk_world["outlet"].id, "work_order", desk_world["reason"].id) == first.id
    key = service.duplicate_key("75121488724296", desk_world["outlet"].id, "work_order", desk_world["reason"].id)
    other = ("75121488724297", desk_world["outlet"].id, "work_order", desk_world["reason"].id)
    assert service.existing_duplicate_keys([key, other]) == {key}


def test_create_without_matching_rule_is_refused(desk_world):
    reason = f.make_reason("arbitration", "遗失")
    with pytest.raises(ValidationError) as excinfo:
        create(desk_world["admin"], desk_world, category="arbitration", reason_id=reason.id)
    assert "category" in errors_of(excinfo)


def test_trainer_cannot_create(desk_world):
    with pytest.raises(PermissionDenied):
        create(desk_world["trainer"], desk_world)


def test_arbitration_starts_to_file_outbound_and_filed_inbound(desk_world):
    reason = f.make_reason("arbitration", "破损")
    f.make_rule("arbitration", reply_minutes=1440, resolve_minutes=4320)
    out = create(desk_world["admin"], desk_world, category="arbitration", reason_id=reason.id, direction="outbound")
    inbound = create(desk_world["admin"], desk_world, category="arbitration", reason_id=reason.id,
                     direction="inbound", waybill_no="75121488724297")
    assert (out.status, inbound.status) == ("to_file", "filed")


# -- status machines ----------------------------------------------------------

def test_ordinary_happy_path_sets_times_and_queue_state(desk_world):
    t = f.make_ticket(desk_world["outlet"], category="work_order", reason=desk_world["reason"])
    agent = desk_world["agent"]
    t = service.change_status(agent, t.id, "in_progress", version=t.version)
    t = service.change_status(agent, t.id, "awaiting_feedback", version=t.version)
    assert t.queue_state == QueueState.ACTIVE and t.first_replied_at is None
    t = service.change_status(agent, t.id, "replied", version=t.version)
    assert t.first_replied_at is not None and t.resolved_at is not None
    assert (t.queue_state, t.due_at) == (QueueState.WAITING, None)
    t = service.change_status(agent, t.id, "closed", version=t.version)
    assert t.closed_at is not None and t.queue_state == QueueState.CLOSED
    kinds = [(e.kind, e.from_value, e.to_value) for e in service.timeline(t)]
    assert kinds == [("status", "new", "in_progress"), ("status", "in_progress", "awaiting_feedback"),
                     ("status", "awaiting_feedback", "replied"), ("status", "replied", "closed")]
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.entity_id == t.id)).all()
    assert actions.count("ticket.status") == 4


@pytest.mark.parametrize(("start", "target"), [
    ("new", "new"), ("replied", "awaiting_feedback"), ("in_progress", "new"),
    ("closed", "in_progress"), ("new", "filed"), ("in_progress", "judged"),
])
def test_invalid_ordinary_transitions_are_refused(desk_world, start, target):
    t = f.make_ticket(desk_world["outlet"], category="work_order", reason=desk_world["reason"], status=start)
    with pytest.raises(ValidationError) as excinfo:
        service.change_status(desk_world["agent"], t.id, target, version=t.version, note="x")
    assert "status" in errors_of(excinfo)
    db.session.expire_all()
    assert db.session.get(Ticket, t.id).status == start


def test_invalid_transition_message_is_chinese(desk_world, app):
    t = f.make_ticket(desk_world["outlet"], category="work_order", reason=desk_world["reason"], status="replied")
    with app.test_request_context("/"):
        with pytest.raises(ValidationError) as excinfo:
            service.change_status(desk_world["agent"], t.id, "awaiting_feedback", version=t.version)
        message = errors_of(excinfo)["status"]
    assert "已回复" in message and "待反馈" in message


def test_arbitration_machine(desk_world):
    reason = f.make_reason("arbitration", "延误")
    t = f.make_ticket(desk_world["outlet"], category="arbitration", reason=reason, direction="outbound")
    assert t.status == "to_file"
    with pytest.raises(ValidationError):
        service.change_status(desk_world["agent"], t.id, "negotiating", version=t.version)
    with pytest.raises(ValidationError):
        service.change_status(desk_world["agent"], t.id, "replied", version=t.version)
    t = service.change_status(desk_world["agent"], t.id, "filed", version=t.version)
    assert t.first_replied_at is not None and t.due_at == t.resolve_due_at
    t = service.change_status(desk_world["agent"], t.id, "negotiating", version=t.version)
    t = service.change_status(desk_world["agent"], t.id, "judged", version=t.version)
    assert t.resolved_at is not None and t.queue_state == QueueState.WAITING
    t = service.change_status(desk_world["agent"], t.id, "closed", version=t.version)
    assert service.allowed_transitions(t) == []


def test_closing_without_reply_needs_a_note(desk_world):
    t = f.make_ticket(desk_world["outlet"], category="work_order", reason=desk_world["reason"])
    with pytest.raises(ValidationError) as excinfo:
        service.change_status(desk_world["agent"], t.id, "closed", version=t.version, note="  ")
    assert "note" in errors_of(excinfo)
    t = service.close_ticket(desk_world["agent"], t.id, version=t.version, note="客户撤销")
    assert t.status == "closed"
    assert service.timeline(t)[-1].body == "客户撤销"


def test_follow_up_after_reply_makes_resolve_deadline_pending_again(desk_world):
    t = f.make_ticket(desk_world["outlet"], category="work_order", reason=desk_world["reason"])
    t = service.change_status(desk_world["agent"], t.id, "replied", version=t.version)
    t = service.change_status(desk_world["agent"], t.id, "in_progress", version=t.version, note="客户追问")
    assert t.resolved_at is None and t.first_replied_at is not None
    assert (t.queue_state, t.due_at) == (QueueState.ACTIVE, t.resolve_due_at)


def test_reopen_needs_reason_and_goes_back_with_fresh_resolve_deadline(desk_world):
    t = f.make_ticket(desk_world["outlet"], category="work_order", reason=desk_world["reason"])
    t = service.change_status(desk_world["agent"], t.id, "replied", version=t.version)
    with pytest.raises(ValidationError):
        service.reopen(desk_world["agent"], t.id, version=t.version, reason="还没结案")  # not closed yet
    t = service.change_status(desk_world["agent"], t.id, "closed", version=t.version)
    with pytest.raises(ValidationError) as excinfo:
        service.reopen(desk_world["agent"], t.id, version=t.version, reason="")
    assert "reason" in errors_of(excinfo)
    before = utcnow()
    t = service.reopen(desk_world["agent"], t.id, version=t.version, reason="客户再次投诉")
    assert t.status == "in_progress" and t.closed_at is None and t.resolved_at is None
    assert t.resolve_due_at >= before + timedelta(minutes=1439)
    assert t.queue_state == QueueState.ACTIVE
    event = service.timeline(t)[-1]
    assert (event.kind, event.body) == ("reopen", "客户再次投诉")


def test_reopen_arbitration_goes_to_negotiating(desk_world):
    reason = f.make_reason("arbitration", "遗失")
    t = f.make_ticket(desk_world["outlet"], category="arbitration", reason=reason, status="closed")
    t = service.reopen(desk_world["admin"], t.id, version=t.version, reason="对方申诉")
    assert t.status == "negotiating"


# -- first reply, notes, fines, details ---------------------------------------

def test_first_reply_moves_new_to_in_progress_and_due_to_resolve(desk_world):
    t = f.make_ticket(desk_world["outlet"], category="work_order", reason=desk_world["reason"])
    service.record_reply(desk_world["agent"], t.id, version=t.version, channel="phone", body="已电话联系客户")
    t = db.session.get(Ticket, t.id)
    assert t.status == "in_progress" and t.first_replied_at is not None
    assert t.due_at == t.resolve_due_at
    kinds = [e.kind for e in service.timeline(t)]
    assert kinds == ["reply", "status"]


def test_first_reply_time_must_be_between_registration_and_now(desk_world):
    t = f.make_ticket(desk_world["outlet"], category="work_order", reason=desk_world["reason"])
    with pytest.raises(ValidationError) as err:
        service.record_reply(desk_world["agent"], t.id, version=t.version, channel="phone", body="x",
                             sent_at=t.registered_at - timedelta(hours=1))
    assert "sent_at" in err.value.errors
    with pytest.raises(ValidationError) as err:
        service.record_reply(desk_world["agent"], t.id, version=t.version, channel="phone", body="x",
                             sent_at=datetime.now(UTC) + timedelta(hours=1))
    assert "sent_at" in err.value.errors


def test_note_does_not_bump_version(desk_world):
    t = f.make_ticket(desk_world["outlet"], category="work_order", reason=desk_world["reason"])
    version = t.version
    event = service.add_note(desk_world["agent"], t.id, "已联系网点")
    db.session.expire_all()
    assert db.session.get(Ticket, t.id).version == version
    assert event.kind == "note" and event.actor_id == desk_world["agent"].id
    with pytest.raises(ValidationError):
        service.add_note(desk_world["agent"], t.id, "  ")
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.entity_id == t.id)) == "ticket.note"


def test_fines_are_decimal_with_bearer_rules(desk_world):
    t = f.make_ticket(desk_world["outlet"], category="work_order", reason=desk_world["reason"])
    with pytest.raises(PermissionDenied):
        service.record_fine(desk_world["agent"], t.id, version=t.version, amount="50", bearer="company")
    lead = desk_world["lead"]
    t = service.record_fine(lead, t.id, version=t.version, amount="50.00", bearer="company", agent_share="5")
    db.session.expire_all()
    t = db.session.get(Ticket, t.id)
    assert (t.fine_amount, t.fine_bearer, t.fine_agent_share) == (Decimal("50.00"), "company", Decimal("5.00"))
    t = service.record_fine(lead, t.id, version=t.version, amount="20", bearer="agent")
    assert t.fine_agent_share == Decimal("20.00")
    for bad in [dict(amount="10", bearer="company", agent_share="10.01"),
                dict(amount="10", bearer="outlet", agent_share="1"),
                dict(amount="-1", bearer="company"),
                dict(amount="abc", bearer="company"),
                dict(amount="1.005", bearer="company"),
                dict(amount="10", bearer="nobody")]:
        with pytest.raises(ValidationError):
            service.record_fine(lead, t.id, version=t.version, **bad)
    fine_events = [e for e in service.timeline(t) if e.kind == "fine"]
    assert [e.to_value for e in fine_events] == ["50.00 company 5.00", "20.00 agent 20.00"]


def test_update_details_masks_phone_in_audit(desk_world):
    t = f.make_ticket(desk_world["outlet"], category="work_order", reason=desk_world["reason"], customer_phone="13812345678")
    t = service.update_details(desk_world["agent"], t.id, version=t.version, customer_name="李女士",
                               customer_phone="13987654321", description="改约明天", priority="high")
    assert t.priority == "high" and t.customer_phone == "13987654321"
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "ticket.edit"))
    assert audit.after["customer_phone"] == "139****4321"


def test_mask_phone():
    assert service.mask_phone("13812345678") == "138****5678"
    assert service.mask_phone("0571-8888") == "*******88"
    assert service.mask_phone("") == ""


# -- optimistic locking -------------------------------------------------------

def test_stale_version_is_refused(desk_world):
    t = f.make_ticket(desk_world["outlet"], category="work_order", reason=desk_world["reason"])
    seen = t.version
    service.change_status(desk_world["agent"], t.id, "in_progress", version=seen)
    with pytest.raises(StaleEdit):
        service.change_status(desk_world["lead"], t.id, "replied", version=seen)
    with pytest.raises(StaleEdit):
        service.assign(desk_world["lead"], t.id, desk_world["lead"].id, version=seen)


def test_concurrent_write_between_read_and_commit_is_a_stale_edit(desk_world):
    t = f.make_ticket(desk_world["outlet"], category="work_order", reason=desk_world["reason"])
    ticket = db.session.get(Ticket, t.id)
    ticket.status = "in_progress"
    # Another transaction commits first (same row, version moves on).
    with db.engine.begin() as other:
        other.execute(update(Ticket.__table__).where(Ticket.__table__.c.id == t.id)
                      .values(version=Ticket.__table__.c.version + 1))
    with pytest.raises(StaleEdit):
        service._commit()


# -- scope ------------------------------------------------------------------

def test_visibility_by_role(desk_world):
    agent, lead, admin, trainer = desk_world["agent"], desk_world["lead"], desk_world["admin"], desk_world["trainer"]
    own = f.make_ticket(desk_world["outlet"])
    other_agent = f.make_user("agent")  # no team
    foreign_outlet = f.make_outlet(brand=desk_world["brand"], agent=other_agent)
    foreign = f.make_ticket(foreign_outlet)
    assigned_to_agent = f.make_ticket(foreign_outlet, assignee=agent)
    teammate = f.make_user("agent", team=desk_world["team"])
    team_outlet = f.make_outlet(brand=desk_world["brand"], agent=teammate)
    team_ticket = f.make_ticket(team_outlet)

    def ids(user):
        return set(db.session.scalars(service.visible_tickets_query(user).with_only_columns(Ticket.id)))

    assert ids(agent) == {own.id, assigned_to_agent.id}
    assert ids(lead) == {own.id, assigned_to_agent.id, team_ticket.id}
    assert ids(admin) == {own.id, foreign.id, assigned_to_agent.id, team_ticket.id}
    assert ids(trainer) == set()
    assert service.get_visible_ticket(agent, foreign.id) is None
    assert service.get_visible_ticket(agent, own.id).id == own.id
    with pytest.raises(TicketNotFound):
        service.change_status(agent, foreign.id, "in_progress", version=None)
    with pytest.raises(TicketNotFound):
        service.add_note(agent, foreign.id, "偷看")
    with pytest.raises(PermissionDenied):
        service.add_note(trainer, own.id, "培训师")
    desk_world["agent"].is_active_account = False
    db.session.commit()
    assert ids(desk_world["agent"]) == set()


def test_lead_without_team_sees_nothing(desk_world):
    f.make_ticket(desk_world["outlet"])
    lonely = f.make_user("lead")
    assert db.session.scalars(service.visible_tickets_query(lonely)).all() == []


# -- assignment -------------------------------------------------------------

def test_assignment_rules(desk_world):
    t = f.make_ticket(desk_world["outlet"], assignee=None)
    agent, lead, admin = desk_world["agent"], desk_world["lead"], desk_world["admin"]
    teammate = f.make_user("agent", team=desk_world["team"])
    outsider = f.make_user("agent")
    inactive = f.make_user("agent", team=desk_world["team"], active=False)
    # An agent may only take it.
    with pytest.raises(ValidationError):
        service.assign(agent, t.id, teammate.id, version=t.version)
    t = service.assign(agent, t.id, agent.id, version=t.version)
    assert t.assignee_id == agent.id
    # A lead within the team only; never to inactive users or trainers.
    with pytest.raises(ValidationError):
        service.assign(lead, t.id, outsider.id, version=t.version)
    with pytest.raises(ValidationError):
        service.assign(lead, t.id, inactive.id, version=t.version)
    with pytest.raises(ValidationError):
        service.assign(admin, t.id, desk_world["trainer"].id, version=t.version)
    t = service.assign(lead, t.id, teammate.id, version=t.version, note="休假交接")
    assert t.assignee_id == teammate.id
    with pytest.raises(ValidationError):
        service.assign(lead, t.id, teammate.id, version=t.version)  # already theirs
    t = service.assign(admin, t.id, outsider.id, version=t.version)
    event = service.timeline(t)[-1]
    assert (event.kind, event.to_value) == ("assign", outsider.display_name)
    assert {u.id for u in service.assignable_users(lead)} == {lead.id, agent.id, teammate.id}
    assert [u.id for u in service.assignable_users(agent)] == [agent.id]
    assert service.assignable_users(desk_world["trainer"]) == []


# -- bulk --------------------------------------------------------------------

def test_bulk_reports_each_row(desk_world):
    lead = desk_world["lead"]
    a = f.make_ticket(desk_world["outlet"])
    b = f.make_ticket(desk_world["outlet"], status="closed")
    c = f.make_ticket(desk_world["outlet"])
    foreign = f.make_ticket(f.make_outlet(agent=f.make_user("agent")))
    service.change_status(desk_world["agent"], c.id, "in_progress", version=c.version)
    results = service.bulk_apply(lead, [a.id, b.id, c.id, foreign.id, a.id], "status", to_status="in_progress",
                                 versions={c.id: 1})
    by_id = {r.ticket_id: r for r in results}
    assert len(results) == 4
    assert by_id[a.id].changed and not by_id[a.id].message
    assert not by_id[b.id].changed and by_id[b.id].message
    assert not by_id[c.id].changed  # stale: the table showed version 1
    assert not by_id[foreign.id].changed
    db.session.expire_all()
    assert db.session.get(Ticket, a.id).status == "in_progress"

    teammate = f.make_user("agent", team=desk_world["team"])
    results = service.bulk_apply(lead, [a.id, c.id], "assign", assignee_id=teammate.id)
    assert all(r.changed for r in results)
    results = service.bulk_apply(lead, [a.id], "close", note="批量结案")
    assert results[0].changed
    with pytest.raises(PermissionDenied):
        service.bulk_apply(desk_world["agent"], [a.id], "close", note="x")
    with pytest.raises(ValidationError):
        service.bulk_apply(lead, [], "close")


# -- queue helpers -----------------------------------------------------------

def test_queue_order_overdue_filters_and_summary(desk_world):
    now = utcnow()
    late = f.make_ticket(desk_world["outlet"], registered_at=now - timedelta(hours=3))  # reply due 1h ago
    soon = f.make_ticket(desk_world["outlet"], registered_at=now - timedelta(minutes=100))  # due in 20 min
    later = f.make_ticket(desk_world["outlet"], registered_at=now)
    waiting = f.make_ticket(desk_world["outlet"], category="message", status="replied",
                            first_replied_at=now, resolved_at=now)
    closed = f.make_ticket(desk_world["outlet"], status="closed", closed_at=now)
    query = service.order_by_deadline(service.visible_tickets_query(desk_world["agent"]))
    ordered = db.session.scalars(query.with_only_columns(Ticket.id)).all()
    assert ordered == [late.id, soon.id, later.id, waiting.id, closed.id]
    open_ids = db.session.scalars(service.order_by_deadline(
        select(Ticket.id).where(service.open_clause()))).all()
    assert closed.id not in open_ids and waiting.id in open_ids
    assert db.session.scalars(select(Ticket.id).where(service.overdue_clause(now))).all() == [late.id]
    assert db.session.scalars(select(Ticket.id).where(
        service.due_within_clause(timedelta(hours=1), now))).all() == [soon.id]
    assert [service.deadline_state(t, now) for t in (late, soon, later, waiting, closed)] == \
        ["overdue", "due_soon", "normal", "none", "none"]
    summary = service.queue_summary(service.visible_tickets_query(desk_world["agent"]), now)
    assert summary["problem"] == {"open": 3, "overdue": 1}
    assert summary["message"] == {"open": 1, "overdue": 0}
    assert summary["arbitration"] == {"open": 0, "overdue": 0}


def test_waybill_search_exact_and_prefix(desk_world):
    outlet = desk_world["outlet"]
    for waybill in ["YT1234567890123", "YT1234567890999", "YT1299999999999", "YT9000000000000",
                    "75121488724296", "YZ0000000000000"]:
        f.make_ticket(outlet, waybill_no=waybill)

    def found(clause):
        return sorted(db.session.scalars(select(Ticket.waybill_no).where(clause)))

    assert found(service.waybill_prefix_clause("yt12")) == ["YT1234567890123", "YT1234567890999", "YT1299999999999"]
    assert found(service.waybill_prefix_clause("YT1234567890")) == ["YT1234567890123", "YT1234567890999"]
    assert found(service.waybill_prefix_clause("YZ")) == ["YZ0000000000000"]
    assert found(service.waybill_prefix_clause("Y")) == ["YT1234567890123", "YT1234567890999",
                                                         "YT1299999999999", "YT9000000000000", "YZ0000000000000"]
    assert found(service.waybill_prefix_clause("ZZ")) == []
    assert found(service.waybill_prefix_clause("YT%")) == []
    assert found(service.waybill_search_clause("75121488724296")) == ["75121488724296"]
    assert service._prefix_successor("YT19") == "YT1A"
    assert service._prefix_successor("YZ") == "Z"
    assert service._prefix_successor("ZZ") is None


def test_waybill_hints_per_brand():
    assert service.waybill_matches_brand("ZTO", "75121488724296") is True
    assert service.waybill_matches_brand("JT", "JT2099306666983") is True
    assert service.waybill_matches_brand("YTO", "JT2099306666983") is False
    assert service.waybill_matches_brand("SF", "SF1234567890") is None
    assert service.waybill_error("SF1234567890") is None


def test_queue_and_waybill_queries_use_indexes_on_sqlite(desk_world):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")

    def plan(query) -> str:
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        return " | ".join(row[-1] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))

    mine = service.order_by_deadline(select(Ticket.id).where(
        Ticket.assignee_id == 5, service.open_clause())).limit(50)
    assert "ix_tickets_assignee_queue" in plan(mine) and "TEMP B-TREE" not in plan(mine)
    everything = service.order_by_deadline(select(Ticket.id).where(service.open_clause())).limit(50)
    assert "ix_tickets_queue" in plan(everything) and "TEMP B-TREE" not in plan(everything)
    by_waybill = select(Ticket.id).where(service.waybill_prefix_clause("YT12"))
    # The unique (waybill_no, outlet_id, category, reason_id) index (sqlite_autoindex_* on SQLite).
    assert "INDEX" in plan(by_waybill) and "waybill_no>? AND waybill_no<?" in plan(by_waybill)
    overdue = select(Ticket.id).where(Ticket.outlet_id == 3, service.overdue_clause())
    assert "ix_tickets_outlet_queue" in plan(overdue)


def test_bulk_assign_checks_the_assignee_once_and_answers_each_row_as_one_by_one(desk_world):
    """The assignee is checked once per batch; each row still gets what assigning it alone would
    answer: a ticket outside the scope "not found", a stale one "changed", a visible one the
    assignee's refusal; a batch of allowed rows assigns them all (each committed alone)."""
    lead = desk_world["lead"]
    a = f.make_ticket(desk_world["outlet"])
    stale = f.make_ticket(desk_world["outlet"])
    foreign = f.make_ticket(f.make_outlet(agent=f.make_user("agent")))
    outsider = f.make_user("agent")  # not in the lead's team
    expected = {}
    for ticket_id, version in ((a.id, None), (stale.id, 99), (foreign.id, None)):
        try:
            service.assign(lead, ticket_id, outsider.id, version=version)
        except (ValidationError, StaleEdit, TicketNotFound) as error:
            expected[ticket_id] = type(error)
        db.session.rollback()
    assert expected == {a.id: ValidationError, stale.id: StaleEdit, foreign.id: TicketNotFound}
    results = service.bulk_apply(lead, [a.id, stale.id, foreign.id], "assign", assignee_id=outsider.id,
                                 versions={stale.id: 99})
    messages = {r.ticket_id: r.message for r in results}
    assert not any(r.changed for r in results)
    assert messages[a.id] == "组长只能在本组内分配工单。"
    assert messages[stale.id] == "该工单已被他人修改，请刷新后重试。"
    assert messages[foreign.id] == "工单不存在。"
    teammate = f.make_user("agent", team=desk_world["team"])
    results = service.bulk_apply(lead, [a.id, stale.id], "assign", assignee_id=teammate.id)
    assert [r.changed for r in results] == [True, True]
    db.session.expire_all()
    assert {db.session.get(Ticket, t.id).assignee_id for t in (a, stale)} == {teammate.id}
