"""Who had an outlet when: the history of primary agents (``OutletAssignment``).

Every path that creates an outlet or changes its primary agent (the assign form, the inline edit,
the Excel import, the demo, tests writing rows directly) goes through a flush, so the history is
written there, once, by a session hook rather than by each path remembering to. ``agent_at`` reads
it back (from ``assignment_history``): the agent each outlet had at a moment, for 人均毛利's past months.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Outlet, OutletAssignment
from ..models.types import utcnow


def _changed_agent(outlet: Outlet) -> tuple[bool, int | None]:
    """(whether the flush changes the outlet's primary agent, the new agent's id)."""
    state = inspect(outlet)
    relation = state.attrs.primary_agent.history
    if relation.added:  # set through the relationship: the column follows at flush
        agent = relation.added[0]
        return True, agent.id if agent is not None else None
    column = state.attrs.primary_agent_id.history
    if column.added and list(column.added) != list(column.deleted):
        return True, column.added[0]
    return False, None


@event.listens_for(Session, "before_flush")
def _record_assignments(session, _context, _instances) -> None:
    now = None
    for obj in list(session.new):
        if isinstance(obj, Outlet):
            now = now or utcnow()
            changed, agent_id = _changed_agent(obj)
            session.add(OutletAssignment(outlet=obj, agent_id=agent_id if changed else obj.primary_agent_id,
                                         since=now))
    for obj in list(session.dirty):
        if isinstance(obj, Outlet) and obj not in session.new:
            changed, agent_id = _changed_agent(obj)
            if changed:
                now = now or utcnow()
                session.add(OutletAssignment(outlet_id=obj.id, agent_id=agent_id, since=now))


def assignment_history() -> dict[int, list]:
    """{outlet id: its rows (since, agent_id), in the order they were written}: the whole history in
    one statement, for reading many moments at once (``agent_at``)."""
    history: dict[int, list] = {}
    for row in db.session.execute(select(OutletAssignment.outlet_id, OutletAssignment.since, OutletAssignment.agent_id)
                                  .order_by(OutletAssignment.outlet_id, OutletAssignment.id)):
        history.setdefault(row.outlet_id, []).append(row)
    return history


def agent_at(rows, moment: datetime, current: int | None) -> int | None:
    """The agent an outlet had at ``moment`` given its ``rows`` (as ``assignment_history`` gives
    them): the last row written with ``since`` not after the moment; ``current`` (its agent now) when
    no row reaches back that far."""
    found, seen = current, False
    for row in rows or ():
        if row.since <= moment:
            found, seen = row.agent_id, True
    return found if seen else current
