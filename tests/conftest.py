"""Test fixtures. The suite runs on PostgreSQL when KDCS_TEST_DATABASE_URL is set,
otherwise on a temporary SQLite file. The schema comes from the migrations.

Cleanup: every statement that writes is seen by ``WRITES`` (an engine event), so after a
test only the tables it wrote to are emptied. A ``SharedWorld`` (tests/worlds.py) is built
once and kept for the next test that asks for it, unless a test wrote to the database in
between: then it is emptied and built again, so no test sees another test's writes.
"""

from __future__ import annotations

import os
import re
import threading

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from kdcs import create_app
from kdcs.extensions import db
from tests import factories, worlds

TEST_DATABASE_URL = os.environ.get("KDCS_TEST_DATABASE_URL")
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1"… under pytest-xdist


# --------------------------------------------------------------------------- write tracking

_WRITE = re.compile(
    r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+'
    r'(?:"?\w+"?\.)?"?(\w+)"?', re.IGNORECASE)
_READ_ONLY = re.compile(
    r"\s*(?:SELECT|PRAGMA|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|SHOW|EXPLAIN|ANALYZE|VACUUM)\b",
    re.IGNORECASE)
_WITH = re.compile(r"\s*WITH\b", re.IGNORECASE)  # a CTE: read-only unless it holds a write
_WRITE_WORD = re.compile(r"\b(?:INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class WriteTracker:
    """Which tables were written since the database was last empty, and since the last mark.

    ``everything`` is set by a statement it cannot classify (DDL, a CTE that writes…):
    then every table counts as written.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.since_empty: set[str] = set()
        self.since_mark: set[str] = set()
        self.everything = False
        self.count = 0  # write statements seen, ever (did this request write? compare before/after)

    def note(self, statement: str) -> None:
        match = _WRITE.match(statement)
        if match is None and (_READ_ONLY.match(statement) or (
                _WITH.match(statement) and not _WRITE_WORD.search(statement))):
            return
        with self._lock:
            self.count += 1
            if match is None:
                self.everything = True
                self.since_mark.add("*")
            else:
                tables = {match.group(1).lower()}
                if "tickets" in tables:  # the counter triggers (0016) append to ticket_counts unseen
                    tables.add("ticket_counts")
                self.since_empty |= tables
                self.since_mark |= tables

    def written(self, tables: set[str]) -> None:
        """Count ``tables`` as written (a shared world copied back into the database)."""
        with self._lock:
            self.since_empty |= tables - {"*"}
            self.everything = self.everything or "*" in tables

    def mark(self) -> None:
        with self._lock:
            self.since_mark.clear()

    @property
    def written_since_mark(self) -> bool:
        return bool(self.since_mark)

    def emptied(self) -> None:
        with self._lock:
            self.since_empty.clear()
            self.since_mark.clear()
            self.everything = False


WRITES = WriteTracker()


@event.listens_for(Engine, "before_cursor_execute")
def _track_writes(_conn, _cursor, statement, _parameters, _context, _executemany):
    WRITES.note(statement)


def empty_written_tables() -> None:
    """Delete the rows of every table written since the database was last empty."""
    if not WRITES.since_empty and not WRITES.everything:
        return
    db.session.rollback()
    tables = [t for t in reversed(db.metadata.sorted_tables)
              if WRITES.everything or t.name.lower() in WRITES.since_empty]
    for table in tables:
        db.session.execute(table.delete())
    if db.engine.dialect.name == "postgresql":
        # DELETE + restarting the sequences is several times faster than TRUNCATE on
        # small tables (TRUNCATE of every table cost ~0.3 s per test); ids restart at 1
        # as they do on SQLite.
        db.session.execute(text(
            "SELECT setval(c.oid, 1, false) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'S' AND n.nspname = current_schema()"
        ))
    db.session.commit()
    WRITES.emptied()


def pytest_collection_modifyitems(items):
    """Everything under tests/e2e is a browser test (``-m "not e2e"`` leaves it out) even without its marker."""
    for item in items:
        if "e2e" in item.path.parts and item.get_closest_marker("e2e") is None:
            item.add_marker(pytest.mark.e2e)


# --------------------------------------------------------------------------- app and database

def _postgres_url(url: str) -> str:
    """The URL the app uses: psycopg 3, and under xdist a schema of its own per worker."""
    from kdcs.config import normalize_database_url

    url = normalize_database_url(url)
    if XDIST_WORKER:
        url += ("&" if "?" in url else "?") + f"options=-csearch_path%3Dkdcs_{XDIST_WORKER}"
    return url


def _reset_postgres_schema(url: str) -> None:
    from sqlalchemy import create_engine

    schema = f"kdcs_{XDIST_WORKER}" if XDIST_WORKER else "public"
    engine = create_engine(_postgres_url(url))
    with engine.begin() as connection:  # an unreachable server fails here, loudly
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()


class KdcsClient(FlaskClient):
    """Test client that lets the test's session see what each request committed."""

    def open(self, *args, **kwargs):
        # A fresh app context per request: its own `g` and database session,
        # as in production, instead of reusing the test's context.
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response

    def htmx(self, method: str, url: str, **kwargs):
        headers = {"HX-Request": "true", **kwargs.pop("headers", {})}
        return self.open(url, method=method.upper(), headers=headers, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    if TEST_DATABASE_URL:
        _reset_postgres_schema(TEST_DATABASE_URL)
        url = _postgres_url(TEST_DATABASE_URL)
    else:
        url = f"sqlite:///{instance / 'test.sqlite3'}"
    os.environ.setdefault("KDCS_ENV", "testing")
    app = create_app({
        "INSTANCE_PATH": str(instance),
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": "test-secret-key",
        "KDCS_UPLOAD_DIR": str(instance / "uploads"),
    })
    app.test_client_class = KdcsClient
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        empty_written_tables()  # rows the migrations wrote, if any: every test starts empty
    return app


@pytest.fixture(autouse=True)
def app_ctx(app, request):
    """Each test runs in an app context and leaves an empty database behind (or, for a
    test of a shared world that wrote nothing, that world as it was built)."""
    from kdcs import tasks

    # Tests that build another app (config tests) may have switched the one
    # module-level queue out of immediate mode; every test starts in it.
    tasks.init_app(app)
    with app.app_context():
        worlds.before_test(request)
        yield
        db.session.rollback()
        worlds.after_test()
        db.session.remove()
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


class AuthActions:
    """``auth.login(user_or_username)`` / ``auth.logout()`` on the test's client."""

    def __init__(self, client):
        self._client = client

    def login(self, user, password: str = factories.PASSWORD):
        username = user if isinstance(user, str) else user.username
        data = {"username": username, "password": password}
        if self._client.application.config["WTF_CSRF_ENABLED"]:
            from tests.html import csrf_token

            data["csrf_token"] = csrf_token(self._client.get("/login"))
        response = self._client.post("/login", data=data)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return response

    def logout(self):
        response = self._client.post("/logout")
        assert response.status_code == 303
        return response


@pytest.fixture
def auth(client):
    return AuthActions(client)


# Worlds (tests/worlds.py): each builds on the one before.

@pytest.fixture
def users():
    """One active user of each role (agent_a, trainer_a, lead_a, admin_a), and team 一组 of the lead and agent."""
    return worlds.make_users()


@pytest.fixture
def outlet_world(users):
    """``users`` plus outlets in and out of each scope (own, team_outlet, other, free)."""
    return worlds.make_outlets(users)


@pytest.fixture
def ticket_world(users):
    """``outlet_world`` plus a ticket in each scope (mine, team_ticket, far)."""
    return worlds.make_tickets(users)


@pytest.fixture
def queue_world(users):
    """``users`` plus two outlets of the agent and two reasons (the queue tests add tickets)."""
    return worlds.make_queue(users)


@pytest.fixture
def desk_world(users):
    """``users`` plus an outlet of the agent, reason 催件 and a work-order deadline rule."""
    return worlds.make_desk(users)


@pytest.fixture
def sto_world(users):
    """``users`` plus the reference data and STO with the sample file's outlets."""
    return worlds.make_sto(users)


@pytest.fixture
def export_world(users):
    """``users`` plus the reference data, two STO outlets and five tickets."""
    return worlds.make_export(users)


@pytest.fixture
def settings_world(users):
    """``users`` plus the ticket settings records (complaint, chase, damaged, rule, reply)."""
    return worlds.make_ticket_settings(users)


# Built once, shared by the tests that ask for it until one of them writes (tests/worlds.py).
route_world = worlds.shared_world(worlds.make_route_world, name="route_world")
