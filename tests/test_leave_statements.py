"""The approver's inbox read at once (kdcs/leave/inbox.py): the same rows, loads, staffing and
overrides as the one-request readings, and a number of SQL statements that does not grow with
the requests waiting (before 春节 a lead's inbox holds a request from half the team; one request
at a time it ran about twelve statements per request)."""

from __future__ import annotations

from datetime import date, timedelta

from kdcs.extensions import db
from kdcs.leave import inbox, service
from kdcs.models import LeaveRequest, LeaveStatus, utcnow
from tests import factories
from tests.leave_data import make_leave
from tests.sql_statements import statements
from tests.test_leave_service import make_leave_world, next_monday, request


def _count(client, url):
    client.get(url)
    with statements() as seen:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(seen), "\n\n".join(seen)


def _leaver(world, n: int, team="same"):
    agent = factories.make_user("agent", username=f"leaver{n}", team=world.team if team == "same" else None,
                                display_name=f"请假人{n}")
    outlets = [factories.make_outlet(agent=agent, name=f"请假网点{n}"),
               factories.make_outlet(agent=agent, name=f"请假网点{n}乙")]
    return agent, outlets


def _accepted(world, agent, substitute, start: date, days: int = 2) -> LeaveRequest:
    leave = request(world, agent, start=start, end=start + timedelta(days=days - 1), substitute=substitute)
    service.substitute_answer(substitute, leave, True)
    db.session.commit()
    return leave


def _due_on(outlet, day: date, hour: int = 10):
    """An open ticket of ``outlet`` whose deadline falls on ``day`` at ``hour`` (Beijing)."""
    from tests.leave_data import beijing

    due = beijing(day, hour)
    registered = utcnow() - timedelta(minutes=5)
    minutes = int((due - registered).total_seconds() // 60)
    return factories.make_ticket(outlet, registered_at=registered, reply_minutes=minutes, resolve_minutes=minutes + 1)


def _reference(leave: LeaveRequest) -> tuple:
    """The inbox row read one request at a time (what the page did before)."""
    rows = [(h.id, o.outlet.id, [t.id for t in o.open_tickets], [t.id for t in o.due_inside])
            for h, o in service.handover_rows(leave)]
    loads = {}
    for item in leave.handover:
        if item.substitute_id and item.substitute_id not in loads:
            outlets = [h.outlet_id for h in leave.handover if h.substitute_id == item.substitute_id]
            loads[item.substitute_id] = service.substitute_load(
                item.substitute, leave.start_at, leave.end_at, exclude_id=leave.id, extra_outlet_ids=outlets)
    return rows, list(loads.items()), service.staffing_days(leave), service.needs(leave)


def _batched(item: inbox.InboxItem) -> tuple:
    rows = [(h.id, o.outlet.id, [t.id for t in o.open_tickets], [t.id for t in o.due_inside]) for h, o in item.rows]
    return rows, [(user.id, load) for user, load in item.loads], item.staffing, item.needs


def test_the_inbox_read_at_once_equals_one_request_at_a_time():
    world = make_leave_world()
    service.set_min_staffing(world.admin, world.team, 5)
    first = next_monday(7)
    leavers = [_leaver(world, n) for n in range(4)] + [_leaver(world, 9, team=None)]
    # agent4 already covers agent3's outlets over part of the inbox's window (an approved leave)
    make_leave(world.agent3, [world.outlet, world.outlet2], world.agent4, first + timedelta(days=1),
               first + timedelta(days=3))
    # leaver1 used four of the five annual days this year: two more go beyond the balance
    make_leave(leavers[1][0], [], None, date(first.year, 1, 5), date(first.year, 1, 8),
               status=LeaveStatus.RETURNED)
    for _agent, outlets in leavers[:3]:
        _due_on(outlets[0], first)
        _due_on(outlets[1], first + timedelta(days=1), 15)
        _due_on(outlets[1], first + timedelta(days=20))  # open, due after every leave
    _due_on(world.outlet, first + timedelta(days=2))  # a covered outlet's ticket: agent4's load
    _due_on(world.own4, first, 9)  # agent4's own outlet
    leaves = [
        _accepted(world, leavers[0][0], world.agent4, first, 3),
        _accepted(world, leavers[1][0], world.far, first, 2),  # substitute of another team
        _accepted(world, leavers[2][0], world.agent4, first + timedelta(days=1), 4),  # overlaps the first
        _accepted(world, leavers[3][0], world.agent4, first + timedelta(days=14), 1),
        _accepted(world, leavers[4][0], world.far, first, 2),  # no team
    ]
    leavers[2][1][1].is_active = False  # deactivated after the handover was written
    db.session.commit()
    expected = [_reference(leave) for leave in leaves]
    db.session.expire_all()
    fresh = [db.session.get(LeaveRequest, leave.id) for leave in leaves]
    got = [_batched(item) for item in inbox.items(fresh)]
    assert got == expected
    # the world is what it says: loads, a short team, a covered outlet, balance and team overrides
    assert expected[1][3].over_balance and expected[1][3].other_team and not expected[0][3].any
    assert any(day.short for day in expected[2][2])
    assert any(load.covered_outlets for _sub, load in expected[0][1])
    assert expected[4][2][0].agents == 0 and expected[2][0][1][1] == leavers[2][1][1].id
    assert expected[0][0][0][3] and expected[1][0][0][3] and not expected[2][0][0][3]  # due inside the leave or not


def test_lead_inbox_statements_do_not_grow_with_the_requests(client, auth):
    world = make_leave_world()
    counted = []
    waiting = 0
    for size in (1, 4):
        while waiting < size:
            agent, _outlets = _leaver(world, waiting)
            _accepted(world, agent, world.agent4 if waiting % 2 else world.far,
                      next_monday(7) + timedelta(days=7 * (waiting % 3)))
            waiting += 1
        auth.login(world.lead)
        count, sql = _count(client, "/leave/")
        page = client.get("/leave/").get_data(as_text=True)
        assert page.count('class="inbox-item"') == size
        counted.append(count)
        auth.logout()
    assert counted == [26, 26], (counted, sql)


def test_inbox_count_is_the_inbox_counted_in_the_database():
    """``inbox_count`` (the lead's home: "N leave requests wait") counts what ``inbox`` lists: a
    lead's own team, an admin's everything but their own, the fallback approver's share of an away
    lead's requests."""
    from kdcs.leave import rules

    world = make_leave_world()
    for n in range(3):
        agent, _outlets = _leaver(world, n)
        _accepted(world, agent, world.agent4, next_monday(7) + timedelta(days=7 * n))
    other = factories.make_user("agent", username="leaver_far", team=world.other_team)
    factories.make_outlet(agent=other)
    _accepted(world, other, world.far, next_monday(7))
    people = (world.lead, world.lead2, world.admin)
    assert [service.inbox_count(p) for p in people] == [len(service.inbox(p)) for p in people] == [3, 1, 4]
    # lead1 away today: the fallback approver (lead2) also sees what waits for lead1
    service.set_fallback_approver(world.admin, world.lead2.id)
    today = rules.beijing_today()
    make_leave(world.lead, [], None, today - timedelta(days=1), today + timedelta(days=1))
    db.session.commit()
    assert service.inbox_count(world.lead2) == len(service.inbox(world.lead2)) == 4
    assert service.inbox_count(world.lead) == len(service.inbox(world.lead)) == 3
