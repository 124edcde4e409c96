"""Who had an outlet when: the history of primary agents (``OutletAssignment``).

Every path that creates an outlet or changes its primary agent (the assign form, the inline edit,
the Excel import, the demo, tests writing rows directly) goes through a flush, so the history is
written there, once, by a session hook rather than by each path remembering to. ``history.value_at``
reads it back (from ``assignment_history``): the agent each outlet had at a moment, for 人均毛利's past
months.
"""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..history import keep_history
from ..models import Outlet, OutletAssignment

keep_history(Outlet, "primary_agent", "primary_agent_id",
             lambda outlet, agent_id, since: OutletAssignment(outlet=outlet, agent_id=agent_id, since=since))


def assignment_history(outlet_ids=None) -> dict[int, list[tuple]]:
    """{outlet id: its rows (since, agent_id), in the order they were written}: the whole history (or
    ``outlet_ids``') in one statement, for reading many moments at once (``history.value_at``)."""
    history: dict[int, list[tuple]] = {}
    query = (select(OutletAssignment.outlet_id, OutletAssignment.since, OutletAssignment.agent_id)
             .order_by(OutletAssignment.outlet_id, OutletAssignment.id))
    if outlet_ids is not None:
        query = query.where(OutletAssignment.outlet_id.in_(list(outlet_ids)))
    for outlet_id, since, agent_id in db.session.execute(query):
        history.setdefault(outlet_id, []).append((since, agent_id))
    return history
