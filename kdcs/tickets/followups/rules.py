"""The rules of a follow-up's time and text, as plain functions (unit-tested without a database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l

from ...filters import SHANGHAI

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


# "跟进" on the reply form: the reply said when the agent will come back; the follow-up is that time.
REPLY_PRESETS = ("30", "60", "120", "tomorrow")
REPLY_PRESET_LABELS = {
    "": _l("No follow-up"),
    "30": _l("In 30 minutes"),
    "60": _l("In 1 hour"),
    "120": _l("In 2 hours"),
    "tomorrow": _l("Tomorrow 9:00"),
}
TOMORROW_AT = (9, 0)  # Beijing time


def preset_due(code: str, now: datetime) -> datetime | None:
    """The follow-up time a reply form's preset means at ``now`` (aware): minutes ahead rounded up to the
    next 5 (as the card's quick buttons round), or tomorrow 9:00 in Beijing; None for an unknown code."""
    if code == "tomorrow":
        day = now.astimezone(SHANGHAI).date() + timedelta(days=1)
        return datetime(day.year, day.month, day.day, *TOMORROW_AT, tzinfo=SHANGHAI).astimezone(UTC)
    if code not in REPLY_PRESETS:
        return None
    target = now.astimezone(UTC) + timedelta(minutes=int(code))
    floor = target.replace(second=0, microsecond=0) - timedelta(minutes=target.minute % 5)
    return floor if floor == target else floor + timedelta(minutes=5)


def promise_from_reply(body: str) -> str:
    """The follow-up's promise taken from the reply's text: on one line, at most ``PROMISE_MAX`` characters."""
    text = " ".join((body or "").split())
    return text if len(text) <= PROMISE_MAX else text[:PROMISE_MAX - 1] + "…"


# to whom a reply through each channel was given: the follow-up is promised to them
CHANNEL_PARTIES = {"brand_system": "brand", "outlet": "outlet", "other": "other"}


def party_for_channel(channel: str) -> str:
    """The follow-up's party for a reply's channel: the customer, unless it went through the brand's system,
    the outlet or another way."""
    return CHANNEL_PARTIES.get(channel, "customer")
