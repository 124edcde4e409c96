"""Write audit rows, and show them (and ticket timelines) in people's words.

Every service that changes users, teams, outlets or assignments calls
``record`` in the same transaction as the change. Rows store codes and ids
(``status: to_file``, ``assignee_id: 37``); ``describe_change`` and
``describe_entries`` turn them into labels, names and Beijing time for the
page ("状态：待上报", "处理人：张敏 → 吴静"), loading the users, outlets, teams ...
of a whole page of rows with one query per kind.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .extensions import db
from .models.audit import AuditLog


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def snapshot(obj, fields: list[str]) -> dict:
    """The listed attributes of ``obj`` as JSON-safe values."""
    return {field: _plain(getattr(obj, field)) for field in fields}


def record(
    actor,
    action: str,
    entity_type: str,
    entity_id: int | None,
    summary: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditLog:
    if before is not None and after is not None:
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        before = {k: before.get(k) for k in sorted(changed)}
        after = {k: after.get(k) for k in sorted(changed)}
    entry = AuditLog(
        actor_id=getattr(actor, "id", None),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        summary=summary[:200],
        before=before,
        after=after,
        ip_address=getattr(actor, "acting_from", None),
    )
    db.session.add(entry)
    return entry


def record_active_change(actor, obj, active: bool, entity_type: str, summary: str,
                         attr: str = "is_active") -> bool:
    """Set the active flag and audit ``<entity>.activate`` / ``.deactivate``; False (nothing
    written) when it already had that value. The caller commits."""
    active = bool(active)
    if getattr(obj, attr) == active:
        return False
    setattr(obj, attr, active)
    record(actor, f"{entity_type}.{'activate' if active else 'deactivate'}", entity_type, obj.id,
           summary=summary, before={attr: not active}, after={attr: active})
    return True


# --------------------------------------------------------------------------- labels

# Features add theirs with ``register_labels``. Field keys are a field name
# ("status") or an entity-qualified name ("calendar_day.source"), which wins.
_ACTION_LABELS: dict[str, object] = {}
_FIELD_LABELS: dict[str, object] = {}
_ENTITY_LABELS: dict[str, object] = {}
# How a field's stored value is shown: a key of ``_FORMATTERS`` or of ``_REFERENCES``.
_FIELD_KINDS: dict[str, str] = {}


def register_labels(actions: dict | None = None, fields: dict | None = None, entities: dict | None = None,
                    kinds: dict | None = None) -> None:
    _ACTION_LABELS.update(actions or {})
    _FIELD_LABELS.update(fields or {})
    _ENTITY_LABELS.update(entities or {})
    _FIELD_KINDS.update(kinds or {})


def action_label(action: str) -> str:
    label = _ACTION_LABELS.get(action)
    if label is not None:
        return str(label)
    entity, _dot, verb = action.partition(".")
    return f"{entity_label(entity)} {verb}".strip() if verb else _readable(action)


def _readable(name: str) -> str:
    """``fine_agent_share`` → "fine agent share": the fallback for names nobody labelled."""
    return name.replace("_", " ").replace(".", " ").strip()


def field_label(name: str, entity_type: str | None = None) -> str:
    if entity_type and f"{entity_type}.{name}" in _FIELD_LABELS:
        return str(_FIELD_LABELS[f"{entity_type}.{name}"])
    if name in _FIELD_LABELS:
        return str(_FIELD_LABELS[name])
    return _readable(name[:-3] if name.endswith("_id") else name)


def entity_label(name: str) -> str:
    return str(_ENTITY_LABELS.get(name, _readable(name)))


def field_kind(name: str, entity_type: str | None = None) -> str:
    if entity_type and f"{entity_type}.{name}" in _FIELD_KINDS:
        return _FIELD_KINDS[f"{entity_type}.{name}"]
    return _FIELD_KINDS.get(name, "text")


# --------------------------------------------------------------------------- references

@dataclass(frozen=True)
class Reference:
    """How ids of one kind become names: ``load(ids) -> {id: name}`` in one query."""

    load: Callable[[set[int]], dict[int, str]]


def _load_users(ids: set[int]) -> dict[int, str]:
    from .models import User

    return {i: name for i, name in db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))}


def _load_users_with_username(ids: set[int]) -> dict[int, str]:
    from .models import User

    rows = db.session.execute(select(User.id, User.username, User.display_name).where(User.id.in_(ids)))
    return {i: f"{name}（{username}）" for i, username, name in rows}


def _load_teams(ids: set[int]) -> dict[int, str]:
    from .models import Team

    return {i: name for i, name in db.session.execute(select(Team.id, Team.name).where(Team.id.in_(ids)))}


def _load_outlets(ids: set[int]) -> dict[int, str]:
    from .models import Outlet

    rows = db.session.execute(select(Outlet.id, Outlet.code, Outlet.name).where(Outlet.id.in_(ids)))
    return {i: f"{code} {name}" for i, code, name in rows}


def _load_brands(ids: set[int]) -> dict[int, str]:
    from .models import Brand

    return {i: name for i, name in db.session.execute(select(Brand.id, Brand.name).where(Brand.id.in_(ids)))}


def _load_reasons(ids: set[int]) -> dict[int, str]:
    from .models import TicketReason

    rows = db.session.execute(select(TicketReason.id, TicketReason.name).where(TicketReason.id.in_(ids)))
    return {i: name for i, name in rows}


def _load_rules(ids: set[int]) -> dict[int, str]:
    """A deadline rule has no name: brand · category · reason, as the rules page says it."""
    from .models import Brand, DeadlineRule, TicketReason

    rows = db.session.execute(
        select(DeadlineRule.id, Brand.name, DeadlineRule.category, TicketReason.name)
        .outerjoin(Brand, Brand.id == DeadlineRule.brand_id)
        .outerjoin(TicketReason, TicketReason.id == DeadlineRule.reason_id)
        .where(DeadlineRule.id.in_(ids))
    )
    return {
        i: f"{brand or _('Any brand')} · {_enum_label('category', category)} · {reason or _('Any reason')}"
        for i, brand, category, reason in rows
    }


def _load_tickets(ids: set[int]) -> dict[int, str]:
    from .models import Ticket

    return {i: w for i, w in db.session.execute(select(Ticket.id, Ticket.waybill_no).where(Ticket.id.in_(ids)))}


def _load_canned(ids: set[int]) -> dict[int, str]:
    from .models import CannedReply

    return {i: t for i, t in db.session.execute(select(CannedReply.id, CannedReply.title).where(CannedReply.id.in_(ids)))}


_REFERENCES: dict[str, Reference] = {
    "user": Reference(_load_users),
    "user_record": Reference(_load_users_with_username),
    "team": Reference(_load_teams),
    "outlet": Reference(_load_outlets),
    "brand": Reference(_load_brands),
    "reason": Reference(_load_reasons),
    "deadline_rule": Reference(_load_rules),
    "ticket": Reference(_load_tickets),
    "canned_reply": Reference(_load_canned),
}

# The record an audit row is about, by entity type: which reference names it.
_RECORD_REFERENCES: dict[str, str] = {
    "user": "user_record",
    "team": "team",
    "outlet": "outlet",
    "brand": "brand",
    "ticket": "ticket",
    "ticket_reason": "reason",
    "deadline_rule": "deadline_rule",
    "canned_reply": "canned_reply",
}
# Actions whose summary says more than the record's name (a note's text).
_SUMMARY_ACTIONS = {"ticket.note"}


class Names:
    """Ids → names for a page of rows: ``want`` what is needed, ``load`` once, then ``get``."""

    def __init__(self) -> None:
        self._wanted: dict[str, set[int]] = {}
        self._loaded: dict[str, dict[int, str]] = {}

    def want(self, kind: str, value) -> None:
        ident = _as_id(value)
        if kind in _REFERENCES and ident is not None:
            self._wanted.setdefault(kind, set()).add(ident)

    def load(self) -> Names:
        for kind, ids in self._wanted.items():
            missing = ids - set(self._loaded.get(kind, {}))
            if missing:
                self._loaded.setdefault(kind, {}).update(_REFERENCES[kind].load(missing))
        self._wanted = {}
        return self

    def get(self, kind: str, value) -> str | None:
        ident = _as_id(value)
        if ident is None:
            return None
        if kind not in self._loaded or ident not in self._loaded[kind]:
            self.want(kind, ident)
            self.load()
        return self._loaded.get(kind, {}).get(ident)


def _as_id(value) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- values

def _enum_label(kind: str, code) -> str:
    from .tickets.labels import label

    try:
        return label(kind, code)
    except KeyError:
        return str(code)


def _parse_datetime(value) -> datetime | date | None:
    if isinstance(value, datetime | date):
        return value
    if not isinstance(value, str):
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _format_datetime(value) -> str:
    from .filters import format_date, format_datetime

    parsed = _parse_datetime(value)
    if isinstance(parsed, datetime):
        return format_datetime(parsed)
    if isinstance(parsed, date):
        return format_date(parsed)
    return str(value)


def _format_money(value, places: int = 2) -> str:
    from .filters import format_money

    try:
        return format_money(Decimal(str(value)), places)
    except (InvalidOperation, ValueError):
        return str(value)


def _format_bool(value, yes, no) -> str:
    if isinstance(value, bool):
        return str(yes if value else no)
    if value in (0, 1, "0", "1", "true", "false", "True", "False"):
        return str(yes if str(value).lower() in ("1", "true") else no)
    return str(value)


def _format_minutes(value) -> str:
    from .tickets.settings.service import format_minutes

    return format_minutes(int(value))


def _format_role(value) -> str:
    from .filters import role_label

    return role_label(str(value))


def _format_calendar_source(value) -> str:
    return str(_l("Public holiday schedule") if value == "chinesecalendar" else _l("Edited by hand"))


def _format_category_or_all(value) -> str:
    return _enum_label("category", value) if value else _("All categories")


_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?$")


def _format_text(value) -> str:
    """Fields nobody described: still readable (是/否, Beijing time, JSON as text)."""
    if isinstance(value, bool):
        return _format_bool(value, _l("Yes"), _l("No"))
    if isinstance(value, str) and _ISO_DATETIME.match(value):
        return _format_datetime(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


_FORMATTERS: dict[str, Callable[[object], str]] = {
    "text": _format_text,
    "active": lambda v: _format_bool(v, _l("Enabled"), _l("Disabled")),
    "bool": lambda v: _format_bool(v, _l("Yes"), _l("No")),
    "datetime": _format_datetime,
    "money": _format_money,
    "rate": lambda v: _format_money(v, 4),
    "minutes": _format_minutes,
    "role": _format_role,
    "calendar_source": _format_calendar_source,
    "category_or_all": _format_category_or_all,
}


def register_formatter(kind: str, formatter: Callable[[object], str]) -> None:
    """Let a feature show its own codes in words (a field registered with ``kinds={field: kind}``)."""
    _FORMATTERS[kind] = formatter


def format_value(kind: str, value, names: Names | None = None) -> str | None:
    """One stored value as people read it; None for "no value" (shown as —).

    ``kind`` is a reference ("user", "outlet" ...: the name, ``#id`` if the
    record is gone), "label:<list>" (a code of ``tickets.labels``), or a key of
    the formatters above. Anything unexpected falls back to readable text.
    """
    if value is None or value == "":
        return None
    try:
        if kind in _REFERENCES:
            name = (names or Names()).get(kind, value)
            return name if name is not None else f"#{value}"
        if kind.startswith("label:"):
            return _enum_label(kind.removeprefix("label:"), value)
        return _FORMATTERS.get(kind, _format_text)(value)
    except Exception:  # noqa: BLE001 - a strange old value must not break the page
        return _format_text(value)


@dataclass(frozen=True)
class Change:
    """One line: "处理人：张敏 → 吴静". ``has_old`` is False for creations (no arrow)."""

    field: str
    label: str
    old: str | None = None
    new: str | None = None
    has_old: bool = True

    def __str__(self) -> str:
        empty = "—"
        new = self.new if self.new is not None else empty
        if not self.has_old:
            return _("%(field)s: %(value)s", field=self.label, value=new)
        old = self.old if self.old is not None else empty
        return _("%(field)s: %(value)s", field=self.label, value=old + " → " + new)


def describe_change(entity_type: str, field_name: str, old, new, *, has_old: bool = True,
                    names: Names | None = None) -> Change:
    """The label and the shown values of one changed field of ``entity_type``."""
    kind = field_kind(field_name, entity_type)
    names = names or Names()
    return Change(
        field=field_name,
        label=field_label(field_name, entity_type),
        old=format_value(kind, old, names) if has_old else None,
        new=format_value(kind, new, names),
        has_old=has_old,
    )


@dataclass
class AuditRow:
    """An audit entry as the page shows it."""

    entry: AuditLog
    actor: str | None
    action: str
    record: str
    changes: list[Change] = field(default_factory=list)


def _record_keys(entry: AuditLog) -> list[str]:
    before, after = entry.before or {}, entry.after or {}
    return list(dict.fromkeys([*before.keys(), *after.keys()]))


def describe_entries(entries: Iterable[AuditLog]) -> list[AuditRow]:
    """A page of audit rows in people's words: one query per kind of referenced record."""
    entries = list(entries)
    names = Names()
    for entry in entries:
        if entry.entity_type in _RECORD_REFERENCES:
            names.want(_RECORD_REFERENCES[entry.entity_type], entry.entity_id)
        for key in _record_keys(entry):
            kind = field_kind(key, entry.entity_type)
            for data in (entry.before, entry.after):
                if isinstance(data, dict):
                    names.want(kind, data.get(key))
    names.load()
    rows = []
    for entry in entries:
        before = entry.before if isinstance(entry.before, dict) else None
        after = entry.after if isinstance(entry.after, dict) else {}
        changes = [
            describe_change(entry.entity_type, key, (before or {}).get(key), after.get(key),
                            has_old=before is not None and key in before, names=names)
            for key in _record_keys(entry)
        ]
        record_name = None
        if entry.action not in _SUMMARY_ACTIONS and entry.entity_type in _RECORD_REFERENCES:
            record_name = names.get(_RECORD_REFERENCES[entry.entity_type], entry.entity_id)
        rows.append(AuditRow(
            entry=entry,
            actor=entry.actor.display_name if entry.actor else None,
            action=action_label(entry.action),
            record=record_name or entry.summary,
            changes=changes,
        ))
    return rows


# --------------------------------------------------------------------------- ticket timeline

@dataclass
class TimelineLine:
    """What a ticket event says besides who and when."""

    changes: list[Change] = field(default_factory=list)
    body: str = ""


def _fine_text(value: str | None) -> str | None:
    """Events store a fine as "50.00 company 10.00" (amount, bearer, agent's share)."""
    if not value:
        return None
    parts = value.split(" ")
    if len(parts) != 3:
        return value
    amount, bearer, share = parts
    return " · ".join([_format_money(amount), _enum_label("fine_bearer", bearer),
                       _("agent's share %(a)s", a=_format_money(share))])


# Other features' timeline events (the SOP panel's "sop"): kind -> describe(event) -> TimelineLine | str.
_EVENT_DESCRIBERS: dict[str, Callable] = {}


def register_event_describer(kind: str, describe: Callable) -> None:
    """Let a feature describe its own ticket timeline events (``describe(event)`` → line or text)."""
    _EVENT_DESCRIBERS[kind] = describe


def describe_event(event) -> TimelineLine:
    """A ticket timeline event (``TicketEvent``) in people's words.

    Status events store codes, assignments display names, first replies an ISO
    time, edits the names of the changed fields: each is shown as labels, names
    and Beijing time.
    """
    kind, old, new, body = event.kind, event.from_value, event.to_value, event.body or ""
    if kind in ("status", "reopen"):
        return TimelineLine([describe_change("ticket", "status", old, new)], body)
    if kind == "created":
        return TimelineLine([describe_change("ticket", "status", None, new, has_old=False)], body)
    if kind == "assign":
        label = field_label("assignee_id", "ticket")
        return TimelineLine([Change("assignee_id", label, old or _("Unassigned"), new or _("Unassigned"))], body)
    if kind == "first_reply":
        return TimelineLine([describe_change("ticket", "first_replied_at", None, new, has_old=False)], body)
    if kind == "fine":
        label = field_label("fine", "ticket")
        return TimelineLine([Change("fine", label, _fine_text(old), _fine_text(new), has_old=old is not None)], body)
    if kind == "edit":
        fields = [name.strip() for name in body.split(",") if name.strip()]
        text = "、".join(field_label(name, "ticket") for name in fields)
        return TimelineLine([Change("edit", str(_l("Changed")), None, text, has_old=False)] if text else [])
    if kind in _EVENT_DESCRIBERS:
        line = _EVENT_DESCRIBERS[kind](event)
        return line if isinstance(line, TimelineLine) else TimelineLine([], str(line))
    return TimelineLine([], body)


# --------------------------------------------------------------------------- core labels

def _register_core_labels() -> None:
    register_labels(
        actions={
            "user.create": _l("User created"),
            "user.update": _l("User changed"),
            "user.activate": _l("User activated"),
            "user.deactivate": _l("User deactivated"),
            "user.password_reset": _l("Password reset"),
            "user.password_change": _l("Password changed"),
        },
        fields={
            "username": _l("Username"),
            "display_name": _l("Name"),
            "role": _l("Role"),
            "team_id": _l("Team"),
            "phone": _l("Phone"),
            "is_active_account": _l("Account"),
            "is_active": _l("In use"),
            "name": _l("Record name"),
            "code": _l("Code"),
            "lead_id": _l("Team lead"),
            "outlet_id": _l("Outlet"),
            "deadline_rule_id": _l("Deadline rule"),
            "direction": _l("Direction"),
            "customer_name": _l("Customer name"),
            "customer_phone": _l("Customer phone"),
            "description": _l("Description"),
            "file": _l("File"),
            "created": _l("Created"),
            "updated": _l("Updated"),
            "unchanged": _l("Unchanged"),
            "fine": _l("Fine"),
            "ticket.closed_at": _l("Closed at"),
            "calendar_day.name": _l("Holiday name"),
        },
        entities={"user": _l("User"), "team": _l("Team"), "outlet": _l("Outlet"), "brand": _l("Brand")},
        kinds={
            # references: ids shown as names
            "assignee_id": "user", "lead_id": "user", "primary_agent_id": "user",
            "created_by_id": "user", "actor_id": "user",
            "team_id": "team", "outlet_id": "outlet", "brand_id": "brand", "reason_id": "reason",
            "deadline_rule_id": "deadline_rule", "ticket_id": "ticket",
            # codes shown as labels
            "status": "label:status", "category": "label:category", "priority": "label:priority",
            "fine_bearer": "label:fine_bearer", "mode": "label:mode", "direction": "label:direction",
            "role": "role", "canned_reply.category": "category_or_all",
            "source": "label:source", "calendar_day.source": "calendar_source",
            # yes/no, times, money
            "is_active": "active", "is_active_account": "active", "is_workday": "bool",
            "first_replied_at": "datetime", "resolved_at": "datetime", "closed_at": "datetime",
            "reply_due_at": "datetime", "resolve_due_at": "datetime", "registered_at": "datetime",
            "fine_amount": "money", "fine_agent_share": "money", "rate_per_parcel": "rate",
            "reply_minutes": "minutes", "resolve_minutes": "minutes",
        },
    )


_register_core_labels()
