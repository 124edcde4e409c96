"""Background tasks of the ticket import (Huey; the queue itself is ``kdcs.tasks``).

A job is marked in the request (``service.mark_*``, committed) and then queued
here; each task runs in its own application context and database session and
reports progress in the ``ImportJob`` row that the page polls.
"""

from __future__ import annotations

from huey import crontab

from ...models import ImportJob
from ...tasks import huey, task_context
from . import service


@huey.task()
def validate_import(job_id: int) -> None:
    """Read, check and stage every row of a ticket import (progress in the job row)."""
    with task_context():
        service.run_validation(job_id)


@huey.task()
def commit_import(job_id: int) -> None:
    """Write a validated ticket import in one transaction."""
    with task_context():
        service.run_commit(job_id)


@huey.periodic_task(crontab(minute="17"))
def purge_old_import_jobs() -> int:
    """Hourly: drop files and staged rows of abandoned or long-finished imports (idempotent)."""
    with task_context():
        return service.purge_old_jobs()


def start_validation(job: ImportJob) -> None:
    """Mark the job as validating and queue its validation."""
    service.mark_validating(job)
    validate_import(job.id)


def start_commit(job: ImportJob) -> None:
    """Mark the job as committing and queue the write."""
    service.mark_committing(job)
    commit_import(job.id)
