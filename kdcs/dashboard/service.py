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
    """One member of a lead's team: open, overdue, due today, replied today (tickets), each a link;
    whether they are on leave right now (their outlets are covered by a substitute)."""

    user: User
    open: Figure
    overdue: Figure
    today: Figure
    replied: Figure
    on_leave: bool = False


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


def _on_leave_ids(user_ids: list[int], now: datetime) -> set[int]:
    """Which of ``user_ids`` are on leave at ``now`` (the leave coverage's own condition)."""
    from ..leave.coverage import in_force_clause
    from ..models import LeaveRequest

    if not user_ids:
        return set()
    return set(db.session.scalars(select(LeaveRequest.user_id).where(
        LeaveRequest.user_id.in_(user_ids), in_force_clause(now))))


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
    away = _on_leave_ids([m.id for m in members], now)
    lines = []
    for member in members:
        figures = {name: Figure(counts.get(member.id, 0), url_for("tickets.index", **f.args(assignee_id=member.id)))
                   for name, (f, counts) in counted.items()}
        lines.append(AgentLine(member, **figures, on_leave=member.id in away))
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

    overview = my.overview(user, today)
    cert = certification.certification_for(user.id)
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

    @property
    def empty(self) -> bool:
        return not (self.leave_waiting or self.not_live or self.repass)

    @property
    def holds_work(self) -> bool:
        """Whether an agent who is not live still holds outlets or open tickets (the team page lists them)."""
        return any(line.outlets or (line.open and line.open.count) for line in self.not_live)


def lead_attention(lead: User, day: TeamDay, today: date) -> LeadAttention:
    """The lead's home box: leave requests waiting for the lead, the team's agents who are not live
    (with what is missing, their outlets and open tickets) and live agents whose re-pass is due."""
    from ..leave import service as leave
    from ..permissions import Permission, has_permission
    from ..training.certification import gate
    from ..training.certification import service as certification

    waiting = len(leave.inbox(lead)) if has_permission(lead, Permission.APPROVE_LEAVE) else 0
    agents = [line for line in day.lines if line.user.role == Role.AGENT]
    if not agents or not certification.training_required():
        return LeadAttention(waiting, [], [])
    live = gate.certified_ids([line.user.id for line in agents], today=today)
    held = dict(db.session.execute(
        select(Outlet.primary_agent_id, func.count()).where(
            Outlet.primary_agent_id.in_([line.user.id for line in agents]), Outlet.is_active.is_(True))
        .group_by(Outlet.primary_agent_id)).all())
    not_live, repass = [], []
    # One batch for the whole team (the badges of the page below reuse it within the request).
    reasons = certification.missing_reasons_many([line.user.id for line in agents if line.user.id not in live],
                                                 today=today)
    for line in agents:
        if line.user.id not in live:
            not_live.append(NotLiveLine(line.user, reasons[line.user.id],
                                        int(held.get(line.user.id, 0)), line.open))
            continue
        cert = certification.certification_for(line.user.id)
        if cert is not None and cert.flagged_until:
            repass.append((line.user, cert.flagged_until))
    return LeadAttention(waiting, not_live, repass)
