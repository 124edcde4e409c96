"""Background work: the Huey task queue and its configuration (tasks live in the features).

* ``SqliteHuey`` in the instance folder by default (``<instance>/huey.sqlite3``:
  embedded, nothing to install), ``RedisHuey`` when ``KDCS_TASK_URL=redis://...``.
* Tests and ``KDCS_TASKS_IMMEDIATE=1`` run tasks in Huey's immediate mode
  (in-process, in-memory queue).
* A consumer runs beside the web server::

      flask --app kdcs worker                 # uses the app's configuration
      huey_consumer kdcs.tasks.huey -w 2      # same queue, from the environment

Each feature declares its tasks in its own ``tasks`` module (listed in
``TASK_MODULES``) with ``@huey.task()`` / ``@huey.periodic_task()``. They are
registered when the app is created (``init_app``) and, for a bare
``huey_consumer kdcs.tasks.huey``, when the consumer is created (this module
cannot import them at import time: they import ``huey`` from here).
Each task pushes its own application context (``task_context``), so it has
its own database session, whether it runs in a consumer or immediately inside
a request. Tasks report progress in database rows (``ImportJob``) that pages poll.
"""

from __future__ import annotations

import importlib
import logging
import os
from contextlib import contextmanager

import click
from flask import Flask, current_app, has_app_context
from huey import RedisHuey, SqliteHuey

from .config import instance_path_from_env

log = logging.getLogger(__name__)
HUEY_NAME = "kdcs"
HUEY_FILENAME = "huey.sqlite3"
# Every module that declares tasks; imported before the app or a consumer uses the queue.
TASK_MODULES = ("kdcs.tickets.imports.tasks", "kdcs.tickets.tasks", "kdcs.sop.reading.tasks", "kdcs.leave.tasks",
                "kdcs.health.tasks", "kdcs.training.quiz.tasks", "kdcs.training.certification.tasks",
                "kdcs.dashboard.tasks", "kdcs.quality.tasks")


def load_task_modules() -> None:
    """Import every feature's tasks module, which registers its tasks with ``huey``."""
    for name in TASK_MODULES:
        importlib.import_module(name)


class _LoadsTasks:
    """A Huey whose consumer first imports the feature task modules (``huey_consumer kdcs.tasks.huey``)."""

    def create_consumer(self, **options):
        """Load every feature's tasks, then create the consumer."""
        load_task_modules()
        return super().create_consumer(**options)


class KdcsSqliteHuey(_LoadsTasks, SqliteHuey):
    """SqliteHuey that loads the feature task modules for its consumer."""
    pass


class KdcsRedisHuey(_LoadsTasks, RedisHuey):
    """RedisHuey that loads the feature task modules for its consumer."""
    pass


def _immediate_from_env() -> bool:
    return os.environ.get("KDCS_TASKS_IMMEDIATE") == "1" or os.environ.get("KDCS_ENV") == "testing"


def make_huey(task_url: str | None = None, instance_path: str | None = None, immediate: bool = False):
    """RedisHuey for redis:// URLs, else SqliteHuey in the instance folder."""
    task_url = task_url if task_url is not None else os.environ.get("KDCS_TASK_URL", "")
    if task_url.startswith(("redis://", "rediss://", "unix://")):
        return KdcsRedisHuey(HUEY_NAME, url=task_url, immediate=immediate)
    folder = instance_path or instance_path_from_env()
    os.makedirs(folder, exist_ok=True)
    return KdcsSqliteHuey(HUEY_NAME, filename=os.path.join(folder, HUEY_FILENAME), immediate=immediate)


# Built from the environment so that `huey_consumer kdcs.tasks.huey` finds the same queue as the web app.
huey = make_huey(immediate=_immediate_from_env())
_app: Flask | None = None


def init_app(app: Flask) -> None:
    """Point the queue at this app's configuration; immediate mode for tests.

    ``KDCS_TASKS_IMMEDIATE`` (config or env) or ``TESTING`` → immediate mode.
    Otherwise, a SqliteHuey follows the app's instance folder (the web app and
    ``flask worker`` always agree), and ``KDCS_TASK_URL`` selects Redis.
    """
    global _app
    _app = app
    immediate = bool(app.config.get("KDCS_TASKS_IMMEDIATE", app.testing or _immediate_from_env()))
    task_url = app.config.get("KDCS_TASK_URL", os.environ.get("KDCS_TASK_URL", ""))
    if not immediate:
        wanted = os.path.join(app.instance_path, HUEY_FILENAME)
        if isinstance(huey, SqliteHuey) and not task_url and huey.storage_kwargs.get("filename") != wanted:
            use_storage_of(make_huey("", app.instance_path))
        elif task_url and not isinstance(huey, RedisHuey):
            use_storage_of(make_huey(task_url))
    huey.immediate = immediate
    load_task_modules()
    if "worker" not in app.cli.commands:
        app.cli.add_command(worker_command)


def use_storage_of(other) -> None:
    """Make the module's queue use another Huey's storage (tests, and init_app)."""
    huey.storage_class = other.storage_class
    huey.storage_kwargs = other.storage_kwargs
    if not huey.immediate:
        huey.storage = other.storage


def _task_app() -> Flask:
    """The app tasks run in: the current one (immediate mode, tests), or one made for the consumer."""
    global _app
    if has_app_context():
        return current_app._get_current_object()
    if _app is None:
        from . import create_app

        _app = create_app()
    return _app


@contextmanager
def task_context():
    """A fresh application context (its own DB session) for one task run."""
    from .extensions import db

    app = _task_app()
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()


# --------------------------------------------------------------------------- consumer


@click.command("worker")
@click.option("--workers", "-w", default=2, show_default=True, help="Worker threads.")
def worker_command(workers: int) -> None:
    """Run the background task consumer (imports, reminders) for this app."""
    from flask.cli import ScriptInfo  # noqa: F401  (click context has the app)

    app = current_app._get_current_object()
    global _app
    _app = app
    if huey.immediate:
        huey.immediate = False
    click.echo(f"KDCS worker: {type(huey).__name__} {huey.storage_kwargs.get('filename') or huey.storage_kwargs.get('url', '')}")
    # Poll at most a second apart: someone is watching the progress bar (Huey's default backs off to 10 s).
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                    initial_delay=0.1, backoff=1.15, max_delay=1.0)
    # The consumer pushes its own app context per task (task_context), not this one.
    consumer.run()
