"""Template filters: Shanghai time, ¥ amounts, masked phones."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from markupsafe import Markup

SHANGHAI = ZoneInfo("Asia/Shanghai")


def to_shanghai(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI)


def format_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return to_shanghai(value).strftime(fmt)


def format_date(value: date | datetime | None, fmt: str = "%Y-%m-%d") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_shanghai(value)
    return value.strftime(fmt)


def format_money(value, places: int = 2) -> str:
    """¥ with thousands separators and a fixed number of decimals (default 2)."""
    if value is None:
        return ""
    amount = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.{places}f}"


def format_number(value) -> str:
    if value is None:
        return ""
    return f"{int(value):,}"


def mask_phone(value: str | None) -> str:
    """138****5678: personal data is masked in lists."""
    if not value:
        return ""
    phone = value.strip()
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "****" + phone[-4:]


def init_app(app) -> None:
    app.jinja_env.filters["dt"] = format_datetime
    app.jinja_env.filters["d"] = format_date
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["num"] = format_number
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.globals["Markup"] = Markup
    register_globals(app)


def role_label(role: str) -> str:
    from flask_babel import gettext as _

    labels = {
        "agent": _("Agent"),
        "trainer": _("Trainer"),
        "lead": _("Team lead"),
        "admin": _("Administrator"),
    }
    return labels.get(role, role)


def register_globals(app) -> None:
    from .auditing import action_label, describe_entries, describe_event, entity_label, field_label

    app.jinja_env.globals["role_label"] = role_label
    app.jinja_env.globals["audit_action_label"] = action_label
    app.jinja_env.globals["audit_field_label"] = field_label
    app.jinja_env.globals["audit_entity_label"] = entity_label
    # Audit rows and ticket events in people's words (labels, names, Beijing time).
    app.jinja_env.globals["audit_rows"] = describe_entries
    app.jinja_env.globals["describe_event"] = describe_event
