"""The leave task: starts and ends by the dates, notices and the return digest, each once."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kdcs.extensions import db
from kdcs.leave import tasks
from kdcs.leave.digest import build_digest, hand_back
from kdcs.models import EventKind, LeaveStatus, Notification, Ticket, TicketEvent
from tests import factories
from tests.leave_data import beijing, make_leave

DAY = date(2026, 10, 12)


@pytest.fixture
def away(users):
    brand = factories.make_brand("ZTO", "中通")
    owner = users["agent"]
    sub = factories.make_user("agent", username="agent_sub", team=users["team"], display_name="李娜")
    outlet = factories.make_outlet(brand, owner, code="ZTO571101", name="良渚网点")
    other = factories.make_outlet(brand, owner, code="ZTO571102", name="仁和网点")
    reason = factories.make_reason("problem", "地址不详")
    return {"owner": owner, "sub": sub, "outlet": outlet, "other": other, "reason": reason, "lead": users["lead"]}


def _notes(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def test_the_task_is_registered_and_runs_every_five_minutes(app):
    from datetime import datetime

    from kdcs.tasks import huey

    assert "kdcs.leave.tasks.leave_tick" in huey._registry._registry
    runs_at = tasks.leave_tick.s().validate_datetime
    assert sum(runs_at(datetime(2026, 11, 23, 3, m)) for m in range(60)) == 12


def test_start_then_end_then_digest_each_once(away):
    leave = make_leave(away["owner"], [away["outlet"]], away["sub"], DAY, DAY + timedelta(days=1),
                       approver=away["lead"])
    assert tasks.run(beijing(DAY) - timedelta(minutes=1)) == {"started": 0, "returned": 0, "digests": 0}

    first = beijing(DAY, 0, 5)
    assert tasks.run(first) == {"started": 1, "returned": 0, "digests": 0}
    db.session.refresh(leave)
    assert leave.status == LeaveStatus.IN_PROGRESS and leave.start_notice_sent_at is not None
    assert len(_notes(away["sub"])) == 1 and "良渚网点" in _notes(away["sub"])[0].body
    assert len(_notes(away["owner"])) == 1
    assert tasks.run(first + timedelta(minutes=5))["started"] == 0  # nothing twice
    assert len(_notes(away["sub"])) == 1

    # A ticket created during the leave went to the substitute; another one the substitute worked.
    during = factories.make_ticket(away["outlet"], reason=away["reason"], assignee=away["sub"],
                                   registered_at=beijing(DAY, 9), created_at=beijing(DAY, 9))
    worked = factories.make_ticket(away["outlet"], reason=away["reason"], registered_at=beijing(DAY, 8))
    db.session.add(TicketEvent(ticket_id=worked.id, actor_id=away["sub"].id, kind=EventKind.NOTE, body="已联系",
                               at=beijing(DAY, 10)))
    db.session.commit()

    end = beijing(DAY + timedelta(days=2), 0, 5)
    assert tasks.run(end) == {"started": 0, "returned": 1, "digests": 1}
    db.session.refresh(leave)
    assert leave.status == LeaveStatus.RETURNED and leave.digest_sent_at is not None
    assert leave.returned_at == beijing(DAY + timedelta(days=2))  # on time: the end, not the task's minute
    digest_note = _notes(away["owner"])[-1]
    assert digest_note.link == f"/leave/{leave.id}/digest"
    assert db.session.get(Ticket, during.id).assignee_id == away["owner"].id  # handed back
    assert db.session.get(Ticket, worked.id).assignee_id == away["owner"].id  # never moved
    assert db.session.scalar(select(func.count()).select_from(TicketEvent).where(
        TicketEvent.ticket_id == worked.id, TicketEvent.actor_id == away["sub"].id)) == 1  # history kept
    before = len(_notes(away["owner"]))
    assert tasks.run(end + timedelta(minutes=5)) == {"started": 0, "returned": 0, "digests": 0}
    assert len(_notes(away["owner"])) == before


def test_a_leave_noticed_after_its_end_is_returned_without_a_start_notice(away):
    leave = make_leave(away["owner"], [away["outlet"]], away["sub"], DAY, DAY)
    assert tasks.run(beijing(DAY + timedelta(days=3))) == {"started": 1, "returned": 1, "digests": 1}
    db.session.refresh(leave)
    assert leave.status == LeaveStatus.RETURNED
    assert leave.start_notice_sent_at is not None
    assert not any("良渚网点" in n.body for n in _notes(away["sub"]))  # no "coverage starts" for the past


@pytest.mark.parametrize("status", [LeaveStatus.CANCELLED, LeaveStatus.REJECTED, LeaveStatus.SUBMITTED])
def test_requests_not_approved_are_left_alone(away, status):
    leave = make_leave(away["owner"], [away["outlet"]], away["sub"], DAY, DAY, status=status)
    assert tasks.run(beijing(DAY + timedelta(days=3))) == {"started": 0, "returned": 0, "digests": 0}
    db.session.refresh(leave)
    assert leave.status == status and _notes(away["owner"]) == []


def test_an_early_return_gets_its_digest_on_the_next_run(away):
    back = beijing(DAY, 15)
    make_leave(away["owner"], [away["outlet"]], away["sub"], DAY, DAY + timedelta(days=4),
               status=LeaveStatus.RETURNED, returned_at=back)
    late = factories.make_ticket(away["outlet"], reason=away["reason"], assignee=away["sub"],
                                 registered_at=beijing(DAY, 16), created_at=beijing(DAY, 16))
    assert tasks.run(beijing(DAY, 15, 5))["digests"] == 1
    assert db.session.get(Ticket, late.id).assignee_id == away["sub"].id  # created after the return: kept


def test_digest_counts_what_happened_inside_the_window(away):
    leave = make_leave(away["owner"], [away["outlet"], away["other"]], away["sub"], DAY, DAY + timedelta(days=1))
    inside, before, after = beijing(DAY, 10), beijing(DAY) - timedelta(hours=1), beijing(DAY + timedelta(days=3))
    opened = factories.make_ticket(away["outlet"], reason=away["reason"], registered_at=inside, created_at=inside,
                                   first_replied_at=inside + timedelta(minutes=5))
    factories.make_ticket(away["outlet"], reason=away["reason"], registered_at=before, created_at=before,
                          status="closed", closed_at=inside, resolved_at=inside)
    factories.make_ticket(away["other"], reason=away["reason"], registered_at=after, created_at=after)
    db.session.add(TicketEvent(ticket_id=opened.id, actor_id=away["sub"].id, kind=EventKind.FINE, body="罚款",
                               at=inside))
    opened.fine_amount = Decimal("50")
    db.session.commit()
    digest = build_digest(leave, beijing(DAY + timedelta(days=4)))
    by_outlet = {o.outlet.id: o for o in digest.outlets}
    first = by_outlet[away["outlet"].id]
    assert (first.opened, first.replied, first.closed, first.fined, first.by_substitute, first.open_now) == (
        1, 1, 1, 1, 1, 1)
    assert [t.id for t in first.open_tickets] == [opened.id]
    second = by_outlet[away["other"].id]
    assert (second.opened, second.open_now) == (0, 1)
    assert digest.totals["opened"] == 1 and digest.totals["open_now"] == 2


def test_hand_back_leaves_other_outlets_and_closed_tickets(away):
    leave = make_leave(away["owner"], [away["outlet"]], away["sub"], DAY, DAY)
    inside = beijing(DAY, 10)
    closed = factories.make_ticket(away["outlet"], reason=away["reason"], assignee=away["sub"], status="closed",
                                   closed_at=inside, resolved_at=inside, registered_at=inside, created_at=inside)
    subs_own = factories.make_outlet(away["outlet"].brand, away["sub"], code="ZTO571109")
    theirs = factories.make_ticket(subs_own, reason=away["reason"], registered_at=inside, created_at=inside)
    assert hand_back(leave, beijing(DAY + timedelta(days=1))) == 0
    db.session.commit()
    assert db.session.get(Ticket, closed.id).assignee_id == away["sub"].id
    assert db.session.get(Ticket, theirs.id).assignee_id == away["sub"].id


def test_hand_back_includes_a_ticket_written_as_the_leave_ended(away):
    """An import committing in the leave's last moments lands with the substitute; the return gives it back."""
    leave = make_leave(away["owner"], [away["outlet"]], away["sub"], DAY, DAY)
    _start, end = beijing(DAY, 0), beijing(DAY + timedelta(days=1), 0)
    late = factories.make_ticket(away["outlet"], reason=away["reason"], assignee=away["sub"],
                                 registered_at=end - timedelta(minutes=1), created_at=end + timedelta(milliseconds=400))
    assert hand_back(leave, end + timedelta(minutes=5)) == 1
    db.session.commit()
    assert db.session.get(Ticket, late.id).assignee_id == away["owner"].id
