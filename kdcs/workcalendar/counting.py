"""Working time, pure: which days are working days and how minutes count inside a daily window.

No database, no Flask: a calendar is a callable ``date -> is it a working day?``
(``weekday_calendar``, ``calendar_from`` for tests and fixed sets, or the
table-backed ``kdcs.workcalendar.DbCalendar``).

Counting minutes inside a daily window (``add_working_minutes``), precisely:

* Only minutes inside the window ``[start, end)`` (wall time in ``tz``,
  Asia/Shanghai by default) of working days count. ``end`` of 00:00 means
  midnight (24:00).
* A start before the window counts from the window's opening; a start after
  it (or on a day off) counts from the next working day's opening.
* The result is the instant the last minute is used up, so an amount that ends
  exactly at closing time ends at closing time (18:00 + 2 h → 20:00 the same
  day, not 08:00 the next day).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A calendar with no working day for this long is bad data, not a deadline.
MAX_SEARCH_DAYS = 3 * 366

WorkdayCalendar = Callable[[date], bool]
Window = tuple[time, time]


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


def window_bounds(day: date, window: Window, tz: ZoneInfo = SHANGHAI) -> tuple[datetime, datetime]:
    """The aware start and end of ``window`` on ``day`` (an end of 00:00 is the next midnight)."""
    opens, closes = window
    start = datetime.combine(day, opens, tzinfo=tz)
    if closes == time(0, 0):
        end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)
    else:
        end = datetime.combine(day, closes, tzinfo=tz)
    return start, end


def add_working_minutes(start: datetime, minutes: int, window: Window, *,
                        is_workday: WorkdayCalendar = weekday_calendar, tz: ZoneInfo = SHANGHAI) -> datetime:
    """The instant (aware UTC) when ``minutes`` inside ``window`` on working days, counted from ``start``, are used up."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    opens, closes = window
    if closes != time(0, 0) and closes <= opens:
        raise ValueError("service window must end after it starts")

    remaining = timedelta(minutes=minutes)
    cursor = start.astimezone(tz)
    day = cursor.date()
    for _ in range(MAX_SEARCH_DAYS):
        if is_workday(day):
            window_start, window_end = window_bounds(day, window, tz)
            begin = max(cursor, window_start)
            if begin < window_end or (remaining == timedelta(0) and begin == window_end):
                available = window_end - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(UTC)
                remaining -= available
        day += timedelta(days=1)
        cursor = datetime.combine(day, time(0, 0), tzinfo=tz)
    raise ValueError("no working day found in the calendar")
