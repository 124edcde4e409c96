"""Deadlines (时效): the due-time calculation and the choice of rule.

Both are pure: no database, no Flask. ``compute_due`` takes the calendar as a
callable (``date -> is it a working day?``) so it is tested with plain sets;
the service passes ``workcalendar.DbCalendar``. Brands judge deadlines from
when a case was registered in their system, so callers pass ``registered_at``
as the start.

Service-hours counting, precisely:

* Only minutes inside the daily window ``[start, end)`` (Asia/Shanghai wall
  time) of working days count. ``end`` of 00:00 means midnight (24:00).
* A start before the window counts from the window's opening; a start after
  it (or on a day off) counts from the next working day's opening.
* The due time is the instant the last minute is used up, so a deadline that
  ends exactly at closing time is due at closing time (18:00 + 2 h → 20:00 the
  same day, not 08:00 the next day).
* Clock mode ignores the calendar and the window: start + minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from ..models.ticket import CountingMode

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_WINDOW = (time(8, 0), time(20, 0))
# A calendar with no working day for this long is bad data, not a deadline.
MAX_SEARCH_DAYS = 3 * 366

WorkdayCalendar = Callable[[date], bool]


def weekday_calendar(day: date) -> bool:
    """Monday to Friday are working days (the rule when no calendar is kept)."""
    return day.weekday() < 5


def calendar_from(overrides: dict[date, bool] | None = None,
                  base: WorkdayCalendar = weekday_calendar) -> WorkdayCalendar:
    """A calendar: ``overrides`` (holidays → False, make-up workdays → True) over ``base``."""
    overrides = dict(overrides or {})

    def is_workday(day: date) -> bool:
        found = overrides.get(day)
        return base(day) if found is None else found

    return is_workday


def _window_bounds(day: date, window: tuple[time, time], tz: ZoneInfo) -> tuple[datetime, datetime]:
    opens, closes = window
    start = datetime.combine(day, opens, tzinfo=tz)
    if closes == time(0, 0):
        end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)
    else:
        end = datetime.combine(day, closes, tzinfo=tz)
    return start, end


def compute_due(
    start: datetime,
    minutes: int,
    mode: str = CountingMode.CLOCK,
    *,
    window: tuple[time, time] | None = None,
    is_workday: WorkdayCalendar = weekday_calendar,
    tz: ZoneInfo = SHANGHAI,
) -> datetime:
    """The due time (aware UTC) of ``minutes`` counted from ``start`` (aware).

    ``mode`` "clock": wall-clock minutes. ``mode`` "service_hours": only minutes
    inside ``window`` (default 08:00–20:00, local time ``tz``) on days for which
    ``is_workday(day)`` is true.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    if mode == CountingMode.CLOCK:
        return (start + timedelta(minutes=minutes)).astimezone(UTC)
    if mode != CountingMode.SERVICE_HOURS:
        raise ValueError(f"unknown counting mode {mode!r}")
    window = window or DEFAULT_WINDOW
    opens, closes = window
    if closes != time(0, 0) and closes <= opens:
        raise ValueError("service window must end after it starts")

    remaining = timedelta(minutes=minutes)
    cursor = start.astimezone(tz)
    day = cursor.date()
    for _ in range(MAX_SEARCH_DAYS):
        if is_workday(day):
            window_start, window_end = _window_bounds(day, window, tz)
            begin = max(cursor, window_start)
            if begin < window_end or (remaining == timedelta(0) and begin == window_end):
                available = window_end - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(UTC)
                remaining -= available
        day += timedelta(days=1)
        cursor = datetime.combine(day, time(0, 0), tzinfo=tz)
    raise ValueError("no working day found in the calendar")


class RuleLike(Protocol):
    id: int
    brand_id: int | None
    category: str
    reason_id: int | None
    is_active: bool


def rule_specificity(rule: RuleLike) -> int:
    """3 brand+reason, 2 brand only, 1 reason only (any brand), 0 category only."""
    return (2 if rule.brand_id is not None else 0) + (1 if rule.reason_id is not None else 0)


def select_rule(rules: Iterable[RuleLike], *, brand_id: int | None, category: str,
                reason_id: int | None):
    """The most specific active rule that matches, or None.

    Order: brand+category+reason > brand+category > any brand+category+reason
    > any brand+category. Among equals the oldest rule (lowest id) wins.
    """
    best = None
    best_key = None
    for rule in rules:
        if not rule.is_active or rule.category != category:
            continue
        if rule.brand_id is not None and rule.brand_id != brand_id:
            continue
        if rule.reason_id is not None and rule.reason_id != reason_id:
            continue
        key = (-rule_specificity(rule), rule.id)
        if best_key is None or key < best_key:
            best, best_key = rule, key
    return best


def rule_window(rule) -> tuple[time, time] | None:
    if rule.mode != CountingMode.SERVICE_HOURS:
        return None
    if rule.service_start is None or rule.service_end is None:
        return DEFAULT_WINDOW
    return (rule.service_start, rule.service_end)


def due_times(rule, start: datetime, is_workday: WorkdayCalendar = weekday_calendar) -> tuple[datetime, datetime]:
    """(reply due, resolve due) of a rule counted from ``start``."""
    window = rule_window(rule)
    reply = compute_due(start, rule.reply_minutes, rule.mode, window=window, is_workday=is_workday)
    resolve = compute_due(start, rule.resolve_minutes, rule.mode, window=window, is_workday=is_workday)
    return reply, resolve
