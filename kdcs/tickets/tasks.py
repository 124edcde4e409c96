"""Ticket deadline escalation on the task queue (not on a page load): see ``notices.escalate``."""

from __future__ import annotations

from huey import crontab

from ..tasks import huey, task_context
from . import idempotency, notices


@huey.periodic_task(crontab(minute="*"))
def escalate_deadlines(now=None) -> dict[str, int]:
    """Every minute: reply due soon → the assignee; reply or resolution overdue → their lead (once each)."""
    with task_context():
        return notices.escalate(now)


@huey.periodic_task(crontab(minute="17"))
def purge_idempotency_keys(now=None) -> int:
    """Hourly: forget the idempotency keys of ticket forms older than a day (idempotent: a second
    run, or a second worker, finds nothing more to delete)."""
    with task_context():
        return idempotency.purge(now)


@huey.periodic_task(crontab(minute="*/10"))
def prune_presence(now=None) -> int:
    """Every 10 minutes: forget the ticket-page heartbeats older than an hour (page loads used to
    do it, a delete on each; idempotent: a second run or worker finds nothing more)."""
    from . import presence

    with task_context():
        from ..extensions import db

        deleted = presence.prune(now)
        db.session.commit()
        return deleted


@huey.periodic_task(crontab(minute="*/10"))
def fold_ticket_counts(now=None) -> int:
    """Every 10 minutes: merge the open-ticket counters' deltas (the tab counts then sum fewer rows)."""
    from . import counts

    with task_context():
        from ..extensions import db

        rows = counts.fold(now)
        db.session.commit()
        return rows


@huey.periodic_task(crontab(minute="*"))
def remind_follow_ups(now=None) -> dict[str, int]:
    """Every minute: each follow-up (跟进) that came due reminds whoever serves its ticket, and one still
    open an hour later tells their lead, once each (idempotent: each notice's stamp is written from
    empty, so a second run or worker sends nothing)."""
    from .followups import service as follow_ups

    with task_context():
        return follow_ups.remind_due(now)
