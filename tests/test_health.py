"""The task worker's heartbeat, the admin's warning when no worker runs, and ``/healthz``."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from kdcs import tasks
from kdcs.extensions import db
from kdcs.health import service
from kdcs.health.tasks import heartbeat
from kdcs.models import WorkerHeartbeat, utcnow
from tests.test_tickets_import_worker import consumer  # noqa: F401  (a real Huey consumer)


@pytest.fixture
def worker_expected(monkeypatch):
    """The app as deployed: tasks go to a queue that a worker process must run."""
    monkeypatch.setattr(tasks.huey, "immediate", False)


def _beats() -> list[WorkerHeartbeat]:
    db.session.expire_all()
    return list(db.session.scalars(select(WorkerHeartbeat)))


# --------------------------------------------------------------------------- the service

def test_immediate_mode_expects_no_worker():
    assert tasks.huey.immediate  # the test suite runs tasks inside the request
    status = service.worker_status()
    assert status.state == service.NOT_EXPECTED and not status.needs_attention


def test_worker_states_follow_the_newest_beat(worker_expected):
    now = utcnow()
    assert service.worker_status(now).state == service.MISSING
    service.record_beat("host-a:1", now - timedelta(seconds=200), started=True)
    stale = service.worker_status(now)
    assert (stale.state, stale.seconds_since_beat) == (service.STALE, 200) and stale.needs_attention
    service.record_beat("host-b:2", now - timedelta(seconds=15), started=True)
    fresh = service.worker_status(now)
    assert (fresh.state, fresh.seconds_since_beat) == (service.OK, 15) and not fresh.needs_attention
    assert service.worker_status(now + timedelta(seconds=45)).state == service.OK  # 60 s: still ok
    assert service.worker_status(now + timedelta(seconds=46)).state == service.STALE


def test_a_beat_is_one_row_per_worker_and_old_rows_go(worker_expected):
    start = utcnow()
    service.record_beat("host:7", start - timedelta(days=3), started=True)  # a worker long gone
    service.record_beat("host:8", start, started=True)
    for seconds in (20, 40, 60):
        service.record_beat("host:8", start + timedelta(seconds=seconds))
    assert [(b.worker, b.started_at, b.beat_at) for b in _beats()] == [
        ("host:8", start, start + timedelta(seconds=60))]
    service.forget_worker("host:8")
    assert _beats() == []


# --------------------------------------------------------------------------- the admin's home page

def _home(client, auth, user=None) -> str:
    if user is not None:
        auth.login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_admin_is_warned_when_no_worker_reported_for_a_minute(client, auth, users, worker_expected):
    service.record_beat("host:1", utcnow() - timedelta(minutes=5), started=True)
    page = _home(client, auth, users.admin)
    assert 'data-testid="worker-warning"' in page
    assert "后台任务进程 (worker) 已 5 分钟没有报到" in page
    assert "工单导入" in page and "flask --app kdcs worker" in page


def test_admin_is_warned_when_no_worker_ever_reported(client, auth, users, worker_expected):
    page = _home(client, auth, users.admin)
    assert "后台任务进程 (worker) 从未报到" in page


def test_no_warning_while_a_worker_beats_or_none_is_needed(client, auth, users, monkeypatch):
    assert 'data-testid="worker-warning"' not in _home(client, auth, users.admin)  # immediate mode
    monkeypatch.setattr(tasks.huey, "immediate", False)
    service.record_beat("host:1", utcnow() - timedelta(seconds=25), started=True)
    assert 'data-testid="worker-warning"' not in _home(client, auth)


def test_only_admins_see_the_warning(client, auth, users, worker_expected):
    for user in (users.agent, users.lead, users.trainer):
        assert "worker-warning" not in _home(client, auth, user)
        auth.logout()


# --------------------------------------------------------------------------- /healthz

def test_healthz_needs_no_login_and_tells_nothing_else(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == {"status": "ok", "database": "ok", "worker": {"state": "not_expected"}}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers  # no session for a monitor


def test_healthz_reports_a_fresh_then_a_stale_worker(client, worker_expected):
    assert client.get("/healthz").get_json() == {
        "status": "degraded", "database": "ok", "worker": {"state": "missing", "stale_after_seconds": 60}}
    service.record_beat("host:1", utcnow() - timedelta(seconds=5), started=True)
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["worker"]["state"] == "ok"
    assert 5 <= body["worker"]["seconds_since_beat"] <= 8
    service.record_beat("host:1", utcnow() - timedelta(seconds=90))
    response = client.get("/healthz")
    assert response.status_code == 200  # pages still work: a balancer keeps this server
    body = response.get_json()
    assert (body["status"], body["worker"]["state"]) == ("degraded", "stale")
    assert 90 <= body["worker"]["seconds_since_beat"] <= 93
    assert "host" not in response.get_data(as_text=True)  # no worker names


def test_healthz_answers_503_without_a_database(client, monkeypatch):
    real_execute = db.session.execute

    def broken(statement, *args, **kwargs):
        if str(statement).strip() == "SELECT 1":
            raise OperationalError("SELECT 1", {}, Exception("connection refused: password=secret"))
        return real_execute(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "error", "worker": {"state": "unknown"}}
    assert "secret" not in response.get_data(as_text=True)


# --------------------------------------------------------------------------- a real consumer

@pytest.fixture
def fast_beat(monkeypatch):
    """A beat every 0.2 s (asked for before ``consumer`` so the thread starts with it)."""
    monkeypatch.setattr(service, "BEAT_SECONDS", 0.2)


def test_a_running_consumer_beats_and_its_row_goes_when_it_stops(fast_beat, request):
    worker = request.getfixturevalue("consumer")  # tests/test_tickets_import_worker.py's, after fast_beat
    deadline = time.monotonic() + 10
    while not _beats() and time.monotonic() < deadline:
        time.sleep(0.05)
    beats = _beats()
    assert len(beats) == 1, "one worker process: one row"
    first = beats[0].beat_at
    while _beats()[0].beat_at == first and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _beats()[0].beat_at > first, "the beat moves on while the consumer runs"
    assert service.worker_status().state == service.OK
    worker.stop(graceful=True)  # the fixture's own stop afterwards finds it stopped
    assert heartbeat._thread is None
    assert db.session.scalar(select(func.count()).select_from(WorkerHeartbeat)) == 0
