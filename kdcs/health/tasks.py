"""The task worker's heartbeat: a worker process says every ``BEAT_SECONDS`` that it is alive.

Huey calls ``on_startup`` hooks in each worker thread of a consumer (``flask --app kdcs
worker`` or ``huey_consumer kdcs.tasks.huey``); the first one starts one beating
thread per process, the last ``on_shutdown`` stops it and removes the process's row.
The beat is written directly (not queued as a task), so a worker busy with a long
import still counts as alive; a worker that was killed stops beating and is stale a
minute later. One upsert of one row every 20 seconds per process.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from ..tasks import huey, task_context
from . import service

log = logging.getLogger(__name__)


class Heartbeat:
    """One beating thread per process, shared by the consumer's worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.worker = ""

    def start(self) -> None:
        """Called by each worker thread; the first starts the beat."""
        with self._lock:
            self._users += 1
            if self._thread is not None:
                return
            self.worker = f"{socket.gethostname()}:{os.getpid()}"[:200]
            self._stop = threading.Event()
            self._beat(started=True)
            self._thread = threading.Thread(target=self._run, args=(self._stop,),
                                            name="kdcs-heartbeat", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Called by each worker thread as it ends; the last stops the beat and removes the row."""
        with self._lock:
            self._users = max(0, self._users - 1)
            if self._users or self._thread is None:
                return
            self._stop.set()
            thread, self._thread = self._thread, None
        thread.join(timeout=5)
        try:
            with task_context():
                service.forget_worker(self.worker)
        except Exception:  # noqa: BLE001 - a database gone at shutdown: the row goes stale instead
            log.warning("worker heartbeat: could not remove %s", self.worker, exc_info=True)

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(service.BEAT_SECONDS):
            self._beat()

    def _beat(self, started: bool = False) -> None:
        try:
            with task_context():
                service.record_beat(self.worker, started=started)
        except Exception:  # noqa: BLE001 - the database may be down for a while; keep beating
            log.warning("worker heartbeat: could not record a beat", exc_info=True)


heartbeat = Heartbeat()


@huey.on_startup("kdcs_heartbeat")
def start_heartbeat() -> None:
    """Each consumer worker thread: make sure this process beats."""
    heartbeat.start()


@huey.on_shutdown("kdcs_heartbeat")
def stop_heartbeat() -> None:
    """Each consumer worker thread ending: the last one stops the beat."""
    heartbeat.stop()
