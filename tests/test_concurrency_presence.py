"""The presence heartbeat's insert race (issue 13): two first heartbeats of the same user on
the same ticket at once store one row, raise nothing, log no error, and make the database
report no failed statement (an upsert, not an insert that may fail and be caught)."""

from __future__ import annotations

import logging

from sqlalchemy import delete, event, func, select

from kdcs.extensions import db
from kdcs.models.presence import TicketPresence
from kdcs.tickets import presence
from tests import factories
from tests.live import Browser, live_server, run_together

ROUNDS = 5
TOGETHER = 4


def _database_errors(app):
    """A list filled with every error the database driver raised (caught or not)."""
    errors: list = []
    with app.app_context():
        engine = db.engine

    def note(context):
        errors.append(context.original_exception)

    event.listen(engine, "handle_error", note)
    return engine, note, errors


def _rows(ticket_id: int, user_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(TicketPresence).where(
        TicketPresence.ticket_id == ticket_id, TicketPresence.user_id == user_id))


def test_simultaneous_first_heartbeats_store_one_row_without_errors(app, users, ticket_world, caplog):
    ticket_id, agent_id = ticket_world.mine.id, users.agent.id
    engine, note, errors = _database_errors(app)
    caplog.set_level(logging.WARNING)

    def heartbeat(_index):
        with app.app_context():
            from kdcs.models import User

            presence.touch(db.session.get(User, agent_id), ticket_id)
            return "ok"

    try:
        for _ in range(ROUNDS):
            db.session.execute(delete(TicketPresence))
            db.session.commit()
            assert run_together(TOGETHER, heartbeat) == ["ok"] * TOGETHER
            assert _rows(ticket_id, agent_id) == 1
    finally:
        event.remove(engine, "handle_error", note)
    assert errors == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_two_tabs_polling_at_once_through_a_real_server(app, users, ticket_world, caplog):
    ticket_id, agent_id = ticket_world.mine.id, users.agent.id
    engine, note, errors = _database_errors(app)
    caplog.set_level(logging.WARNING)
    try:
        with live_server(app) as address:
            tabs = [Browser(address) for _ in range(TOGETHER)]
            for tab in tabs:  # one session each (two browsers, or a laptop and a PC)
                assert tab.login("agent_a", factories.PASSWORD)[0] == 303
            for _ in range(ROUNDS):
                db.session.execute(delete(TicketPresence))
                db.session.commit()
                statuses = run_together(TOGETHER, lambda i: tabs[i].request(
                    "GET", f"/tickets/{ticket_id}/presence", headers={"HX-Request": "true"})[0])
                assert statuses == [200] * TOGETHER
                assert _rows(ticket_id, agent_id) == 1
    finally:
        event.remove(engine, "handle_error", note)
    assert errors == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_later_heartbeat_moves_seen_at(users, ticket_world):
    from datetime import timedelta

    from kdcs.models import utcnow

    t = ticket_world.mine
    earlier = utcnow() - timedelta(seconds=20)
    presence.touch(users.agent, t.id, now=earlier)
    presence.touch(users.agent, t.id)
    row = db.session.scalar(select(TicketPresence).where(TicketPresence.ticket_id == t.id))
    assert row.seen_at > earlier and _rows(t.id, users.agent.id) == 1
