"""Outlet rules: who may see which outlet, validation, edits, assignment, fees.

Plain functions, no request or response objects: the views, the Excel import
and the CLI all go through here. Every change checks the actor's permission
and writes an audit row in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from ..auditing import record, record_active_change, register_labels, snapshot
from ..extensions import db
from ..models import Brand, Outlet, OutletVolume, Role, User
from ..models.user import username_order
from ..notifications.service import notify
from ..permissions import Permission, ensure
from ..request_args import id_or_none
from ..service_errors import StaleEdit, ValidationError
from ..training.certification.gate import certified_filter, refusal_reason

OUTLET_AUDIT_FIELDS = [
    "code", "name", "brand_id", "region", "contact_name", "contact_phone",
    "rate_per_parcel", "overtime_rate", "notes", "is_active", "primary_agent_id",
]
# Fields an admin edits in the row / on the edit page (code is the match key of imports).
EDITABLE_FIELDS = ("name", "brand_id", "region", "contact_name", "contact_phone", "rate_per_parcel", "overtime_rate",
                   "notes")

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{2,32}$")
# Mainland mobile, landline with area code (optional extension), or a 400/800 number.
PHONE_PATTERN = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|[48]00-?\d{3}-?\d{4})$")
MAX_RATE = Decimal("1")
RATE_QUANTUM = Decimal("0.0001")
LENGTHS = {"name": 64, "region": 64, "contact_name": 32, "contact_phone": 32, "notes": 500}


def _register_labels() -> None:
    register_labels(
        actions={
            "outlet.create": _l("Outlet created"),
            "outlet.update": _l("Outlet changed"),
            "outlet.activate": _l("Outlet activated"),
            "outlet.deactivate": _l("Outlet deactivated"),
            "outlet.assign": _l("Primary agent assigned"),
            "outlet.import": _l("Outlets imported"),
        },
        fields={
            "brand_id": _l("Brand"),
            "region": _l("Region"),
            "contact_name": _l("Contact"),
            "contact_phone": _l("Contact phone"),
            "rate_per_parcel": _l("Rate per parcel"),
            "overtime_rate": _l("Overtime rate (¥/hour)"),
            "primary_agent_id": _l("Primary agent"),
            "notes": _l("Notes"),
        },
        entities={"outlet": _l("Outlet")},
    )


_register_labels()


# --------------------------------------------------------------------------- scope


def visible_outlets_query(user: User) -> Select:
    """Outlets in the user's scope: admin all, lead their team's, agent their own, else none."""
    query = select(Outlet)
    if user.role == Role.ADMIN:
        return query
    if user.role == Role.LEAD:
        if user.team_id is None:
            return query.where(False)
        team_agents = select(User.id).where(User.team_id == user.team_id)
        return query.where(Outlet.primary_agent_id.in_(team_agents))
    if user.role == Role.AGENT:
        return query.where(Outlet.primary_agent_id == user.id)
    return query.where(False)


def can_view_outlet(user: User, outlet_id: int) -> bool:
    """True when the outlet is within the user's scope."""
    subquery = visible_outlets_query(user).where(Outlet.id == outlet_id).with_only_columns(Outlet.id)
    return db.session.scalar(subquery) is not None


def get_visible_outlet(user: User, outlet_id: int) -> Outlet | None:
    """The outlet if the user may see it; None otherwise (the view answers 404)."""
    ensure(user, Permission.VIEW_OUTLETS)
    return db.session.scalar(
        visible_outlets_query(user)
        .where(Outlet.id == outlet_id)
        .options(joinedload(Outlet.brand), joinedload(Outlet.primary_agent))
    )


def my_outlets(user: User) -> list[Outlet]:
    """The outlets the user may see, active first, by code."""
    ensure(user, Permission.VIEW_OUTLETS)
    return list(db.session.scalars(
        visible_outlets_query(user)
        .options(joinedload(Outlet.brand), joinedload(Outlet.primary_agent))
        .order_by(Outlet.is_active.desc(), Outlet.code)
    ))


# --------------------------------------------------------------------------- money


def monthly_fee(parcels: int, rate: Decimal) -> Decimal:
    """Service fee for a month: parcels × rate, rounded to the fen."""
    return (Decimal(parcels) * Decimal(rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def latest_month() -> date | None:
    """The newest month with parcel volumes, or None."""
    return db.session.scalar(select(func.max(OutletVolume.month)))


def volumes_by_outlet(outlet_ids: list[int], month: date | None) -> dict[int, int]:
    """Total parcels per outlet for one month, in one query."""
    if not outlet_ids or month is None:
        return {}
    rows = db.session.execute(
        select(
            OutletVolume.outlet_id,
            OutletVolume.inbound_parcels + OutletVolume.outbound_parcels,
        ).where(OutletVolume.outlet_id.in_(outlet_ids), OutletVolume.month == month)
    )
    return {outlet_id: int(total) for outlet_id, total in rows}


@dataclass
class VolumeLine:
    month: date
    inbound: int
    outbound: int
    total: int
    rate: Decimal  # the rate in force that month
    fee: Decimal


def volume_lines(outlet: Outlet) -> list[VolumeLine]:
    """The outlet's recorded months, newest first, each billed at the rate in force that month."""
    from .rates import rate_at, rate_entries

    entries = rate_entries(outlet.id)
    volumes = db.session.scalars(
        select(OutletVolume).where(OutletVolume.outlet_id == outlet.id).order_by(OutletVolume.month.desc())
    )
    lines = []
    for v in volumes:
        rate = rate_at(entries, v.month, outlet.rate_per_parcel)
        lines.append(VolumeLine(v.month, v.inbound_parcels, v.outbound_parcels, v.total_parcels, rate,
                                monthly_fee(v.total_parcels, rate)))
    return lines


def fees_for_month(outlets: list[Outlet], month: date | None) -> dict[int, tuple[int, Decimal, Decimal]]:
    """{outlet id: (parcels, rate in force, fee)} of one month for many outlets (two queries)."""
    from .rates import rates_for_month

    volumes = volumes_by_outlet([o.id for o in outlets], month)
    rates = rates_for_month(outlets, month)
    return {o.id: (volumes.get(o.id, 0), rates[o.id], monthly_fee(volumes.get(o.id, 0), rates[o.id]))
            for o in outlets}


def parse_rate(value) -> Decimal:
    """A per-parcel rate as an exact Decimal: positive, at most 1 元, at most 4 decimals.

    Accepts str, int, Decimal, and the floats Excel hands back (via their shortest
    repr, so 0.025 stays 0.025). Raises ValueError with a message for the user.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(_("Enter the rate per parcel."))
    if isinstance(value, bool):
        raise ValueError(_("The rate must be a number such as 0.025."))
    text = repr(value) if isinstance(value, float) else str(value)
    text = text.strip().replace("，", ".").replace("元", "").replace("¥", "").replace("￥", "").strip()
    try:
        rate = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("The rate must be a number such as 0.025.")) from None
    if not rate.is_finite():
        raise ValueError(_("The rate must be a number such as 0.025."))
    if rate <= 0:
        raise ValueError(_("The rate must be greater than 0."))
    if rate > MAX_RATE:
        raise ValueError(_("The rate is per parcel and cannot exceed 1 yuan."))
    if rate != rate.quantize(RATE_QUANTUM):
        raise ValueError(_("The rate can have at most 4 decimal places."))
    return rate.quantize(RATE_QUANTUM)


MAX_OVERTIME_RATE = Decimal("1000")


def parse_overtime_rate(value) -> Decimal | None:
    """The overtime rate agreed with an outlet (元/小时): empty for none agreed, else more than 0,
    at most 1,000, at most 2 decimals. Raises ValueError with a message for the user."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(_("The overtime rate must be an amount per hour such as 35 or 42.50."))
    text = repr(value) if isinstance(value, float) else str(value)  # Excel's 42.45 stays 42.45
    text = text.strip().replace("，", ".").replace("元", "").replace("/小时", "").replace("¥", "")
    text = text.replace("￥", "").strip()
    try:
        rate = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("The overtime rate must be an amount per hour such as 35 or 42.50.")) from None
    if not rate.is_finite() or rate <= 0 or rate > MAX_OVERTIME_RATE:
        raise ValueError(_("The overtime rate must be more than 0 and at most 1,000 yuan an hour."))
    if rate != rate.quantize(Decimal("0.01")):
        raise ValueError(_("The overtime rate can have at most 2 decimal places."))
    return rate.quantize(Decimal("0.01"))


def normalize_phone(value: str | None) -> str:
    """A phone number without spaces or brackets, with ASCII dashes."""
    return re.sub(r"[\s（）()]", "", (value or "")).replace("—", "-").replace("－", "-")


def phone_problem(value: str) -> str | None:
    """The Chinese message for a malformed phone number, or None."""
    if value and not PHONE_PATTERN.match(value):
        return _("Enter a mobile number (11 digits) or a landline such as 0571-88886666.")
    return None


# --------------------------------------------------------------------------- choices


def active_brands() -> list[Brand]:
    """Active brands by code (choices in forms and filters)."""
    return list(db.session.scalars(select(Brand).where(Brand.is_active.is_(True)).order_by(Brand.code)))


def all_brands() -> list[Brand]:
    """Every brand by code, active or not."""
    return list(db.session.scalars(select(Brand).order_by(Brand.code)))


def assignable_agents() -> list[User]:
    """Only active, certified (上岗) users with the agent role may be primary agents."""
    return list(db.session.scalars(certified_filter(
        select(User)
        .options(joinedload(User.team))
        .where(User.role == Role.AGENT, User.is_active_account.is_(True))
        .order_by(*username_order())
    )))


def agents_with_outlets() -> list[User]:
    """Everyone who is some outlet's primary agent (for the list filter), active or not."""
    return list(db.session.scalars(
        select(User).where(User.id.in_(select(Outlet.primary_agent_id))).order_by(*username_order())
    ))


def agent_problem(user: User | None) -> str | None:
    """Why this user cannot be a primary agent, or None if they can."""
    if user is None:
        return _("Unknown user.")
    if user.role != Role.AGENT:
        return _("%(u)s is not an agent.", u=user.username)
    if not user.is_active:
        return _("%(u)s is deactivated.", u=user.username)
    return refusal_reason(user)  # 上岗: not certified, naming the missing course(s)


# --------------------------------------------------------------------------- search


@dataclass
class OutletFilter:
    text: str = ""
    brand_id: int | None = None
    active: str = ""  # "", "1", "0"
    agent: str = ""  # "", a user id, or "none" for unassigned


def search_outlets(actor: User, f: OutletFilter) -> Select:
    """The admin outlet list query: text, brand, agent and status filters, by code."""
    ensure(actor, Permission.MANAGE_OUTLETS)
    query = select(Outlet).options(joinedload(Outlet.brand), joinedload(Outlet.primary_agent)).order_by(Outlet.code)
    if f.text.strip():
        like = f"%{f.text.strip()}%"
        query = query.where(or_(
            Outlet.code.ilike(like), Outlet.name.ilike(like), Outlet.region.ilike(like),
            Outlet.contact_name.ilike(like),
        ))
    if f.brand_id:
        query = query.where(Outlet.brand_id == f.brand_id)
    if f.active == "1":
        query = query.where(Outlet.is_active.is_(True))
    elif f.active == "0":
        query = query.where(Outlet.is_active.is_(False))
    if f.agent == "none":
        query = query.where(Outlet.primary_agent_id.is_(None))
    elif id_or_none(f.agent):
        query = query.where(Outlet.primary_agent_id == id_or_none(f.agent))
    return query


# --------------------------------------------------------------------------- validation


def clean_outlet_fields(data: dict, *, outlet: Outlet | None = None) -> tuple[dict, dict[str, str]]:
    """Check and normalize outlet fields; returns (clean values, errors by field).

    ``data`` holds any of: code, name, brand_id, region, contact_name,
    contact_phone, rate_per_parcel, notes. ``outlet`` is the record being
    updated (its own code does not count as a duplicate).
    """
    clean: dict = {}
    errors: dict[str, str] = {}
    if "code" in data:
        code = (data["code"] or "").strip()
        if not code:
            errors["code"] = _("Enter the outlet code.")
        elif not CODE_PATTERN.match(code):
            errors["code"] = _("The outlet code is 2–32 letters, digits, dashes or underscores.")
        else:
            existing = db.session.scalar(select(Outlet.id).where(func.lower(Outlet.code) == code.lower()))
            if existing is not None and (outlet is None or existing != outlet.id):
                errors["code"] = _("Outlet code %(c)s is already used by another outlet.", c=code)
        clean["code"] = code
    if "name" in data:
        name = (data["name"] or "").strip()
        if not name:
            errors["name"] = _("Enter the outlet name.")
        clean["name"] = name
    if "brand_id" in data:
        brand = db.session.get(Brand, data["brand_id"]) if data["brand_id"] else None
        if brand is None:
            errors["brand_id"] = _("Choose a brand.")
        clean["brand_id"] = brand.id if brand else None
    for key in ("region", "contact_name", "notes"):
        if key in data:
            clean[key] = (data[key] or "").strip()
    if "contact_phone" in data:
        phone = normalize_phone(data["contact_phone"])
        problem = phone_problem(phone)
        if problem:
            errors["contact_phone"] = problem
        clean["contact_phone"] = phone
    if "rate_per_parcel" in data:
        try:
            clean["rate_per_parcel"] = parse_rate(data["rate_per_parcel"])
        except ValueError as exc:
            errors["rate_per_parcel"] = str(exc)
    if "overtime_rate" in data:
        try:
            clean["overtime_rate"] = parse_overtime_rate(data["overtime_rate"])
        except ValueError as exc:
            errors["overtime_rate"] = str(exc)
    for key, limit in LENGTHS.items():
        if key in clean and key not in errors and len(clean[key]) > limit:
            errors[key] = _("At most %(n)d characters.", n=limit)
    return clean, errors


def _summary(outlet: Outlet) -> str:
    return f"{outlet.code} {outlet.name}"


def _notify_assigned(outlet: Outlet, agent: User) -> None:
    notify(
        agent,
        "outlet_assigned",
        _("Outlet %(code)s %(name)s is now yours", code=outlet.code, name=outlet.name),
        _("You are now the primary agent of %(name)s (%(brand)s, %(region)s).",
          name=outlet.name, brand=outlet.brand.name if outlet.brand else "", region=outlet.region or "—"),
        f"/outlets/{outlet.id}",
    )


# --------------------------------------------------------------------------- changes


def create_outlet(actor: User, *, code: str, name: str, brand_id: int | None, region: str = "",
                  contact_name: str = "", contact_phone: str = "", rate_per_parcel="0.0250",
                  notes: str = "", primary_agent_id: int | None = None, overtime_rate="") -> Outlet:
    """Create an outlet; every field problem comes back at once as field errors."""
    ensure(actor, Permission.MANAGE_OUTLETS)
    clean, errors = clean_outlet_fields({
        "code": code, "name": name, "brand_id": brand_id, "region": region,
        "contact_name": contact_name, "contact_phone": contact_phone,
        "rate_per_parcel": rate_per_parcel, "overtime_rate": overtime_rate, "notes": notes,
    })
    agent = None
    if primary_agent_id:
        ensure(actor, Permission.ASSIGN_OUTLETS)
        agent = db.session.get(User, primary_agent_id)
        problem = agent_problem(agent)
        if problem:
            errors["primary_agent_id"] = problem
    if errors:
        raise ValidationError(errors)
    outlet = Outlet(**clean, primary_agent_id=agent.id if agent else None, is_active=True)
    db.session.add(outlet)
    db.session.flush()
    _first_rate(actor, outlet)
    record(actor, "outlet.create", "outlet", outlet.id, summary=_summary(outlet),
           after=snapshot(outlet, OUTLET_AUDIT_FIELDS))
    if agent:
        _notify_assigned(outlet, agent)
    db.session.commit()
    return outlet


def _first_rate(actor: User, outlet: Outlet) -> None:
    """A new outlet's rate is its first history entry, from the current month (earlier months bill at it too)."""
    from .rates import put_rate, this_month

    put_rate(actor, outlet, this_month(), outlet.rate_per_parcel, _("Rate when the outlet was created"))


def _rate_from_this_month(actor: User, outlet: Outlet, rate: Decimal) -> str | None:
    """An edit of the rate (row, edit page, Excel) changes it from the current month on; months before keep theirs.

    Returns a message instead when a change is already scheduled for a later
    month (that belongs on the outlet page's rate history).
    """
    from .rates import later_entry, put_rate, this_month

    scheduled = later_entry(outlet, this_month())
    if scheduled is not None:
        return _("A rate change from %(m)s is already planned: change rates in the outlet's rate history.",
                 m=f"{scheduled.month:%Y-%m}")
    put_rate(actor, outlet, this_month(), rate)
    return None


def _check_version(outlet: Outlet, version) -> None:
    try:
        expected = int(version)
    except (TypeError, ValueError):
        raise StaleEdit() from None
    if outlet.version != expected:
        raise StaleEdit()


def update_outlet(actor: User, outlet: Outlet, *, version: int, **fields) -> Outlet:
    """Change the editable fields; ``version`` is what the form was loaded with (stale -> StaleEdit)."""
    ensure(actor, Permission.MANAGE_OUTLETS)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    _check_version(outlet, version)
    clean, errors = clean_outlet_fields(fields, outlet=outlet)
    if errors:
        raise ValidationError(errors)
    before = snapshot(outlet, OUTLET_AUDIT_FIELDS)
    rate = clean.pop("rate_per_parcel", None)
    if rate is not None and rate != outlet.rate_per_parcel:
        problem = _rate_from_this_month(actor, outlet, rate)
        if problem:
            raise ValidationError({"rate_per_parcel": problem})
    for key, value in clean.items():
        setattr(outlet, key, value)
    after = snapshot(outlet, OUTLET_AUDIT_FIELDS)
    if before != after:
        record(actor, "outlet.update", "outlet", outlet.id, summary=_summary(outlet), before=before, after=after)
    db.session.commit()
    return outlet


def set_outlet_active(actor: User, outlet: Outlet, active: bool) -> Outlet:
    """Activate or deactivate (idempotent: setting the current state changes nothing)."""
    ensure(actor, Permission.MANAGE_OUTLETS)
    if record_active_change(actor, outlet, active, "outlet", _summary(outlet)):
        db.session.commit()
    return outlet


def assign_primary_agent(actor: User, outlet: Outlet, agent_id: int | None, version=None) -> Outlet:
    """Set, replace or clear the outlet's primary agent (only an active agent may be chosen).

    The new agent is notified. ``version`` (when given) guards against two
    admins reassigning the same outlet at once.
    """
    ensure(actor, Permission.ASSIGN_OUTLETS)
    if version is not None:
        _check_version(outlet, version)
    agent = None
    if agent_id:
        agent = db.session.get(User, agent_id)
        problem = agent_problem(agent)
        if problem:
            raise ValidationError({"agent_id": problem})
    new_id = agent.id if agent else None
    if outlet.primary_agent_id == new_id:
        return outlet
    before = {"primary_agent_id": outlet.primary_agent_id}
    previous = outlet.primary_agent
    outlet.primary_agent_id = new_id
    outlet.primary_agent = agent
    who = f"{agent.username} {agent.display_name}" if agent else "—"
    was = f"{previous.username}" if previous else "—"
    record(actor, "outlet.assign", "outlet", outlet.id, summary=f"{outlet.code} {was} → {who}",
           before=before, after={"primary_agent_id": new_id})
    if agent:
        _notify_assigned(outlet, agent)
    if previous is not None and previous.is_active:
        notify(
            previous,
            "outlet_unassigned",
            _("Outlet %(code)s %(name)s was handed over", code=outlet.code, name=outlet.name),
            _("Its primary agent is now %(who)s.", who=agent.display_name if agent else _("nobody")),
            f"/outlets/{outlet.id}",
        )
    db.session.commit()
    return outlet


# --------------------------------------------------------------------------- Excel import

# Field labels for the import preview and messages (the file's own column names).
def _import_labels() -> dict[str, str]:
    from .excel import HEADERS

    return dict(HEADERS)


@dataclass
class ImportRow:
    line: int
    code: str
    name: str
    action: str = "create"  # create | update | unchanged | error
    errors: list[str] | None = None
    changes: list[tuple[str, str, str]] | None = None  # (label, before, after) for updates
    outlet: Outlet | None = None
    clean: dict | None = None
    agent: User | None = None
    agent_given: bool = False
    active: bool | None = None


@dataclass
class ImportPlan:
    rows: list[ImportRow]

    @property
    def error_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if r.errors]

    @property
    def ok(self) -> bool:
        return not self.error_rows

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)


def _display(key: str, value) -> str:
    if value is None or value == "":
        return "—"
    if key == "rate_per_parcel":
        return f"{Decimal(value):.4f}"
    if key == "overtime_rate":
        return f"{Decimal(value):.2f}"
    if key == "is_active":
        from .excel import active_word

        return active_word(bool(value))
    return str(value)


def plan_import(actor: User, sheet) -> ImportPlan:
    """Check every row of an uploaded sheet against the database; nothing is written.

    Rows match existing outlets by code (case-insensitive): a match is an update,
    otherwise a create. Each row collects every problem in Chinese.
    """
    from .excel import cell_text, parse_active

    ensure(actor, Permission.MANAGE_OUTLETS)
    labels = _import_labels()
    brands = all_brands()
    brand_by_word = {}
    for brand in brands:
        brand_by_word[brand.code.lower()] = brand
        brand_by_word[brand.name.lower()] = brand
    users_by_name = {u.username.lower(): u for u in db.session.scalars(select(User))}
    outlets_by_code = {
        o.code.lower(): o
        for o in db.session.scalars(select(Outlet).options(joinedload(Outlet.primary_agent), joinedload(Outlet.brand)))
    }
    seen: dict[str, int] = {}
    rows: list[ImportRow] = []
    columns = sheet.columns
    for raw in sheet.rows:
        text = {key: cell_text(value) for key, value in raw.values.items()}
        row = ImportRow(line=raw.line, code=text.get("code", ""), name=text.get("name", ""), errors=[])

        def problem(key: str, message: str, row=row) -> None:
            row.errors.append(_("%(field)s: %(message)s", field=labels[key], message=message))

        for key in ("code", "name", "brand", "rate"):
            if not text.get(key):
                problem(key, _("missing (required)."))
        code_key = row.code.lower()
        if row.code:
            if code_key in seen:
                problem("code", _("%(c)s appears again in this file (first on row %(n)d).", c=row.code, n=seen[code_key]))
            else:
                seen[code_key] = raw.line
        existing = outlets_by_code.get(code_key) if row.code else None
        row.outlet = existing

        brand = None
        if text.get("brand"):
            brand = brand_by_word.get(text["brand"].lower())
            if brand is None:
                problem("brand", _("unknown brand %(b)s. Use a brand name or code from the brand list.", b=text["brand"]))

        fields = {"code": row.code, "name": row.name, "brand_id": brand.id if brand else None}
        for key in ("region", "contact_name", "contact_phone", "notes"):
            if key in columns:
                fields[key] = text.get(key, "")
        if text.get("rate"):
            fields["rate_per_parcel"] = raw.values.get("rate")
        if "overtime_rate" in columns:  # an empty cell: none agreed; no column: left as it is
            fields["overtime_rate"] = raw.values.get("overtime_rate")
        clean, errors = clean_outlet_fields(fields, outlet=existing)
        for key, message in errors.items():
            if key == "brand_id" or (key in ("code", "name") and not text.get(key)):
                continue  # already reported above as missing/unknown
            if key == "code" and code_key in seen and seen[code_key] != raw.line:
                continue
            problem({"rate_per_parcel": "rate", "brand_id": "brand"}.get(key, key), message)
        row.clean = clean
        if existing is not None and "rate_per_parcel" in clean and clean["rate_per_parcel"] != existing.rate_per_parcel:
            from .rates import later_entry, this_month

            scheduled = later_entry(existing, this_month())
            if scheduled is not None:
                problem("rate", _("a rate change from %(m)s is already planned: change rates in the outlet's rate history.",
                                  m=f"{scheduled.month:%Y-%m}"))

        if "agent" in columns:
            row.agent_given = True
            username = text.get("agent", "")
            if username:
                agent = users_by_name.get(username.lower())
                if agent is None:
                    problem("agent", _("unknown username %(u)s.", u=username))
                elif agent.role != Role.AGENT:
                    problem("agent", _("%(u)s is not an agent.", u=agent.username))
                elif not agent.is_active:
                    problem("agent", _("%(u)s is deactivated.", u=agent.username))
                elif (refused := refusal_reason(agent)) and not (
                        row.code and getattr(outlets_by_code.get(row.code.lower()), "primary_agent_id", None) == agent.id):
                    problem("agent", refused)  # a new primary agent must be certified (上岗); a kept one stays
                else:
                    row.agent = agent
        if "active" in columns:
            try:
                row.active = parse_active(text.get("active", ""))
            except ValueError:
                problem("active", _("write 启用 or 停用, not %(v)s.", v=text.get("active")))

        if row.errors:
            row.action = "error"
        elif existing is None:
            row.action = "create"
        else:
            row.changes = _planned_changes(existing, row)
            row.action = "update" if row.changes else "unchanged"
        rows.append(row)
    return ImportPlan(rows)


_CHANGE_LABEL_KEYS = {
    "name": "name", "brand_id": "brand", "region": "region", "contact_name": "contact_name",
    "contact_phone": "contact_phone", "rate_per_parcel": "rate", "overtime_rate": "overtime_rate", "notes": "notes",
}


def _planned_changes(outlet: Outlet, row: ImportRow) -> list[tuple[str, str, str]]:
    labels = _import_labels()
    changes = []
    for key, value in row.clean.items():
        if key == "code":
            continue
        old = getattr(outlet, key)
        if old != value:
            if key == "brand_id":
                new_brand = db.session.get(Brand, value)
                changes.append((labels["brand"], outlet.brand.name, new_brand.name))
            else:
                changes.append((labels[_CHANGE_LABEL_KEYS[key]], _display(key, old), _display(key, value)))
    if row.agent_given:
        new_id = row.agent.id if row.agent else None
        if outlet.primary_agent_id != new_id:
            old = outlet.primary_agent.username if outlet.primary_agent else "—"
            changes.append((labels["agent"], old, row.agent.username if row.agent else "—"))
    if row.active is not None and row.active != outlet.is_active:
        changes.append((labels["active"], _display("is_active", outlet.is_active), _display("is_active", row.active)))
    return changes


def apply_import(actor: User, plan: ImportPlan, filename: str = "") -> dict[str, int]:
    """Write a checked plan in one transaction: all rows or none. Returns the counts."""
    ensure(actor, Permission.MANAGE_OUTLETS)
    if plan.error_rows:
        raise ValidationError({"file": _("The file has rows with errors; nothing was imported.")})
    if any(r.agent_given and r.agent for r in plan.rows):
        ensure(actor, Permission.ASSIGN_OUTLETS)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    try:
        for row in plan.rows:
            if row.action == "create":
                outlet = Outlet(**row.clean, primary_agent_id=row.agent.id if row.agent else None,
                                is_active=True if row.active is None else row.active)
                db.session.add(outlet)
                db.session.flush()
                _first_rate(actor, outlet)
                record(actor, "outlet.create", "outlet", outlet.id, summary=_summary(outlet),
                       after=snapshot(outlet, OUTLET_AUDIT_FIELDS))
                if row.agent:
                    _notify_assigned(outlet, row.agent)
                counts["created"] += 1
            elif row.action == "update":
                outlet = row.outlet
                before = snapshot(outlet, OUTLET_AUDIT_FIELDS)
                for key, value in row.clean.items():
                    if key == "rate_per_parcel":
                        if value != outlet.rate_per_parcel:
                            problem = _rate_from_this_month(actor, outlet, value)
                            if problem:
                                raise ValidationError({"file": _("Row %(n)d: %(p)s", n=row.line, p=problem)})
                    elif key != "code":
                        setattr(outlet, key, value)
                new_agent_id = (row.agent.id if row.agent else None) if row.agent_given else outlet.primary_agent_id
                agent_changed = new_agent_id != outlet.primary_agent_id
                outlet.primary_agent_id = new_agent_id
                if row.active is not None:
                    outlet.is_active = row.active
                db.session.flush()
                record(actor, "outlet.update", "outlet", outlet.id, summary=_summary(outlet),
                       before=before, after=snapshot(outlet, OUTLET_AUDIT_FIELDS))
                if agent_changed and row.agent:
                    _notify_assigned(outlet, row.agent)
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        record(actor, "outlet.import", "outlet", None,
               summary=_("Import %(f)s: %(c)d created, %(u)d updated, %(n)d unchanged",
                         f=filename or "xlsx", c=counts["created"], u=counts["updated"], n=counts["unchanged"]),
               after={**counts, "file": filename})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return counts
