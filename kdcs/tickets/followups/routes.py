"""Views of follow-ups: added and closed on the ticket page (its 跟进 card), listed on 我的跟进."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...htmx import render, render_fragment, wants_fragment
from ...models import utcnow
from ...permissions import Permission, require
from ...service_errors import StaleEdit, ValidationError
from ...views import apply_errors
from .. import bp, idempotency, timeline_view
from .. import service as tickets
from ..forms import as_shanghai, controls
from . import service
from .forms import PREFIX, CloseForm, FollowUpForm, follow_up_view, party_choices

CARD = "tickets/followups/_card.html"
CLOSE = "tickets/followups/_close.html"


@bp.app_template_global("follow_up_when")
def follow_up_when(line, now) -> str:
    """"还有 35 分钟" / "已超时 2 小时 5 分钟" beside a follow-up's time."""
    return service.when_text(line.due_at, now)


@bp.app_template_global("follow_up_party")
def follow_up_party(code: str) -> str:
    """The party's Chinese name."""
    return service.party_label(code)


def card_context(ticket_id: int, form_view=None, now=None) -> dict:
    """What the ticket page's 跟进 card shows: the open follow-ups and the form (fresh, or as refused)."""
    now = now or utcnow()
    return {"follow_ups": service.for_ticket(ticket_id, now),
            "follow_up_form": form_view or follow_up_view(idempotency.new_key()),
            "follow_up_ticket_id": ticket_id, "now": now, "c": controls(), "closing": closing_macros()}


def closing_macros():
    """The macros of tickets/followups/_close.html, made once per loaded template (as ``controls()``:
    an ``{% import %}`` in a block is a module made again on each render)."""
    from flask import current_app

    return current_app.jinja_env.get_template(CLOSE).module


def _card(ticket_id: int, *, status: int = 200, toast=None, line=None, form_view=None, close_error=None):
    """The card again (htmx), with the new timeline line out of band when something was written."""
    return render_fragment(CARD, "card", status=status, toast=toast, events="follow-ups-changed" if toast else None,
                           can_work=True, line=line, close_error=close_error, **card_context(ticket_id, form_view))


@bp.route("/<int:ticket_id>/follow-ups", methods=["POST"])
@require(Permission.WORK_TICKETS)
def follow_up_add(ticket_id: int):
    """Record a promise (to whom, what, by when) on a ticket the user may work; htmx gets the card again."""
    form = FollowUpForm(prefix=PREFIX)
    form.party.choices = party_choices()
    if form.validate_on_submit():
        try:
            stored = service.add(current_user, ticket_id, party=form.party.data or "", promise=form.promise.data or "",
                                 due_at=as_shanghai(form.due_at.data), idempotency_key=form.key.data)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        except StaleEdit:  # a concurrent submit of the same form not visible yet: send it again
            form.form_errors.append(_("This was just sent: please send it again."))
        else:
            message = _("Follow-up recorded: %(at)s.", at=service.beijing(stored.due_at))
            if not wants_fragment():
                flash(message, "success")
                return redirect(url_for("tickets.detail", ticket_id=ticket_id, _anchor="act-follow-up"), code=303)
            return _card(ticket_id, toast=message, line=_last_line(ticket_id))
    elif request.form.get(f"{PREFIX}-due_at") and form.due_at.errors:
        form.due_at.errors = [_("Choose a date and a time.")]
    if tickets.get_visible_ticket(current_user, ticket_id) is None:
        abort(404)
    form.key.data = form.key.data or idempotency.new_key()
    if wants_fragment():
        return _card(ticket_id, form_view=follow_up_view("", form))
    return _ticket_page(ticket_id, follow_up_view("", form))


def _ticket_page(ticket_id: int, form_view):
    """The whole ticket page with the refused follow-up form as the user sent it (no JavaScript)."""
    from ..routes import _detail_context

    ticket = tickets.get_page_ticket(current_user, ticket_id)
    if ticket is None:
        abort(404)
    return render("tickets/detail.html", **_detail_context(ticket, follow_up_form=form_view))


def _last_line(ticket_id: int):
    """The timeline line the write just added (the user's newest 跟进 line), for the out-of-band swap."""
    row = service.last_event_row(ticket_id, current_user.id)
    return timeline_view.lines([row])[0] if row is not None else None


def _close(follow_up_id: int, done: bool):
    """Done or cancel, answered where the form was: the ticket page's card or 我的跟进 (htmx), else a 303 back."""
    form = CloseForm()
    origin = "board" if form.origin.data == "board" else "ticket"
    try:
        follow_up = service.get_visible(current_user, follow_up_id)
    except service.FollowUpNotFound:
        abort(404)
    if not form.validate_on_submit():
        message, level, changed = (" ".join(str(e) for e in form.outcome.errors) or _("Please try again.")), "danger", False
    else:
        try:
            follow_up, changed = service.close(current_user, follow_up_id, done=done, outcome=form.outcome.data or "")
        except ValidationError as exc:
            message, level, changed = next(iter(exc.errors.values())), "danger", False
        else:
            if changed:
                message, level = (_("Follow-up done.") if done else _("Follow-up cancelled.")), "success"
            else:
                message, level = _("This follow-up was closed already (%(state)s).",
                                   state=service.state_label(follow_up.state)), "info"
    ticket_id = follow_up.ticket_id
    # A refused closing (an outcome too long) is said beside the follow-up, with the text as typed.
    close_error = {"id": follow_up_id, "message": message, "outcome": form.outcome.data or ""} \
        if level == "danger" else None
    if not wants_fragment():
        flash(message, level)
        if origin == "board":
            return redirect(url_for("tickets.follow_ups", scope=request.args.get("scope") or None), code=303)
        return redirect(url_for("tickets.detail", ticket_id=ticket_id, _anchor="act-follow-up"), code=303)
    if origin == "board":
        return _board_response(request.args.get("scope", "mine"), toast=None if close_error else (message, level),
                               close_error=close_error)
    return _card(ticket_id, toast=None if close_error else (message, level),
                 line=_last_line(ticket_id) if changed else None, close_error=close_error)


@bp.route("/follow-ups/<int:follow_up_id>/done", methods=["POST"])
@require(Permission.WORK_TICKETS)
def follow_up_done(follow_up_id: int):
    """Mark a follow-up kept (with what came of it); a second click is told it was done already."""
    return _close(follow_up_id, True)


@bp.route("/follow-ups/<int:follow_up_id>/cancel", methods=["POST"])
@require(Permission.WORK_TICKETS)
def follow_up_cancel(follow_up_id: int):
    """Cancel a follow-up no longer needed (it stays on the timeline)."""
    return _close(follow_up_id, False)


def _board_response(scope: str, toast=None, close_error=None):
    """我的跟进 (the page, or its ``board`` block for htmx) after a read or a closing."""
    user = current_user._get_current_object()
    now = utcnow()
    return render("tickets/followups/board.html", block="board", toast=toast, close_error=close_error,
                  closing=closing_macros(), events="follow-ups-changed" if toast else None,
                  board=service.board(user, scope, now), scopes=service.scopes_for(user), now=now)


@bp.route("/follow-ups")
@require(Permission.WORK_TICKETS)
def follow_ups():
    """我的跟进: the open promises on the user's tickets (a lead: also the team's), overdue first."""
    return _board_response(request.args.get("scope", "mine"))
