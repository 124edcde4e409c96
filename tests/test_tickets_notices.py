"""Ticket notices: assignment, fine, reopen (to whoever serves the ticket) and the deadline escalation
(frozen clock: each notice once, also with two workers at once)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kdcs import tasks
from kdcs.extensions import db
from kdcs.models import Notification, TicketNotice, TicketStatus
from kdcs.tickets import notices, service
from tests import factories
from tests.leave_data import make_leave

NOW = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, a Tuesday


def inbox(user) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def notice_count() -> int:
    return db.session.scalar(select(func.count(TicketNotice.id)))


@pytest.fixture
def desk(users):
    """The agent's outlet, a teammate, and a ticket of the agent registered at ``NOW`` - 1 h."""
    mate = factories.make_user("agent", username="agent_mate", team=users.team, display_name="李娜")
    outlet = factories.make_outlet(agent=users.agent, name="中通良渚网点")
    return dict(users=users, mate=mate, outlet=outlet)


def ticket_due(desk, reply_in: int, resolve_in: int = 24 * 60, **fields):
    """A ticket of the agent whose reply is due ``reply_in`` minutes after NOW."""
    registered = NOW - timedelta(minutes=60)
    return factories.make_ticket(desk["outlet"], registered_at=registered, reply_minutes=60 + reply_in,
                                 resolve_minutes=60 + resolve_in, **fields)


# --------------------------------------------------------------------------- assign / fine / reopen


def test_reassign_tells_the_new_and_the_previous_assignee_not_the_actor(desk):
    users = desk["users"]
    ticket = factories.make_ticket(desk["outlet"])
    service.assign(users.lead, ticket.id, desk["mate"].id, version=ticket.version)
    [to_new] = inbox(desk["mate"])
    [to_old] = inbox(users.agent)
    assert to_new.link == f"/tickets/{ticket.id}" and ticket.waybill_no in to_new.title
    assert "李娜" in to_old.title and to_old.link == f"/tickets/{ticket.id}"
    assert inbox(users.lead) == []


def test_taking_a_ticket_yourself_tells_only_the_one_it_was_taken_from(desk):
    agent = desk["users"].agent
    ticket = factories.make_ticket(desk["outlet"], assignee=desk["mate"])
    service.assign(agent, ticket.id, agent.id, version=ticket.version)  # the outlet's agent takes it back
    assert inbox(agent) == []
    assert len(inbox(desk["mate"])) == 1


def test_assigning_to_someone_on_leave_tells_their_substitute(desk):
    users = desk["users"]
    cover = factories.make_user("agent", username="agent_cover", team=users.team)
    today = datetime.now(UTC).date()
    make_leave(users.agent, [desk["outlet"]], cover, today - timedelta(days=1), today + timedelta(days=1))
    ticket = factories.make_ticket(desk["outlet"], assignee=desk["mate"])
    service.assign(users.lead, ticket.id, users.agent.id, version=ticket.version)
    assert len(inbox(cover)) == 1 and inbox(users.agent) == [] and len(inbox(desk["mate"])) == 1


def test_a_fine_is_told_to_the_assignee_with_their_share(desk):
    users = desk["users"]
    ticket = factories.make_ticket(desk["outlet"])
    service.record_fine(users.lead, ticket.id, version=ticket.version, amount="50", bearer="company",
                        agent_share="20")
    [notice] = inbox(users.agent)
    assert ticket.waybill_no in notice.title and "50.00" in notice.body and "20.00" in notice.body


def test_a_fine_goes_to_the_substitute_while_the_assignee_is_away(desk):
    users = desk["users"]
    today = datetime.now(UTC).date()
    make_leave(users.agent, [desk["outlet"]], desk["mate"], today - timedelta(days=1), today + timedelta(days=1))
    ticket = factories.make_ticket(desk["outlet"])
    service.record_fine(users.lead, ticket.id, version=ticket.version, amount="50", bearer="agent")
    [notice] = inbox(desk["mate"])
    assert inbox(users.agent) == []
    # The substitute handles it; the fine is the away agent's (the return digest counts it for them).
    assert users.agent.display_name in notice.body and "你承担" not in notice.body


def test_reopening_tells_the_assignee_with_the_reason(desk):
    users = desk["users"]
    ticket = factories.make_ticket(desk["outlet"], status=TicketStatus.CLOSED)
    service.refresh_derived(ticket)
    db.session.commit()
    service.reopen(users.lead, ticket.id, version=ticket.version, reason="客户再次来电")
    [notice] = inbox(users.agent)
    assert "客户再次来电" in notice.body and notice.link == f"/tickets/{ticket.id}"


# --------------------------------------------------------------------------- escalation (frozen clock)


def test_the_task_is_registered_with_the_queue(app):
    from kdcs.tickets.tasks import escalate_deadlines

    assert "kdcs.tickets.tasks.escalate_deadlines" in tasks.huey._registry._registry
    runs_at = escalate_deadlines.s().validate_datetime
    assert sum(runs_at(datetime(2026, 11, 23, 3, m)) for m in range(60)) == 60


def test_due_soon_goes_to_the_assignee_once_even_when_run_twice(desk):
    users = desk["users"]
    soon = ticket_due(desk, reply_in=20)
    ticket_due(desk, reply_in=45)  # outside the 30 minutes
    assert notices.escalate(NOW)[notices.DUE_SOON] == 1
    assert notices.escalate(NOW + timedelta(minutes=1))[notices.DUE_SOON] == 0
    [notice] = inbox(users.agent)
    assert soon.waybill_no in notice.title and "10:20" in notice.title and notice.link == f"/tickets/{soon.id}"


def test_the_reminder_lead_time_is_configurable(app, desk):
    ticket_due(desk, reply_in=45)
    app.config["KDCS_REPLY_REMINDER_MINUTES"] = 60
    try:
        assert notices.escalate(NOW)[notices.DUE_SOON] == 1
    finally:
        app.config.pop("KDCS_REPLY_REMINDER_MINUTES")


def test_overdue_goes_to_the_assignees_lead_once_per_deadline(desk):
    users = desk["users"]
    late = ticket_due(desk, reply_in=-5)
    assert notices.escalate(NOW) == {notices.DUE_SOON: 0, notices.REPLY_OVERDUE: 1, notices.RESOLVE_OVERDUE: 0}
    assert notices.escalate(NOW + timedelta(hours=2))[notices.REPLY_OVERDUE] == 0
    [notice] = inbox(users.lead)
    assert late.waybill_no in notice.title and inbox(users.agent) == []
    # A new deadline (e.g. reopened) is a new threshold: one more notice.
    late.reply_due_at = NOW + timedelta(minutes=10)
    service.refresh_derived(late)
    db.session.commit()
    assert notices.escalate(NOW + timedelta(minutes=11))[notices.REPLY_OVERDUE] == 1
    assert len(inbox(users.lead)) == 2


def test_replied_closed_and_resolved_tickets_are_not_escalated(desk):
    ticket_due(desk, reply_in=-5, first_replied_at=NOW - timedelta(minutes=30))
    ticket_due(desk, reply_in=-5, status=TicketStatus.CLOSED)
    assert notices.escalate(NOW) == {notices.DUE_SOON: 0, notices.REPLY_OVERDUE: 0, notices.RESOLVE_OVERDUE: 0}


def test_resolution_overdue_goes_to_the_lead(desk):
    ticket_due(desk, reply_in=-120, resolve_in=-1, first_replied_at=NOW - timedelta(minutes=50))
    assert notices.escalate(NOW)[notices.RESOLVE_OVERDUE] == 1
    assert len(inbox(desk["users"].lead)) == 1


def test_due_soon_goes_to_the_substitute_while_the_assignee_is_away(desk):
    users = desk["users"]
    make_leave(users.agent, [desk["outlet"]], desk["mate"], date(2026, 11, 9), date(2026, 11, 11))
    ticket_due(desk, reply_in=10)
    notices.escalate(NOW)
    assert len(inbox(desk["mate"])) == 1 and inbox(users.agent) == []


def test_a_notice_with_nobody_to_tell_is_marked_and_not_retried(desk):
    ticket_due(desk, reply_in=-5, assignee=None)
    assert notices.escalate(NOW)[notices.REPLY_OVERDUE] == 0
    assert notice_count() == 1
    notices.escalate(NOW)
    assert notice_count() == 1


def test_claim_is_true_once(desk):
    ticket = ticket_due(desk, reply_in=10)
    assert notices.claim(ticket.id, notices.DUE_SOON, ticket.reply_due_at, NOW) is True
    db.session.commit()
    assert notices.claim(ticket.id, notices.DUE_SOON, ticket.reply_due_at, NOW) is False
    db.session.rollback()


def test_two_workers_at_once_send_one_notice(app, desk, monkeypatch):
    """Both workers read the same candidates before either claims: the marker lets one through."""
    users = desk["users"]
    ticket_due(desk, reply_in=-5)
    barrier = threading.Barrier(2, timeout=20)
    real_claim = notices.claim

    def claim_after_both_read(*args):
        barrier.wait()
        return real_claim(*args)

    monkeypatch.setattr(notices, "claim", claim_after_both_read)
    results, errors = [], []

    def worker():
        try:
            with app.app_context():
                results.append(notices.escalate(NOW)[notices.REPLY_OVERDUE])
                db.session.remove()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sorted(results) == [0, 1]
    assert len(inbox(users.lead)) == 1 and notice_count() == 1


# --------------------------------------------------------------------------- a real worker


@pytest.fixture
def consumer(app, tmp_path, monkeypatch):
    """Huey switched to a SqliteHuey file with a consumer thread; immediate mode again afterwards."""
    import signal

    saved_signals = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    monkeypatch.setattr(tasks, "_app", app)
    original = (tasks.huey.storage_class, dict(tasks.huey.storage_kwargs))
    tasks.use_storage_of(tasks.make_huey("", str(tmp_path)))
    tasks.huey.immediate = False
    worker = tasks.huey.create_consumer(workers=2, worker_type="thread", periodic=False,
                                        initial_delay=0.05, max_delay=0.2, check_worker_health=False)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop(graceful=True)
        tasks.huey.immediate = True
        tasks.huey.storage_class, tasks.huey.storage_kwargs = original
        for sig, handler in saved_signals.items():
            signal.signal(sig, handler)


def test_escalation_through_a_real_worker_notifies_once(desk, consumer):
    import time

    from kdcs.tickets.tasks import escalate_deadlines

    assert not tasks.huey.immediate
    users = desk["users"]
    ticket_due(desk, reply_in=-5)
    for _ in range(3):  # three runs queued, two worker threads (a periodic task stores no result)
        escalate_deadlines(NOW)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (len(tasks.huey) or not inbox(users.lead)):
        time.sleep(0.1)
    time.sleep(0.5)  # a late duplicate would have landed by now
    assert len(tasks.huey) == 0
    assert len(inbox(users.lead)) == 1 and notice_count() == 1


def test_deadlines_missed_long_ago_send_no_notice(desk):
    """A first run (or a worker down for days) does not flood the lead: only deadlines of the last 24 h."""
    ticket_due(desk, reply_in=-25 * 60, resolve_in=-25 * 60 + 10)
    assert notices.escalate(NOW) == {notices.DUE_SOON: 0, notices.REPLY_OVERDUE: 0, notices.RESOLVE_OVERDUE: 0}
    assert inbox(desk["users"].lead) == []


def test_a_newly_missed_resolution_is_noticed_although_the_reply_was_missed_long_ago(desk):
    ticket_due(desk, reply_in=-25 * 60, resolve_in=-10)  # due_at (the earlier deadline) is 25 h old
    assert notices.escalate(NOW) == {notices.DUE_SOON: 0, notices.REPLY_OVERDUE: 0, notices.RESOLVE_OVERDUE: 1}
