"""The scoring rules of a quality review (质检), as plain functions: what a typed number means,
how points become a score, when the reviewer must say why."""

from __future__ import annotations

from datetime import datetime, timedelta

FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
MAX_POINTS = 100  # one criterion is worth 1–100 points
MAX_COMMENT = 1000


def parse_awarded(text: str | None, points: int) -> int | None:
    """The points typed for a criterion worth ``points``: a whole number from 0 to ``points``
    ("８" and " 8 分" too); None for anything else."""
    cleaned = (text or "").strip().translate(FULLWIDTH).removesuffix("分").strip()
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 3:
        return None
    value = int(cleaned)
    return value if 0 <= value <= points else None


def score(awarded: int, possible: int, fatal: bool) -> int:
    """The score out of 100: the points given over the points possible, rounded half up; 0 for a
    fatal error (致命错误: a leaked phone number, an insult, a promise beyond authority) or an empty
    scorecard."""
    if fatal or possible <= 0:
        return 0
    return (awarded * 200 + possible) // (possible * 2)


def comment_needed(awarded: int, possible: int, fatal: bool) -> bool:
    """A deduction or a fatal error must say why: the agent learns from the reason, not the number."""
    return fatal or awarded < possible


def passed(value: int, pass_score: int) -> bool:
    """Whether a score reaches the pass line (合格线)."""
    return value >= pass_score


APPEAL_DAYS = 7  # an agent disputes a score within a week of it
MAX_APPEAL = 500


def appeal_deadline(reviewed_at: datetime) -> datetime:
    """Until when the agent may dispute a score given at ``reviewed_at`` (申诉期限)."""
    return reviewed_at + timedelta(days=APPEAL_DAYS)


def may_appeal(state: str | None, reviewed_at: datetime, now: datetime) -> bool:
    """Once per review, before the deadline."""
    return state is None and now < appeal_deadline(reviewed_at)
