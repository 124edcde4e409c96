"""What each role sees first on its home page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import AuditLog, Brand, Notification, Outlet, Role, Team, User, utcnow
from ..models.user import username_order
from ..outlets.service import fees_for_month, latest_month, visible_outlets_query


@dataclass
class OutletLine:
    outlet: Outlet
    parcels: int
    fee: Decimal
    rate: Decimal | None = None  # the rate in force that month


@dataclass
class OutletSummary:
    month: date | None
    lines: list[OutletLine] = field(default_factory=list)

    @property
    def total_parcels(self) -> int:
        return sum(line.parcels for line in self.lines)

    @property
    def total_fee(self) -> Decimal:
        return sum((line.fee for line in self.lines), Decimal("0.00"))


def outlet_summary(user: User) -> OutletSummary:
    """The active outlets the user may see with their latest volumes and fees (home page)."""
    outlets = db.session.scalars(
        visible_outlets_query(user)
        .where(Outlet.is_active.is_(True))
        .options(joinedload(Outlet.brand), joinedload(Outlet.primary_agent))
        .order_by(Outlet.code)
    ).all()
    month = latest_month()
    fees = fees_for_month(list(outlets), month)  # each fee at the rate in force that month
    lines = [OutletLine(o, fees[o.id][0], fees[o.id][2], fees[o.id][1]) for o in outlets]
    return OutletSummary(month=month, lines=lines)


@dataclass
class MemberLine:
    user: User
    outlet_count: int
    parcels: int
    fee: Decimal


def team_members(team_id: int | None) -> list[MemberLine]:
    """A lead's team: each member with their outlets, parcels and fees last month."""
    if team_id is None:
        return []
    members = db.session.scalars(
        select(User).where(User.team_id == team_id).order_by(User.role != Role.LEAD, *username_order())
    ).all()
    outlets = db.session.scalars(
        select(Outlet).where(
            Outlet.primary_agent_id.in_([m.id for m in members]), Outlet.is_active.is_(True)
        )
    ).all()
    month = latest_month()
    fees = fees_for_month(list(outlets), month)  # each fee at the rate in force that month
    lines = []
    for member in members:
        own = [o for o in outlets if o.primary_agent_id == member.id]
        parcels = sum(fees[o.id][0] for o in own)
        fee = sum((fees[o.id][2] for o in own), Decimal("0.00"))
        lines.append(MemberLine(member, len(own), parcels, fee))
    return lines


def admin_counts() -> dict[str, int]:
    """Counts of active users, teams, brands and outlets for the admin's home page."""
    def count(model, *where):
        return db.session.scalar(select(func.count(model.id)).where(*where))

    return {
        "users": count(User, User.is_active_account.is_(True)),
        "agents": count(User, User.is_active_account.is_(True), User.role == Role.AGENT),
        "teams": count(Team, Team.is_active.is_(True)),
        "outlets": count(Outlet, Outlet.is_active.is_(True)),
        "unassigned_outlets": count(Outlet, Outlet.is_active.is_(True), Outlet.primary_agent_id.is_(None)),
        "brands": count(Brand, Brand.is_active.is_(True)),
    }


def recent_audit(limit: int = 8) -> list[AuditLog]:
    """The newest audit entries (admin home page)."""
    return db.session.scalars(
        select(AuditLog).options(joinedload(AuditLog.actor)).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    ).all()


def agents_by_team() -> list[tuple[Team | None, list[User]]]:
    """Active agents grouped by team, teams by name, agents in natural 工号 order."""
    agents = db.session.scalars(
        select(User)
        .where(User.role == Role.AGENT, User.is_active_account.is_(True))
        .options(joinedload(User.team))
        .order_by(*username_order())
    ).all()
    grouped: dict[int | None, list[User]] = {}
    for agent in agents:
        grouped.setdefault(agent.team_id, []).append(agent)
    teams = {t.id: t for t in db.session.scalars(select(Team)).all()}
    return [(teams.get(team_id), members) for team_id, members in grouped.items()]


# --------------------------------------------------------------------------- the day's work
#
# Every figure is counted with the queue's own query (scope + QueueFilter), and its link
# is that filter's URL: the count and the rows the link shows cannot drift apart.


@dataclass
class Figure:
    """A count and the queue URL that lists exactly those tickets."""

    count: int
    url: str


def _queue(user: User, scope: str, now: datetime, **filters):
    from ..tickets import queue

    f = queue.QueueFilter(scope=scope, **filters)
    return f, queue.apply_filters(queue.scoped_query(user, scope, now), f, now)


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def _figure(user: User, scope: str, now: datetime, **filters) -> Figure:
    f, query = _queue(user, scope, now, **filters)
    return Figure(_count(query), url_for("tickets.index", **f.args()))


@dataclass
class AgentDay:
    overdue: Figure
    hour: Figure
    today: Figure
    open: Figure
    evidence: Figure
    categories: list[tuple[str, str, Figure]]
    notices: list[Notification]
    unread: int


def agent_day(user: User, now: datetime | None = None) -> AgentDay:
    """An agent's home: my overdue, due within the hour, due today, open by category, evidence missing; notices."""
    from ..notifications.service import unread_count
    from ..tickets.labels import CATEGORY_LABELS

    now = now or utcnow()
    categories = [(code, str(label), _figure(user, "mine", now, category=code)) for code, label in CATEGORY_LABELS.items()]
    notices = db.session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(6)).all()
    return AgentDay(
        overdue=_figure(user, "mine", now, window="overdue"),
        hour=_figure(user, "mine", now, window="hour"),
        today=_figure(user, "mine", now, window="today"),
        open=_figure(user, "mine", now),
        evidence=_figure(user, "mine", now, evidence="missing"),
        categories=categories,
        notices=list(notices),
        unread=unread_count(user),
    )


@dataclass
class AgentLine:
    """One member of a lead's team: open, overdue, due today, replied today (tickets), each a link."""

    user: User
    open: Figure
    overdue: Figure
    today: Figure
    replied: Figure


@dataclass
class TeamDay:
    lines: list[AgentLine]
    unassigned: Figure
    fines: Figure
    fine_amount: Decimal
    fine_agent_share: Decimal


def _by_assignee(user: User, now: datetime, **filters) -> tuple[object, dict[int, int]]:
    f, query = _queue(user, "team", now, **filters)
    sub = query.order_by(None).subquery()
    rows = db.session.execute(select(sub.c.assignee_id, func.count()).group_by(sub.c.assignee_id))
    return f, {assignee_id: int(n) for assignee_id, n in rows}


def team_day(lead: User, now: datetime | None = None) -> TeamDay:
    """A lead's home: per agent of the team open / overdue / due today / replied today; unassigned; fines this month."""
    now = now or utcnow()
    members = db.session.scalars(
        select(User).where(User.team_id == lead.team_id, User.is_active_account.is_(True),
                           User.role.in_([Role.AGENT, Role.LEAD]))
        .order_by(User.role != Role.AGENT, *username_order())).all() if lead.team_id else []
    measures = {
        "open": {},
        "overdue": {"window": "overdue"},
        "today": {"window": "today"},
        "replied": {"replied": "today", "status": "all"},
    }
    counted = {name: _by_assignee(lead, now, **filters) for name, filters in measures.items()}
    lines = []
    for member in members:
        figures = {name: Figure(counts.get(member.id, 0), url_for("tickets.index", **f.args(assignee_id=member.id)))
                   for name, (f, counts) in counted.items()}
        lines.append(AgentLine(member, **figures))
    f, fined = _queue(lead, "team", now, fined="month", status="all")
    sub = fined.order_by(None).subquery()
    count, amount, share = db.session.execute(
        select(func.count(), func.coalesce(func.sum(sub.c.fine_amount), 0),
               func.coalesce(func.sum(sub.c.fine_agent_share), 0))).one()
    return TeamDay(
        lines=lines,
        unassigned=_figure(lead, "team", now, assignee_id=0),
        fines=Figure(int(count), url_for("tickets.index", **f.args())),
        fine_amount=Decimal(amount or 0).quantize(Decimal("0.01")),
        fine_agent_share=Decimal(share or 0).quantize(Decimal("0.01")),
    )
