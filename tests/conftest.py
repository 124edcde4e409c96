"""Test fixtures. The suite runs on PostgreSQL when KDCS_TEST_DATABASE_URL is set,
otherwise on a temporary SQLite file. The schema comes from the migrations."""

from __future__ import annotations

import os

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from kdcs import create_app
from kdcs.extensions import db
from tests import factories

TEST_DATABASE_URL = os.environ.get("KDCS_TEST_DATABASE_URL")


def _reset_postgres_schema(url: str) -> None:
    from sqlalchemy import create_engine

    from kdcs.config import normalize_database_url

    engine = create_engine(normalize_database_url(url))
    with engine.begin() as connection:  # an unreachable server fails here, loudly
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
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
    url = TEST_DATABASE_URL or f"sqlite:///{instance / 'test.sqlite3'}"
    if TEST_DATABASE_URL:
        _reset_postgres_schema(TEST_DATABASE_URL)
    os.environ.setdefault("KDCS_ENV", "testing")
    app = create_app({
        "INSTANCE_PATH": str(instance),
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url if not url.startswith("postgres") else
        __import__("kdcs.config", fromlist=["x"]).normalize_database_url(url),
        "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": "test-secret-key",
        "KDCS_UPLOAD_DIR": str(instance / "uploads"),
    })
    app.test_client_class = KdcsClient
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


@pytest.fixture(autouse=True)
def app_ctx(app):
    """Each test runs in an app context and leaves an empty database behind."""
    from kdcs import tasks

    # Tests that build another app (config tests) may have switched the one
    # module-level queue out of immediate mode; every test starts in it.
    tasks.init_app(app)
    with app.app_context():
        yield
        db.session.rollback()
        _empty_all_tables()
        db.session.remove()
    app.config["WTF_CSRF_ENABLED"] = False


def _empty_all_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
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


def login(client, user, password: str = factories.PASSWORD):
    response = client.post("/login", data={"username": user.username, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def users():
    """One active user of each role, plus a team for the lead and agent."""
    team = factories.make_team("一组")
    lead = factories.make_user("lead", username="lead_a", team=team)
    team.lead_id = lead.id
    db.session.commit()
    return {
        "agent": factories.make_user("agent", username="agent_a", team=team),
        "trainer": factories.make_user("trainer", username="trainer_a"),
        "lead": lead,
        "admin": factories.make_user("admin", username="admin_a"),
        "team": team,
    }
