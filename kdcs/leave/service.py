"""Leave requests: types, balances, the handover, substitutes, approvals, the state machine.

Every public function takes the acting user first and checks permission itself (views
check too); state changes add a ``LeaveEvent`` (who, when, from → to, note), an audit row
and a notification for the next person to the session — the caller commits.

The flow is one explicit table (``TRANSITIONS``)::

    草稿 → 已提交 → 替补已确认 → 已批准 / 已驳回 → 休假中 → 已销假
    (a substitute's decline sends it back to 草稿; 撤销 before the start)

Concurrency: every request row carries a version (SQLAlchemy ``version_id_col``). A
decision names the version its form was loaded with; a different stored version, or a
concurrent writer that wins the UPDATE, raises ``LeaveConflict`` whose message says what
happened (approved by whom and when, cancelled ...), so two leads approving at once or an
approval racing a cancellation leave exactly one outcome, and a resubmitted form cannot
replay a decision.

Nobody approves their own leave: ``approver_for`` sends a lead's own leave (or any leave
whose lead is away or missing) to the fallback approver an admin sets, else to an admin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import core_sql
from ..auditing import record, record_active_change, register_labels, snapshot
from ..extensions import db
from ..models import Outlet, Role, Team, Ticket, User
from ..models.leave import (
    DayPart,
    LeaveEvent,
    LeaveHandover,
    LeaveRequest,
    LeaveStatus,
    LeaveType,
    TeamStaffing,
)
from ..models.ticket import QueueState
from ..models.types import utcnow
from ..models.user import username_order
from ..notifications.service import notify
from ..permissions import Permission, ensure, has_permission
from ..service_errors import NotFound, StaleEdit, ValidationError
from ..workcalendar import SHANGHAI, DbCalendar
from . import rules

S = LeaveStatus
# Statuses in which a request holds its dates (it blocks overlapping leave of the same person
# and of its substitutes, and counts against the balance).
HOLDING = (S.SUBMITTED, S.SUBSTITUTE_ACCEPTED, S.APPROVED, S.IN_PROGRESS)
COUNTED = (S.SUBMITTED, S.SUBSTITUTE_ACCEPTED, S.APPROVED, S.IN_PROGRESS, S.RETURNED)
COVERING = (S.APPROVED, S.IN_PROGRESS)
FINAL = (S.REJECTED, S.RETURNED, S.CANCELLED)

# (from, action) → to. Anything else is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.DRAFT, "submit"): S.SUBMITTED,
    (S.SUBMITTED, "accept"): S.SUBSTITUTE_ACCEPTED,
    (S.SUBMITTED, "decline"): S.DRAFT,
    (S.SUBSTITUTE_ACCEPTED, "approve"): S.APPROVED,
    (S.SUBSTITUTE_ACCEPTED, "reject"): S.REJECTED,
    (S.APPROVED, "start"): S.IN_PROGRESS,
    (S.APPROVED, "return"): S.RETURNED,  # the task noticed only after the end
    (S.IN_PROGRESS, "return"): S.RETURNED,
    (S.DRAFT, "cancel"): S.CANCELLED,
    (S.SUBMITTED, "cancel"): S.CANCELLED,
    (S.SUBSTITUTE_ACCEPTED, "cancel"): S.CANCELLED,
    (S.APPROVED, "cancel"): S.CANCELLED,
}

FALLBACK_SETTING = "leave.fallback_approver_id"
PROOF_PENDING, PROOF_LATER, PROOF_RECEIVED = "pending", "later", "received"
TEXT_MAX = 500
NOTE_MAX = 500

register_labels(
    actions={
        "leave_type.create": "新建假期类型", "leave_type.update": "修改假期类型",
        "leave_type.activate": "启用假期类型", "leave_type.deactivate": "停用假期类型",
        "leave.create": "新建请假", "leave.submit": "提交请假", "leave.accept": "替补确认",
        "leave.decline": "替补拒绝", "leave.approve": "批准请假", "leave.reject": "驳回请假",
        "leave.cancel": "撤销请假", "leave.start": "开始休假", "leave.return": "销假",
        "leave.staffing": "设置最低在岗人数", "leave.proof": "确认收到证明",
    },
    entities={"leave_type": "假期类型", "leave_request": "请假"},
    fields={"notice_days": "提前天数", "short_notice_allowed": "允许临时申请", "min_days": "最短天数",
            "max_days": "最长天数", "half_days_allowed": "允许半天", "proof_required": "需要证明",
            "proof_after_allowed": "可事后补交证明", "yearly_allowance_days": "年度额度", "proof_status": "证明"},
)


class LeaveConflict(StaleEdit):
    """Someone else changed the request first; the message says what happened (answer 409)."""


def status_label(status: str) -> str:
    """The Chinese name of a status."""
    return {
        S.DRAFT: _("Draft"), S.SUBMITTED: _("Submitted"), S.SUBSTITUTE_ACCEPTED: _("Substitute accepted"),
        S.APPROVED: _("Approved"), S.REJECTED: _("Rejected"), S.IN_PROGRESS: _("On leave"),
        S.RETURNED: _("Returned from leave"), S.CANCELLED: _("Withdrawn"),
    }.get(status, status)


def part_label(part: str) -> str:
    """全天 / 上午 / 下午."""
    return {DayPart.FULL: _("Full day"), DayPart.AM: _("Morning"), DayPart.PM: _("Afternoon")}.get(part, part)


def beijing(at: datetime | None) -> str:
    """``2026-12-01 14:30`` in Beijing time (empty for None)."""
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else ""


# --------------------------------------------------------------------------- leave types

SEED_TYPES = [
    # code, name, notice, short notice, min, max, half days, proof, proof after, allowance
    ("annual", "年假", 2, False, "0.5", None, True, False, False, "5"),
    ("personal", "事假", 2, False, "0.5", "10", True, False, False, None),
    ("sick", "病假", 2, True, "0.5", None, True, True, True, None),
    ("compensatory", "调休", 2, False, "0.5", "5", True, False, False, None),
    ("marriage", "婚假", 7, False, "1", "13", False, True, False, None),
    ("bereavement", "丧假", 0, True, "1", "3", False, True, True, None),
    ("maternity", "产假", 14, False, "1", "158", False, True, False, None),
    ("other", "其他", 2, True, "0.5", None, True, False, False, None),
]


def seed_leave_types() -> int:
    """Add the standard leave types that are missing (by code); returns how many were added."""
    existing = set(db.session.scalars(select(LeaveType.code)))
    added = 0
    for order, (code, name, notice, short, lo, hi, half, proof, after, allowance) in enumerate(SEED_TYPES):
        if code in existing:
            continue
        db.session.add(LeaveType(
            code=code, name=name, notice_days=notice, short_notice_allowed=short, min_days=Decimal(lo),
            max_days=Decimal(hi) if hi else None, half_days_allowed=half, proof_required=proof,
            proof_after_allowed=after, yearly_allowance_days=Decimal(allowance) if allowance else None,
            sort_order=(order + 1) * 10,
        ))
        added += 1
    return added


TYPE_FIELDS = ["name", "notice_days", "short_notice_allowed", "min_days", "max_days", "half_days_allowed",
               "proof_required", "proof_after_allowed", "yearly_allowance_days", "is_active"]


def leave_types(actor: User | None = None, *, active_only: bool = True) -> list[LeaveType]:
    """Leave types in their order (active ones unless ``active_only`` is False)."""
    query = select(LeaveType).order_by(LeaveType.sort_order, LeaveType.id)
    if active_only:
        query = query.where(LeaveType.is_active.is_(True))
    return list(db.session.scalars(query))


def _check_type(values: dict, current: LeaveType | None) -> dict:
    errors: dict[str, str] = {}
    name = (values.get("name") or "").strip()
    values["name"] = name
    if not name:
        errors["name"] = _("Enter the type's name.")
    elif len(name) > 32:
        errors["name"] = _("At most %(max)d characters.", max=32)
    else:
        query = select(LeaveType.id).where(LeaveType.name == name)
        if current is not None:
            query = query.where(LeaveType.id != current.id)
        if db.session.scalar(query):
            errors["name"] = _("A leave type named %(name)s already exists.", name=name)
    notice = values.get("notice_days")
    if notice is None or not 0 <= notice <= 365:
        errors["notice_days"] = _("Enter a number of days from 0 to 365.")
    for key in ("min_days", "max_days", "yearly_allowance_days"):
        value = values.get(key)
        if value is None:
            continue
        if value < 0 or value > 366 or (value * 2) % 1 != 0:
            errors[key] = _("Enter whole or half days from 0 to 366.")
    lo, hi = values.get("min_days"), values.get("max_days")
    if lo is None and "min_days" not in errors:
        values["min_days"] = Decimal("0.5")
    if lo is not None and hi is not None and hi < lo and "max_days" not in errors:
        errors["max_days"] = _("The maximum is below the minimum.")
    return errors


def create_type(actor: User, **values) -> LeaveType:
    """Admin: a new leave type."""
    ensure(actor, Permission.MANAGE_LEAVE)
    errors = _check_type(values, None)
    if errors:
        raise ValidationError(errors)
    code = f"t{(db.session.scalar(select(func.max(LeaveType.id))) or 0) + 1}"
    order = (db.session.scalar(select(func.max(LeaveType.sort_order))) or 0) + 10
    leave_type = LeaveType(code=code, sort_order=order, **values)
    db.session.add(leave_type)
    db.session.flush()
    record(actor, "leave_type.create", "leave_type", leave_type.id, summary=leave_type.name,
           after=snapshot(leave_type, TYPE_FIELDS))
    return leave_type


def update_type(actor: User, leave_type: LeaveType, *, version: int, **values) -> LeaveType:
    """Admin: change a leave type's rules (optimistic lock on ``version``)."""
    ensure(actor, Permission.MANAGE_LEAVE)
    if version != leave_type.version:
        raise StaleEdit()
    errors = _check_type(values, leave_type)
    if errors:
        raise ValidationError(errors)
    before = snapshot(leave_type, TYPE_FIELDS)
    for key, value in values.items():
        setattr(leave_type, key, value)
    record(actor, "leave_type.update", "leave_type", leave_type.id, summary=leave_type.name,
           before=before, after=snapshot(leave_type, TYPE_FIELDS))
    return leave_type


def set_type_active(actor: User, leave_type: LeaveType, active: bool) -> LeaveType:
    """Admin: offer or withdraw a leave type (requests made with it stay)."""
    ensure(actor, Permission.MANAGE_LEAVE)
    record_active_change(actor, leave_type, active, "leave_type", leave_type.name)
    return leave_type


# --------------------------------------------------------------------------- settings

def fallback_approver() -> User | None:
    """The approver an admin set for leave whose lead is away, missing, or is the requester."""
    from ..settings import get_setting

    user_id = get_setting(FALLBACK_SETTING)
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active_account or not has_permission(user, Permission.APPROVE_LEAVE):
        return None
    return user


def approver_choices() -> list[User]:
    """Who may be the fallback approver: active leads and admins."""
    return list(db.session.scalars(
        select(User).where(User.role.in_([Role.LEAD.value, Role.ADMIN.value]), User.is_active_account.is_(True))
        .order_by(*username_order())
    ))


def set_fallback_approver(actor: User, user_id: int | None) -> None:
    """Admin: set (or clear) the fallback approver."""
    from ..settings import set_setting

    ensure(actor, Permission.MANAGE_LEAVE)
    if user_id:
        user = db.session.get(User, user_id)
        if user is None or user not in approver_choices():
            raise ValidationError({"user_id": _("Choose an active team lead or admin.")})
    set_setting(actor, FALLBACK_SETTING, user_id or None)


def min_staffing(team_id: int | None) -> int:
    """The minimum number of agents the team needs at work on a working day (0: none set)."""
    if not team_id:
        return 0
    row = db.session.get(TeamStaffing, team_id)
    return row.min_agents if row else 0


def min_staffing_of(team_ids) -> dict[int, int]:
    """``min_staffing`` of several teams in one statement (``{team_id: minimum}``; 0 where none is set)."""
    ids = [team_id for team_id in team_ids if team_id]
    found = dict(db.session.execute(
        select(TeamStaffing.team_id, TeamStaffing.min_agents).where(TeamStaffing.team_id.in_(ids))).all()) if ids else {}
    return {team_id: found.get(team_id, 0) for team_id in ids}


def set_min_staffing(actor: User, team: Team, min_agents: int) -> TeamStaffing:
    """A lead (own team) or an admin: set a team's minimum staffing."""
    ensure(actor, Permission.APPROVE_LEAVE)
    if not has_permission(actor, Permission.MANAGE_LEAVE) and team.lead_id != actor.id:
        raise NotFound()
    if min_agents is None or not 0 <= min_agents <= 999:
        raise ValidationError({"min_agents": _("Enter a number from 0 to 999.")})
    row = db.session.get(TeamStaffing, team.id)
    before = row.min_agents if row else 0
    if row is None:
        row = TeamStaffing(team_id=team.id, min_agents=min_agents)
        db.session.add(row)
    row.min_agents = min_agents
    if before != min_agents:
        record(actor, "leave.staffing", "team", team.id, summary=team.name,
               before={"min_agents": before}, after={"min_agents": min_agents})
    return row


# --------------------------------------------------------------------------- reading

def get_request(actor: User, request_id: int, *options) -> LeaveRequest:
    """A request the actor may see (the requester, a substitute, the approver, the team's lead,
    an admin); otherwise ``NotFound``. ``options``: loader options (what the page shows of it)."""
    leave = db.session.get(LeaveRequest, request_id, options=options)
    if leave is None or not can_view(actor, leave):
        raise NotFound()
    return leave


def can_view(actor: User, leave: LeaveRequest) -> bool:
    """Whether ``actor`` may see the request."""
    if actor.id == leave.user_id or actor.id == leave.approver_id:
        return True
    if has_permission(actor, Permission.MANAGE_LEAVE) or actor.role == Role.ADMIN:
        return True
    if any(h.substitute_id == actor.id for h in leave.handover) and leave.status != S.DRAFT:
        return True
    team = leave.user.team
    if has_permission(actor, Permission.APPROVE_LEAVE) and team and team.lead_id == actor.id:
        return True
    return leave.status == S.SUBSTITUTE_ACCEPTED and may_decide(actor, leave)  # the fallback for an away lead


def my_requests(actor: User) -> list[LeaveRequest]:
    """The actor's own requests, newest first."""
    ensure(actor, Permission.REQUEST_LEAVE)
    return list(db.session.scalars(
        select(LeaveRequest).where(LeaveRequest.user_id == actor.id)
        .options(selectinload(LeaveRequest.leave_type))
        .order_by(LeaveRequest.start_date.desc(), LeaveRequest.id.desc())
    ))


def awaiting_my_answer(actor: User) -> list[LeaveRequest]:
    """Submitted requests naming the actor as substitute who has not answered yet (with their
    requesters, whom the list names: one statement, not one per requester)."""
    return list(db.session.scalars(
        select(LeaveRequest).options(selectinload(LeaveRequest.user))
        .join(LeaveHandover, LeaveHandover.request_id == LeaveRequest.id)
        .where(LeaveRequest.status == S.SUBMITTED, LeaveHandover.substitute_id == actor.id,
               LeaveHandover.substitute_answer.is_(None))
        .distinct().order_by(LeaveRequest.start_date)
    ))


def _waiting_for(actor: User, *columns):
    """SELECT ``columns`` of the requests waiting for the actor's decision (``inbox``'s rows)."""
    ensure(actor, Permission.APPROVE_LEAVE)
    query = select(*columns).select_from(LeaveRequest).where(LeaveRequest.status == S.SUBSTITUTE_ACCEPTED,
                                                             LeaveRequest.user_id != actor.id)
    if actor.role != Role.ADMIN:
        fallback = fallback_approver()
        if fallback is not None and fallback.id == actor.id:  # also what waits for an approver who is away
            query = query.where(or_(LeaveRequest.approver_id == actor.id,
                                    LeaveRequest.approver_id.in_(_away_user_ids(utcnow()))))
        else:
            query = query.where(LeaveRequest.approver_id == actor.id)
    return query


def inbox(actor: User, *options) -> list[LeaveRequest]:
    """Requests waiting for the actor's decision (substitute accepted), oldest first; admins see
    every waiting request they did not make. ``options``: loader options (``inbox.LOADS``)."""
    query = _waiting_for(actor, LeaveRequest).options(*options)
    return list(db.session.scalars(query.order_by(LeaveRequest.submitted_at, LeaveRequest.id)))


def inbox_count(actor: User) -> int:
    """How many requests ``inbox`` holds, counted in the database (the lead's home says how many
    wait: it loaded every request to count them)."""
    return db.session.scalar(_waiting_for(actor, func.count(LeaveRequest.id))) or 0


def team_requests(actor: User) -> list[LeaveRequest]:
    """Recent and coming requests of the lead's team members (not drafts), for the inbox's history."""
    ensure(actor, Permission.APPROVE_LEAVE)
    query = (select(LeaveRequest).join(User, User.id == LeaveRequest.user_id)
             .where(LeaveRequest.status != S.DRAFT, LeaveRequest.user_id != actor.id))
    if actor.role != Role.ADMIN:
        query = query.join(Team, Team.id == User.team_id).where(
            or_(Team.lead_id == actor.id, LeaveRequest.approver_id == actor.id))
    since = utcnow() - timedelta(days=60)
    return list(db.session.scalars(query.where(LeaveRequest.end_at >= since)
                                   .order_by(LeaveRequest.start_date.desc()).limit(50)))


@dataclass
class Balance:
    """One leave type's yearly allowance, what is used or asked for, and what is left."""

    leave_type: LeaveType
    year: int
    allowance: Decimal
    used: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.allowance - self.used


def used_days(user_id: int, type_id: int, year: int, exclude_id: int | None = None) -> Decimal:
    """Working days of the user's requests of this type starting in ``year`` that are not
    drafts, rejected or cancelled."""
    query = select(func.coalesce(func.sum(LeaveRequest.working_days), 0)).where(
        LeaveRequest.user_id == user_id, LeaveRequest.type_id == type_id,
        LeaveRequest.status.in_(COUNTED),
        LeaveRequest.start_date >= date(year, 1, 1), LeaveRequest.start_date <= date(year, 12, 31),
    )
    if exclude_id:
        query = query.where(LeaveRequest.id != exclude_id)
    return Decimal(str(db.session.scalar(query) or 0))


def balances(user: User, year: int | None = None) -> list[Balance]:
    """The user's balances for every active type with an allowance."""
    year = year or rules.beijing_today().year
    return [Balance(t, year, t.yearly_allowance_days, used_days(user.id, t.id, year))
            for t in leave_types() if t.yearly_allowance_days is not None]


# --------------------------------------------------------------------------- the handover

@dataclass
class OutletHandover:
    """One outlet of the handover form: its open tickets and those due inside the leave (rows of
    id, outlet_id, waybill_no, due_at, reason_name: what the form, the inbox and the print show)."""

    outlet: Outlet
    open_tickets: list
    due_inside: list


def _handover_tickets_statement():
    from ..models.ticket import TicketReason

    return (select(Ticket.id, Ticket.outlet_id, Ticket.waybill_no, Ticket.due_at,
                   TicketReason.name.label("reason_name"))
            .outerjoin(TicketReason, TicketReason.id == Ticket.reason_id)
            .where(Ticket.outlet_id.in_(bindparam("outlet_ids", expanding=True)),
                   Ticket.queue_state != QueueState.CLOSED)
            .order_by(Ticket.due_at.is_(None), Ticket.due_at, Ticket.id))


_STATEMENTS: dict[str, object] = {}


def handover_tickets_statement():
    """The open tickets of the outlets ``outlet_ids`` (a bind parameter), soonest due first; built once per process."""
    statement = _STATEMENTS.get("handover_tickets")
    if statement is None:
        statement = _STATEMENTS["handover_tickets"] = _handover_tickets_statement()
    return statement


def handover_outlets(user: User, start_at: datetime | None = None, end_at: datetime | None = None
                     ) -> list[OutletHandover]:
    """Every active outlet the user serves, with its open tickets (and those whose deadline falls
    inside the window, when given)."""
    outlets = list(db.session.scalars(
        select(Outlet).where(Outlet.primary_agent_id == user.id, Outlet.is_active.is_(True)).order_by(Outlet.code)
    ))
    tickets: dict[int, list] = {o.id: [] for o in outlets}
    if outlets:
        for ticket in core_sql.execute(handover_tickets_statement(), {"outlet_ids": list(tickets)}):
            tickets[ticket.outlet_id].append(ticket)
    return [outlet_handover(outlet, tickets[outlet.id], start_at, end_at) for outlet in outlets]


def outlet_handover(outlet: Outlet, open_tickets: list, start_at: datetime | None, end_at: datetime | None
                    ) -> OutletHandover:
    """An outlet with its open tickets and those due inside ``[start_at, end_at)`` (none without a window)."""
    due = [t for t in open_tickets if t.due_at and start_at and end_at and start_at <= t.due_at < end_at]
    return OutletHandover(outlet, open_tickets, due)


def handover_rows(leave: LeaveRequest) -> list[tuple[LeaveHandover, OutletHandover]]:
    """Each handed-over outlet with its tickets now (for the handover page and the print)."""
    by_outlet = {h.outlet.id: h for h in handover_outlets(leave.user, leave.start_at, leave.end_at)}
    rows = []
    for item in leave.handover:
        found = by_outlet.get(item.outlet_id) or OutletHandover(item.outlet, [], [])
        rows.append((item, found))
    return rows


def substitute_candidates(user: User) -> list[User]:
    """Agents the user may pick (active, certified (上岗) agents, own team first; checks tell what
    else applies)."""
    from ..training.certification.gate import certified_filter

    agents = list(db.session.scalars(certified_filter(
        select(User).where(User.role == Role.AGENT.value, User.is_active_account.is_(True), User.id != user.id)
        .order_by(*username_order())
    )))
    return sorted(agents, key=lambda a: 0 if user.team_id and a.team_id == user.team_id else 1)


# --------------------------------------------------------------------------- substitute checks

def is_certified(candidate: User, outlet: Outlet | None) -> bool | None:
    """Whether ``candidate`` is certified (上岗) to serve ``outlet`` (kdcs.training.certification.gate).

    None ("not checked") while no published 上岗必修 course exists: then everyone counts as
    certified and the check says so; otherwise True/False, which ``substitute_checks`` enforces.
    """
    from ..training.certification import gate
    from ..training.certification import service as certification

    if not certification.training_required():
        return None
    return gate.is_certified(candidate)


@dataclass
class Check:
    """One substitute check: passed or not, its message, and whether a lead may override it."""

    code: str
    ok: bool | None  # None: not checked (no data yet)
    message: str
    overridable: bool = False


@dataclass
class Load:
    """A candidate's load over a period."""

    own_outlets: int
    covered_outlets: int  # outlets already handed to them by others' approved/pending leave
    due_tickets: int  # open tickets of those outlets due in the period
    per_day: list[tuple[date, int, int]] = field(default_factory=list)  # (day, outlets served, tickets due)


def overlapping_leave(user_id: int, start_at: datetime, end_at: datetime, exclude_id: int | None = None
                      ) -> LeaveRequest | None:
    """The user's own leave (submitted or later, not ended) that overlaps the window."""
    query = select(LeaveRequest).where(
        LeaveRequest.user_id == user_id, LeaveRequest.status.in_(HOLDING),
        LeaveRequest.start_at < end_at, LeaveRequest.end_at > start_at,
    )
    if exclude_id:
        query = query.where(LeaveRequest.id != exclude_id)
    return db.session.scalars(query.order_by(LeaveRequest.start_at)).first()


def substitute_checks(requester: User, candidate: User | None, start_at: datetime, end_at: datetime,
                      *, exclude_id: int | None = None, outlet: Outlet | None = None) -> list[Check]:
    """Active agent, not the requester, not on overlapping leave, same team (overridable by the
    lead), certified (once training exists)."""
    if candidate is None:
        return [Check("missing", False, _("Choose a substitute."))]
    checks = []
    active = candidate.is_active_account and candidate.role == Role.AGENT
    checks.append(Check("active", bool(active) and candidate.id != requester.id,
                        _("Active agent") if active and candidate.id != requester.id else
                        (_("You cannot be your own substitute.") if candidate.id == requester.id
                         else _("%(name)s is not an active agent.", name=candidate.display_name))))
    away = overlapping_leave(candidate.id, start_at, end_at, exclude_id)
    checks.append(Check("away", away is None, _("Not on leave in this period") if away is None else
                        _("%(name)s is on leave %(start)s – %(end)s.", name=candidate.display_name,
                          start=away.start_date.isoformat(), end=away.end_date.isoformat())))
    same = bool(requester.team_id) and candidate.team_id == requester.team_id
    checks.append(Check("team", same, _("Same team") if same else
                        _("%(name)s is in another team: the lead must allow it.", name=candidate.display_name),
                        overridable=True))
    certified = is_certified(candidate, outlet)
    checks.append(Check("certified", certified,
                        _("Certification not checked (training does not exist yet)") if certified is None else
                        (_("Certified") if certified else _certification_refusal(candidate))))
    return checks


def _certification_refusal(candidate: User) -> str:
    """The gate's reason naming the missing course(s), else the plain sentence."""
    from ..training.certification.gate import refusal_reason

    return refusal_reason(candidate) or _("%(name)s is not certified.", name=candidate.display_name)


def blocking(checks: list[Check], team_override: bool = False) -> list[Check]:
    """The failed checks that stop a request (an overridable one stops it unless overridden)."""
    return [c for c in checks if c.ok is False and not (c.overridable and team_override)]


def _covered_by(user_id: int, start_at: datetime, end_at: datetime, exclude_id: int | None = None):
    """(request, outlet_id) handed to the user by others' leave that is pending or approved and overlaps."""
    query = (select(LeaveRequest, LeaveHandover.outlet_id)
             .join(LeaveHandover, LeaveHandover.request_id == LeaveRequest.id)
             .where(LeaveHandover.substitute_id == user_id,
                    LeaveRequest.status.in_((S.SUBSTITUTE_ACCEPTED, *COVERING)),
                    LeaveRequest.returned_at.is_(None),
                    LeaveRequest.start_at < end_at, LeaveRequest.end_at > start_at))
    if exclude_id:
        query = query.where(LeaveRequest.id != exclude_id)
    return list(db.session.execute(query))


def substitute_load(candidate: User, start_at: datetime, end_at: datetime, *, exclude_id: int | None = None,
                    extra_outlet_ids: list[int] | tuple = ()) -> Load:
    """The candidate's load over the window: own outlets, outlets already covered for others,
    open tickets of all those due in it; per day of the window (with ``extra_outlet_ids``, the
    outlets this request would add)."""
    own = set(db.session.scalars(select(Outlet.id).where(Outlet.primary_agent_id == candidate.id,
                                                         Outlet.is_active.is_(True))))
    covered = _covered_by(candidate.id, start_at, end_at, exclude_id)
    covered_ids = {oid for _r, oid in covered}
    all_ids = own | covered_ids | set(extra_outlet_ids)
    dues = list(db.session.scalars(
        select(Ticket.due_at).where(Ticket.outlet_id.in_(all_ids), Ticket.queue_state != QueueState.CLOSED,
                                    Ticket.due_at >= start_at, Ticket.due_at < end_at)
    )) if all_ids else []
    return load_of(own, [(r.start_at, r.end_at, oid) for r, oid in covered], extra_outlet_ids, dues,
                   start_at, end_at)


def load_of(own: set[int], covered: list[tuple[datetime, datetime, int]], extra_outlet_ids, due_times: list,
            start_at: datetime, end_at: datetime) -> Load:
    """The ``Load`` of a candidate from what was read: their own outlets, the (start, end, outlet)
    they already cover, the outlets this request would add, the open tickets' deadlines inside the
    window; per Beijing day of the window (``substitute_load`` and the inbox read at once)."""
    covered_ids = {outlet_id for _start, _end, outlet_id in covered}
    per_day = []
    first = start_at.astimezone(SHANGHAI).date()
    last = (end_at - timedelta(seconds=1)).astimezone(SHANGHAI).date()
    for day in rules.days_of(first, last):
        day_start = datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI).astimezone(UTC)
        day_end = day_start + timedelta(days=1)
        outlets = set(own) | set(extra_outlet_ids)
        outlets |= {outlet_id for start, end, outlet_id in covered if start < day_end and end > day_start}
        per_day.append((day, len(outlets), sum(1 for d in due_times if day_start <= d < day_end)))
    return Load(len(own), len(covered_ids - own), len(due_times), per_day)


@dataclass
class StaffDay:
    """One day of a leave seen by the lead: who else is away and whether the team is short."""

    day: date
    workday: bool
    agents: int  # active agents of the team
    away: int  # away that day, this request included
    minimum: int

    @property
    def short(self) -> bool:
        return self.workday and self.minimum > 0 and self.agents - self.away < self.minimum


def staffing_days(leave: LeaveRequest) -> list[StaffDay]:
    """For each day of the leave: the team's agents, how many are away (this leave counted),
    and whether that is below the team's minimum staffing."""
    team_id = leave.user.team_id
    calendar = DbCalendar()
    minimum = min_staffing(team_id)
    agents = db.session.scalar(select(func.count(User.id)).where(
        User.team_id == team_id, User.role == Role.AGENT.value, User.is_active_account.is_(True))) if team_id else 0
    others = list(db.session.scalars(
        select(LeaveRequest).join(User, User.id == LeaveRequest.user_id)
        .where(User.team_id == team_id, User.role == Role.AGENT.value, LeaveRequest.id != leave.id,
               LeaveRequest.user_id != leave.user_id,
               LeaveRequest.status.in_((S.SUBSTITUTE_ACCEPTED, *COVERING)), LeaveRequest.returned_at.is_(None),
               LeaveRequest.start_at < leave.end_at, LeaveRequest.end_at > leave.start_at)
    )) if team_id else []
    return staff_days(leave, agents or 0, minimum, others, calendar)


def staff_days(leave: LeaveRequest, agents: int, minimum: int, others, calendar) -> list[StaffDay]:
    """``staffing_days`` from what was read: the team's active agents, its minimum, the team's other
    leaves overlapping this one (anything with ``start_date``/``end_date``) and a work calendar."""
    own = 1 if leave.user.role == Role.AGENT else 0
    return [StaffDay(day, calendar(day), agents, sum(1 for r in others if r.start_date <= day <= r.end_date) + own,
                     minimum) for day in rules.days_of(leave.start_date, leave.end_date)]


# --------------------------------------------------------------------------- who approves

def _away_user_ids(at: datetime):
    """SELECT of the users on approved leave at ``at`` (not back early)."""
    return select(LeaveRequest.user_id).where(
        LeaveRequest.status.in_(COVERING), LeaveRequest.start_at <= at, LeaveRequest.end_at > at,
        LeaveRequest.returned_at.is_(None))


def _is_away(user: User | None, at: datetime) -> bool:
    return user is not None and db.session.scalar(
        select(func.count()).select_from(_away_user_ids(at).where(LeaveRequest.user_id == user.id).subquery())) > 0


def approver_for(user: User, at: datetime | None = None) -> User | None:
    """Who decides ``user``'s leave: the team's lead, unless that is the user (a lead's own
    leave), the lead is away now, or there is none — then the fallback approver an admin set,
    else the first active admin. Never the user."""
    at = at or utcnow()
    lead = user.team.lead if user.team else None
    if lead is not None and lead.id != user.id and lead.is_active_account and not _is_away(lead, at):
        return lead
    fallback = fallback_approver()
    if fallback is not None and fallback.id != user.id and not _is_away(fallback, at):
        return fallback
    return db.session.scalars(
        select(User).where(User.role == Role.ADMIN.value, User.is_active_account.is_(True), User.id != user.id)
        .order_by(User.id)
    ).first()


def may_decide(actor: User, leave: LeaveRequest, at: datetime | None = None) -> bool:
    """The approver (or an admin) may decide; while the approver is away, the fallback approver
    too; nobody decides their own leave."""
    if actor.id == leave.user_id or not has_permission(actor, Permission.APPROVE_LEAVE):
        return False
    if actor.id == leave.approver_id or actor.role == Role.ADMIN:
        return True
    fallback = fallback_approver()
    return bool(fallback and fallback.id == actor.id and _is_away(leave.approver, at or utcnow()))


# --------------------------------------------------------------------------- writing helpers

def _move(actor: User | None, leave: LeaveRequest, action: str, note: str = "") -> str:
    """Apply ``action`` by the transition table, with its history row and audit entry."""
    before = leave.status
    after = TRANSITIONS.get((before, action))
    if after is None:
        raise LeaveConflict(describe_state(leave))
    leave.status = after
    leave.history.append(LeaveEvent(actor_id=actor.id if actor else None, from_status=before, to_status=after,
                                    note=(note or "")[:NOTE_MAX]))
    record(actor, f"leave.{action}", "leave_request", leave.id,
           summary=f"{leave.user.display_name} {leave.leave_type.name} {leave.start_date}–{leave.end_date}",
           before={"status": before}, after={"status": after})
    return after


def describe_state(leave: LeaveRequest) -> str:
    """What happened to the request, in one sentence: who moved it to its status and when."""
    last = leave.history[-1] if leave.history else None
    who = last.actor.display_name if last and last.actor else _("the system")
    when = beijing(last.at) if last else ""
    return _("This request is already %(status)s (%(who)s, %(when)s); your action was not applied.",
             status=status_label(leave.status), who=who, when=when)


def _check_version(leave: LeaveRequest, version: int | None) -> None:
    if version is not None and version != leave.version:
        raise LeaveConflict(describe_state(leave))


def flush_or_conflict(leave: LeaveRequest) -> None:
    """Write now: a concurrent writer that won (version moved under us) becomes a LeaveConflict."""
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        db.session.expire_all()
        fresh = db.session.get(LeaveRequest, leave.id)
        raise LeaveConflict(describe_state(fresh) if fresh else _("This request no longer exists.")) from None


def _link(leave: LeaveRequest) -> str:
    return f"/leave/{leave.id}"


def _summary(leave: LeaveRequest) -> str:
    return _("%(name)s, %(type)s %(start)s – %(end)s (%(days)s working days)", name=leave.user.display_name,
             type=leave.leave_type.name, start=leave.start_date.isoformat(), end=leave.end_date.isoformat(),
             days=format_days(leave.working_days))


def format_days(days) -> str:
    """``1.5`` / ``2`` (no trailing .0)."""
    value = Decimal(str(days or 0))
    return f"{value:.1f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------- requests

@dataclass
class Assessment:
    """What a request's dates and type mean: windows, length, and what needs an override."""

    start_at: datetime
    end_at: datetime
    working_days: Decimal
    errors: dict[str, str]
    short_notice: bool  # inside the notice period, allowed with the lead's override
    over_balance: bool  # beyond the yearly allowance, allowed with the lead's override
    remaining: Decimal | None


def assess(user: User, leave_type: LeaveType, period: rules.Period, *, today: date | None = None,
           exclude_id: int | None = None, calendar=None) -> Assessment:
    """Check the dates against the type's rules (shape, notice, length, balance, overlap)."""
    errors: dict[str, str] = {}
    messages = {
        "order": _("The leave ends before it starts."),
        "part": _("Choose 全天, 上午 or 下午."),
        "half": _("%(type)s cannot be taken in half days.", type=leave_type.name),
        "span": _("A request can cover at most a year."),
    }
    for key, code in rules.shape_errors(period, half_days_allowed=leave_type.half_days_allowed).items():
        errors[key] = messages[code]
    start_at, end_at = rules.request_window(period.start_date, period.start_part, period.end_date, period.end_part)
    if errors:
        return Assessment(start_at, end_at, Decimal("0"), errors, False, False, None)
    days = rules.working_days(period, calendar or DbCalendar())
    problem = rules.length_error(days, leave_type.min_days, leave_type.max_days)
    if problem == "none":
        errors["end_date"] = _("These dates contain no working day.")
    elif problem == "min":
        errors["end_date"] = _("%(type)s is at least %(n)s working days.", type=leave_type.name,
                               n=format_days(leave_type.min_days))
    elif problem == "max":
        errors["end_date"] = _("%(type)s is at most %(n)s working days; these dates are %(days)s.",
                               type=leave_type.name, n=format_days(leave_type.max_days), days=format_days(days))
    today = today or rules.beijing_today()
    short = False
    if not rules.notice_ok(period.start_date, today, leave_type.notice_days):
        if period.start_date < today and not leave_type.short_notice_allowed:
            errors["start_date"] = _("The leave cannot start in the past.")
        elif leave_type.short_notice_allowed:
            short = True
        else:
            errors["start_date"] = _(
                "%(type)s must be requested at least %(n)d days before it starts (by %(by)s); "
                "this request is %(given)d days ahead. Talk to your team lead.",
                type=leave_type.name, n=leave_type.notice_days,
                by=(period.start_date - timedelta(days=leave_type.notice_days)).isoformat(),
                given=max(rules.notice_days_given(period.start_date, today), 0))
    remaining = None
    over = False
    if leave_type.yearly_allowance_days is not None:
        remaining = leave_type.yearly_allowance_days - used_days(user.id, leave_type.id, period.start_date.year,
                                                                  exclude_id)
        over = days > remaining
    if "start_date" not in errors and "end_date" not in errors:
        other = overlapping_leave(user.id, start_at, end_at, exclude_id)
        if other is not None:
            errors["start_date"] = _("You already have leave from %(start)s to %(end)s.",
                                     start=other.start_date.isoformat(), end=other.end_date.isoformat())
    return Assessment(start_at, end_at, days, errors, short, over, remaining)


def _clean_text(value, limit: int = TEXT_MAX) -> str:
    return (value or "").strip()[:limit]


def _apply(actor: User, leave: LeaveRequest, *, type_id, start_date, start_part, end_date, end_part, reason,
           handover, today, proof_later: bool = False) -> None:
    errors: dict[str, str] = {}
    leave_type = db.session.get(LeaveType, type_id) if type_id else None
    if leave_type is None or not leave_type.is_active:
        raise ValidationError({"type_id": _("Choose a leave type.")})
    if start_date is None:
        errors["start_date"] = _("Enter the first day.")
    if end_date is None:
        errors["end_date"] = _("Enter the last day.")
    if len((reason or "").strip()) > TEXT_MAX:
        errors["reason"] = _("At most %(max)d characters.", max=TEXT_MAX)
    if errors:
        raise ValidationError(errors)
    period = rules.Period(start_date, start_part or DayPart.FULL, end_date, end_part or DayPart.FULL)
    result = assess(actor, leave_type, period, today=today, exclude_id=leave.id)
    if result.errors:
        raise ValidationError(result.errors)
    outlets = {o.outlet.id: o.outlet for o in handover_outlets(actor)}
    items = {}
    for row in handover or []:
        outlet_id = row.get("outlet_id")
        if outlet_id not in outlets:
            continue
        items[outlet_id] = row
    leave.type_id = leave_type.id
    leave.leave_type = leave_type
    leave.start_date, leave.start_part, leave.end_date, leave.end_part = (
        period.start_date, period.start_part, period.end_date, period.end_part)
    leave.start_at, leave.end_at, leave.working_days = result.start_at, result.end_at, result.working_days
    leave.reason = _clean_text(reason)
    if not leave_type.proof_required:
        leave.proof_status = None
    elif leave.proof_status != PROOF_RECEIVED:
        leave.proof_status = PROOF_LATER if proof_later and leave_type.proof_after_allowed else PROOF_PENDING
    existing = {h.outlet_id: h for h in leave.handover}
    for outlet_id, outlet in outlets.items():
        row = items.get(outlet_id, {})
        item = existing.pop(outlet_id, None)
        if item is None:
            item = LeaveHandover(outlet_id=outlet_id, outlet=outlet)
            leave.handover.append(item)
        substitute_id = row.get("substitute_id") or None
        if item.substitute_id != substitute_id:
            item.substitute_answer, item.substitute_answered_at, item.decline_reason = None, None, ""
        item.substitute_id = substitute_id
        item.pending_promises = _clean_text(row.get("pending_promises"), 2000)
        item.special_requirements = _clean_text(row.get("special_requirements"), 2000)
        item.notes = _clean_text(row.get("notes"), 2000)
    for item in existing.values():  # outlets no longer the agent's
        leave.handover.remove(item)


def create_request(actor: User, *, type_id, start_date, start_part, end_date, end_part, reason="",
                   handover: list[dict] | None = None, today: date | None = None,
                   proof_later: bool = False) -> LeaveRequest:
    """A draft request with its handover (one row per outlet the agent serves)."""
    ensure(actor, Permission.REQUEST_LEAVE)
    leave = LeaveRequest(user_id=actor.id, user=actor, status=S.DRAFT)
    _apply(actor, leave, type_id=type_id, start_date=start_date, start_part=start_part, end_date=end_date,
           end_part=end_part, reason=reason, handover=handover, today=today, proof_later=proof_later)
    db.session.add(leave)
    db.session.flush()
    leave.history.append(LeaveEvent(actor_id=actor.id, from_status=None, to_status=S.DRAFT))
    record(actor, "leave.create", "leave_request", leave.id, summary=_summary(leave))
    return leave


def update_draft(actor: User, leave: LeaveRequest, *, version: int | None, today: date | None = None,
                 **values) -> LeaveRequest:
    """Change a draft (or a request a substitute declined) before submitting it again."""
    ensure(actor, Permission.REQUEST_LEAVE)
    if leave.user_id != actor.id:
        raise NotFound()
    _check_version(leave, version)
    if leave.status != S.DRAFT:
        raise LeaveConflict(describe_state(leave))
    _apply(actor, leave, today=today, **values)
    return leave


def save_request(actor: User, leave: LeaveRequest | None, *, send: bool = False, version: int | None = None,
                 today: date | None = None, **values) -> LeaveRequest:
    """The request form: create (or change) the draft and, with ``send``, submit it; all or
    nothing (a refused submit leaves no new draft behind)."""
    with db.session.begin_nested():
        if leave is None:
            leave = create_request(actor, today=today, **values)
        else:
            update_draft(actor, leave, version=version, today=today, **values)
        if send:
            submit(actor, leave, today=today)
    return leave


def submit(actor: User, leave: LeaveRequest, version: int | None = None, today: date | None = None) -> LeaveRequest:
    """Send a draft to its substitutes: dates re-checked, every outlet has a substitute who passes
    the checks (another team only with the lead's override later); notifies the substitutes."""
    ensure(actor, Permission.REQUEST_LEAVE)
    if leave.user_id != actor.id:
        raise NotFound()
    _check_version(leave, version)
    if leave.status != S.DRAFT:
        raise LeaveConflict(describe_state(leave))
    result = assess(actor, leave.leave_type, rules.Period(leave.start_date, leave.start_part, leave.end_date,
                                                          leave.end_part), today=today, exclude_id=leave.id)
    if result.errors:
        raise ValidationError(result.errors)
    errors = {}
    for item in leave.handover:
        checks = substitute_checks(actor, item.substitute, leave.start_at, leave.end_at, exclude_id=leave.id,
                                   outlet=item.outlet)
        stop = blocking(checks, team_override=True)  # another team: the lead decides on approval
        if stop:
            errors[f"substitute_{item.outlet_id}"] = f"{item.outlet.name}：{stop[0].message}"
    if errors:
        raise ValidationError(errors)
    approver = approver_for(actor)
    if approver is None:
        raise ValidationError({"type_id": _("Nobody can approve this request: ask an admin to set the fallback approver.")})
    leave.approver_id = approver.id
    leave.submitted_at = utcnow()
    for item in leave.handover:  # every substitute answers this version of the handover
        item.substitute_answer, item.substitute_answered_at, item.decline_reason = None, None, ""
    if not leave.handover:
        # Nothing to hand over (no outlets): straight to the lead.
        _move(actor, leave, "submit")
        _move(actor, leave, "accept", _("No outlets to hand over."))
        notify(leave.approver_id, "leave", _("Leave request to decide"), _summary(leave), _link(leave))
        return leave
    _move(actor, leave, "submit")
    for substitute_id in {h.substitute_id for h in leave.handover}:
        notify(substitute_id, "leave", _("Please read a handover and answer"), _summary(leave), _link(leave))
    return leave


def substitute_answer(actor: User, leave: LeaveRequest, accept: bool, reason: str = "",
                      version: int | None = None) -> LeaveRequest:
    """The substitute accepts the outlets handed to them, or declines with a reason (the request
    goes back to the agent as a draft). When every substitute accepted, the approver is notified."""
    ensure(actor, Permission.REQUEST_LEAVE)
    mine = [h for h in leave.handover if h.substitute_id == actor.id]
    if not mine:
        raise NotFound()
    _check_version(leave, version)
    if leave.status != S.SUBMITTED or all(h.substitute_answer for h in mine):
        raise LeaveConflict(describe_state(leave))
    reason = _clean_text(reason)
    if not accept and not reason:
        raise ValidationError({"reason": _("Say why you decline, so the agent can find someone else.")})
    now = utcnow()
    for item in mine:
        item.substitute_answer = "accepted" if accept else "declined"
        item.substitute_answered_at = now
        item.decline_reason = "" if accept else reason
    if not accept:
        _move(actor, leave, "decline", reason)
        for item in leave.handover:  # everyone answers again after the agent changes it
            if item.substitute_id != actor.id:
                item.substitute_answer, item.substitute_answered_at = None, None
        notify(leave.user_id, "leave", _("Your substitute declined"),
               _("%(name)s: %(reason)s", name=actor.display_name, reason=reason), _link(leave))
    elif all(h.substitute_answer == "accepted" for h in leave.handover):
        _move(actor, leave, "accept", reason)
        notify(leave.approver_id or leave.user_id, "leave", _("Leave request to decide"), _summary(leave),
               _link(leave))
        notify(leave.user_id, "leave", _("Your substitute accepted"), _summary(leave), _link(leave))
    else:
        leave.history.append(LeaveEvent(actor_id=actor.id, from_status=leave.status, to_status=leave.status,
                                        note=_("Accepted their outlets.")))
        leave.updated_at = now  # bumps the version: a concurrent answer conflicts
    flush_or_conflict(leave)
    return leave


@dataclass
class Needs:
    """What approving a request needs from the lead."""

    short_notice: bool
    over_balance: bool
    other_team: bool

    @property
    def any(self) -> bool:
        return self.short_notice or self.over_balance or self.other_team


def needs(leave: LeaveRequest, today: date | None = None) -> Needs:
    """The overrides approving this request needs (short notice, beyond balance, substitute of
    another team)."""
    taken = None
    if leave.leave_type.yearly_allowance_days is not None:
        taken = used_days(leave.user_id, leave.type_id, leave.start_date.year, leave.id)
    return needs_of(leave, taken, today)


def needs_of(leave: LeaveRequest, taken: Decimal | None, today: date | None = None) -> Needs:
    """``needs`` from what was read: ``taken``, the days of the requester's other counted requests of
    this type that year (None when the type has no allowance)."""
    today = today or (leave.submitted_at.astimezone(SHANGHAI).date() if leave.submitted_at else rules.beijing_today())
    leave_type = leave.leave_type
    short = not rules.notice_ok(leave.start_date, today, leave_type.notice_days)
    over = False
    if leave_type.yearly_allowance_days is not None:
        over = (taken or Decimal(0)) + Decimal(str(leave.working_days)) > leave_type.yearly_allowance_days
    other = any(h.substitute and h.substitute.team_id != leave.user.team_id for h in leave.handover)
    return Needs(short, over, other)


def decide(actor: User, leave: LeaveRequest, *, approve: bool, note: str = "", version: int | None,
           short_notice_override: bool = False, balance_override: bool = False, team_override: bool = False
           ) -> LeaveRequest:
    """The approver approves or rejects with a note. Approving a request that needs an override
    (short notice, beyond the balance, a substitute of another team) needs that override and a
    note. A stale or missing version, or a concurrent decision/cancellation, is a LeaveConflict."""
    ensure(actor, Permission.APPROVE_LEAVE)
    if actor.id == leave.user_id:
        raise ValidationError({"note": _("Nobody approves their own leave: it goes to %(name)s.",
                                         name=leave.approver.display_name if leave.approver else _("the admin"))})
    if not may_decide(actor, leave):
        raise NotFound()
    if version is None:
        raise LeaveConflict(describe_state(leave))
    _check_version(leave, version)
    if leave.status != S.SUBSTITUTE_ACCEPTED:
        raise LeaveConflict(describe_state(leave))
    note = _clean_text(note, NOTE_MAX)
    if approve:
        need = needs(leave)
        errors = {}
        if need.short_notice and not short_notice_override:
            errors["short_notice_override"] = _("This request is inside the notice period: tick the override.")
        if need.over_balance and not balance_override:
            errors["balance_override"] = _("This request goes beyond the balance: tick the override.")
        if need.other_team and not team_override:
            errors["team_override"] = _("A substitute is in another team: tick the override.")
        if need.any and not note:
            errors["note"] = _("Write a note that explains the override.")
        if leave.proof_status == PROOF_PENDING and not leave.leave_type.proof_after_allowed:
            errors["proof"] = _("%(type)s needs its proof before approval: mark it received first.",
                                type=leave.leave_type.name)
        if errors:
            raise ValidationError(errors)
        leave.short_notice_override = need.short_notice
        leave.balance_override = need.over_balance
        leave.team_override = need.other_team
        leave.override_note = note if need.any else ""
    elif not note:
        raise ValidationError({"note": _("Say why you reject the request.")})
    leave.decided_by_id, leave.decided_at, leave.decision_note = actor.id, utcnow(), note
    _move(actor, leave, "approve" if approve else "reject", note)
    flush_or_conflict(leave)
    if approve:
        notify(leave.user_id, "leave", _("Your leave is approved"), _summary(leave), _link(leave))
        for substitute_id in {h.substitute_id for h in leave.handover if h.substitute_id}:
            notify(substitute_id, "leave", _("You cover outlets during a leave"), _summary(leave), _link(leave))
    else:
        notify(leave.user_id, "leave", _("Your leave is rejected"), note, _link(leave))
    return leave


def can_cancel(actor: User, leave: LeaveRequest, now: datetime | None = None) -> bool:
    """The requester may cancel before the start while the request is not final."""
    now = now or utcnow()
    return (actor.id == leave.user_id and (leave.status, "cancel") in TRANSITIONS
            and _aware(leave.start_at) > now)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def cancel(actor: User, leave: LeaveRequest, note: str = "", version: int | None = None,
           now: datetime | None = None) -> LeaveRequest:
    """The requester cancels before the start; cancelling an approved leave notifies the lead and
    the substitutes."""
    ensure(actor, Permission.REQUEST_LEAVE)
    if leave.user_id != actor.id:
        raise NotFound()
    _check_version(leave, version)
    now = now or utcnow()
    if (leave.status, "cancel") not in TRANSITIONS:
        raise LeaveConflict(describe_state(leave))
    if _aware(leave.start_at) <= now:
        raise ValidationError({"note": _("The leave has started: come back early (销假) instead.")})
    was = leave.status
    leave.cancelled_at = now
    _move(actor, leave, "cancel", note)
    flush_or_conflict(leave)
    if was in (S.APPROVED, S.SUBSTITUTE_ACCEPTED) and leave.approver_id:
        notify(leave.approver_id, "leave", _("A leave was cancelled"), _summary(leave), _link(leave))
    if was != S.DRAFT:
        for substitute_id in {h.substitute_id for h in leave.handover if h.substitute_id}:
            notify(substitute_id, "leave", _("A leave you cover was cancelled"), _summary(leave), _link(leave))
    return leave


def start_if_due(leave: LeaveRequest, now: datetime | None = None) -> bool:
    """The task: an approved leave whose start has come is 休假中 (True when it moved)."""
    now = now or utcnow()
    if leave.status != S.APPROVED or _aware(leave.start_at) > now:
        return False
    _move(None, leave, "start")
    return True


def mark_returned(actor: User | None, leave: LeaveRequest, at: datetime | None = None,
                  version: int | None = None) -> LeaveRequest:
    """销假: the agent comes back early (actor = the agent), or the task ends it on time (actor None).
    Coverage ends at ``returned_at``."""
    at = at or utcnow()
    if actor is not None:
        ensure(actor, Permission.REQUEST_LEAVE)
        if leave.user_id != actor.id:
            raise NotFound()
        _check_version(leave, version)
        if leave.status == S.APPROVED and _aware(leave.start_at) > at:
            raise ValidationError({"note": _("The leave has not started: cancel it instead.")})
    if (leave.status, "return") not in TRANSITIONS:
        raise LeaveConflict(describe_state(leave))
    leave.returned_at = min(at, _aware(leave.end_at))
    _move(actor, leave, "return", "" if actor is None else _("Came back early."))
    flush_or_conflict(leave)
    if leave.approver_id:
        notify(leave.approver_id, "leave", _("Back from leave"), _summary(leave), _link(leave))
    for substitute_id in {h.substitute_id for h in leave.handover if h.substitute_id}:
        notify(substitute_id, "leave", _("Coverage ended: the agent is back"), _summary(leave), _link(leave))
    return leave


def proof_label(status: str | None) -> str:
    """待提交 / 事后补交 / 已收到 (empty when no proof is needed)."""
    return {PROOF_PENDING: _("Proof to hand in"), PROOF_LATER: _("Proof to follow after the leave"),
            PROOF_RECEIVED: _("Proof received")}.get(status or "", "")


def may_record_proof(actor: User, leave: LeaveRequest) -> bool:
    """The approver, the requester's team lead or an admin records that the proof arrived."""
    if actor.id == leave.user_id or not has_permission(actor, Permission.APPROVE_LEAVE):
        return False
    team = leave.user.team
    return actor.id == leave.approver_id or actor.role == Role.ADMIN or bool(team and team.lead_id == actor.id)


def mark_proof_received(actor: User, leave: LeaveRequest, version: int | None) -> LeaveRequest:
    """Record that the proof (病假条 ...) was handed in (the file upload itself is not available yet)."""
    ensure(actor, Permission.APPROVE_LEAVE)
    if not may_record_proof(actor, leave):
        raise NotFound()
    if version is None:
        raise LeaveConflict(describe_state(leave))
    _check_version(leave, version)
    if leave.proof_status not in (PROOF_PENDING, PROOF_LATER) or leave.status in (S.CANCELLED, S.REJECTED):
        raise LeaveConflict(describe_state(leave))
    before = leave.proof_status
    leave.proof_status = PROOF_RECEIVED
    leave.history.append(LeaveEvent(actor_id=actor.id, from_status=leave.status, to_status=leave.status,
                                    note=_("Proof received")))
    record(actor, "leave.proof", "leave_request", leave.id, summary=_summary(leave),
           before={"proof_status": before}, after={"proof_status": PROOF_RECEIVED})
    flush_or_conflict(leave)
    notify(leave.user_id, "leave", _("Your proof was received"), _summary(leave), _link(leave))
    return leave


def parse_days(raw) -> Decimal | None:
    """A posted day count (whole or half) or None."""
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None
