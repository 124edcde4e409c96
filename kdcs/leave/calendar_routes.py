"""The team calendar (/leave/calendar, month and week) and the return digest (/leave/<id>/digest)."""

from __future__ import annotations

from datetime import date

from flask import abort, request
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..htmx import render
from ..models.leave import LeaveHandover, LeaveRequest, LeaveStatus
from ..permissions import Permission, require
from ..request_args import day_or_none, id_or_none
from ..service_errors import NotFound
from . import bp
from . import calendar as team_calendars
from .digest import build_digest


def _anchor() -> date | None:
    return day_or_none((request.args.get("start") or "").strip()[:10])


@bp.route("/calendar")
@require(Permission.VIEW_LEAVE_CALENDAR)
def calendar():
    """The team calendar: who is away, who covers, days below minimum, outlets nobody serves."""
    teams = team_calendars.teams_for(current_user)
    team_id = id_or_none(request.args.get("team"))
    team = next((t for t in teams if t.id == team_id), None) if team_id else None
    if team_id and team is None:
        abort(404)
    team = team or team_calendars.default_team(current_user, teams)
    view = request.args.get("view") if request.args.get("view") in team_calendars.VIEWS else "month"
    cal = team_calendars.team_calendar(current_user, team, view, _anchor(), teams=teams) if team is not None else None
    return render("leave/calendar.html", block="calendar", cal=cal, teams=teams, team=team, view=view)


DIGEST_LOADS = (selectinload(LeaveRequest.handover).selectinload(LeaveHandover.outlet),
                selectinload(LeaveRequest.handover).selectinload(LeaveHandover.substitute))


@bp.route("/<int:leave_id>/digest")
@require()
def digest(leave_id: int):
    """What happened to the agent's outlets while away (the return digest), for whoever may see the request."""
    from . import service

    try:  # each outlet's row names the outlet and its substitute: loaded with the request
        leave = service.get_request(current_user, leave_id, *DIGEST_LOADS)
    except NotFound:
        abort(404)
    if leave.status not in (LeaveStatus.IN_PROGRESS, LeaveStatus.RETURNED):
        abort(404)
    return render("leave/digest.html", leave=leave, digest=build_digest(leave))
