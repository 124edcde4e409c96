"""The rules of a follow-up's time and text, as plain functions (unit-tested without a database)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

MAX_AHEAD = timedelta(days=30)  # a promise further out is a plan, not a follow-up
PAST_SLACK = timedelta(minutes=5)  # "now" typed a minute ago still counts as now
PROMISE_MAX = 300
OUTCOME_MAX = 300
MAX_OPEN_PER_TICKET = 5
DUE_SOON = timedelta(hours=1)
ESCALATE_AFTER = timedelta(hours=1)  # still open this long past its time: the lead is told
ESCALATE_LOOKBACK = timedelta(hours=24)  # older ones (a worker down for days) are on the lists, not news


def due_error(due_at: datetime | None, now: datetime) -> str | None:
    """Why ``due_at`` (aware) cannot be a follow-up's time, or None: not in the past, at most 30 days ahead."""
    if due_at is None:
        return str(_l("Say by when you promised it."))
    if due_at < now - PAST_SLACK:
        return str(_l("That time has passed: a follow-up is something still to do."))
    if due_at > now + MAX_AHEAD:
        return str(_l("At most 30 days ahead."))
    return None


def promise_error(text: str) -> str | None:
    """Why the promise text cannot be stored, or None (2 to 300 characters once trimmed)."""
    if len(text) < 2:
        return str(_l("Write what you promised (at least 2 characters)."))
    if len(text) > PROMISE_MAX:
        return str(_l("At most %(n)d characters.", n=PROMISE_MAX))
    return None


def urgency(due_at: datetime, now: datetime) -> str:
    """"overdue", "soon" (within the hour) or "later": how the lists mark a follow-up."""
    if due_at <= now:
        return "overdue"
    if due_at - now <= DUE_SOON:
        return "soon"
    return "later"
