"""The work calendar table: which days are working days.

A day is a working day when Monday–Friday, unless a ``WorkCalendarDay`` row
says otherwise (public holidays off, make-up workdays 调休 on). The rows are
seeded from the ``chinesecalendar`` package for the years it covers and are
editable by admins; a re-seed never overwrites an admin's edit.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from ..auditing import record, snapshot
from ..extensions import db
from ..models import WorkCalendarDay
from ..permissions import Permission, ensure
from ..service_errors import StaleEdit, ValidationError
from .counting import weekday_calendar

SOURCE_PACKAGE = "chinesecalendar"
SOURCE_ADMIN = "admin"

HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


class DbCalendar:
    """``is_workday(day)`` backed by the table; loads one year of exceptions at a time.

    Create one per request or per import batch (it caches what it read).
    """

    def __init__(self) -> None:
        self._years: dict[int, dict[date, bool]] = {}

    def _year(self, year: int) -> dict[date, bool]:
        if year not in self._years:
            rows = db.session.execute(
                select(WorkCalendarDay.day, WorkCalendarDay.is_workday).where(
                    WorkCalendarDay.day >= date(year, 1, 1), WorkCalendarDay.day <= date(year, 12, 31)
                )
            )
            self._years[year] = {day: bool(flag) for day, flag in rows}
        return self._years[year]

    def __call__(self, day: date) -> bool:
        found = self._year(day.year).get(day)
        return weekday_calendar(day) if found is None else found


def package_days(years: set[int] | None = None) -> dict[date, tuple[bool, str]]:
    """The exceptions ``chinesecalendar`` knows: {day: (is_workday, Chinese name)}.

    Holidays (including those on a weekend, for their name) and make-up workdays.
    """
    from chinese_calendar import constants

    days: dict[date, tuple[bool, str]] = {}
    for day, name in constants.holidays.items():
        if years is None or day.year in years:
            english = getattr(name, "value", name)
            days[day] = (False, HOLIDAY_NAMES_ZH.get(english, english))
    for day, name in constants.workdays.items():
        if years is None or day.year in years:
            english = getattr(name, "value", name)
            holiday = HOLIDAY_NAMES_ZH.get(english, english)
            days[day] = (True, f"调休上班（{holiday}）")
    return days


def package_years() -> tuple[int, int]:
    """First and last year ``chinesecalendar`` covers."""
    from chinese_calendar import constants

    known = list(constants.holidays)
    return min(known).year, max(known).year


def seed_calendar(years: set[int] | None = None) -> dict[str, int]:
    """Insert/refresh the package's days; rows an admin edited are kept. Idempotent.

    Does not commit: the caller does (CLI, seed-demo, a test).
    """
    counts = {"created": 0, "updated": 0, "kept": 0}
    wanted = package_days(years)
    if not wanted:
        return counts
    existing = {
        row.day: row
        for row in db.session.scalars(
            select(WorkCalendarDay).where(WorkCalendarDay.day >= min(wanted), WorkCalendarDay.day <= max(wanted))
        )
    }
    for day, (is_workday, name) in sorted(wanted.items()):
        row = existing.get(day)
        if row is None:
            db.session.add(WorkCalendarDay(day=day, is_workday=is_workday, name=name, source=SOURCE_PACKAGE))
            counts["created"] += 1
        elif row.source != SOURCE_PACKAGE:
            counts["kept"] += 1
        elif row.is_workday != is_workday or row.name != name:
            row.is_workday, row.name = is_workday, name
            counts["updated"] += 1
    db.session.flush()
    return counts


def calendar_days(start: date, end: date) -> list[WorkCalendarDay]:
    """The exception rows between two dates (inclusive), for the admin page."""
    return list(db.session.scalars(
        select(WorkCalendarDay).where(WorkCalendarDay.day >= start, WorkCalendarDay.day <= end)
        .order_by(WorkCalendarDay.day)
    ))


def is_workday(day: date) -> bool:
    """One-off check against the table (use ``DbCalendar`` for many days)."""
    return DbCalendar()(day)


def set_calendar_day(actor, day: date, *, is_workday: bool, name: str = "",
                     version: int | None = None) -> WorkCalendarDay:
    """Admin: mark a day as working day or day off (a holiday, a 调休 workday).

    ``version`` is the version the admin saw (None when the row did not exist).
    A day set back to what the weekday rule says keeps its row (with its name),
    so the admin's decision is remembered across re-seeds.
    """
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    name = (name or "").strip()
    if len(name) > 32:
        raise ValidationError({"name": _("The name may have at most 32 characters.")})
    row = db.session.scalar(select(WorkCalendarDay).where(WorkCalendarDay.day == day))
    if row is None:
        if version is not None:
            raise StaleEdit()
        row = WorkCalendarDay(day=day, is_workday=is_workday, name=name, source=SOURCE_ADMIN)
        db.session.add(row)
        db.session.flush()
        record(actor, "calendar_day.update", "calendar_day", row.id, summary=day.isoformat(),
               after=snapshot(row, ["is_workday", "name"]))
    else:
        if version is not None and row.version != version:
            raise StaleEdit()
        before = snapshot(row, ["is_workday", "name", "source"])
        row.is_workday, row.name, row.source = is_workday, name, SOURCE_ADMIN
        record(actor, "calendar_day.update", "calendar_day", row.id, summary=day.isoformat(),
               before=before, after=snapshot(row, ["is_workday", "name", "source"]))
    db.session.commit()
    return row


def next_workdays(start: date, count: int, calendar=None) -> list[date]:
    """The next ``count`` working days from ``start`` (inclusive); handy for displays and tests."""
    calendar = calendar or DbCalendar()
    found, day = [], start
    while len(found) < count:
        if calendar(day):
            found.append(day)
        day += timedelta(days=1)
    return found
