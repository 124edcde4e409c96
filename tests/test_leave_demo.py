"""The demo leave: every state relative to the seed day, the in-progress leave covered so agent6's queue
shows 代班 tickets at once, team minimums, idempotent."""

from __future__ import annotations

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
