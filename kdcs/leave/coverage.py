"""Who serves an outlet at an instant: the owner, or the substitute of a leave in force.

Coverage is derived, never written: a handed-over outlet is covered at ``at`` when
its request is approved, in progress or (looking back) returned, ``start_at <= at <
end_at``, the agent has not returned early before ``at`` (``returned_at``), the
substitute did not decline, and the requester is still the outlet's primary agent.
Nothing in ``outlets`` or ``tickets`` changes, so the owner's assignment comes back
by itself at the end and history questions ("who covered on 5 May?") have answers.

The ticket desk asks ``covered_outlet_ids`` once per query (one indexed lookup on
``ix_leave_handovers_substitute``) and ``substitutes_by_outlet`` once per batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import g, has_request_context
from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.orm import aliased

from .. import core_sql
from ..extensions import db
from ..models import Outlet, Role, User
from ..models.leave import LeaveHandover, LeaveRequest, LeaveStatus
from ..models.types import UTCDateTime, utcnow
from ..request_memo import forget_on_write

# A leave whose window holds ``at`` covers its outlets in these states. RETURNED is
# included so that a past instant before an early return still answers (returned_at > at).
COVERING_STATUSES = (LeaveStatus.APPROVED, LeaveStatus.IN_PROGRESS, LeaveStatus.RETURNED)


def in_force_clause(at: datetime):
    """The SQL condition "this request's leave is in force at ``at``" (coverage and absence).

    The statuses as one plain parameter each (``status = ? OR …``), not an ``IN`` list, which
    SQLAlchemy expands into the SQL again at every run of a prebuilt statement (the presence poll)."""
    return and_(
        or_(*(LeaveRequest.status == str(s) for s in COVERING_STATUSES)),
        LeaveRequest.start_at <= at,
        LeaveRequest.end_at > at,
        or_(LeaveRequest.returned_at.is_(None), LeaveRequest.returned_at > at),
    )


def _covering_clause(at: datetime):
    return and_(
        in_force_clause(at),
        LeaveHandover.substitute_id.is_not(None),
        or_(LeaveHandover.substitute_answer.is_(None), LeaveHandover.substitute_answer != "declined"),
        Outlet.primary_agent_id == LeaveRequest.user_id,
    )


# The requester of a leave as a second User in one query; built once (an ``aliased()`` per call
# built its column proxies again on every queue page, bell and presence poll).
_OWNER = aliased(User, name="leave_owner")


def _base(*columns):
    return (select(*columns).select_from(LeaveHandover)
            .join(LeaveRequest, LeaveRequest.id == LeaveHandover.request_id)
            .join(Outlet, Outlet.id == LeaveHandover.outlet_id))


def _ids(ids):
    return ids if isinstance(ids, Select) else list(ids)


def _user_id(user) -> int:
    return user if isinstance(user, int) else user.id


def covering_substitute(outlet_id: int, at: datetime | None = None) -> User | None:
    """The substitute serving ``outlet_id`` at ``at`` (now by default), or None when the owner does."""
    at = at or utcnow()
    substitute_id = db.session.scalar(
        _base(LeaveHandover.substitute_id).where(LeaveHandover.outlet_id == outlet_id, _covering_clause(at))
        .order_by(LeaveRequest.start_at.desc(), LeaveHandover.id.desc()).limit(1))
    return db.session.get(User, substitute_id) if substitute_id else None


def covered_outlet_ids(user, at: datetime | None = None) -> list[int]:
    """The outlets ``user`` (a User or an id) covers for someone on leave at ``at``, sorted."""
    return sorted(covered_owners(user, at))


_STATEMENTS: dict[str, Select] = {}


def _covered_owners_statement() -> Select:
    """The coverage lookup with its values as parameters, built once per process (it runs on
    every queue page and poll of every agent and lead; building it cost more than running it)."""
    statement = _STATEMENTS.get("covered_owners")
    if statement is None:
        statement = _STATEMENTS["covered_owners"] = (
            _base(LeaveHandover.outlet_id, _OWNER.display_name)
            .join(_OWNER, _OWNER.id == LeaveRequest.user_id)
            .where(LeaveHandover.substitute_id == bindparam("substitute_id"),
                   _covering_clause(bindparam("at", type_=UTCDateTime()))))
    return statement


def covered_outlet_ids_select(substitute_id, at) -> Select:
    """``SELECT outlet_id`` of the outlets ``substitute_id`` covers at ``at`` (values or bind
    parameters), for a scope written as one statement (the presence poll); the same rows as
    ``covered_outlet_ids``."""
    return _base(LeaveHandover.outlet_id).where(LeaveHandover.substitute_id == substitute_id,
                                                _covering_clause(at))


def covered_owners(user, at: datetime | None = None) -> dict[int, str]:
    """``{outlet_id: owner's display name}`` of the outlets ``user`` covers at ``at`` (the 代班 marks).

    Only agents and leads take tickets, so only they can cover. Inside a request the
    answer for one explicit ``at`` (the queue passes the request's ``now`` to the page,
    the counts and the marks) is asked once.
    """
    if not isinstance(user, int) and getattr(user, "role", None) not in (Role.AGENT, Role.LEAD):
        return {}
    # Inside a request "now" (``at`` None) is the request's instant: asked once however often
    # the scope is built (the ticket lookup, the page, the counts) until something commits
    # (``request_memo.forget_on_write``: an approval or a return changes the answer).
    key = ("leave_covered_owners", _user_id(user), at)
    cache = g.setdefault("_leave_coverage", {}) if has_request_context() else None
    if cache is not None and key in cache:
        return cache[key]
    rows = core_sql.execute(_covered_owners_statement(), {"substitute_id": _user_id(user), "at": at or utcnow()})
    found = {outlet_id: name for outlet_id, name in rows}
    if cache is not None:
        cache[key] = found
    return found


# A write may change who covers what (an approval, a return): the request asks again.
forget_on_write("_leave_coverage")


def substitutes_by_outlet(at: datetime | None = None, outlet_ids=None) -> dict[int, tuple[int, int]]:
    """``{outlet_id: (substitute_id, owner_id)}`` for every outlet covered at ``at`` (one query per batch)."""
    at = at or utcnow()
    query = _base(LeaveHandover.outlet_id, LeaveHandover.substitute_id, LeaveRequest.user_id).where(
        _covering_clause(at)).order_by(LeaveRequest.start_at, LeaveHandover.id)
    if outlet_ids is not None:
        query = query.where(LeaveHandover.outlet_id.in_(_ids(outlet_ids)))
    return {outlet_id: (substitute_id, owner_id) for outlet_id, substitute_id, owner_id in db.session.execute(query)}


def is_away(user, at: datetime | None = None) -> bool:
    """True when ``user`` is on a leave in force at ``at``."""
    at = at or utcnow()
    return db.session.scalar(
        select(LeaveRequest.id).where(LeaveRequest.user_id == _user_id(user), in_force_clause(at)).limit(1)
    ) is not None


@dataclass(frozen=True)
class Coverage:
    """One outlet covered during (part of) a period: the request, owner, substitute and its window."""

    request_id: int
    outlet_id: int
    owner_id: int
    substitute_id: int
    start_at: datetime
    end_at: datetime  # the end of the leave, or the early return


def coverage_for(start: datetime, end: datetime, *, substitute_id: int | None = None,
                 owner_id: int | None = None, outlet_ids=None) -> list[Coverage]:
    """Every coverage overlapping ``[start, end)`` (the calendar, a candidate's load), ordered by start.

    Only approved / in-progress / returned requests count (a request still waiting is no
    coverage yet); the window is cut at an early return.
    """
    query = _base(LeaveRequest.id, LeaveHandover.outlet_id, LeaveRequest.user_id, LeaveHandover.substitute_id,
                  LeaveRequest.start_at, LeaveRequest.end_at, LeaveRequest.returned_at).where(
        LeaveRequest.status.in_([str(s) for s in COVERING_STATUSES]),
        LeaveRequest.start_at < end, LeaveRequest.end_at > start,
        or_(LeaveRequest.returned_at.is_(None), LeaveRequest.returned_at > start),
        LeaveHandover.substitute_id.is_not(None),
        or_(LeaveHandover.substitute_answer.is_(None), LeaveHandover.substitute_answer != "declined"),
    ).order_by(LeaveRequest.start_at, LeaveHandover.id)
    if substitute_id is not None:
        query = query.where(LeaveHandover.substitute_id == substitute_id)
    if owner_id is not None:
        query = query.where(LeaveRequest.user_id == owner_id)
    if outlet_ids is not None:
        query = query.where(LeaveHandover.outlet_id.in_(_ids(outlet_ids)))
    out = []
    for request_id, outlet_id, owner, substitute, start_at, end_at, returned_at in db.session.execute(query):
        until = min(end_at, returned_at) if returned_at is not None else end_at
        if until > start_at:
            out.append(Coverage(request_id, outlet_id, owner, substitute, start_at, until))
    return out
