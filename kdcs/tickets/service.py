"""Ticket rules: who sees which ticket, the status machines, and every write.

(Skeleton: scope and queue helpers. The write services follow.)
"""

from __future__ import annotations

from sqlalchemy import Select, or_, select

from ..extensions import db
from ..models import Outlet, QueueState, Role, Ticket, User


def visible_tickets_query(user: User) -> Select:
    """Tickets in the user's scope: admin all; lead their team's; agent their own; else none.

    An agent sees tickets of outlets they are the primary agent of, and tickets
    assigned to them. A lead sees the tickets of outlets whose primary agent is
    in their team, and tickets assigned to a member of their team.
    """
    query = select(Ticket)
    if user is None or not getattr(user, "is_active", False):
        return query.where(False)
    if user.role == Role.ADMIN:
        return query
    if user.role == Role.LEAD:
        if user.team_id is None:
            return query.where(False)
        members = select(User.id).where(User.team_id == user.team_id).scalar_subquery()
        team_outlets = select(Outlet.id).where(Outlet.primary_agent_id.in_(members))
        return query.where(or_(Ticket.assignee_id.in_(members), Ticket.outlet_id.in_(team_outlets)))
    if user.role == Role.AGENT:
        own_outlets = select(Outlet.id).where(Outlet.primary_agent_id == user.id)
        return query.where(or_(Ticket.assignee_id == user.id, Ticket.outlet_id.in_(own_outlets)))
    return query.where(False)


def get_visible_ticket(user: User, ticket_id: int) -> Ticket | None:
    """The ticket if the user may see it, else None (the view answers 404)."""
    return db.session.scalar(visible_tickets_query(user).where(Ticket.id == ticket_id))


def open_clause():
    """Open tickets (not closed), in a form the queue indexes serve."""
    return Ticket.queue_state < QueueState.CLOSED


def order_by_deadline(query: Select) -> Select:
    """Pending deadlines first, nearest first; then open tickets with nothing pending; then closed."""
    return query.order_by(Ticket.queue_state, Ticket.due_at, Ticket.id)
