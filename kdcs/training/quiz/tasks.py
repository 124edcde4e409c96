"""Quiz attempts past their time limit are scored even when nobody opens them again.

Every minute the periodic task scores each open attempt whose deadline has passed with the
answers saved before it (``service.close_expired_attempts``). Scoring is guarded by the
attempt's version, so two workers, a restart or the agent opening the page at the same
moment score it once; an attempt already closed is skipped (idempotent).
"""

from __future__ import annotations

from huey import crontab

from ...tasks import huey, task_context
from . import service


@huey.periodic_task(crontab(minute="*"))
def close_expired_quiz_attempts(now=None) -> int:
    """Every minute: score open attempts past their deadline (what was saved counts). Returns how many."""
    with task_context():
        return service.close_expired_attempts(now)
