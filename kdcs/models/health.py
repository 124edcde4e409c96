"""Task worker heartbeats: each running worker process keeps one row fresh.

The web servers read the newest ``beat_at`` to tell whether any worker is alive
(admin home page, ``/healthz``); a row lives in the database, not in the task
queue, so it reads the same whatever the queue's storage (SQLite or Redis).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class WorkerHeartbeat(db.Model):
    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)  # "host:pid"
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
