"""Background task of certification: every 30 minutes, lapse who missed a re-pass or whose pass
expired, and send the re-pass / expiry / overdue notices once each (reminders.send_reminders)."""

from __future__ import annotations

from huey import crontab

from ...tasks import huey, task_context
from . import reminders


@huey.periodic_task(crontab(minute="*/30"))
def certification_reminders(now=None) -> dict[str, int]:
    """Every 30 minutes: lapses, re-pass and expiry reminders, overdue assignments (idempotent)."""
    with task_context():
        return reminders.send_reminders(now)
