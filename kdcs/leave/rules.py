"""Leave date rules, pure: windows, working-day length, notice, length limits.

No database: a calendar is a callable ``date -> is it a working day?`` (``kdcs.workcalendar``:
``DbCalendar()`` in the app, ``calendar_from({...})`` in tests), so holidays and 调休
make-up workdays count as the table says.

Half days: a leave may start in the afternoon (``pm``: from 12:00) and end in the
morning (``am``: until 12:00). A half day on a day off counts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from ..models.leave import DayPart
from ..workcalendar import SHANGHAI, WorkdayCalendar

NOON = time(12, 0)
START_PARTS = (DayPart.FULL.value, DayPart.PM.value)
END_PARTS = (DayPart.FULL.value, DayPart.AM.value)
MAX_SPAN_DAYS = 366  # a request longer than a year is bad input


@dataclass(frozen=True)
class Period:
    """The dates of a request with their half-day parts."""

    start_date: date
    start_part: str
    end_date: date
    end_part: str

    @property
    def is_half(self) -> bool:
        return self.start_part == DayPart.PM or self.end_part == DayPart.AM


def _utc(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=SHANGHAI).astimezone(UTC)


def request_window(start_date: date, start_part: str, end_date: date, end_part: str) -> tuple[datetime, datetime]:
    """The UTC instants a leave covers: from 00:00 (12:00 for a 下午 start) of the first day
    to 24:00 (12:00 for an 上午 end) of the last day, Beijing time; the end is exclusive."""
    start_at = _utc(start_date, NOON if start_part == DayPart.PM else time(0, 0))
    if end_part == DayPart.AM:
        end_at = _utc(end_date, NOON)
    else:
        end_at = _utc(end_date + timedelta(days=1), time(0, 0))
    return start_at, end_at


def days_of(start_date: date, end_date: date):
    """Each date from ``start_date`` to ``end_date`` inclusive."""
    day = start_date
    while day <= end_date:
        yield day
        day += timedelta(days=1)


def day_share(day: date, period: Period) -> Decimal:
    """How much of ``day`` the period takes, ignoring the calendar: 1, 0.5 or 0."""
    if day < period.start_date or day > period.end_date:
        return Decimal("0")
    share = Decimal("1")
    if day == period.start_date and period.start_part == DayPart.PM:
        share -= Decimal("0.5")
    if day == period.end_date and period.end_part == DayPart.AM:
        share -= Decimal("0.5")
    return max(share, Decimal("0"))


def working_days(period: Period, calendar: WorkdayCalendar) -> Decimal:
    """The length in working days: days off (holidays, weekends not made up) count nothing,
    a half day counts 0.5 on a working day and nothing on a day off."""
    total = Decimal("0")
    for day in days_of(period.start_date, period.end_date):
        if calendar(day):
            total += day_share(day, period)
    return total


def shape_errors(period: Period, *, half_days_allowed: bool = True) -> dict[str, str]:
    """What is wrong with the dates themselves (English keys → messages set by the caller).

    Returns field → error code: ``order`` (end before start, or an afternoon start and a
    morning end on the same day), ``part`` (an unknown part), ``half`` (half days not
    allowed for this type), ``span`` (longer than a year).
    """
    errors: dict[str, str] = {}
    if period.start_part not in START_PARTS:
        errors["start_part"] = "part"
    if period.end_part not in END_PARTS:
        errors["end_part"] = "part"
    if period.end_date < period.start_date:
        errors["end_date"] = "order"
    elif period.start_date == period.end_date and period.start_part == DayPart.PM and period.end_part == DayPart.AM:
        errors["end_part"] = "order"
    elif (period.end_date - period.start_date).days > MAX_SPAN_DAYS:
        errors["end_date"] = "span"
    if not half_days_allowed and period.is_half and "start_part" not in errors and "end_part" not in errors:
        errors["start_part" if period.start_part == DayPart.PM else "end_part"] = "half"
    return errors


def notice_days_given(start_date: date, today: date) -> int:
    """Calendar days between today and the first day of the leave (0: it starts today)."""
    return (start_date - today).days


def notice_ok(start_date: date, today: date, notice_days: int) -> bool:
    """Whether a request made ``today`` gives at least ``notice_days`` days' notice."""
    return notice_days_given(start_date, today) >= notice_days


def length_error(days: Decimal, min_days: Decimal | None, max_days: Decimal | None) -> str | None:
    """``"none"`` (no working day in it), ``"min"`` or ``"max"`` when the length breaks a limit."""
    if days <= 0:
        return "none"
    if min_days is not None and days < min_days:
        return "min"
    if max_days is not None and days > max_days:
        return "max"
    return None


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Whether two half-open windows [start, end) share an instant."""
    return a_start < b_end and b_start < a_end


def beijing_today(now: datetime | None = None) -> date:
    """Today's date in Beijing."""
    return (now or datetime.now(UTC)).astimezone(SHANGHAI).date()
