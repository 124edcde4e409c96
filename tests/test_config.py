import pytest

from kdcs import SQLITE_MMAP_BYTES, create_app
from kdcs.config import ConfigError, build_config, normalize_database_url


def test_production_refuses_missing_or_default_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("KDCS_ENV", "production")
    monkeypatch.delenv("KDCS_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        build_config(str(tmp_path))
    monkeypatch.setenv("KDCS_SECRET_KEY", "dev-insecure-change-me")
    with pytest.raises(ConfigError):
        create_app({"INSTANCE_PATH": str(tmp_path)})
    monkeypatch.setenv("KDCS_SECRET_KEY", "a-long-random-production-secret-value")
    assert build_config(str(tmp_path))["SECRET_KEY"] == "a-long-random-production-secret-value"


def test_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("KDCS_DATABASE_URL", raising=False)
    monkeypatch.setenv("KDCS_ENV", "development")
    config = build_config(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/kdcs.sqlite3"
    assert config["SESSION_COOKIE_HTTPONLY"] and config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["BABEL_DEFAULT_LOCALE"] == "zh_CN" and config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Shanghai"


@pytest.mark.parametrize("url,expected", [
    ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
    ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:////x/y.db", "sqlite:////x/y.db"),
])
def test_database_url_normalized(url, expected):
    assert normalize_database_url(url) == expected


def test_sqlite_pragmas(app):
    from sqlalchemy import text

    from kdcs.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        # pages through a memory map (the test database may be in memory: then 0 is all it reports)
        mmap = connection.execute(text("PRAGMA mmap_size")).scalar()
        assert mmap == SQLITE_MMAP_BYTES or (mmap == 0 and ":memory:" in str(db.engine.url)), mmap


def test_no_pre_ping_on_sqlite_but_on_postgresql(tmp_path):
    from kdcs.config import build_config

    sqlite = build_config(str(tmp_path), {"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db"})
    assert sqlite["SQLALCHEMY_ENGINE_OPTIONS"] == {}
    pg = build_config(str(tmp_path), {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/db"})
    assert pg["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}


def test_instance_path_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("KDCS_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.delenv("KDCS_DATABASE_URL", raising=False)
    monkeypatch.setenv("KDCS_ENV", "development")
    app = create_app()
    assert app.instance_path == str(tmp_path / "inst")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("/inst/kdcs.sqlite3")


def test_trusted_proxy_gives_each_user_their_own_address(monkeypatch, tmp_path):
    """Behind nginx, login throttling must see the client's address, not the proxy's."""
    from flask import request

    monkeypatch.setenv("KDCS_TRUSTED_PROXIES", "1")
    monkeypatch.setenv("KDCS_ENV", "development")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "KDCS_TASKS_IMMEDIATE": True})

    @app.route("/__addr")
    def addr():  # exercised through the client
        return request.remote_addr or ""

    response = app.test_client().get("/__addr", headers={"X-Forwarded-For": "10.1.2.3"},
                                     environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.get_data(as_text=True) == "10.1.2.3"
    monkeypatch.setenv("KDCS_TRUSTED_PROXIES", "0")
    plain = create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://",
                        "KDCS_TASKS_IMMEDIATE": True})
    plain.add_url_rule("/__addr", "addr", addr)
    response = plain.test_client().get("/__addr", headers={"X-Forwarded-For": "10.1.2.3"},
                                       environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.get_data(as_text=True) == "127.0.0.1"


def test_the_request_limit_lets_every_feature_limit_through(monkeypatch, tmp_path):
    """A lesson file may be 50 MB (KDCS_TRAINING_FILE_MAX_MB): the request limit must not refuse it
    first (it was the larger of the outlet and import limits, 21 MB)."""
    for name in ("KDCS_MAX_UPLOAD_MB", "KDCS_IMPORT_MAX_MB", "KDCS_ATTACHMENT_MAX_MB", "KDCS_TRAINING_FILE_MAX_MB"):
        monkeypatch.delenv(name, raising=False)
    assert build_config(str(tmp_path))["MAX_CONTENT_LENGTH"] == 51 * 1024 * 1024
    monkeypatch.setenv("KDCS_ATTACHMENT_MAX_MB", "80")
    assert build_config(str(tmp_path))["MAX_CONTENT_LENGTH"] == 81 * 1024 * 1024
    monkeypatch.setenv("KDCS_TRAINING_FILE_MAX_MB", "not a number")  # the feature falls back to 50 too
    monkeypatch.setenv("KDCS_ATTACHMENT_MAX_MB", "-3")
    assert build_config(str(tmp_path))["MAX_CONTENT_LENGTH"] == 51 * 1024 * 1024
