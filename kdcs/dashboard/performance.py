"""A team's week or month per agent (团队周报/月报): first replies on time, deadlines missed, replies,
tickets closed, fines charged. What a lead reads on Monday to see who needs help.

The deadline figures are the brands' rule, counted for the agent who held the ticket when the
deadline passed or was met (``Ticket.reply_agent_id``; the assignee while it is pending): a ticket
whose first reply fell in the period was answered on time or late; a ticket whose reply deadline
fell in the period (and has passed) without any reply was missed. Replies are the ones the agent recorded (corrections not counted), closed tickets the
ones the agent closed, fines the ones charged to the agent (``Ticket.fine_agent_id``) first recorded
in the period (``Ticket.fined_at``), as ``kdcs.tickets.fines`` counts them. The people are those who were
in the team at the period's end (``org.memberships``): moving an agent to another team does not move
their past weeks. Six statements for the whole team (its members and, for a past period, their team
history, then one per kind of figure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select, true
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    EventKind,
    Outlet,
    Role,
    Team,
    Ticket,
    TicketEvent,
    TicketReason,
    TicketReply,
    TicketStatus,
    User,
)
from ..models.user import username_sort_key
from ..org.memberships import members_at
from ..permissions import Permission, PermissionDenied, has_permission
from ..request_args import day_or_none
from ..sql_seconds import seconds_between
from ..tickets.deadlines import ReplyDeadlineCounts
from ..tickets.queue import shanghai_day_bounds
from ..tickets.service import covered_clauses

PERIODS = ("week", "month")
Reopen = aliased(TicketEvent)  # a reopening of a closed ticket (一次解决率 leaves those out)


def period_start(period: str, day: date) -> date:
    """The Monday of ``day``'s week, or the first of its month."""
    return day - timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)


def period_end(period: str, start: date) -> date:
    """The first day after the period that begins on ``start``."""
    if period == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def parse_day(text: str) -> date | None:
    """A "YYYY-MM-DD" day between 2000 and 2099, None for anything else (``request_args.day_or_none``)."""
    return day_or_none(text)


def period_asked(args, today: date) -> tuple[str, date, str | None]:
    """The period (week or month) and its first day asked in a query string (``period``, ``start``),
    with a Chinese message when the typed day makes no sense (the current period is taken then)."""
    period = args.get("period", "week")
    if period not in PERIODS:
        period = "week"
    start, error = period_start(period, today), None
    asked = args.get("start", "")
    if asked:
        day = parse_day(asked)
        if day is None:
            error = _("“%(text)s” is not a date: enter it as 2026-11-30. The current period is shown.",
                      text=asked[:20])
        else:
            start = period_start(period, day)
    return period, start, error


def period_label(period: str, start: date) -> str:
    """How a page names the period: "11-30 至 12-06" for a week, "2026年12月" for a month."""
    if period == "week":
        last = period_end(period, start) - timedelta(days=1)
        return _("Week of %(a)s – %(b)s", a=start.strftime("%m-%d"), b=last.strftime("%m-%d"))
    return _("%(y)d-%(m)02d", y=start.year, m=start.month)


def previous_start(period: str, start: date) -> date:
    """The start of the period before the one that begins on ``start``."""
    return period_start(period, start - timedelta(days=1))


@dataclass
class AgentWeek(ReplyDeadlineCounts):
    """One member's figures for the period."""

    user: User
    on_time: int = 0  # first replies in the period within the reply deadline
    late: int = 0  # first replies in the period after it
    missed: int = 0  # reply deadlines in the period passed without any reply
    replies: int = 0  # replies the member recorded (not corrections)
    closed: int = 0  # tickets the member closed
    closed_first_time: int = 0  # of those, closed with at most one reply and never reopened (一次解决)
    handling_seconds: float = 0.0  # summed from registration to the closing, over the closings
    closings: int = 0  # closings counted in handling_seconds (a ticket closed, reopened and closed: two)
    fines: int = 0  # fines charged to the member
    fine_share: Decimal = Decimal("0.00")

    @property
    def is_empty(self) -> bool:
        """Nothing counted for the period."""
        return not (self.on_time or self.late or self.missed or self.replies or self.closed or self.fines)

    @property
    def first_contact_rate(self) -> int | None:
        """一次解决率: per cent of the closed tickets closed with at most one reply and never reopened
        (rounded down), None when nothing was closed."""
        return self.closed_first_time * 100 // self.closed if self.closed else None

    @property
    def average_handling_minutes(self) -> int | None:
        """平均处理时长: minutes from registration in the brand system to the closing, on average."""
        return int(self.handling_seconds / self.closings // 60) if self.closings else None


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
    """Each agent and lead who was in ``team`` at the end of [start, end) (Shanghai; now for the current
    period) with their figures: the active accounts, and a deactivated one that has figures."""
    if not has_permission(viewer, Permission.VIEW_TEAM):
        raise PermissionDenied(Permission.VIEW_TEAM)
    if team is not None and viewer.role != Role.ADMIN and team.id != viewer.team_id:
        raise PermissionDenied(Permission.VIEW_TEAM)
    end = period_end(period, start)
    result = TeamPeriod(team=team, period=period, start=start, end=end)
    if team is None:
        return result
    since, until = shanghai_day_bounds(start)[0], shanghai_day_bounds(end)[0]
    cutoff = min(until, now)
    # the running period ends in the future: its people are the team's now (no history to read)
    members = sorted(members_at(team, None if until > now else cutoff, User.role.in_([Role.AGENT, Role.LEAD])),
                     key=lambda m: (m.role != Role.AGENT, username_sort_key(m.username)))
    lines = {m.id: AgentWeek(m) for m in members}
    result.total = AgentWeek(user=None)  # type: ignore[arg-type]
    if not lines:
        return result
    _fill(lines, since, until, cutoff)
    # a deactivated account stays while the period has its figures (someone who left last week)
    result.lines = [line for line in lines.values() if line.user.is_active_account or not line.is_empty]
    total = result.total
    for line in result.lines:
        for name in ("on_time", "late", "missed", "replies", "closed", "closed_first_time", "handling_seconds",
                     "closings", "fines", "fine_share"):
            setattr(total, name, getattr(total, name) + getattr(line, name))
    return result



def _answered(since: datetime, until: datetime):
    """A first reply that fell in [since, until)."""
    return and_(Ticket.first_replied_at >= since, Ticket.first_replied_at < until)


def _late(since: datetime, until: datetime):
    """A first reply in [since, until) after the ticket's reply deadline."""
    return and_(_answered(since, until), Ticket.reply_due_at.is_not(None),
                Ticket.first_replied_at > Ticket.reply_due_at)


def _missed(since: datetime, cutoff: datetime):
    """A reply deadline in [since, cutoff) that passed without any reply (``cutoff``: the period's
    end or now, whichever is sooner: a deadline still ahead is not missed yet)."""
    return and_(Ticket.first_replied_at.is_(None), Ticket.reply_due_at >= since, Ticket.reply_due_at < cutoff)


def deadline_holder():
    """Whom a ticket's first reply deadline counts for: the agent who held it when the deadline
    passed or was met (``Ticket.reply_agent_id``), else (not come to a head yet, or older data) its
    assignee."""
    return func.coalesce(Ticket.reply_agent_id, Ticket.assignee_id)


def held_by(ids: list[int]):
    """``deadline_holder() IN ids``, written so each branch can use its index."""
    return or_(Ticket.reply_agent_id.in_(ids), and_(Ticket.reply_agent_id.is_(None), Ticket.assignee_id.in_(ids)))


def _fill(lines: dict[int, AgentWeek], since: datetime, until: datetime, cutoff: datetime) -> None:
    """Each line's figures for [since, until): four statements for any number of people."""
    ids = list(lines)
    answered, late, missed = _answered(since, until), _late(since, until), _missed(since, cutoff)
    holder = deadline_holder()
    for holder_id, n_answered, n_late, n_missed in db.session.execute(
            select(holder, func.sum(case((answered, 1), else_=0)), func.sum(case((late, 1), else_=0)),
                   func.sum(case((missed, 1), else_=0)))
            .where(held_by(ids), or_(answered, missed)).group_by(holder)):
        line = lines[holder_id]
        line.late, line.missed = int(n_late or 0), int(n_missed or 0)
        line.on_time = int(n_answered or 0) - line.late
    for recorder_id, count in db.session.execute(
            select(TicketReply.recorded_by_id, func.count())
            .where(TicketReply.recorded_by_id.in_(ids), TicketReply.corrects_id.is_(None),
                   TicketReply.sent_at >= since, TicketReply.sent_at < until)
            .group_by(TicketReply.recorded_by_id)):
        lines[recorder_id].replies = int(count)
    replies = (select(func.count()).where(TicketReply.ticket_id == TicketEvent.ticket_id,
                                          TicketReply.corrects_id.is_(None)).scalar_subquery())
    reopened = (select(Reopen.id).where(Reopen.ticket_id == TicketEvent.ticket_id, Reopen.kind == EventKind.REOPEN)
                .exists())
    first_time = case((and_(replies <= 1, ~reopened), TicketEvent.ticket_id), else_=None)
    handling = seconds_between(TicketEvent.at, Ticket.registered_at)  # a registration after the closing: 0
    for actor_id, count, count_first, seconds, closings in db.session.execute(
            select(TicketEvent.actor_id, func.count(func.distinct(TicketEvent.ticket_id)),
                   func.count(func.distinct(first_time)),
                   func.sum(case((handling < 0, 0), else_=handling)), func.count())
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(TicketEvent.actor_id.in_(ids), TicketEvent.kind == EventKind.STATUS,
                   TicketEvent.to_value == TicketStatus.CLOSED, TicketEvent.at >= since, TicketEvent.at < until)
            .group_by(TicketEvent.actor_id)):
        line = lines[actor_id]
        line.closed, line.closed_first_time = int(count), int(count_first or 0)
        # whole seconds: SQLite's julianday arithmetic is a float (71999.99997 for 20 hours)
        line.handling_seconds, line.closings = float(round(seconds or 0)), int(closings)
    for agent_id, count, share in db.session.execute(
            select(Ticket.fine_agent_id, func.count(), func.coalesce(func.sum(Ticket.fine_agent_share), 0))
            .where(Ticket.fine_agent_id.in_(ids), Ticket.fine_amount.is_not(None), Ticket.fined_at >= since,
                   Ticket.fined_at < until)
            .group_by(Ticket.fine_agent_id)):
        lines[agent_id].fines, lines[agent_id].fine_share = int(count), Decimal(share).quantize(Decimal("0.01"))


# One person's period (我的表现): their figures, the period before, and the tickets behind the bad ones.

LISTED = 200  # tickets listed per kind; the figures count them all


@dataclass
class DeadlineRow:
    """A ticket whose reply deadline went wrong in the period: answered late, or not answered."""

    ticket_id: int
    waybill_no: str
    category: str
    status: str
    reason: str
    outlet_code: str
    outlet_name: str
    reply_due_at: datetime
    first_replied_at: datetime | None  # None: missed
    openable: bool = True  # the viewer may open it (it may have moved to another queue since)

    def overrun_minutes(self, now: datetime) -> int:
        """Whole minutes past the deadline: until the first reply, or until ``now`` when there is none."""
        end = self.first_replied_at or now
        return max(0, int((end - self.reply_due_at).total_seconds() // 60))


def duration_text(minutes: int) -> str:
    """A duration as a lead says it (past a deadline, handling a ticket): "40 分钟", "3 小时 5 分钟", "2 天 4 小时"."""
    days, rest = divmod(max(0, int(minutes)), 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h", d=days, h=hours) if hours else _("%(n)d days", n=days)
    if hours:
        return _("%(h)d h %(m)d min", h=hours, m=mins) if mins else _("%(n)d hours", n=hours)
    return _("%(n)d minutes", n=mins)


@dataclass
class PersonPeriod:
    person: User
    period: str
    start: date
    end: date  # exclusive
    line: AgentWeek
    previous: AgentWeek  # the period before, for comparison
    late: list[DeadlineRow] = field(default_factory=list)
    missed: list[DeadlineRow] = field(default_factory=list)


def _openable(viewer: User):
    """Whether ``viewer`` may open a listed ticket: an admin any; a lead their team's queue's; an agent
    their own queue's (assigned to them or of their outlet); both also the outlets they cover now for
    someone on leave (代班), as the queue's scope has it. A column of the list's statement."""
    if viewer.role == Role.ADMIN:
        return true()
    covered = covered_clauses(viewer)
    if viewer.role == Role.LEAD and viewer.team_id is not None:
        team = select(User.id).where(User.team_id == viewer.team_id)
        return or_(Ticket.assignee_id.in_(team), Outlet.primary_agent_id.in_(team), *covered)
    return or_(Ticket.assignee_id == viewer.id, Outlet.primary_agent_id == viewer.id, *covered)


def can_view_person(viewer: User, person: User) -> bool:
    """Anyone who works tickets may read their own figures; a lead those of their team's agents and
    leads, an admin everyone's. Only agents and leads have figures (they hold queues)."""
    if person.role not in (Role.AGENT, Role.LEAD):
        return False
    if person.id == viewer.id:
        return has_permission(viewer, Permission.WORK_TICKETS)
    if not has_permission(viewer, Permission.VIEW_TEAM):
        return False
    return viewer.role == Role.ADMIN or (viewer.team_id is not None and person.team_id == viewer.team_id)


def person_period(viewer: User, person: User, period: str, start: date, now: datetime) -> PersonPeriod:
    """``person``'s figures for the period that begins on ``start`` and for the one before, with the
    tickets they answered late and the ones whose deadline passed without a reply (at most
    ``LISTED`` of each, deadline order). Nine statements."""
    if not can_view_person(viewer, person):
        raise PermissionDenied(Permission.VIEW_TEAM)
    end = period_end(period, start)
    before = previous_start(period, start)
    line, previous = AgentWeek(person), AgentWeek(person)
    since, until = shanghai_day_bounds(start)[0], shanghai_day_bounds(end)[0]
    cutoff = min(until, now)
    _fill({person.id: line}, since, until, cutoff)
    _fill({person.id: previous}, shanghai_day_bounds(before)[0], since, min(since, now))
    result = PersonPeriod(person=person, period=period, start=start, end=end, line=line, previous=previous)
    if not (line.late or line.missed):
        return result
    late, missed = _late(since, until), _missed(since, cutoff)
    rows = db.session.execute(
        select(Ticket.id, Ticket.waybill_no, Ticket.category, Ticket.status, TicketReason.name, Outlet.code,
               Outlet.name, Ticket.reply_due_at, Ticket.first_replied_at, late.label("is_late"),
               _openable(viewer).label("openable"))
        .join_from(Ticket, Outlet, Outlet.id == Ticket.outlet_id)
        .join(TicketReason, TicketReason.id == Ticket.reason_id)
        .where(held_by([person.id]), or_(late, missed))
        .order_by(Ticket.reply_due_at, Ticket.id))
    for r in rows:
        kind = result.late if r.is_late else result.missed
        if len(kind) < LISTED:
            kind.append(DeadlineRow(ticket_id=r[0], waybill_no=r[1], category=r[2], status=r[3], reason=r[4],
                                    outlet_code=r[5], outlet_name=r[6], reply_due_at=r[7], first_replied_at=r[8],
                                    openable=bool(r.openable)))
    return result
