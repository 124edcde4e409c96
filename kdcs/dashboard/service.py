"""What each role sees first on its home page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import url_for
from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from .. import core_sql
from ..extensions import db
from ..filters import SHANGHAI
from ..models import AuditLog, Brand, Notification, Outlet, OutletVolume, Role, Team, User, utcnow
from ..models.user import username_order
from ..outlets.rates import rates_for_month
from ..outlets.service import fees_for_month, latest_month, monthly_fee, visible_outlets_query


@dataclass
class OutletLine:
    outlet: Any  # a row of id, code, name, region, rate_per_parcel, primary_agent_id, brand_name, agent_name
    parcels: int
    fee: Decimal
    rate: Decimal | None = None  # the rate in force that month


@dataclass(slots=True)
class OutletCells:
    """One row of the home pages' outlet table (``_outlet_table.html``), every text formatted and
    HTML-escaped once here: the template places the rows without autoescape."""

    code: str
    href: str
    name: str
    brand: str
    region: str
    agent: str
    parcels: str
    rate: str
    fee: str


@dataclass
class OutletSummary:
    month: date | None
    lines: list[OutletLine] = field(default_factory=list)

    def rows(self, unassigned: str) -> list[OutletCells]:
        """The lines as table cells (``unassigned``: the agent cell of an outlet without one).
        What the template printed with autoescape: ``str(escape(value))`` of each value (None as
        "None", as Jinja printed it), the numbers through the ``num`` and ``money`` filters."""
        from markupsafe import escape

        from ..filters import format_money, format_number

        url = url_for("outlets.detail", outlet_id=_PLACEHOLDER)
        head, tail = url.split(str(_PLACEHOLDER))
        head, tail, unassigned = str(escape(head)), str(escape(tail)), str(escape(unassigned))
        cells = []
        for line in self.lines:
            o = line.outlet
            cells.append(OutletCells(
                str(escape(o.code)), f"{head}{o.id}{tail}", str(escape(o.name)), str(escape(o.brand_name)),
                str(escape(o.region)), str(escape(o.agent_name)) if o.primary_agent_id is not None else unassigned,
                format_number(line.parcels),
                str(escape(format_money(line.rate if line.rate is not None else o.rate_per_parcel, 4))),
                str(escape(format_money(line.fee)))))
        return cells

    @property
    def total_parcels(self) -> int:
        return sum(line.parcels for line in self.lines)

    @property
    def total_fee(self) -> Decimal:
        return sum((line.fee for line in self.lines), Decimal("0.00"))


_SUMMARY_AGENT = aliased(User, name="summary_agent")
_SUMMARY_COLUMNS = (Outlet.id, Outlet.code, Outlet.name, Outlet.region, Outlet.rate_per_parcel, Outlet.primary_agent_id,
                    Brand.name.label("brand_name"), _SUMMARY_AGENT.display_name.label("agent_name"))


# ``outlets.service.latest_month`` as a column of the summary's rows (an uncorrelated subquery: evaluated
# once), and the row's parcels that month (``volumes_by_outlet``: one row per outlet and month, by the
# unique key), so neither is a statement of its own.
_LATEST_MONTH = select(func.max(OutletVolume.month)).scalar_subquery().label("latest_month")
_LATEST_PARCELS = (
    select(OutletVolume.inbound_parcels + OutletVolume.outbound_parcels)
    .where(OutletVolume.outlet_id == Outlet.id,
           OutletVolume.month == select(func.max(OutletVolume.month)).scalar_subquery())
    .correlate(Outlet).scalar_subquery().label("latest_parcels")
)

_PLACEHOLDER = 987654321987  # an id nothing has: a URL built once with it, each row's with its own id swapped in


def outlet_summary(user: User) -> OutletSummary:
    """The active outlets the user may see with their latest volumes and fees (home page): rows of the
    columns shown, not outlets."""
    outlets = db.session.execute(
        visible_outlets_query(user).with_only_columns(*_SUMMARY_COLUMNS, _LATEST_MONTH, _LATEST_PARCELS)
        .outerjoin(Brand, Brand.id == Outlet.brand_id)
        .outerjoin(_SUMMARY_AGENT, _SUMMARY_AGENT.id == Outlet.primary_agent_id)
        .where(Outlet.is_active.is_(True))
        .order_by(Outlet.code)
    ).all()
    month = outlets[0].latest_month if outlets else latest_month()  # read with the rows when there are any
    rates = rates_for_month(outlets, month)  # ``fees_for_month`` with the parcels read with the rows
    lines = []
    for o in outlets:
        parcels = int(o.latest_parcels or 0) if month is not None else 0
        lines.append(OutletLine(o, parcels, monthly_fee(parcels, rates[o.id]), rates[o.id]))
    return OutletSummary(month=month, lines=lines)


@dataclass
class MemberLine:
    user: User
    outlet_count: int
    parcels: int
    fee: Decimal
    on_leave: bool = False


def team_members(team_id: int | None, month: date | None | Any = ...) -> list[MemberLine]:
    """A lead's team: each member with their outlets, parcels and fees of ``month`` (when not
    given, ``latest_month()``: the page names the month it passes), and whether they are on leave now."""
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
    if month is ...:
        month = latest_month()
    fees = fees_for_month(list(outlets), month)  # each fee at the rate in force that month
    away = _on_leave_ids([m.id for m in members], datetime.now(UTC))
    lines = []
    for member in members:
        own = [o for o in outlets if o.primary_agent_id == member.id]
        parcels = sum(fees[o.id][0] for o in own)
        fee = sum((fees[o.id][2] for o in own), Decimal("0.00"))
        lines.append(MemberLine(member, len(own), parcels, fee, on_leave=member.id in away))
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


def _queue_filter(scope: str, **filters):
    from ..tickets import queue

    return queue.QueueFilter(scope=scope, **filters)


def _queue(user: User, scope: str, now: datetime, **filters):
    from ..tickets import queue

    f = _queue_filter(scope, **filters)
    return f, queue.apply_filters(queue.scoped_query(user, scope, now), f, now)


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def _figure(user: User, scope: str, now: datetime, **filters) -> Figure:
    f, query = _queue(user, scope, now, **filters)
    return Figure(_count(query), url_for("tickets.index", **f.args()))


def _figures(user: User, scope: str, now: datetime, *filter_sets: dict) -> list[Figure]:
    """``_figure`` of each filter set, the counts in one statement (a scalar subquery each)."""
    queries = [_queue(user, scope, now, **filters) for filters in filter_sets]
    counts = db.session.execute(select(*(
        select(func.count()).select_from(query.order_by(None).subquery()).scalar_subquery()
        for _f, query in queries))).one()
    return [Figure(count or 0, url_for("tickets.index", **f.args())) for (f, _query), count in zip(queries, counts, strict=True)]


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
    """An agent's home: my overdue, due within the hour, due today, open by category, evidence missing; notices.

    Open (per category), overdue and due within the hour are the queue tab's own figures
    (``queue.scope_counts``: the open-ticket counters); due today and evidence missing are
    counted with the queue's query of that filter."""
    from ..notifications.service import unread_count
    from ..tickets import queue
    from ..tickets.labels import CATEGORY_LABELS

    now = now or utcnow()
    tab = queue.scope_counts(user, "mine", now)

    def counted(count: int, **filters) -> Figure:
        return Figure(count, url_for("tickets.index", **_queue_filter("mine", **filters).args()))

    categories = [(code, str(label), counted(tab.by_category.get(code, {}).get("open", 0), category=code))
                  for code, label in CATEGORY_LABELS.items()]
    notices = db.session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(6)).all()
    counted_day = queue.today_and_evidence_counts(user, "mine", now)  # prebuilt; None: the general queries
    if counted_day is not None:
        today, evidence = counted(counted_day[0], window="today"), counted(counted_day[1], evidence="missing")
    else:
        today, evidence = _figures(user, "mine", now, {"window": "today"}, {"evidence": "missing"})
    return AgentDay(
        overdue=counted(tab.overdue, window="overdue"),
        hour=counted(tab.due_soon, window="hour"),
        today=today,
        open=counted(tab.open),
        evidence=evidence,
        categories=categories,
        notices=list(notices),
        unread=unread_count(user),
    )


@dataclass
class AgentLine:
    """One member of a lead's team: open, overdue, due today, replied today (tickets), each a link;
    whether they are on leave right now (their outlets are covered by a substitute); their
    going-live badge (``certification_badge``'s data, set by ``lead_attention``)."""

    user: Any  # a row of id, username, display_name, role
    open: Figure
    overdue: Figure
    today: Figure
    replied: Figure
    on_leave: bool = False
    badge: dict = field(default_factory=lambda: {"show": False})


@dataclass(slots=True)
class AgentCells:
    """One row of the lead's "today by agent" table, every text HTML-escaped once here (the
    template places the rows without autoescape); ``badge`` goes to the badge template as it is."""

    username: str
    name: str
    on_leave: bool
    badge: dict
    open: int
    open_url: str
    overdue: int
    overdue_url: str
    today: int
    today_url: str
    replied: int
    replied_url: str


@dataclass
class TeamDay:
    lines: list[AgentLine]
    unassigned: Figure
    fines: Figure
    fine_amount: Decimal
    fine_agent_share: Decimal
    team_name: str | None = None  # the lead's team (None: no team)

    def rows(self) -> list[AgentCells]:
        """The lines as table cells: ``str(escape(value))`` of each text, what autoescape printed."""
        from markupsafe import escape

        def esc(value) -> str:
            return str(escape(value))

        return [AgentCells(esc(line.user.username), esc(line.user.display_name), line.on_leave, line.badge,
                           line.open.count, esc(line.open.url), line.overdue.count, esc(line.overdue.url),
                           line.today.count, esc(line.today.url), line.replied.count, esc(line.replied.url))
                for line in self.lines]


def _on_leave_ids(user_ids: list[int], now: datetime) -> set[int]:
    """Which of ``user_ids`` are on leave at ``now`` (the leave coverage's own condition)."""
    from ..leave.coverage import in_force_clause
    from ..models import LeaveRequest
    from ..models.types import UTCDateTime

    if not user_ids:
        return set()
    if "on_leave" not in _STATEMENTS:
        _STATEMENTS["on_leave"] = select(LeaveRequest.user_id).where(
            LeaveRequest.user_id.in_(bindparam("ids", expanding=True)),
            in_force_clause(bindparam("at", type_=UTCDateTime())))
    return set(core_sql.execute(_STATEMENTS["on_leave"], {"ids": user_ids, "at": now}).scalars())


# The lead's per-agent figures. Every ticket assigned to a member of the team is in the lead's
# team scope (the scope is "assigned to a member, or of a member's outlet, or covered"), so a
# member's figures need no scope condition: open and overdue come from the open-ticket counters
# (kdcs/tickets/counts.py: the rows of the hours before the current one are overdue), the
# current hour's overdue and the day's deadlines are counted on the tickets (the
# (assignee, queue_state, due_at) index), and "replied today" starts from the day's replies.
# Each figure still links to the queue filter that lists exactly those tickets, and
# tests/test_dashboard_figures.py compares every figure with a count of that queue query.
_MEMBERS = (
    select(User.id, User.username, User.display_name, User.role,
           select(Team.name).where(Team.id == bindparam("team_id")).scalar_subquery().label("team_name"))
    .where(User.team_id == bindparam("team_id"), User.is_active_account.is_(True),
           User.role.in_([Role.AGENT, Role.LEAD]))
    .order_by(User.role != Role.AGENT, *username_order())
)


def _member_statements():
    from ..models import QueueState, Ticket, TicketReply
    from ..models.ticket_counts import TicketCount

    ids = bindparam("ids", expanding=True)
    counters = (
        select(TicketCount.assignee_id, func.sum(TicketCount.n),
               func.sum(case((and_(TicketCount.slot >= 0, TicketCount.slot < bindparam("hour")), TicketCount.n),
                             else_=0)))
        .where(TicketCount.assignee_id.in_(ids)).group_by(TicketCount.assignee_id)
    )
    start, end = bindparam("day_start", type_=Ticket.due_at.type), bindparam("day_end", type_=Ticket.due_at.type)
    hour_start, now = bindparam("hour_start", type_=Ticket.due_at.type), bindparam("now", type_=Ticket.due_at.type)
    deadlines = (
        select(Ticket.assignee_id,
               func.sum(case((and_(Ticket.due_at >= hour_start, Ticket.due_at < now), 1), else_=0)),
               func.sum(case((and_(Ticket.due_at >= start, Ticket.due_at < end), 1), else_=0)))
        .where(Ticket.assignee_id.in_(ids), Ticket.queue_state == QueueState.ACTIVE,
               Ticket.due_at >= start, Ticket.due_at < end)  # the current hour is part of today
        .group_by(Ticket.assignee_id)
    )
    replied = (
        select(Ticket.assignee_id, func.count())
        .where(Ticket.id.in_(select(TicketReply.ticket_id).where(
            TicketReply.sent_at >= bindparam("day_start", type_=TicketReply.sent_at.type),
            TicketReply.sent_at < bindparam("day_end", type_=TicketReply.sent_at.type))),
            Ticket.assignee_id.in_(ids))
        .group_by(Ticket.assignee_id)
    )
    # One statement: the three grouped reads as parts of a UNION ALL, told apart by a "kind" column.
    from sqlalchemy import Integer, cast, literal_column, null, union_all

    def kind(n):
        return literal_column(str(n), Integer).label("kind")

    return union_all(counters.add_columns(kind(1)), deadlines.add_columns(kind(2)),
                     replied.add_columns(cast(null(), Integer), kind(3)))


_STATEMENTS: dict[str, Any] = {}


def member_figures(member_ids: list[int], now: datetime) -> dict[str, dict[int, int]]:
    """``{"open", "overdue", "today", "replied": {member_id: count}}`` of tickets assigned to each member:
    open, overdue (a pending deadline passed), due today (a pending deadline today, Shanghai), with a
    reply sent today (any status). One statement (three grouped reads in a UNION ALL) whatever the
    team's size."""
    from ..tickets.counts import hour_of
    from ..tickets.queue import shanghai_day_bounds

    figures: dict[str, dict[int, int]] = {"open": {}, "overdue": {}, "today": {}, "replied": {}}
    if not member_ids:
        return figures
    if "members" not in _STATEMENTS:
        _STATEMENTS["members"] = _member_statements()
    hour = hour_of(now)
    hour_start = datetime.fromtimestamp(hour * 3600, UTC)
    day_start, day_end = shanghai_day_bounds(now.astimezone(SHANGHAI).date())
    overdue = figures["overdue"]
    for assignee_id, first, second, kind in core_sql.execute(_STATEMENTS["members"], {
            "ids": member_ids, "hour": hour, "hour_start": hour_start, "now": now,
            "day_start": day_start, "day_end": day_end}):
        if kind == 1:  # the counters: open, overdue in the hours before the current one
            figures["open"][assignee_id] = int(first or 0)
            overdue[assignee_id] = overdue.get(assignee_id, 0) + int(second or 0)
        elif kind == 2:  # the day's deadlines: overdue in the current hour, due today
            overdue[assignee_id] = overdue.get(assignee_id, 0) + int(first or 0)
            figures["today"][assignee_id] = int(second or 0)
        else:  # replied today
            figures["replied"][assignee_id] = int(first)
    return figures




def team_day(lead: User, now: datetime | None = None) -> TeamDay:
    """A lead's home: per agent of the team open / overdue / due today / replied today; unassigned; fines this month."""
    from ..tickets.queue import allowed_scopes

    now = now or utcnow()
    members = core_sql.execute(_MEMBERS, {"team_id": lead.team_id}).all() if lead.team_id else []
    ids = [m.id for m in members]
    measures = {
        "open": {},
        "overdue": {"window": "overdue"},
        "today": {"window": "today"},
        "replied": {"replied": "today", "status": "all"},
    }
    # Whoever may not open the team tab sees an empty team queue: every figure is 0.
    counted = member_figures(ids, now) if "team" in allowed_scopes(lead) and lead.is_active else {}
    bases = {name: url_for("tickets.index", **_queue_filter("team", **filters).args(assignee_id=_PLACEHOLDER))
             for name, filters in measures.items()}
    placeholder = str(_PLACEHOLDER)
    away = _on_leave_ids(ids, now)
    lines = []
    for member in members:
        key = str(member.id)
        figures = {name: Figure(counted.get(name, {}).get(member.id, 0), bases[name].replace(placeholder, key))
                   for name in measures}
        lines.append(AgentLine(member, **figures, on_leave=member.id in away))
    fines, unassigned = team_totals(lead, now) if counted else ((0, 0, 0), 0)
    count, amount, share = fines
    return TeamDay(
        lines=lines,
        unassigned=Figure(unassigned, url_for("tickets.index", **_queue_filter("team", assignee_id=0).args())),
        fines=Figure(count, url_for("tickets.index", **_queue_filter("team", fined="month", status="all").args())),
        fine_amount=Decimal(amount or 0).quantize(Decimal("0.01")),
        fine_agent_share=Decimal(share or 0).quantize(Decimal("0.01")),
        # read with the members (the lead is one of them); without members, from the lead's team
        team_name=members[0].team_name if members else (lead.team.name if lead.team else None),
    )


def _team_statements():
    from ..models import QueueState, Ticket

    members = select(User.id).where(User.team_id == bindparam("team_id")).scalar_subquery()
    team_outlets = select(Outlet.id).where(Outlet.primary_agent_id.in_(members))
    covered = Ticket.outlet_id.in_(bindparam("covered", expanding=True))
    fined = Ticket.fined_at >= bindparam("month_start", type_=Ticket.fined_at.type)
    fines = select(func.count(Ticket.id), func.coalesce(func.sum(Ticket.fine_amount), 0),
                   func.coalesce(func.sum(Ticket.fine_agent_share), 0)).where(
        fined, or_(Ticket.assignee_id.in_(members), Ticket.outlet_id.in_(team_outlets), covered))
    unassigned = select(func.count(Ticket.id)).where(
        Ticket.assignee_id.is_(None), Ticket.queue_state < QueueState.CLOSED,
        or_(Ticket.outlet_id.in_(team_outlets), covered))
    return fines.add_columns(unassigned.scalar_subquery())  # one statement: the fines' row + the count


def team_totals(lead: User, now: datetime) -> tuple[tuple[int, Decimal, Decimal], int]:
    """The lead's team queue (``queue.scoped_query(lead, "team")``: assigned to a member, or of a
    member's outlet, or of an outlet the lead covers): (count, amount, agents' share) of the tickets
    fined this month (Shanghai; any status) and the open unassigned tickets;
    the fines start from the month's fine events. One prebuilt statement."""
    from ..leave.coverage import covered_outlet_ids
    from ..tickets.queue import shanghai_day_bounds

    if "team" not in _STATEMENTS:
        _STATEMENTS["team"] = _team_statements()
    params = {"team_id": lead.team_id, "covered": covered_outlet_ids(lead, now)}
    month_start = shanghai_day_bounds(now.astimezone(SHANGHAI).date().replace(day=1))[0]
    count, amount, share, unassigned = core_sql.execute(_STATEMENTS["team"], {**params, "month_start": month_start}).one()
    return (int(count), amount, share), int(unassigned or 0)


# --------------------------------------------------------------------------- training and going live (上岗)


@dataclass
class TrainingTodo:
    """One thing an agent still has to do for training: a course to (re-)pass or a practical item."""

    title: str
    url: str
    status: str  # the status in words (未开始, 学习中, 未通过, 已逾期, 待复训) or "" for practical items
    code: str  # not_started, in_progress, failed, overdue, recert_due, awaiting_signoff (the trainer's turn) or ""
    due_on: date | None
    overdue: bool
    due_today: bool


@dataclass
class AgentTraining:
    """The agent's home box: going live (since when, re-pass date, or what is missing) and what is due."""

    required: bool  # some 上岗必修 course is published (else nobody needs training to go live)
    live: bool
    since: datetime | None
    repass_by: date | None
    missing: list[str]
    programme: str | None
    day_number: int | None
    todos: list[TrainingTodo]
    next_title: str | None = None
    next_url: str | None = None
    next_is_lesson: bool = False

    @property
    def needs_attention(self) -> bool:
        """Not live, re-pass due, or something due today or overdue."""
        return (self.required and not self.live) or self.repass_by is not None or any(
            t.overdue or t.due_today for t in self.todos)


def agent_training(user: User, today: date) -> AgentTraining:
    """What the agent's home says about training: live or not (and why), the programme day, the
    courses to (re-)pass and the plan's practical items due by today, and the next lesson to open."""
    from ..training.certification import gate
    from ..training.certification import service as certification
    from ..training.my import service as my

    cert = gate.certification_rows([user.id]).get(user.id)  # read once: the gate and the overview reuse it
    overview = my.overview(user, today, others=False)  # the home shows no "other courses"
    live = gate.is_certified(user)
    waiting = {row["course"].id for row in overview["rows"] if row.get("awaiting_signoff")}
    todos = [TrainingTodo(item.course.title, url_for("training.course", course_id=item.course.id),
                          "" if item.course.id in waiting else item.label,
                          "awaiting_signoff" if item.course.id in waiting else item.status, item.due_on,
                          item.status == "overdue" or bool(item.due_on and item.due_on < today), item.due_on == today)
             for item in certification.due_for(user.id, today=today)]
    for row in overview["plan"]:
        if row["finished"] or row["due_on"] > today:
            continue
        practical = row["practical"]
        todos.append(TrainingTodo(practical.title, url_for("training.course", course_id=practical.course_id), "",
                                  "", row["due_on"], row["overdue"], row["due_today"]))
    state = AgentTraining(
        required=certification.training_required(), live=live,
        since=cert.certified_at if cert and live else None,
        repass_by=cert.flagged_until if cert and live and cert.flagged_until else None,
        missing=[] if live else certification.missing_reasons(user.id, today=today),
        programme=overview["enrollment"].programme.title if overview["enrollment"] else None,
        day_number=overview["day_number"], todos=todos)
    if overview["next_lesson"] is not None:
        state.next_title = overview["next_lesson"].title
        state.next_url = url_for("training.lesson", lesson_id=overview["next_lesson"].id)
        state.next_is_lesson = True
    elif overview["next"] is not None:  # a course with work for the agent (not one waiting for a sign-off)
        course = overview["next"]["course"]
        state.next_title, state.next_url = course.title, url_for("training.course", course_id=course.id)
    else:
        actionable = [t for t in todos if t.code != "awaiting_signoff"]
        if actionable:
            state.next_title, state.next_url = actionable[0].title, actionable[0].url
    return state


@dataclass
class NotLiveLine:
    """A team member who is not live (上岗): what is missing and what they still hold."""

    user: User
    missing: list[str]
    outlets: int
    open: Figure | None  # their open tickets, linked to the queue


@dataclass
class LeadAttention:
    """What a lead should act on today besides the queue: leave to decide, agents not live, re-passes due."""

    leave_waiting: int
    not_live: list[NotLiveLine]
    repass: list[tuple[User, date]]
    overtime_waiting: int = 0  # 加班 entries of the team's agents to decide
    disputes_waiting: int = 0  # 质检 scores the team's agents disputed (申诉)

    @property
    def empty(self) -> bool:
        return not (self.leave_waiting or self.not_live or self.repass or self.overtime_waiting
                    or self.disputes_waiting)

    @property
    def holds_work(self) -> bool:
        """Whether an agent who is not live still holds outlets or open tickets (the team page lists them)."""
        return any(line.outlets or (line.open and line.open.count) for line in self.not_live)


def lead_attention(lead: User, day: TeamDay, today: date, summary: OutletSummary | None = None) -> LeadAttention:
    """The lead's home box: leave requests, overtime and 质检 disputes waiting for the lead, the team's agents who are not live
    (with what is missing, their outlets and open tickets) and live agents whose re-pass is due.
    Sets each line's going-live badge from the same reads (one statement for the team's rows).
    ``summary``: the lead's ``outlet_summary`` (the outlets each agent holds are counted from it)."""
    from ..leave import service as leave
    from ..overtime.service import waiting_count
    from ..permissions import Permission, has_permission
    from ..quality.service import open_appeal_count
    from ..training.certification import gate
    from ..training.certification import service as certification

    waiting = leave.inbox_count(lead) if has_permission(lead, Permission.APPROVE_LEAVE) else 0
    overtime = waiting_count(lead)
    disputes = open_appeal_count(lead)
    agents = [line for line in day.lines if line.user.role == Role.AGENT]
    if not agents or not certification.training_required():
        return LeadAttention(waiting, [], [], overtime, disputes)
    ids = [line.user.id for line in agents]
    rows = gate.certification_rows(ids)
    live = {user_id for user_id in ids if gate.row_is_live(rows.get(user_id), today)}
    if summary is not None:  # the lead's outlets are the team's active outlets: count them there
        held: dict[int, int] = {}
        for outlet_line in summary.lines:
            held[outlet_line.outlet.primary_agent_id] = held.get(outlet_line.outlet.primary_agent_id, 0) + 1
    else:
        held = dict(db.session.execute(
            select(Outlet.primary_agent_id, func.count()).where(
                Outlet.primary_agent_id.in_(ids), Outlet.is_active.is_(True))
            .group_by(Outlet.primary_agent_id)).all())
    not_live, repass = [], []
    # One batch for the whole team (the badges below reuse it).
    reasons = certification.missing_reasons_many([user_id for user_id in ids if user_id not in live], today=today)
    for line in agents:
        if line.user.id not in live:
            not_live.append(NotLiveLine(line.user, reasons[line.user.id],
                                        int(held.get(line.user.id, 0)), line.open))
            continue
        cert = rows.get(line.user.id)
        if cert is not None and cert.flagged_until:
            repass.append((line.user, cert.flagged_until))
    badges = gate.badges([line.user for line in agents], today=today, reasons=reasons, rows=rows)
    for line in agents:
        line.badge = badges[line.user.id]
    return LeadAttention(waiting, not_live, repass, overtime, disputes)
