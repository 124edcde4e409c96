"""Demo team history: agent7 (二组 now) moved over from 一组 on the Monday of last week, so 一组's
团队表现 for the weeks before shows him (已调出) and his user page lists the change."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..filters import SHANGHAI
from ..models import Team, TeamMembership, User

MOVED_AGENT, FROM_TEAM = "agent7", "一组"


def seed_demo_team_history(today: date) -> dict[str, int]:
    """agent7's two rows relative to ``today``; nothing when his history has more than one row already
    (or he or the team is missing). Commits."""
    agent = db.session.scalar(select(User).where(User.username == MOVED_AGENT))
    before = db.session.scalar(select(Team).where(Team.name == FROM_TEAM))
    if agent is None or before is None or agent.team_id in (None, before.id):
        return {"team_memberships": 0}
    rows = db.session.scalar(select(func.count(TeamMembership.id)).where(TeamMembership.user_id == agent.id))
    if rows > 1:
        return {"team_memberships": 0}
    last_monday = today - timedelta(days=today.weekday() + 7)
    moved = datetime.combine(last_monday, time(9, 0), SHANGHAI)
    joined = min(datetime.combine(agent.start_date or today - timedelta(days=180), time(9, 0), SHANGHAI),
                 moved - timedelta(days=7))
    db.session.execute(TeamMembership.__table__.delete().where(TeamMembership.user_id == agent.id))
    db.session.add_all([TeamMembership(user_id=agent.id, team_id=before.id, since=joined),
                        TeamMembership(user_id=agent.id, team_id=agent.team_id, since=moved)])
    db.session.commit()
    return {"team_memberships": 2}
