"""Ticket settings: deadline rules, the work calendar, reason lists and canned replies.

Plain functions the settings pages call (and tests call without HTTP). Every
function checks the actor's permission (``ensure``), validates (raising
``ValidationError`` with Chinese messages keyed by field), refuses stale edits
(``StaleEdit`` when the version the form carried is not the row's version),
writes an audit row with before/after snapshots, and commits.

The due-time calculation and the calendar loader are the domain's
(``tickets.deadlines`` and ``kdcs.workcalendar``); this module only calls
them. Changing a rule never touches existing tickets: they keep the times
computed when they were created.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from ... import workcalendar
from ...auditing import record, record_active_change, register_labels, snapshot
from ...extensions import db
from ...models import Brand
from ...models.ticket import (
    CannedReply,
    Category,
    CountingMode,
    DeadlineRule,
    Ticket,
    TicketReason,
    WorkCalendarDay,
)
from ...permissions import Permission, ensure
from ...service_errors import StaleEdit, ValidationError
from .. import deadlines

# Limits (also used by the forms).
MAX_DEADLINE_MINUTES = 90 * 24 * 60  # 90 days: longer is a typo, not a brand rule
REASON_NAME_MAX = 32
RULE_NOTE_MAX = 200
CANNED_TITLE_MAX = 64
CANNED_BODY_MAX = 2000
CALENDAR_NAME_MAX = 32

RULE_FIELDS = ["brand_id", "category", "reason_id", "reply_minutes", "resolve_minutes", "mode",
               "service_start", "service_end", "note", "is_active"]
REASON_FIELDS = ["category", "name", "sort_order", "is_active"]
CANNED_FIELDS = ["category", "reason_id", "title", "body", "sort_order", "is_active"]

CATEGORY_CODES = [c.value for c in Category]


register_labels(
    actions={
        "deadline_rule.activate": _l("Deadline rule activated"),
        "deadline_rule.deactivate": _l("Deadline rule deactivated"),
        "ticket_reason.activate": _l("Ticket reason activated"),
        "ticket_reason.deactivate": _l("Ticket reason deactivated"),
        "ticket_reason.reorder": _l("Ticket reasons reordered"),
        "ticket_reason.delete": _l("Ticket reason deleted"),
        "canned_reply.activate": _l("Canned reply activated"),
        "canned_reply.deactivate": _l("Canned reply deactivated"),
        "canned_reply.reorder": _l("Canned replies reordered"),
        "calendar.load": _l("Work calendar loaded"),
    },
    fields={
        "brand_id": _l("Brand"),
        "category": _l("Category"),
        "reason_id": _l("Reason"),
        "service_start": _l("Service hours from"),
        "service_end": _l("Service hours until"),
        "note": _l("Note"),
        "sort_order": _l("Order"),
        "title": _l("Title"),
        "body": _l("Text"),
        "source": _l("Source"),
        "days_created": _l("Days added"),
        "days_updated": _l("Days updated"),
        "days_kept": _l("Days kept (edited by hand)"),
        "calendar_year": _l("Year"),
    },
    entities={"work_calendar": _l("Work calendar")},
)


# --------------------------------------------------------------------------- helpers


def _snapshot(obj, fields: list[str]) -> dict:
    """``auditing.snapshot`` plus times of day as "HH:MM" (JSON has no time type)."""
    values = snapshot(obj, fields)
    return {k: v.strftime("%H:%M") if isinstance(v, time) else v for k, v in values.items()}


def _check_version(row, version: int | None) -> None:
    if version is not None and row.version != version:
        raise StaleEdit()


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def format_minutes(minutes: int | None, mode: str = CountingMode.CLOCK) -> str:
    """Human units: 30 分钟, 2 小时, 1 小时 30 分钟, 24 小时, 3 天.

    Days only for clock time and whole days beyond one (in service-hours mode
    a "day" would be ambiguous: a service day is not 24 hours).
    """
    if minutes is None:
        return ""
    if minutes == 0:
        return _("immediately")
    if mode == CountingMode.CLOCK and minutes > 1440 and minutes % 1440 == 0:
        return _("%(n)d days", n=minutes // 1440)
    hours, mins = divmod(minutes, 60)
    if hours and mins:
        return _("%(h)d h %(m)d min", h=hours, m=mins)
    if hours:
        return _("%(n)d hours", n=hours)
    return _("%(n)d minutes", n=mins)


def split_minutes(minutes: int | None) -> tuple[int, int]:
    """(hours, minutes) for the form's two inputs."""
    return divmod(minutes or 0, 60)


# --------------------------------------------------------------------------- deadline rules


def list_rules(actor, *, category: str = "", brand_id: int | None = None, active: str = "",
               q: str = "") -> list[DeadlineRule]:
    """Rules ordered by category, brand (any first), reason (any first); ``q`` searches brand, reason and note."""
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    query = (
        select(DeadlineRule)
        .options(selectinload(DeadlineRule.brand), selectinload(DeadlineRule.reason))
        .outerjoin(Brand, DeadlineRule.brand_id == Brand.id)
        .outerjoin(TicketReason, DeadlineRule.reason_id == TicketReason.id)
    )
    q = q.strip()
    if q:
        query = query.where(or_(Brand.name.icontains(q, autoescape=True), Brand.code.icontains(q, autoescape=True),
                                TicketReason.name.icontains(q, autoescape=True),
                                DeadlineRule.note.icontains(q, autoescape=True)))
    if category:
        query = query.where(DeadlineRule.category == category)
    if brand_id == -1:
        query = query.where(DeadlineRule.brand_id.is_(None))
    elif brand_id:
        query = query.where(DeadlineRule.brand_id == brand_id)
    if active == "1":
        query = query.where(DeadlineRule.is_active.is_(True))
    elif active == "0":
        query = query.where(DeadlineRule.is_active.is_(False))
    rules = list(db.session.scalars(query.order_by(DeadlineRule.id)))
    order = {code: i for i, code in enumerate(CATEGORY_CODES)}
    rules.sort(key=lambda r: (
        order.get(r.category, 99),
        r.brand is not None, r.brand.code if r.brand else "",
        r.reason is not None, (r.reason.sort_order, r.reason.name) if r.reason else (0, ""),
        r.id,
    ))
    return rules


def rule_summary(rule: DeadlineRule) -> str:
    """Brand · category · reason of a rule, for messages and the audit log."""
    from ..labels import label

    brand = rule.brand.name if rule.brand else _("Any brand")
    reason = rule.reason.name if rule.reason else _("Any reason")
    return f"{brand} · {label('category', rule.category)} · {reason}"


def _rule_values(*, brand_id, category, reason_id, reply_minutes, resolve_minutes, mode,
                 service_start, service_end, note, exclude_id=None) -> dict:
    errors: dict[str, str] = {}
    brand_id = brand_id or None
    reason_id = reason_id or None
    note = _clean(note)
    if category not in CATEGORY_CODES:
        errors["category"] = _("Choose a category.")
    if brand_id is not None and db.session.get(Brand, brand_id) is None:
        errors["brand_id"] = _("Unknown brand.")
    if reason_id is not None:
        reason = db.session.get(TicketReason, reason_id)
        if reason is None:
            errors["reason_id"] = _("Unknown reason.")
        elif category in CATEGORY_CODES and reason.category != category:
            errors["reason_id"] = _("This reason belongs to another category.")
    for field, value in (("reply_minutes", reply_minutes), ("resolve_minutes", resolve_minutes)):
        if value is None or not isinstance(value, int) or value <= 0:
            errors[field] = _("Enter a time limit of at least 1 minute.")
        elif value > MAX_DEADLINE_MINUTES:
            errors[field] = _("At most %(n)d days.", n=MAX_DEADLINE_MINUTES // 1440)
    if "reply_minutes" not in errors and "resolve_minutes" not in errors and resolve_minutes < reply_minutes:
        errors["resolve_minutes"] = _("The resolve limit cannot be shorter than the reply limit.")
    if mode not in (CountingMode.CLOCK, CountingMode.SERVICE_HOURS):
        errors["mode"] = _("Choose how time is counted.")
    if mode == CountingMode.SERVICE_HOURS:
        service_start = service_start or deadlines.DEFAULT_WINDOW[0]
        service_end = service_end or deadlines.DEFAULT_WINDOW[1]
        if not isinstance(service_start, time) or not isinstance(service_end, time) or service_start >= service_end:
            errors["service_end"] = _("Service hours must end after they start (e.g. 08:00–20:00).")
    else:
        service_start = service_end = None
    if len(note) > RULE_NOTE_MAX:
        errors["note"] = _("At most %(n)d characters.", n=RULE_NOTE_MAX)
    if not errors:
        duplicate = select(DeadlineRule).where(DeadlineRule.category == category)
        duplicate = duplicate.where(DeadlineRule.brand_id.is_(None) if brand_id is None else DeadlineRule.brand_id == brand_id)
        duplicate = duplicate.where(DeadlineRule.reason_id.is_(None) if reason_id is None else DeadlineRule.reason_id == reason_id)
        if exclude_id is not None:
            duplicate = duplicate.where(DeadlineRule.id != exclude_id)
        other = db.session.scalar(duplicate.limit(1))
        if other is not None:
            if other.is_active:
                errors["reason_id"] = _("A rule for %(s)s already exists. Edit that rule instead.", s=rule_summary(other))
            else:
                errors["reason_id"] = _("A deactivated rule for %(s)s already exists. Activate and edit that rule instead.", s=rule_summary(other))
    if errors:
        raise ValidationError(errors)
    return {
        "brand_id": brand_id, "category": category, "reason_id": reason_id,
        "reply_minutes": reply_minutes, "resolve_minutes": resolve_minutes, "mode": str(mode),
        "service_start": service_start, "service_end": service_end, "note": note,
    }


def create_rule(actor, *, brand_id: int | None, category: str, reason_id: int | None, reply_minutes: int,
                resolve_minutes: int, mode: str = CountingMode.CLOCK, service_start: time | None = None,
                service_end: time | None = None, note: str = "") -> DeadlineRule:
    """A new active rule. Refuses a second rule for the same brand × category × reason."""
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    values = _rule_values(brand_id=brand_id, category=category, reason_id=reason_id, reply_minutes=reply_minutes,
                          resolve_minutes=resolve_minutes, mode=mode, service_start=service_start,
                          service_end=service_end, note=note)
    rule = DeadlineRule(is_active=True, **values)
    db.session.add(rule)
    db.session.flush()
    record(actor, "deadline_rule.create", "deadline_rule", rule.id, summary=rule_summary(rule),
           after=_snapshot(rule, RULE_FIELDS))
    db.session.commit()
    return rule


def update_rule(actor, rule: DeadlineRule, *, version: int, brand_id: int | None, category: str,
                reason_id: int | None, reply_minutes: int, resolve_minutes: int, mode: str,
                service_start: time | None = None, service_end: time | None = None, note: str = "") -> DeadlineRule:
    """Change a rule. Tickets already created keep their deadlines."""
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    _check_version(rule, version)
    values = _rule_values(brand_id=brand_id, category=category, reason_id=reason_id, reply_minutes=reply_minutes,
                          resolve_minutes=resolve_minutes, mode=mode, service_start=service_start,
                          service_end=service_end, note=note, exclude_id=rule.id)
    before = _snapshot(rule, RULE_FIELDS)
    for key, value in values.items():
        setattr(rule, key, value)
    after = _snapshot(rule, RULE_FIELDS)
    if before != after:
        db.session.flush()
        db.session.refresh(rule, ["brand", "reason"])
        record(actor, "deadline_rule.update", "deadline_rule", rule.id, summary=rule_summary(rule),
               before=before, after=after)
    db.session.commit()
    return rule


def set_rule_active(actor, rule: DeadlineRule, active: bool, version: int | None = None) -> DeadlineRule:
    """Activate or deactivate a rule (audited; stale ``version`` → StaleEdit)."""
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    _check_version(rule, version)
    if record_active_change(actor, rule, active, "deadline_rule", rule_summary(rule)):
        db.session.commit()
    return rule


@dataclass
class Preview:
    """A 试算 result: a rule's reply and resolve due times from a start."""
    rule: DeadlineRule
    start: datetime  # aware
    reply_due: datetime  # aware UTC
    resolve_due: datetime


def preview_rule(actor, rule: DeadlineRule, start: datetime) -> Preview:
    """试算: the due times a ticket registered at ``start`` would get under ``rule``.

    Uses the domain's due-time function with the work calendar as kept in the
    database, so holidays, make-up workdays and service hours show up exactly
    as they will for real tickets.
    """
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    if start.tzinfo is None:
        start = start.replace(tzinfo=workcalendar.SHANGHAI)
    try:
        reply_due, resolve_due = deadlines.due_times(rule, start, workcalendar.DbCalendar())
    except ValueError as exc:
        raise ValidationError({"start": _("These times cannot be computed: %(e)s", e=str(exc))}) from exc
    return Preview(rule=rule, start=start, reply_due=reply_due, resolve_due=resolve_due)


# --------------------------------------------------------------------------- work calendar


@dataclass
class CalendarCell:
    """One day of the calendar month grid."""
    day: date
    in_month: bool
    is_workday: bool
    row: WorkCalendarDay | None  # the exception row, if any

    @property
    def is_weekend(self) -> bool:
        """Saturday or Sunday."""
        return self.day.weekday() >= 5

    @property
    def kind(self) -> str:
        """'holiday' (a listed day off), 'makeup' (a listed weekend workday, 调休上班),
        'workday' or 'weekend' (the weekday rule, or a listed day that matches it)."""
        if self.row is None:
            return "weekend" if self.is_weekend else "workday"
        if self.row.is_workday:
            return "makeup" if self.is_weekend else "workday"
        return "holiday"


def month_grid(actor, year: int, month: int) -> list[list[CalendarCell]]:
    """Weeks (Monday first) covering the month, each day with its working-day status."""
    import calendar as pycal

    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    weeks = pycal.Calendar(firstweekday=0).monthdatescalendar(year, month)
    rows = {r.day: r for r in workcalendar.calendar_days(weeks[0][0], weeks[-1][-1])}
    return [[
        CalendarCell(day=d, in_month=d.month == month,
                     is_workday=rows[d].is_workday if d in rows else workcalendar.weekday_calendar(d), row=rows.get(d))
        for d in week
    ] for week in weeks]


def year_exceptions(actor, year: int) -> list[WorkCalendarDay]:
    """The calendar's exception rows of one year."""
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    return workcalendar.calendar_days(date(year, 1, 1), date(year, 12, 31))


def calendar_day(actor, day: date) -> WorkCalendarDay | None:
    """The calendar row of a day, or None when the weekday rule applies."""
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    return db.session.scalar(select(WorkCalendarDay).where(WorkCalendarDay.day == day))


def set_day(actor, day: date, *, is_workday: bool, name: str = "", version: int | None = None) -> WorkCalendarDay:
    """Mark a day as working day or day off; the domain's writer audits and marks it as edited by hand.

    ``version`` is the version of the day's row the admin saw, 0 when the day had
    no row (it followed the weekday rule); any other state now is a ``StaleEdit``,
    also when someone else saves the same day at the same moment. None skips the
    check (scripts and tests). Refused writes leave the session clean.
    """
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    name = _clean(name)
    if len(name) > CALENDAR_NAME_MAX:
        raise ValidationError({"name": _("At most %(n)d characters.", n=CALENDAR_NAME_MAX)})
    row = calendar_day(actor, day)
    if version is not None and (row.version if row is not None else 0) != version:
        raise StaleEdit()
    try:
        return workcalendar.set_calendar_day(actor, day, is_workday=is_workday, name=name,
                                             version=row.version if row is not None else None)
    except (StaleDataError, IntegrityError):  # saved (or created) by someone else since we read it
        db.session.rollback()
        raise StaleEdit() from None


def day_state(actor, day: date) -> tuple[bool, str, int]:
    """(is a working day, holiday name, version) of a day as stored now; version 0 = no row (weekday rule)."""
    row = calendar_day(actor, day)
    if row is None:
        return workcalendar.weekday_calendar(day), "", 0
    return row.is_workday, row.name, row.version


def year_runs(actor, year: int) -> list[dict]:
    """A year's exception days merged into runs: 国庆节 10-01 – 10-08 (8 days), with "edited by hand" flags."""
    runs: list[dict] = []
    for row in year_exceptions(actor, year):
        last = runs[-1] if runs else None
        if (last and last["is_workday"] == row.is_workday and last["name"] == row.name
                and last["end"] + timedelta(days=1) == row.day):
            last["end"] = row.day
            last["days"] += 1
            last["admin"] = last["admin"] or row.source != "chinesecalendar"
        else:
            runs.append({"start": row.day, "end": row.day, "days": 1, "is_workday": row.is_workday,
                         "name": row.name, "admin": row.source != "chinesecalendar"})
    return runs


def package_years() -> tuple[int, int] | None:
    """The years the chinesecalendar package covers, or None if it is not installed."""
    try:
        return workcalendar.package_years()
    except ImportError:
        return None


def load_year(actor, year: int) -> dict[str, int]:
    """(Re)load a year's holidays and make-up workdays from chinesecalendar.

    Days an admin edited by hand are kept (the loader skips rows whose source
    is not the package). Returns the loader's counts and audits them.
    """
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    years = package_years()
    if years is None:
        raise ValidationError({"year": _("The chinesecalendar package is not installed on the server.")})
    first, last = years
    if not first <= year <= last:
        raise ValidationError({"year": _("The chinesecalendar package covers %(a)d–%(b)d only; enter %(y)d's days by hand.",
                                         a=first, b=last, y=year)})
    counts = workcalendar.seed_calendar({year})
    record(actor, "calendar.load", "work_calendar", None, summary=str(year), after={"calendar_year": year, **{f"days_{k}": v for k, v in counts.items()}})
    db.session.commit()
    return counts


# --------------------------------------------------------------------------- ordering (reasons, canned replies)


def _move(rows: list, row, direction: str) -> list[tuple[object, int, int]]:
    """Move ``row`` one place up or down within ``rows`` (already in display order).

    Renumbers the group 10, 20, 30 ... and returns (row, old, new) for each changed row.
    """
    if direction not in ("up", "down"):
        raise ValidationError({"direction": _("Unknown direction.")})
    index = next(i for i, r in enumerate(rows) if r.id == row.id)
    target = index - 1 if direction == "up" else index + 1
    if target < 0 or target >= len(rows):
        return []
    rows = list(rows)
    rows[index], rows[target] = rows[target], rows[index]
    changed = []
    for position, item in enumerate(rows, start=1):
        new = position * 10
        if item.sort_order != new:
            changed.append((item, item.sort_order, new))
            item.sort_order = new
    return changed


# --------------------------------------------------------------------------- reasons


def reasons_by_category(actor=None, *, include_inactive: bool = True) -> dict[str, list[TicketReason]]:
    """{category: [reasons in display order]} for all four categories."""
    if actor is not None:
        ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    query = select(TicketReason).order_by(TicketReason.sort_order, TicketReason.id)
    if not include_inactive:
        query = query.where(TicketReason.is_active.is_(True))
    grouped: dict[str, list[TicketReason]] = {code: [] for code in CATEGORY_CODES}
    for reason in db.session.scalars(query):
        grouped.setdefault(reason.category, []).append(reason)
    return grouped


def _reason_summary(reason: TicketReason) -> str:
    from ..labels import label

    return f"{label('category', reason.category)} · {reason.name}"


def _category_reasons(category: str) -> list[TicketReason]:
    return list(db.session.scalars(
        select(TicketReason).where(TicketReason.category == category)
        .order_by(TicketReason.sort_order, TicketReason.id)
    ))


def reason_position(reason: TicketReason) -> tuple[int, int]:
    """(1-based place of ``reason`` in its category's list, length of that list): the # column and up/down buttons."""
    ids = [r.id for r in _category_reasons(reason.category)]
    return (ids.index(reason.id) + 1 if reason.id in ids else 1), len(ids)


def reason_usage(reason_ids: list[int]) -> dict[int, dict[str, int]]:
    """{reason id: {"tickets": n, "rules": n}} for the given reasons (one query each)."""
    usage = {rid: {"tickets": 0, "rules": 0} for rid in reason_ids}
    if not reason_ids:
        return usage
    for rid, n in db.session.execute(
        select(Ticket.reason_id, func.count()).where(Ticket.reason_id.in_(reason_ids)).group_by(Ticket.reason_id)
    ):
        usage[rid]["tickets"] = n
    for rid, n in db.session.execute(
        select(DeadlineRule.reason_id, func.count()).where(DeadlineRule.reason_id.in_(reason_ids))
        .group_by(DeadlineRule.reason_id)
    ):
        usage[rid]["rules"] = n
    return usage


def _reason_name(category: str, name: str, exclude_id: int | None = None) -> str:
    name = _clean(name)
    if not name:
        raise ValidationError({"name": _("Enter a reason.")})
    if len(name) > REASON_NAME_MAX:
        raise ValidationError({"name": _("At most %(n)d characters.", n=REASON_NAME_MAX)})
    query = select(TicketReason).where(TicketReason.category == category, func.lower(TicketReason.name) == name.lower())
    if exclude_id is not None:
        query = query.where(TicketReason.id != exclude_id)
    if db.session.scalar(query.limit(1)) is not None:
        raise ValidationError({"name": _("This category already has the reason %(name)s.", name=name)})
    return name


def create_reason(actor, *, category: str, name: str) -> TicketReason:
    """A new active reason at the end of its category's list."""
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    if category not in CATEGORY_CODES:
        raise ValidationError({"category": _("Choose a category.")})
    name = _reason_name(category, name)
    last = db.session.scalar(select(func.max(TicketReason.sort_order)).where(TicketReason.category == category)) or 0
    reason = TicketReason(category=category, name=name, is_active=True, sort_order=(last // 10 + 1) * 10)
    db.session.add(reason)
    db.session.flush()
    record(actor, "ticket_reason.create", "ticket_reason", reason.id, summary=_reason_summary(reason),
           after=snapshot(reason, REASON_FIELDS))
    db.session.commit()
    return reason


def rename_reason(actor, reason: TicketReason, *, name: str, version: int) -> TicketReason:
    """Rename a reason; tickets show the new name (they refer to the reason, not its text)."""
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    _check_version(reason, version)
    name = _reason_name(reason.category, name, exclude_id=reason.id)
    if name == reason.name:
        return reason
    before = snapshot(reason, REASON_FIELDS)
    reason.name = name
    record(actor, "ticket_reason.update", "ticket_reason", reason.id, summary=_reason_summary(reason),
           before=before, after=snapshot(reason, REASON_FIELDS))
    db.session.commit()
    return reason


def move_reason(actor, reason: TicketReason, direction: str) -> TicketReason:
    """Move a reason up or down its category's list (audited)."""
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    for item, old, new in _move(_category_reasons(reason.category), reason, direction):
        record(actor, "ticket_reason.reorder", "ticket_reason", item.id, summary=_reason_summary(item),
               before={"sort_order": old}, after={"sort_order": new})
    db.session.commit()
    return reason


def set_reason_active(actor, reason: TicketReason, active: bool) -> TicketReason:
    """Deactivated reasons are no longer offered for new tickets; existing tickets keep them."""
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    if record_active_change(actor, reason, active, "ticket_reason", _reason_summary(reason)):
        db.session.commit()
    return reason


def delete_reason(actor, reason: TicketReason) -> None:
    """Delete a reason no ticket and no deadline rule uses; otherwise it can only be deactivated."""
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    usage = reason_usage([reason.id])[reason.id]
    if usage["tickets"]:
        raise ValidationError({"reason": _("%(name)s is used by %(n)d tickets and cannot be deleted; deactivate it instead.",
                                           name=reason.name, n=usage["tickets"])})
    if usage["rules"]:
        raise ValidationError({"reason": _("%(name)s is used by %(n)d deadline rules; change or deactivate those rules first, or deactivate the reason.",
                                           name=reason.name, n=usage["rules"])})
    record(actor, "ticket_reason.delete", "ticket_reason", reason.id, summary=_reason_summary(reason),
           before=snapshot(reason, REASON_FIELDS))
    db.session.delete(reason)
    db.session.commit()


# --------------------------------------------------------------------------- canned replies


def list_canned(actor, *, category: str = "", q: str = "", active: str = "") -> list[CannedReply]:
    """Canned replies; ``category`` "" all, "all" those for every category, else one category
    (its own and the ones for every category); each with its reason, read in the same statement."""
    ensure(actor, Permission.MANAGE_CANNED_REPLIES)
    query = select(CannedReply).options(joinedload(CannedReply.reason))
    if category == "all":
        query = query.where(CannedReply.category.is_(None))
    elif category:
        query = query.where(CannedReply.category == category)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(CannedReply.title.ilike(like), CannedReply.body.ilike(like)))
    if active == "1":
        query = query.where(CannedReply.is_active.is_(True))
    elif active == "0":
        query = query.where(CannedReply.is_active.is_(False))
    replies = list(db.session.scalars(query))
    order = {None: -1} | {code: i for i, code in enumerate(CATEGORY_CODES)}
    replies.sort(key=lambda r: (order.get(r.category, 99), r.sort_order, r.id))
    return replies


def _canned_group(category: str | None) -> list[CannedReply]:
    query = select(CannedReply).where(
        CannedReply.category.is_(None) if category is None else CannedReply.category == category
    )
    return list(db.session.scalars(query.order_by(CannedReply.sort_order, CannedReply.id)))


def canned_positions() -> dict[int, tuple[bool, bool]]:
    """{reply id: (first in its group, last in its group)} for the up/down buttons."""
    groups: dict = {}
    for reply_id, category in db.session.execute(
        select(CannedReply.id, CannedReply.category).order_by(CannedReply.sort_order, CannedReply.id)
    ):
        groups.setdefault(category, []).append(reply_id)
    positions = {}
    for ids in groups.values():
        for i, reply_id in enumerate(ids):
            positions[reply_id] = (i == 0, i == len(ids) - 1)
    return positions


def _canned_values(*, category, title, body, reason_id=None) -> dict:
    errors = {}
    category = category or None
    if category is not None and category not in CATEGORY_CODES:
        errors["category"] = _("Choose a category.")
    reason = None
    if reason_id not in (None, "", 0, "0"):
        try:
            reason = db.session.get(TicketReason, int(reason_id))
        except (TypeError, ValueError, OverflowError):
            reason = None
        if reason is None or (category is not None and reason.category != category):
            errors["reason_id"] = _("Choose a reason of this category.")
        elif category is None:
            category = reason.category  # a reply for one reason belongs to its category
    title = _clean(title)
    body = (body or "").strip().replace("\r\n", "\n")
    if not title:
        errors["title"] = _("Enter a title.")
    elif len(title) > CANNED_TITLE_MAX:
        errors["title"] = _("At most %(n)d characters.", n=CANNED_TITLE_MAX)
    if not body:
        errors["body"] = _("Enter the text of the reply.")
    elif len(body) > CANNED_BODY_MAX:
        errors["body"] = _("At most %(n)d characters.", n=CANNED_BODY_MAX)
    if errors:
        raise ValidationError(errors)
    return {"category": category, "reason_id": reason.id if reason else None, "title": title, "body": body}


def create_canned(actor, *, category: str | None, title: str, body: str, reason_id=None) -> CannedReply:
    """A new active canned reply at the end of its category's list (``reason_id``: only for that reason)."""
    ensure(actor, Permission.MANAGE_CANNED_REPLIES)
    values = _canned_values(category=category, title=title, body=body, reason_id=reason_id)
    group = _canned_group(values["category"])
    last = max((r.sort_order for r in group), default=0)
    reply = CannedReply(is_active=True, sort_order=(last // 10 + 1) * 10, **values)
    db.session.add(reply)
    db.session.flush()
    record(actor, "canned_reply.create", "canned_reply", reply.id, summary=reply.title,
           after=snapshot(reply, CANNED_FIELDS))
    db.session.commit()
    return reply


def update_canned(actor, reply: CannedReply, *, version: int, category: str | None, title: str,
                  body: str, reason_id=None) -> CannedReply:
    """Change a canned reply (audited; stale ``version`` → StaleEdit)."""
    ensure(actor, Permission.MANAGE_CANNED_REPLIES)
    _check_version(reply, version)
    values = _canned_values(category=category, title=title, body=body, reason_id=reason_id)
    before = snapshot(reply, CANNED_FIELDS)
    if values["category"] != reply.category:  # joins the end of its new group
        last = max((r.sort_order for r in _canned_group(values["category"])), default=0)
        reply.sort_order = (last // 10 + 1) * 10
    for key, value in values.items():
        setattr(reply, key, value)
    after = snapshot(reply, CANNED_FIELDS)
    if before != after:
        record(actor, "canned_reply.update", "canned_reply", reply.id, summary=reply.title, before=before, after=after)
    db.session.commit()
    return reply


def move_canned(actor, reply: CannedReply, direction: str) -> CannedReply:
    """Move a canned reply up or down its group (audited)."""
    ensure(actor, Permission.MANAGE_CANNED_REPLIES)
    for item, old, new in _move(_canned_group(reply.category), reply, direction):
        record(actor, "canned_reply.reorder", "canned_reply", item.id, summary=item.title,
               before={"sort_order": old}, after={"sort_order": new})
    db.session.commit()
    return reply


def set_canned_active(actor, reply: CannedReply, active: bool) -> CannedReply:
    """Activate or deactivate a canned reply (audited)."""
    ensure(actor, Permission.MANAGE_CANNED_REPLIES)
    if record_active_change(actor, reply, active, "canned_reply", reply.title):
        db.session.commit()
    return reply
