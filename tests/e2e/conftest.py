"""Real-browser fixtures: the demo company served on a free loopback port, Debian's Chromium.

The e2e server is its own app instance with its own SQLite database in a temporary
instance folder (migrated and seeded with the demo company), so the suite-wide
``app_ctx`` fixture in tests/conftest.py, which empties the unit-test database after
each test, never touches it. Chromium is /usr/bin/chromium (override with
KDCS_CHROMIUM); a browser is never downloaded. A missing browser fails the run when
CI=true and skips the e2e tests elsewhere.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("KDCS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
VIEWPORT = {"width": 1366, "height": 768}
DEMO_PASSWORD = "demo1234"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str):
    """In CI a missing browser is a failure; elsewhere the e2e tests skip with the reason."""
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def app_ctx():
    """Replace the suite-wide autouse fixture: e2e tests never use the unit-test app/DB."""
    yield


@pytest.fixture(scope="session")
def e2e_app(tmp_path_factory):
    """A separate KDCS instance: fresh instance folder, SQLite, migrations, demo company."""
    from flask_migrate import upgrade

    from kdcs import create_app
    from kdcs.demo import seed_demo

    instance = tmp_path_factory.mktemp("e2e-instance")
    app = create_app({
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'kdcs-e2e.sqlite3'}",
        "SECRET_KEY": "e2e-secret-key-not-for-production",
        "KDCS_UPLOAD_DIR": str(instance / "uploads"),
        "KDCS_BACKUP_DIR": str(instance / "backups"),
        # No Huey consumer runs beside the e2e server: background tasks (ticket
        # imports) run in Huey's immediate mode, inside the request that enqueues them.
        "KDCS_TASKS_IMMEDIATE": True,
    })
    with app.app_context():
        upgrade()
        seed_demo()
    return app


@pytest.fixture(scope="session")
def base_url(e2e_app):
    """Serve the e2e app in a background thread (threaded werkzeug) on a free port."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, e2e_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="kdcs-e2e-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - dev extras not installed
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, base_url, request):
    """A fresh browser context (no cookies) per test, zh-CN at 1366×768."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - a screenshot must not hide the real failure
            pass
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def login(page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the real form and wait for the page that follows."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_load_state("load")


@pytest.fixture
def login_as(page):
    def _login(username: str, password: str = DEMO_PASSWORD):
        login(page, username, password)
        return page

    return _login


@pytest.fixture(scope="session")
def zh(e2e_app):
    """Translate an English msgid the way the app shows it (zh_CN, all catalog domains)."""
    from flask_babel import force_locale, gettext

    def translate(msgid: str) -> str:
        with e2e_app.test_request_context("/"), force_locale("zh_CN"):
            return gettext(msgid)

    return translate

