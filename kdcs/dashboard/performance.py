"""A team's week or month per agent (团队周报/月报): first replies on time, deadlines missed, replies,
tickets closed, fines charged. What a lead reads on Monday to see who needs help.

The deadline figures are the brands' rule, counted on the tickets assigned to the agent now
(``tickets.service.reply_met_deadline``): a ticket whose first reply fell in the period was answered
on time or late; a ticket whose reply deadline fell in the period (and has passed) without any reply
was missed. Replies are the ones the agent recorded (corrections not counted), closed tickets the
ones the agent closed, fines the ones charged to the agent (``Ticket.fine_agent_id``) recorded or
corrected in the period, as ``kdcs.tickets.fines`` counts them. Five statements for the whole team
(its members, then one per kind of figure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, or_, select

from ..extensions import db
from ..models import EventKind, Role, Team, Ticket, TicketEvent, TicketReply, TicketStatus, User
from ..models.user import username_order
from ..permissions import Permission, PermissionDenied, has_permission
from ..tickets.queue import shanghai_day_bounds

PERIODS = ("week", "month")


def period_start(period: str, day: date) -> date:
    """The Monday of ``day``'s week, or the first of its month."""
    return day - timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)


def period_end(period: str, start: date) -> date:
    """The first day after the period that begins on ``start``."""
    if period == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def parse_day(text: str) -> date | None:
    """A "YYYY-MM-DD" day between 2000 and 2099, None for anything else."""
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return day if date(2000, 1, 1) <= day <= date(2099, 12, 31) else None


def previous_start(period: str, start: date) -> date:
    """The start of the period before the one that begins on ``start``."""
    return period_start(period, start - timedelta(days=1))


@dataclass
class AgentWeek:
    """One member's figures for the period."""

    user: User
    on_time: int = 0  # first replies in the period within the reply deadline
    late: int = 0  # first replies in the period after it
    missed: int = 0  # reply deadlines in the period passed without any reply
    replies: int = 0  # replies the member recorded (not corrections)
    closed: int = 0  # tickets the member closed
    fines: int = 0  # fines charged to the member
    fine_share: Decimal = Decimal("0.00")

    @property
    def due(self) -> int:
        """Reply deadlines that came to a head in the period: answered (on time or late) or missed."""
        return self.on_time + self.late + self.missed

    @property
    def on_time_rate(self) -> int | None:
        """Per cent of ``due`` answered on time (rounded down), None when nothing was due."""
        return self.on_time * 100 // self.due if self.due else None


@dataclass
class TeamPeriod:
    team: Team | None
    period: str
    start: date
    end: date  # exclusive
    lines: list[AgentWeek] = field(default_factory=list)
    total: AgentWeek | None = None


def teams_for(viewer: User) -> list[Team]:
    """The teams an admin may pick from (the active ones); nothing to pick for a lead."""
    if viewer.role != Role.ADMIN:
        return []
    return list(db.session.scalars(select(Team).where(Team.is_active.is_(True)).order_by(Team.name, Team.id)))


def team_for(viewer: User, team_id: int | None, choices: list[Team] | None = None) -> Team | None:
    """The team ``viewer`` may read: a lead their own (whatever is asked), an admin the one asked
    (or the first of ``choices``, default ``teams_for(viewer)``); None when there is none."""
    if not has_permission(viewer, Permission.VIEW_TEAM):
        raise PermissionDenied(Permission.VIEW_TEAM)
    if viewer.role != Role.ADMIN:
        return db.session.get(Team, viewer.team_id) if viewer.team_id else None
    if team_id:
        team = db.session.get(Team, team_id)
        if team is not None:
            return team
    choices = teams_for(viewer) if choices is None else choices
    return choices[0] if choices else None


def team_period(viewer: User, team: Team | None, period: str, start: date, now: datetime) -> TeamPeriod:
    """Each active agent and lead of ``team`` with their figures for [start, end) in Shanghai."""
    if not has_permission(viewer, Permission.VIEW_TEAM):
        raise PermissionDenied(Permission.VIEW_TEAM)
    if team is not None and viewer.role != Role.ADMIN and team.id != viewer.team_id:
        raise PermissionDenied(Permission.VIEW_TEAM)
    end = period_end(period, start)
    result = TeamPeriod(team=team, period=period, start=start, end=end)
    if team is None:
        return result
    members = db.session.scalars(
        select(User).where(User.team_id == team.id, User.is_active_account.is_(True),
                           User.role.in_([Role.AGENT, Role.LEAD]))
        .order_by(User.role != Role.AGENT, *username_order())).all()
    lines = {m.id: AgentWeek(m) for m in members}
    result.lines = list(lines.values())
    result.total = AgentWeek(user=None)  # type: ignore[arg-type]
    if not lines:
        return result
    ids = list(lines)
    since, until = shanghai_day_bounds(start)[0], shanghai_day_bounds(end)[0]
    cutoff = min(until, now)  # a deadline still ahead is not missed yet

    answered = and_(Ticket.first_replied_at >= since, Ticket.first_replied_at < until)
    late = and_(answered, Ticket.reply_due_at.is_not(None), Ticket.first_replied_at > Ticket.reply_due_at)
    missed = and_(Ticket.first_replied_at.is_(None), Ticket.reply_due_at >= since, Ticket.reply_due_at < cutoff)
    for assignee_id, n_answered, n_late, n_missed in db.session.execute(
            select(Ticket.assignee_id, func.sum(case((answered, 1), else_=0)), func.sum(case((late, 1), else_=0)),
                   func.sum(case((missed, 1), else_=0)))
            .where(Ticket.assignee_id.in_(ids), or_(answered, missed)).group_by(Ticket.assignee_id)):
        line = lines[assignee_id]
        line.late, line.missed = int(n_late or 0), int(n_missed or 0)
        line.on_time = int(n_answered or 0) - line.late
    for recorder_id, count in db.session.execute(
            select(TicketReply.recorded_by_id, func.count())
            .where(TicketReply.recorded_by_id.in_(ids), TicketReply.corrects_id.is_(None),
                   TicketReply.sent_at >= since, TicketReply.sent_at < until)
            .group_by(TicketReply.recorded_by_id)):
        lines[recorder_id].replies = int(count)
    for actor_id, count in db.session.execute(
            select(TicketEvent.actor_id, func.count(func.distinct(TicketEvent.ticket_id)))
            .where(TicketEvent.actor_id.in_(ids), TicketEvent.kind == EventKind.STATUS,
                   TicketEvent.to_value == TicketStatus.CLOSED, TicketEvent.at >= since, TicketEvent.at < until)
            .group_by(TicketEvent.actor_id)):
        lines[actor_id].closed = int(count)
    fined_in_period = select(TicketEvent.ticket_id).where(
        TicketEvent.kind == EventKind.FINE, TicketEvent.at >= since, TicketEvent.at < until)
    for agent_id, count, share in db.session.execute(
            select(Ticket.fine_agent_id, func.count(), func.coalesce(func.sum(Ticket.fine_agent_share), 0))
            .where(Ticket.fine_agent_id.in_(ids), Ticket.fine_amount.is_not(None), Ticket.id.in_(fined_in_period))
            .group_by(Ticket.fine_agent_id)):
        lines[agent_id].fines, lines[agent_id].fine_share = int(count), Decimal(share).quantize(Decimal("0.01"))
    total = result.total
    for line in result.lines:
        for name in ("on_time", "late", "missed", "replies", "closed", "fines", "fine_share"):
            setattr(total, name, getattr(total, name) + getattr(line, name))
    return result

