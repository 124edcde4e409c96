"""An outlet's month in figures (网点月度指标): parcels and fee, tickets per 1,000 parcels, reply
deadlines kept, fines and who bears them. What the company shows an outlet at the month's end, and
what a lead compares outlets by (the domain's "per outlet: tickets per 1,000 票, fines per month").

Counted the way the other pages count: a ticket belongs to the month it was registered in the
brand system (``registered_at``); a reply deadline to the month its first reply fell in (on time
or late), or, without a reply, the month the deadline passed in (as 团队表现 counts them); a fine to
the month it was first recorded in, at its current amount (as 罚款 counts it). Months are
Beijing months; overtime (加班) in the month of the day worked, once approved. Three statements
for any number of outlets and months (plus the volumes and rates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..history import value_at
from ..models import (
    FineBearer,
    Outlet,
    OutletVolume,
    OvertimeEntry,
    OvertimeStatus,
    Ticket,
    User,
)
from ..permissions import Permission, ensure
from ..tickets.deadlines import ReplyDeadlineCounts
from .assignments import assignment_history
from .rates import rate_at, rate_entries_many, shift_month
from .service import monthly_fee, visible_outlets_query

ZERO = Decimal("0.00")


@dataclass
class MonthFigures(ReplyDeadlineCounts):
    """One outlet's figures for one month."""

    month: date
    parcels: int | None = None  # None: no volume recorded for the month (yet)
    fee: Decimal | None = None
    tickets: int = 0  # registered in the month
    on_time: int = 0  # first replies in the month within the reply deadline
    late: int = 0  # first replies in the month after it
    missed: int = 0  # reply deadlines passed in the month without any reply
    fines: int = 0  # fined tickets (first recorded in the month)
    fine_amount: Decimal = ZERO
    outlet_borne: Decimal = ZERO  # what the outlet pays (fines that are its own fault)
    agent_share: Decimal = ZERO
    parcel_tickets: int | None = None  # a total's tickets of the outlets with parcels recorded
    overtime_minutes: int = 0  # approved overtime (加班) worked in the month
    overtime_fee: Decimal = ZERO  # what it bills: hours × the rate agreed when each was approved

    @property
    def per_thousand(self) -> Decimal | None:
        """Tickets per 1,000 parcels, two decimals; None without parcels to divide by (a total divides
        only the tickets of the outlets whose parcels are recorded)."""
        if not self.parcels:
            return None
        tickets = self.tickets if self.parcel_tickets is None else self.parcel_tickets
        return (Decimal(tickets) * 1000 / self.parcels).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def company_borne(self) -> Decimal:
        """What the company pays in the end: the fines less the outlets' part and the agents' shares."""
        return self.fine_amount - self.outlet_borne - self.agent_share

    def add(self, other: MonthFigures) -> None:
        """Sum ``other`` into this (a total row): parcels and fee only where recorded."""
        for name in ("tickets", "on_time", "late", "missed", "fines", "fine_amount", "outlet_borne", "agent_share",
                     "overtime_minutes", "overtime_fee"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.parcels is not None:
            self.parcels = (self.parcels or 0) + other.parcels
            self.parcel_tickets = (self.parcel_tickets or 0) + other.tickets
            self.fee = (self.fee or ZERO) + (other.fee or ZERO)


def month_bucket(column, bounds: list):
    """The index of the month ``column`` falls in (``bounds``: the months' starts, then the last end),
    None outside them: one CASE, the same on SQLite and PostgreSQL (网点月报, 人均毛利)."""
    whens = [(and_(column >= bounds[i], column < bounds[i + 1]), i) for i in range(len(bounds) - 1)]
    return case(*whens, else_=None)


def figures(outlets: list[Outlet], months: list[date], now: datetime, *,
            volumes: bool = True) -> dict[tuple[int, date], MonthFigures]:
    """{(outlet id, month): figures} for every outlet and month asked (``months`` consecutive, oldest
    first). Five statements: tickets and deadlines, fines, approved overtime, volumes, rates (three
    with ``volumes=False``: the caller has the parcels and fees already)."""
    from ..tickets.queue import shanghai_day_bounds  # (tickets import outlets: not at module load)

    outlet_ids = [o.id for o in outlets]
    result = {(o, m): MonthFigures(m) for o in outlet_ids for m in months}
    if not outlet_ids or not months:
        return result
    bounds = [shanghai_day_bounds(m)[0] for m in months] + [shanghai_day_bounds(shift_month(months[-1], 1))[0]]
    since, until = bounds[0], bounds[-1]
    cutoff = min(until, now)  # a deadline still ahead is not missed yet
    answered = and_(Ticket.first_replied_at >= since, Ticket.first_replied_at < until)
    late = and_(Ticket.reply_due_at.is_not(None), Ticket.first_replied_at > Ticket.reply_due_at)
    missed = and_(Ticket.first_replied_at.is_(None), Ticket.reply_due_at >= since, Ticket.reply_due_at < cutoff)
    registered = and_(Ticket.registered_at >= since, Ticket.registered_at < until)
    columns = [Ticket.outlet_id]
    for i in range(len(months)):
        lo, hi = bounds[i], bounds[i + 1]
        columns += [
            func.sum(case((and_(Ticket.registered_at >= lo, Ticket.registered_at < hi), 1), else_=0)),
            func.sum(case((and_(Ticket.first_replied_at >= lo, Ticket.first_replied_at < hi), 1), else_=0)),
            func.sum(case((and_(Ticket.first_replied_at >= lo, Ticket.first_replied_at < hi, late), 1), else_=0)),
            func.sum(case((and_(missed, Ticket.reply_due_at >= lo, Ticket.reply_due_at < hi), 1), else_=0)),
        ]
    for row in db.session.execute(select(*columns).where(Ticket.outlet_id.in_(outlet_ids),
                                                         or_(registered, answered, missed))
                                  .group_by(Ticket.outlet_id)):
        for i, month in enumerate(months):
            line = result[(row[0], month)]
            n_registered, n_answered, n_late, n_missed = (int(v or 0) for v in row[1 + 4 * i: 5 + 4 * i])
            line.tickets, line.late, line.missed = n_registered, n_late, n_missed
            line.on_time = n_answered - n_late

    outlet_part = case((Ticket.fine_bearer == FineBearer.OUTLET, Ticket.fine_amount), else_=0)
    for outlet_id, bucket, count, amount, outlet_borne, share in db.session.execute(
            select(Ticket.outlet_id, month_bucket(Ticket.fined_at, bounds).label("bucket"), func.count(),
                   func.coalesce(func.sum(Ticket.fine_amount), 0),
                   func.coalesce(func.sum(outlet_part), 0), func.coalesce(func.sum(Ticket.fine_agent_share), 0))
            .where(Ticket.outlet_id.in_(outlet_ids), Ticket.fine_amount.is_not(None), Ticket.fined_at >= since,
                   Ticket.fined_at < until)
            .group_by(Ticket.outlet_id, "bucket")):
        line = result[(outlet_id, months[int(bucket)])]
        line.fines = int(count)
        line.fine_amount, line.outlet_borne, line.agent_share = (
            Decimal(v).quantize(Decimal("0.01")) for v in (amount, outlet_borne, share))

    day_bounds = list(months) + [shift_month(months[-1], 1)]
    for outlet_id, bucket, minutes, priced in db.session.execute(
            select(OvertimeEntry.outlet_id, month_bucket(OvertimeEntry.work_date, day_bounds).label("bucket"),
                   func.sum(OvertimeEntry.minutes), func.sum(OvertimeEntry.minutes * func.coalesce(OvertimeEntry.rate, 0)))
            .where(OvertimeEntry.outlet_id.in_(outlet_ids), OvertimeEntry.status == OvertimeStatus.APPROVED,
                   OvertimeEntry.work_date >= day_bounds[0], OvertimeEntry.work_date < day_bounds[-1])
            .group_by(OvertimeEntry.outlet_id, "bucket")):
        line = result[(outlet_id, months[int(bucket)])]
        line.overtime_minutes = int(minutes)
        line.overtime_fee = (Decimal(str(priced or 0)) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if not volumes:
        return result
    entries = rate_entries_many(outlet_ids)
    fallback = {o.id: o.rate_per_parcel for o in outlets}
    for outlet_id, month, parcels in db.session.execute(
            select(OutletVolume.outlet_id, OutletVolume.month,
                   OutletVolume.inbound_parcels + OutletVolume.outbound_parcels)
            .where(OutletVolume.outlet_id.in_(outlet_ids), OutletVolume.month >= months[0],
                   OutletVolume.month <= months[-1])):
        line = result.get((outlet_id, month))
        if line is not None:
            line.parcels = int(parcels)
            line.fee = monthly_fee(line.parcels, rate_at(entries.get(outlet_id, []), month, fallback[outlet_id]))
    return result


def outlet_months(outlet: Outlet, last: date, count: int, now: datetime,
                  volume_lines: list | None = None) -> list[MonthFigures]:
    """The outlet's ``count`` months up to ``last``, newest first (its detail page, which passes the
    ``service.volume_lines`` it shows already: parcels and fees are not read twice)."""
    months = [shift_month(last, -i) for i in range(count - 1, -1, -1)]
    found = figures([outlet], months, now, volumes=volume_lines is None)
    for line in volume_lines or []:
        if (outlet.id, line.month) in found:
            found[(outlet.id, line.month)].parcels, found[(outlet.id, line.month)].fee = line.total, line.fee
    return [found[(outlet.id, m)] for m in reversed(months)]


@dataclass
class OutletMonth:
    """One outlet of the monthly overview."""

    outlet: Outlet
    agent: str  # the primary agent's name at the month's end (now, for the running month)
    figures: MonthFigures


SORTS = ("per_thousand", "fines", "on_time", "code")


def _agents_then(outlets: dict[int, tuple[Outlet, str]], month: date, now: datetime) -> None:
    """Name each outlet's agent at ``month``'s end (now, for the running month) from the assignment
    history, as 人均毛利 credits its fee: a handover in December leaves November with the agent who
    worked it. Nothing to read for the running month (its agent is the one now); two statements at most."""
    from ..tickets.queue import shanghai_day_bounds  # (tickets import outlets: not at module load)

    month_end = shanghai_day_bounds(shift_month(month, 1))[0]
    if not outlets or month_end > now:
        return
    history = assignment_history(outlets)
    moment = month_end
    then = {outlet_id: value_at(history.get(outlet_id), moment, outlet.primary_agent_id)
            for outlet_id, (outlet, _name) in outlets.items()}
    moved = {outlet_id: agent_id for outlet_id, agent_id in then.items()
             if agent_id != outlets[outlet_id][0].primary_agent_id}
    if not moved:
        return
    wanted = {agent_id for agent_id in moved.values() if agent_id is not None}
    names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).all()) \
        if wanted else {}
    for outlet_id, agent_id in moved.items():
        outlets[outlet_id] = (outlets[outlet_id][0], names.get(agent_id, "") if agent_id is not None else "")


def month_overview(viewer: User, month: date, now: datetime, sort: str = "per_thousand") \
        -> tuple[list[OutletMonth], MonthFigures]:
    """Every outlet in ``viewer``'s scope that was active or had figures in ``month``, with a total:
    worst first by tickets per 1,000 parcels (or by fines, by on-time rate, or by code)."""
    ensure(viewer, Permission.VIEW_OUTLETS)
    rows = db.session.execute(
        visible_outlets_query(viewer)
        .options(joinedload(Outlet.brand))
        .add_columns(User.display_name)
        .outerjoin(User, User.id == Outlet.primary_agent_id)
        .order_by(Outlet.code)).all()
    outlets = {outlet.id: (outlet, name or "") for outlet, name in rows}
    _agents_then(outlets, month, now)
    found = figures([o for o, _ in outlets.values()], [month], now)
    lines, total = [], MonthFigures(month)
    for outlet_id, (outlet, agent) in outlets.items():
        line = found[(outlet_id, month)]
        if not outlet.is_active and not (line.parcels or line.tickets or line.due or line.fines):
            continue  # a closed outlet with nothing that month
        lines.append(OutletMonth(outlet, agent, line))
        total.add(line)
    keys = {
        "per_thousand": lambda r: (r.figures.per_thousand is None, -(r.figures.per_thousand or 0),
                                   -r.figures.tickets, r.outlet.code),
        "fines": lambda r: (-r.figures.fine_amount, -r.figures.fines, r.outlet.code),
        "on_time": lambda r: (r.figures.on_time_rate is None, r.figures.on_time_rate or 0, -r.figures.missed,
                              r.outlet.code),
        "code": lambda r: r.outlet.code,
    }
    lines.sort(key=keys.get(sort, keys["per_thousand"]))
    return lines, total
