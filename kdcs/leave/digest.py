"""The return digest (销假摘要) and handing the queue back.

``build_digest`` reads what happened to the agent's handed-over outlets while they were
away — tickets opened, first replies, closures and fines inside the leave window, who
worked them, what is still open — plus the SOP versions the agent must now read. It is
computed from the data each time (a page, the notification), never stored.

``hand_back`` gives the owner back the open tickets that were created for a covered
outlet during the leave and went to the substitute (代班); the substitute's work stays on
each ticket's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..auditing import record
from ..extensions import db
from ..models import EventKind, LeaveRequest, Outlet, Ticket, TicketEvent, TicketStatus, User
from ..models.types import utcnow

OPEN_SHOWN = 5  # open tickets listed per outlet, nearest deadline first (the table says how many in all)


@dataclass
class OutletDigest:
    """One handed-over outlet: counts inside the leave window and what is open now."""

    outlet: Outlet
    substitute: User | None
    opened: int = 0
    replied: int = 0
    closed: int = 0
    fined: int = 0
    by_substitute: int = 0  # timeline entries the substitute wrote
    open_now: int = 0
    open_tickets: list[Ticket] = field(default_factory=list)


@dataclass
class Digest:
    """What the agent comes back to."""

    leave: LeaveRequest
    start_at: datetime
    end_at: datetime
    outlets: list[OutletDigest]
    reading: list = field(default_factory=list)  # kdcs.sop.reading Items not yet acknowledged
    training: list = field(default_factory=list)  # kdcs.training.certification DueItems (courses to do)

    @property
    def totals(self) -> dict[str, int]:
        """The outlets' counts added up."""
        keys = ("opened", "replied", "closed", "fined", "by_substitute", "open_now")
        return {key: sum(getattr(o, key) for o in self.outlets) for key in keys}


def window_of(leave: LeaveRequest) -> tuple[datetime, datetime]:
    """The instants the agent was away: the start to the early return or the end."""
    end = leave.end_at
    if leave.returned_at is not None and leave.returned_at < end:
        end = leave.returned_at
    return leave.start_at, end


def _grouped(query) -> dict[int, int]:
    return {outlet_id: int(n) for outlet_id, n in db.session.execute(query)}


def build_digest(leave: LeaveRequest, now: datetime | None = None) -> Digest:
    """The digest of ``leave`` (fixed query count: one per figure, whatever the ticket count)."""
    now = now or utcnow()
    start, end = window_of(leave)
    rows = [h for h in leave.handover if h.outlet is not None]
    outlet_ids = [h.outlet_id for h in rows]
    substitute_of = {h.outlet_id: h.substitute for h in rows}
    outlets = {o.id: OutletDigest(outlet=h.outlet, substitute=h.substitute)
               for h in rows for o in [h.outlet]}
    if outlet_ids:
        of = Ticket.outlet_id.in_(outlet_ids)
        count = func.count(Ticket.id)
        figures = {
            "opened": select(Ticket.outlet_id, count).where(of, Ticket.created_at >= start, Ticket.created_at < end),
            "replied": select(Ticket.outlet_id, count).where(of, Ticket.first_replied_at >= start,
                                                            Ticket.first_replied_at < end),
            "closed": select(Ticket.outlet_id, count).where(of, Ticket.closed_at >= start, Ticket.closed_at < end),
            "fined": select(Ticket.outlet_id, func.count(func.distinct(Ticket.id))).join(
                TicketEvent, TicketEvent.ticket_id == Ticket.id).where(
                of, TicketEvent.kind == EventKind.FINE, TicketEvent.at >= start, TicketEvent.at < end),
            "open_now": select(Ticket.outlet_id, count).where(of, Ticket.status != TicketStatus.CLOSED),
        }
        for key, query in figures.items():
            for outlet_id, n in _grouped(query.group_by(Ticket.outlet_id)).items():
                setattr(outlets[outlet_id], key, n)
        substitute_ids = {s.id for s in substitute_of.values() if s is not None}
        if substitute_ids:
            worked = (select(Ticket.outlet_id, TicketEvent.actor_id, func.count(TicketEvent.id))
                      .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
                      .where(of, TicketEvent.actor_id.in_(substitute_ids), TicketEvent.at >= start,
                             TicketEvent.at < end)
                      .group_by(Ticket.outlet_id, TicketEvent.actor_id))
            for outlet_id, actor_id, n in db.session.execute(worked):
                substitute = substitute_of.get(outlet_id)
                if substitute is not None and substitute.id == actor_id:
                    outlets[outlet_id].by_substitute = int(n)
        open_rows = db.session.scalars(
            select(Ticket).where(of, Ticket.status != TicketStatus.CLOSED)
            .order_by(Ticket.queue_state, Ticket.due_at, Ticket.id).limit(OPEN_SHOWN * len(outlet_ids)))
        for ticket in open_rows:
            shown = outlets[ticket.outlet_id].open_tickets
            if len(shown) < OPEN_SHOWN:
                shown.append(ticket)
    reading = []
    try:
        from ..sop.reading.service import unread_for

        reading = unread_for(leave.user, now)
    except ImportError:  # pragma: no cover - SOP reading is part of the app
        reading = []
    from ..training.certification.service import due_for

    return Digest(leave=leave, start_at=start, end_at=end, outlets=list(outlets.values()), reading=reading,
                  training=due_for(leave.user_id))


def digest_text(digest: Digest) -> str:
    """The digest in one line (the notification's body)."""
    t = digest.totals
    text = _("While you were away: %(opened)d new tickets, %(replied)d first replies, %(closed)d closed, "
             "%(fined)d fined; %(open)d still open.", opened=t["opened"], replied=t["replied"],
             closed=t["closed"], fined=t["fined"], open=t["open_now"])
    if digest.reading:
        text += " " + _("%(n)d SOP versions to read.", n=len(digest.reading))
    return text


def hand_back(leave: LeaveRequest, at: datetime | None = None) -> int:
    """Give the owner back the open tickets created for a covered outlet during the leave and still
    with its substitute (an event on each timeline, one audit row). Adds to the session; returns the count."""
    at = at or utcnow()
    start, end = window_of(leave)
    owner = leave.user
    if owner is None or not owner.is_active:
        return 0
    moved = 0
    for h in leave.handover:
        if h.substitute_id is None or h.outlet is None or h.outlet.primary_agent_id != owner.id:
            continue
        tickets = db.session.scalars(select(Ticket).where(
            Ticket.outlet_id == h.outlet_id, Ticket.assignee_id == h.substitute_id,
            # Up to now, not just the end: a ticket written in the leave's last moments (an import
            # committing as the leave ends) is still the substitute's only because of the leave.
            Ticket.status != TicketStatus.CLOSED, Ticket.created_at >= start, Ticket.created_at <= max(end, at)))
        for ticket in tickets:
            ticket.assignee_id = owner.id
            db.session.add(TicketEvent(ticket=ticket, actor_id=None, kind=EventKind.ASSIGN,
                                       from_value=(h.substitute.display_name if h.substitute else None),
                                       to_value=owner.display_name[:64],
                                       body=_("Back from leave: the ticket returns to its outlet's agent."), at=at))
            moved += 1
    if moved:
        record(None, "leave.hand_back", "leave_request", leave.id,
               summary=_("%(n)d open tickets handed back to %(name)s", n=moved, name=owner.display_name))
    return moved
