"""The queue's read side: scope tabs, filters, sorts, pages and counts.

Pure query builders over ``service.visible_tickets_query``: no request, no
writes. Every filter is a plain ``WHERE`` on a column the queue indexes serve
(``(<column>, queue_state, due_at)``, the waybill unique key, ``registered_at``),
and the default order is ``queue_state, due_at`` so "open, nearest deadline
first" reads straight from an index. Pages are ``LIMIT per_page + 1``: the
extra row says whether there is a next page, so nothing counts the whole table.
The per-category counts are one ``GROUP BY`` over the open tickets of the scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import Integer, Select, and_, bindparam, case, func, literal_column, or_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..filters import SHANGHAI
from ..models import (
    Brand,
    EventKind,
    Outlet,
    Priority,
    QueueState,
    Role,
    Ticket,
    TicketEvent,
    TicketReason,
    TicketStatus,
    User,
)
from ..permissions import Permission, has_permission
from ..request_args import bounded_int, day_or_none
from ..sql_any import in_subquery
from . import service

PER_PAGE = 50

SCOPES = {
    "mine": _l("Mine"),
    "team": _l("Team"),
    "all": _l("All"),
}

WINDOWS = {
    "overdue": _l("Overdue"),
    "hour": _l("Due within 1 hour"),
    "today": _l("Due today"),
}

# Filters the home pages link to (not in the filter form): fines recorded this month, replies sent today.
FINED = {"month": _l("Fined this month")}
REPLIED = {"today": _l("Replied today")}
EVIDENCE = {"missing": _l("Evidence missing")}

SORTS = {
    "deadline": _l("Nearest deadline"),
    "registered": _l("Newest registered"),
    "updated": _l("Recently updated"),
    "priority": _l("Priority"),
}

# Status filter: "" means open tickets (the default), "all" every ticket.
STATUS_ALL = "all"

_WAYBILL_LIKE = re.compile(r"^[A-Za-z0-9]{1,20}$")
_URL_SAFE = "!$'()*,/:;?@"  # werkzeug.urls._urlencode's (url_for's query string)


@dataclass(frozen=True)
class QueueFilter:
    """Everything the queue URL can say. Unknown or malformed values are dropped."""

    scope: str = "mine"
    q: str = ""
    direction: str = ""
    category: str = ""
    reason_id: int | None = None
    status: str = ""
    outlet_id: int | None = None
    brand_id: int | None = None
    assignee_id: int | None = None  # 0 = unassigned
    window: str = ""
    since: date | None = None
    until: date | None = None
    fined: str = ""
    replied: str = ""
    evidence: str = ""
    sort: str = "deadline"
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict, compare=False)

    def args(self, **changes) -> dict[str, str]:
        """The non-default values as URL arguments (``changes`` applied first)."""
        f = replace(self, **changes) if changes else self
        out: dict[str, str] = {"scope": f.scope}
        for name in ("q", "direction", "category", "status", "window", "fined", "replied", "evidence"):
            if getattr(f, name):
                out[name] = getattr(f, name)
        for name, key in (("reason_id", "reason"), ("outlet_id", "outlet"), ("brand_id", "brand"),
                          ("assignee_id", "assignee")):
            value = getattr(f, name)
            if value is not None:
                out[key] = str(value)
        if f.since:
            out["since"] = f.since.isoformat()
        if f.until:
            out["until"] = f.until.isoformat()
        if f.sort != "deadline":
            out["sort"] = f.sort
        if f.page > 1:
            out["page"] = str(f.page)
        return out

    def url(self, base: str, **changes) -> str:
        """``url_for("tickets.index", **self.args(**changes))`` given the index URL ``base``: the same
        query string (werkzeug's encoding), without building the route each time (a page has ~8)."""
        return f"{base}?{urlencode(list(self.args(**changes).items()), safe=_URL_SAFE)}"

    @property
    def is_filtered(self) -> bool:
        """True when anything narrows the scope (used for the empty-table message)."""
        return bool(self.q or self.direction or self.category or self.reason_id or self.status
                    or self.outlet_id or self.brand_id or self.assignee_id is not None
                    or self.window or self.since or self.until or self.fined or self.replied or self.evidence)


# --------------------------------------------------------------------------- scope


def allowed_scopes(user: User) -> list[str]:
    """The tabs this user may open, in display order."""
    scopes = ["mine"]
    if has_permission(user, Permission.VIEW_TEAM_TICKETS) and user.team_id is not None:
        scopes.append("team")
    if has_permission(user, Permission.VIEW_ALL_TICKETS):
        scopes.append("all")
    return scopes


def default_scope(user: User) -> str:
    """Agents start on their own tickets, leads on their team's, admins on everything."""
    if user.role == Role.ADMIN:
        return "all"
    if user.role == Role.LEAD and "team" in allowed_scopes(user):
        return "team"
    return "mine"


def scoped_query(user: User, scope: str, at: datetime | None = None) -> Select:
    """Tickets of one tab, always inside what the user may see.

    * mine: assigned to the user, or of an outlet whose primary agent is the user,
      or of an outlet the user covers at ``at`` for someone on leave (代班);
    * team: assigned to a member of the user's team, or of an outlet whose
      primary agent is one (for a lead this is exactly their visible set);
    * all: everything visible (admins).
    A scope the user may not open is an empty query, never a wider one.
    """
    query = service.visible_tickets_query(user, at)
    if scope not in allowed_scopes(user):
        return query.where(False)
    if scope == "mine":
        if user.role == Role.AGENT:
            return query  # an agent's visible set is exactly "mine"
        own = select(Outlet.id).where(Outlet.primary_agent_id == user.id)
        return query.where(or_(Ticket.assignee_id == user.id, Ticket.outlet_id.in_(own),
                               *service.covered_clauses(user, at)))
    if scope == "team":
        if user.role == Role.LEAD:
            return query
        members = select(User.id).where(User.team_id == user.team_id).scalar_subquery()
        team_outlets = select(Outlet.id).where(Outlet.primary_agent_id.in_(members))
        return query.where(or_(Ticket.assignee_id.in_(members), Ticket.outlet_id.in_(team_outlets)))
    return query


# --------------------------------------------------------------------------- parsing


def _int_arg(args, name: str, minimum: int = 1) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = bounded_int(raw)  # 30 digits would overflow the database
    except ValueError:
        return None
    return value if value >= minimum else None


def _date_arg(args, name: str, errors: dict[str, str]) -> date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    day = day_or_none(raw)
    if day is None:
        errors[name] = str(_l("Enter a date as YYYY-MM-DD."))
    return day


def parse_filter(args, user: User) -> QueueFilter:
    """A ``QueueFilter`` from request arguments; values the user may not use are dropped."""
    from .labels import CATEGORY_LABELS, DIRECTION_LABELS, STATUS_LABELS

    errors: dict[str, str] = {}
    scope = args.get("scope") or default_scope(user)
    if scope not in allowed_scopes(user):
        scope = default_scope(user)
    status = args.get("status") or ""
    if status != STATUS_ALL and status not in STATUS_LABELS:
        status = ""
    since = _date_arg(args, "since", errors)
    until = _date_arg(args, "until", errors)
    if since and until and until < since:
        errors["until"] = str(_l("The end date is before the start date."))
        until = None
    q = " ".join((args.get("q") or "").split())[:64]
    return QueueFilter(
        scope=scope,
        q=q,
        direction=args.get("direction") if args.get("direction") in DIRECTION_LABELS else "",
        category=args.get("category") if args.get("category") in CATEGORY_LABELS else "",
        reason_id=_int_arg(args, "reason"),
        status=status,
        outlet_id=_int_arg(args, "outlet"),
        brand_id=_int_arg(args, "brand"),
        assignee_id=_int_arg(args, "assignee", minimum=0),
        window=args.get("window") if args.get("window") in WINDOWS else "",
        since=since,
        until=until,
        fined=args.get("fined") if args.get("fined") in FINED else "",
        replied=args.get("replied") if args.get("replied") in REPLIED else "",
        evidence=args.get("evidence") if args.get("evidence") in EVIDENCE else "",
        sort=args.get("sort") if args.get("sort") in SORTS else "deadline",
        page=min(_int_arg(args, "page") or 1, 10_000),
        errors=errors,
    )


# --------------------------------------------------------------------------- filters


def now_utc() -> datetime:
    return datetime.now(UTC)


def shanghai_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[00:00, next 00:00) of a Shanghai calendar day, as aware UTC datetimes."""
    start = datetime.combine(day, time(0, 0), tzinfo=SHANGHAI)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_clause(q: str):
    """``q`` with a digit and only letters/digits: a waybill (exact or prefix).
    Letters only: a waybill prefix (YT, JT) or a word in the name/description.
    Anything else: a customer name or description containing it."""
    q = q.strip()
    if not q:
        return None
    if _WAYBILL_LIKE.match(q):
        if any(c.isdigit() for c in q):
            return service.waybill_search_clause(q)
        pattern = f"%{_escape_like(q)}%"
        return or_(service.waybill_prefix_clause(q), Ticket.customer_name.ilike(pattern, escape="\\"),
                   Ticket.description.ilike(pattern, escape="\\"))
    pattern = f"%{_escape_like(q)}%"
    return or_(Ticket.customer_name.like(pattern, escape="\\"), Ticket.description.like(pattern, escape="\\"))


def searches_waybill(q: str) -> bool:
    """Is ``q`` a waybill (exact or prefix: letters and digits with a digit)? Such a search covers every status."""
    q = (q or "").strip()
    return bool(_WAYBILL_LIKE.match(q)) and any(c.isdigit() for c in q)


def window_clause(window: str, now: datetime):
    """已超时 / 1 小时内到期 / 今日到期 (today in Asia/Shanghai); pending deadlines only."""
    if window == "overdue":
        return service.overdue_clause(now)
    if window == "hour":
        return service.due_within_clause(timedelta(hours=1), now)
    if window == "today":
        start, end = shanghai_day_bounds(now.astimezone(SHANGHAI).date())
        return and_(Ticket.queue_state == QueueState.ACTIVE, Ticket.due_at >= start, Ticket.due_at < end)
    return None


def apply_filters(query: Select, f: QueueFilter, now: datetime | None = None) -> Select:
    """Narrow ``query`` by every set field of ``f`` (not the scope: see ``scoped_query``)."""
    now = now or now_utc()
    if f.status == STATUS_ALL or (not f.status and searches_waybill(f.q)):
        pass  # a waybill search finds the ticket in any status (the page says when it is closed)
    elif f.status:
        query = query.where(Ticket.status == f.status)
        if f.status != TicketStatus.CLOSED:
            query = query.where(service.open_clause())  # lets the queue indexes serve it
    else:
        query = query.where(service.open_clause())
    if f.direction:
        query = query.where(Ticket.direction == f.direction)
    if f.category:
        query = query.where(Ticket.category == f.category)
    if f.reason_id:
        query = query.where(Ticket.reason_id == f.reason_id)
    if f.outlet_id:
        query = query.where(Ticket.outlet_id == f.outlet_id)
    if f.brand_id:
        query = query.where(Ticket.brand_id == f.brand_id)
    if f.assignee_id is not None:
        query = query.where(Ticket.assignee_id.is_(None) if f.assignee_id == 0 else Ticket.assignee_id == f.assignee_id)
    clause = window_clause(f.window, now)
    if clause is not None:
        query = query.where(clause)
    if f.since:
        query = query.where(Ticket.registered_at >= shanghai_day_bounds(f.since)[0])
    if f.until:
        query = query.where(Ticket.registered_at < shanghai_day_bounds(f.until)[1])
    if f.fined or f.replied or f.evidence:
        query = query.where(*activity_clauses(f, now))
    clause = search_clause(f.q)
    if clause is not None:
        query = query.where(clause)
    return query


def activity_clauses(f: QueueFilter, now: datetime) -> list:
    """本月罚款: a fine first recorded this month (Shanghai); 今日已回复: a reply sent today (Shanghai);
    缺举证材料: an active checklist item of the ticket's reason without a (not removed) attachment."""
    from ..models.ticket import TicketReply

    clauses = []
    local = now.astimezone(SHANGHAI).date()
    if f.fined == "month":
        start = shanghai_day_bounds(local.replace(day=1))[0]
        clauses.append(Ticket.fined_at >= start)
    if f.replied == "today":
        start, end = shanghai_day_bounds(local)
        clauses.append(select(TicketReply.id).where(
            TicketReply.ticket_id == Ticket.id, TicketReply.sent_at >= start, TicketReply.sent_at < end).exists())
    if f.evidence == "missing":
        from .attachments.checklist import missing_evidence_clause

        clauses.append(missing_evidence_clause())
    return clauses


_PRIORITY_RANK = case(
    (Ticket.priority == Priority.URGENT, 0),
    (Ticket.priority == Priority.HIGH, 1),
    else_=2,
)


def apply_sort(query: Select, sort: str) -> Select:
    """Default: pending deadlines first, nearest first (the index order)."""
    if sort == "registered":
        return query.order_by(Ticket.registered_at.desc(), Ticket.id.desc())
    if sort == "updated":
        return query.order_by(Ticket.updated_at.desc(), Ticket.id.desc())
    if sort == "priority":
        return query.order_by(_PRIORITY_RANK, Ticket.queue_state, Ticket.due_at, Ticket.id)
    return service.order_by_deadline(query)


# --------------------------------------------------------------------------- reading


@dataclass
class Page:
    items: list  # rows of ROW_COLUMNS (see fetch_page)
    page: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)


def queue_query(user: User, f: QueueFilter, now: datetime | None = None) -> Select:
    """The ordered, filtered query of one queue view (no limit)."""
    return apply_sort(apply_filters(scoped_query(user, f.scope, now), f, now), f.sort)


LIST_COLUMNS = (
    Ticket.id, Ticket.version, Ticket.waybill_no, Ticket.outlet_id, Ticket.brand_id, Ticket.reason_id,
    Ticket.assignee_id, Ticket.direction, Ticket.category, Ticket.priority, Ticket.status,
    Ticket.customer_name, Ticket.customer_phone, Ticket.registered_at, Ticket.due_at, Ticket.queue_state,
    Ticket.reply_due_at, Ticket.first_replied_at, Ticket.closed_at,
)


# The names a row shows, joined under aliases of their own: the scope's subqueries over
# outlets and users must not correlate with them. Built once per process.
_ROW_OUTLET, _ROW_BRAND = aliased(Outlet, name="row_outlet"), aliased(Brand, name="row_brand")
_ROW_REASON, _ROW_ASSIGNEE = aliased(TicketReason, name="row_reason"), aliased(User, name="row_assignee")
ROW_COLUMNS = (
    *LIST_COLUMNS, _ROW_OUTLET.code.label("outlet_code"), _ROW_OUTLET.name.label("outlet_name"),
    _ROW_BRAND.name.label("brand_name"), _ROW_REASON.name.label("reason_name"),
    _ROW_ASSIGNEE.display_name.label("assignee_name"),
)


NEXT_LOOKAHEAD = 2000  # open tickets of a view read to find the next one (an agent's queue holds a few hundred)


def next_ticket_id(user: User, current_id: int, now: datetime | None = None,
                   f: QueueFilter | None = None) -> int | None:
    """下一张: the ticket after ``current_id`` in the user's queue as ``f`` shows it (by default as the
    queue first shows it: their default tab, open tickets, nearest deadline first), the first again
    after the last; the first when ``current_id`` is no longer in it (closed, handed on, or out of
    the filter: the top is next). None when the list holds no other ticket. Always inside what the
    user may see."""
    f = replace(f, page=1) if f is not None else QueueFilter(scope=default_scope(user))
    query = queue_query(user, f, now or now_utc())
    ids = list(db.session.scalars(query.with_only_columns(Ticket.id).limit(NEXT_LOOKAHEAD)))
    if current_id in ids:
        at = ids.index(current_id)
        ids = ids[at + 1:] + ids[:at]
    return ids[0] if ids else None


def remembered_args(f: QueueFilter, user: User) -> str:
    """The query string that brings the queue back as ``f`` shows it (first page), or "" when that
    is the queue's default view: what 下一张 and 返回工单队列 follow (kept in the session)."""
    args = f.args(page=1)
    if args == QueueFilter(scope=default_scope(user)).args():
        return ""
    return urlencode(list(args.items()), safe=_URL_SAFE)


def filter_from_query(text: str, user: User) -> QueueFilter | None:
    """The filter of a query string kept by ``remembered_args`` (cleaned again: scopes and values
    the user may no longer use are dropped), None for the default view."""
    if not text:
        return None
    from urllib.parse import parse_qsl

    from werkzeug.datastructures import MultiDict

    return parse_filter(MultiDict(parse_qsl(text[:2000])), user)


def page_statement(query: Select, page: int = 1, per_page: int = PER_PAGE) -> Select:
    """``query`` as one page of ``ROW_COLUMNS`` rows (the extra row says whether there is a next)."""
    return (
        query.with_only_columns(*ROW_COLUMNS)
        .outerjoin(_ROW_OUTLET, _ROW_OUTLET.id == Ticket.outlet_id)
        .outerjoin(_ROW_BRAND, _ROW_BRAND.id == Ticket.brand_id)
        .outerjoin(_ROW_REASON, _ROW_REASON.id == Ticket.reason_id)
        .outerjoin(_ROW_ASSIGNEE, _ROW_ASSIGNEE.id == Ticket.assignee_id)
        .limit(per_page + 1).offset((page - 1) * per_page)
    )


def fetch_page(query: Select, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page via LIMIT per_page + 1 (no COUNT), as plain rows (no ORM objects: a page's 50
    tickets with their outlet, brand, reason and assignee were 250 objects to build): the
    columns of ``ROW_COLUMNS`` by name (``row.id``, ``row.outlet_name`` …)."""
    rows = db.session.execute(page_statement(query, page, per_page)).all()
    return Page(items=rows[:per_page], page=page, per_page=per_page, has_next=len(rows) > per_page)


def page_of(user: User, f: QueueFilter, now: datetime | None = None, per_page: int = PER_PAGE) -> Page:
    """One page of the queue: the prebuilt statement of its shape (``prebuilt``) when there is
    one, else the query built for this request (``queue_query`` + ``fetch_page``); same rows."""
    now = now or now_utc()
    scope = scope_shape(user, f.scope, now)
    shape = filter_shape(f, now) if scope is not None else None
    if shape is None:
        return fetch_page(queue_query(user, f, now), f.page, per_page)
    (scope_key, params), (filter_key, filter_params) = scope, shape
    params.update(filter_params, limit=per_page + 1, offset=(f.page - 1) * per_page)
    rows = run(_page_statement(scope_key, filter_key, f.sort), params).all()
    return Page(items=rows[:per_page], page=f.page, per_page=per_page, has_next=len(rows) > per_page)


# --------------------------------------------------------------------------- prebuilt statements
#
# The queue's statements for each shape (role and tab, which filters are set, the sort), built
# once per process over the tables (Core: no ORM compile step) with every value a bind
# parameter: a request fills in the values instead of building select()s, their cache keys and
# the counters' rewrite again. Their SQL is the SQL of ``queue_query`` + ``fetch_page`` and of
# ``scope_counts`` (tests/test_tickets_queue_prebuilt.py compares them), so the plans are too.
# Rare shapes (activity filters, text searches, a tab the user may not open) take the general path.

_T, _O, _U = Ticket.__table__, Outlet.__table__, User.__table__


def run(statement, params: dict):
    """A prebuilt Core statement on the session's connection (no ORM execute step), unless the
    session holds changes not flushed yet (then through the session, which flushes them first)."""
    from .. import core_sql

    return core_sql.execute(statement, params)
_COVERED = bindparam("covered", expanding=True)
_USER_ID, _TEAM_ID = bindparam("user_id"), bindparam("team_id")


def scope_shape(user: User, scope: str, at: datetime) -> tuple[tuple, dict] | None:
    """(key, parameters) of a tab's condition (``scoped_query``'s), None for the general path."""
    if user is None or not getattr(user, "is_active", False) or scope not in allowed_scopes(user):
        return None
    role = user.role
    if role not in (Role.ADMIN, Role.LEAD, Role.AGENT) or (role == Role.LEAD and user.team_id is None):
        return None
    params = {"user_id": user.id, "team_id": user.team_id}
    covered = []
    if role != Role.ADMIN or scope == "mine":  # where the general path asks service.covered_clauses
        from ..leave.coverage import covered_outlet_ids

        covered = covered_outlet_ids(user, at)
        if covered:
            params["covered"] = covered
    return (role, scope, bool(covered)), params


_SCOPES: dict[tuple, object] = {}
_VISIBLE: dict[tuple, Select] = {}


def visible_waybills(user: User, ticket_ids: list[int], at: datetime | None = None) -> dict[int, str]:
    """``{id: waybill}`` of those of ``ticket_ids`` the user may see (``service.visible_tickets_query``),
    one prebuilt statement: the bulk result names the tickets it changed (a guessed id stays "#id")."""
    if not ticket_ids:
        return {}
    shape = visible_shape(user, at)
    if shape is None:
        query = service.visible_tickets_query(user, at).with_only_columns(Ticket.id, Ticket.waybill_no)
        return dict(db.session.execute(query.where(Ticket.id.in_(ticket_ids))).all())
    key, condition, params = shape
    statement = _VISIBLE.get(key)
    if statement is None:
        statement = _VISIBLE[key] = select(_T.c.id, _T.c.waybill_no).where(
            *([condition] if condition is not None else []), _T.c.id.in_(bindparam("ids", expanding=True)))
    return dict(run(statement, {**params, "ids": list(ticket_ids)}).all())


def visible_shape(user: User, at: datetime | None = None) -> tuple[tuple, object, dict] | None:
    """(key, condition, parameters) of ``service.visible_tickets_query``'s WHERE over the tickets
    table, built once per key with the user and the outlets covered as parameters (the condition
    is None for an admin, who sees every ticket); None for a user the general path answers."""
    role = getattr(user, "role", None)
    if (not getattr(user, "is_active", False) or role not in (Role.ADMIN, Role.LEAD, Role.AGENT)
            or (role == Role.LEAD and user.team_id is None)):
        return None
    params = {"user_id": user.id, "team_id": user.team_id}
    covered = []
    if role != Role.ADMIN:
        from ..leave.coverage import covered_outlet_ids

        covered = covered_outlet_ids(user, at)
        if covered:
            params["covered"] = covered
    key = (role, "visible", bool(covered))
    return key, _scope_condition(key), params


def _scope_condition(key: tuple):
    """``scoped_query``'s WHERE (over ``service.visible_tickets_query``) with parameters."""
    condition = _SCOPES.get(key)
    if condition is None:
        condition = _SCOPES[key] = _build_scope(*key)
    return condition


def _count_scope_condition(key: tuple):
    """``_scope_condition`` for a count (no order, no limit): its ``IN (SELECT …)`` branches are
    ``sql_any.in_subquery``, which PostgreSQL answers from the queue indexes inside the OR."""
    condition = _COUNT_SCOPES.get(key)
    if condition is None:
        condition = _COUNT_SCOPES[key] = _build_scope(*key, in_select=in_subquery)
    return condition


_COUNT_SCOPES: dict[tuple, object] = {}


def _in_select(column, statement):
    return column.in_(statement)


def _build_scope(role: str, scope: str, covered: bool, in_select=_in_select):
    t = _T
    cover = [t.c.outlet_id.in_(_COVERED)] if covered else []

    def own():
        return or_(t.c.assignee_id == _USER_ID,
                   in_select(t.c.outlet_id, select(_O.c.id).where(_O.c.primary_agent_id == _USER_ID)), *cover)

    def team(*extra):
        members = select(_U.c.id).where(_U.c.team_id == _TEAM_ID)
        return or_(in_select(t.c.assignee_id, members),
                   in_select(t.c.outlet_id, select(_O.c.id).where(_O.c.primary_agent_id.in_(
                       members.scalar_subquery()))), *extra)

    # service.visible_tickets_query
    visible = None if role == Role.ADMIN else team(*cover) if role == Role.LEAD else own()
    # scoped_query ("visible": the whole visible set, not a tab)
    if scope == "mine" and role != Role.AGENT:
        narrow = own()
    elif scope == "team" and role != Role.LEAD:
        narrow = team()
    else:
        return visible
    return narrow if visible is None else and_(visible, narrow)


def filter_shape(f: QueueFilter, now: datetime) -> tuple[tuple, dict] | None:
    """(key, parameters) of ``apply_filters``' conditions, None for the general path."""
    if f.fined or f.replied or f.evidence:
        return None
    params: dict = {}
    if f.status == STATUS_ALL or (not f.status and searches_waybill(f.q)):
        status = "any"
    elif f.status:
        status = "closed" if f.status == TicketStatus.CLOSED else "status"
        params["status"] = f.status
    else:
        status = "open"
    for name in ("direction", "category", "reason_id", "outlet_id", "brand_id"):
        if getattr(f, name):
            params[name] = getattr(f, name)
    assignee = None
    if f.assignee_id is not None:
        assignee = "none" if f.assignee_id == 0 else "is"
        if f.assignee_id:
            params["assignee_id"] = f.assignee_id
    if f.window == "overdue":
        params["now"] = now
    elif f.window == "hour":
        params.update(now=now, hour_end=now + timedelta(hours=1))
    elif f.window == "today":
        params["day_start"], params["day_end"] = shanghai_day_bounds(now.astimezone(SHANGHAI).date())
    if f.since:
        params["since"] = shanghai_day_bounds(f.since)[0]
    if f.until:
        params["until"] = shanghai_day_bounds(f.until)[1]
    search = None
    q = f.q.strip()
    if q:
        if not searches_waybill(q):
            return None  # names and descriptions: the general path
        value = service.normalize_waybill(q)
        if not re.fullmatch(r"[A-Z0-9]*", value):
            return None
        upper = service._prefix_successor(value)
        search = ("full" if service.WAYBILL_RE.match(value) else "prefix", upper is not None)
        params["waybill"] = value
        if upper is not None:
            params["waybill_end"] = upper
    key = (status, tuple(n for n in ("direction", "category", "reason_id", "outlet_id", "brand_id") if n in params),
           assignee, f.window, bool(f.since), bool(f.until), search)
    return key, params


def _filter_conditions(key: tuple) -> list:
    """``apply_filters``' conditions, in its order, with parameters."""
    status, columns, assignee, window, since, until, search = key
    t = _T
    where = []
    if status in ("status", "closed"):
        where.append(t.c.status == bindparam("status"))
    if status in ("status", "open"):
        where.append(t.c.queue_state < QueueState.CLOSED)  # service.open_clause
    for name in columns:
        where.append(t.c[name] == bindparam(name))
    if assignee == "none":
        where.append(t.c.assignee_id.is_(None))
    elif assignee == "is":
        where.append(t.c.assignee_id == bindparam("assignee_id"))
    if window == "overdue":
        where.append(and_(t.c.queue_state == QueueState.ACTIVE, t.c.due_at < bindparam("now")))
    elif window == "hour":
        where.append(and_(t.c.queue_state == QueueState.ACTIVE, t.c.due_at >= bindparam("now"),
                          t.c.due_at < bindparam("hour_end")))
    elif window == "today":
        where.append(and_(t.c.queue_state == QueueState.ACTIVE, t.c.due_at >= bindparam("day_start"),
                          t.c.due_at < bindparam("day_end")))
    if since:
        where.append(t.c.registered_at >= bindparam("since"))
    if until:
        where.append(t.c.registered_at < bindparam("until"))
    if search is not None:  # service.waybill_search_clause
        kind, bounded = search
        prefix = t.c.waybill_no >= bindparam("waybill")
        if bounded:
            prefix = and_(prefix, t.c.waybill_no < bindparam("waybill_end"))
        where.append(or_(t.c.waybill_no == bindparam("waybill"), prefix) if kind == "full" else prefix)
    return where


_PRIORITY_RANK_CORE = case((_T.c.priority == Priority.URGENT, 0), (_T.c.priority == Priority.HIGH, 1), else_=2)
_ORDERS = {  # apply_sort
    "registered": (_T.c.registered_at.desc(), _T.c.id.desc()),
    "updated": (_T.c.updated_at.desc(), _T.c.id.desc()),
    "priority": (_PRIORITY_RANK_CORE, _T.c.queue_state, _T.c.due_at, _T.c.id),
    "deadline": (_T.c.queue_state, _T.c.due_at, _T.c.id),
}
_ROW_O, _ROW_B = _O.alias("row_outlet"), Brand.__table__.alias("row_brand")
_ROW_R, _ROW_U = TicketReason.__table__.alias("row_reason"), _U.alias("row_assignee")
_PAGE_COLUMNS = (  # ROW_COLUMNS
    *(_T.c[column.key] for column in LIST_COLUMNS), _ROW_O.c.code.label("outlet_code"),
    _ROW_O.c.name.label("outlet_name"), _ROW_B.c.name.label("brand_name"), _ROW_R.c.name.label("reason_name"),
    _ROW_U.c.display_name.label("assignee_name"),
)
_PAGES: dict[tuple, Select] = {}


def _page_statement(scope_key: tuple, filter_key: tuple, sort: str) -> Select:
    """``fetch_page(queue_query(...))`` of one shape, with parameters (limit, offset too)."""
    key = (scope_key, filter_key, sort)
    statement = _PAGES.get(key)
    if statement is None:
        scope = _scope_condition(scope_key)
        statement = (
            select(*_PAGE_COLUMNS).select_from(_T)
            .where(*([scope] if scope is not None else []), *_filter_conditions(filter_key))
            .order_by(*_ORDERS.get(sort, _ORDERS["deadline"]))
            .outerjoin(_ROW_O, _ROW_O.c.id == _T.c.outlet_id)
            .outerjoin(_ROW_B, _ROW_B.c.id == _T.c.brand_id)
            .outerjoin(_ROW_R, _ROW_R.c.id == _T.c.reason_id)
            .outerjoin(_ROW_U, _ROW_U.c.id == _T.c.assignee_id)
            .limit(bindparam("limit", type_=Integer())).offset(bindparam("offset", type_=Integer()))
        )
        if len(_PAGES) < 2000:  # shapes are few (roles × tabs × filters × sorts); never unbounded
            _PAGES[key] = statement
    return statement


@dataclass
class Counts:
    """Open tickets of a scope per category, with how many are overdue or due within the hour."""

    by_category: dict[str, dict[str, int]]
    open: int = 0
    overdue: int = 0
    due_soon: int = 0


def scope_counts(user: User, scope: str, now: datetime | None = None) -> Counts:
    """The tab's figures from the open-ticket counters (``counts.counted``: a few thousand
    counter rows and the current hour's deadlines, at any table size); a scope the
    counters cannot express is counted on the tickets (``scope_counts_on_tickets``)."""
    from . import counts

    now = now or now_utc()
    shape = scope_shape(user, scope, now)
    try:
        if shape is not None:
            by_category = counts.counted_prebuilt(*shape, now)
        else:
            by_category = counts.counted(scoped_query(user, scope, now), now)
    except counts.NotCountable:
        return scope_counts_on_tickets(user, scope, now)
    result = Counts(by_category=by_category)
    for figures in by_category.values():
        result.open += figures["open"]
        result.overdue += figures["overdue"]
        result.due_soon += figures["due_soon"]
    return result


def scope_counts_on_tickets(user: User, scope: str, now: datetime | None = None) -> Counts:
    """One GROUP BY over the open tickets of the scope (the counters' reference: tests compare them)."""
    now = now or now_utc()
    pending = Ticket.queue_state == QueueState.ACTIVE
    overdue = func.sum(case((and_(pending, Ticket.due_at < now), 1), else_=0))
    soon = func.sum(case((and_(pending, Ticket.due_at >= now, Ticket.due_at < now + timedelta(hours=1)), 1), else_=0))
    # Grouped by ``category || ''``, not the bare column: otherwise SQLite walks the
    # category index over every open ticket for the GROUP BY order and checks the
    # scope on each table row (240 ms at 200k); this way it reads only the scope's
    # rows from the (covering) assignee/outlet queue indexes and sorts 4 groups.
    key = Ticket.category.op("||")(literal_column("''"))
    query = (
        scoped_query(user, scope, now)
        .where(service.open_clause())
        .with_only_columns(key, func.count(), overdue, soon)
        .group_by(key)
        .order_by(None)
    )
    result = Counts(by_category={})
    for category, total, late, due_soon in db.session.execute(query):
        result.by_category[category] = {"open": int(total), "overdue": int(late or 0), "due_soon": int(due_soon or 0)}
        result.open += int(total)
        result.overdue += int(late or 0)
        result.due_soon += int(due_soon or 0)
    return result


_DAY_FIGURES: dict[tuple, Select] = {}


def today_and_evidence_counts(user: User, scope: str, now: datetime | None = None) -> tuple[int, int] | None:
    """(due today, open with evidence missing) of a tab: the counts of ``queue_query`` with
    ``window="today"`` and with ``evidence="missing"`` (the agent's home figures), from one
    prebuilt statement (two scalar subqueries over the tab's prebuilt condition); None where the
    tab takes the general path (the caller counts the general queries then)."""
    from .attachments.checklist import missing_evidence_clause

    now = now or now_utc()
    shape = scope_shape(user, scope, now)
    if shape is None:
        return None
    scope_key, params = shape
    today_key, today_params = filter_shape(QueueFilter(scope=scope, window="today"), now)
    open_key, _open_params = filter_shape(QueueFilter(scope=scope), now)
    statement = _DAY_FIGURES.get(scope_key)
    if statement is None:
        condition = _count_scope_condition(scope_key)
        scoped = [condition] if condition is not None else []
        missing = missing_evidence_clause(_T)  # activity_clauses' evidence condition, on the table
        statement = _DAY_FIGURES[scope_key] = select(
            select(func.count()).select_from(_T).where(*scoped, *_filter_conditions(today_key)).scalar_subquery(),
            select(func.count()).select_from(_T).where(*scoped, *_filter_conditions(open_key), missing)
            .scalar_subquery(),
        )
    today, evidence = run(statement, {**params, **today_params}).one()
    return int(today or 0), int(evidence or 0)


# --------------------------------------------------------------------------- filter form choices

# Prebuilt statements (bind parameters, no select() built per request) of the filter form's and
# the bulk bar's lists; Core rows, only the columns shown.
_CHOICES: dict[str, Select] = {}


def _users_order():
    from ..models.user import username_order

    return username_order()


_ASSIGNABLE = (User.is_active_account.is_(True), User.role.in_([Role.AGENT, Role.LEAD]))


def _assignees(*where):
    """(id, display name, passes the going-live gate) of the users one may assign tickets to:
    ``certification.gate.certified_filter`` as a column, so one statement serves the filter's list
    (everyone) and the bulk bar's (the certified)."""
    from ..models.training import AgentCertification
    from ..training.certification.gate import _live_clause

    live = select(AgentCertification.user_id).where(
        AgentCertification.user_id == User.id, _live_clause(bindparam("today"))).exists()
    certified = or_(User.role != Role.AGENT.value, live).label("certified")
    return select(User.id, User.display_name, certified).where(*_ASSIGNABLE, *where).order_by(*_users_order())


_CHOICE_BUILDERS = {
    # outlets.service.visible_outlets_query, by code (service.outlet_choices)
    "outlets_admin": lambda: select(Outlet.id, Outlet.code, Outlet.name).order_by(Outlet.code),
    "outlets_lead": lambda: select(Outlet.id, Outlet.code, Outlet.name).where(
        Outlet.primary_agent_id.in_(select(User.id).where(User.team_id == bindparam("team_id")))).order_by(Outlet.code),
    "outlets_agent": lambda: select(Outlet.id, Outlet.code, Outlet.name).where(
        Outlet.primary_agent_id == bindparam("user_id")).order_by(Outlet.code),
    # outlets.service.active_brands
    "brands": lambda: select(Brand.id, Brand.name).where(Brand.is_active.is_(True)).order_by(Brand.code),
    # service.reasons_for
    "reasons": lambda: select(TicketReason.id, TicketReason.name, TicketReason.category).where(
        TicketReason.is_active.is_(True)).order_by(TicketReason.category, TicketReason.sort_order, TicketReason.id),
    "reasons_of": lambda: select(TicketReason.id, TicketReason.name, TicketReason.category).where(
        TicketReason.category == bindparam("category"), TicketReason.is_active.is_(True)).order_by(
        TicketReason.category, TicketReason.sort_order, TicketReason.id),
    # service.assignable_users
    "assignees_admin": lambda: _assignees(),
    "assignees_lead": lambda: _assignees(User.team_id == bindparam("team_id")),
    "assignees_self": lambda: _assignees(User.id == bindparam("user_id")),
}


def _choices(name: str, **params) -> list:
    statement = _CHOICES.get(name)
    if statement is None:
        statement = _CHOICES[name] = _CHOICE_BUILDERS[name]()
    return run(statement, params).all()


def outlet_options(user: User) -> list[tuple[int, str]]:
    """(id, "code name") of the outlets in the user's scope, by code (``service.outlet_choices``),
    the text HTML-escaped (index.html places the options without autoescape)."""
    if user.role == Role.ADMIN:
        rows = _choices("outlets_admin")
    elif user.role == Role.LEAD and user.team_id is not None:
        rows = _choices("outlets_lead", team_id=user.team_id)
    elif user.role == Role.AGENT:
        rows = _choices("outlets_agent", user_id=user.id)
    else:
        rows = []
    return [(outlet_id, html_escape(f"{code} {name}")) for outlet_id, code, name in rows]


def brand_options() -> list[tuple[int, str]]:
    """(id, name) of the active brands by code (``outlets.service.active_brands``), name escaped."""
    return [(brand_id, html_escape(name)) for brand_id, name in _choices("brands")]


def reason_options(category: str | None = None) -> dict[str, list[tuple[int, str]]]:
    """{category: [(id, name)]} of the active reasons (``service.reasons_for``), the categories in their
    usual order (问题件, 留言, 工单, 仲裁), one optgroup each; names escaped."""
    from .labels import CATEGORY_LABELS

    rows = _choices("reasons_of", category=category) if category else _choices("reasons")
    grouped: dict[str, list] = {code: [] for code in CATEGORY_LABELS if not category or code == category}
    for reason_id, name, code in rows:
        grouped.setdefault(code, []).append((reason_id, html_escape(name)))
    return {code: reasons for code, reasons in grouped.items() if reasons}


def assignee_options(user: User) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(everyone, the certified) of the users ``user`` may assign tickets to, in 工号 order, names
    escaped: ``service.assignable_users(user, certified_only=False)`` and ``assignable_users(user)``
    from one statement."""
    if not has_permission(user, Permission.WORK_TICKETS):
        return [], []
    from ..leave.rules import beijing_today
    from ..training.certification.service import training_required

    today = beijing_today()
    if user.role == Role.ADMIN:
        rows = _choices("assignees_admin", today=today)
    elif user.role == Role.LEAD:
        rows = _choices("assignees_lead", team_id=user.team_id, today=today) if user.team_id else []
    else:
        rows = _choices("assignees_self", user_id=user.id, today=today)
    everyone = [(user_id, html_escape(name)) for user_id, name, _certified in rows]
    if not training_required():  # no 上岗必修 course: everyone passes the gate
        return everyone, everyone
    return everyone, [option for option, (_id, _name, certified) in zip(everyone, rows, strict=True) if certified]


# The filter form's options in one statement: each list is one part of a UNION ALL (its own WHERE;
# its ORDER BY terms as sort columns s1, n1, n2, s2, s3 of the compound's ORDER BY, so the database
# orders, collation included, as each separate statement did), the lists told apart by a "kind"
# column. Parts: the outlets of the user's scope, the active brands, the active reasons (of one
# category or all), the assignable users.
_OPTION_KINDS = {"outlets": 1, "brands": 2, "reasons": 3, "assignees": 4}
_OPTIONS: dict[tuple, Select] = {}


def _option_part(kind: str, order: dict, id_, name, code=None, category=None, flag=None, *where):
    from sqlalchemy import String, cast, null

    def text(column):
        return column if column is not None else cast(null(), String)

    def number(column):
        return column if column is not None else cast(null(), Integer)

    return select(
        literal_column(str(_OPTION_KINDS[kind]), Integer).label("kind"), id_.label("id"), name.label("name"),
        text(code).label("code"), text(category).label("category"),
        (cast(flag, Integer) if flag is not None else cast(null(), Integer)).label("flag"),
        text(order.get("s1")).label("s1"), number(order.get("n1")).label("n1"), number(order.get("n2")).label("n2"),
        text(order.get("s2")).label("s2"), text(order.get("s3")).label("s3"),
    ).where(*where)


def _options_statement(outlets: str | None, reasons_of: bool, assignees: str | None) -> Select:
    """The UNION ALL of the parts asked for (``_CHOICE_BUILDERS``' statements as parts)."""
    from sqlalchemy import union_all

    from ..models.training import AgentCertification
    from ..training.certification.gate import _live_clause

    parts = []
    if outlets:
        where = {"admin": (), "lead": (Outlet.primary_agent_id.in_(
            select(User.id).where(User.team_id == bindparam("team_id"))),),
            "agent": (Outlet.primary_agent_id == bindparam("user_id"),)}[outlets]
        parts.append(_option_part("outlets", {"s1": Outlet.code}, Outlet.id, Outlet.name, Outlet.code, None, None,
                                  *where))
    parts.append(_option_part("brands", {"s1": Brand.code}, Brand.id, Brand.name, None, None, None,
                              Brand.is_active.is_(True)))
    reason_where = [TicketReason.is_active.is_(True)]
    if reasons_of:
        reason_where.append(TicketReason.category == bindparam("category"))
    parts.append(_option_part(
        "reasons", {"s1": TicketReason.category, "n1": TicketReason.sort_order, "n2": TicketReason.id},
        TicketReason.id, TicketReason.name, None, TicketReason.category, None, *reason_where))
    if assignees:
        live = select(AgentCertification.user_id).where(
            AgentCertification.user_id == User.id, _live_clause(bindparam("today"))).exists()
        where = {"admin": (), "lead": (User.team_id == bindparam("team_id"),),
                 "self": (User.id == bindparam("user_id"),)}[assignees]
        s1, n1, s2, s3 = _users_order()  # username_order's four terms
        parts.append(_option_part("assignees", {"s1": s1, "n1": n1, "s2": s2, "s3": s3}, User.id, User.display_name,
                                  None, None, or_(User.role != Role.AGENT.value, live), *_ASSIGNABLE, *where))
    union = union_all(*parts)
    return union.order_by(*(union.selected_columns[c] for c in ("kind", "s1", "n1", "n2", "s2", "s3")))


@dataclass
class QueueOptions:
    """The filter form's and the bulk bar's options, texts HTML-escaped (``outlet_options``,
    ``brand_options``, ``reason_options``, ``assignee_options``' lists)."""

    outlets: list[tuple[int, str]]
    brands: list[tuple[int, str]]
    reasons: dict[str, list[tuple[int, str]]]
    assignees: list[tuple[int, str]]
    certified: list[tuple[int, str]]


def queue_options(user: User, category: str | None = None, assignees: bool = True) -> QueueOptions:
    """Every option list of the queue page from one statement: what ``outlet_options(user)``,
    ``brand_options()``, ``reason_options(category)`` and (``assignees``) ``assignee_options(user)``
    return, in their order."""
    from .labels import CATEGORY_LABELS

    outlets = {Role.ADMIN: "admin", Role.AGENT: "agent"}.get(user.role)
    if user.role == Role.LEAD and user.team_id is not None:
        outlets = "lead"
    who = None
    if assignees and has_permission(user, Permission.WORK_TICKETS):
        who = {Role.ADMIN: "admin", Role.LEAD: "lead" if user.team_id else None}.get(user.role, "self")
    key = (outlets, bool(category), who)
    statement = _OPTIONS.get(key)
    if statement is None:
        statement = _OPTIONS[key] = _options_statement(*key)
    params = {"user_id": user.id, "team_id": user.team_id, "category": category}
    if who:
        from ..leave.rules import beijing_today

        params["today"] = beijing_today()
    esc = html_escape
    outlet_items, brand_items, everyone, flags = [], [], [], []
    reasons: dict[str, list] = {code: [] for code in CATEGORY_LABELS if not category or code == category}
    for kind, id_, name, code, reason_category, flag, *_order in run(statement, params).all():
        if kind == 1:
            outlet_items.append((id_, esc(f"{code} {name}")))
        elif kind == 2:
            brand_items.append((id_, esc(name)))
        elif kind == 3:
            reasons.setdefault(reason_category, []).append((id_, esc(name)))
        else:
            everyone.append((id_, esc(name)))
            flags.append(flag)
    certified = everyone
    if who:
        from ..training.certification.service import training_required

        if training_required():
            certified = [option for option, flag in zip(everyone, flags, strict=True) if flag]
    return QueueOptions(
        outlets=outlet_items, brands=brand_items,
        reasons={code: items for code, items in reasons.items() if items},
        assignees=everyone, certified=certified)


# --------------------------------------------------------------------------- detail helpers


RECENT_MINUTES = 10


@dataclass
class RecentChange:
    actor: str
    kind: str
    at: datetime


_RECENT_CHANGES = None


def recent_changes_by_others(ticket: Ticket | int, user: User, minutes: int = RECENT_MINUTES,
                             now: datetime | None = None) -> list[RecentChange]:
    """What other people did to the ticket in the last ``minutes`` (newest first, one per person)."""
    now = now or now_utc()
    ticket_id = ticket if isinstance(ticket, int) else ticket.id
    global _RECENT_CHANGES
    if _RECENT_CHANGES is None:  # built once per process: it runs on every presence poll
        _RECENT_CHANGES = (
            select(TicketEvent.at, TicketEvent.kind, User.display_name)
            .join(User, User.id == TicketEvent.actor_id)
            .where(TicketEvent.ticket_id == bindparam("ticket_id"), TicketEvent.actor_id != bindparam("user_id"),
                   TicketEvent.kind != EventKind.CREATED, TicketEvent.at >= bindparam("since"))
            .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
            .limit(20)
        )
    rows = db.session.execute(_RECENT_CHANGES, {"ticket_id": ticket_id, "user_id": user.id,
                                                "since": now - timedelta(minutes=minutes)})
    seen: dict[str, RecentChange] = {}
    for at, kind, name in rows:
        seen.setdefault(name, RecentChange(actor=name, kind=kind, at=at))
    return list(seen.values())


def deadline_kind(ticket: Ticket) -> str:
    """Which deadline ``due_at`` is: "reply" (first reply pending) or "resolve"."""
    if ticket.first_replied_at is None and ticket.reply_due_at is not None and ticket.due_at == ticket.reply_due_at:
        return "reply"
    return "resolve"


def countdown_formats() -> dict[str, str]:
    """The countdown's words in the current locale, looked up once (a page formats 50 of them)."""
    from flask_babel import gettext as _

    return {"dh": _("%(d)dd %(h)dh"), "hm": _("%(h)dh %(m)dm"), "ms": _("%(m)dm %(s)ds"),
            "overdue": _("Overdue %(t)s"), "left": _("Left %(t)s")}


def remaining_text(due: datetime | None, now: datetime | None = None, formats: dict[str, str] | None = None) -> str:
    """The countdown's first paint, the same words app.js keeps live (剩余 2小时5分 / 已超时 3分12秒)."""
    if due is None:
        return ""
    formats = formats or countdown_formats()
    now = now or now_utc()
    if due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    ms = (due - now).total_seconds()
    s = int(abs(ms))
    d, h, m = s // 86400, (s % 86400) // 3600, (s % 3600) // 60
    if d > 0:
        text = formats["dh"] % {"d": d, "h": h}
    elif h > 0:
        text = formats["hm"] % {"h": h, "m": m}
    else:
        text = formats["ms"] % {"m": m, "s": s % 60}
    return (formats["overdue"] if ms < 0 else formats["left"]) % {"t": text}


# --------------------------------------------------------------------------- table rows


def html_escape(text) -> str:
    """``text`` as HTML, exactly as Jinja's autoescape writes it (markupsafe: & < > ' " →
    &amp; &lt; &gt; &#39; &#34;; None → "None"), as a plain ``str`` (no Markup object)."""
    if text is None:
        return "None"
    text = str(text)
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "'" in text:
        text = text.replace("'", "&#39;")
    if '"' in text:
        text = text.replace('"', "&#34;")
    return text


@dataclass(slots=True)
class Row:
    """One queue row, every text already resolved AND HTML-escaped (``html_escape``), the cells'
    compound texts and classes joined here (fewer values for the template to place).

    The template places them inside ``{% autoescape false %}`` (index.html, the rows
    of ``ticket_table``): 50 rows of ~25 values were 1,250 escape() calls and Markup
    objects per page. Anything added here must be escaped in ``table_rows``.
    """

    id: int
    version: int
    waybill_no: str
    href: str
    state: str  # service.deadline_state
    queue_state: int
    row_class: str  # "row-overdue", " row-closed"
    badge_class: str  # " is-overdue" / " is-soon" of the countdown badge
    due_iso: str
    due_title: str  # "Due <Shanghai time>", the badge's title
    check_label: str  # the row checkbox's aria-label
    remaining: str
    kind_text: str  # 回复 / 处理: which deadline the countdown is
    closed_text: str
    priority_class: str  # "" for a normal priority, else the badge's class
    priority_label: str
    direction_label: str
    category_reason: str  # "<category> · <reason>"
    outlet_title: str  # "<brand> · <code> <name>"
    outlet_name: str
    customer_text: str  # the name, or "—"
    phone: str
    status: str
    status_label: str
    assignee_name: str | None
    assignee_text: str  # the name, or 未分配
    registered_text: str
    covering_for: str | None = None  # 代班: the owner's name when the viewer covers this outlet
    # 跟进: (the first open one's time "15:00" or "12-04 15:00", its badge class, how many are open), or None
    follow_up: tuple[str, str, int] | None = None


_ROW_TEXTS: dict = {}


def _row_texts() -> tuple:
    """The rows' fixed texts (labels, countdown words), translated and escaped once per process
    and catalog: ~25 gettext lookups a page were 0.4 ms."""
    from flask_babel import gettext as _

    from ..i18n import request_translations
    from .labels import resolved

    translations = request_translations()
    texts = _ROW_TEXTS.get(translations)
    if texts is None:
        escaped = [{code: html_escape(text) for code, text in resolved(kind).items()}
                   for kind in ("category", "direction", "status", "priority")]
        texts = _ROW_TEXTS[translations] = (
            *escaped, {key: html_escape(text) for key, text in countdown_formats().items()},
            html_escape(_("Due %(t)s")), html_escape(_("Check %(w)s")),
            {True: html_escape(_("reply")), False: html_escape(_("resolve"))}, html_escape(_("Unassigned")))
    return texts


_PAGE_LABELS: dict = {}


def page_labels() -> dict[str, dict[str, Markup]]:
    """The queue page's label lists (tabs, windows, sorts, categories, statuses, directions) in the
    current catalog, translated and escaped once per process and catalog (Markup: the template
    places them as they are). Each lazy label was a Flask-Babel lookup per use, ~50 a page."""
    from ..i18n import request_translations
    from .labels import CATEGORY_LABELS, DIRECTION_LABELS, STATUS_LABELS

    translations = request_translations()
    found = _PAGE_LABELS.get(translations)
    if found is None:
        lists = {"scope": SCOPES, "window": WINDOWS, "sort": SORTS, "category": CATEGORY_LABELS,
                 "status": STATUS_LABELS, "direction": DIRECTION_LABELS}
        found = _PAGE_LABELS[translations] = {
            name: {code: Markup(html_escape(text)) for code, text in labels.items()} for name, labels in lists.items()}
    return found


def table_rows(items: list, now: datetime, detail_prefix: str,
               covering: dict[int, str] | None = None, follow_ups: dict | None = None) -> list[Row]:
    """The rows of a page (``fetch_page``'s rows: the columns of ``ROW_COLUMNS``, in that order), built in one pass: labels resolved (and escaped) once per call, not per row.

    ``detail_prefix`` is the detail URL without the id ("/tickets/"), so the
    50 links cost no ``url_for`` each. ``covering`` maps the outlets the viewer
    covers for someone on leave to the owner's name (those rows are marked 代班);
    ``follow_ups`` maps a ticket to its open follow-ups' first time and count (跟进 marks).
    Every text of a ``Row`` is HTML-escaped here (see ``Row``).
    """
    from ..filters import mask_phone

    esc = html_escape
    names: dict = {}  # outlet, brand, reason and assignee names repeat across a page: escaped once each

    def name(text):  # None stays None (the template tests it); Jinja would have printed "None"
        if text is None:
            return None
        value = names.get(text)
        if value is None:
            value = names[text] = esc(text)
        return value

    covering = {outlet_id: esc(owner) for outlet_id, owner in (covering or {}).items()}
    (categories, directions, statuses, priorities, formats, due_format, check_format, kinds,
     unassigned) = _row_texts()
    soon = now + timedelta(hours=1)
    active, waiting = QueueState.ACTIVE, QueueState.WAITING
    follow_ups = follow_ups or {}
    today = now.astimezone(SHANGHAI).date()
    rows = []
    for (ticket_id, version, waybill_no, outlet_id, _brand_id, _reason_id, _assignee_id, direction, category,
         priority, status, customer_name, customer_phone, registered_at, due, queue_state, reply_due_at,
         first_replied_at, closed_at, outlet_code, outlet_name, brand_name, reason_name, assignee_name) in items:
        # unpacked by position (ROW_COLUMNS' order): 21 attribute reads of a Row were 0.3 ms a page
        if queue_state != active or due is None:
            state = "none"
        elif due < now:
            state = "overdue"
        elif due < soon:
            state = "due_soon"
        else:
            state = "normal"
        pending = state != "none"
        waybill = esc(waybill_no)
        if pending:
            due_iso, due_title = due.isoformat(), due_format % {"t": _minute_text(due)}
            remaining = remaining_text(due, now, formats)
            is_reply = first_replied_at is None and reply_due_at is not None and due == reply_due_at
            closed_text = ""
        else:
            due_iso = due_title = remaining = ""
            is_reply = False
            closed = closed_at if queue_state != waiting else None
            closed_text = _minute_text(closed) if closed is not None else ""
        brand, code, outlet = name(brand_name) or esc(brand_name), name(outlet_code) or esc(outlet_code), \
            name(outlet_name) or esc(outlet_name)
        assignee = name(assignee_name)
        customer = esc(customer_name or "")
        rows.append(Row(
            ticket_id, version, waybill, f"{detail_prefix}{ticket_id}", state, queue_state,
            ("row-overdue" if state == "overdue" else "") + (" row-closed" if queue_state == 2 else ""),
            " is-overdue" if state == "overdue" else " is-soon" if state == "due_soon" else "",
            due_iso, due_title, check_format % {"w": waybill}, remaining, kinds[is_reply] if pending else "",
            closed_text, "" if priority == "normal" else "badge-danger" if priority == "urgent" else "badge-warn",
            priorities.get(priority) or esc(priority), directions.get(direction) or esc(direction),
            f"{categories.get(category) or esc(category)} · {name(reason_name) or esc(reason_name)}",
            f"{brand} · {code} {outlet}", outlet, customer or "—", esc(mask_phone(customer_phone)),
            esc(status), statuses.get(status) or esc(status), assignee, assignee or unassigned,
            _minute_text(registered_at, year=False) if registered_at is not None else "",
            covering.get(outlet_id),
            _follow_up_mark(follow_ups.get(ticket_id), now, soon, today),
        ))
    return rows


def _minute_text(at: datetime, year: bool = True) -> str:
    """``2026-12-03 17:05`` (or ``12-03 17:05``) in Beijing time: what ``strftime`` writes, at half its
    cost (two or three a row, 50 rows a page)."""
    local = at.astimezone(SHANGHAI)
    text = f"{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"
    return f"{local.year:04d}-{text}" if year else text


def _follow_up_mark(found, now: datetime, soon: datetime, today) -> tuple[str, str, int] | None:
    """A row's 跟进 mark from (first due time, open count): the time (with the day when not today), its class."""
    if found is None:
        return None
    first, count = found
    local = first.astimezone(SHANGHAI)
    text = local.strftime("%H:%M") if local.date() == today else local.strftime("%m-%d %H:%M")
    return text, " is-overdue" if first <= now else " is-soon" if first <= soon else "", count


_ROW_HTML_TEXTS: dict = {}


def _row_html_texts() -> dict[str, str]:
    """The words ``rows_html`` writes around the rows' own texts, escaped once per catalog."""
    from flask_babel import gettext as _

    return {"waiting": html_escape(_("Awaiting closure")), "covering": html_escape(_("Covering")),
            "covering_title": html_escape(_("You cover this outlet while %(name)s is on leave")),
            "covering_for": html_escape(_("Covering for %(name)s")),
            "follow_up": html_escape(_("Follow-up")),
            "follow_up_title": html_escape(_("Open follow-ups: %(n)d, the first at %(at)s"))}


def rows_html(rows: list[Row], can_bulk: bool) -> Markup:
    """The ``<tr>`` of every row in one string: the table's 50 rows were ~2,300 template writes a page.

    Every value placed comes from a ``Row`` (already escaped by ``table_rows``) or from
    ``_row_html_texts`` (escaped there); nothing else may go in.
    """
    from ..i18n import kept_per_catalog

    words = kept_per_catalog(_ROW_HTML_TEXTS, "words", _row_html_texts)
    parts = []
    for t in rows:
        if t.state != "none":
            due = (f'<span class="countdown badge{t.badge_class}" data-due="{t.due_iso}" title="{t.due_title}">'
                   f'{t.remaining}</span> <span class="due-kind muted">{t.kind_text}</span>')
        elif t.queue_state == 1:
            due = f'<span class="badge">{words["waiting"]}</span>'
        else:
            due = f'<span class="muted small">{t.closed_text}</span>'
        check = (f'<td class="check"><input type="checkbox" name="ids" value="{t.id}" form="bulk-form" '
                 f'aria-label="{t.check_label}"><input type="hidden" name="v{t.id}" value="{t.version}" '
                 f'form="bulk-form"></td>') if can_bulk else ""
        priority = f' <span class="badge {t.priority_class}">{t.priority_label}</span>' if t.priority_class else ""
        covering = ""
        if t.covering_for:
            names = {"name": t.covering_for}
            badge = words["covering"] if t.assignee_name == t.covering_for else words["covering_for"] % names
            covering = (f' <span class="badge badge-warn covering" title="{words["covering_title"] % names}">'
                        f'{badge}</span>')
        follow_up = ""
        if t.follow_up is not None:
            at, css, count = t.follow_up
            title = words["follow_up_title"] % {"n": count, "at": at}
            follow_up = f' <span class="badge follow-up-mark{css}" title="{title}">{words["follow_up"]} {at}</span>'
        parts.append(
            f'<tr id="ticket-{t.id}" class="{t.row_class}">{check}<td class="due">{due}</td>'
            f'<td><a class="waybill" href="{t.href}">{t.waybill_no}</a>{priority}{follow_up}</td>'
            f'<td title="{t.direction_label}">{t.category_reason}</td>'
            f'<td class="outlet" title="{t.outlet_title}">{t.outlet_name}</td>'
            f'<td>{t.customer_text} <span class="muted">{t.phone}</span></td>'
            f'<td><span class="status status-{t.status}">{t.status_label}</span></td>'
            f'<td>{t.assignee_text}{covering}</td><td class="muted">{t.registered_text}</td></tr>')
    return Markup("\n".join(parts))


def ago(at: datetime, now: datetime | None = None) -> str:
    """"just now" / "3 min ago" / "2 h ago" for the collision banner."""
    from flask_babel import gettext as _

    now = now or now_utc()
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    seconds = max(0, int((now - at).total_seconds()))
    if seconds < 60:
        return _("just now")
    if seconds < 3600:
        return _("%(n)d min ago", n=seconds // 60)
    return _("%(n)d h ago", n=seconds // 3600)
