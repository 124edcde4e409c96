"""Required reading views: the banner, acknowledging a version, my reading, the matrix and its export."""

from __future__ import annotations

import io

from flask import abort, flash, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from ...extensions import db
from ...filters import format_datetime, to_shanghai
from ...htmx import fragment_only, redirect_after_post, render, render_fragment, wants_fragment
from ...models.sop import SopVersion, VersionStatus
from ...permissions import Permission, require
from ...service_errors import ValidationError
from .. import bp
from . import service

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.app_context_processor
def reading_context():
    """``sop_unread_reading()`` for the banner on every page, ``sop_ack_state(version)`` for the box."""

    def sop_unread_reading():
        return service.banner_for(current_user)

    def sop_ack_state(version):
        if not current_user.is_authenticated:
            return service.AckState(None, None, None, False)
        return service.ack_state(current_user, version)

    return {"sop_unread_reading": sop_unread_reading, "sop_ack_state": sop_ack_state,
            "sop_scenario_url": _scenario_url, "sop_reading_status_labels": service.status_labels}


def _published_version(scenario_id: int, number: int) -> SopVersion:
    version = db.session.scalar(select(SopVersion).where(
        SopVersion.scenario_id == scenario_id, SopVersion.number == number,
        SopVersion.status == VersionStatus.PUBLISHED))
    if version is None:
        abort(404)
    return version


def _scenario_url(scenario_id: int) -> str:
    """The scenario page (sop-core's view), or its path while that view does not exist yet."""
    try:
        return url_for("sop.scenario", scenario_id=scenario_id)
    except BuildError:
        return f"{request.script_root}/sop/{scenario_id}"


@bp.route("/reading/banner")
@require(Permission.VIEW_SOP)
@fragment_only("sop.reading_mine")
def reading_banner():
    """The banner of unread required versions alone (refreshed after an acknowledgement)."""
    return render_fragment("sop/_reading_banner.html", "sop_reading_banner")


@bp.route("/<int:scenario_id>/versions/<int:number>/acknowledge", methods=["POST"])
@require(Permission.VIEW_SOP)
def acknowledge(scenario_id: int, number: int):
    """"I have read and understood": record the version and the time (a second click changes nothing)."""
    version = _published_version(scenario_id, number)
    try:
        ack = service.acknowledge(current_user, version)
    except ValidationError as exc:
        message = next(iter(exc.errors.values()))
        if wants_fragment():
            return render_fragment("sop/_acknowledge.html", "sop_acknowledge", status=422, version=version,
                                   ack_error=message)
        flash(message, "warning")  # without JavaScript: back to the scenario, the reason on top
        return redirect_after_post(_scenario_url(scenario_id))
    toast = _("Acknowledged at %(time)s.", time=format_datetime(ack.acknowledged_at))
    if wants_fragment():
        return render_fragment("sop/_acknowledge.html", "sop_acknowledge", version=version, toast=toast,
                               events="sop-reading-changed")
    flash(toast, "success")
    return redirect_after_post(request.form.get("next") if _safe_next(request.form.get("next"))
                               else _scenario_url(scenario_id))


def _safe_next(value: str | None) -> bool:
    return bool(value) and value.startswith("/") and not value.startswith("//")


@bp.route("/reading/mine")
@require(Permission.VIEW_SOP)
def reading_mine():
    """My required reading: what I must read (with deadlines), what I read and when."""
    return render("sop/reading_mine.html", data=service.mine(current_user))


def _matrix_args() -> tuple[int | None, bool]:
    team = request.args.get("team", "")
    try:
        team_id = int(team) if team else None
    except ValueError:
        abort(400)
    if team_id is not None and not 0 < team_id < 2**31:
        abort(404)  # no team has such an id (and the database could not even compare it)
    return team_id, request.args.get("all") == "1"


@bp.route("/reading")
@require(Permission.VIEW_SOP_READING)
def reading():
    """The matrix: required versions × agents (acknowledged / pending / overdue), by team."""
    team_id, show_all = _matrix_args()
    data = service.matrix(current_user, team_id, show_all)
    return render("sop/reading.html", block="reading_matrix", data=data, due_of=service.due_of)


@bp.route("/reading/export.xlsx")
@require(Permission.VIEW_SOP_READING)
def reading_export():
    """The matrix as an Excel file (summary and one row per version and agent)."""
    team_id, show_all = _matrix_args()
    data = service.export_matrix(current_user, team_id, show_all)
    stamp = to_shanghai(service.utcnow()).strftime("%Y%m%d_%H%M")
    response = send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                         download_name=f"必读确认_{stamp}.xlsx")
    response.headers["Cache-Control"] = "no-store"
    return response
