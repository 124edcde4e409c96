"""Presence on a ticket's page, for the collision warning before anyone writes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import User, utcnow
from ..models.presence import TicketPresence

# The page polls every 10 s; someone unseen for longer than this has left.
PRESENCE_WINDOW = timedelta(seconds=25)


def touch(user: User, ticket_id: int, now: datetime | None = None) -> None:
    """Record that ``user`` has the ticket open (an upsert that works on SQLite and PostgreSQL)."""
    now = now or utcnow()
    result = db.session.execute(
        update(TicketPresence)
        .where(TicketPresence.ticket_id == ticket_id, TicketPresence.user_id == user.id)
        .values(seen_at=now)
    )
    if not result.rowcount:
        try:
            with db.session.begin_nested():
                db.session.add(TicketPresence(ticket_id=ticket_id, user_id=user.id, seen_at=now))
        except IntegrityError:  # another request of the same user inserted it first
            pass
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
