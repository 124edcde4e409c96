"""Small helpers every feature's views share (keep views thin and alike)."""

from __future__ import annotations

from flask import abort, redirect, request

# Errors about these names describe the whole form (a hidden field cannot show them).
FORM_LEVEL_FIELDS = frozenset({"version", "is_active"})


def apply_errors(form, errors: dict[str, str], aliases: dict[str, str] | None = None) -> None:
    """Put a service's ValidationError messages beside their fields, the rest above the form.

    ``aliases`` maps a service field name to the form field name where they differ.
    """
    aliases = aliases or {}
    for name, message in errors.items():
        field_name = aliases.get(name, name)
        field = getattr(form, field_name, None)
        if field is not None and hasattr(field, "errors") and field_name not in FORM_LEVEL_FIELDS:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


def redirect_back(default: str):
    """303 to the page the user came from (same site only), else ``default``."""
    referrer = request.referrer
    if referrer and referrer.startswith(request.host_url):
        return redirect(referrer, code=303)
    return redirect(default, code=303)


def active_filter(source=None) -> str:
    """The ``active`` list filter: "1", "0" or "" (all); anything else counts as "all"."""
    value = (source if source is not None else request.values).get("active", "")
    return value if value in ("1", "0") else ""


def posted_active() -> bool:
    """The ``active`` field of an activate/deactivate button: "1" or "0"; anything else is a 400."""
    value = request.form.get("active")
    if value not in ("0", "1"):
        abort(400)
    return value == "1"
