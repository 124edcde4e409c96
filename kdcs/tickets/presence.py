"""Presence on a ticket's page, for the collision warning before anyone writes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import User, utcnow
from ..models.presence import TicketPresence

# The page polls every 10 s; someone unseen for longer than this has left.
PRESENCE_WINDOW = timedelta(seconds=25)


def touch(user: User, ticket_id: int, now: datetime | None = None) -> None:
    """Record that ``user`` has the ticket open: one upsert (INSERT … ON CONFLICT DO UPDATE on
    SQLite and PostgreSQL), so two first heartbeats of the same user at once (two tabs, a poll
    racing the page load) store one row without a failed insert (no error, not even in the
    database server's log)."""
    now = now or utcnow()
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(TicketPresence).values(ticket_id=ticket_id, user_id=user.id, seen_at=now)
        .on_conflict_do_update(index_elements=["ticket_id", "user_id"], set_={"seen_at": now})
    )
    # Old rows of this ticket go as people come and go; the table stays small.
    db.session.execute(
        delete(TicketPresence).where(TicketPresence.ticket_id == ticket_id,
                                     TicketPresence.seen_at < now - timedelta(hours=1))
    )
    db.session.commit()


def other_viewers(user: User, ticket_id: int, now: datetime | None = None) -> list[str]:
    """Display names of the other people who have the ticket open now."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(User.display_name)
        .join(TicketPresence, TicketPresence.user_id == User.id)
        .where(TicketPresence.ticket_id == ticket_id, TicketPresence.user_id != user.id,
               TicketPresence.seen_at >= now - PRESENCE_WINDOW)
        .order_by(User.display_name)
    ))


def leave(user: User, ticket_id: int) -> None:
    db.session.execute(
        delete(TicketPresence).where(TicketPresence.ticket_id == ticket_id, TicketPresence.user_id == user.id)
    )
    db.session.commit()
