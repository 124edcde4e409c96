"""Presence on a ticket's page, for the collision warning before anyone writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    cast,
    delete,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import core_sql
from ..extensions import db
from ..models import Outlet, Role, Ticket, User, utcnow
from ..models.presence import TicketPresence
from ..models.types import UTCDateTime

# The page polls every 10 s (templates/tickets/detail.html, ``hx-trigger="every 10s"``). A poll
# rewrites its heartbeat only when the stored one is HEARTBEAT_REFRESH old or more, so every
# other poll writes nothing and a stored heartbeat is up to ~20 s old while the page is open
# (~30 s if one poll is lost on the way). Someone unseen for longer than PRESENCE_WINDOW has
# left: longer than both, so a viewer never drops out of the banner between polls.
HEARTBEAT_REFRESH = timedelta(seconds=12)
PRESENCE_WINDOW = timedelta(seconds=35)


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


def _poll(role: str):
    """The presence poll's reads in one statement, one UNION ALL of row kinds (``part``):
    1 the ticket's version if it is in the user's scope (no row: not visible), 2 the other
    viewers (by name), 3 what others did lately (newest first, at most 20 events), 4 this user's
    own heartbeat. The scope is ``service.visible_tickets_query``'s, covering included."""
    from ..leave.coverage import covered_outlet_ids_select
    from ..models import TicketEvent
    from ..models.ticket import EventKind

    ticket_id, user_id = bindparam("ticket_id"), bindparam("user_id")
    now, since = bindparam("now", type_=UTCDateTime()), bindparam("since", type_=UTCDateTime())
    # Typed NULLs (CAST): PostgreSQL resolves a UNION's column types pair by pair.
    no_int, no_text, no_time = cast(null(), Integer()), cast(null(), String()), cast(null(), UTCDateTime())
    covered = Ticket.outlet_id.in_(covered_outlet_ids_select(user_id, now))
    if role == "admin":
        scope = Ticket.id == ticket_id
    elif role == "agent":
        scope = and_(Ticket.id == ticket_id, or_(
            Ticket.assignee_id == user_id,
            Ticket.outlet_id.in_(select(Outlet.id).where(Outlet.primary_agent_id == user_id)), covered))
    else:
        members = select(User.id).where(User.team_id == bindparam("team_id")).scalar_subquery()
        scope = and_(Ticket.id == ticket_id, or_(
            Ticket.assignee_id.in_(members),
            Ticket.outlet_id.in_(select(Outlet.id).where(Outlet.primary_agent_id.in_(members))), covered))
    version = select(literal_column("1").label("part"), Ticket.version.label("version"), no_text.label("viewer"),
                     no_text.label("actor"), no_time.label("at"), no_text.label("kind"), no_int.label("seq")
                     ).where(scope)
    viewers = (select(literal_column("2"), no_int, User.display_name, no_text, TicketPresence.seen_at, no_text,
                      no_int)
               .join(TicketPresence, TicketPresence.user_id == User.id)
               .where(TicketPresence.ticket_id == ticket_id, TicketPresence.user_id != user_id,
                      TicketPresence.seen_at >= since))
    events = (select(TicketEvent.at, TicketEvent.kind, TicketEvent.id, User.display_name)
              .join(User, User.id == TicketEvent.actor_id)
              .where(TicketEvent.ticket_id == ticket_id, TicketEvent.actor_id != user_id,
                     TicketEvent.kind != EventKind.CREATED, TicketEvent.at >= bindparam("recent_since"))
              .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
              .limit(20).subquery())
    recent = select(literal_column("3"), no_int, no_text, events.c.display_name, events.c.at, events.c.kind,
                    events.c.id)
    own = select(literal_column("4"), no_int, no_text, no_text, TicketPresence.seen_at, no_text, no_int).where(
        TicketPresence.ticket_id == ticket_id, TicketPresence.user_id == user_id)
    union = union_all(version, viewers, recent, own).subquery()
    return select(union).order_by(union.c.part, union.c.viewer, union.c.at.desc(), union.c.seq.desc())


_BUILDERS = {
    "poll_admin": lambda: _poll("admin"),
    "poll_agent": lambda: _poll("agent"),
    "poll_lead": lambda: _poll("lead"),
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


@dataclass(slots=True)
class PollState:
    """What the presence poll shows and whether its heartbeat is due."""

    version: int
    viewers: list[str]
    recent: list
    heartbeat_due: bool


def poll(user: User, ticket_id: int, now: datetime | None = None) -> PollState | None:
    """The presence poll's reads in one statement (``_poll``): None when ``user`` may not see the
    ticket (the view answers 404 and shows nothing else it read); else the version, the other
    viewers (``other_viewers``), what others did lately (``queue.recent_changes_by_others``) and
    whether this user's heartbeat is HEARTBEAT_REFRESH old or missing (``touch`` it then)."""
    from .queue import RECENT_MINUTES, RecentChange

    role = getattr(user, "role", None)
    if not getattr(user, "is_active", False):
        return None
    if role == Role.ADMIN:
        name = "poll_admin"
    elif role == Role.AGENT:
        name = "poll_agent"
    elif role == Role.LEAD and user.team_id is not None:
        name = "poll_lead"
    else:  # a lead without a team sees no ticket (visible_tickets_query), nor does any other role
        return None
    now = now or utcnow()
    rows = core_sql.execute(_statement(name), {
        "ticket_id": ticket_id, "user_id": user.id, "team_id": user.team_id, "now": now,
        "since": now - PRESENCE_WINDOW, "recent_since": now - timedelta(minutes=RECENT_MINUTES)}).all()
    if not rows or rows[0].part != 1:
        return None
    viewers: list[str] = []
    recent: dict[str, RecentChange] = {}
    seen_at = None
    for row in rows[1:]:
        if row.part == 2:
            viewers.append(row.viewer)
        elif row.part == 3:
            recent.setdefault(row.actor, RecentChange(actor=row.actor, kind=row.kind, at=row.at))
        else:
            seen_at = row.at
    return PollState(version=rows[0].version, viewers=viewers, recent=list(recent.values()),
                     heartbeat_due=seen_at is None or now - seen_at >= HEARTBEAT_REFRESH)


def touch(user: User, ticket_id: int, now: datetime | None = None) -> None:
    """Record that ``user`` has the ticket open: one upsert (INSERT … ON CONFLICT DO UPDATE on
    SQLite and PostgreSQL), so two first heartbeats of the same user at once (two tabs, a poll
    racing the page load) store one row without a failed insert (no error, not even in the
    database server's log). Rows of people long gone are removed by ``prune`` (a periodic task)."""
    now = now or utcnow()
    dialect = "postgresql" if db.session.get_bind().dialect.name == "postgresql" else "sqlite"
    core_sql.execute(_statement(f"upsert_{dialect}"), {"ticket_id": ticket_id, "user_id": user.id, "now": now})
    db.session.commit()


PRUNE_AFTER = timedelta(hours=1)


def prune(now: datetime | None = None) -> int:
    """Delete the heartbeats older than PRUNE_AFTER (nobody shows as viewing after PRESENCE_WINDOW
    anyway): the table stays small. Idempotent; the caller commits. Returns the rows deleted."""
    now = now or utcnow()
    return db.session.execute(delete(TicketPresence).where(TicketPresence.seen_at < now - PRUNE_AFTER)).rowcount


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
