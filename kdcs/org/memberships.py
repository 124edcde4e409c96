"""Which team someone was in when: the history of teams (``TeamMembership``).

Every path that creates an account or moves it to another team (the user form, the inline edit, the
demo, tests writing rows directly) goes through a flush, so the history is written there, once, by a
session hook, as for the outlets' primary agents (``outlets.assignments``). The team figures of a past
period read it back: a week's 团队表现 lists the people who were in the team at its end, a month's fines
are summed under the team the charged agent was in when the fine was recorded, 人均毛利's team filter
keeps those in the team at the month's end. Without it, moving an agent to another team moved their
past figures too.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select

from ..extensions import db
from ..history import keep_history, value_at
from ..models import Team, TeamMembership, User

keep_history(User, "team", "team_id",
             lambda user, team_id, since: TeamMembership(user=user, team_id=team_id, since=since))


def membership_history(user_ids: Iterable[int]) -> dict[int, list[tuple]]:
    """{user id: their rows (since, team_id), in the order they were written}, for ``user_ids``: one
    statement, for reading many moments at once (``team_at``)."""
    ids = sorted(set(user_ids))
    history: dict[int, list[tuple]] = {}
    if not ids:
        return history
    for user_id, since, team_id in db.session.execute(
            select(TeamMembership.user_id, TeamMembership.since, TeamMembership.team_id)
            .where(TeamMembership.user_id.in_(ids)).order_by(TeamMembership.user_id, TeamMembership.id)):
        history.setdefault(user_id, []).append((since, team_id))
    return history


def team_at(history: dict[int, list[tuple]], user: User, moment: datetime) -> int | None:
    """The team ``user`` was in at ``moment`` (their team now when the history does not reach back)."""
    return value_at(history.get(user.id), moment, user.team_id)


def members_at(team: Team, moment: datetime | None, *conditions) -> list[User]:
    """The accounts that were in ``team`` at ``moment`` (and match ``conditions``), unordered: everyone
    in it now or ever recorded in it, then kept when their history puts them there at that moment.
    Two statements; ``moment`` None: its members now, one statement."""
    if moment is None:
        return list(db.session.scalars(select(User).where(User.team_id == team.id, *conditions)))
    ever = select(TeamMembership.user_id).where(TeamMembership.team_id == team.id)
    candidates = db.session.scalars(
        select(User).where(or_(User.team_id == team.id, User.id.in_(ever)), *conditions)).all()
    history = membership_history(u.id for u in candidates)
    return [u for u in candidates if team_at(history, u, moment) == team.id]


def team_history(user: User) -> list[tuple[datetime, Team | None]]:
    """``user``'s teams, newest first: (since, team or None for none)."""
    rows = db.session.execute(
        select(TeamMembership.since, Team).outerjoin(Team, Team.id == TeamMembership.team_id)
        .where(TeamMembership.user_id == user.id).order_by(TeamMembership.id.desc())).all()
    return [(since, team) for since, team in rows]
