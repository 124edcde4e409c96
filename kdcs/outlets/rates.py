"""Outlet rates with a history: a rate per parcel (票) from a chosen month on.

The fee of a month is that month's parcels × the rate in force that month
(the entry with the latest ``month`` not after it; months before the first
entry take the first entry's rate), as a Decimal rounded to the fen once
(``service.monthly_fee``). A later change never touches earlier months.

Changing the rate from this month or a later one is an ordinary change
(``outlet.rate_change``); changing it from a month already past rewrites fees
already billed, so it is an explicit correction that needs a note
(``outlet.rate_correct``, the months whose fees change are in the audit row).
``Outlet.rate_per_parcel`` always mirrors the newest entry (the rate from now on),
for the list, the Excel export and forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..auditing import record, register_labels
from ..extensions import db
from ..models import Outlet, OutletRate, OutletVolume, User
from ..models.types import utcnow
from ..permissions import Permission, ensure
from ..service_errors import StaleEdit, ValidationError

NOTE_MAX = 200
SHANGHAI_TZ = "Asia/Shanghai"

register_labels(
    actions={
        "outlet.rate_change": _l("Outlet rate changed from a month on"),
        "outlet.rate_correct": _l("Outlet rate of past months corrected"),
    },
    fields={"rate": _l("Rate per parcel"), "month": _l("From month"), "months": _l("Months whose fee changes")},
)


def month_start(day: date) -> date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def this_month(now: datetime | None = None) -> date:
    """The current month (its first day) in Beijing time."""
    from zoneinfo import ZoneInfo

    now = (now or datetime.now(UTC)).astimezone(ZoneInfo(SHANGHAI_TZ))  # a UTC "now" counts in Beijing too
    return month_start(now.date())


def shift_month(first: date, months: int) -> date:
    """The first day of the month ``months`` after (or before) the month of ``first``."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_month(text) -> date | None:
    """2026-12, 2026-12-01, 2026/12 or 2026年12月 → date(2026, 12, 1); None when it is not a month."""
    match = re.fullmatch(r"\s*(\d{4})\s*[-/年.]\s*(\d{1,2})\s*(?:月|[-/.]\s*\d{1,2}\s*日?)?\s*", str(text or ""))
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def month_asked(text: str | None, now: datetime | None = None) -> tuple[date, str | None]:
    """(the month a page was asked for, a Chinese message or None): this month when none is given or
    the text is not a month (the message says so). 罚款 and 网点月报 read ``?month=`` with it."""
    from flask_babel import gettext

    current = this_month(now)
    if not text:
        return current, None
    month = parse_month(text)
    if month is None:
        return current, gettext("“%(text)s” is not a month: enter it as 2026-11. This month is shown.",
                                text=str(text)[:20])
    return month, None


def rate_entries(outlet_id: int, *, with_authors: bool = False) -> list[OutletRate]:
    """The outlet's history, oldest first; ``with_authors`` reads who entered each rate in the same
    statement (the outlet page names them: not one lookup per author)."""
    query = select(OutletRate).where(OutletRate.outlet_id == outlet_id).order_by(OutletRate.month)
    if with_authors:
        query = query.options(joinedload(OutletRate.created_by))
    return list(db.session.scalars(query))


def rate_at(entries: list[OutletRate], month: date, fallback: Decimal) -> Decimal:
    """The rate in force in ``month`` given the history (oldest first); ``fallback`` when there is none."""
    if not entries:
        return Decimal(fallback)
    found = entries[0].rate
    for entry in entries:
        if entry.month <= month:
            found = entry.rate
        else:
            break
    return found


def rate_in_force(outlet: Outlet, month: date) -> Decimal:
    """The rate ``outlet`` bills ``month`` at."""
    return rate_at(rate_entries(outlet.id), month_start(month), outlet.rate_per_parcel)


def rate_entries_many(outlet_ids: list[int]) -> dict[int, list]:
    """{outlet id: its history as rows of (outlet_id, month, rate), oldest first}, in one query (what
    ``rate_at`` reads)."""
    by_outlet: dict[int, list] = {}
    if not outlet_ids:
        return by_outlet
    for entry in db.session.execute(select(OutletRate.outlet_id, OutletRate.month, OutletRate.rate)
                                    .where(OutletRate.outlet_id.in_(outlet_ids))
                                    .order_by(OutletRate.outlet_id, OutletRate.month)):
        by_outlet.setdefault(entry.outlet_id, []).append(entry)
    return by_outlet


def rates_for_month(outlets: list[Outlet], month: date | None) -> dict[int, Decimal]:
    """{outlet id: rate in force in ``month``} for many outlets in one query."""
    if not outlets:
        return {}
    if month is None:
        return {o.id: o.rate_per_parcel for o in outlets}
    month = month_start(month)
    by_outlet = rate_entries_many([o.id for o in outlets])
    return {o.id: rate_at(by_outlet.get(o.id, []), month, o.rate_per_parcel) for o in outlets}


@dataclass
class RateLine:
    """One entry of the history as the outlet page shows it."""
    entry: OutletRate
    month: date
    until: date | None  # the last month at this rate; None while it is the newest
    rate: Decimal
    note: str
    created_by: User | None
    created_at: datetime
    current: bool  # in force this month


def rate_history(outlet: Outlet, today_month: date | None = None) -> list[RateLine]:
    """The outlet's rates, newest first, each with the months it covers and who entered it (one statement)."""
    today_month = today_month or this_month()
    entries = rate_entries(outlet.id, with_authors=True)
    current = None
    for entry in entries:
        if entry.month <= today_month:
            current = entry
    current = current or (entries[0] if entries else None)
    lines = []
    for index, entry in enumerate(entries):
        following = entries[index + 1].month if index + 1 < len(entries) else None
        until = None
        if following is not None:
            until = date(following.year - 1, 12, 1) if following.month == 1 else date(following.year, following.month - 1, 1)
        lines.append(RateLine(entry, entry.month, until, entry.rate, entry.note, entry.created_by, entry.created_at,
                              entry is current))
    return list(reversed(lines))


def _months_changing(outlet: Outlet, month: date, entries: list[OutletRate]) -> list[date]:
    """Months with volumes whose rate an entry at ``month`` decides (until the next entry)."""
    following = next((e.month for e in entries if e.month > month), None)
    query = select(OutletVolume.month).where(OutletVolume.outlet_id == outlet.id, OutletVolume.month >= month)
    if following is not None:
        query = query.where(OutletVolume.month < following)
    return list(db.session.scalars(query.order_by(OutletVolume.month)))


def put_rate(actor: User | None, outlet: Outlet, month: date, rate: Decimal, note: str = "") -> Decimal:
    """Write the entry for ``month`` (insert or change) and mirror the newest rate on the outlet; no audit, no commit.

    Returns the rate that was in force in ``month`` before. For the service
    functions of this package (``set_rate``, outlet edits and imports).
    """
    month = month_start(month)
    entries = rate_entries(outlet.id) if outlet.id else []
    before = rate_at(entries, month, outlet.rate_per_parcel)
    if not entries and before != rate:
        entries = [_base_entry(outlet, month)]  # the months billed so far keep the single rate
    entry = next((e for e in entries if e.month == month), None)
    if entry is None:
        entry = OutletRate(outlet_id=outlet.id, month=month, rate=rate, note=note,
                           created_by_id=actor.id if actor is not None else None)
        db.session.add(entry)
        entries = sorted([*entries, entry], key=lambda e: e.month)
    else:
        entry.rate, entry.note = rate, note or entry.note
        entry.created_by_id = actor.id if actor is not None else entry.created_by_id
    outlet.rate_per_parcel = entries[-1].rate
    outlet.updated_at = utcnow()  # bumps the outlet's version: a form loaded before this change is stale
    return before


def _base_entry(outlet: Outlet, month: date) -> OutletRate:
    """The first entry of an outlet without history: its single rate from its earliest month (as migration 0013 does)."""
    from sqlalchemy import func

    first_volume = db.session.scalar(select(func.min(OutletVolume.month)).where(OutletVolume.outlet_id == outlet.id))
    candidates = [month] + [d for d in (first_volume, outlet.created_at.date() if outlet.created_at else None) if d]
    entry = OutletRate(outlet_id=outlet.id, month=month_start(min(candidates)), rate=outlet.rate_per_parcel,
                       note=_("Rate before the history was kept"))
    db.session.add(entry)
    return entry


def later_entry(outlet: Outlet, month: date) -> OutletRate | None:
    """The first entry after ``month``, if a change is already scheduled."""
    return next((e for e in rate_entries(outlet.id) if e.month > month_start(month)), None)


def set_rate(actor: User, outlet: Outlet, *, month: date, rate, note: str = "", correction: bool = False,
             version=None, today_month: date | None = None) -> OutletRate:
    """Change the outlet's rate from ``month`` on (an explicit correction with a note when ``month`` is past).

    ``version`` is the outlet's version the form was loaded with (stale → ``StaleEdit``).
    A past ``month`` needs ``correction=True`` and a note (the admin says so explicitly).
    Months before ``month`` keep their rate; months from ``month`` until the next
    entry take the new one. Audited as ``outlet.rate_change`` or
    ``outlet.rate_correct`` (with the months whose fee changes); commits.
    """
    from .service import parse_rate

    ensure(actor, Permission.MANAGE_OUTLETS)
    if version is not None:
        try:
            if int(version) != outlet.version:
                raise StaleEdit()
        except (TypeError, ValueError):
            raise StaleEdit() from None
    errors: dict[str, str] = {}
    try:
        rate = parse_rate(rate)
    except ValueError as exc:
        errors["rate"] = str(exc)
    if not isinstance(month, date):
        errors["month"] = _("Choose the month the rate applies from, such as 2027-01.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = _("At most %(n)d characters.", n=NOTE_MAX)
    today_month = today_month or this_month()
    if correction_needed := (isinstance(month, date) and month_start(month) < today_month):
        if not correction:
            errors["correction"] = _("%(m)s is already past: tick the correction box to change fees already billed.",
                                     m=f"{month:%Y-%m}")
    correction = correction_needed
    if correction and not note and "note" not in errors:
        errors["note"] = _("Changing the rate of a month already past is a correction of fees already billed: "
                           "say why in the note.")
    if errors:
        raise ValidationError(errors)
    month = month_start(month)
    entries = rate_entries(outlet.id)
    if rate_at(entries, month, outlet.rate_per_parcel) == rate and not any(e.month == month for e in entries):
        raise ValidationError({"rate": _("The rate in force from %(m)s is already %(r)s.",
                                         m=f"{month:%Y-%m}", r=f"{rate:.4f}")})
    months = _months_changing(outlet, month, entries)
    before = put_rate(actor, outlet, month, rate, note)
    db.session.flush()
    action = "outlet.rate_correct" if correction else "outlet.rate_change"
    record(actor, action, "outlet", outlet.id,
           summary=_("%(code)s from %(m)s: %(a)s → %(b)s", code=outlet.code, m=f"{month:%Y-%m}",
                     a=f"{before:.4f}", b=f"{rate:.4f}"),
           before={"rate": f"{before:.4f}"},
           after={"rate": f"{rate:.4f}", "month": f"{month:%Y-%m}", "note": note,
                  "months": [f"{m:%Y-%m}" for m in months]})
    db.session.commit()
    return next(e for e in rate_entries(outlet.id) if e.month == month)
