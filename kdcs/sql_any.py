"""``column IN (subquery)`` that PostgreSQL can answer from an index inside an OR.

A tab's condition is ``assignee = me OR outlet IN (SELECT my outlets)``. PostgreSQL plans the
``IN (SELECT …)`` branch as a hashed subplan, which is a filter: a count over the tab read every
open ticket to test it (the agent home's "evidence missing" figure: 6,349 rows and ~3 ms on the
bench's 20,000 tickets). Written ``outlet_id = ANY(ARRAY(SELECT …))`` the subquery runs once
first and both branches become index conditions (a BitmapOr of the assignee and outlet queue
indexes: 241 rows, ~1 ms). SQLite and any other database get the plain ``IN (SELECT …)``.

Only counts use it: a list ordered by deadline with a LIMIT is better served walking an index
in that order, which is the plan the plain form gets.
"""

from __future__ import annotations

from sqlalchemy import Boolean
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class InSubquery(ColumnElement):
    """``column IN (subquery)``; on PostgreSQL ``column = ANY(ARRAY(subquery))``."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition: no "= 1" appended where booleans are integers (SQLite)
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("subquery", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column, select_statement) -> None:
        self.column = column
        self.subquery = select_statement.scalar_subquery()


def in_subquery(column, select_statement) -> InSubquery:
    """``column IN (select_statement)``, indexable inside an OR on PostgreSQL (module docstring)."""
    return InSubquery(column, select_statement)


@compiles(InSubquery)
def _compile_in(element: InSubquery, compiler, **kw) -> str:
    return f"{compiler.process(element.column, **kw)} IN {compiler.process(element.subquery, **kw)}"


@compiles(InSubquery, "postgresql")
def _compile_any_array(element: InSubquery, compiler, **kw) -> str:
    return f"{compiler.process(element.column, **kw)} = ANY(ARRAY{compiler.process(element.subquery, **kw)})"
