"""Deadlines (时效): the due-time calculation and the choice of rule.

Both are pure: no database, no Flask. ``compute_due`` takes the calendar as a
callable (``date -> is it a working day?``) so it is tested with plain sets;
the service passes ``kdcs.workcalendar.DbCalendar``. Brands judge deadlines
from when a case was registered in their system, so callers pass
``registered_at`` as the start.

A rule counts in one of two modes: clock mode ignores the calendar and the
window (start + minutes); service-hours mode counts only minutes inside the
rule's daily window (default 08:00–20:00) on working days, as
``kdcs.workcalendar.add_working_minutes`` describes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from ..models.ticket import CountingMode
from ..workcalendar.counting import SHANGHAI, WorkdayCalendar, add_working_minutes, weekday_calendar

DEFAULT_WINDOW = (time(8, 0), time(20, 0))


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
    return add_working_minutes(start, minutes, window or DEFAULT_WINDOW, is_workday=is_workday, tz=tz)


class RuleLike(Protocol):
    """What ``select_rule`` reads of a rule (a DeadlineRule or a test double)."""
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
    """The daily window a service-hours rule counts in (None for clock mode)."""
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


class ReplyDeadlineCounts:
    """What a set of first reply deadlines that came to a head adds up to (团队表现, 我的表现, 网点月报):
    mixed into a figures dataclass with the counts ``on_time``, ``late`` and ``missed``."""

    on_time: int
    late: int
    missed: int

    @property
    def due(self) -> int:
        """Reply deadlines that came to a head: answered (on time or late) or missed."""
        return self.on_time + self.late + self.missed

    @property
    def on_time_rate(self) -> int | None:
        """Per cent of ``due`` answered on time (rounded down), None when nothing was due."""
        return self.on_time * 100 // self.due if self.due else None
