"""Running a prebuilt Core statement on the hot paths without the ORM's execute step."""

from __future__ import annotations

from .extensions import db


def execute(statement, params: dict):
    """``statement`` on the session's connection (same transaction, no ORM compile/execute step),
    unless the session holds changes not flushed yet: then through the session, which flushes them
    first, so the statement sees them as ``db.session.execute`` would."""
    session = db.session
    if session.new or session.dirty or session.deleted:
        return session.execute(statement, params)
    return session.connection().execute(statement, params)
