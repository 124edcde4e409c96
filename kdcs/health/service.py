"""Is the system healthy: can we reach the database, is a task worker alive?

A worker process records a beat every ``BEAT_SECONDS`` (``kdcs/health/tasks.py``);
when the newest beat is older than ``STALE_AFTER_SECONDS`` no worker is running,
so ticket imports and reminders would wait forever: the admin home page says so
and ``/healthz`` reports it. In immediate mode (``KDCS_TASKS_IMMEDIATE=1``, tests)
tasks run inside the request and no worker is expected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from .. import tasks
from ..extensions import db
from ..models import WorkerHeartbeat, utcnow

log = logging.getLogger(__name__)

BEAT_SECONDS = 20  # how often a running worker records that it is alive
STALE_AFTER_SECONDS = 60  # no beat for longer than this: no worker is running
FORGET_AFTER = timedelta(days=1)  # rows of workers gone this long are removed

# Worker states: a worker beat recently; the newest beat is too old; no worker ever
# beat on this database; tasks run inside requests (immediate mode), none is expected.
OK, STALE, MISSING, NOT_EXPECTED = "ok", "stale", "missing", "not_expected"


@dataclass(frozen=True)
class WorkerStatus:
    state: str
    seconds_since_beat: int | None = None
    last_beat_at: datetime | None = None

    @property
    def needs_attention(self) -> bool:
        """True when work is queued for a worker that is not running."""
        return self.state in (STALE, MISSING)


def worker_expected() -> bool:
    """Whether background tasks need a worker process (False in immediate mode)."""
    return not tasks.huey.immediate


def worker_status(now: datetime | None = None) -> WorkerStatus:
    """The task workers' state from the newest heartbeat (one indexed read)."""
    if not worker_expected():
        return WorkerStatus(NOT_EXPECTED)
    now = now or utcnow()
    last = db.session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    if last is None:
        return WorkerStatus(MISSING)
    if last.tzinfo is None:  # max() keeps the column's type; be safe with any driver
        last = last.replace(tzinfo=UTC)
    seconds = max(0, int((now - last).total_seconds()))
    return WorkerStatus(OK if seconds <= STALE_AFTER_SECONDS else STALE, seconds, last)


def database_ok() -> bool:
    """One trivial query: True when the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable (%s)", type(exc).__name__)
        db.session.rollback()
        return False


def health_report(now: datetime | None = None) -> tuple[dict, bool]:
    """The ``/healthz`` document and whether this server can serve (the database answers).

    ``status`` is ``ok``, ``degraded`` (the worker needs attention: pages work, queued
    work waits) or ``error`` (no database). Only states and ages: no names, hosts,
    versions or counts.
    """
    if not database_ok():
        return {"status": "error", "database": "error", "worker": {"state": "unknown"}}, False
    try:
        worker = worker_status(now)
    except SQLAlchemyError as exc:  # e.g. the schema is not migrated yet
        log.warning("health check: worker heartbeats unreadable (%s)", type(exc).__name__)
        db.session.rollback()
        return {"status": "error", "database": "error", "worker": {"state": "unknown"}}, False
    document = {"state": worker.state}
    if worker.seconds_since_beat is not None:
        document["seconds_since_beat"] = worker.seconds_since_beat
    if worker.state != NOT_EXPECTED:
        document["stale_after_seconds"] = STALE_AFTER_SECONDS
    status = "degraded" if worker.needs_attention else "ok"
    return {"status": status, "database": "ok", "worker": document}, True


def record_beat(worker: str, now: datetime | None = None, *, started: bool = False) -> None:
    """Upsert this worker's row (``started`` also resets its start time) and commit."""
    now = now or utcnow()
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(WorkerHeartbeat).values(worker=worker, started_at=now, beat_at=now)
    updates = {"beat_at": statement.excluded.beat_at}
    if started:
        updates["started_at"] = statement.excluded.started_at
    db.session.execute(statement.on_conflict_do_update(index_elements=["worker"], set_=updates))
    if started:  # a new worker process tidies up after those long gone
        db.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - FORGET_AFTER))
    db.session.commit()


def forget_worker(worker: str) -> None:
    """Remove a worker's row when it stops cleanly (so its absence shows at once) and commit."""
    db.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker == worker))
    db.session.commit()
