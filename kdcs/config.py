"""Configuration read from the environment (KDCS_*), with safe local defaults."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SECRET_KEY = "dev-insecure-change-me"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """Raised when the environment would make the app unsafe to start."""


def instance_path_from_env() -> str:
    return os.path.abspath(os.environ.get("KDCS_INSTANCE_PATH") or PROJECT_ROOT / "instance")


def _megabytes(name: str, default: float) -> float:
    """A size limit in MB from the environment; a value that is not a positive number counts as the
    default (the feature reading the variable then allows that much or less)."""
    try:
        value = float(os.environ.get(name) or default)
    except ValueError:
        return default
    return value if value > 0 else default


def build_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Return the Flask config mapping; production refuses a missing/default key."""
    env = os.environ.get("KDCS_ENV", "development")
    secret_key = os.environ.get("KDCS_SECRET_KEY", "")
    database_url = os.environ.get("KDCS_DATABASE_URL") or (
        "sqlite:///" + os.path.join(instance_path, "kdcs.sqlite3")
    )
    config = {
        "KDCS_ENV": env,
        "SECRET_KEY": secret_key or DEFAULT_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url),
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("KDCS_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": int(os.environ.get("KDCS_SESSION_HOURS", "12")) * 3600,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        # The largest upload any limit allows (+1 MB for the form around it): outlet Excel,
        # ticket import, evidence, lesson file (50 MB: short videos). Each feature checks its own
        # limit and answers in Chinese; a body over this one is refused before any view.
        "MAX_CONTENT_LENGTH": int(max(_megabytes("KDCS_MAX_UPLOAD_MB", 20), _megabytes("KDCS_IMPORT_MAX_MB", 20),
                                      _megabytes("KDCS_ATTACHMENT_MAX_MB", 10),
                                      _megabytes("KDCS_TRAINING_FILE_MAX_MB", 50)) * 1024 * 1024) + 1024 * 1024,
        "KDCS_MAX_UPLOAD_MB": float(os.environ.get("KDCS_MAX_UPLOAD_MB", "20")),
        "KDCS_IMPORT_MAX_MB": float(os.environ.get("KDCS_IMPORT_MAX_MB", "20")),
        "KDCS_EXPORT_MAX_ROWS": int(os.environ.get("KDCS_EXPORT_MAX_ROWS", "100000")),
        "KDCS_TASK_URL": os.environ.get("KDCS_TASK_URL", ""),
        # Number of reverse proxies (nginx) in front whose X-Forwarded-For is trusted;
        # without it every user behind the proxy shares one address for login throttling.
        "KDCS_TRUSTED_PROXIES": int(os.environ.get("KDCS_TRUSTED_PROXIES", "0")),
        "KDCS_UPLOAD_DIR": os.path.join(instance_path, "uploads"),
        "KDCS_BACKUP_DIR": os.path.join(instance_path, "backups"),
        # Login throttling: failures allowed inside the window before refusing.
        "KDCS_LOGIN_MAX_FAILURES_PER_USER": int(os.environ.get("KDCS_LOGIN_MAX_FAILURES_PER_USER", "5")),
        "KDCS_LOGIN_MAX_FAILURES_PER_ADDRESS": int(os.environ.get("KDCS_LOGIN_MAX_FAILURES_PER_ADDRESS", "20")),
        "KDCS_LOGIN_WINDOW_MINUTES": int(os.environ.get("KDCS_LOGIN_WINDOW_MINUTES", "15")),
        "KDCS_PAGE_SIZE": 50,
    }
    if overrides:
        config.update(overrides)
    # A server-side database (PostgreSQL) may restart under a pooled connection: ping it on
    # checkout. An SQLite file never drops a connection, and the ping was a statement on
    # every request.
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS",
                      {} if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else {"pool_pre_ping": True})
    if config["KDCS_ENV"] == "production" and config["SECRET_KEY"] in ("", DEFAULT_SECRET_KEY):
        raise ConfigError(
            "KDCS_SECRET_KEY must be set to a long random value when KDCS_ENV=production"
        )
    return config


def normalize_database_url(url: str) -> str:
    """Let people write postgres:// or postgresql:// and still get psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
