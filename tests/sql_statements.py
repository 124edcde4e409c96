"""``with statements() as seen:`` — the SQL statements the database received inside the block."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from kdcs.extensions import db


@contextmanager
def statements():
    seen: list[str] = []

    def on_execute(_conn, _cursor, statement, _parameters, _context, _executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
