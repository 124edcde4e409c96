"""The ticket page's SOP panel: record that a script was inserted or copied (timeline line)."""

from __future__ import annotations

from flask import Response, abort, redirect, request, url_for
from flask_login import current_user

from ..crud import parse_version
from ..htmx import render_fragment, wants_fragment
from ..permissions import Permission, require
from ..service_errors import NotFound, ValidationError
from . import bp, panel


@bp.route("/panel/<int:ticket_id>/used", methods=["POST"])
@require(Permission.VIEW_SOP, Permission.WORK_TICKETS)
def panel_used(ticket_id: int):
    """Record on the ticket's timeline which scenario version the agent inserted or copied.

    Idempotent: the same agent, ticket and version within 10 minutes add no second line.
    htmx gets the new timeline line (out of band) or 204; a plain post a 303 to the ticket.
    """
    from ..tickets.service import get_visible_ticket

    ticket = get_visible_ticket(current_user, ticket_id)
    if ticket is None:
        abort(404)
    version_id = parse_version(request.form.get("version_id"))
    if version_id is None:
        abort(400)
    try:
        before = panel.last_use_id(current_user, ticket, version_id)
        event = panel.record_use(current_user, ticket, version_id, request.form.get("action", "insert"))
    except NotFound:
        abort(404)
    except ValidationError:
        abort(400)
    if not wants_fragment():
        return redirect(url_for("tickets.detail", ticket_id=ticket.id), code=303)
    if before == event.id:
        return Response(status=204)
    from ..tickets import labels

    return render_fragment("sop/_ticket_panel.html", "timeline_line", sop_event=event, labels=labels)
