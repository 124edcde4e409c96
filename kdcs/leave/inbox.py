"""The approver's inbox read at once: every waiting request with its handover, its substitutes'
load, the team's staffing per day and the overrides approving it needs, in a fixed number of
statements however many requests wait (before 春节 a lead's inbox holds half the team; read one
request at a time it ran about twelve statements per request).

``service.handover_rows``, ``substitute_load``, ``staffing_days`` and ``needs`` stay the
one-request readings (the handover page, the candidate check, the decision itself); what is
read here must equal them, and tests/test_leave_statements.py compares the two.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from .. import core_sql
from ..extensions import db
from ..models import Outlet, Role, Ticket, User
from ..models.leave import LeaveHandover, LeaveRequest
from ..models.ticket import QueueState
from ..workcalendar import DbCalendar
from .service import (
    COUNTED,
    COVERING,
    Load,
    Needs,
    OutletHandover,
    S,
    StaffDay,
    handover_tickets_statement,
    load_of,
    min_staffing_of,
    needs_of,
    outlet_handover,
    staff_days,
)

# What an inbox row shows of a request, loaded with the requests (a lazy load per row otherwise).
LOADS = (
    selectinload(LeaveRequest.user),
    selectinload(LeaveRequest.leave_type),
    selectinload(LeaveRequest.handover).selectinload(LeaveHandover.outlet),
    selectinload(LeaveRequest.handover).selectinload(LeaveHandover.substitute),
)


@dataclass
class InboxItem:
    """One waiting request as the approver sees it."""

    leave: LeaveRequest
    rows: list[tuple[LeaveHandover, OutletHandover]]  # as service.handover_rows
    loads: list[tuple[User, Load]]  # each substitute with service.substitute_load (this request's outlets added)
    staffing: list[StaffDay]  # as service.staffing_days
    needs: Needs  # as service.needs


def items(leaves: list[LeaveRequest], today: date | None = None) -> list[InboxItem]:
    """The inbox rows of ``leaves`` (their requester, type and handover loaded with ``LOADS``, or
    loaded here one by one): a fixed number of statements for any number of requests."""
    if not leaves:
        return []
    handovers = _handover_rows(leaves)
    loads = _loads(leaves)
    staffing = _staffing(leaves)
    used = _used_days(leaves)
    out = []
    for leave in leaves:
        out.append(InboxItem(leave, handovers[leave.id], loads[leave.id], staffing[leave.id],
                             _needs(leave, used, today)))
    return out


def _window_of(leaves) -> tuple[datetime, datetime]:
    return min(leave.start_at for leave in leaves), max(leave.end_at for leave in leaves)


def _handover_rows(leaves) -> dict[int, list[tuple[LeaveHandover, OutletHandover]]]:
    """``service.handover_rows`` of every request: the requesters' outlets and their open tickets in two statements."""
    owners = {leave.user_id for leave in leaves}
    outlets = list(db.session.scalars(
        select(Outlet).where(Outlet.primary_agent_id.in_(owners), Outlet.is_active.is_(True))))
    tickets: dict[int, list] = {outlet.id: [] for outlet in outlets}
    if tickets:
        for ticket in core_sql.execute(handover_tickets_statement(), {"outlet_ids": list(tickets)}):
            tickets[ticket.outlet_id].append(ticket)
    by_owner: dict[int, dict[int, Outlet]] = defaultdict(dict)
    for outlet in outlets:
        by_owner[outlet.primary_agent_id][outlet.id] = outlet
    result = {}
    for leave in leaves:
        rows = []
        mine = by_owner.get(leave.user_id, {})
        for item in leave.handover:
            outlet = mine.get(item.outlet_id)
            if outlet is None:
                rows.append((item, OutletHandover(item.outlet, [], [])))
                continue
            rows.append((item, outlet_handover(outlet, tickets[outlet.id], leave.start_at, leave.end_at)))
        result[leave.id] = rows
    return result


def _loads(leaves) -> dict[int, list[tuple[User, Load]]]:
    """``service.substitute_load`` of every (request, substitute): the substitutes' own outlets,
    what they already cover for others and the open tickets due, each in one statement over the
    inbox's whole window, then cut per request in Python."""
    substitutes: dict[int, User] = {}
    for leave in leaves:
        for item in leave.handover:
            if item.substitute_id:
                substitutes.setdefault(item.substitute_id, item.substitute)
    result: dict[int, list[tuple[User, Load]]] = {leave.id: [] for leave in leaves}
    if not substitutes:
        return result
    start, end = _window_of(leaves)
    own: dict[int, set[int]] = defaultdict(set)
    for outlet_id, agent_id in db.session.execute(
            select(Outlet.id, Outlet.primary_agent_id).where(Outlet.primary_agent_id.in_(substitutes),
                                                             Outlet.is_active.is_(True))):
        own[agent_id].add(outlet_id)
    covered_rows = db.session.execute(  # service._covered_by for every substitute over the whole window
        select(LeaveRequest.id, LeaveRequest.start_at, LeaveRequest.end_at, LeaveHandover.substitute_id,
               LeaveHandover.outlet_id)
        .join(LeaveHandover, LeaveHandover.request_id == LeaveRequest.id)
        .where(LeaveHandover.substitute_id.in_(substitutes),
               LeaveRequest.status.in_((S.SUBSTITUTE_ACCEPTED, *COVERING)),
               LeaveRequest.returned_at.is_(None),
               LeaveRequest.start_at < end, LeaveRequest.end_at > start)).all()
    outlet_ids = set().union(*own.values()) | {row.outlet_id for row in covered_rows} | {
        item.outlet_id for leave in leaves for item in leave.handover}
    dues: dict[int, list[datetime]] = defaultdict(list)
    for outlet_id, due_at in db.session.execute(
            select(Ticket.outlet_id, Ticket.due_at).where(
                Ticket.outlet_id.in_(outlet_ids), Ticket.queue_state != QueueState.CLOSED,
                Ticket.due_at >= start, Ticket.due_at < end)):
        dues[outlet_id].append(due_at)
    for leave in leaves:
        seen: dict[int, tuple[User, Load]] = {}
        for item in leave.handover:
            if item.substitute_id and item.substitute_id not in seen:
                extra = [h.outlet_id for h in leave.handover if h.substitute_id == item.substitute_id]
                covered = [(row.start_at, row.end_at, row.outlet_id) for row in covered_rows
                           if row.substitute_id == item.substitute_id and row.id != leave.id
                           and row.start_at < leave.end_at and row.end_at > leave.start_at]
                seen[item.substitute_id] = (substitutes[item.substitute_id], _load(
                    own.get(item.substitute_id, set()), covered, extra, dues, leave.start_at, leave.end_at))
        result[leave.id] = list(seen.values())
    return result


def _load(own: set[int], covered: list[tuple[datetime, datetime, int]], extra: list[int],
          dues: dict[int, list[datetime]], start_at: datetime, end_at: datetime) -> Load:
    """``service.substitute_load``'s figures from rows already read."""
    all_ids = own | {outlet_id for _start, _end, outlet_id in covered} | set(extra)
    due_times = [d for outlet_id in all_ids for d in dues.get(outlet_id, ()) if start_at <= d < end_at]
    return load_of(own, covered, extra, due_times, start_at, end_at)


def _staffing(leaves) -> dict[int, list[StaffDay]]:
    """``service.staffing_days`` of every request: the teams' minimums, their agents and the
    overlapping leaves, one statement each, and one work calendar for all."""
    teams = {leave.user.team_id for leave in leaves if leave.user.team_id}
    minimum: dict[int, int] = {}
    agents: dict[int, int] = {}
    others: list[LeaveRequest] = []
    if teams:
        minimum = min_staffing_of(teams)
        agents = dict(db.session.execute(
            select(User.team_id, func.count(User.id)).where(
                User.team_id.in_(teams), User.role == Role.AGENT.value, User.is_active_account.is_(True))
            .group_by(User.team_id)).all())
        start, end = _window_of(leaves)
        others = db.session.execute(
            select(LeaveRequest.id, LeaveRequest.user_id, LeaveRequest.start_date, LeaveRequest.end_date,
                   LeaveRequest.start_at, LeaveRequest.end_at, User.team_id)
            .join(User, User.id == LeaveRequest.user_id)
            .where(User.team_id.in_(teams), User.role == Role.AGENT.value,
                   LeaveRequest.status.in_((S.SUBSTITUTE_ACCEPTED, *COVERING)), LeaveRequest.returned_at.is_(None),
                   LeaveRequest.start_at < end, LeaveRequest.end_at > start)).all()
    calendar = DbCalendar()
    result = {}
    for leave in leaves:
        team_id = leave.user.team_id
        overlapping = [r for r in others if team_id and r.team_id == team_id and r.id != leave.id
                       and r.user_id != leave.user_id and r.start_at < leave.end_at and r.end_at > leave.start_at]
        result[leave.id] = staff_days(leave, agents.get(team_id, 0) if team_id else 0,
                                      minimum.get(team_id, 0) if team_id else 0, overlapping, calendar)
    return result


def _used_days(leaves) -> dict[tuple[int, int, int], list[tuple[int, Decimal]]]:
    """The counted requests behind ``service.used_days`` of every (requester, type, year) asked:
    ``{(user_id, type_id, year): [(request id, working days)]}``, in one statement."""
    asked = {(leave.user_id, leave.type_id, leave.start_date.year) for leave in leaves
             if leave.leave_type.yearly_allowance_days is not None}
    found: dict[tuple[int, int, int], list[tuple[int, Decimal]]] = {key: [] for key in asked}
    if not asked:
        return found
    years = {year for _user, _type, year in asked}
    rows = db.session.execute(
        select(LeaveRequest.id, LeaveRequest.user_id, LeaveRequest.type_id, LeaveRequest.start_date,
               LeaveRequest.working_days)
        .where(or_(*(((LeaveRequest.user_id == user_id) & (LeaveRequest.type_id == type_id))
                     for user_id, type_id in {(u, t) for u, t, _y in asked})),
               LeaveRequest.status.in_(COUNTED),
               LeaveRequest.start_date >= date(min(years), 1, 1),
               LeaveRequest.start_date <= date(max(years), 12, 31)))
    for request_id, user_id, type_id, start_date, days in rows:
        key = (user_id, type_id, start_date.year)
        if key in found:
            found[key].append((request_id, Decimal(str(days or 0))))
    return found


def _needs(leave: LeaveRequest, used: dict, today: date | None) -> Needs:
    """``service.needs`` from the rows already read."""
    taken = None
    if leave.leave_type.yearly_allowance_days is not None:
        taken = sum((days for request_id, days in used[(leave.user_id, leave.type_id, leave.start_date.year)]
                     if request_id != leave.id), Decimal(0))
    return needs_of(leave, taken, today)
