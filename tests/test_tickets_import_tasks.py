"""Ticket import tasks: registered with the one Huey queue, and the periodic purge of old jobs."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kdcs.extensions import db
from kdcs.models import ImportJob, ImportJobRow, ImportStatus, utcnow
from kdcs.tickets.imports import service as importing
from kdcs.tickets.imports.tasks import purge_old_import_jobs
from tests.test_tickets_import import SAMPLE_XLS, clean_uploads, job_from, map_form, upload  # noqa: F401

IMPORT_TASKS = {
    "kdcs.tickets.imports.tasks.validate_import",
    "kdcs.tickets.imports.tasks.commit_import",
    "kdcs.tickets.imports.tasks.purge_old_import_jobs",
}
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_the_app_registers_the_import_tasks_with_the_queue(app):
    from kdcs.tasks import huey

    assert IMPORT_TASKS <= set(huey._registry._registry)


@pytest.mark.slow  # starts a Python process
def test_a_bare_huey_consumer_loads_the_feature_tasks(tmp_path):
    """``huey_consumer kdcs.tasks.huey`` imports no app: the queue loads the task modules for its consumer."""
    code = (
        "from kdcs.tasks import huey\n"
        "before = set(huey._registry._registry)\n"
        "huey.create_consumer(workers=1, periodic=True)\n"
        "print(sorted(before)); print(sorted(huey._registry._registry))\n"
    )
    env = {**os.environ, "KDCS_INSTANCE_PATH": str(tmp_path), "KDCS_ENV": "development"}
    env.pop("KDCS_TASKS_IMMEDIATE", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    before, after = (eval(line) for line in result.stdout.splitlines()[-2:])  # noqa: S307 (our own output)
    assert not IMPORT_TASKS & set(before)  # kdcs.tasks alone imports no feature (no import circle)
    assert IMPORT_TASKS <= set(after)


def test_the_purge_runs_once_an_hour():
    runs_at = purge_old_import_jobs.s().validate_datetime
    assert runs_at(datetime(2026, 11, 23, 3, 17))
    assert not runs_at(datetime(2026, 11, 23, 3, 18))
    assert sum(runs_at(datetime(2026, 11, 23, 3, 0) + timedelta(minutes=m)) for m in range(60)) == 1


def _abandoned(job: ImportJob, days: int = 2) -> None:
    job.created_at = utcnow() - timedelta(days=days)
    db.session.commit()


def test_purge_cancels_uploads_left_for_a_day_and_is_idempotent(app, client, auth, sto_world):
    auth.login(sto_world["lead"])
    old = job_from(upload(client, sto_world["brand"], SAMPLE_XLS))
    fresh = job_from(upload(client, sto_world["brand"], SAMPLE_XLS))
    old_file = importing.upload_dir() / old.stored_name
    _abandoned(old)

    assert purge_old_import_jobs.call_local() == 1
    db.session.expire_all()
    assert old.status == ImportStatus.CANCELLED and old.stored_name is None and not old_file.exists()
    assert fresh.status == ImportStatus.UPLOADED and (importing.upload_dir() / fresh.stored_name).exists()

    assert purge_old_import_jobs.call_local() == 0  # a second run finds nothing left to do
    db.session.expire_all()
    assert old.status == ImportStatus.CANCELLED and fresh.status == ImportStatus.UPLOADED


def test_purge_drops_staged_rows_of_jobs_finished_a_week_ago(client, auth, sto_world):
    auth.login(sto_world["lead"])
    job = job_from(upload(client, sto_world["brand"], SAMPLE_XLS))
    client.post(f"/tickets/import/{job.id}/map", data=map_form(job))  # immediate mode: validated now
    db.session.refresh(job)
    assert job.status == ImportStatus.VALIDATED

    def staged() -> int:
        return db.session.scalar(select(func.count()).select_from(ImportJobRow).where(ImportJobRow.job_id == job.id))

    assert staged() > 0
    job.status, job.finished_at = ImportStatus.DONE, utcnow() - timedelta(days=importing.KEEP_FINISHED_DAYS - 1)
    db.session.commit()
    purge_old_import_jobs.call_local()
    assert staged() > 0  # finished less than a week ago: kept
    job.finished_at = utcnow() - timedelta(days=importing.KEEP_FINISHED_DAYS + 1)
    db.session.commit()
    purge_old_import_jobs.call_local()
    purge_old_import_jobs.call_local()
    assert staged() == 0


def test_the_import_page_purges_nothing(client, auth, sto_world):
    auth.login(sto_world["lead"])
    job = job_from(upload(client, sto_world["brand"], SAMPLE_XLS))
    _abandoned(job)
    assert client.get("/tickets/import").status_code == 200
    db.session.expire_all()
    assert job.status == ImportStatus.UPLOADED and (importing.upload_dir() / job.stored_name).exists()
