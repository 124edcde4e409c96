"""The work calendar table: which days are working days.

A day is a working day when Monday–Friday, unless a ``WorkCalendarDay`` row
says otherwise (public holidays off, make-up workdays 调休 on). The rows are
seeded from the ``chinesecalendar`` package for the years it covers and are
editable by admins; a re-seed never overwrites an admin's edit.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..auditing import record, register_labels, snapshot
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


# --------------------------------------------------------------------------- a year from the State Council's notice

SOURCE_NOTICE = "notice"
MAX_RANGE_DAYS = 31

register_labels(
    actions={"calendar.import": _l("Work calendar year entered from the notice")},
    entities={"calendar_year": _l("Work calendar year")},
)


def year_bounds(year: int) -> tuple[date, date]:
    """1 January and 31 December of ``year``."""
    return date(year, 1, 1), date(year, 12, 31)


def year_day_count(year: int) -> int:
    """How many exception rows (holidays, make-up workdays) ``year`` has now."""
    from sqlalchemy import func

    start, end = year_bounds(year)
    return db.session.scalar(select(func.count(WorkCalendarDay.id)).where(
        WorkCalendarDay.day >= start, WorkCalendarDay.day <= end)) or 0


def year_is_missing(year: int) -> bool:
    """True when ``year`` has no holiday entered (only the weekday rule would apply)."""
    start, end = year_bounds(year)
    return db.session.scalar(select(WorkCalendarDay.id).where(
        WorkCalendarDay.day >= start, WorkCalendarDay.day <= end,
        WorkCalendarDay.is_workday.is_(False)).limit(1)) is None


def next_year_warning(today: date) -> int | None:
    """From 1 November: next year when it has no holidays entered yet, else None (the admin home's warning)."""
    if today.month < 11:
        return None
    return today.year + 1 if year_is_missing(today.year + 1) else None


def range_days(start: date, end: date, *, is_workday: bool, name: str) -> dict[date, tuple[bool, str]]:
    """Every day from ``start`` to ``end`` (inclusive) as {day: (is_workday, name)}; ValueError when not a range."""
    if end < start:
        raise ValueError(_("The end date is before the start date."))
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ValueError(_("A range may cover at most %(n)d days.", n=MAX_RANGE_DAYS))
    return {start + timedelta(days=n): (is_workday, name) for n in range((end - start).days + 1)}


def check_year_days(year: int, days: dict[date, tuple[bool, str]]) -> list[str]:
    """What is wrong with a year's days before saving (Chinese messages); empty when they may be saved.

    Days must fall in the year or its neighbouring December/January (a notice
    may start 元旦 on 31 December); a make-up workday on a weekday or a day off
    on a weekend changes nothing and is refused, names fit the column.
    """
    problems = []
    first, last = date(year - 1, 12, 1), date(year + 1, 1, 31)
    for day, (is_workday, name) in sorted(days.items()):
        if not first <= day <= last:
            problems.append(_("%(d)s is not in %(y)d.", d=day.isoformat(), y=year))
        elif is_workday and day.weekday() < 5:
            problems.append(_("%(d)s is a weekday: it is a working day anyway.", d=day.isoformat()))
        if len(name) > 32:
            problems.append(_("%(d)s: the name may have at most 32 characters.", d=day.isoformat()))
    if not any(not flag for flag, _name in days.values()):
        problems.append(_("No holiday to save."))
    return problems


def import_year(actor, year: int, days: dict[date, tuple[bool, str]], *, replace: bool = False,
                expected_existing: int | None = None) -> dict[str, int]:
    """Save a year's holidays and make-up workdays (from the notice and/or date ranges) in one transaction.

    When the year already has days, ``replace`` must be True (the admin confirmed
    the replacement): every row of that year goes, edited by hand or not, and the
    given days are written with source "notice" (a later chinesecalendar load
    keeps them). Days in the neighbouring December/January replace that day's row
    only. ``expected_existing`` is the count the admin saw in the preview: a
    different count now means someone changed the year meanwhile. One audit row
    ``calendar.import`` says what was replaced and what was written.
    Deadlines already computed are stored on their tickets and do not move.
    """
    from sqlalchemy import delete

    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    problems = check_year_days(year, days)
    if problems:
        raise ValidationError({"days": "；".join(problems)})
    existing = year_day_count(year)
    if expected_existing is not None and existing != expected_existing:
        raise StaleEdit()
    if existing and not replace:
        raise ValidationError({"replace": _("%(y)d already has %(n)d days: confirm that they are replaced.",
                                            y=year, n=existing)})
    start, end = year_bounds(year)
    outside = [day for day in days if not start <= day <= end]
    try:
        db.session.execute(delete(WorkCalendarDay).where(WorkCalendarDay.day >= start, WorkCalendarDay.day <= end))
        if outside:
            db.session.execute(delete(WorkCalendarDay).where(WorkCalendarDay.day.in_(outside)))
        for day, (is_workday, name) in sorted(days.items()):
            db.session.add(WorkCalendarDay(day=day, is_workday=is_workday, name=name, source=SOURCE_NOTICE))
        counts = {"holidays": sum(1 for flag, _n in days.values() if not flag),
                  "workdays": sum(1 for flag, _n in days.values() if flag), "replaced": existing}
        record(actor, "calendar.import", "calendar_year", year,
               summary=_("%(y)d: %(h)d days off, %(w)d make-up workdays (%(r)d days replaced)",
                         y=year, h=counts["holidays"], w=counts["workdays"], r=existing),
               before={"days": existing},
               after={"holidays": sorted(d.isoformat() for d, (f, _n) in days.items() if not f),
                      "workdays": sorted(d.isoformat() for d, (f, _n) in days.items() if f)})
        db.session.commit()
    except IntegrityError:  # another admin saved the same days at the same moment
        db.session.rollback()
        raise StaleEdit() from None
    except Exception:
        db.session.rollback()
        raise
    return counts
