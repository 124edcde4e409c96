"""``core_sql.run_compiled`` keeps a prebuilt statement's compiled form per process: the same
rows as ``Connection.execute`` (types processed both ways, expanding IN lists, writes), cursor
events still fire, and what it cannot take the short way goes the long way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, event, func, select, update

from kdcs import core_sql
from kdcs.extensions import db
from kdcs.models import Ticket, User

_TICKETS = select(Ticket.id, Ticket.version, Ticket.registered_at, Ticket.status).where(
    Ticket.id.in_(bindparam("ids", expanding=True))).order_by(Ticket.id)
_SINCE = select(func.count(Ticket.id)).where(Ticket.registered_at >= bindparam("since"))
_USER = select(User.id, User.username, User.is_active_account).where(User.id == bindparam("user_id"))
_BUMP = update(Ticket).where(Ticket.id == bindparam("ticket_id")).values(priority=Ticket.priority)


def _both(statement, params):
    connection = db.session.connection()
    return connection.execute(statement, params).all(), core_sql.run_compiled(connection, statement, params).all()


def test_rows_and_types_are_those_of_connection_execute(ticket_world):
    ids = [ticket_world[name].id for name in ("mine", "team_ticket", "far")]
    long_way, short_way = _both(_TICKETS, {"ids": ids})
    assert short_way == long_way and len(short_way) == 3
    row = short_way[0]
    assert row.registered_at.tzinfo is not None  # the UTC type's result processing ran
    assert row.status == long_way[0].status and row._mapping["version"] == long_way[0].version
    # an expanding list of another length on the same kept entry
    assert _both(_TICKETS, {"ids": ids[:1]})[1] == _both(_TICKETS, {"ids": ids[:1]})[0]
    assert _both(_TICKETS, {"ids": []})[1] == []
    agent = ticket_world["agent"]
    assert _both(_USER, {"user_id": agent.id})[1] == [(agent.id, agent.username, True)]


def test_bind_values_are_processed_as_by_connection_execute(ticket_world):
    connection = db.session.connection()
    for since in (datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=1)):
        long_way = connection.execute(_SINCE, {"since": since}).scalar()
        assert core_sql.run_compiled(connection, _SINCE, {"since": since}).scalar() == long_way
    assert core_sql.run_compiled(connection, _SINCE, {"since": datetime(2000, 1, 1, tzinfo=UTC)}).scalar() >= 3


def test_a_write_runs_in_the_session_transaction(ticket_world):
    ticket = ticket_world["mine"]
    result = core_sql.execute(_BUMP, {"ticket_id": ticket.id})
    assert result.rowcount == 1
    db.session.rollback()


def test_the_compiled_form_is_kept_per_statement_and_parameter_names(ticket_world):
    core_sql._COMPILED.clear()
    connection = db.session.connection()
    agent_id = ticket_world["agent"].id
    core_sql.run_compiled(connection, _USER, {"user_id": agent_id}).all()
    core_sql.run_compiled(connection, _USER, {"user_id": agent_id + 1}).all()
    kept = [entry for entry in core_sql._COMPILED.values() if entry[0] is _USER]
    assert len(kept) == 1
    # a statement built per call is compiled for itself, never given another's kept form
    for wanted in (agent_id, ticket_world["lead"].id):
        fresh = select(User.username).where(User.id == bindparam("user_id"))
        assert core_sql.run_compiled(connection, fresh, {"user_id": wanted}).scalar() == db.session.get(
            User, wanted).username


def test_the_kept_forms_are_bounded(ticket_world, monkeypatch):
    monkeypatch.setattr(core_sql, "COMPILED_LIMIT", 3)
    core_sql._COMPILED.clear()
    connection = db.session.connection()
    for n in range(7):
        statement = select(User.id).where(User.id == bindparam("user_id")).limit(n + 1)
        core_sql.run_compiled(connection, statement, {"user_id": ticket_world["agent"].id}).all()
        assert len(core_sql._COMPILED) <= 3


def test_cursor_events_still_see_every_statement(ticket_world):
    agent_id = ticket_world["agent"].id
    db.session.connection()
    seen = []

    def on_cursor(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", on_cursor)
    try:
        core_sql.execute(_USER, {"user_id": agent_id}).all()
    finally:
        event.remove(engine, "before_cursor_execute", on_cursor)
    assert len(seen) == 1 and "users" in seen[0]


@pytest.mark.parametrize("hook", ["before_execute", "after_execute"])
def test_execute_listeners_get_the_long_way(ticket_world, hook):
    agent = ticket_world["agent"]
    agent_id, username = agent.id, agent.username
    connection = db.session.connection()
    calls = []

    def listener(*args):
        calls.append(args)
        return (args[1], args[2], args[3]) if hook == "before_execute" else None

    engine = db.engine
    event.listen(engine, hook, listener, **({"retval": True} if hook == "before_execute" else {}))
    try:
        rows = core_sql.run_compiled(connection, _USER, {"user_id": agent_id}).all()
    finally:
        event.remove(engine, hook, listener)
    assert len(calls) == 1 and rows[0].username == username


def test_unflushed_changes_are_flushed_first(ticket_world):
    agent = db.session.get(User, ticket_world["agent"].id)
    agent.display_name = "刚改的名字"
    statement = select(User.display_name).where(User.id == bindparam("user_id"))
    assert core_sql.execute(statement, {"user_id": agent.id}).scalar() == "刚改的名字"
    db.session.rollback()
