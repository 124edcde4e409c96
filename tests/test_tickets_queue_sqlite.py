"""SQLite upkeep for the queue: planner statistics are kept fresh by the app itself."""

from __future__ import annotations

import pytest
from sqlalchemy import text

import kdcs
from kdcs.extensions import db


@pytest.fixture
def sqlite_only(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")


def test_pragma_optimize_runs_on_close_and_every_n_uses(app, sqlite_only, monkeypatch):
    calls = []
    monkeypatch.setattr(kdcs, "_sqlite_optimize", lambda connection: calls.append(connection))
    monkeypatch.setattr(kdcs, "SQLITE_OPTIMIZE_EVERY", 2)
    # Start from an empty pool: earlier tests leave connections with their own use counts.
    db.session.remove()
    db.engine.dispose()
    calls.clear()
    for _ in range(4):
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    assert len(calls) == 2  # checkins 2 and 4 of the one pooled connection
    db.engine.dispose()  # closing the pool's connections optimizes too
    assert len(calls) >= 3


def test_sqlite_optimize_never_raises():
    class Broken:
        def execute(self, sql):
            raise RuntimeError("database is locked")

    kdcs._sqlite_optimize(Broken())
