"""The going-live gate (上岗): who may be an outlet's primary agent, take tickets or be a leave
substitute. Reads ``AgentCertification`` only (kept by service.py), plus whether any published
上岗必修 course exists at all (if none, everyone counts as certified).

The gate applies to agents; leads, trainers and admins pass it. A flagged agent (待复训) is live
until their re-pass due date; after that day they are refused even before the periodic task
has marked them lapsed.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, exists, or_, select

from ...extensions import db
from ...leave.rules import beijing_today
from ...models.training import AgentCertification, CertificationState
from ...models.user import Role, User
from . import service

_LIVE = (CertificationState.CERTIFIED.value, CertificationState.FLAGGED.value)


def _live_clause(today: date):
    return and_(AgentCertification.state.in_(_LIVE),
                or_(AgentCertification.flagged_until.is_(None), AgentCertification.flagged_until >= today))


def is_certified(user: User | None, *, today: date | None = None) -> bool:
    """Whether ``user`` passes the gate (non-agents always do; everyone does without training)."""
    if user is None:
        return False
    if user.role != Role.AGENT.value or not service.training_required():
        return True
    today = today or beijing_today()
    cert = db.session.get(AgentCertification, user.id)
    if cert is None or cert.state not in _LIVE:
        return False
    return cert.flagged_until is None or cert.flagged_until >= today


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


def certified_ids(user_ids, *, today: date | None = None) -> set[int]:
    """Which of ``user_ids`` pass the gate (one query)."""
    ids = {int(i) for i in user_ids if i}
    if not ids:
        return set()
    query = certified_filter(select(User.id).where(User.id.in_(ids)), today=today)
    return set(db.session.scalars(query))
