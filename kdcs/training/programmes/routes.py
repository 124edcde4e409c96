"""Programme pages (新人30天计划: items by day, enrolments) and assigning a course to agents or teams.
Thin views over ``service``; every form posts and redirects without JavaScript, htmx swaps the plan."""

from __future__ import annotations

from datetime import datetime

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...htmx import redirect_after_post, render, render_fragment, wants_fragment
from ...permissions import Permission, require
from ...service_errors import ValidationError
from ...views import apply_errors
from ...workcalendar import SHANGHAI
from .. import bp
from ..courses import service as courses
from ..courses.flow import SAVED, STALE, locked_save
from . import service as svc
from .forms import AssignForm, EnrollForm, ItemForm, ProgrammeForm

INDEX = "training/programmes/index.html"
PROGRAMME = "training/programmes/programme.html"
ASSIGN = "training/programmes/assign.html"


def _item_form(formdata=None) -> ItemForm:
    form = ItemForm(formdata=formdata) if formdata is not None else ItemForm(formdata=None)
    choices = [("", _("— choose —"))]
    choices += [(f"c:{c.id}", _("Course: %(title)s", title=c.title)) for c in svc.published_courses()]
    choices += [(f"p:{p.id}", _("Practical: %(title)s (%(course)s)", title=p.title, course=p.course.title))
                for p in svc.practical_choices()]
    form.item.choices = choices
    return form


def _agent_choices() -> list[tuple[str, str]]:
    """(id, "张敏（agent1，一组）") of every active agent."""
    return [(str(u.id), f"{u.display_name}（{u.username}{'，' + u.team.name if u.team else ''}）")
            for u in svc.agent_choices()]


def _enroll_form(formdata=None) -> EnrollForm:
    form = EnrollForm(formdata=formdata) if formdata is not None else EnrollForm(formdata=None)
    form.user_id.choices = [("", _("— choose —")), *_agent_choices()]
    return form


@bp.get("/programmes")
@require(Permission.ASSIGN_TRAINING)
def programmes():
    """The programmes (the default one first) and a form for a new one."""
    return render(INDEX, programmes=svc.list_programmes(current_user), form=ProgrammeForm(formdata=None))


@bp.post("/programmes")
@require(Permission.ASSIGN_TRAINING)
def programme_create():
    """Create a programme, then add its items on its page."""
    form = ProgrammeForm()
    if form.validate_on_submit():
        try:
            programme = svc.create_programme(current_user, title=form.title.data, description=form.description.data,
                                             is_default=form.is_default.data)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("Programme created. Add its courses and practical items by day."), "success")
            return redirect_after_post(url_for("training.programme", programme_id=programme.id))
    return render(INDEX, programmes=svc.list_programmes(current_user), form=form)


def _programme_page(programme, form=None, *, item_form=None, enroll_form=None, status: int = 200,
                    conflict: bool = False, block: str | None = None):
    if form is None:
        form = ProgrammeForm(formdata=None, obj=programme)
        form.version.data = str(programme.version)
    return render(PROGRAMME, block, status=status, programme=programme, form=form,
                  item_form=item_form or _item_form(), enroll_form=enroll_form or _enroll_form(),
                  enrollments=svc.enrollments_of(programme), conflict=conflict,
                  today=datetime.now(SHANGHAI).date())


@bp.route("/programmes/<int:programme_id>", methods=["GET", "POST"])
@require(Permission.ASSIGN_TRAINING)
def programme(programme_id: int):
    """A programme: its plan by day, who follows it; edit title, default and active flags."""
    item = svc.get_programme(current_user, programme_id)
    if request.method == "GET":
        return _programme_page(item)
    form = ProgrammeForm()
    outcome = locked_save(form, item, lambda version: svc.update_programme(
        current_user, item, version=version, title=form.title.data, description=form.description.data,
        is_default=form.is_default.data, is_active=form.is_active.data))
    if outcome == SAVED:
        flash(_("Programme saved."), "success")
        return redirect_after_post(url_for("training.programme", programme_id=item.id))
    if outcome == STALE:
        return _programme_page(item, form, status=409, conflict=True)
    return _programme_page(item, form)


@bp.post("/programmes/<int:programme_id>/items")
@require(Permission.ASSIGN_TRAINING)
def programme_item_add(programme_id: int):
    """Add a course or practical item on 第 N 天 (htmx: the plan comes back)."""
    item = svc.get_programme(current_user, programme_id)
    form = _item_form(request.form)
    if form.validate_on_submit():
        kind, _sep, ref = (form.item.data or "").partition(":")
        try:
            svc.add_item(current_user, item, day_offset=form.day_offset.data,
                         course_id=ref if kind == "c" else None, practical_item_id=ref if kind == "p" else None,
                         note=form.note.data)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("Added to the plan."), "success")
            if not wants_fragment():
                return redirect_after_post(url_for("training.programme", programme_id=item.id))
            form = _item_form()
    return _programme_page(item, item_form=form, block="plan")


@bp.post("/programmes/<int:programme_id>/items/remove")
@require(Permission.ASSIGN_TRAINING)
def programme_item_remove(programme_id: int):
    """Remove one step of the plan (assignments already given stay)."""
    item = svc.get_programme(current_user, programme_id)
    svc.remove_item(current_user, item, request.form.get("item_id"))
    flash(_("Removed from the plan."), "success")
    if wants_fragment():
        return render_fragment(PROGRAMME, "plan", programme=item, item_form=_item_form())
    return redirect_after_post(url_for("training.programme", programme_id=item.id))


@bp.post("/programmes/<int:programme_id>/enroll")
@require(Permission.ASSIGN_TRAINING)
def programme_enroll(programme_id: int):
    """Put an agent on the programme from a start date: each course becomes an assignment due on its day."""
    item = svc.get_programme(current_user, programme_id)
    form = _enroll_form(request.form)
    if form.validate_on_submit():
        try:
            enrollment = svc.enroll(current_user, item, user_id=form.user_id.data, start_date=form.start_date.data)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("%(name)s follows the programme from %(day)s.", name=enrollment.user.display_name,
                    day=enrollment.start_date.isoformat()), "success")
            return redirect_after_post(url_for("training.programme", programme_id=item.id))
    return _programme_page(item, enroll_form=form)


def _assign_form(formdata=None) -> AssignForm:
    form = AssignForm(formdata=formdata) if formdata is not None else AssignForm(formdata=None)
    form.user_ids.choices = _agent_choices()
    form.team_ids.choices = [(str(t.id), t.name) for t in svc.team_choices()]
    return form


@bp.route("/courses/<int:course_id>/assign", methods=["GET", "POST"])
@require(Permission.ASSIGN_TRAINING)
def course_assign(course_id: int):
    """Assign a published course to agents or whole teams with a due date."""
    item = courses.get_course_for_edit(current_user, course_id)
    form = _assign_form(request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate_on_submit():
        try:
            count = svc.assign_course(current_user, item, user_ids=form.user_ids.data, team_ids=form.team_ids.data,
                                      due_on=form.due_on.data)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("Assigned to %(n)d agents.", n=count), "success")
            return redirect_after_post(url_for("training.course", course_id=item.id))
    return render(ASSIGN, course=item, form=form)
