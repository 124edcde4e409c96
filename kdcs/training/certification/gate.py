"""The going-live gate (上岗): who may be an outlet's primary agent, take tickets or be a leave
substitute. Reads ``AgentCertification`` only (kept by service.py), plus whether any published
上岗必修 course exists at all (if none, everyone counts as certified).

The gate applies to agents; leads, trainers and admins pass it. A flagged agent (待复训) is live
until their re-pass due date; after that day they are refused even before the periodic task
has marked them lapsed.
"""

from __future__ import annotations

from datetime import date

from flask import g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, exists, or_, select

from ... import core_sql
from ...extensions import db
from ...leave.rules import beijing_today
from ...models.training import AgentCertification, CertificationState
from ...models.user import Role, User
from ...request_memo import forget_on_write
from . import service

_LIVE = (CertificationState.CERTIFIED.value, CertificationState.FLAGGED.value)


def _live_clause(today: date):
    return and_(AgentCertification.state.in_(_LIVE),
                or_(AgentCertification.flagged_until.is_(None), AgentCertification.flagged_until >= today))


def is_certified(user: User | None, *, today: date | None = None) -> bool:
    """Whether ``user`` passes the gate (non-agents always do; everyone does without training).

    An agent's going-live row is read once per request (``certification_rows``) until the
    session writes anything."""
    if user is None:
        return False
    if user.role != Role.AGENT.value or not service.training_required():
        return True
    return row_is_live(certification_rows([user.id]).get(user.id), today or beijing_today())


def refusal_reason(user: User | None) -> str | None:
    """None when ``user`` passes the gate, else a Chinese sentence naming the missing course(s)
    (and which part of each: quiz, practical items)."""
    if user is None or is_certified(user):
        return None
    lines = service.missing_reasons(user.id)
    if not lines:  # e.g. flagged and the due date just passed before recompute ran
        lines = [c.title for c in service.required_courses()]
    return _("%(name)s is not certified (上岗): %(missing)s.",
             name=user.display_name, missing="；".join(lines))


def certified_filter(query, *, today: date | None = None):
    """Narrow a ``select(User)`` query to users who pass the gate (for choosers)."""
    if not service.training_required():
        return query
    today = today or beijing_today()
    live = exists(select(AgentCertification.user_id).where(
        AgentCertification.user_id == User.id, _live_clause(today)))
    return query.where(or_(User.role != Role.AGENT.value, live))


def certified_clause(today):
    """``certified_filter``'s condition on ``User`` with "is any 上岗必修 course published" asked in
    SQL too, so a statement built once per process holds it (``today``: a date or a bindparam)."""
    from ...models.training import CourseStatus, TrainingCourse

    required = exists(select(TrainingCourse.id).where(TrainingCourse.status == CourseStatus.PUBLISHED.value,
                                                      TrainingCourse.required_for_live.is_(True)))
    live = exists(select(AgentCertification.user_id).where(
        AgentCertification.user_id == User.id, _live_clause(today)))
    return or_(~required, User.role != Role.AGENT.value, live)


def certified_ids(user_ids, *, today: date | None = None) -> set[int]:
    """Which of ``user_ids`` pass the gate (one query)."""
    ids = {int(i) for i in user_ids if i}
    if not ids:
        return set()
    query = certified_filter(select(User.id).where(User.id.in_(ids)), today=today)
    return set(db.session.scalars(query))


# The going-live rows of many users in one statement, built once per process.
_ROWS = select(AgentCertification.user_id, AgentCertification.state, AgentCertification.certified_at,
               AgentCertification.flagged_until, AgentCertification.reason).where(
    AgentCertification.user_id.in_(bindparam("ids", expanding=True)))


def _rows_memo() -> dict | None:
    """This request's going-live rows read so far ({user_id: row or None}); None outside a request
    or while the session holds unwritten changes."""
    if not has_app_context() or db.session.new or db.session.dirty or db.session.deleted:
        return None
    return g.setdefault("_certification_rows", {})


forget_on_write("_certification_rows")  # any write may change a going-live row


def certification_rows(user_ids) -> dict:
    """``{user_id: row}`` of the going-live rows of ``user_ids`` (state, certified_at, flagged_until,
    reason), one statement (none for rows already read in this request); users without a row are absent."""
    ids = sorted({int(i) for i in user_ids if i})
    if not ids:
        return {}
    memo = _rows_memo()
    wanted = [i for i in ids if i not in memo] if memo is not None else ids
    found = {row.user_id: row for row in core_sql.execute(_ROWS, {"ids": wanted})} if wanted else {}
    if memo is None:
        return found
    memo.update({i: found.get(i) for i in wanted})
    return {i: memo[i] for i in ids if memo[i] is not None}


def row_is_live(row, today: date) -> bool:
    """``is_certified`` of an agent from their going-live row (``None``: no row) while training is required."""
    return row is not None and row.state in _LIVE and (row.flagged_until is None or row.flagged_until >= today)


def badges(users, *, today: date | None = None, reasons: dict[int, list[str]] | None = None,
           rows: dict | None = None) -> dict[int, dict]:
    """``{user_id: certification_badge(user)}`` for many users (anything with id and role) at once:
    one statement for their going-live rows (none when ``rows`` of ``certification_rows`` is given),
    ``missing_reasons`` only for agents not live without a stored reason (``reasons`` may already
    hold some: the lead's home computed them for its box)."""
    today = today or beijing_today()
    users = list(users)
    agents = [u for u in users if u is not None and u.role == Role.AGENT.value]
    found = {u.id: {"show": False} for u in users if u is not None}
    if not agents or not service.training_required():
        return found
    rows = certification_rows(u.id for u in agents) if rows is None else rows
    live = {u.id for u in agents if row_is_live(rows.get(u.id), today)}
    reasons = dict(reasons or {})
    lacking = [u.id for u in agents if u.id not in live and u.id not in reasons
               and not (rows.get(u.id) is not None and rows[u.id].reason)]
    if lacking:
        reasons.update(service.missing_reasons_many(lacking, today=today))
    labels: dict[str, str] = {}
    for user in agents:
        row, is_live = rows.get(user.id), user.id in live
        state = row.state if row is not None and (is_live or row.state != "flagged") else (
            "lapsed" if row is not None else "none")
        if state not in labels:
            labels[state] = service.state_label(state)
        found[user.id] = {
            "show": True, "live": is_live, "state": row.state if row is not None else "none",
            "label": labels[state],
            "since": row.certified_at if row is not None and is_live else None,
            "flagged_until": row.flagged_until if row is not None and is_live else None,
            "reason": "" if is_live else (row.reason if row is not None and row.reason
                                          else "；".join(reasons[user.id])),
        }
    return found
