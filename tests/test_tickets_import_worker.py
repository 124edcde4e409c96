"""An import through a real Huey consumer (SqliteHuey file, worker thread), not immediate mode."""

from __future__ import annotations

import signal
import time

import pytest
from sqlalchemy import func, select

from kdcs import tasks
from kdcs.extensions import db
from kdcs.models import ImportStatus, Ticket
from tests.test_tickets_import import SAMPLE_XLS, clean_uploads, job_from, map_form, upload  # noqa: F401


@pytest.fixture
def consumer(app, tmp_path, monkeypatch):
    """Huey switched to a SqliteHuey file with a consumer thread; immediate mode again afterwards."""
    saved_signals = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    monkeypatch.setattr(tasks, "_app", app)  # the app the worker threads run tasks in
    original = (tasks.huey.storage_class, dict(tasks.huey.storage_kwargs))
    tasks.use_storage_of(tasks.make_huey("", str(tmp_path)))
    tasks.huey.immediate = False
    worker = tasks.huey.create_consumer(workers=1, worker_type="thread", periodic=False,
                                        initial_delay=0.05, max_delay=0.2, check_worker_health=False)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop(graceful=True)
        tasks.huey.immediate = True
        tasks.huey.storage_class, tasks.huey.storage_kwargs = original
        for sig, handler in saved_signals.items():
            signal.signal(sig, handler)


def wait_for(job, statuses, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        db.session.expire_all()
        db.session.refresh(job)
        seen.append(job.status)
        if job.status in statuses:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"job stayed {job.status} ({seen[-5:]})")


def test_import_runs_in_a_real_consumer(client, auth, sto_world, consumer):
    assert not tasks.huey.immediate
    auth.login(sto_world["lead"])
    job = job_from(upload(client, sto_world["brand"], SAMPLE_XLS))
    response = client.post(f"/tickets/import/{job.id}/map", data=map_form(job))
    assert response.status_code == 303
    db.session.refresh(job)
    # The request returned before the work was done (or the worker was very quick).
    assert job.status in (ImportStatus.VALIDATING, ImportStatus.VALIDATED)
    if job.status == ImportStatus.VALIDATING:
        fragment = client.htmx("get", f"/tickets/import/{job.id}/progress")
        assert fragment.status_code in (200, 204)
    wait_for(job, {ImportStatus.VALIDATED, ImportStatus.FAILED})
    assert job.status == ImportStatus.VALIDATED, job.message
    assert (job.valid_rows, job.duplicate_rows, job.error_rows) == (53, 1, 6)

    client.post(f"/tickets/import/{job.id}/commit")
    wait_for(job, {ImportStatus.DONE, ImportStatus.FAILED})
    assert job.status == ImportStatus.DONE, job.message
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 53
    response = client.htmx("get", f"/tickets/import/{job.id}/progress")
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/tickets/import/{job.id}"
