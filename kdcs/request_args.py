"""Request parsing: a number typed into a URL or form never reaches the database out of range.

``request.args.get("page", 1, type=int)`` (and ``request.form.get(..., type=int)``) treat
a value beyond a database integer ("999…9", 30 digits) like any other non-number: the
default. Without this, SQLite raises OverflowError and PostgreSQL refuses a numeric OFFSET
— a 500 for a mistyped or tampered URL.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from werkzeug.datastructures import ImmutableMultiDict

INT_MAX = 2**31 - 1  # PostgreSQL INTEGER; ids, pages, versions, years never come near it


def bounded_int(value) -> int:
    """``int(value)``, but ValueError beyond ±INT_MAX (so callers treat it as garbage)."""
    number = int(value)
    if not -INT_MAX - 1 <= number <= INT_MAX:
        raise ValueError(f"{number} is out of range")
    return number


class BoundedMultiDict(ImmutableMultiDict):
    """Query strings and form data whose ``type=int`` conversions are bounded."""

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        return super().get(key, default, bounded_int if type is int else type)

    def getlist(self, key, type=None):  # noqa: A002
        return super().getlist(key, bounded_int if type is int else type)


def day_or_none(text) -> date | None:
    """A day typed as 2026-11-30 (or 2026-1-5, 2026/11/30, 2026.11.30) between 2000 and 2099; None
    for anything else (the one parser of days in URLs and forms: a typo is a message, never a 500)."""
    cleaned = str(text or "").strip().replace("/", "-").replace(".", "-")
    if len(cleaned) > 10:
        return None
    try:
        day = date.fromisoformat(cleaned)
    except ValueError:
        try:
            day = datetime.strptime(cleaned, "%Y-%m-%d").date()
        except ValueError:
            return None
    return day if 2000 <= day.year <= 2099 else None


def init_app(app: Flask) -> None:
    """Bound ``type=int`` on the app's request class (after extensions such as htmx-flask set theirs)."""
    base = app.request_class
    app.request_class = type(f"Bounded{base.__name__}", (base,), {"parameter_storage_class": BoundedMultiDict})


def id_or_none(value) -> int | None:
    """A posted id (select values, hidden ids): a positive integer the database can hold, else None."""
    try:
        number = bounded_int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def id_or_zero(value) -> int:
    """Like ``id_or_none`` for selects whose "none" choice is 0."""
    return id_or_none(value) or 0
