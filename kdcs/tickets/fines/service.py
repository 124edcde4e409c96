"""The fines of one month in a user's scope, summed by who bears them, by agent, outlet and reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import or_, select, true

from ...extensions import db
from ...filters import SHANGHAI
from ...history import value_at
from ...models import (
    Brand,
    FineBearer,
    Outlet,
    Role,
    Team,
    Ticket,
    TicketReason,
    User,
)
from ...org.memberships import membership_history
from ...outlets.rates import shift_month
from ...permissions import Permission, PermissionDenied, has_permission
from .. import service as tickets
from ..queue import shanghai_day_bounds

ZERO = Decimal("0.00")


def month_bounds(first: date) -> tuple[datetime, datetime]:
    """[first 00:00, next month's first 00:00) in Shanghai, as aware UTC datetimes."""
    return shanghai_day_bounds(first)[0], shanghai_day_bounds(shift_month(first, 1))[0]


@dataclass
class FineRow:
    """One fined ticket: the fine as it stands, and when it was last recorded in the month."""

    ticket_id: int
    waybill_no: str
    category: str
    status: str
    reason: str
    outlet_id: int
    outlet_code: str
    outlet_name: str
    brand: str
    agent_id: int | None  # the agent the fine is charged to (the assignee when it was first recorded)
    agent: str  # their display name, "" when nobody was assigned then
    amount: Decimal
    bearer: str
    agent_share: Decimal
    fined_at: datetime
    openable: bool = True  # the viewer may open the ticket (an agent's fine may sit in another queue now)
    team_id: int | None = None  # the charged agent's team
    team: str = ""

    @property
    def outlet_borne(self) -> Decimal:
        return self.amount if self.bearer == FineBearer.OUTLET else ZERO

    @property
    def company_borne(self) -> Decimal:
        """What the company pays in the end: the fine less the outlet's and the agent's parts."""
        return self.amount - self.outlet_borne - self.agent_share


@dataclass
class FineSum:
    """Count and money of a group of fined tickets."""

    key: object = None
    label: str = ""
    count: int = 0
    amount: Decimal = ZERO
    agent_share: Decimal = ZERO
    outlet_borne: Decimal = ZERO
    company_borne: Decimal = ZERO

    def add(self, row: FineRow) -> None:
        self.count += 1
        self.amount += row.amount
        self.agent_share += row.agent_share
        self.outlet_borne += row.outlet_borne
        self.company_borne += row.company_borne


@dataclass
class MonthReport:
    month: date
    own_only: bool  # an agent's report: only the tickets assigned to them
    rows: list[FineRow] = field(default_factory=list)
    total: FineSum = field(default_factory=FineSum)
    by_team: list[FineSum] = field(default_factory=list)  # admins: the company's teams side by side
    by_agent: list[FineSum] = field(default_factory=list)
    by_outlet: list[FineSum] = field(default_factory=list)
    by_reason: list[FineSum] = field(default_factory=list)


def _grouped(rows: list[FineRow], key, label) -> list[FineSum]:
    """Sums per ``key(row)``, largest amount first (then most tickets, then label)."""
    groups: dict[object, FineSum] = {}
    for row in rows:
        k = key(row)
        group = groups.get(k)
        if group is None:
            group = groups[k] = FineSum(key=k, label=label(row))
        group.add(row)
    return sorted(groups.values(), key=lambda g: (-g.amount, -g.count, g.label))


def can_view(user: User) -> bool:
    """Agents (their own fines), leads (their team's) and admins (all) may read the fines."""
    return has_permission(user, Permission.VIEW_TICKETS) and user.role in (Role.AGENT, Role.LEAD, Role.ADMIN)


def fined_rows(user: User, month: date, now: datetime | None = None, outlet_id: int | None = None) -> list[FineRow]:
    """The tickets with a fine first recorded in ``month`` (``Ticket.fined_at``: a later correction
    changes the amount, not the month) that ``user`` answers for, newest fine first: an agent's are the fines charged to them (``fine_agent_id``: what they may
    bear, wherever the ticket is now), a lead's the team queue's (as the home figure counts), an
    admin's all; only ``outlet_id``'s when given (the outlet's 对账单). One statement."""
    if not can_view(user):
        raise PermissionDenied(Permission.VIEW_TICKETS)
    start, end = month_bounds(month)
    if user.role == Role.AGENT:
        # Their fines, and whether the ticket is still theirs to open (assigned or of their outlet).
        query = select(Ticket).where(Ticket.fine_agent_id == user.id)
        visible = or_(Ticket.assignee_id == user.id, Outlet.primary_agent_id == user.id)
    else:
        query = tickets.visible_tickets_query(user, now or datetime.now(SHANGHAI))
        visible = true()
    query = (
        query.with_only_columns(
            Ticket.id, Ticket.waybill_no, Ticket.category, Ticket.status, TicketReason.name,
            Ticket.outlet_id, Outlet.code, Outlet.name, Brand.name, Ticket.fine_agent_id, User.display_name,
            Ticket.fine_amount, Ticket.fine_bearer, Ticket.fine_agent_share, Ticket.fined_at,
            visible.label("openable"), Team.id, Team.name)
        .join_from(Ticket, Outlet, Outlet.id == Ticket.outlet_id)
        .join(Brand, Brand.id == Ticket.brand_id)
        .join(TicketReason, TicketReason.id == Ticket.reason_id)
        .outerjoin(User, User.id == Ticket.fine_agent_id)
        .outerjoin(Team, Team.id == User.team_id)
        .where(Ticket.fine_amount.is_not(None), Ticket.fined_at >= start, Ticket.fined_at < end)
        .where(true() if outlet_id is None else Ticket.outlet_id == outlet_id)
        .order_by(Ticket.fined_at.desc(), Ticket.id.desc())
    )
    return [
        FineRow(ticket_id=r[0], waybill_no=r[1], category=r[2], status=r[3], reason=r[4], outlet_id=r[5],
                outlet_code=r[6], outlet_name=r[7], brand=r[8], agent_id=r[9], agent=r[10] or "",
                amount=r[11], bearer=r[12] or FineBearer.COMPANY, agent_share=r[13] or ZERO,
                fined_at=r[14], openable=bool(r[15]), team_id=r[16], team=r[17] or "")
        for r in db.session.execute(query)
    ]


def _teams_when_fined(rows: list[FineRow]) -> None:
    """Put each row under the team its charged agent was in when the fine was recorded (``org.memberships``),
    not the team they are in now: a move to another team does not move past fines. Two statements at most."""
    history = membership_history(r.agent_id for r in rows if r.agent_id)
    then = {id(r): value_at(history.get(r.agent_id), r.fined_at, r.team_id) for r in rows if r.agent_id}
    missing = {team_id for team_id in then.values() if team_id is not None} - {r.team_id for r in rows}
    names = {r.team_id: r.team for r in rows}
    if missing:
        names.update(db.session.execute(select(Team.id, Team.name).where(Team.id.in_(missing))).all())
    for row in rows:
        if id(row) in then:
            row.team_id = then[id(row)]
            row.team = (names.get(row.team_id) or "") if row.team_id is not None else ""


def month_report(user: User, month: date, now: datetime | None = None) -> MonthReport:
    """``fined_rows`` with their totals and their sums per agent, outlet and reason (and per team
    of the charged agents, for an admin)."""
    from ..labels import label

    rows = fined_rows(user, month, now)
    report = MonthReport(month=month, own_only=user.role == Role.AGENT, rows=rows)
    for row in rows:
        report.total.add(row)
    if user.role == Role.ADMIN:
        _teams_when_fined(rows)
        report.by_team = _grouped(rows, lambda r: r.team_id, lambda r: r.team)
    report.by_agent = _grouped(rows, lambda r: r.agent_id, lambda r: r.agent)
    report.by_outlet = _grouped(rows, lambda r: r.outlet_id, lambda r: f"{r.outlet_code} {r.outlet_name}")
    report.by_reason = _grouped(rows, lambda r: (r.category, r.reason),
                                lambda r: f"{label('category', r.category)} · {r.reason}")
    return report
