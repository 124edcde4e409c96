"""Write audit rows. Every service that changes users, teams, outlets or
assignments calls ``record`` in the same transaction as the change."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from flask import has_request_context, request

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
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


# Labels for the audit page; features add theirs with ``register_labels``.
_ACTION_LABELS: dict[str, object] = {}
_FIELD_LABELS: dict[str, object] = {}
_ENTITY_LABELS: dict[str, object] = {}


def register_labels(actions: dict | None = None, fields: dict | None = None, entities: dict | None = None) -> None:
    _ACTION_LABELS.update(actions or {})
    _FIELD_LABELS.update(fields or {})
    _ENTITY_LABELS.update(entities or {})


def action_label(action: str) -> str:
    return str(_ACTION_LABELS.get(action, action))


def field_label(name: str) -> str:
    return str(_FIELD_LABELS.get(name, name))


def entity_label(name: str) -> str:
    return str(_ENTITY_LABELS.get(name, name))


def _register_core_labels() -> None:
    from flask_babel import lazy_gettext as _l

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
            "is_active_account": _l("Active"),
            "is_active": _l("Active"),
            "name": _l("Name"),
            "code": _l("Code"),
            "lead_id": _l("Team lead"),
        },
        entities={"user": _l("User"), "team": _l("Team"), "outlet": _l("Outlet"), "brand": _l("Brand")},
    )


_register_core_labels()
