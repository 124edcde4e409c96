"""Ticket notices (the bell): assignment, fines, reopening, and the deadline escalation.

The service's writes call ``assigned`` / ``fined`` / ``reopened`` once each, inside
their transaction (a notice never outlives a rolled-back change). The deadline
escalation (``escalate``) runs in the periodic task (kdcs/tickets/tasks.py), never on
a page load: before a notice it inserts a ``TicketNotice`` marker (ticket, kind, the
deadline it is about) with ON CONFLICT DO NOTHING … RETURNING, so two workers, a
restart or a second run send each notice at most once. A reopened ticket has a new
deadline, hence a new marker.

"The assignee" means whoever serves the ticket now: when the assignee is away on
leave and the outlet is covered, the substitute (kdcs/leave/coverage.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import and_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..filters import SHANGHAI
from ..models import QueueState, Team, Ticket, TicketNotice, TicketStatus, User, utcnow
from ..notifications.service import notify

log = logging.getLogger(__name__)

NOTIFICATION_KIND = "ticket"
DUE_SOON = "reply_due_soon"
REPLY_OVERDUE = "reply_overdue"
RESOLVE_OVERDUE = "resolve_overdue"
DEFAULT_DUE_SOON_MINUTES = 30


def ticket_link(ticket: Ticket) -> str:
    """The ticket page (a notice links to it)."""
    return f"/tickets/{ticket.id}"


def _beijing(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%m-%d %H:%M")


def serving(ticket: Ticket, at: datetime | None = None) -> User | None:
    """Who serves the ticket at ``at``: the assignee, or their substitute while they are on leave."""
    from ..leave.coverage import covering_substitute, is_away

    assignee = ticket.assignee if ticket.assignee_id else None
    if assignee is not None and not is_away(assignee, at):
        return assignee
    substitute = covering_substitute(ticket.outlet_id, at)
    return substitute or assignee


def _recipient(user: User | None, actor) -> User | None:
    """Nobody is told about what they did themselves."""
    if user is None or not user.is_active or (actor is not None and user.id == getattr(actor, "id", None)):
        return None
    return user


def _send(user: User | None, actor, title: str, body: str, ticket: Ticket) -> bool:
    user = _recipient(user, actor)
    if user is None:
        return False
    notify(user, NOTIFICATION_KIND, title, body, ticket_link(ticket))
    return True


def assigned(ticket: Ticket, previous: User | None, actor, away: dict[int, bool] | None = None) -> None:
    """A ticket (re)assigned: the new assignee (or their substitute) and the one it was taken from.

    ``away``: ``is_away`` answers already asked, by user id, filled in here (a bulk assignment
    passes one for its batch: whether its one assignee is on leave is asked once, not per ticket)."""
    new = db.session.get(User, ticket.assignee_id) if ticket.assignee_id else None
    who = getattr(actor, "display_name", "") or _("the system")
    body = _("%(waybill)s, %(outlet)s; by %(actor)s.", waybill=ticket.waybill_no,
             outlet=ticket.outlet.name if ticket.outlet else "", actor=who)
    to_new = new
    if new is not None:
        from ..leave.coverage import covering_substitute, is_away

        away = {} if away is None else away
        if new.id not in away:
            away[new.id] = is_away(new)
        if away[new.id]:
            to_new = covering_substitute(ticket.outlet_id) or new
    _send(to_new, actor, _("Ticket assigned to you: %(waybill)s", waybill=ticket.waybill_no), body, ticket)
    if previous is not None and (to_new is None or previous.id != to_new.id):
        _send(previous, actor, _("Ticket reassigned to %(name)s: %(waybill)s",
                                 name=new.display_name if new else "-", waybill=ticket.waybill_no), body, ticket)


def fined(ticket: Ticket, actor) -> None:
    """A fine recorded on the ticket: its assignee (or substitute) is told the amount, and the share
    as theirs only when the fine is charged to them (a substitute, or the assignee of a ticket fined
    before it was reassigned, is told whose share it is)."""
    to = serving(ticket)
    share = ticket.fine_agent_share if ticket.fine_agent_share is not None else "0.00"
    if to is not None and ticket.fine_agent_id not in (None, to.id):
        body = _("Fine ¥%(amount)s, charged to %(name)s (share ¥%(share)s).", amount=ticket.fine_amount,
                 name=ticket.fine_agent.display_name, share=share)
    else:
        body = _("Fine ¥%(amount)s, your share ¥%(share)s.", amount=ticket.fine_amount, share=share)
    _send(to, actor, _("Fine recorded on your ticket %(waybill)s", waybill=ticket.waybill_no), body, ticket)


def reopened(ticket: Ticket, actor, reason: str = "") -> None:
    """A ticket of yours reopened (with the reason)."""
    _send(serving(ticket), actor, _("Ticket reopened: %(waybill)s", waybill=ticket.waybill_no),
          reason[:200], ticket)


# --------------------------------------------------------------------------- escalation


def due_soon_minutes() -> int:
    """Minutes before the reply deadline that the assignee is reminded (KDCS_REPLY_REMINDER_MINUTES, 30)."""
    value = current_app.config.get("KDCS_REPLY_REMINDER_MINUTES", DEFAULT_DUE_SOON_MINUTES) if has_app_context() \
        else DEFAULT_DUE_SOON_MINUTES
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return DEFAULT_DUE_SOON_MINUTES


def claim(ticket_id: int, kind: str, due_at: datetime, now: datetime) -> bool:
    """Insert the marker of one notice; True only for the one caller whose insert wrote it.

    ON CONFLICT DO NOTHING … RETURNING id: the returned row says "mine" on both
    SQLite and PostgreSQL (psycopg 3 reports rowcount -1 for it, so never rowcount).
    """
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (insert(TicketNotice).values(ticket_id=ticket_id, kind=kind, due_at=due_at, sent_at=now)
                 .on_conflict_do_nothing(index_elements=["ticket_id", "kind", "due_at"])
                 .returning(TicketNotice.id))
    return db.session.execute(statement).scalar() is not None


def _lead_of(user: User | None) -> User | None:
    if user is None or user.team_id is None:
        return None
    team = db.session.get(Team, user.team_id)
    return team.lead if team is not None and team.lead is not None and team.lead.id != user.id else None


# An overdue notice is news: a deadline missed longer ago (a first run, a worker down for days)
# is on the lead's home page and queue, not worth a flood of notices.
OVERDUE_LOOKBACK = timedelta(hours=24)


def _candidates(now: datetime, soon: timedelta):
    # Every pending deadline is >= due_at (their minimum) and only ACTIVE tickets have one:
    # (queue_state, due_at) is indexed (ix_tickets_queue), so a pass reads only tickets near or past due.
    open_ = and_(Ticket.queue_state == QueueState.ACTIVE, Ticket.due_at <= now + soon,
                 Ticket.status != TicketStatus.CLOSED)
    recent = now - OVERDUE_LOOKBACK
    pending_reply = and_(open_, Ticket.first_replied_at.is_(None), Ticket.reply_due_at.is_not(None))
    yield DUE_SOON, Ticket.reply_due_at, and_(pending_reply, Ticket.reply_due_at > now,
                                              Ticket.reply_due_at <= now + soon)
    yield REPLY_OVERDUE, Ticket.reply_due_at, and_(pending_reply, Ticket.reply_due_at <= now,
                                                   Ticket.reply_due_at > recent)
    yield RESOLVE_OVERDUE, Ticket.resolve_due_at, and_(open_, Ticket.resolved_at.is_(None),
                                                       Ticket.resolve_due_at.is_not(None),
                                                       Ticket.resolve_due_at <= now, Ticket.resolve_due_at > recent)


def _message(kind: str, ticket: Ticket, due_at: datetime, assignee: User | None) -> tuple[str, str]:
    name = assignee.display_name if assignee else _("Unassigned")
    if kind == DUE_SOON:
        return (_("Reply due at %(time)s: %(waybill)s", time=_beijing(due_at), waybill=ticket.waybill_no),
                _("The first reply is due at %(time)s (Beijing time).", time=_beijing(due_at)))
    if kind == REPLY_OVERDUE:
        return (_("Reply overdue: %(waybill)s (%(name)s)", waybill=ticket.waybill_no, name=name),
                _("The first reply was due at %(time)s (Beijing time).", time=_beijing(due_at)))
    return (_("Resolution overdue: %(waybill)s (%(name)s)", waybill=ticket.waybill_no, name=name),
            _("The ticket was due to be resolved by %(time)s (Beijing time).", time=_beijing(due_at)))


def stamp_missed_reply(ticket_id: int) -> None:
    """Keep whom a missed first reply deadline counts for (``Ticket.reply_agent_id``): the assignee
    when it passed. A plain UPDATE, not through the ORM, so the ticket's version does not change
    (an agent with the page open is not told someone else changed it)."""
    db.session.execute(update(Ticket).where(Ticket.id == ticket_id, Ticket.reply_agent_id.is_(None))
                       .values(reply_agent_id=Ticket.assignee_id).execution_options(synchronize_session=False))


def escalate(now: datetime | None = None) -> dict[str, int]:
    """One pass: reply deadlines approaching → the assignee (or substitute); overdue (within 24 h) → the lead.

    Each notice is its own transaction after claiming its marker; a notice
    without anyone to tell still claims it (it is not retried every pass).
    """
    now = now or utcnow()
    soon = timedelta(minutes=due_soon_minutes())
    sent = {DUE_SOON: 0, REPLY_OVERDUE: 0, RESOLVE_OVERDUE: 0}
    for kind, column, clause in _candidates(now, soon):
        rows = db.session.execute(
            select(Ticket.id, column).where(clause).where(
                ~select(TicketNotice.id).where(TicketNotice.ticket_id == Ticket.id, TicketNotice.kind == kind,
                                               TicketNotice.due_at == column).exists())
            .order_by(column, Ticket.id).limit(1000)).all()
        for ticket_id, due_at in rows:
            try:
                if not claim(ticket_id, kind, due_at, now):
                    db.session.rollback()
                    continue
                ticket = db.session.get(Ticket, ticket_id)
                assignee = ticket.assignee if ticket.assignee_id else None
                if kind == REPLY_OVERDUE:  # the missed deadline counts for whoever holds the ticket now
                    stamp_missed_reply(ticket_id)
                to = serving(ticket, now) if kind == DUE_SOON else _lead_of(assignee)
                if to is not None and to.is_active:
                    title, body = _message(kind, ticket, due_at, assignee)
                    notify(to, NOTIFICATION_KIND, title, body, ticket_link(ticket))
                    sent[kind] += 1
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("ticket escalation: %s of ticket %s failed", kind, ticket_id)
    return sent
