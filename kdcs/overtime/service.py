"""Overtime (加班): an agent records the hours they worked beyond the schedule for one of their
outlets on a day (双十一高峰, 节假日值班, an outlet's request), their lead approves or rejects it, and the
approved hours are billed to the outlet at the rate agreed with it ("Overtime is billed to the
outlet at an agreed rate"). An approved entry keeps the rate of the day it was approved.

Rules (plain functions, unit-tested): a day in the last ``MAX_DAYS_BACK`` days and not in the future
(Beijing dates); whole half hours from 0.5 to 12, at most 12 a day across outlets; one open entry per
person, outlet and day; a reason. Leads decide their team's entries, admins everyone's, nobody their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select, true
from sqlalchemy.orm import joinedload

from .. import auditing
from ..extensions import db
from ..models import Outlet, OvertimeEntry, OvertimeStatus, Role, Team, User, utcnow
from ..notifications.service import notify
from ..outlets.rates import shift_month
from ..outlets.service import visible_outlets_query
from ..permissions import Permission, PermissionDenied, ensure, has_permission
from ..service_errors import NotFound, StaleEdit, ValidationError
from ..workcalendar import SHANGHAI

auditing.register_labels(
    actions={
        "overtime.record": _l("Overtime recorded"),
        "overtime.approve": _l("Overtime approved"),
        "overtime.reject": _l("Overtime rejected"),
        "overtime.withdraw": _l("Overtime withdrawn"),
    },
    entities={"overtime": _l("Overtime")},
)

MAX_DAYS_BACK = 62  # about two months: last month is still open for the bill
MAX_MINUTES_A_DAY = 12 * 60
OPEN = (OvertimeStatus.SUBMITTED, OvertimeStatus.APPROVED)  # what counts against the day's limit


def parse_hours(text: str | None) -> int | None:
    """"2", "2.5", "２.５" or "2.5小时" → minutes (whole half hours from 0.5 to 12 hours); None otherwise."""
    cleaned = (text or "").strip().translate(str.maketrans("０１２３４５６７８９．", "0123456789.")).removesuffix("小时")
    try:
        hours = Decimal(cleaned.strip())
    except InvalidOperation:
        return None
    if not hours.is_finite() or hours <= 0 or hours > 12 or (hours * 2) % 1 != 0:
        return None
    return int(hours * 60)


def day_problem(day: date | None, today: date) -> str | None:
    """Why ``day`` cannot take overtime, None when it can (today or within the last days)."""
    if day is None:
        return _("Enter the day as 2026-11-30.")
    if day > today:
        return _("Overtime is recorded after it was worked: the day cannot be in the future.")
    if day < today - timedelta(days=MAX_DAYS_BACK):
        return _("Overtime older than %(n)d days cannot be recorded any more: ask your lead.", n=MAX_DAYS_BACK)
    return None


def _noon(day: date) -> datetime:
    """Noon of a Beijing day, in UTC: the instant a day's coverage is asked at."""
    return datetime.combine(day, time(12, 0), tzinfo=SHANGHAI).astimezone(UTC)


def recordable_outlets(user: User, day: date | None = None, only: int | None = None) -> list[Outlet]:
    """The active outlets ``user`` may record overtime for: an agent's own, a lead's team's (all for
    admins), and the ones they cover for a colleague on leave (代班) on ``day`` (today when None);
    just ``only`` when given (is that one of them?)."""
    if not has_permission(user, Permission.RECORD_OVERTIME):
        return []
    from ..leave.coverage import covered_outlet_ids

    covered = covered_outlet_ids(user, _noon(day) if day else None)
    return list(db.session.scalars(
        select(Outlet).where(Outlet.is_active.is_(True),
                             or_(Outlet.id.in_(visible_outlets_query(user).with_only_columns(Outlet.id)),
                                 Outlet.id.in_(covered)),
                             true() if only is None else Outlet.id == only)
        .options(joinedload(Outlet.brand)).order_by(Outlet.code)))


def record(actor: User, *, outlet_id: int | None, day: date | None, hours: str, note: str, today: date) -> OvertimeEntry:
    """Record the actor's overtime for one of their outlets, waiting for their lead (who is told).
    Raises ValidationError with a Chinese message per field. Commits."""
    ensure(actor, Permission.RECORD_OVERTIME)
    errors: dict[str, str] = {}
    outlet = None
    problem = day_problem(day, today)
    if outlet_id:  # one's own, or one covered for a colleague on leave that day
        outlet = next(iter(recordable_outlets(actor, None if problem else day, only=outlet_id)), None)
    if outlet is None:
        errors["outlet_id"] = _("Choose one of your outlets.")
    if problem:
        errors["work_date"] = problem
    minutes = parse_hours(hours)
    if minutes is None:
        errors["hours"] = _("Enter the hours in half hours from 0.5 to 12, e.g. 2.5.")
    note = " ".join((note or "").split())
    if not note:
        errors["note"] = _("Say why: the peak, the holiday duty, the outlet's request …")
    elif len(note) > 200:
        errors["note"] = _("At most 200 characters.")
    if not errors:
        same_day = db.session.execute(
            select(func.coalesce(func.sum(OvertimeEntry.minutes), 0),
                   func.sum(case((OvertimeEntry.outlet_id == outlet.id, 1), else_=0)))
            .where(OvertimeEntry.user_id == actor.id, OvertimeEntry.work_date == day,
                   OvertimeEntry.status.in_(OPEN))).one()
        if same_day[1]:
            errors["work_date"] = _("You already recorded overtime for this outlet on that day: withdraw it to change it.")
        elif same_day[0] + minutes > MAX_MINUTES_A_DAY:
            errors["hours"] = _("%(h)s hours are recorded for that day already; a day takes at most 12.",
                                h=format_hours(int(same_day[0])))
    if errors:
        raise ValidationError(errors)
    entry = OvertimeEntry(user_id=actor.id, outlet_id=outlet.id, work_date=day, minutes=minutes, note=note,
                          status=OvertimeStatus.SUBMITTED)
    db.session.add(entry)
    db.session.flush()
    auditing.record(actor, "overtime.record", "overtime", entry.id,
                    f"{outlet.code} {day:%Y-%m-%d} {format_hours(minutes)}h")
    title = _("Overtime to approve: %(name)s, %(outlet)s, %(day)s, %(h)s hours", name=actor.display_name,
              outlet=outlet.name, day=f"{day:%m-%d}", h=format_hours(minutes))
    for approver in approvers_of(actor):
        notify(approver, "overtime", title, note, link=f"/overtime/?month={day:%Y-%m}")
    db.session.commit()
    return entry


def approvers_of(person: User) -> list[User]:
    """Who is told of ``person``'s overtime: their team's lead, or the admins when there is none
    (and for a lead's own)."""
    if person.role == Role.AGENT and person.team_id:
        lead = db.session.scalar(select(User).join(Team, Team.lead_id == User.id)
                                 .where(Team.id == person.team_id, User.is_active_account.is_(True)))
        if lead is not None and lead.id != person.id:
            return [lead]
    return list(db.session.scalars(select(User).where(User.role == Role.ADMIN, User.is_active_account.is_(True),
                                                      User.id != person.id)))


def can_decide(actor: User, entry: OvertimeEntry) -> bool:
    """Admins decide anyone's, leads their team's agents'; nobody their own; only while it waits."""
    if entry.status != OvertimeStatus.SUBMITTED or entry.user_id == actor.id:
        return False
    if not has_permission(actor, Permission.APPROVE_OVERTIME):
        return False
    return actor.role == Role.ADMIN or (actor.team_id is not None and entry.user.team_id == actor.team_id
                                        and entry.user.role == Role.AGENT)


def waiting_count(actor: User) -> int:
    """How many entries wait for ``actor``'s decision (the lead's home says so): a lead's team's
    agents', an admin's everyone else's. One statement."""
    if not has_permission(actor, Permission.APPROVE_OVERTIME):
        return 0
    query = select(func.count(OvertimeEntry.id)).where(OvertimeEntry.status == OvertimeStatus.SUBMITTED,
                                                       OvertimeEntry.user_id != actor.id)
    if actor.role != Role.ADMIN:
        if actor.team_id is None:
            return 0
        query = query.where(OvertimeEntry.user_id.in_(
            select(User.id).where(User.team_id == actor.team_id, User.role == Role.AGENT)))
    return db.session.scalar(query) or 0


def _visible_entry(actor: User, entry_id: int) -> OvertimeEntry:
    entry = db.session.scalar(scope_query(actor).where(OvertimeEntry.id == entry_id))
    if entry is None:
        raise NotFound()
    return entry


def decide(actor: User, entry_id: int, *, version: int | None, approve: bool, note: str = "") -> OvertimeEntry:
    """Approve (billed at the outlet's agreed rate of today) or reject (with a reason) an entry
    waiting for ``actor``; the person is told. StaleEdit when it changed since it was shown. Commits."""
    entry = _visible_entry(actor, entry_id)
    if version is None or entry.version != version:  # the form shows what was decided on
        raise StaleEdit()
    if not can_decide(actor, entry):
        raise PermissionDenied(Permission.APPROVE_OVERTIME)
    note = " ".join((note or "").split())
    if not approve and not note:
        raise ValidationError({"decision_note": _("Say why it is rejected.")})
    if len(note) > 200:
        raise ValidationError({"decision_note": _("At most 200 characters.")})
    entry.status = OvertimeStatus.APPROVED if approve else OvertimeStatus.REJECTED
    entry.rate = entry.outlet.overtime_rate if approve else None
    entry.decided_by_id, entry.decided_at, entry.decision_note = actor.id, utcnow(), note
    auditing.record(actor, "overtime.approve" if approve else "overtime.reject", "overtime", entry.id,
                    f"{entry.user.username} {entry.outlet.code} {entry.work_date:%Y-%m-%d}")
    if approve:
        title = _("Overtime approved: %(outlet)s, %(day)s, %(h)s hours", outlet=entry.outlet.name,
                  day=f"{entry.work_date:%m-%d}", h=format_hours(entry.minutes))
    else:
        title = _("Overtime rejected: %(outlet)s, %(day)s", outlet=entry.outlet.name, day=f"{entry.work_date:%m-%d}")
    notify(entry.user_id, "overtime", title, note, link=f"/overtime/?month={entry.work_date:%Y-%m}")
    db.session.commit()
    return entry


def withdraw(actor: User, entry_id: int, *, version: int | None) -> OvertimeEntry:
    """Take back one's own entry while it waits for a decision. Commits."""
    entry = _visible_entry(actor, entry_id)
    if version is None or entry.version != version:
        raise StaleEdit()
    if entry.user_id != actor.id or entry.status != OvertimeStatus.SUBMITTED:
        raise PermissionDenied(Permission.RECORD_OVERTIME)
    entry.status = OvertimeStatus.WITHDRAWN
    auditing.record(actor, "overtime.withdraw", "overtime", entry.id, f"{entry.work_date:%Y-%m-%d}")
    db.session.commit()
    return entry


def scope_query(viewer: User):
    """The entries ``viewer`` may see: their own; a lead's team's too; an admin's all."""
    query = select(OvertimeEntry)
    if viewer.role == Role.ADMIN:
        return query
    if viewer.role == Role.LEAD and viewer.team_id is not None:
        team = select(User.id).where(User.team_id == viewer.team_id)
        return query.where(or_(OvertimeEntry.user_id == viewer.id, OvertimeEntry.user_id.in_(team)))
    if has_permission(viewer, Permission.RECORD_OVERTIME):
        return query.where(OvertimeEntry.user_id == viewer.id)
    return query.where(False)


@dataclass
class MonthOvertime:
    month: date
    entries: list[OvertimeEntry]
    waiting: int  # entries waiting for a decision
    approved_minutes: int
    fee: Decimal  # what the approved hours bill
    unpriced: int  # approved entries whose outlet had no agreed rate


def month_entries(viewer: User, month: date) -> MonthOvertime:
    """The month's entries ``viewer`` may see (by the day worked), waiting ones first, then newest
    day first, with the people, outlets and deciders in the same statement."""
    ensure(viewer, Permission.RECORD_OVERTIME)
    entries = list(db.session.scalars(
        scope_query(viewer)
        .where(OvertimeEntry.work_date >= month, OvertimeEntry.work_date < shift_month(month, 1))
        .options(joinedload(OvertimeEntry.user), joinedload(OvertimeEntry.outlet),
                 joinedload(OvertimeEntry.decided_by))
        .order_by(OvertimeEntry.status != OvertimeStatus.SUBMITTED, OvertimeEntry.work_date.desc(),
                  OvertimeEntry.id.desc())))
    approved = [e for e in entries if e.status == OvertimeStatus.APPROVED]
    return MonthOvertime(
        month=month, entries=entries, waiting=sum(e.status == OvertimeStatus.SUBMITTED for e in entries),
        approved_minutes=sum(e.minutes for e in approved),
        fee=sum((e.fee for e in approved if e.fee is not None), start=Decimal("0.00")),
        unpriced=sum(e.rate is None for e in approved))


def format_hours(minutes: int) -> str:
    """Minutes as hours the way people write them: 150 → "2.5", 120 → "2"."""
    hours = Decimal(minutes) / 60
    return f"{hours.normalize():f}" if hours == hours.to_integral() else f"{hours.quantize(Decimal('0.1'))}"
