"""Who had an outlet when (kdcs/outlets/assignments.py): every creation and change of a primary agent
is written by the session hook, whatever path made it; ``history.value_at`` reads the agent at a moment;
migration 0026 starts every existing outlet with the agent it has, since it was created."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from kdcs import create_app
from kdcs.extensions import db
from kdcs.history import value_at
from kdcs.models import OutletAssignment, utcnow
from kdcs.outlets import service as outlets
from kdcs.outlets.assignments import assignment_history
from kdcs.outlets.rates import shift_month
from tests import factories
from tests.test_migration_0013_rates import _database_url


def _history(outlet):
    return [row.agent_id for row in db.session.scalars(
        sa.select(OutletAssignment).where(OutletAssignment.outlet_id == outlet.id).order_by(OutletAssignment.id))]


def test_every_path_that_changes_the_agent_is_written_once(outlet_world):
    w = outlet_world
    assert _history(w.own) == [w.agent.id] and _history(w.free) == [None]  # created (factories write directly)
    outlets.assign_primary_agent(w.admin, w.own, w.teammate.id, version=w.own.version)
    outlets.assign_primary_agent(w.admin, w.own, w.teammate.id)  # no change: nothing written
    w.own.primary_agent_id = None  # a direct write (an import's update)
    db.session.commit()
    w.own.name = "中通余杭良渚网点（新）"  # another field: nothing written
    db.session.commit()
    assert _history(w.own) == [w.agent.id, w.teammate.id, None]
    created = outlets.create_outlet(w.admin, code="ZTO571199", name="中通测试网点", brand_id=w.zto.id,
                                    primary_agent_id=w.agent.id)
    assert _history(created) == [w.agent.id]


def test_the_agent_at_a_moment(outlet_world):
    w = outlet_world
    start = utcnow()
    outlets.assign_primary_agent(w.admin, w.own, w.teammate.id)
    rows = db.session.scalars(sa.select(OutletAssignment).where(OutletAssignment.outlet_id == w.own.id)
                              .order_by(OutletAssignment.id)).all()
    rows[0].since, rows[1].since = start - timedelta(days=60), start - timedelta(days=10)
    db.session.commit()
    rows = assignment_history()[w.own.id]
    assert value_at(rows, start - timedelta(days=30), w.teammate.id) == w.agent.id
    assert value_at(rows, start, w.agent.id) == w.teammate.id
    assert value_at(rows, start - timedelta(days=90), "current") == "current"  # before its history: the fallback


def test_migration_0026_starts_each_outlet_with_its_agent(tmp_path):
    from flask_migrate import downgrade, upgrade

    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True, "SECRET_KEY": "m26",
                      "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path)})
    created = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
    with app.app_context():
        upgrade()
        agent = factories.make_user("agent")
        taken, free = factories.make_outlet(agent=agent), factories.make_outlet()
        for outlet in (taken, free):
            outlet.created_at = created
        db.session.commit()
        ids, agent_id = (taken.id, free.id), agent.id
        db.session.remove()
        downgrade(revision="0025_labour_costs")
        upgrade()
        rows = db.session.execute(sa.select(OutletAssignment.outlet_id, OutletAssignment.agent_id,
                                            OutletAssignment.since)
                                  .where(OutletAssignment.outlet_id.in_(ids))).all()
        assert sorted(rows) == sorted([(ids[0], agent_id, created), (ids[1], None, created)])
        db.session.remove()
        db.engine.dispose()


def test_the_outlet_report_names_the_agent_of_that_month(outlet_world):
    """网点月报 of a past month names the agent who had the outlet at its end, the running month today's."""
    from kdcs.outlets import kpis

    w = outlet_world
    now = utcnow()
    outlets.assign_primary_agent(w.admin, w.own, w.teammate.id)
    outlets.assign_primary_agent(w.admin, w.free, w.agent.id)
    for outlet in (w.own, w.free):
        first, second = db.session.scalars(sa.select(OutletAssignment).where(OutletAssignment.outlet_id == outlet.id)
                                           .order_by(OutletAssignment.id)).all()
        first.since, second.since = now - timedelta(days=200), now - timedelta(days=1)
    db.session.commit()
    this_month = date(now.year, now.month, 1)
    months_ago = shift_month(this_month, -3)  # within the 200 days of the first rows

    def agents(month):
        return {line.outlet.code: line.agent for line in kpis.month_overview(w.admin, month, now)[0]}

    then, today = agents(months_ago), agents(this_month)
    assert then[w.own.code] == w.agent.display_name and today[w.own.code] == w.teammate.display_name
    assert then[w.free.code] == "" and today[w.free.code] == w.agent.display_name  # nobody had it then
    assert then[w.team_outlet.code] == today[w.team_outlet.code] == w.teammate.display_name
