"""The lead's Monday 团队周报 on the task queue (never on a page load): see ``digest``."""

from __future__ import annotations

from huey import crontab

from ..tasks import huey, task_context


@huey.periodic_task(crontab(minute="*/15"))
def send_team_week_digests(now=None) -> int:
    """Every 15 minutes: from Monday 08:00 Beijing, each lead gets last week's team figures once
    (idempotent: a claimed mark per lead and week, so a second run or worker sends nothing)."""
    from . import digest

    with task_context():
        return digest.send_team_week_digests(now)
