"""Follow-ups: stored, listed and closed in the user's ticket scope; reminded once by the task queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, or_, select, update

from ... import core_sql
from ...auditing import record
from ...extensions import db
from ...filters import SHANGHAI
from ...models import Outlet, Role, Ticket, TicketEvent, User, utcnow
from ...models.ticket import EventKind, QueueState
from ...models.ticket_follow_up import FollowUpParty, FollowUpState, TicketFollowUp
from ...notifications.service import notify
from ...permissions import Permission, ensure, has_permission
from ...service_errors import NotFound, ValidationError
from .. import idempotency, queue
from .. import service as tickets
from . import rules

ACTION = "ticket.follow_up"  # the idempotency key's action and the audit action of a new follow-up
NOTIFICATION_KIND = "follow_up"

PARTY_LABELS = {
    FollowUpParty.CUSTOMER: _l("Customer"),
    FollowUpParty.OUTLET: _l("Outlet"),
    FollowUpParty.COURIER: _l("Courier"),
    FollowUpParty.BRAND: _l("Brand HQ"),
    FollowUpParty.OTHER: _l("Other"),
}
STATE_LABELS = {
    FollowUpState.OPEN: _l("Awaiting follow-up"),
    FollowUpState.DONE: _l("Done"),
    FollowUpState.CANCELLED: _l("Cancelled"),
}


class FollowUpNotFound(NotFound):
    """Not a follow-up of a ticket in the user's scope (the view answers 404)."""


def party_label(code: str) -> str:
    """The party's Chinese name (an unknown code as it is)."""
    label = PARTY_LABELS.get(code)
    return str(label) if label is not None else code


def state_label(code: str) -> str:
    """The state's Chinese name."""
    label = STATE_LABELS.get(code)
    return str(label) if label is not None else code


def beijing(at: datetime) -> str:
    """``12-04 15:00`` in Beijing time (timeline lines, notices, the handover text)."""
    return at.astimezone(SHANGHAI).strftime("%m-%d %H:%M")


def when_text(due_at: datetime, now: datetime) -> str:
    """"in 35 minutes" / "overdue by 2 h 5 min": how far a follow-up's time is from ``now``."""
    from ...dashboard.performance import duration_text

    minutes = int((due_at - now).total_seconds() // 60)
    if minutes < 0:
        return _("overdue by %(d)s", d=duration_text(-minutes))
    return _("in %(d)s", d=duration_text(minutes))


def _visible_ticket_ids(user: User):
    return tickets.visible_tickets_query(user).with_only_columns(Ticket.id)


def add(actor: User, ticket_id: int, *, party: str, promise: str, due_at: datetime | None,
        idempotency_key: str | None = None, now: datetime | None = None) -> TicketFollowUp:
    """A promise on a ticket the actor may work, with a timeline line; a repeated form key answers the
    follow-up it stored (a double click stores one). Does not change the ticket (takes no version)."""
    ensure(actor, Permission.WORK_TICKETS)
    key = idempotency.clean(idempotency_key)
    done = idempotency.earlier(actor, ACTION, key)
    if done is not None:
        return db.session.get(TicketFollowUp, done.ids[0])
    ticket = tickets.get_visible_ticket(actor, ticket_id)
    if ticket is None:
        raise tickets.TicketNotFound()
    now = now or utcnow()
    text = " ".join((promise or "").split())
    errors = {}
    if party not in PARTY_LABELS:
        errors["party"] = _("Choose to whom you promised it.")
    if (error := rules.promise_error(text)) is not None:
        errors["promise"] = error
    if (error := rules.due_error(due_at, now)) is not None:
        errors["due_at"] = error
    if not errors and open_count(ticket.id) >= rules.MAX_OPEN_PER_TICKET:
        errors["promise"] = _("This ticket has %(n)d open follow-ups already: close one first.",
                              n=rules.MAX_OPEN_PER_TICKET)
    if errors:
        raise ValidationError(errors)
    follow_up = TicketFollowUp(ticket_id=ticket.id, party=party, promise=text, due_at=due_at,
                               state=FollowUpState.OPEN, created_by_id=actor.id, created_at=now)
    db.session.add(follow_up)
    tickets._event(ticket, actor, EventKind.FOLLOW_UP, from_value=party, to_value=FollowUpState.OPEN,
                   body=f"{beijing(due_at)} {text}", at=now)
    record(actor, ACTION, "ticket", ticket.id, summary=f"{ticket.waybill_no} {beijing(due_at)} {text[:60]}")
    stored = tickets._commit_once(actor, ACTION, key, ticket.id, lambda: _flushed_id(follow_up))
    return follow_up if stored is None else db.session.get(TicketFollowUp, stored.ids[0])


def _flushed_id(follow_up: TicketFollowUp) -> list[int]:
    return [follow_up.id]


def close(actor: User, follow_up_id: int, *, done: bool, outcome: str = "",
          now: datetime | None = None) -> tuple[TicketFollowUp, bool]:
    """Mark an open follow-up done (with what came of it) or cancelled: (follow-up, True), with a
    timeline line. One already closed (a second click, a colleague first) is (follow-up, False):
    nothing is written again. Only on a ticket the actor may work."""
    ensure(actor, Permission.WORK_TICKETS)
    follow_up = get_visible(actor, follow_up_id)
    text = " ".join((outcome or "").split())
    if len(text) > rules.OUTCOME_MAX:
        raise ValidationError({"outcome": _("At most %(n)d characters.", n=rules.OUTCOME_MAX)})
    if not follow_up.is_open:
        return follow_up, False
    now = now or utcnow()
    state = FollowUpState.DONE if done else FollowUpState.CANCELLED
    # Only from open: of two concurrent closings one writes, the other is told it was closed already.
    changed = db.session.execute(
        update(TicketFollowUp).where(TicketFollowUp.id == follow_up.id, TicketFollowUp.state == FollowUpState.OPEN)
        .values(state=state, closed_at=now, closed_by_id=actor.id, outcome=text)
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        db.session.rollback()
        db.session.refresh(follow_up)
        return follow_up, False
    ticket = db.session.get(Ticket, follow_up.ticket_id)
    body = f"{follow_up.promise}" + (f" → {text}" if text else "")
    tickets._event(ticket, actor, EventKind.FOLLOW_UP, from_value=follow_up.party, to_value=state, body=body, at=now)
    record(actor, f"{ACTION}.{state}", "ticket", ticket.id, summary=f"{ticket.waybill_no} {follow_up.promise[:60]}")
    db.session.commit()
    db.session.refresh(follow_up)
    return follow_up, True


def due_for_reply(ticket_id: int, code: str, body: str, now: datetime | None = None) -> datetime | None:
    """The time the reply form's 跟进 choice asks for (None: no follow-up), checked before the reply is
    stored so that a follow-up that cannot be made stores nothing: a choice from the list, a reply text
    that can be a promise, and room on the ticket (at most five open)."""
    if not code:
        return None
    now = now or utcnow()
    due = rules.preset_due(code, now)
    if due is None:
        raise ValidationError({"follow_up": _("Choose when to follow up from the list.")})
    text = rules.promise_from_reply(body)
    if text and (error := rules.promise_error(text)) is not None:
        raise ValidationError({"follow_up": error})
    if open_count(ticket_id) >= rules.MAX_OPEN_PER_TICKET:
        raise ValidationError({"follow_up": _("This ticket has %(n)d open follow-ups already: close one first.",
                                              n=rules.MAX_OPEN_PER_TICKET)})
    return due


def add_for_reply(actor: User, ticket_id: int, *, channel: str, body: str, due_at: datetime,
                  reply_key: str | None = None) -> TicketFollowUp:
    """The follow-up a stored reply promised: the reply's text, to whom it went (its channel), at the
    chosen time; the reply form's key (suffixed) makes a repeated submit store it once."""
    key = f"{reply_key}:follow-up" if idempotency.clean(reply_key) else None
    return add(actor, ticket_id, party=rules.party_for_channel(channel), promise=rules.promise_from_reply(body),
               due_at=due_at, idempotency_key=key)


def get_visible(user: User, follow_up_id: int) -> TicketFollowUp:
    """The follow-up if its ticket is in the user's scope (else ``FollowUpNotFound``: 404)."""
    follow_up = db.session.scalar(select(TicketFollowUp).where(
        TicketFollowUp.id == follow_up_id, TicketFollowUp.ticket_id.in_(_visible_ticket_ids(user))))
    if follow_up is None:
        raise FollowUpNotFound()
    return follow_up


_MARKS = None


def marks_for(ticket_ids: list[int]) -> dict[int, tuple[datetime, int]]:
    """``{ticket_id: (first open follow-up's time, how many are open)}`` of a queue page's tickets:
    one prebuilt statement (the queue marks the rows), nothing for an empty page."""
    global _MARKS
    if not ticket_ids:
        return {}
    if _MARKS is None:
        table = TicketFollowUp.__table__
        # The rows, not GROUP BY: at most five open per ticket (a page's tab counts are the only
        # aggregate a queue fragment runs).
        _MARKS = (select(table.c.ticket_id, table.c.due_at)
                  .where(table.c.state == FollowUpState.OPEN.value,
                         table.c.ticket_id.in_(bindparam("ticket_ids", expanding=True)))
                  .order_by(table.c.due_at))
    found: dict[int, tuple[datetime, int]] = {}
    for ticket_id, due_at in core_sql.execute(_MARKS, {"ticket_ids": list(ticket_ids)}):
        first, count = found.get(ticket_id, (due_at, 0))
        found[ticket_id] = (first, count + 1)
    return found


def open_count(ticket_id: int) -> int:
    """How many follow-ups of the ticket are open."""
    return db.session.scalar(select(func.count(TicketFollowUp.id)).where(
        TicketFollowUp.ticket_id == ticket_id, TicketFollowUp.state == FollowUpState.OPEN)) or 0


@dataclass
class Line:
    """One open follow-up as the lists show it."""

    id: int
    ticket_id: int
    waybill_no: str
    outlet: str
    assignee: str | None
    party: str
    promise: str
    due_at: datetime
    urgency: str
    created_by: str | None


_LAST_LINE = None


def last_event_row(ticket_id: int, actor_id: int):
    """The newest 跟进 timeline row the actor wrote on the ticket (what a write just added), in the
    timeline's columns, for the answer's out-of-band line: one prebuilt statement, not the timeline."""
    global _LAST_LINE
    if _LAST_LINE is None:
        events, users = TicketEvent.__table__, User.__table__
        _LAST_LINE = (
            select(events.c.id, events.c.at, events.c.actor_id, events.c.kind, events.c.from_value,
                   events.c.to_value, events.c.body, users.c.display_name.label("actor_name"))
            .select_from(events.outerjoin(users, users.c.id == events.c.actor_id))
            .where(events.c.ticket_id == bindparam("ticket_id"), events.c.actor_id == bindparam("actor_id"),
                   events.c.kind == EventKind.FOLLOW_UP.value)
            .order_by(events.c.at.desc(), events.c.id.desc()).limit(1))
    return core_sql.execute(_LAST_LINE, {"ticket_id": ticket_id, "actor_id": actor_id}).first()


_FOR_TICKET = None


def for_ticket(ticket_id: int, now: datetime | None = None) -> list[Line]:
    """The ticket's open follow-ups, soonest first (the ticket page and every write that answers its
    body: one statement, built once per process)."""
    global _FOR_TICKET
    now = now or utcnow()
    if _FOR_TICKET is None:
        table, users = TicketFollowUp.__table__, User.__table__
        _FOR_TICKET = (
            select(table.c.id, table.c.party, table.c.promise, table.c.due_at, users.c.display_name)
            .select_from(table.outerjoin(users, users.c.id == table.c.created_by_id))
            .where(table.c.ticket_id == bindparam("ticket_id"), table.c.state == FollowUpState.OPEN.value)
            .order_by(table.c.due_at, table.c.id))
    rows = core_sql.execute(_FOR_TICKET, {"ticket_id": ticket_id}).all()
    return [Line(r.id, ticket_id, "", "", None, r.party, r.promise, r.due_at, rules.urgency(r.due_at, now),
                 r.display_name) for r in rows]


def _columns_and_joins():
    creator = db.aliased(User)
    assignee = db.aliased(User)
    return (select(TicketFollowUp.id, TicketFollowUp.ticket_id, Ticket.waybill_no, Outlet.name.label("outlet"),
                   assignee.display_name.label("assignee"), TicketFollowUp.party, TicketFollowUp.promise,
                   TicketFollowUp.due_at, creator.display_name.label("created_by"))
            .join(Ticket, Ticket.id == TicketFollowUp.ticket_id)
            .join(Outlet, Outlet.id == Ticket.outlet_id)
            .outerjoin(assignee, assignee.id == Ticket.assignee_id)
            .outerjoin(creator, creator.id == TicketFollowUp.created_by_id)
            .where(TicketFollowUp.state == FollowUpState.OPEN))


_AGENT_MINE = None


def _agent_mine_statement():
    """An agent's own follow-ups with the user and the instant as parameters, built once per process
    (the agent's home and 我的跟进): the same rows as the general statement for an agent, whose scope
    is what they hold, their outlets and what they cover, so "theirs" reads
    held by them, or promised by them on their outlet, or on an outlet they cover (代班)."""
    global _AGENT_MINE
    if _AGENT_MINE is None:
        from ...leave.coverage import covered_outlet_ids_select

        user_id = bindparam("user_id")
        own_outlets = select(Outlet.id).where(Outlet.primary_agent_id == user_id)
        covered = covered_outlet_ids_select(user_id, bindparam("at", type_=TicketFollowUp.due_at.type))
        _AGENT_MINE = (_columns_and_joins()
                       .where(or_(Ticket.assignee_id == user_id,
                                  (TicketFollowUp.created_by_id == user_id) & Ticket.outlet_id.in_(own_outlets),
                                  Ticket.outlet_id.in_(covered)))
                       .order_by(TicketFollowUp.due_at, TicketFollowUp.id).limit(bindparam("limit")))
    return _AGENT_MINE


_SCOPED: dict[tuple, object] = {}


def _scoped_statement(key: tuple, condition, mine: bool):
    """The board's statement for a scope ``queue.visible_shape`` prebuilt (a lead's or an admin's),
    built once per process and shape: the scope is a condition on the follow-up's own ticket row,
    so the open follow-ups drive the read, not the thousands of tickets a team can see; ``mine``
    narrows it to what the user promised, holds or covers (代班), as ``_list_statement`` does."""
    statement = _SCOPED.get((key, mine))
    if statement is None:
        f, t, o = TicketFollowUp.__table__, Ticket.__table__, Outlet.__table__
        creator, assignee = User.__table__.alias("creator"), User.__table__.alias("assignee")
        user_id = bindparam("user_id")
        statement = (
            select(f.c.id, f.c.ticket_id, t.c.waybill_no, o.c.name.label("outlet"),
                   assignee.c.display_name.label("assignee"), f.c.party, f.c.promise, f.c.due_at,
                   creator.c.display_name.label("created_by"))
            .select_from(f.join(t, t.c.id == f.c.ticket_id).join(o, o.c.id == t.c.outlet_id)
                         .outerjoin(assignee, assignee.c.id == t.c.assignee_id)
                         .outerjoin(creator, creator.c.id == f.c.created_by_id))
            .where(f.c.state == FollowUpState.OPEN.value, *([condition] if condition is not None else [])))
        if mine:
            covered = [t.c.outlet_id.in_(bindparam("covered", expanding=True))] if key[2] else []
            statement = statement.where(or_(f.c.created_by_id == user_id, t.c.assignee_id == user_id, *covered))
        statement = _SCOPED[(key, mine)] = statement.order_by(f.c.due_at, f.c.id).limit(bindparam("limit"))
    return statement


def _list_statement(user: User, scope: str, now: datetime):
    """The open follow-ups of the tickets in ``user``'s scope (``mine``: what they promised, hold, or
    cover as a substitute); built for the request (a lead's, or anyone's but an agent's own list)."""
    statement = _columns_and_joins().where(TicketFollowUp.ticket_id.in_(_visible_ticket_ids(user)))
    if scope == "mine":  # what I promised, what is promised on a ticket I hold or on an outlet I cover (代班)
        from ...leave.coverage import covered_outlet_ids_select

        statement = statement.where(or_(TicketFollowUp.created_by_id == user.id, Ticket.assignee_id == user.id,
                                        Ticket.outlet_id.in_(covered_outlet_ids_select(user.id, now))))
    return statement

SCOPES = ("mine", "team")


def scopes_for(user: User) -> tuple[str, ...]:
    """An agent sees their own follow-ups; a lead (and an admin) also everyone's in scope."""
    return SCOPES if has_permission(user, Permission.VIEW_TEAM_TICKETS) and user.role != Role.AGENT else ("mine",)


@dataclass
class Board:
    """我的跟进: the open follow-ups in three groups."""

    overdue: list[Line]
    today: list[Line]
    later: list[Line]
    scope: str

    @property
    def total(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.later)


LIST_LIMIT = 300  # more than that open is a team problem, not a list to scroll


def board(user: User, scope: str = "mine", now: datetime | None = None) -> Board:
    """The user's open follow-ups (``scope`` mine or team), overdue first, then the rest of today
    (Beijing), then later; soonest first in each."""
    if scope not in scopes_for(user):
        scope = "mine"
    now = now or utcnow()
    if scope == "mine" and user.role == Role.AGENT and user.is_active:
        rows = core_sql.execute(_agent_mine_statement(), {"user_id": user.id, "at": now, "limit": LIST_LIMIT}).all()
    elif (shape := queue.visible_shape(user, now)) is not None:  # None for an inactive user: the general path
        key, condition, params = shape
        rows = core_sql.execute(_scoped_statement(key, condition, scope == "mine"),
                                {**params, "limit": LIST_LIMIT}).all()
    else:
        rows = db.session.execute(_list_statement(user, scope, now)
                                  .order_by(TicketFollowUp.due_at, TicketFollowUp.id).limit(LIST_LIMIT)).all()
    _start, end_of_today = queue.shanghai_day_bounds(now.astimezone(SHANGHAI).date())  # the queue's 今日
    groups: dict[str, list[Line]] = {"overdue": [], "today": [], "later": []}
    for r in rows:
        urgency = rules.urgency(r.due_at, now)
        line = Line(r.id, r.ticket_id, r.waybill_no, r.outlet, r.assignee, r.party, r.promise, r.due_at,
                    urgency, r.created_by)
        group = "overdue" if urgency == "overdue" else ("today" if r.due_at < end_of_today else "later")
        groups[group].append(line)
    return Board(groups["overdue"], groups["today"], groups["later"], scope)


@dataclass
class HomeFigures:
    """The home page's card: how many are overdue and due today, and the next few."""

    overdue: int
    today: int
    upcoming: list[Line]
    scope: str
    now: datetime


def home_figures(user: User, now: datetime | None = None, shown: int = 5) -> HomeFigures:
    """The agent's (mine) or lead's (team) follow-ups for the home page, from the board's one statement."""
    scope = "team" if "team" in scopes_for(user) else "mine"
    now = now or utcnow()
    found = board(user, scope, now)
    return HomeFigures(len(found.overdue), len(found.today), (found.overdue + found.today + found.later)[:shown],
                       scope, now)


def promises_by_outlet(user: User, outlet_ids: list[int]) -> dict[int, str]:
    """``{outlet_id: text}``: the open follow-ups on the outlets' open tickets, one line each
    ("运单号 12-04 15:00 客户：承诺"), to start a handover's 待办承诺 with (the agent edits it)."""
    if not outlet_ids:
        return {}
    rows = db.session.execute(
        select(Ticket.outlet_id, Ticket.waybill_no, TicketFollowUp.party, TicketFollowUp.promise, TicketFollowUp.due_at)
        .join(Ticket, Ticket.id == TicketFollowUp.ticket_id)
        .where(Ticket.outlet_id.in_(outlet_ids), Ticket.queue_state != QueueState.CLOSED,
               TicketFollowUp.state == FollowUpState.OPEN)
        .order_by(Ticket.outlet_id, TicketFollowUp.due_at, TicketFollowUp.id)).all()
    found: dict[int, list[str]] = {}
    for r in rows:
        found.setdefault(r.outlet_id, []).append(
            f"{r.waybill_no} {beijing(r.due_at)} {party_label(r.party)}：{r.promise}")
    return {outlet_id: "\n".join(lines)[:2000] for outlet_id, lines in found.items()}


def remind_due(now: datetime | None = None) -> dict[str, int]:
    """The periodic task's work, each notice at most once (its stamp is an UPDATE from NULL, so a second
    run or a second worker sends nothing):

    * a follow-up that has come due reminds whoever serves the ticket (the substitute while the
      assignee is away; the one who made the promise when nobody holds it);
    * one still open an hour past its time tells that person's lead (not one more than a day late:
      a worker down for days would flood them; those are on 我的跟进).
    """
    from ..notices import _lead_of

    now = now or utcnow()
    sent = {"reminded": 0, "escalated": 0}
    for follow_up, ticket, person in _claimed(TicketFollowUp.reminded_at, now, TicketFollowUp.due_at <= now):
        if person is None or not person.is_active_account:
            continue
        notify(person, NOTIFICATION_KIND,
               _("Follow-up due: %(waybill)s", waybill=ticket.waybill_no),
               _("%(at)s to %(party)s: %(promise)s", at=beijing(follow_up.due_at),
                 party=party_label(follow_up.party), promise=follow_up.promise),
               link=f"/tickets/{ticket.id}#act-follow-up")
        sent["reminded"] += 1
    late_since = now - rules.ESCALATE_AFTER
    for follow_up, ticket, person in _claimed(TicketFollowUp.escalated_at, now, TicketFollowUp.due_at <= late_since,
                                              TicketFollowUp.due_at > late_since - rules.ESCALATE_LOOKBACK):
        lead = _lead_of(person)
        if lead is None or not lead.is_active_account:
            continue
        notify(lead, NOTIFICATION_KIND,
               _("Follow-up not kept: %(waybill)s", waybill=ticket.waybill_no),
               _("%(name)s promised %(party)s by %(at)s: %(promise)s (still open %(late)s later)",
                 name=person.display_name, party=party_label(follow_up.party), at=beijing(follow_up.due_at),
                 promise=follow_up.promise, late=_duration(now - follow_up.due_at)),
               link=f"/tickets/{ticket.id}#act-follow-up")
        sent["escalated"] += 1
    db.session.commit()
    return sent


def _claimed(stamp, now: datetime, *conditions):
    """The open follow-ups matching ``conditions`` whose ``stamp`` column this run wrote from empty (so
    each is claimed by one run only), each with its ticket and whoever serves it (the substitute while
    the assignee is away; the one who made the promise when nobody holds the ticket)."""
    from ..notices import serving

    found = db.session.scalars(
        select(TicketFollowUp).where(TicketFollowUp.state == FollowUpState.OPEN, stamp.is_(None), *conditions)
        .order_by(TicketFollowUp.due_at).limit(500)).all()
    for follow_up in found:
        if _stamp(follow_up, stamp, now):
            ticket = db.session.get(Ticket, follow_up.ticket_id)
            yield follow_up, ticket, serving(ticket, now) or follow_up.created_by


def _duration(delta: timedelta) -> str:
    from ...dashboard.performance import duration_text

    return duration_text(int(delta.total_seconds() // 60))


def _stamp(follow_up: TicketFollowUp, column, now: datetime) -> bool:
    """Write ``column`` = now on the follow-up if it is still empty: True for the one run that did."""
    return bool(db.session.execute(
        update(TicketFollowUp).where(TicketFollowUp.id == follow_up.id, column.is_(None))
        .values({column.key: now}).execution_options(synchronize_session=False)).rowcount)

def describe_event(event):
    """A follow-up's timeline line: "跟进 · 客户 · 待跟进" and the promise (→ its outcome)."""
    from ...auditing import Change, TimelineLine

    what = f"{party_label(event.from_value or '')} · {state_label(event.to_value or '')}"
    return TimelineLine([Change("follow_up", _("Promised to"), None, what, has_old=False)], event.body or "")


def _register() -> None:
    from ...auditing import register_event_describer, register_labels

    register_event_describer(EventKind.FOLLOW_UP.value, describe_event)
    register_labels(actions={
        ACTION: _l("Follow-up recorded"),
        f"{ACTION}.{FollowUpState.DONE}": _l("Follow-up done"),
        f"{ACTION}.{FollowUpState.CANCELLED}": _l("Follow-up cancelled"),
    })


_register()
