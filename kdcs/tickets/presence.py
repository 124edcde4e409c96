"""Presence on a ticket's page, for the collision warning before anyone writes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import core_sql
from ..extensions import db
from ..models import Outlet, Role, Ticket, User, utcnow
from ..models.presence import TicketPresence

# The page polls every 10 s; someone unseen for longer than this has left.
PRESENCE_WINDOW = timedelta(seconds=25)


# Statements of the poll (every 10 s on every open ticket page: a third of an agent's requests)
# with their values as parameters, built once per process: building them cost more than running them.
_STATEMENTS: dict[str, object] = {}


def _statement(name: str):
    statement = _STATEMENTS.get(name)
    if statement is None:
        statement = _STATEMENTS[name] = _BUILDERS[name]()
    return statement


def _upsert(dialect: str):
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(TicketPresence).values(ticket_id=bindparam("ticket_id"), user_id=bindparam("user_id"),
                                              seen_at=bindparam("now"))
    return statement.on_conflict_do_update(index_elements=["ticket_id", "user_id"],
                                           set_={"seen_at": statement.excluded.seen_at})


_BUILDERS = {
    "upsert_sqlite": lambda: _upsert("sqlite"),
    "upsert_postgresql": lambda: _upsert("postgresql"),
    "viewers": lambda: (
        select(User.display_name)
        .join(TicketPresence, TicketPresence.user_id == User.id)
        .where(TicketPresence.ticket_id == bindparam("ticket_id"), TicketPresence.user_id != bindparam("user_id"),
               TicketPresence.seen_at >= bindparam("since"))
        .order_by(User.display_name)
    ),
    # The ticket's version if it is in the user's scope (service.visible_tickets_query for someone
    # who covers nobody), by role.
    "version_admin": lambda: select(Ticket.version).where(Ticket.id == bindparam("ticket_id")),
    "version_agent": lambda: select(Ticket.version).where(
        Ticket.id == bindparam("ticket_id"),
        or_(Ticket.assignee_id == bindparam("user_id"),
            Ticket.outlet_id.in_(select(Outlet.id).where(Outlet.primary_agent_id == bindparam("user_id"))))),
    "version_lead": lambda: select(Ticket.version).where(
        Ticket.id == bindparam("ticket_id"),
        or_(Ticket.assignee_id.in_(select(User.id).where(User.team_id == bindparam("team_id")).scalar_subquery()),
            Ticket.outlet_id.in_(select(Outlet.id).where(Outlet.primary_agent_id.in_(
                select(User.id).where(User.team_id == bindparam("team_id")).scalar_subquery()))))),
}


def visible_version(user: User, ticket_id: int) -> int | None:
    """The ticket's version if ``user`` may see it (the scope of ``service.visible_tickets_query``),
    else None: one prebuilt statement, no ORM object (the poll needs no more)."""
    from . import service

    role = getattr(user, "role", None)
    params = {"ticket_id": ticket_id, "user_id": user.id, "team_id": getattr(user, "team_id", None)}
    if not getattr(user, "is_active", False):
        return None
    if role == Role.ADMIN:
        return core_sql.execute(_statement("version_admin"), params).scalar()
    if role in (Role.AGENT, Role.LEAD) and not service.covered_clauses(user):
        if role == Role.LEAD and user.team_id is None:
            return None
        return core_sql.execute(_statement("version_agent" if role == Role.AGENT else "version_lead"), params).scalar()
    # Covering someone on leave (or any other role): the general scope query.
    return db.session.scalar(service.visible_tickets_query(user).with_only_columns(Ticket.version)
                             .where(Ticket.id == ticket_id))


def touch(user: User, ticket_id: int, now: datetime | None = None, *, prune: bool = True) -> None:
    """Record that ``user`` has the ticket open: one upsert (INSERT … ON CONFLICT DO UPDATE on
    SQLite and PostgreSQL), so two first heartbeats of the same user at once (two tabs, a poll
    racing the page load) store one row without a failed insert (no error, not even in the
    database server's log)."""
    now = now or utcnow()
    dialect = "postgresql" if db.session.get_bind().dialect.name == "postgresql" else "sqlite"
    core_sql.execute(_statement(f"upsert_{dialect}"), {"ticket_id": ticket_id, "user_id": user.id, "now": now})
    if prune:
        # Old rows of this ticket go as people come and go (on each page load; the poll skips it):
        # the table stays small.
        db.session.execute(
            delete(TicketPresence).where(TicketPresence.ticket_id == ticket_id,
                                         TicketPresence.seen_at < now - timedelta(hours=1))
        )
    db.session.commit()


def other_viewers(user: User, ticket_id: int, now: datetime | None = None) -> list[str]:
    """Display names of the other people who have the ticket open now."""
    now = now or utcnow()
    return list(core_sql.execute(_statement("viewers"), {"ticket_id": ticket_id, "user_id": user.id,
                                                         "since": now - PRESENCE_WINDOW}).scalars())


def leave(user: User, ticket_id: int) -> None:
    db.session.execute(
        delete(TicketPresence).where(TicketPresence.ticket_id == ticket_id, TicketPresence.user_id == user.id)
    )
    db.session.commit()
