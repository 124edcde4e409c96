"""Admin settings stored in the database (``AppSetting``: a key and a JSON value).

Each setting is declared here with its default, so reading one that was never
saved gives the default and a typo in a key fails loudly. Features check who may
change a setting (``ensure``) before calling ``set_setting``; the change is audited.
"""

from __future__ import annotations

from .auditing import record
from .extensions import db
from .models.sop import AppSetting

# key → default value
DEFAULTS: dict[str, object] = {
    "sop.review_required": True,  # SOP drafts need another trainer's approval before publishing
    "leave.fallback_approver_id": None,
    "quality.pass_score": 80,  # 质检合格线: a reviewed reply below it is 不合格
    "quality.weekly_target": 3,  # 抽检目标: replies to score per agent and week (0: no target)  # approves leave whose lead is away, missing or the requester
}


def get_setting(key: str):
    """The stored value of ``key``, or its default."""
    if key not in DEFAULTS:
        raise KeyError(key)
    row = db.session.get(AppSetting, key)
    return DEFAULTS[key] if row is None else row.value


def set_setting(actor, key: str, value) -> None:
    """Store ``value`` under ``key`` and audit the change (the caller commits)."""
    if key not in DEFAULTS:
        raise KeyError(key)
    row = db.session.get(AppSetting, key)
    before = DEFAULTS[key] if row is None else row.value
    if row is None:
        row = AppSetting(key=key, value=value)
        db.session.add(row)
    else:
        row.value = value
    if before != value:
        record(actor, "setting.update", "setting", None, summary=key,
               before={key: before}, after={key: value})
