"""质检 on the task queue (never on a page load): disputes waiting too long are put to the lead again."""

from __future__ import annotations

from huey import crontab

from ..tasks import huey, task_context


@huey.periodic_task(crontab(minute="*/30"))
def remind_waiting_appeals(now=None) -> int:
    """Every 30 minutes: a dispute waiting more than two days is put to the agent's lead once
    (idempotent: a claimed mark per lead and dispute)."""
    from . import service

    with task_context():
        return service.remind_waiting_appeals(now)
