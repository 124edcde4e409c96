"""``seconds_between(later, earlier)``: the seconds from one timestamp column to another, in SQL,
so an average duration is one aggregate (平均处理时长) instead of rows read into Python.

SQLite stores the UTC timestamps as text ("2026-11-30 10:00:00.000000"), which ``julianday``
reads; PostgreSQL subtracts them and takes the interval's epoch.
"""

from __future__ import annotations

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class SecondsBetween(ColumnElement):
    """The seconds from ``earlier`` to ``later`` (negative when ``later`` is before)."""

    inherit_cache = True
    type = Float()
    _traverse_internals = [
        ("later", InternalTraversal.dp_clauseelement),
        ("earlier", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, later, earlier) -> None:
        self.later, self.earlier = later, earlier


def seconds_between(later, earlier) -> SecondsBetween:
    """Seconds from ``earlier`` to ``later`` as a SQL expression (module docstring)."""
    return SecondsBetween(later, earlier)


@compiles(SecondsBetween)
def _compile_julianday(element: SecondsBetween, compiler, **kw) -> str:
    later, earlier = compiler.process(element.later, **kw), compiler.process(element.earlier, **kw)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


@compiles(SecondsBetween, "postgresql")
def _compile_epoch(element: SecondsBetween, compiler, **kw) -> str:
    later, earlier = compiler.process(element.later, **kw), compiler.process(element.earlier, **kw)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
