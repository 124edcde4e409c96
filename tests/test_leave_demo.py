"""The demo leave: every state relative to the seed day, the in-progress leave covered so agent6's queue
shows 代班 tickets at once, team minimums, idempotent."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from kdcs.demo import DEMO_PASSWORD, seed_demo
from kdcs.extensions import db
from kdcs.leave import coverage
from kdcs.leave.demo import seed_demo_leave
from kdcs.models import (
    LeaveRequest,
    LeaveStatus,
    LeaveType,
    Notification,
    TeamStaffing,
    Ticket,
    User,
)
from kdcs.tickets import queue

pytestmark = pytest.mark.slow  # seeds the whole demo company


def test_demo_leave_in_every_state(client, auth):
    seed_demo()
    users = {u.username: u for u in db.session.scalars(select(User))}
    leaves = {r.user.username: r for r in db.session.scalars(select(LeaveRequest))}
    assert {r.status for r in leaves.values()} == {
        LeaveStatus.IN_PROGRESS, LeaveStatus.SUBSTITUTE_ACCEPTED, LeaveStatus.SUBMITTED, LeaveStatus.APPROVED,
        LeaveStatus.RETURNED, LeaveStatus.REJECTED}
    assert "agent3" not in leaves and "agent4" not in leaves  # free for the browser journey
    assert leaves["agent2"].approver_id == users["lead1"].id and leaves["agent2"].status == "substitute_accepted"
    assert all(h.substitute_answer is None for h in leaves["agent1"].handover)
    assert leaves["agent9"].digest_sent_at is not None and db.session.scalar(select(func.count()).select_from(
        Notification).where(Notification.user_id == users["agent9"].id,
                            Notification.link == f"/leave/{leaves['agent9'].id}/digest")) == 1
    assert db.session.scalar(select(func.count()).select_from(LeaveType).where(
        LeaveType.yearly_allowance_days.is_not(None))) >= 1
    assert db.session.scalar(select(func.count()).select_from(TeamStaffing)) == 2

    # Right after seeding, agent6 covers agent5's outlets: 代班 tickets in her 我的 queue.
    covered = coverage.covered_outlet_ids(users["agent6"])
    assert covered and set(covered) == {h.outlet_id for h in leaves["agent5"].handover}
    mine = queue.page_of(users["agent6"], queue.QueueFilter(scope="mine"), per_page=500).items
    assert any(t.outlet_id in covered for t in mine)
    auth.login("agent6", password=DEMO_PASSWORD)
    html = client.get("/tickets/").get_data(as_text=True)
    assert "代班" in html and users["agent5"].display_name in html
    assert db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.outlet_id.in_(covered))) > 0

    assert seed_demo_leave() == {"leave_types": 0, "team_staffing": 0, "leave_requests": 0}
    assert db.session.scalar(select(func.count()).select_from(LeaveRequest)) == len(leaves)


@pytest.mark.parametrize("today", [
    date(2026, 12, 2),  # a Wednesday: ten days on is a Saturday (the waiting request was 0 个工作日)
    date(2026, 12, 5), date(2026, 12, 6),  # a weekend
    date(2026, 9, 30), date(2026, 10, 3),  # before and inside the National Day week
    date(2026, 2, 12),  # before the Spring Festival holiday
])
def test_every_demo_request_holds_a_working_day_whatever_the_seed_day(today):
    """Each demo request is one the form would accept: never a period of days off only."""
    from kdcs.leave.rules import Period, working_days
    from kdcs.workcalendar import DbCalendar
    from kdcs.workcalendar.service import seed_calendar
    from tests import factories

    seed_calendar({2026})
    teams = [factories.make_team("一组"), factories.make_team("二组")]
    for n, team in enumerate(teams, start=1):
        team.lead_id = factories.make_user("lead", username=f"lead{n}", team=team).id
    for n in range(1, 13):
        factories.make_outlet(agent=factories.make_user("agent", username=f"agent{n}", team=teams[n > 6]))
    db.session.commit()
    assert seed_demo_leave(today)["leave_requests"] == 6
    calendar = DbCalendar()
    for leave in db.session.scalars(select(LeaveRequest)):
        period = Period(leave.start_date, leave.start_part, leave.end_date, leave.end_part)
        assert leave.working_days > 0 and working_days(period, calendar) == leave.working_days, (
            today, leave.user.username, leave.start_date, leave.end_date)
    current = db.session.scalar(select(LeaveRequest).where(LeaveRequest.status == LeaveStatus.IN_PROGRESS))
    assert current.start_date < today <= current.end_date
