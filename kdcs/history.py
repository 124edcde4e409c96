"""Who had what when: the pieces shared by the histories KDCS writes on flush (an outlet's primary
agent, ``outlets.assignments``; a person's team, ``org.memberships``).

Each history is a table of rows "from ``since`` on, the value was X", written by a session hook
whenever the value changes, and read back for a moment in the past with ``value_at``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from .models.types import utcnow


def changed_reference(obj, relation: str, column: str) -> tuple[bool, int | None]:
    """(whether the pending flush changes ``obj``'s reference, the new id): set either through the
    relationship ``relation`` (the column follows at flush) or through the column ``column``."""
    state = inspect(obj)
    through_relation = state.attrs[relation].history
    if through_relation.added:
        target = through_relation.added[0]
        return True, target.id if target is not None else None
    through_column = state.attrs[column].history
    if through_column.added and list(through_column.added) != list(through_column.deleted):
        return True, through_column.added[0]
    return False, None


_KEPT: dict[type, tuple[str, str, object]] = {}  # model: (relation, column, make_row)


def keep_history(model, relation: str, column: str, make_row) -> None:
    """Write a history row ``make_row(obj, value, since)`` at every flush that creates a ``model`` or
    changes its reference (``relation`` / ``column``). All histories share one ``before_flush`` session
    hook, so no path that writes the model (forms, inline edits, imports, the demo, direct writes) can
    forget it, and a flush looks at its objects once whatever the number of histories."""
    _KEPT[model] = (relation, column, make_row)


@event.listens_for(Session, "before_flush")
def _record_histories(session, _context, _instances) -> None:
    now = None
    for obj in list(session.new):
        kept = _KEPT.get(type(obj))
        if kept is not None:
            relation, column, make_row = kept
            now = now or utcnow()
            changed, value = changed_reference(obj, relation, column)
            session.add(make_row(obj, value if changed else getattr(obj, column), now))
    for obj in list(session.dirty):
        kept = _KEPT.get(type(obj))
        if kept is not None and obj not in session.new:
            relation, column, make_row = kept
            changed, value = changed_reference(obj, relation, column)
            if changed:
                now = now or utcnow()
                session.add(make_row(obj, value, now))


def value_at(rows: Iterable[tuple[datetime, object]] | None, moment: datetime, current):
    """The value at ``moment`` given a history's ``rows`` ((since, value) in the order they were
    written): the last one with ``since`` not after the moment; ``current`` (the value now) when no
    row reaches back that far (data older than the history)."""
    found, seen = current, False
    for since, value in rows or ():
        if since <= moment:
            found, seen = value, True
    return found if seen else current
