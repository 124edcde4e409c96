"""KDCS application factory."""

from __future__ import annotations

import os
import sqlite3

from flask import Flask

from . import htmx as htmx_rules
from . import request_args, template_escape  # noqa: F401 (template_escape: before any template compiles)
from .config import build_config, instance_path_from_env
from .extensions import babel, csrf, db, login_manager, migrate
from .extensions import htmx as htmx_extension


def create_app(config: dict | None = None) -> Flask:
    """Build the KDCS app: configuration, extensions, background tasks, blueprints and CLI."""
    instance_path = (config or {}).get("INSTANCE_PATH") or instance_path_from_env()
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=False)
    app.config.update(build_config(instance_path, config))
    os.makedirs(app.instance_path, exist_ok=True)
    from . import session_cookie

    session_cookie.init_app(app)  # Flask's signed cookie, each value verified once per process
    if app.config["KDCS_TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["KDCS_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.jinja_env.add_extension("jinja2.ext.do")

    from . import i18n

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    csrf.init_app(app)
    htmx_extension.init_app(app)
    i18n.init_app(app, babel)
    _init_database_pragmas(app)
    _init_login(app)
    htmx_rules.init_app(app)
    request_args.init_app(app)  # type=int never yields a number the database cannot hold

    from . import errors, filters, navigation, security, tasks

    tasks.init_app(app)

    errors.init_app(app)
    filters.init_app(app)
    navigation.init_app(app)
    security.init_app(app)

    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .dashboard import bp as dashboard_bp
    from .health import bp as health_bp
    from .leave import bp as leave_bp
    from .margin import bp as margin_bp
    from .notifications import bp as notifications_bp
    from .org import bp as org_bp
    from .outlets import bp as outlets_bp
    from .overtime import bp as overtime_bp
    from .quality import bp as quality_bp
    from .sop import bp as sop_bp
    from .tickets import bp as tickets_bp
    from .training import bp as training_bp
    from .workcalendar.views import bp as workcalendar_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(outlets_bp)
    app.register_blueprint(org_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(tickets_bp)
    app.register_blueprint(sop_bp)
    app.register_blueprint(leave_bp)
    app.register_blueprint(training_bp)
    app.register_blueprint(overtime_bp)
    app.register_blueprint(quality_bp)
    app.register_blueprint(margin_bp)
    app.register_blueprint(workcalendar_bp)

    from .cli import init_app as init_cli

    init_cli(app)
    from . import url_build

    url_build.install(app)
    _drop_repeated_default_context(app)
    _memo_ensure_sync(app)
    return app


def _drop_repeated_default_context(app: Flask) -> None:
    """Each blueprint brings its own copy of Flask's default template context processor (``g``,
    ``request``, ``session``), run on every render after the app's own, which already gave the
    same three: the copies are dropped (one call less per rendered request)."""
    from flask.templating import _default_template_ctx_processor as default

    if default not in app.template_context_processors.get(None, ()):
        return
    for name, processors in app.template_context_processors.items():
        if name is not None and default in processors:
            processors[:] = [p for p in processors if p is not default]


def _memo_ensure_sync(app: Flask) -> None:
    """``app.ensure_sync`` without ``inspect.iscoroutinefunction`` on every call: Flask asks it for
    the view and every hook, context processor and teardown of each request (~18 calls). The plain
    (non-async) functions registered by the first request are collected once and returned as they
    are; anything else (a bound method, a function registered later) goes to Flask's own check."""
    from inspect import iscoroutinefunction, isfunction

    flask_ensure_sync = app.ensure_sync
    plain: frozenset | None = None

    def registered_functions():
        yield from app.view_functions.values()
        for registry in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs,
                         app.template_context_processors, app.url_value_preprocessors,
                         app.url_default_functions):
            for functions in registry.values():
                yield from functions
        yield from app.teardown_appcontext_funcs
        for by_code in app.error_handler_spec.values():
            for handlers in by_code.values():
                yield from handlers.values()

    def ensure_sync(func):
        nonlocal plain
        if plain is None:
            plain = frozenset(f for f in registered_functions() if isfunction(f) and not iscoroutinefunction(f))
        if func in plain:
            return func
        return flask_ensure_sync(func)

    app.ensure_sync = ensure_sync


def _init_database_pragmas(app: Flask) -> None:
    from sqlalchemy import event

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def set_sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Pages read through a memory map instead of read() into each connection's small
            # private cache (2 MB): the queue's counts and the lead's figures scan the tickets'
            # pages; with the map they cost ~40 % less CPU (bench/load.py's 20k-ticket database).
            # The map is the OS page cache itself, shared by every connection and process.
            cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            # Planner statistics (sqlite_stat1) kept fresh the way the SQLite docs
            # advise: ``PRAGMA optimize`` (below, and every SQLITE_OPTIMIZE_EVERY uses)
            # re-analyses a table whose size changed a lot. Without statistics the
            # queue sorts every open ticket of a scope instead of reading the queue
            # index. No analysis_limit: its sampled statistics flipped the agent
            # queue at 1M tickets back to that sort (~50 ms).
            if sqlite3.sqlite_version_info >= (3, 46, 0):
                cursor.execute("PRAGMA optimize=0x10002")  # new connection: also tables never analysed
            cursor.close()

        @event.listens_for(engine, "checkin")
        def optimize_now_and_then(dbapi_connection, record):
            uses = record.info["kdcs_uses"] = record.info.get("kdcs_uses", 0) + 1
            if uses % SQLITE_OPTIMIZE_EVERY == 0:
                _sqlite_optimize(dbapi_connection)

        @event.listens_for(engine, "close")
        def optimize_before_close(dbapi_connection, _record):
            _sqlite_optimize(dbapi_connection)


# How much of the database file SQLite reads through a memory map (the rest as usual).
SQLITE_MMAP_BYTES = 1024 * 1024 * 1024

# A pooled connection runs ``PRAGMA optimize`` every this many uses (and when closed).
SQLITE_OPTIMIZE_EVERY = 1000


def _sqlite_optimize(dbapi_connection) -> None:
    """``PRAGMA optimize``: cheap (a no-op unless a table's row count moved ~10×); never fails a request."""
    try:
        dbapi_connection.execute("PRAGMA optimize")
    except Exception:  # locked, read-only, closing: statistics are an optimisation only
        pass


_USER_BY_ID: list = []


def _user_by_id():
    """The session's user by id, an ORM select built once per process."""
    if not _USER_BY_ID:
        from sqlalchemy import bindparam, select

        from .models import User

        _USER_BY_ID.append(select(User).where(User.id == bindparam("user_id")))
    return _USER_BY_ID[0]


def _init_login(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from .poll_user import POLL_ENDPOINTS, WITH_UNREAD, load_poll_user

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        from flask import request

        raw_id, _, token = user_id.partition(":")
        if not raw_id.isdigit():
            return None
        endpoint = request.endpoint
        if endpoint in POLL_ENDPOINTS:  # the bell and the presence poll: no ORM user
            return load_poll_user(int(raw_id), token, request.remote_addr, with_unread=endpoint == WITH_UNREAD)
        # A prebuilt statement (``session.get`` builds its select and cache key on every request).
        user = db.session.execute(_user_by_id(), {"user_id": int(raw_id)}).scalar_one_or_none()
        # A deactivated user or a rotated token (password reset) ends the session.
        if user is None or not user.is_active or user.session_token != token:
            return None
        # The request's address travels with the actor into the services (the audit log
        # records it), so no service reads ``request`` itself.
        user.acting_from = request.remote_addr
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import flash, redirect, url_for

        from .htmx import hx_redirect, is_htmx

        login_url = url_for("auth.login", next=_safe_next_from_request())
        if is_htmx():
            return hx_redirect(login_url)
        flash(login_manager.login_message, "warning")
        return redirect(login_url)


def _safe_next_from_request() -> str | None:
    from flask import request

    if request.method != "GET":
        return None
    from .htmx import current_url

    browser_url = current_url()
    if browser_url:
        from urllib.parse import urlsplit

        parts = urlsplit(browser_url)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.full_path.rstrip("?")
