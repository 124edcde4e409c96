"""人均毛利: each person's month in money — the fees of their outlets, the overtime they billed, the
fines the company bore for them, their labour cost — and the labour costs themselves. Admins only.

How a month is counted (the same months as 网点月报 and 罚款):
- **service fee**: each outlet's recorded parcels of the month × the rate in force that month,
  credited to the agent who was its primary agent at the month's end (``outlets.assignments``;
  outlets reassigned before that history was kept count for the agent they had then);
- **overtime**: approved overtime worked in the month, to the person who worked it, at the rate
  agreed when it was approved;
- **fines borne**: fines first recorded in the month (Beijing), charged to the agent who had the
  ticket then (``fine_agent_id``): the amount less the agent's own share, nothing when the outlet
  bears it;
- **labour cost**: the person's entry in force that month (``LabourCost``); none before their first.

Outlets without a primary agent and fines charged to nobody make a line of their own, so the
totals agree with 网点月报.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..auditing import record, register_labels
from ..extensions import db
from ..history import value_at
from ..models import (
    FineBearer,
    LabourCost,
    Outlet,
    OutletVolume,
    OvertimeEntry,
    OvertimeStatus,
    Role,
    Team,
    Ticket,
    User,
)
from ..models.types import utcnow
from ..models.user import username_sort_key
from ..org.memberships import membership_history, team_at
from ..outlets.assignments import assignment_history
from ..outlets.kpis import month_bucket
from ..outlets.rates import (
    month_start,
    parse_month,
    rate_at,
    rate_entries_many,
    shift_month,
    this_month,
)
from ..outlets.service import latest_month, monthly_fee
from ..permissions import Permission, ensure
from ..service_errors import NotFound, ValidationError
from . import rules

ZERO = Decimal("0.00")
NOTE_MAX = 200
SORTS = ("margin", "revenue", "name")
PERSON_MONTHS = 12  # the months a person's page shows
TREND_MONTHS = 6  # the months of the trend under the month's table

register_labels(
    actions={
        "labour_cost.set": _l("Monthly labour cost set from a month on"),
        "labour_cost.delete": _l("Monthly labour cost entry deleted"),
    },
    fields={"labour_cost": _l("Monthly labour cost"), "labour_cost_month": _l("From month")},
)


@dataclass
class MarginLine:
    """One person's month (``person`` None: outlets without a primary agent, fines charged to nobody)."""

    person: User | None
    outlets: int = 0  # outlets they had at the month's end that are active or billed parcels that month
    parcels: int = 0
    unrecorded: int = 0  # of those, active outlets with no parcels recorded for the month (yet)
    fee: Decimal = ZERO
    overtime_minutes: int = 0
    overtime_fee: Decimal = ZERO
    fines: int = 0
    fines_borne: Decimal = ZERO  # what the company paid: fines less the agents' shares, outlets' own excluded
    labour_cost: Decimal | None = None  # None: not entered for the month

    @property
    def revenue(self) -> Decimal:
        """What the company billed for this person's work: service fee plus overtime."""
        return self.fee + self.overtime_fee

    @property
    def margin(self) -> Decimal | None:
        """Revenue less fines borne and labour cost: None while a person's cost is unknown; the line
        without a person has no labour cost of its own, a total the sum of the known ones."""
        cost = self.labour_cost
        if cost is None and self.person is None:
            cost = ZERO
        return rules.gross_margin(self.revenue, self.fines_borne, cost)

    @property
    def rate(self) -> Decimal | None:
        """The margin as a percentage of revenue."""
        return rules.margin_rate(self.margin, self.revenue)

    def add(self, other: MarginLine) -> None:
        """Sum ``other`` into this total (its labour cost counts when known)."""
        for name in ("outlets", "parcels", "unrecorded", "fee", "overtime_minutes", "overtime_fee", "fines",
                     "fines_borne"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.person is not None and other.labour_cost is not None:
            self.labour_cost = (self.labour_cost or ZERO) + other.labour_cost

    @property
    def is_empty(self) -> bool:
        """Nothing to show: no outlet, fee, overtime or fine."""
        return not (self.outlets or self.fee or self.overtime_minutes or self.fines)


@dataclass
class MarginReport:
    """The month for every person counted, the line without a person, the total and 人均."""

    month: date
    lines: list[MarginLine]
    unassigned: MarginLine | None
    total: MarginLine
    per_head: Decimal | None
    counted: int  # people whose margin is known (their labour cost is entered)
    missing_cost: list[MarginLine] = field(default_factory=list)
    volumes_recorded: bool = False  # any outlet has parcels recorded for the month


@dataclass
class _Month:
    """One month's collected lines: {person id: line}, the line without a person, parcels recorded."""

    lines: dict[int, MarginLine] = field(default_factory=dict)
    nobody: MarginLine = field(default_factory=lambda: MarginLine(None))
    recorded: bool = False

    def line(self, person_id: int | None) -> MarginLine:
        if person_id is None:
            return self.nobody
        found = self.lines.get(person_id)
        if found is None:
            found = self.lines[person_id] = MarginLine(None)
        return found


def _collect(months: list[date], only: list[int] | None = None) -> dict[date, _Month]:
    """{month: its lines} for consecutive ``months`` (oldest first): every active agent who had started
    by the month's end, and anyone with an outlet, overtime, a fine or a labour cost that month
    (``only``: just those people). Eight statements whatever the number of months."""
    from ..tickets.queue import shanghai_day_bounds  # (tickets import outlets: not at module load)

    months = [month_start(m) for m in months]
    ends = [shift_month(m, 1) for m in months]
    result = {m: _Month() for m in months}
    now = utcnow()
    bounds = [shanghai_day_bounds(m)[0] for m in months] + [shanghai_day_bounds(ends[-1])[0]]
    wanted = set(only) if only is not None else None

    # Fees: each outlet's parcels × the rate in force, for the agent who had it at the month's end.
    history = assignment_history()
    outlets = db.session.execute(select(Outlet.id, Outlet.primary_agent_id, Outlet.rate_per_parcel,
                                        Outlet.is_active)).all()
    volumes = {(row.outlet_id, row.month): int(row.parcels) for row in db.session.execute(
        select(OutletVolume.outlet_id, OutletVolume.month,
               (OutletVolume.inbound_parcels + OutletVolume.outbound_parcels).label("parcels"))
        .where(OutletVolume.month >= months[0], OutletVolume.month <= months[-1]))}
    entries = rate_entries_many([o.id for o in outlets])
    for n, month in enumerate(months):
        moment = min(bounds[n + 1], now)
        collected = result[month]
        for outlet in outlets:
            owner = value_at(history.get(outlet.id), moment, outlet.primary_agent_id)
            if wanted is not None and owner not in wanted:
                continue
            parcels = volumes.get((outlet.id, month))
            if parcels is not None:
                collected.recorded = True
            elif not outlet.is_active:
                continue  # closed before this month: nothing to count
            target = collected.line(owner)
            target.outlets += 1
            if parcels is None:
                target.unrecorded += 1
                continue
            target.parcels += parcels
            target.fee += monthly_fee(parcels, rate_at(entries.get(outlet.id, []), month, outlet.rate_per_parcel))

    day_bounds = [*months, ends[-1]]
    overtime = (select(OvertimeEntry.user_id, month_bucket(OvertimeEntry.work_date, day_bounds).label("bucket"),
                       func.sum(OvertimeEntry.minutes),
                       func.sum(OvertimeEntry.minutes * func.coalesce(OvertimeEntry.rate, 0)))
                .where(OvertimeEntry.status == OvertimeStatus.APPROVED, OvertimeEntry.work_date >= months[0],
                       OvertimeEntry.work_date < ends[-1])
                .group_by(OvertimeEntry.user_id, "bucket"))
    if only is not None:
        overtime = overtime.where(OvertimeEntry.user_id.in_(only))
    for person_id, bucket, minutes, priced in db.session.execute(overtime):
        target = result[months[int(bucket)]].line(person_id)
        target.overtime_minutes = int(minutes or 0)
        target.overtime_fee = (Decimal(str(priced or 0)) / 60).quantize(rules.FEN, rounding=ROUND_HALF_UP)

    borne = case((Ticket.fine_bearer == FineBearer.OUTLET, 0),
                 else_=Ticket.fine_amount - func.coalesce(Ticket.fine_agent_share, 0))
    fines = (select(Ticket.fine_agent_id, month_bucket(Ticket.fined_at, bounds).label("bucket"), func.count(),
                    func.coalesce(func.sum(borne), 0))
             .where(Ticket.fine_amount.is_not(None), Ticket.fined_at >= bounds[0], Ticket.fined_at < bounds[-1])
             .group_by(Ticket.fine_agent_id, "bucket"))
    if only is not None:
        fines = fines.where(Ticket.fine_agent_id.in_(only))
    for person_id, bucket, count, amount in db.session.execute(fines):
        target = result[months[int(bucket)]].line(person_id)
        target.fines = int(count)
        target.fines_borne = Decimal(str(amount)).quantize(rules.FEN)

    costs = _cost_entries(only, months[-1])
    if only is None:  # every active agent, from the month they started
        agents = db.session.execute(select(User.id, User.start_date).where(
            User.role == Role.AGENT, User.is_active_account.is_(True))).all()
    else:
        agents = [(person_id, None) for person_id in only]
    for month, end in zip(months, ends, strict=True):
        collected = result[month]
        for person_id, person_entries in costs.items():
            cost = rules.cost_in_force(person_entries, month)
            if cost or person_id in collected.lines:  # a cost of 0: no longer counted, unless the month has figures
                collected.line(person_id).labour_cost = cost
        for person_id, started in agents:
            if started is None or started < end:
                collected.line(person_id).labour_cost = rules.cost_in_force(costs.get(person_id, []), month)
    return result


def _cost_entries(person_ids: list[int] | None, last: date) -> dict[int, list]:
    query = (select(LabourCost.user_id, LabourCost.month, LabourCost.amount).where(LabourCost.month <= last)
             .order_by(LabourCost.user_id, LabourCost.month))
    if person_ids is not None:
        query = query.where(LabourCost.user_id.in_(person_ids))
    entries: dict[int, list] = {}
    for row in db.session.execute(query):
        entries.setdefault(row.user_id, []).append(row)
    return entries


def _people(ids) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(list(ids)))
                                                .options(joinedload(User.team)))}


def _sort(lines: list[MarginLine], sort: str) -> list[MarginLine]:
    by_name = sorted(lines, key=lambda ln: username_sort_key(ln.person.username))
    if sort == "name":
        return by_name
    if sort == "revenue":
        return sorted(by_name, key=lambda ln: -ln.revenue)
    # margin: unknown first (a cost to enter), then the lowest margin (who costs more than they bring)
    return sorted(by_name, key=lambda ln: (ln.margin is not None, ln.margin or ZERO))


def month_report(viewer: User, month: date, *, team_id: int | None = None, sort: str = "margin") -> MarginReport:
    """Every person's margin for ``month`` (``team_id``: that team's members only, without the line of
    outlets nobody has), the total and 人均, sorted lowest margin first (or by revenue or 工号)."""
    ensure(viewer, Permission.VIEW_MARGIN)
    month = month_start(month)
    collected = _collect([month])[month]
    people = _people(collected.lines)
    teams = membership_history(people) if team_id is not None else {}
    return _report(month, collected, people, team_id, teams, sort)


def _report(month: date, collected: _Month, people: dict[int, User], team_id: int | None,
            teams: dict[int, list], sort: str = "margin") -> MarginReport:
    """The month's lines of ``team_id``'s members at the month's end (``teams``: their team history), or
    of everyone."""
    from ..tickets.queue import shanghai_day_bounds  # (tickets import outlets: not at module load)

    moment = min(shanghai_day_bounds(shift_month(month, 1))[0], utcnow())
    lines = []
    for person_id, line in collected.lines.items():
        person = people.get(person_id)
        if person is None or (team_id is not None and team_at(teams, person, moment) != team_id):
            continue
        line.person = person
        lines.append(line)
    lines = _sort(lines, sort if sort in SORTS else "margin")
    unassigned = None if team_id is not None or collected.nobody.is_empty else collected.nobody
    total = MarginLine(None)
    for line in [*lines, *([unassigned] if unassigned else [])]:
        total.add(line)
    average, counted = rules.per_head([line.margin for line in lines])
    return MarginReport(month, lines, unassigned, total, average, counted,
                        [line for line in lines if line.labour_cost is None], collected.recorded)


def month_with_trend(viewer: User, month: date, *, team_id: int | None = None, sort: str = "margin",
                     count: int = TREND_MONTHS) -> tuple[MarginReport, list[MarginReport]]:
    """``month``'s report (as ``month_report``) and the ``count`` months up to it, oldest first, for the
    trend above the table (their totals and 人均): one pass over all of them."""
    ensure(viewer, Permission.VIEW_MARGIN)
    month = month_start(month)
    months = [shift_month(month, n - count + 1) for n in range(count)]
    collected = _collect(months)
    people = _people({person_id for c in collected.values() for person_id in c.lines})
    teams = membership_history(people) if team_id is not None else {}
    report = _report(month, collected[month], people, team_id, teams, sort)
    trend = [_report(m, collected[m], people, team_id, teams) for m in months[:-1]] + [report]  # reads no order
    return report, trend


def person_months(viewer: User, person: User, last: date, count: int = PERSON_MONTHS) -> list[tuple[date, MarginLine]]:
    """``person``'s last ``count`` months up to ``last``, newest first, as (month, line): one pass."""
    ensure(viewer, Permission.VIEW_MARGIN)
    months = [shift_month(month_start(last), n - count + 1) for n in range(count)]
    collected = _collect(months, only=[person.id])
    result = []
    for month in reversed(months):
        line = collected[month].line(person.id)
        line.person = person
        result.append((month, line))
    return result


def team_choices() -> list[Team]:
    """Teams to filter the page by, by name."""
    return list(db.session.scalars(select(Team).order_by(Team.name)))


# --------------------------------------------------------------------------- labour costs


@dataclass
class CostLine:
    """One entry of a person's labour cost history as their page shows it."""

    entry: LabourCost
    until: date | None  # the last month at this cost; None while it is the newest
    current: bool  # in force in the month the page shows


def cost_history(viewer: User, person: User, month: date) -> list[CostLine]:
    """``person``'s entries newest first, each with the months it covers; ``current`` marks the one in
    force in ``month``."""
    ensure(viewer, Permission.VIEW_MARGIN)
    entries = list(db.session.scalars(select(LabourCost).where(LabourCost.user_id == person.id)
                                      .options(joinedload(LabourCost.created_by)).order_by(LabourCost.month)))
    current = None
    for entry in entries:
        if entry.month <= month:
            current = entry
    lines = []
    for index, entry in enumerate(entries):
        following = entries[index + 1].month if index + 1 < len(entries) else None
        lines.append(CostLine(entry, shift_month(following, -1) if following else None, entry is current))
    return list(reversed(lines))


def get_person(viewer: User, person_id: int) -> User:
    """The person whose margin and costs are asked for (NotFound when there is none)."""
    ensure(viewer, Permission.VIEW_MARGIN)
    person = db.session.get(User, person_id)
    if person is None:
        raise NotFound()
    return person


def set_labour_cost(actor: User, person_id: int, *, month, amount, note: str = "") -> LabourCost:
    """Set ``person``'s monthly labour cost from ``month`` on (the months after keep it until their next
    entry; an entry for the same month is replaced). Every problem is said at once; audited on the
    person as ``labour_cost.set``; commits."""
    person = get_person(actor, person_id)
    errors: dict[str, str] = {}
    if not isinstance(month, date):
        month = parse_month(month)
    if month is None:
        errors["month"] = _("Choose the month the cost applies from, such as 2026-11.")
    try:
        amount = rules.parse_amount(amount)
    except ValueError as exc:
        errors["amount"] = str(exc)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = _("At most %(n)d characters.", n=NOTE_MAX)
    if month is not None and rules.before_start(month_start(month), person.start_date):
        errors["month"] = _start_problem(person)
    if errors:
        raise ValidationError(errors)
    month = month_start(month)
    entries = _commit_costs(actor, [(person, amount)], month, note)
    return entries[0]


def _start_problem(person: User) -> str:
    return _("%(who)s started on %(day)s: their labour cost can start from %(month)s at the earliest.",
             who=person.display_name, day=person.start_date.isoformat(), month=f"{person.start_date:%Y-%m}")


def _put_cost(actor: User, person: User, month: date, amount: Decimal, note: str) -> LabourCost:
    """Write one entry (insert, or replace the same month's) with its audit row; no commit."""
    entry = db.session.scalar(select(LabourCost).where(LabourCost.user_id == person.id, LabourCost.month == month))
    before = entry.amount if entry is not None else None
    if entry is None:
        entry = LabourCost(user_id=person.id, month=month, amount=amount, note=note, created_by_id=actor.id)
        db.session.add(entry)
    else:
        entry.amount, entry.note, entry.created_by_id = amount, note or entry.note, actor.id
    record(actor, "labour_cost.set", "user", person.id,
           summary=_("%(who)s: %(amount)s yuan a month from %(month)s", who=person.display_name,
                     amount=f"{amount:,.2f}", month=f"{month:%Y-%m}"),
           before={"labour_cost": str(before) if before is not None else None, "labour_cost_month": f"{month:%Y-%m}"},
           after={"labour_cost": str(amount), "labour_cost_month": f"{month:%Y-%m}"})
    return entry


def _commit_costs(actor: User, costs: list[tuple[User, Decimal]], month: date, note: str) -> list[LabourCost]:
    """Write every entry and commit them together; when another admin added one of the same months a
    moment ago (the unique key), write them again over theirs."""
    for attempt in (1, 2):
        entries = [_put_cost(actor, person, month, amount, note) for person, amount in costs]
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # the people stay in the session (expired): read again on the retry
            if attempt == 2:
                raise
            continue
        return entries
    raise AssertionError("unreachable")  # pragma: no cover


def set_labour_costs_pasted(actor: User, *, month, text: str, note: str = "") -> int:
    """Set many people's monthly labour cost from ``month`` on at once, from two columns pasted from a
    spreadsheet (工号, cost). All or nothing: every problem comes back at once, by line, and nothing
    is stored until there is none. Returns how many people were set; audited per person; commits."""
    ensure(actor, Permission.VIEW_MARGIN)
    errors: dict[str, str] = {}
    if not isinstance(month, date):
        month = parse_month(month)
    if month is None:
        errors["month"] = _("Choose the month the cost applies from, such as 2026-11.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = _("At most %(n)d characters.", n=NOTE_MAX)
    rows, problems = rules.parse_cost_lines(text)
    names = {username.lower() for _n, username, _a in rows}
    users = {u.username.lower(): u for u in db.session.scalars(
        select(User).where(func.lower(User.username).in_(names)))} if names else {}
    costs: list[tuple[User, Decimal]] = []
    seen: dict[int, int] = {}
    for number, username, amount_text in rows:
        person = users.get(username.lower())
        if person is None:
            problems.append((number, _("No user has the 工号 %(u)s.", u=username[:30])))
            continue
        if person.id in seen:
            problems.append((number, _("%(u)s is on line %(n)d already.", u=person.username, n=seen[person.id])))
            continue
        seen[person.id] = number
        if month is not None and rules.before_start(month_start(month), person.start_date):
            problems.append((number, _start_problem(person)))
            continue
        try:
            costs.append((person, rules.parse_amount(amount_text)))
        except ValueError as exc:
            problems.append((number, str(exc)))
    if problems:
        errors["text"] = "\n".join(_("Line %(n)d: %(problem)s", n=n, problem=p) if n else p
                                   for n, p in sorted(problems, key=lambda item: item[0]))
    elif not costs:
        errors["text"] = _("Paste at least one line: the 工号 and the monthly cost.")
    if errors:
        raise ValidationError(errors)
    _commit_costs(actor, costs, month_start(month), note)
    return len(costs)


def delete_labour_cost(actor: User, entry_id: int) -> User:
    """Remove one entry (a mistake); the months it covered fall back to the entry before. Audited; commits.
    Returns the person it belonged to."""
    ensure(actor, Permission.VIEW_MARGIN)
    entry = db.session.get(LabourCost, entry_id)
    if entry is None:
        raise NotFound()
    person = entry.person
    record(actor, "labour_cost.delete", "user", person.id,
           summary=_("%(who)s: the entry from %(month)s deleted", who=person.display_name, month=f"{entry.month:%Y-%m}"),
           before={"labour_cost": str(entry.amount), "labour_cost_month": f"{entry.month:%Y-%m}"},
           after={"labour_cost": None, "labour_cost_month": None})
    db.session.delete(entry)
    db.session.commit()
    return person


def default_month(now: datetime | None = None) -> date:
    """The month the page opens on: the newest month with parcels recorded, else last month (a month
    still running has no volumes yet, so its margin would be all cost)."""
    recorded = latest_month()
    current = this_month(now)
    if recorded is not None and recorded <= current:
        return recorded
    return shift_month(current, -1)

