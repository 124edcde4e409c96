"""Certification pages: the training matrix and its export, one agent's training record (attempts,
sign-offs, going live), recording a practical sign-off, resetting attempts; and the template
globals the course page, 我的培训, the team view and the user pages use (certification_box,
certification_mine, certification_badge, certification_actions)."""

from __future__ import annotations

import io

from flask import abort, flash, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...extensions import db
from ...filters import to_shanghai
from ...htmx import redirect_after_post, render
from ...models.training import PracticalItem, TrainingCourse
from ...permissions import Permission, has_permission, require
from ...request_args import id_or_none
from ...service_errors import NotFound, ValidationError
from ...views import apply_errors
from .. import bp
from . import gate, service
from . import matrix as matrix_service
from .forms import ResetForm, SignoffForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERSON = "training/certification/person.html"
SIGNOFF = "training/certification/signoff.html"


# --------------------------------------------------------------------------- template globals


@bp.app_template_global("certification_box")
def certification_box(course: TrainingCourse) -> dict:
    """The course page's box: the viewer's status in the course and their practical sign-offs
    (latest per item, with the checklist, score, comment and signer)."""
    user = current_user
    if not getattr(user, "is_authenticated", False) or user.role != "agent":
        return {"agent": False, "course": course,
                "matrix": has_permission(user, Permission.VIEW_TRAINING_MATRIX)}
    active = service.active_items(course)
    latest = service.latest_signoffs(user.id, active, course.revision)
    items = [(item, latest.get(item.id)) for item in active]
    return {"agent": True, "course": course, "status": service.course_status(user.id, course),
            "result": service.result_for(user.id, course.id), "items": items, "matrix": False}


@bp.app_template_global("certification_mine")
def certification_mine() -> dict:
    """我的培训's box: going live (since when, or what is missing)."""
    user = current_user
    if not getattr(user, "is_authenticated", False) or user.role != "agent":
        return {"agent": False}
    return {"agent": True, "required": service.training_required(), "live": gate.is_certified(user),
            "cert": service.certification_for(user.id), "reasons": service.missing_reasons(user.id)}


@bp.app_template_global("certification_badge")
def certification_badge(user) -> dict:
    """A user's going-live badge data for tables and user pages (agents only; ``None`` otherwise)."""
    if user is None or user.role != "agent" or not service.training_required():
        return {"show": False}
    cert = service.certification_for(user.id)
    live = gate.is_certified(user)
    return {"show": True, "live": live, "state": cert.state if cert else "none",
            "label": service.state_label(cert.state if cert and (live or cert.state != "flagged") else
                                         ("lapsed" if cert else "none")),
            "since": cert.certified_at if cert and live else None,
            "flagged_until": cert.flagged_until if cert and live else None,
            "reason": "" if live else (cert.reason if cert and cert.reason else "；".join(service.missing_reasons(user.id)))}


@bp.app_template_global("certification_actions")
def certification_actions():
    """The lead's list to act on: outlets and open tickets held by agents who are not certified."""
    if not (has_permission(current_user, Permission.VIEW_TRAINING_MATRIX)
            or has_permission(current_user, Permission.VIEW_TEAM)):
        return None
    return matrix_service.to_act_on(current_user)


@bp.app_template_global("certification_status_label")
def certification_status_label(code: str) -> str:
    """未开始 / 学习中 / 已通过 / 未通过 / 已逾期 / 待复训."""
    return service.status_label(code)


# --------------------------------------------------------------------------- matrix


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    if not raw:
        return None
    value = id_or_none(raw)
    if value is None:
        abort(404)
    return value


def _matrix_args() -> tuple[int | None, int | None, str | None]:
    status = request.args.get("status") or None
    if status is not None and status not in service.STATUSES:
        status = None
    return _int_arg("team"), _int_arg("course"), status


@bp.get("/matrix")
@require(Permission.VIEW_TRAINING_MATRIX)
def matrix():
    """Agents × courses with their status, filtered by team, course and status; who is not live and why."""
    team_id, course_id, status = _matrix_args()
    data = matrix_service.matrix(current_user, team_id, course_id, status)
    return render("training/certification/matrix.html", block="training_matrix", data=data,
                  statuses=service.STATUSES, live_label=matrix_service.live_label,
                  all_courses=matrix_service.published_courses(),
                  required=service.training_required())


@bp.get("/matrix/export.xlsx")
@require(Permission.VIEW_TRAINING_MATRIX)
def matrix_export():
    """The matrix as an Excel file (the same filters)."""
    team_id, course_id, status = _matrix_args()
    data = matrix_service.export_matrix(current_user, team_id, course_id, status)
    stamp = to_shanghai(service._now()).strftime("%Y%m%d_%H%M")
    response = send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"培训矩阵_{stamp}.xlsx")
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- one agent


def _person_page(user_id: int, *, forms: dict | None = None, status: int = 200):
    agent, records = matrix_service.record(current_user, user_id)
    forms = forms or {}
    problems = [message for form in forms.values() if hasattr(form, "errors")
                for messages in form.errors.values() for message in messages]
    return render(PERSON, toast=(problems[0], "warning") if problems else None, agent=agent, records=records, badge=certification_badge(agent),
                  may_sign=service.may_sign_off(current_user, agent),
                  may_reset=has_permission(current_user, Permission.RESET_TRAINING),
                  signoff_form=forms.get("signoff") or SignoffForm(formdata=None),
                  signoff_item_id=forms.get("item_id"),
                  reset_form=forms.get("reset") or ResetForm(formdata=None), reset_course_id=forms.get("course_id"),
                  blank_reset=ResetForm(formdata=None),
                  status=status)


@bp.get("/people/<int:user_id>")
@require(Permission.VIEW_TRAINING_MATRIX)
def person(user_id: int):
    """One agent's training record: going live, per course the status, quiz attempts (archived
    too) and practical sign-offs; sign-off and reset forms for those allowed."""
    return _person_page(user_id)


def _item_for(user_id: int, item_id: int) -> tuple[object, PracticalItem]:
    agent = matrix_service.visible_agent(current_user, user_id)
    item = db.session.get(PracticalItem, item_id)
    if item is None or not item.is_active or item.course.status != "published":
        raise NotFound()
    return agent, item


@bp.route("/people/<int:user_id>/items/<int:item_id>/signoff", methods=["GET", "POST"])
@require(Permission.SIGN_OFF_PRACTICAL)
def signoff(user_id: int, item_id: int):
    """Record the outcome of one practical item for an agent (checklist ticked per line, a score,
    a comment); trainers and admins for anyone, leads for their own team."""
    agent, item = _item_for(user_id, item_id)
    if not service.may_sign_off(current_user, agent):
        abort(403)
    form = SignoffForm()
    if request.method == "POST":  # CSRFProtect has checked the token; the service checks the values
        raw = (form.score.data or "").strip()
        score = None
        if raw:
            if not raw.isdigit():
                form.score.errors = [_("The score is 0 to 100.")]
            else:
                score = int(raw)
        if not form.score.errors:
            try:
                service.record_signoff(current_user, agent.id, item.id, passed=form.passed.data == "1", score=score,
                                       ticked=request.form.getlist("ticked"), comment=form.comment.data or "")
            except ValidationError as error:
                apply_errors(form, error.errors)
            else:
                flash(_("Sign-off recorded: %(title)s.", title=item.title), "success")
                return redirect_after_post(url_for("training.person", user_id=agent.id, _anchor=f"course-{item.course_id}"))
        return render(SIGNOFF, agent=agent, item=item, form=form, ticked=request.form.getlist("ticked"), status=422)
    return render(SIGNOFF, agent=agent, item=item, form=form, ticked=None)


@bp.post("/people/<int:user_id>/courses/<int:course_id>/reset")
@require(Permission.RESET_TRAINING)
def reset(user_id: int, course_id: int):
    """Archive one agent's attempts and sign-offs of a course (kept, never deleted) with a note."""
    agent = matrix_service.visible_agent(current_user, user_id)
    course = db.session.get(TrainingCourse, course_id)
    if course is None:
        raise NotFound()
    form = ResetForm()
    if form.validate_on_submit():
        try:
            count = service.reset_attempts(current_user, agent.id, course.id, form.note.data or "")
        except ValidationError as error:
            apply_errors(form, error.errors)
        else:
            flash(_("%(n)d attempts and sign-offs archived; %(name)s starts 《%(course)s》 afresh.",
                     n=count, name=agent.display_name, course=course.title), "success")
            return redirect_after_post(url_for("training.person", user_id=agent.id))
    return _person_page(agent.id, forms={"reset": form, "course_id": course.id}, status=422)
