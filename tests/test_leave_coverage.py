"""Coverage during leave (代班): who serves an outlet at an instant, and what the ticket desk does with it.

The date edges (issue 12): across midnight, a half-day start, an early return, a cancelled
leave, a leave that starts on a holiday — no ticket is dropped from both queues or shown
twice in one.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from kdcs.extensions import db
from kdcs.leave import coverage
from kdcs.models import LeaveStatus, Ticket, utcnow
from kdcs.tickets import queue, service
from kdcs.tickets.service import TicketNotFound
from tests import factories
from tests.leave_data import beijing, make_leave

DAY = date(2026, 10, 12)  # a Monday
SECOND = timedelta(seconds=1)


@pytest.fixture
def desk(users):
    """agent_a (owner, 两个网点) goes on leave; 李娜 (same team) covers; 郑洋 of another team is a bystander."""
    brand = factories.make_brand("ZTO", "中通")
    owner = users["agent"]
    sub = factories.make_user("agent", username="agent_sub", team=users["team"], display_name="李娜")
    far = factories.make_user("agent", username="agent_far", display_name="郑洋")
    own1 = factories.make_outlet(brand, owner, code="ZTO571101", name="良渚网点")
    own2 = factories.make_outlet(brand, owner, code="ZTO571102", name="仁和网点")
    subs_own = factories.make_outlet(brand, sub, code="ZTO571103", name="瓶窑网点")
    reason = factories.make_reason("problem", "地址不详")
    factories.make_rule("problem", reply_minutes=120, resolve_minutes=1440)
    tickets = [factories.make_ticket(o, reason=reason) for o in (own1, own1, own2, subs_own)]
    return {"owner": owner, "sub": sub, "far": far, "own1": own1, "own2": own2, "subs_own": subs_own,
            "reason": reason, "tickets": tickets, "lead": users["lead"], **{"brand": brand}}


def _mine(user, at) -> list[int]:
    f = queue.QueueFilter(scope="mine", status="all")
    return [t.id for t in queue.page_of(user, f, at, per_page=500).items]


def _check_nothing_dropped_or_twice(d, at, expect_covered: bool) -> None:
    owner_ids, sub_ids = _mine(d["owner"], at), _mine(d["sub"], at)
    assert len(owner_ids) == len(set(owner_ids)) and len(sub_ids) == len(set(sub_ids))  # never twice
    owners = {t.id for t in d["tickets"] if t.outlet_id in (d["own1"].id, d["own2"].id)}
    assert owners <= set(owner_ids)  # the owner's assignment is never rewritten: nothing dropped
    assert (owners <= set(sub_ids)) is expect_covered
    if not expect_covered:
        assert not owners & set(sub_ids)


# --------------------------------------------------------------------------- who serves an outlet


def test_coverage_holds_exactly_inside_the_window(desk):
    make_leave(desk["owner"], [desk["own1"], desk["own2"]], desk["sub"], DAY, DAY + timedelta(days=2))
    start, end = beijing(DAY), beijing(DAY + timedelta(days=3))
    for at, covered in ((start - SECOND, False), (start, True), (end - SECOND, True), (end, False)):
        assert (coverage.covering_substitute(desk["own1"].id, at) == desk["sub"]) is covered, at
        assert coverage.covered_outlet_ids(desk["sub"], at) == (
            sorted([desk["own1"].id, desk["own2"].id]) if covered else [])
        assert coverage.is_away(desk["owner"], at) is covered
    assert coverage.covered_owners(desk["sub"].id, start) == {desk["own1"].id: desk["owner"].display_name,
                                                              desk["own2"].id: desk["owner"].display_name}
    assert coverage.covering_substitute(desk["subs_own"].id, start) is None
    assert coverage.substitutes_by_outlet(start) == {desk["own1"].id: (desk["sub"].id, desk["owner"].id),
                                                     desk["own2"].id: (desk["sub"].id, desk["owner"].id)}


@pytest.mark.parametrize("status", [LeaveStatus.DRAFT, LeaveStatus.SUBMITTED, LeaveStatus.SUBSTITUTE_ACCEPTED,
                                    LeaveStatus.REJECTED, LeaveStatus.CANCELLED])
def test_only_an_approved_leave_covers(desk, status):
    make_leave(desk["owner"], [desk["own1"]], desk["sub"], DAY, DAY, status=status)
    assert coverage.covering_substitute(desk["own1"].id, beijing(DAY, 10)) is None
    assert coverage.covered_outlet_ids(desk["sub"], beijing(DAY, 10)) == []


def test_a_declined_handover_or_a_reassigned_outlet_is_not_covered(desk):
    make_leave(desk["owner"], [desk["own1"]], desk["sub"], DAY, DAY, answer="declined")
    assert coverage.covering_substitute(desk["own1"].id, beijing(DAY, 10)) is None
    make_leave(desk["owner"], [desk["own2"]], desk["sub"], DAY, DAY)
    desk["own2"].primary_agent_id = desk["far"].id  # the outlet moved to someone else meanwhile
    db.session.commit()
    assert coverage.covering_substitute(desk["own2"].id, beijing(DAY, 10)) is None


def test_coverage_for_a_period_cuts_at_an_early_return(desk):
    back = beijing(DAY + timedelta(days=1), 9)
    leave = make_leave(desk["owner"], [desk["own1"]], desk["sub"], DAY, DAY + timedelta(days=4),
                       status=LeaveStatus.RETURNED, returned_at=back)
    rows = coverage.coverage_for(beijing(DAY - timedelta(days=7)), beijing(DAY + timedelta(days=7)))
    assert [(r.request_id, r.outlet_id, r.substitute_id, r.end_at) for r in rows] == [
        (leave.id, desk["own1"].id, desk["sub"].id, back)]
    assert coverage.coverage_for(beijing(DAY + timedelta(days=2)), beijing(DAY + timedelta(days=3))) == []
    assert coverage.coverage_for(beijing(DAY - timedelta(days=7)), beijing(DAY), substitute_id=desk["far"].id) == []


# --------------------------------------------------------------------------- the queue (date edges)


def test_across_midnight_the_queue_switches_at_beijing_midnight(desk):
    make_leave(desk["owner"], [desk["own1"], desk["own2"]], desk["sub"], DAY, DAY)
    _check_nothing_dropped_or_twice(desk, beijing(DAY) - SECOND, expect_covered=False)
    _check_nothing_dropped_or_twice(desk, beijing(DAY), expect_covered=True)
    _check_nothing_dropped_or_twice(desk, beijing(DAY + timedelta(days=1)) - SECOND, expect_covered=True)
    _check_nothing_dropped_or_twice(desk, beijing(DAY + timedelta(days=1)), expect_covered=False)


def test_a_half_day_start_covers_from_noon_and_an_am_end_until_noon(desk):
    make_leave(desk["owner"], [desk["own1"], desk["own2"]], desk["sub"], DAY, DAY + timedelta(days=1),
               start_part="pm", end_part="am")
    _check_nothing_dropped_or_twice(desk, beijing(DAY, 11, 59), expect_covered=False)
    _check_nothing_dropped_or_twice(desk, beijing(DAY, 12), expect_covered=True)
    _check_nothing_dropped_or_twice(desk, beijing(DAY + timedelta(days=1), 11, 59), expect_covered=True)
    _check_nothing_dropped_or_twice(desk, beijing(DAY + timedelta(days=1), 12), expect_covered=False)


def test_an_early_return_gives_the_queue_back_at_once(desk):
    leave = make_leave(desk["owner"], [desk["own1"], desk["own2"]], desk["sub"], DAY, DAY + timedelta(days=4))
    back = beijing(DAY + timedelta(days=1), 15)
    _check_nothing_dropped_or_twice(desk, back - SECOND, expect_covered=True)
    leave.status, leave.returned_at = LeaveStatus.RETURNED, back
    db.session.commit()
    _check_nothing_dropped_or_twice(desk, back - SECOND, expect_covered=True)  # history still answers
    _check_nothing_dropped_or_twice(desk, back, expect_covered=False)
    _check_nothing_dropped_or_twice(desk, beijing(DAY + timedelta(days=3)), expect_covered=False)


def test_a_cancelled_leave_covers_nothing(desk):
    leave = make_leave(desk["owner"], [desk["own1"], desk["own2"]], desk["sub"], DAY, DAY + timedelta(days=2))
    leave.status, leave.cancelled_at = LeaveStatus.CANCELLED, beijing(DAY - timedelta(days=1))
    db.session.commit()
    for at in (beijing(DAY), beijing(DAY, 12), beijing(DAY + timedelta(days=2), 23, 59)):
        _check_nothing_dropped_or_twice(desk, at, expect_covered=False)


def test_a_leave_starting_on_a_holiday_covers_from_that_day(desk):
    """2026-10-01 (国庆) is a holiday: working days are not counted there, but the outlet is covered."""
    holiday = date(2026, 10, 1)
    make_leave(desk["owner"], [desk["own1"], desk["own2"]], desk["sub"], holiday, holiday + timedelta(days=8))
    _check_nothing_dropped_or_twice(desk, beijing(holiday) - SECOND, expect_covered=False)
    _check_nothing_dropped_or_twice(desk, beijing(holiday, 9), expect_covered=True)
    _check_nothing_dropped_or_twice(desk, beijing(holiday + timedelta(days=8), 20), expect_covered=True)


def test_a_ticket_assigned_to_the_substitute_is_listed_once(desk):
    ticket = desk["tickets"][0]
    ticket.assignee_id = desk["sub"].id  # the substitute took it: assigned AND of a covered outlet
    db.session.commit()
    make_leave(desk["owner"], [desk["own1"], desk["own2"]], desk["sub"], DAY, DAY)
    ids = _mine(desk["sub"], beijing(DAY, 10))
    assert ids.count(ticket.id) == 1
    counts = queue.scope_counts(desk["sub"], "mine", beijing(DAY, 10))
    assert counts.open == len(ids)


def test_bystanders_see_nothing_new(desk):
    make_leave(desk["owner"], [desk["own1"]], desk["sub"], DAY, DAY)
    assert _mine(desk["far"], beijing(DAY, 10)) == []


# --------------------------------------------------------------------------- acting, creating, importing


def test_the_substitute_may_act_during_the_leave_only(desk, monkeypatch):
    ticket = desk["tickets"][0]
    now = {"at": beijing(DAY, 10)}
    make_leave(desk["owner"], [desk["own1"]], desk["sub"], DAY, DAY)
    real = service.visible_tickets_query
    monkeypatch.setattr(service, "visible_tickets_query", lambda user, at=None: real(user, at or now["at"]))
    service.add_note(desk["sub"], ticket.id, "已联系网点")
    changed = service.change_status(desk["sub"], ticket.id, "in_progress", version=ticket.version)
    assert changed.status == "in_progress"
    now["at"] = beijing(DAY + timedelta(days=1), 10)
    with pytest.raises(TicketNotFound):
        service.add_note(desk["sub"], ticket.id, "销假后")
    assert {e.actor_id for e in service.timeline(ticket) if e.body == "已联系网点"} == {desk["sub"].id}


def test_a_new_ticket_for_a_covered_outlet_goes_to_the_substitute(desk):
    today = utcnow().astimezone(beijing(DAY).tzinfo).date()
    common = dict(direction="inbound", category="problem", reason_id=desk["reason"].id, registered_at=utcnow())
    covered = make_leave(desk["owner"], [desk["own1"]], desk["sub"], today, today)
    t1 = service.create_ticket(desk["lead"], outlet_id=desk["own1"].id, waybill_no="751200000001", **common)
    t2 = service.create_ticket(desk["lead"], outlet_id=desk["own2"].id, waybill_no="751200000002", **common)
    assert (t1.assignee_id, t2.assignee_id) == (desk["sub"].id, desk["owner"].id)
    assert desk["own1"].primary_agent_id == desk["owner"].id  # the outlet itself is not rewritten
    covered.status = LeaveStatus.CANCELLED
    db.session.commit()
    t3 = service.create_ticket(desk["lead"], outlet_id=desk["own1"].id, waybill_no="751200000003", **common)
    assert t3.assignee_id == desk["owner"].id


def test_the_queue_marks_covered_rows_with_the_owner(client, auth, desk):
    today = utcnow().astimezone(beijing(DAY).tzinfo).date()
    make_leave(desk["owner"], [desk["own1"]], desk["sub"], today, today)
    auth.login(desk["sub"])
    html = client.get("/tickets/").get_data(as_text=True)
    own1_rows = [t.id for t in desk["tickets"] if t.outlet_id == desk["own1"].id]
    for ticket_id in own1_rows:
        row = re.search(rf'<tr id="ticket-{ticket_id}".*?</tr>', html, re.S).group(0)
        assert 'class="badge badge-warn covering"' in row and desk["owner"].display_name in row
    other = re.search(rf'<tr id="ticket-{desk["tickets"][3].id}".*?</tr>', html, re.S).group(0)
    assert "covering" not in other
    assert f'ticket-{desk["tickets"][2].id}"' not in html  # own2 was not handed over
    detail = client.get(f"/tickets/{own1_rows[0]}")
    assert detail.status_code == 200


def test_an_import_committed_during_the_leave_assigns_the_substitute(client, auth, users):
    from kdcs.tickets.reference import seed_reference_data
    from tests.test_tickets_import import SAMPLE_XLS, job_from, map_form, upload

    seed_reference_data(calendar=False)
    brand = factories.make_brand("STO", "申通")
    covered = factories.make_outlet(brand=brand, agent=users["agent"], code="STO021101", name="申通上海嘉定瓶窑网点")
    kept = factories.make_outlet(brand=brand, agent=users["agent"], code="STO020102", name="申通广州番禺城厢网点")
    sub = factories.make_user("agent", username="agent_sub", team=users["team"], display_name="李娜")
    auth.login(users["lead"])
    job = job_from(upload(client, brand, SAMPLE_XLS, "进港投诉明细.xls"))
    assert client.post(f"/tickets/import/{job.id}/map", data=map_form(job)).status_code == 303
    # The preview was checked before the leave; the leave is in force when the tickets are written.
    today = utcnow().astimezone(beijing(DAY).tzinfo).date()
    make_leave(users["agent"], [covered], sub, today, today)
    assert client.post(f"/tickets/import/{job.id}/commit").status_code == 303
    tickets = db.session.scalars(select(Ticket).where(Ticket.outlet_id.in_([covered.id, kept.id]))).all()
    by_outlet = {o: {t.assignee_id for t in tickets if t.outlet_id == o} for o in (covered.id, kept.id)}
    assert by_outlet[covered.id] == {sub.id} and by_outlet[kept.id] == {users["agent"].id}
