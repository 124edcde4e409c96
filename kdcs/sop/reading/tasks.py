"""Background task of required reading: the 24 h / 48 h reminders and the lead at the deadline.

Periodic (every 10 minutes) and idempotent: each (agent, version, threshold) is sent
at most once, whichever worker runs it (``service.send_reminders``).
"""

from __future__ import annotations

from huey import crontab

from ...tasks import huey, task_context
from . import service


@huey.periodic_task(crontab(minute="*/10"))
def send_reading_reminders(now=None) -> dict[str, int]:
    """Every 10 minutes: remind agents of unread required versions, tell leads at the deadline."""
    with task_context():
        return service.send_reminders(now)
