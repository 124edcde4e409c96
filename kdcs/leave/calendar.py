"""The team calendar: who is away each day, who covers which outlets, days below the
team's minimum staffing, and outlets nobody serves.

Read only, from the same facts coverage uses (dates, status, early return). Each day is
looked at in its morning and its afternoon (09:00 and 15:00 Beijing), so a half day
counts as half an agent away, like the leave's working-day length.
"""

from __future__ import annotations

import calendar as pycalendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import (
    LeaveHandover,
    LeaveRequest,
    LeaveStatus,
    Outlet,
    Role,
    Team,
    TeamStaffing,
    User,
)
from ..models.user import username_order
from ..permissions import Permission, ensure, has_permission
from ..workcalendar import SHANGHAI, DbCalendar
from .coverage import COVERING_STATUSES, coverage_for

VIEWS = ("month", "week")
PENDING_STATUSES = (LeaveStatus.SUBMITTED, LeaveStatus.SUBSTITUTE_ACCEPTED)
HALVES = (("am", time(9)), ("pm", time(15)))


def _at(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=SHANGHAI)


def period(view: str, anchor: date) -> tuple[date, date, date, date]:
    """(first day, last day, previous anchor, next anchor) of the month or the week (Monday first)."""
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        return first, first + timedelta(days=6), first - timedelta(days=7), first + timedelta(days=7)
    first = anchor.replace(day=1)
    last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
    previous = (first - timedelta(days=1)).replace(day=1)
    return first, last, previous, last + timedelta(days=1)


def teams_for(actor: User) -> list[Team]:
    """Teams whose calendar ``actor`` may open: admins all, a lead the teams they lead and their own,
    an agent their own team."""
    ensure(actor, Permission.VIEW_LEAVE_CALENDAR)
    query = select(Team).where(Team.is_active.is_(True)).order_by(Team.name)
    if actor.role == Role.ADMIN:
        return list(db.session.scalars(query))
    if actor.role == Role.LEAD:
        return list(db.session.scalars(query.where(or_(Team.lead_id == actor.id, Team.id == actor.team_id))))
    return list(db.session.scalars(query.where(Team.id == actor.team_id))) if actor.team_id else []


@dataclass
class Absence:
    """One member away (or asking to be) in one half or both halves of a day."""

    leave: LeaveRequest
    parts: set[str]  # {"am", "pm"}
    pending: bool = False

    @property
    def part(self) -> str:
        """full / am / pm"""
        return "full" if len(self.parts) == 2 else next(iter(self.parts))


@dataclass
class Uncovered:
    """An outlet whose agent is away with nobody covering it (a half day or more)."""

    outlet: Any  # a row of id, name, primary_agent_id
    owner: User
    parts: set[str]


@dataclass
class Day:
    day: date
    is_workday: bool
    is_today: bool
    away: dict[int, Absence] = field(default_factory=dict)  # member id → absence
    present: float = 0.0
    minimum: int = 0
    uncovered: list[Uncovered] = field(default_factory=list)

    @property
    def short(self) -> bool:
        """Below the team's minimum staffing (working days only)."""
        return self.is_workday and self.minimum > 0 and self.present < self.minimum


@dataclass
class CoverLine:
    """Who covers which outlets for one request, from when to when."""

    leave: LeaveRequest
    substitute: User
    outlets: list  # rows of id, name, primary_agent_id
    start_at: datetime
    end_at: datetime


@dataclass
class TeamCalendar:
    team: Team
    view: str
    first: date
    last: date
    previous: date
    next: date
    members: list[User]
    days: list[Day]
    covers: list[CoverLine]
    minimum: int

    @cached_property
    def away_ids(self) -> set[int]:
        """Members away (or asking to be) on some day of the period (the others' rows are all empty)."""
        return {member_id for day in self.days for member_id in day.away}

    @property
    def uncovered_days(self) -> list[Day]:
        """Days with at least one outlet nobody serves."""
        return [d for d in self.days if d.uncovered]

    @property
    def short_days(self) -> list[Day]:
        """Working days below the minimum staffing."""
        return [d for d in self.days if d.short]


def _leave_end(leave: LeaveRequest) -> datetime:
    if leave.returned_at is not None and leave.returned_at < leave.end_at:
        return leave.returned_at
    return leave.end_at


def team_calendar(actor: User, team: Team, view: str = "month", anchor: date | None = None,
                  today: date | None = None, teams: list[Team] | None = None) -> TeamCalendar:
    """The calendar of ``team`` for the month or week holding ``anchor`` (a fixed number of queries).
    ``teams``: ``teams_for(actor)`` when the caller already has it."""
    if team.id not in {t.id for t in (teams if teams is not None else teams_for(actor))}:
        from ..service_errors import NotFound

        raise NotFound()
    today = today or datetime.now(SHANGHAI).date()
    view = view if view in VIEWS else "month"
    first, last, previous, following = period(view, anchor or today)
    start_at, end_at = _at(first, time(0)), _at(last + timedelta(days=1), time(0))
    members = list(db.session.scalars(select(User).where(
        User.team_id == team.id, User.is_active_account.is_(True), User.role == Role.AGENT)
        .order_by(*username_order())))
    member_ids = [m.id for m in members]
    options = [joinedload(LeaveRequest.leave_type)]  # each cell names the type
    if view == "week":  # a week's cell names who covers: every leave's handover and substitutes at once
        options.append(selectinload(LeaveRequest.handover).selectinload(LeaveHandover.substitute))
    leaves = list(db.session.scalars(select(LeaveRequest).where(
        LeaveRequest.user_id.in_(member_ids),
        LeaveRequest.status.in_([str(s) for s in (*COVERING_STATUSES, *PENDING_STATUSES)]),
        LeaveRequest.start_at < end_at, LeaveRequest.end_at > start_at).order_by(LeaveRequest.start_at)
        .options(*options)))
    # Rows of the columns used (id, name, primary agent), not outlets.
    outlets = db.session.execute(select(Outlet.id, Outlet.name, Outlet.primary_agent_id).where(
        Outlet.primary_agent_id.in_(member_ids), Outlet.is_active.is_(True)).order_by(Outlet.code)).all()
    outlets_of: dict[int, list] = {}
    for outlet in outlets:
        outlets_of.setdefault(outlet.primary_agent_id, []).append(outlet)
    covers = coverage_for(start_at, end_at, outlet_ids=[o.id for o in outlets]) if outlets else []
    staffing = db.session.get(TeamStaffing, team.id)
    minimum = staffing.min_agents if staffing else 0
    workday = DbCalendar()
    by_id = {m.id: m for m in members}

    days = []
    day = first
    while day <= last:
        entry = Day(day=day, is_workday=workday(day), is_today=day == today, minimum=minimum)
        absent = 0.0
        for part, at in HALVES:
            instant = _at(day, at)
            away_now = set()
            for leave in leaves:
                if leave.start_at <= instant < _leave_end(leave):
                    pending = leave.status in PENDING_STATUSES
                    absence = entry.away.get(leave.user_id)
                    if absence is None or (absence.pending and not pending):
                        absence = entry.away[leave.user_id] = Absence(leave, set(), pending)
                    if absence.leave is leave:
                        absence.parts.add(part)
                    if not pending:
                        away_now.add(leave.user_id)
            absent += len(away_now) / 2
            for member_id in away_now:
                for outlet in outlets_of.get(member_id, []):
                    if not any(c.outlet_id == outlet.id and c.start_at <= instant < c.end_at for c in covers):
                        found = next((u for u in entry.uncovered if u.outlet.id == outlet.id), None)
                        if found is None:
                            entry.uncovered.append(Uncovered(outlet, by_id[member_id], {part}))
                        else:
                            found.parts.add(part)
        entry.present = len(members) - absent
        days.append(entry)
        day += timedelta(days=1)

    lines: dict[tuple[int, int], CoverLine] = {}
    leaves_by_id = {leave.id: leave for leave in leaves}
    outlet_by_id = {o.id: o for o in outlets}
    # the covering lines' requests and substitutes not read above: one statement each, not one per line
    missing = {c.request_id for c in covers} - leaves_by_id.keys()
    if missing:
        leaves_by_id.update((r.id, r) for r in db.session.scalars(
            select(LeaveRequest).where(LeaveRequest.id.in_(missing)).options(joinedload(LeaveRequest.user))))
    substitutes = dict(by_id)
    missing = {c.substitute_id for c in covers} - substitutes.keys()
    if missing:
        substitutes.update((u.id, u) for u in db.session.scalars(select(User).where(User.id.in_(missing))))
    for c in covers:
        leave = leaves_by_id.get(c.request_id)
        key = (c.request_id, c.substitute_id)
        if key not in lines:
            lines[key] = CoverLine(leave, substitutes.get(c.substitute_id), [], c.start_at, c.end_at)
        lines[key].outlets.append(outlet_by_id[c.outlet_id])
    return TeamCalendar(team=team, view=view, first=first, last=last, previous=previous, next=following,
                        members=members, days=days, covers=list(lines.values()), minimum=minimum)


def default_team(actor: User, teams: list[Team]) -> Team | None:
    """The actor's own team when it is in the list, else the first one."""
    for team in teams:
        if team.id == actor.team_id:
            return team
    return teams[0] if teams else None


def can_see_calendar(actor: User) -> bool:
    """Whether the calendar link is offered."""
    return has_permission(actor, Permission.VIEW_LEAVE_CALENDAR)
