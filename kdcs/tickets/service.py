"""Ticket rules: who sees which ticket, the status machines, and every write.

Every public write function takes the acting user first, checks the
permission (``ensure``) and the row scope itself, takes the ``version`` of the
ticket the user saw (``StaleEdit`` when it moved on; the UI answers 409),
writes a ``TicketEvent`` on the timeline and an audit row, and commits.
A ticket outside the user's scope raises ``TicketNotFound`` (a 404), never
403, so guessing ids reveals nothing.

Status machines (explicit tables below):

ordinary (问题件, 留言, 工单)::

    new ─► in_progress ─► awaiting_feedback ─► replied ─► closed
     │         ▲  │              │  ▲            │
     │         └──┼──────────────┘  │            └─► in_progress (follow-up, note required)
     └────────────┴─► replied (shortcut: answered at once)
    any open state ─► closed  (without a reply: note required, e.g. 客户撤销)

arbitration (仲裁)::

    to_file ─► filed ─► negotiating ─► judged ─► closed
                 └──────────────────────► judged  (judged without negotiation)
    to_file / filed / negotiating ─► closed (withdrawn: note required)

``closed`` has no ordinary exits: ``reopen`` (with a reason) goes back to
in_progress (ordinary) or negotiating (arbitration). Outbound arbitration
starts at to_file (we file it); inbound starts at filed (filed against us).

Timestamps follow the states: reaching replied (ordinary) or filed/judged
(arbitration) records the first reply if it was not recorded; replied, judged
and closed record the resolution; closed records closed_at.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import Select, and_, bindparam, case, false, func, or_, select
from sqlalchemy.orm.exc import StaleDataError

from .. import core_sql
from ..auditing import record, snapshot
from ..extensions import db
from ..models import (
    CannedReply,
    Category,
    DeadlineRule,
    Direction,
    EventKind,
    FineBearer,
    Outlet,
    Priority,
    QueueState,
    ReplyChannel,
    Role,
    Ticket,
    TicketEvent,
    TicketReason,
    TicketReply,
    TicketSource,
    TicketStatus,
    User,
    utcnow,
)
from ..models.user import username_order
from ..outlets.service import visible_outlets_query
from ..permissions import Permission, PermissionDenied, ensure, has_permission
from ..service_errors import NotFound, StaleEdit, ValidationError
from . import deadlines, idempotency, notices
from .labels import STATUS_LABELS

S = TicketStatus


class TicketNotFound(NotFound):
    """The ticket does not exist or is outside the user's scope (a domain error; the app answers 404)."""


# --------------------------------------------------------------------------
# Status machines
# --------------------------------------------------------------------------

ORDINARY_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.IN_PROGRESS, S.AWAITING_FEEDBACK, S.REPLIED, S.CLOSED}),
    S.IN_PROGRESS: frozenset({S.AWAITING_FEEDBACK, S.REPLIED, S.CLOSED}),
    S.AWAITING_FEEDBACK: frozenset({S.IN_PROGRESS, S.REPLIED, S.CLOSED}),
    S.REPLIED: frozenset({S.IN_PROGRESS, S.CLOSED}),
    S.CLOSED: frozenset(),  # only reopen()
}

ARBITRATION_TRANSITIONS: dict[str, frozenset[str]] = {
    S.TO_FILE: frozenset({S.FILED, S.CLOSED}),
    S.FILED: frozenset({S.NEGOTIATING, S.JUDGED, S.CLOSED}),
    S.NEGOTIATING: frozenset({S.JUDGED, S.CLOSED}),
    S.JUDGED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),  # only reopen()
}

# Transitions that need a note saying why (closing without an answer, going back).
NOTE_REQUIRED: frozenset[tuple[str, str]] = frozenset(
    {(s, S.CLOSED) for s in (S.NEW, S.IN_PROGRESS, S.AWAITING_FEEDBACK)}
    | {(s, S.CLOSED) for s in (S.TO_FILE, S.FILED, S.NEGOTIATING)}
    | {(S.REPLIED, S.IN_PROGRESS)}
)

REOPEN_TARGET = {False: S.IN_PROGRESS, True: S.NEGOTIATING}  # keyed by is_arbitration

ORDINARY_STATUSES = tuple(ORDINARY_TRANSITIONS)
ARBITRATION_STATUSES = tuple(ARBITRATION_TRANSITIONS)


def transitions_for(category: str) -> dict[str, frozenset[str]]:
    """The transition table of a category (arbitration has its own)."""
    return ARBITRATION_TRANSITIONS if category == Category.ARBITRATION else ORDINARY_TRANSITIONS


def statuses_for(category: str) -> tuple[str, ...]:
    """The statuses a ticket of this category can have, in order."""
    return ARBITRATION_STATUSES if category == Category.ARBITRATION else ORDINARY_STATUSES


def initial_status(category: str, direction: str) -> str:
    """The status a new ticket starts in (arbitration depends on the direction)."""
    if category != Category.ARBITRATION:
        return S.NEW
    return S.TO_FILE if direction == Direction.OUTBOUND else S.FILED


def allowed_transitions(ticket: Ticket) -> list[str]:
    """The statuses the ticket may move to now (for the status menu), in machine order."""
    allowed = transitions_for(ticket.category).get(ticket.status, frozenset())
    return [s for s in statuses_for(ticket.category) if s in allowed]


def note_required(from_status: str, to_status: str) -> bool:
    """True when moving between these statuses needs a note."""
    return (from_status, to_status) in NOTE_REQUIRED


# --------------------------------------------------------------------------
# Scope and queries
# --------------------------------------------------------------------------

def covered_clauses(user: User, at: datetime | None = None) -> list:
    """``[outlet_id IN (...)]`` when ``user`` covers outlets for someone on leave at ``at``, else ``[]``.

    One small indexed lookup (kdcs.leave.coverage); the queue's SQL is unchanged
    for everyone who covers nobody.
    """
    from ..leave.coverage import covered_outlet_ids

    covered = covered_outlet_ids(user, at)
    return [Ticket.outlet_id.in_(covered)] if covered else []


def visible_tickets_query(user: User, at: datetime | None = None) -> Select:
    """Tickets in the user's scope: admin all; lead their team's; agent their own; else none.

    An agent sees tickets of outlets they are the primary agent of, and tickets
    assigned to them. A lead sees the tickets of outlets whose primary agent is
    in their team, and tickets assigned to a member of their team. Both also see
    the tickets of outlets they cover at ``at`` (now) for someone on leave (代班).
    """
    query = select(Ticket)
    if user is None or not getattr(user, "is_active", False):
        return query.where(False)
    if user.role == Role.ADMIN:
        return query
    if user.role == Role.LEAD:
        if user.team_id is None:
            return query.where(False)
        members = select(User.id).where(User.team_id == user.team_id).scalar_subquery()
        team_outlets = select(Outlet.id).where(Outlet.primary_agent_id.in_(members))
        return query.where(or_(Ticket.assignee_id.in_(members), Ticket.outlet_id.in_(team_outlets),
                               *covered_clauses(user, at)))
    if user.role == Role.AGENT:
        own_outlets = select(Outlet.id).where(Outlet.primary_agent_id == user.id)
        return query.where(or_(Ticket.assignee_id == user.id, Ticket.outlet_id.in_(own_outlets),
                               *covered_clauses(user, at)))
    return query.where(False)


def get_visible_ticket(user: User, ticket_id: int) -> Ticket | None:
    """The ticket if the user may see it, else None (the view answers 404)."""
    return _scoped_ticket(user, ticket_id, page=False)


def _page_ticket_options(role: str | None = None) -> tuple:
    from sqlalchemy.orm import joinedload

    options = (joinedload(Ticket.outlet), joinedload(Ticket.brand), joinedload(Ticket.reason),
               joinedload(Ticket.deadline_rule), joinedload(Ticket.created_by))
    # The page names the assignee: a lazy load unless it is the viewer, as it mostly is for an agent.
    return options if role == Role.AGENT else options + (joinedload(Ticket.assignee),)


def _scope_statement(role: str, page: bool) -> Select:
    """One ticket in a role's own scope (``visible_tickets_query`` without the outlets covered
    during a leave), with its values as parameters: built once per process and role. ``page``
    adds the ticket page's outlet, brand, reason and deadline rule to the same statement."""
    name = f"ticket_{role}_page" if page else f"ticket_{role}"
    statement = _PAGE_STATEMENTS.get(name)
    if statement is None:
        query = select(Ticket).where(Ticket.id == bindparam("ticket_id"))
        if page:
            query = query.options(*_page_ticket_options(role))
        if role == Role.AGENT:
            query = query.where(or_(
                Ticket.assignee_id == bindparam("user_id"),
                Ticket.outlet_id.in_(select(Outlet.id).where(Outlet.primary_agent_id == bindparam("user_id")))))
        elif role == Role.LEAD:
            members = select(User.id).where(User.team_id == bindparam("team_id")).scalar_subquery()
            query = query.where(or_(Ticket.assignee_id.in_(members),
                                    Ticket.outlet_id.in_(select(Outlet.id).where(Outlet.primary_agent_id.in_(members)))))
        statement = _PAGE_STATEMENTS[name] = query
    return statement


def _scoped_ticket(user: User, ticket_id: int, *, page: bool, fresh: bool = False) -> Ticket | None:
    """The ticket in ``user``'s scope (``visible_tickets_query``), else None.

    The role's own scope first, from a prebuilt statement; only a ticket outside it asks the
    general query, which adds the outlets the user covers for someone on leave (代班). Coverage
    only ever widens the scope, so the answer is the general query's, and a user who covers
    nobody pays neither the coverage lookup nor building a statement. ``fresh`` overwrites a
    ticket already loaded in the session with the row as stored now (after a commit that kept
    its objects loaded).
    """
    role = getattr(user, "role", None)
    if user is None or not getattr(user, "is_active", False) or role not in (Role.ADMIN, Role.LEAD, Role.AGENT):
        return None
    if role == Role.LEAD and user.team_id is None:
        return None
    options = {"populate_existing": True} if fresh else {}
    ticket = db.session.scalar(_scope_statement(role, page),
                               {"ticket_id": ticket_id, "user_id": user.id, "team_id": user.team_id},
                               execution_options=options)
    if ticket is not None or role == Role.ADMIN:
        return ticket
    query = visible_tickets_query(user).where(Ticket.id == ticket_id)
    if page:
        query = query.options(*_page_ticket_options(role))
    if fresh:
        query = query.execution_options(populate_existing=True)
    return db.session.scalar(query)


def get_page_ticket(user: User, ticket_id: int, *, fresh: bool = False) -> Ticket | None:
    """``get_visible_ticket`` for the ticket page: its outlet, brand, reason and deadline rule in the
    same statement (the page shows them all; four lazy loads cost more than the joins).

    ``fresh=True`` after a write that committed with its objects kept loaded: the page shows the
    ticket as stored now, read once."""
    return _scoped_ticket(user, ticket_id, page=True, fresh=fresh)


def moved_notice(ticket_id: int) -> str:
    """What to tell a user whose write was saved on a ticket that has since left their queue:
    "已保存；该工单已转给 X，不在你的队列中。" (they just had it, so who has it now is no secret)."""
    # As stored now (one statement): the session may still hold the ticket as the write left it.
    name = db.session.scalar(select(User.display_name).join(Ticket, Ticket.assignee_id == User.id)
                             .where(Ticket.id == ticket_id))
    if name is not None:
        return _("Saved; the ticket has since been reassigned to %(name)s and is no longer in your queue.",
                 name=name)
    return _("Saved; the ticket is no longer in your queue.")


def open_clause():
    """Open tickets (not closed), in a form the queue indexes serve."""
    return Ticket.queue_state < QueueState.CLOSED


def order_by_deadline(query: Select) -> Select:
    """Pending deadlines first, nearest (most overdue) first; then open with nothing pending; then closed."""
    return query.order_by(Ticket.queue_state, Ticket.due_at, Ticket.id)


def overdue_clause(now: datetime | None = None):
    """A pending deadline that has passed (已超时)."""
    now = now or utcnow()
    return and_(Ticket.queue_state == QueueState.ACTIVE, Ticket.due_at < now)


def due_within_clause(delta: timedelta, now: datetime | None = None):
    """A pending deadline in the next ``delta`` that has not passed yet (1 小时内到期, 今日到期)."""
    now = now or utcnow()
    return and_(Ticket.queue_state == QueueState.ACTIVE, Ticket.due_at >= now, Ticket.due_at < now + delta)


def deadline_state(ticket: Ticket, now: datetime | None = None, soon: timedelta = timedelta(hours=1)) -> str:
    """Badge state: "overdue", "due_soon" (within ``soon``), "normal", or "none" (nothing pending)."""
    if ticket.queue_state != QueueState.ACTIVE or ticket.due_at is None:
        return "none"
    now = now or utcnow()
    if ticket.due_at < now:
        return "overdue"
    if ticket.due_at < now + soon:
        return "due_soon"
    return "normal"


def queue_summary(query: Select, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Open and overdue counts per category of a (scoped, filtered) ticket query, in one statement.

    Returns {category: {"open": n, "overdue": m}} for every category, zeros included.
    """
    now = now or utcnow()
    base = query.where(open_clause()).order_by(None).subquery()
    overdue = func.sum(case((and_(base.c.queue_state == QueueState.ACTIVE, base.c.due_at < now), 1), else_=0))
    rows = db.session.execute(select(base.c.category, func.count(), overdue).group_by(base.c.category))
    result = {str(c): {"open": 0, "overdue": 0} for c in Category}
    for category, count, late in rows:
        result[category] = {"open": int(count), "overdue": int(late or 0)}
    return result


# --------------------------------------------------------------------------
# Waybills and phones
# --------------------------------------------------------------------------

WAYBILL_RE = re.compile(r"^[A-Z0-9]{10,20}$")
_WAYBILL_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Soft hints per brand code (formats change: never the only rule).
WAYBILL_HINTS = {
    "ZTO": re.compile(r"^(7[3-8]\d{12}|\d{12})$"),
    "YTO": re.compile(r"^YT\d{13}$"),
    "JT": re.compile(r"^JT\d{13}$"),
    "YUNDA": re.compile(r"^([34]\d{14}|5\d{12})$"),
    "STO": re.compile(r"^(77|43)\d{12,15}$"),
}


def normalize_waybill(raw) -> str:
    """Upper-case, without spaces or dashes (as agents paste them)."""
    return re.sub(r"[\s\-]", "", str(raw or "")).upper()


def waybill_error(raw) -> str | None:
    """A Chinese message if the waybill number is not 10–20 letters/digits, else None."""
    value = normalize_waybill(raw)
    if not value:
        return _("Enter the waybill number.")
    if not WAYBILL_RE.match(value):
        return _("A waybill number has 10 to 20 letters or digits.")
    return None


def outlet_choices(actor: User, active_only: bool = False) -> list[tuple[int, str]]:
    """(id, "code name") of the outlets the actor may file tickets for, by code."""
    query = visible_outlets_query(actor).with_only_columns(Outlet.id, Outlet.code, Outlet.name).order_by(Outlet.code)
    if active_only:
        query = query.where(Outlet.is_active.is_(True))
    # Three columns, no ORM objects: the queue's full page lists every outlet of the scope.
    return [(outlet_id, f"{code} {name}") for outlet_id, code, name in db.session.execute(query)]


def waybill_brand_hint(outlet_id: int | None, waybill: str) -> str | None:
    """The brand's name when the waybill looks unusual for the outlet's brand, else None (soft hint)."""
    outlet = db.session.get(Outlet, outlet_id) if outlet_id else None
    if outlet is None or waybill_matches_brand(outlet.brand.code, waybill) is not False:
        return None
    return outlet.brand.name


def waybill_matches_brand(brand_code: str, waybill: str) -> bool | None:
    """Soft hint: True/False if we know the brand's usual format, None if we do not."""
    pattern = WAYBILL_HINTS.get((brand_code or "").upper())
    return None if pattern is None else bool(pattern.match(normalize_waybill(waybill)))


def _prefix_successor(prefix: str) -> str | None:
    """The smallest string over [0-9A-Z] greater than every string starting with ``prefix``."""
    chars = list(prefix)
    while chars:
        index = _WAYBILL_ALPHABET.find(chars[-1])
        if 0 <= index < len(_WAYBILL_ALPHABET) - 1:
            chars[-1] = _WAYBILL_ALPHABET[index + 1]
            return "".join(chars)
        chars.pop()
    return None


def waybill_prefix_clause(prefix: str):
    """``waybill_no`` starts with ``prefix``, as a range that uses the b-tree index on both databases.

    (``LIKE 'ABC%'`` uses no index on SQLite's default collation nor on a
    non-C PostgreSQL collation; a range does. Waybills are stored upper-case.)
    """
    prefix = normalize_waybill(prefix)
    if not re.fullmatch(r"[A-Z0-9]*", prefix):
        return false()
    upper = _prefix_successor(prefix)
    lower_clause = Ticket.waybill_no >= prefix
    return lower_clause if upper is None else and_(lower_clause, Ticket.waybill_no < upper)


def waybill_search_clause(text: str):
    """A full waybill number matches exactly; a shorter one (≥ 4 characters) as a prefix."""
    value = normalize_waybill(text)
    if WAYBILL_RE.match(value):
        return or_(Ticket.waybill_no == value, waybill_prefix_clause(value))
    return waybill_prefix_clause(value)


def mask_phone(phone: str | None) -> str:
    """138****5678 for lists; short or odd numbers keep only their last 2 characters."""
    digits = (phone or "").strip()
    if not digits:
        return ""
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) > 4:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "****"


# --------------------------------------------------------------------------
# Internals shared by the writes
# --------------------------------------------------------------------------

def refresh_derived(ticket: Ticket) -> None:
    """Recompute ``due_at`` and ``queue_state`` from status, deadlines and reply/resolve times."""
    if ticket.status == S.CLOSED:
        ticket.queue_state, ticket.due_at = QueueState.CLOSED, None
        return
    pending = []
    if ticket.first_replied_at is None and ticket.reply_due_at is not None:
        pending.append(ticket.reply_due_at)
    if ticket.resolved_at is None and ticket.resolve_due_at is not None:
        pending.append(ticket.resolve_due_at)
    if pending:
        ticket.queue_state, ticket.due_at = QueueState.ACTIVE, min(pending)
    else:
        ticket.queue_state, ticket.due_at = QueueState.WAITING, None


def _event(ticket: Ticket, actor, kind: str, from_value=None, to_value=None, body: str = "",
           at: datetime | None = None) -> TicketEvent:
    event = TicketEvent(ticket=ticket, actor_id=getattr(actor, "id", None), kind=kind,
                        from_value=None if from_value is None else str(from_value)[:64],
                        to_value=None if to_value is None else str(to_value)[:64],
                        body=body or "", at=at or utcnow())
    db.session.add(event)
    return event


def _load_for_write(actor, ticket_id: int, version: int | None) -> Ticket:
    ensure(actor, Permission.WORK_TICKETS)
    ticket = get_visible_ticket(actor, ticket_id)
    if ticket is None:
        raise TicketNotFound()
    if version is not None and ticket.version != int(version):
        raise StaleEdit()
    return ticket


@contextmanager
def kept_after_commit():
    """The session keeps its objects loaded over the commits inside (the acting user, an assignee,
    what was just written are not read again). For a request whose writes read nothing stale
    afterwards: what it shows after them it reads again (``get_page_ticket(fresh=True)``), and a
    version changed meanwhile still fails the write's UPDATE (optimistic locking)."""
    session = db.session()
    before = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = before


def _commit() -> None:
    try:
        db.session.commit()
    except StaleDataError as error:  # someone committed between our read and our write
        db.session.rollback()
        raise StaleEdit() from error


def _commit_once(actor, action: str, key: str | None, ticket_id: int, result_ids):
    """Commit a write together with its idempotency key: None when stored, or the earlier
    key row when a concurrent submit of the same form got there first (this write is rolled
    back; the caller answers the earlier result)."""
    try:
        db.session.flush()
    except StaleDataError as error:  # as in _commit: someone committed between our read and our write
        db.session.rollback()
        raise StaleEdit() from error
    if not idempotency.claim(actor, action, key, ticket_id, result_ids()):
        db.session.rollback()
        done = idempotency.earlier(actor, action, key)
        if done is None:  # claimed by a transaction we cannot see yet: let the user send it again
            raise StaleEdit()
        return done
    _commit()
    return None


def _clean_note(body: str | None, required: bool, field_name: str = "note") -> str:
    body = (body or "").strip()
    if required and not body:
        raise ValidationError({field_name: _("Please say why (a short note is required).")})
    if len(body) > 2000:
        raise ValidationError({field_name: _("The note may have at most 2000 characters.")})
    return body


TICKET_AUDIT_FIELDS = ["status", "assignee_id", "first_replied_at", "resolved_at", "closed_at",
                       "reply_due_at", "resolve_due_at", "fine_amount", "fine_bearer",
                       "fine_agent_share", "priority"]


def _audit(actor, action: str, ticket: Ticket, before: dict | None, summary: str = "") -> None:
    record(actor, action, "ticket", ticket.id,
           summary=(f"{ticket.waybill_no} {summary}").strip(),
           before=before, after=snapshot(ticket, TICKET_AUDIT_FIELDS) if before is not None else None)


# --------------------------------------------------------------------------
# Creating tickets
# --------------------------------------------------------------------------

@dataclass
class CreateContext:
    """Caches for creating many tickets (imports): rules, calendar, outlets, reasons, scope.

    One context per batch; ``create_ticket`` makes its own when none is given.
    """

    actor: User
    calendar: object = None
    rules: list[DeadlineRule] = field(default_factory=list)
    outlets: dict[int, Outlet | None] = field(default_factory=dict)
    reasons: dict[int, TicketReason | None] = field(default_factory=dict)
    visible_outlet_ids: set[int] | None = None  # None: every outlet (admin)
    # Coverage during leave: look substitutes up (once per context). Imports turn it off:
    # their commit applies coverage at the instant it writes (see imports.service).
    use_coverage: bool = True
    substitutes: dict[int, User] | None = None
    live: dict[int, bool] = field(default_factory=dict)  # 上岗 gate per user id (training)

    def may_receive(self, user: User) -> bool:
        """Whether ``user`` passes the going-live gate (cached per context: imports ask per row)."""
        if user.id not in self.live:  # imports pass plain copies (id, is_active): load the user once
            from ..training.certification.gate import is_certified

            self.live[user.id] = is_certified(db.session.get(User, user.id))
        return self.live[user.id]

    @classmethod
    def for_actor(cls, actor: User) -> CreateContext:
        from ..workcalendar import DbCalendar

        rules = list(db.session.scalars(select(DeadlineRule).where(DeadlineRule.is_active.is_(True))))
        visible = None
        if actor.role != Role.ADMIN:
            visible = set(db.session.scalars(visible_outlets_query(actor).with_only_columns(Outlet.id)))
        return cls(actor=actor, calendar=DbCalendar(), rules=rules, visible_outlet_ids=visible)

    def outlet(self, outlet_id: int) -> Outlet | None:
        if outlet_id not in self.outlets:
            self.outlets[outlet_id] = db.session.get(Outlet, outlet_id)
        return self.outlets[outlet_id]

    def substitute(self, outlet_id: int, at: datetime | None = None) -> User | None:
        """The active substitute serving the outlet at ``at`` (a leave in force), else None."""
        if not self.use_coverage:
            return None
        if self.substitutes is None:
            from ..leave.coverage import substitutes_by_outlet

            self.substitutes = {}
            for covered_id, (substitute_id, _owner) in substitutes_by_outlet(at).items():
                user = db.session.get(User, substitute_id)
                if user is not None and user.is_active:
                    self.substitutes[covered_id] = user
        return self.substitutes.get(outlet_id)

    def reason(self, reason_id: int) -> TicketReason | None:
        if reason_id not in self.reasons:
            self.reasons[reason_id] = db.session.get(TicketReason, reason_id)
        return self.reasons[reason_id]


def _as_int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def validate_new_ticket(ctx: CreateContext, *, outlet_id, direction, category, reason_id, waybill_no,
                        registered_at, customer_name="", customer_phone="", description="",
                        priority=Priority.NORMAL, assignee_id=None, check_duplicate: bool = True,
                        now: datetime | None = None) -> tuple[dict, dict[str, str]]:
    """Check the fields of a new ticket; returns (cleaned values, errors by field).

    Writes nothing: imports call this per row for the preview. ``cleaned`` has
    the normalized waybill, the outlet/reason objects, the chosen rule and the
    computed deadlines when there are no errors.
    """
    errors: dict[str, str] = {}
    now = now or utcnow()
    cleaned: dict = {}

    outlet = ctx.outlet(_as_int(outlet_id)) if _as_int(outlet_id) else None
    if outlet is None or (ctx.visible_outlet_ids is not None and outlet.id not in ctx.visible_outlet_ids):
        errors["outlet_id"] = _("Unknown outlet.")
    elif not outlet.is_active:
        errors["outlet_id"] = _("This outlet is not active.")
    if direction not in set(Direction):
        errors["direction"] = _("Choose inbound or outbound.")
    if category not in set(Category):
        errors["category"] = _("Unknown category.")
    reason = ctx.reason(_as_int(reason_id)) if _as_int(reason_id) else None
    if reason is None or not reason.is_active or (category in set(Category) and reason.category != category):
        errors["reason_id"] = _("Unknown reason for this category.")
    waybill = normalize_waybill(waybill_no)
    problem = waybill_error(waybill)
    if problem:
        errors["waybill_no"] = problem
    if not isinstance(registered_at, datetime) or registered_at.tzinfo is None:
        errors["registered_at"] = _("Enter the date and time it was registered.")
    elif registered_at > now + timedelta(minutes=10):
        errors["registered_at"] = _("The registration time cannot be in the future.")
    customer_name = (customer_name or "").strip()
    if len(customer_name) > 32:
        errors["customer_name"] = _("The name may have at most 32 characters.")
    customer_phone = re.sub(r"\s", "", customer_phone or "")
    if customer_phone and not re.fullmatch(r"\+?[0-9\-]{5,20}", customer_phone):
        errors["customer_phone"] = _("Enter a valid phone number.")
    description = (description or "").strip()
    if len(description) > 4000:
        errors["description"] = _("The description may have at most 4000 characters.")
    if priority not in set(Priority):
        errors["priority"] = _("Unknown priority.")

    assignee = None
    if _as_int(assignee_id):
        assignee = db.session.get(User, _as_int(assignee_id))
        problem = assign_error(ctx.actor, assignee)
        if problem:
            errors["assignee_id"] = problem
    elif outlet is not None and outlet.primary_agent is not None and outlet.primary_agent.is_active:
        assignee = ctx.substitute(outlet.id, now) or outlet.primary_agent  # 代班: the substitute during a leave
        if not ctx.may_receive(assignee):  # not certified (上岗): the ticket waits unassigned for the lead
            assignee = None

    if "outlet_id" not in errors and "category" not in errors:
        rule = deadlines.select_rule(ctx.rules, brand_id=outlet.brand_id, category=category,
                                     reason_id=reason.id if reason else None)
        if rule is None:
            errors["category"] = _("No deadline rule applies to this category: ask an administrator.")
        cleaned["rule"] = rule

    if check_duplicate and not errors:
        existing = find_duplicate(waybill, outlet.id, category, reason.id)
        if existing is not None:
            errors["waybill_no"] = _("A ticket for this waybill, outlet, category and reason already exists (No. %(id)s).",
                                     id=existing)

    if not errors:
        rule = cleaned["rule"]
        reply_due, resolve_due = deadlines.due_times(rule, registered_at, ctx.calendar)
        cleaned.update(outlet=outlet, reason=reason, waybill_no=waybill, direction=direction,
                       category=category, registered_at=registered_at, customer_name=customer_name,
                       customer_phone=customer_phone, description=description, priority=priority,
                       assignee=assignee, reply_due_at=reply_due, resolve_due_at=resolve_due)
    return cleaned, errors


def build_ticket(ctx: CreateContext, cleaned: dict, source: str = TicketSource.MANUAL) -> Ticket:
    """Add a ticket from ``validate_new_ticket``'s cleaned values, with its "created" event.

    Does not audit or commit (imports audit the batch once, ``create_ticket`` per ticket).
    """
    outlet, rule = cleaned["outlet"], cleaned["rule"]
    ticket = Ticket(
        outlet_id=outlet.id, brand_id=outlet.brand_id, direction=cleaned["direction"],
        category=cleaned["category"], reason_id=cleaned["reason"].id, waybill_no=cleaned["waybill_no"],
        registered_at=cleaned["registered_at"], customer_name=cleaned["customer_name"],
        customer_phone=cleaned["customer_phone"], description=cleaned["description"],
        priority=cleaned["priority"], assignee_id=cleaned["assignee"].id if cleaned["assignee"] else None,
        status=initial_status(cleaned["category"], cleaned["direction"]),
        reply_due_at=cleaned["reply_due_at"], resolve_due_at=cleaned["resolve_due_at"],
        deadline_rule_id=rule.id, source=source, created_by_id=ctx.actor.id,
    )
    refresh_derived(ticket)
    db.session.add(ticket)
    _event(ticket, ctx.actor, EventKind.CREATED, to_value=ticket.status)
    return ticket


def create_ticket(actor: User, *, outlet_id, direction, category, reason_id, waybill_no, registered_at,
                  customer_name="", customer_phone="", description="", priority=Priority.NORMAL,
                  assignee_id=None, source: str = TicketSource.MANUAL) -> Ticket:
    """Create one ticket: validate, compute deadlines from the matching rule and the calendar,
    assign to the outlet's primary agent unless ``assignee_id`` is given; event + audit; commit.

    Raises ValidationError({field: message}).
    """
    ensure(actor, Permission.WORK_TICKETS)
    ctx = CreateContext.for_actor(actor)
    cleaned, errors = validate_new_ticket(
        ctx, outlet_id=outlet_id, direction=direction, category=category, reason_id=reason_id,
        waybill_no=waybill_no, registered_at=registered_at, customer_name=customer_name,
        customer_phone=customer_phone, description=description, priority=priority,
        assignee_id=assignee_id)
    if errors:
        raise ValidationError(errors)
    ticket = build_ticket(ctx, cleaned, source)
    db.session.flush()
    record(actor, "ticket.create", "ticket", ticket.id, summary=f"{ticket.waybill_no} {ticket.category}",
           after=snapshot(ticket, ["waybill_no", "outlet_id", "category", "reason_id", "status",
                                   "assignee_id", "reply_due_at", "resolve_due_at", "deadline_rule_id"]))
    _commit()
    return ticket


def duplicate_key(waybill_no: str, outlet_id: int, category: str, reason_id: int) -> tuple:
    """The import duplicate rule: same waybill, outlet, category and reason."""
    return (normalize_waybill(waybill_no), int(outlet_id), str(category), int(reason_id))


def find_duplicate(waybill_no: str, outlet_id: int, category: str, reason_id: int) -> int | None:
    """The id of an existing ticket with the same duplicate key, or None (one index lookup)."""
    waybill, outlet_id, category, reason_id = duplicate_key(waybill_no, outlet_id, category, reason_id)
    return db.session.scalar(select(Ticket.id).where(
        Ticket.waybill_no == waybill, Ticket.outlet_id == outlet_id,
        Ticket.category == category, Ticket.reason_id == reason_id))


def existing_duplicate_keys(keys) -> set[tuple]:
    """Of the given duplicate keys, those already present; one query per 500 waybills (imports)."""
    keys = {duplicate_key(*key) for key in keys}
    found: set[tuple] = set()
    waybills = sorted({key[0] for key in keys})
    for start in range(0, len(waybills), 500):
        chunk = waybills[start:start + 500]
        rows = db.session.execute(select(Ticket.waybill_no, Ticket.outlet_id, Ticket.category, Ticket.reason_id)
                                  .where(Ticket.waybill_no.in_(chunk)))
        found.update(tuple(row) for row in rows if tuple(row) in keys)
    return found


# --------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------

def stamp_reply_agent(ticket: Ticket) -> None:
    """Fix whom the first reply deadline counts for, once: the assignee now (at the first reply)."""
    if ticket.reply_agent_id is None:
        ticket.reply_agent_id = ticket.assignee_id


def _first_reply_at(ticket: Ticket, at: datetime) -> None:
    """The first reply time, set once (with whom the deadline counts for)."""
    if ticket.first_replied_at is None:
        ticket.first_replied_at = at
        stamp_reply_agent(ticket)


def _apply_status_effects(ticket: Ticket, to_status: str, now: datetime) -> None:
    arbitration = ticket.is_arbitration
    if to_status == S.CLOSED:
        ticket.closed_at = now
        if ticket.resolved_at is None:
            ticket.resolved_at = now
    elif not arbitration and to_status == S.REPLIED:
        _first_reply_at(ticket, now)
        ticket.resolved_at = ticket.resolved_at or now
    elif not arbitration and to_status == S.IN_PROGRESS and ticket.status == S.REPLIED:
        ticket.resolved_at = None  # a follow-up: the resolve deadline is pending again
    elif arbitration and to_status == S.FILED:
        _first_reply_at(ticket, now)
    elif arbitration and to_status == S.JUDGED:
        _first_reply_at(ticket, now)
        ticket.resolved_at = ticket.resolved_at or now


def change_status(actor: User, ticket_id: int, to_status: str, *, version: int | None, note: str = "") -> Ticket:
    """Move a ticket along its status machine; refused with a clear message when not allowed."""
    ticket = _load_for_write(actor, ticket_id, version)
    from_status = ticket.status
    if to_status == from_status:
        raise ValidationError({"status": _("The ticket already has this status.")})
    if to_status not in transitions_for(ticket.category).get(from_status, frozenset()):
        if from_status == S.CLOSED:
            message = _("The ticket is closed: reopen it with a reason instead.")
        else:
            message = _("A ticket cannot go from “%(from)s” to “%(to)s”.",
                        **{"from": str(STATUS_LABELS.get(from_status, from_status)),
                           "to": str(STATUS_LABELS.get(to_status, to_status))})
        raise ValidationError({"status": message})
    note = _clean_note(note, note_required(from_status, to_status))
    before = snapshot(ticket, TICKET_AUDIT_FIELDS)
    now = utcnow()
    _apply_status_effects(ticket, to_status, now)
    ticket.status = to_status
    refresh_derived(ticket)
    _event(ticket, actor, EventKind.STATUS, from_status, to_status, note, at=now)
    _audit(actor, "ticket.status", ticket, before, f"{from_status} → {to_status}")
    _commit()
    return ticket


def close_ticket(actor: User, ticket_id: int, *, version: int | None, note: str = "") -> Ticket:
    """Close a ticket (a status change to 已结案 with the same rules)."""
    return change_status(actor, ticket_id, S.CLOSED, version=version, note=note)


def reopen(actor: User, ticket_id: int, *, version: int | None, reason: str) -> Ticket:
    """Reopen a closed ticket (with a reason): back to in_progress, or negotiating for arbitration.

    The resolution is pending again with a fresh resolve deadline counted from
    now by the rule that applies today (the first reply, if any, stays recorded).
    """
    ticket = _load_for_write(actor, ticket_id, version)
    if ticket.status != S.CLOSED:
        raise ValidationError({"status": _("Only a closed ticket can be reopened.")})
    reason_text = _clean_note(reason, True, "reason")
    before = snapshot(ticket, TICKET_AUDIT_FIELDS)
    target = REOPEN_TARGET[ticket.is_arbitration]
    now = utcnow()
    from ..workcalendar import DbCalendar

    rules = db.session.scalars(select(DeadlineRule).where(DeadlineRule.is_active.is_(True)))
    rule = deadlines.select_rule(rules, brand_id=ticket.brand_id, category=ticket.category,
                                 reason_id=ticket.reason_id)
    if rule is not None:
        reply_due, resolve_due = deadlines.due_times(rule, now, DbCalendar())
        ticket.resolve_due_at = resolve_due
        if ticket.first_replied_at is None:
            ticket.reply_due_at = reply_due
            ticket.reply_agent_id = None  # a new deadline: it counts for whoever holds the ticket then
        ticket.deadline_rule_id = rule.id
    ticket.status, ticket.closed_at, ticket.resolved_at = target, None, None
    refresh_derived(ticket)
    _event(ticket, actor, EventKind.REOPEN, S.CLOSED, target, reason_text, at=now)
    _audit(actor, "ticket.reopen", ticket, before, f"{S.CLOSED} → {target}")
    notices.reopened(ticket, actor, reason_text)
    _commit()
    return ticket


# --------------------------------------------------------------------------
# Assignment
# --------------------------------------------------------------------------

def assign_error(actor: User, assignee: User | None) -> str | None:
    """Why ``actor`` may not give a ticket to ``assignee`` (None when allowed).

    Only active agents and leads take tickets. An admin assigns to anyone of
    them; a lead within their team; an agent only to themselves (taking it).
    """
    if assignee is None or not assignee.is_active or assignee.role not in (Role.AGENT, Role.LEAD):
        return _("Tickets can only be assigned to active agents or leads.")
    from ..training.certification.gate import refusal_reason

    refused = refusal_reason(assignee)  # 上岗: an uncertified agent receives no tickets
    if refused:
        return refused
    if actor.role == Role.ADMIN:
        return None
    if actor.role == Role.LEAD:
        if actor.team_id is None or assignee.team_id != actor.team_id:
            return _("A lead assigns tickets within their own team.")
        return None
    if actor.role == Role.AGENT and assignee.id == actor.id:
        return None
    return _("You may only take a ticket yourself; ask your lead to reassign it.")


def assignable_users(actor: User, *, certified_only: bool = True) -> list[User]:
    """The users ``actor`` may assign tickets to (for the reassign menu); ``certified_only=False``
    keeps agents who are not certified (上岗) — for filtering the queue by who holds tickets."""
    query = _assignable_query(actor, certified_only)
    return [] if query is None else list(db.session.scalars(query))


def assignable_rows(actor: User) -> list:
    """``assignable_users(actor)`` as rows (id, display_name, username): the ticket page's reassign
    menu shows no more, and loading the team as ORM users cost more than the query. One statement
    per kind of actor, built once per process (the gate and "is training required" in its SQL), run
    on every call: never stale."""
    if not has_permission(actor, Permission.WORK_TICKETS):
        return []
    if actor.role == Role.LEAD:
        if not actor.team_id:
            return []
        kind = "team"
    else:
        kind = "all" if actor.role == Role.ADMIN else "self"
    statement = _ASSIGNABLE_ROWS.get(kind)
    if statement is None:
        statement = _ASSIGNABLE_ROWS[kind] = _assignable_rows_statement(kind)
    from ..leave.rules import beijing_today

    return core_sql.execute(statement, {"team_id": actor.team_id, "actor_id": actor.id,
                                        "gate_today": beijing_today()}).all()


_ASSIGNABLE_ROWS: dict = {}  # kind of actor ("all", "team", "self") -> prebuilt statement


def _assignable_rows_statement(kind: str) -> Select:
    """``_assignable_query(actor, True)``'s rows, the actor's team or id and the day as parameters."""
    from ..training.certification.gate import certified_clause

    query = select(User.id, User.display_name, User.username).where(
        User.is_active_account.is_(True), User.role.in_([Role.AGENT, Role.LEAD]))
    if kind == "team":
        query = query.where(User.team_id == bindparam("team_id"))
    elif kind == "self":
        query = query.where(User.id == bindparam("actor_id"))
    return query.where(certified_clause(bindparam("gate_today"))).order_by(*username_order())


def _assignable_query(actor: User, certified_only: bool) -> Select | None:
    if not has_permission(actor, Permission.WORK_TICKETS):
        return None
    query = select(User).where(User.is_active_account.is_(True), User.role.in_([Role.AGENT, Role.LEAD]))
    if actor.role == Role.LEAD:
        query = query.where(User.team_id == actor.team_id) if actor.team_id else query.where(False)
    elif actor.role != Role.ADMIN:
        query = query.where(User.id == actor.id)
    from ..training.certification.gate import certified_filter

    if certified_only:
        query = certified_filter(query)
    return query.order_by(*username_order())


def _checked_assignee(actor: User, assignee_id) -> User:
    """The user ``actor`` may give tickets to (``assign_error``), else ValidationError."""
    if not _as_int(assignee_id):
        raise ValidationError({"assignee_id": _("Choose who takes the ticket.")})
    assignee = db.session.get(User, _as_int(assignee_id))
    problem = assign_error(actor, assignee)
    if problem:
        raise ValidationError({"assignee_id": problem})
    return assignee


def assign(actor: User, ticket_id: int, assignee_id: int, *, version: int | None, note: str = "") -> Ticket:
    """Give the ticket to another agent or lead (see ``assign_error`` for who may)."""
    ticket = _load_for_write(actor, ticket_id, version)
    return _assign_loaded(actor, ticket, _checked_assignee(actor, assignee_id), note)


def _assign_loaded(actor: User, ticket: Ticket, assignee: User, note: str,
                   away: dict[int, bool] | None = None) -> Ticket:
    """``assign`` once the ticket is loaded for the write and the assignee checked (``away``: see
    ``notices.assigned``)."""
    if ticket.assignee_id == assignee.id:
        raise ValidationError({"assignee_id": _("The ticket is already assigned to this person.")})
    note = _clean_note(note, False)
    before = snapshot(ticket, TICKET_AUDIT_FIELDS)
    previous = ticket.assignee
    ticket.assignee_id = assignee.id
    _event(ticket, actor, EventKind.ASSIGN, previous.display_name if previous else None,
           assignee.display_name, note)
    _audit(actor, "ticket.assign", ticket, before,
           f"{previous.username if previous else '-'} → {assignee.username}")
    notices.assigned(ticket, previous, actor, away)
    _commit()
    return ticket


# --------------------------------------------------------------------------
# Notes, replies, fines, details
# --------------------------------------------------------------------------

def add_note(actor: User, ticket_id: int, body: str, idempotency_key: str | None = None) -> TicketEvent:
    """An internal note on the timeline. Does not change the ticket (so takes no version).

    A repeated ``idempotency_key`` of the same user (a double submit) returns the stored note,
    even if the ticket has left the user's queue since.
    """
    ensure(actor, Permission.WORK_TICKETS)
    key = idempotency.clean(idempotency_key)
    done = idempotency.earlier(actor, idempotency.NOTE, key)
    if done is not None:
        return db.session.get(TicketEvent, done.ids[0])
    ticket = get_visible_ticket(actor, ticket_id)
    if ticket is None:
        raise TicketNotFound()
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write the note first.")})
    if len(body) > 2000:
        raise ValidationError({"body": _("The note may have at most 2000 characters.")})
    event = _event(ticket, actor, EventKind.NOTE, body=body)
    record(actor, "ticket.note", "ticket", ticket.id, summary=f"{ticket.waybill_no} {body[:80]}")
    done = _commit_once(actor, idempotency.NOTE, key, ticket.id, lambda: [event.id])
    return event if done is None else db.session.get(TicketEvent, done.ids[0])


REPLY_STATUSES = (S.REPLIED, S.AWAITING_FEEDBACK)  # the status a reply may set in the same step


def reply_status_choices(ticket: Ticket) -> list[str]:
    """The statuses a reply may set in the same step (已回复 / 待反馈) that the ticket's machine allows now."""
    allowed = transitions_for(ticket.category).get(ticket.status, frozenset())
    return [s for s in REPLY_STATUSES if s in allowed]


def replies(ticket: Ticket) -> list[TicketReply]:
    """The ticket's replies, earliest sent first (the first one met or missed the reply deadline)."""
    return list(db.session.scalars(
        select(TicketReply).where(TicketReply.ticket_id == ticket.id)
        .order_by(TicketReply.sent_at, TicketReply.id)))


def record_reply(actor: User, ticket_id: int, *, version: int | None, channel: str, body: str,
                 sent_at: datetime | None = None, corrects_id=None, set_status: str | None = None,
                 idempotency_key: str | None = None) -> TicketReply:
    """Record a reply given to the customer, outlet or brand (回复记录); never edited or deleted.

    ``sent_at`` defaults to now and may be back-dated, never before registration
    or in the future. The ticket's first reply is its earliest reply: the reply
    deadline is met or missed by it. A correction is a new reply naming the one
    it corrects (``corrects_id``). ``set_status`` (已回复 / 待反馈) changes the
    status in the same step; otherwise a new ordinary ticket moves to 处理中.
    A repeated ``idempotency_key`` of the same user (a double submit) returns the stored reply,
    even if the ticket has changed or left the user's queue since.
    """
    ensure(actor, Permission.WORK_TICKETS)
    key = idempotency.clean(idempotency_key)
    done = idempotency.earlier(actor, idempotency.REPLY, key)
    if done is not None:
        return db.session.get(TicketReply, done.ids[0])
    ticket = _load_for_write(actor, ticket_id, version)
    errors: dict[str, str] = {}
    if ticket.status == S.CLOSED:
        raise ValidationError({"body": _("The ticket is closed: reopen it before recording a reply.")})
    if channel not in set(ReplyChannel):
        errors["channel"] = _("Choose where the reply was given.")
    body = (body or "").strip()
    if not body:
        errors["body"] = _("Write what was replied.")
    elif len(body) > 4000:
        errors["body"] = _("The reply may have at most 4000 characters.")
    else:
        from ..blanks import MISSING_RE

        blanks = list(dict.fromkeys(MISSING_RE.findall(body)))
        if blanks:
            errors["body"] = _("Fill in the parts marked 【待填写】 first: %(names)s.", names="、".join(blanks))
    now = utcnow()
    at = sent_at or now
    if at.tzinfo is None:
        errors["sent_at"] = _("Enter a valid time.")
    elif at > now + timedelta(minutes=5) or at < ticket.registered_at:
        errors["sent_at"] = _("The reply time must be between registration and now.")
    corrects = None
    if corrects_id not in (None, "", 0, "0"):
        corrects = db.session.get(TicketReply, _as_int(corrects_id)) if _as_int(corrects_id) else None
        if corrects is None or corrects.ticket_id != ticket.id:
            errors["corrects_id"] = _("Choose a reply of this ticket.")
    if set_status:
        if set_status not in reply_status_choices(ticket):
            errors["set_status"] = _("A ticket cannot go from “%(from)s” to “%(to)s”.",
                                     **{"from": str(STATUS_LABELS.get(ticket.status, ticket.status)),
                                        "to": str(STATUS_LABELS.get(set_status, set_status))})
    if errors:
        raise ValidationError(errors)
    before = snapshot(ticket, TICKET_AUDIT_FIELDS)
    reply = TicketReply(ticket=ticket, channel=channel, body=body, sent_at=at, recorded_by_id=actor.id,
                        recorded_at=now, corrects_id=corrects.id if corrects else None)
    db.session.add(reply)
    if ticket.first_replied_at is None or at < ticket.first_replied_at:
        ticket.first_replied_at = at  # the earliest reply is the first reply
        stamp_reply_agent(ticket)
    _event(ticket, actor, EventKind.REPLY, channel, at.isoformat(timespec="minutes"), body, at=now)
    from_status = ticket.status
    if set_status:
        _apply_status_effects(ticket, set_status, now)
        ticket.status = set_status
        _event(ticket, actor, EventKind.STATUS, from_status, set_status, at=now)
    elif ticket.status == S.NEW:
        ticket.status = S.IN_PROGRESS
        _event(ticket, actor, EventKind.STATUS, S.NEW, S.IN_PROGRESS, at=now)
    refresh_derived(ticket)
    _audit(actor, "ticket.reply", ticket, before, body[:80])
    done = _commit_once(actor, idempotency.REPLY, key, ticket.id, lambda: [reply.id])
    return reply if done is None else db.session.get(TicketReply, done.ids[0])


def reply_met_deadline(ticket: Ticket) -> bool | None:
    """Did the first (earliest) reply meet the reply deadline? None while there is no reply or no deadline."""
    if ticket.first_replied_at is None or ticket.reply_due_at is None:
        return None
    return ticket.first_replied_at <= ticket.reply_due_at


def can_decide_fines(user: User) -> bool:
    """Who bears a fine (and the agent's share) is decided by a lead or an admin."""
    return has_permission(user, Permission.WORK_TICKETS) and has_permission(user, Permission.RECORD_FINES)


def _money(value, field_name: str, errors: dict) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("¥", "").replace("元", ""))
    except (InvalidOperation, ValueError):
        errors[field_name] = _("Enter an amount in yuan, e.g. 50.00.")
        return None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("10000000000"):
        errors[field_name] = _("Enter an amount in yuan, e.g. 50.00.")
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors[field_name] = _("At most two decimals (fen).")
        return None
    return amount.quantize(Decimal("0.01"))


def record_fine(actor: User, ticket_id: int, *, version: int | None, amount, bearer: str,
                agent_share=None, note: str = "", idempotency_key: str | None = None) -> Ticket:
    """Record (or correct) the fine of a ticket. Decimal money, never float.

    ``bearer``: company (the provider pays; the agent bears ``agent_share``,
    default 0), agent (the agent bears all: share = amount, whatever was entered), outlet (the
    outlet's own fault: share must be 0). 0 ≤ share ≤ amount. Leads and admins only.
    The fine is charged to the ticket's assignee when it is first recorded (``fine_agent_id``);
    a correction changes the money, not the agent.
    A repeated ``idempotency_key`` of the same user (a double submit) returns the ticket as
    that fine left it (no second fine event, no 409 for the version the first one moved).
    """
    if not can_decide_fines(actor):
        raise PermissionDenied(Permission.RECORD_FINES)
    key = idempotency.clean(idempotency_key)
    done = idempotency.earlier(actor, idempotency.FINE, key)
    if done is not None:
        return db.session.get(Ticket, done.ticket_id)
    ticket = _load_for_write(actor, ticket_id, version)
    errors: dict[str, str] = {}
    fine = _money(amount, "fine_amount", errors)
    if fine is None and "fine_amount" not in errors:
        errors["fine_amount"] = _("Enter the fine amount.")
    share = _money(agent_share, "fine_agent_share", errors)
    if bearer not in set(FineBearer):
        errors["fine_bearer"] = _("Choose who bears the fine.")
    if not errors:
        if bearer == FineBearer.AGENT:
            share = fine  # the agent bears the whole fine: no second entry
        elif share is None:
            share = Decimal("0.00")
        if share > fine:
            errors["fine_agent_share"] = _("The agent's share cannot exceed the fine.")
        elif bearer == FineBearer.OUTLET and share != 0:
            errors["fine_agent_share"] = _("A fine borne by the outlet has no agent share.")
    if errors:
        raise ValidationError(errors)
    note = _clean_note(note, False)
    before = snapshot(ticket, TICKET_AUDIT_FIELDS)
    old = f"{ticket.fine_amount} {ticket.fine_bearer} {ticket.fine_agent_share}" if ticket.fine_amount is not None else None
    if ticket.fine_amount is None:  # first recorded: charged to the agent handling the ticket now, for good,
        ticket.fine_agent_id = ticket.assignee_id  # and counted in this month (a correction keeps both)
        ticket.fined_at = utcnow()
    ticket.fine_amount, ticket.fine_bearer, ticket.fine_agent_share = fine, bearer, share
    event = _event(ticket, actor, EventKind.FINE, old, f"{fine} {bearer} {share}", note)
    _audit(actor, "ticket.fine", ticket, before, f"{fine} {bearer}")
    notices.fined(ticket, actor)
    done = _commit_once(actor, idempotency.FINE, key, ticket.id, lambda: [event.id])
    return ticket if done is None else db.session.get(Ticket, done.ticket_id)


def update_details(actor: User, ticket_id: int, *, version: int | None, customer_name: str,
                   customer_phone: str, description: str, priority: str) -> Ticket:
    """Edit the free fields (customer, description, priority); the identity fields stay."""
    ticket = _load_for_write(actor, ticket_id, version)
    errors: dict[str, str] = {}
    customer_name = (customer_name or "").strip()
    customer_phone = re.sub(r"\s", "", customer_phone or "")
    description = (description or "").strip()
    if len(customer_name) > 32:
        errors["customer_name"] = _("The name may have at most 32 characters.")
    if customer_phone and not re.fullmatch(r"\+?[0-9\-]{5,20}", customer_phone):
        errors["customer_phone"] = _("Enter a valid phone number.")
    if len(description) > 4000:
        errors["description"] = _("The description may have at most 4000 characters.")
    if priority not in set(Priority):
        errors["priority"] = _("Unknown priority.")
    if errors:
        raise ValidationError(errors)
    fields = ["customer_name", "customer_phone", "description", "priority"]
    before = snapshot(ticket, fields)
    ticket.customer_name, ticket.customer_phone = customer_name, customer_phone
    ticket.description, ticket.priority = description, priority
    after = snapshot(ticket, fields)
    changed = [name for name in fields if before[name] != after[name]]
    if not changed:
        return ticket
    _event(ticket, actor, EventKind.EDIT, body=", ".join(changed))
    # The phone is personal data: the audit says it changed, not what it is.
    for data in (before, after):
        if "customer_phone" in data:
            data["customer_phone"] = mask_phone(data["customer_phone"])
    record(actor, "ticket.edit", "ticket", ticket.id, summary=ticket.waybill_no, before=before, after=after)
    _commit()
    return ticket


# --------------------------------------------------------------------------
# Bulk
# --------------------------------------------------------------------------

BULK_ACTIONS = ("assign", "status", "close")
BULK_LIMIT = 500


@dataclass
class BulkResult:
    ticket_id: int
    changed: bool
    message: str = ""  # why it was refused (Chinese), empty when changed


def bulk_apply(actor: User, ticket_ids, action: str, *, versions: dict[int, int] | None = None,
               assignee_id: int | None = None, to_status: str | None = None, note: str = "") -> list[BulkResult]:
    """Apply one action to many tickets; each row follows the single-change rules and commits alone.

    ``action``: "assign" (``assignee_id``), "status" (``to_status``), "close".
    ``versions`` maps ticket id → the version shown in the table (rows without
    one are not checked for staleness). Returns one result per distinct id, in order.
    """
    ensure(actor, Permission.BULK_TICKETS)
    if action not in BULK_ACTIONS:
        raise ValidationError({"action": _("Unknown bulk action.")})
    ids = list(dict.fromkeys(_as_int(i) for i in ticket_ids if _as_int(i)))
    if not ids:
        raise ValidationError({"ids": _("Select at least one ticket.")})
    if len(ids) > BULK_LIMIT:
        raise ValidationError({"ids": _("At most %(n)s tickets at once.", n=BULK_LIMIT)})
    versions = {int(k): int(v) for k, v in (versions or {}).items()}
    with kept_after_commit():  # the actor and the assignee are not reloaded after each ticket's commit
        return _bulk_rows(actor, ids, action, versions, assignee_id, to_status, note)


def _outlets_and_assignees(ids: list[int]) -> list:
    """The outlets and current assignees of the tickets ``ids`` in one statement, for a bulk
    assignment: kept referenced, they serve each ticket's ``outlet`` and ``assignee`` (the notices
    and the timeline name them) from the session instead of one lookup each. Nothing of them is
    shown unless the ticket itself passes the scope check of its write."""
    return list(db.session.execute(
        select(Outlet, User).select_from(Ticket).join(Outlet, Outlet.id == Ticket.outlet_id)
        .outerjoin(User, User.id == Ticket.assignee_id).where(Ticket.id.in_(ids))))


def _bulk_rows(actor: User, ids: list[int], action: str, versions: dict[int, int], assignee_id, to_status, note):
    assignee, refused = None, None
    if action == "assign":  # who takes them is checked once for the batch, not per ticket
        try:
            assignee = _checked_assignee(actor, assignee_id)
        except ValidationError as error:
            refused = error
    results = []
    # The batch's tickets stay referenced, and with them the users and outlets they loaded: the
    # session's identity map (weak) serves the next ticket's previous assignee and outlet.
    loaded = []
    away: dict[int, bool] = {}  # whether the assignee is on leave: asked once for the batch
    if assignee is not None:
        loaded.append(_outlets_and_assignees(ids))
    for ticket_id in ids:
        version = versions.get(ticket_id)
        try:
            if action == "assign":
                ticket = _load_for_write(actor, ticket_id, version)  # a ticket's own refusals first, as one by one
                loaded.append(ticket)
                if refused is not None:
                    raise refused
                _assign_loaded(actor, ticket, assignee, note, away)
            elif action == "status":
                change_status(actor, ticket_id, to_status, version=version, note=note)
            else:
                close_ticket(actor, ticket_id, version=version, note=note)
            results.append(BulkResult(ticket_id, True))
        except ValidationError as error:
            db.session.rollback()
            results.append(BulkResult(ticket_id, False, " ".join(str(m) for m in error.errors.values())))
        except StaleEdit:
            db.session.rollback()
            results.append(BulkResult(ticket_id, False, _("Someone else changed this ticket; reload and try again.")))
        except TicketNotFound:
            db.session.rollback()
            results.append(BulkResult(ticket_id, False, _("Ticket not found.")))
        except PermissionDenied:
            db.session.rollback()
            results.append(BulkResult(ticket_id, False, _("You are not allowed to do this.")))
    return results


# --------------------------------------------------------------------------
# Lookups for forms
# --------------------------------------------------------------------------

def reasons_for(category: str | None = None, include_inactive: bool = False) -> list[TicketReason]:
    """Reasons of a category (or all), in their sort order, for selects and import matching."""
    query = select(TicketReason)
    if category:
        query = query.where(TicketReason.category == category)
    if not include_inactive:
        query = query.where(TicketReason.is_active.is_(True))
    return list(db.session.scalars(query.order_by(TicketReason.category, TicketReason.sort_order, TicketReason.id)))


def timeline(ticket: Ticket) -> list[TicketEvent]:
    """The ticket's events, oldest first, with their actors in the same query."""
    from sqlalchemy.orm import joinedload

    return list(db.session.scalars(
        select(TicketEvent).options(joinedload(TicketEvent.actor))
        .where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.at, TicketEvent.id)))


# --------------------------------------------------------------------------
# The ticket page's read-only lists: plain rows from statements built once per process
# (the page is an agent's most common page; building statements and ORM objects cost more
# than running the SQL).
# --------------------------------------------------------------------------

_PAGE_STATEMENTS: dict[str, Select] = {}


def _page_statement(name: str) -> Select:
    statement = _PAGE_STATEMENTS.get(name)
    if statement is None:
        statement = _PAGE_STATEMENTS[name] = _PAGE_BUILDERS[name]()
    return statement


def _timeline_statement() -> Select:
    return (select(TicketEvent.id, TicketEvent.at, TicketEvent.actor_id, TicketEvent.kind, TicketEvent.from_value,
                   TicketEvent.to_value, TicketEvent.body, User.display_name.label("actor_name"))
            .outerjoin(User, User.id == TicketEvent.actor_id)
            .where(TicketEvent.ticket_id == bindparam("ticket_id"))
            .order_by(TicketEvent.at, TicketEvent.id))


def _replies_statement() -> Select:
    from sqlalchemy.orm import aliased

    corrected = aliased(TicketReply, name="corrected")
    return (select(TicketReply.id, TicketReply.channel, TicketReply.body, TicketReply.sent_at,
                   TicketReply.recorded_by_id, TicketReply.corrects_id, User.display_name.label("recorded_by_name"),
                   corrected.sent_at.label("corrects_sent_at"))
            .outerjoin(User, User.id == TicketReply.recorded_by_id)
            .outerjoin(corrected, corrected.id == TicketReply.corrects_id)
            .where(TicketReply.ticket_id == bindparam("ticket_id"))
            .order_by(TicketReply.sent_at, TicketReply.id))


def _canned_statement() -> Select:
    return (select(CannedReply.id, CannedReply.category, CannedReply.reason_id, CannedReply.title, CannedReply.body)
            .where((CannedReply.category == bindparam("category")) | CannedReply.category.is_(None),
                   CannedReply.is_active.is_(True))
            .order_by(CannedReply.sort_order, CannedReply.id))


_PAGE_BUILDERS = {"timeline": _timeline_statement, "replies": _replies_statement, "canned": _canned_statement}


# The page's reads below are Core rows: run on the session's connection (core_sql), no ORM step.


def timeline_rows(ticket_id: int) -> list:
    """``timeline`` for the page: rows (id, at, actor_id, kind, from_value, to_value, body, actor_name),
    oldest first."""
    return core_sql.execute(_page_statement("timeline"), {"ticket_id": ticket_id}).all()


def reply_rows(ticket_id: int) -> list:
    """``replies`` for the page: rows (id, channel, body, sent_at, recorded_by_id, corrects_id,
    recorded_by_name, corrects_sent_at), earliest sent first."""
    return core_sql.execute(_page_statement("replies"), {"ticket_id": ticket_id}).all()


def canned_rows(category: str) -> list:
    """``reference.canned_replies_for(category)`` for the page: rows (id, category, reason_id, title, body)."""
    return core_sql.execute(_page_statement("canned"), {"category": category}).all()
