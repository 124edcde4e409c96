"""Training course pages: the course list, a course's page (structure, quiz and certification boxes,
each agent's progress for trainers), the course editor (lessons in order with move up/down, practical
items, publish with a required-change note, archive), the lesson editor with its live preview and
files, the lesson page (embedded SOP scenario, files, "mark done"). Thin views over ``service``.

Every form posts and redirects (303) without JavaScript; htmx swaps the lesson list, the practical
items, the preview and the "done" box in place.
"""

from __future__ import annotations

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from ... import storage
from ...crud import parse_version
from ...extensions import db
from ...htmx import fragment_only, redirect_after_post, render, render_fragment, wants_fragment
from ...markdown import render_markdown
from ...permissions import Permission, has_permission, require
from ...service_errors import StaleEdit, ValidationError
from ...views import apply_errors
from .. import bp
from . import service as svc
from .flow import SAVED, STALE, locked_save
from .forms import CourseForm, FileForm, LessonAddForm, LessonForm, PracticalForm, PublishForm
from .labels import STATUS_BADGES, kind_label, practical_label, status_label

INDEX = "training/courses/index.html"
COURSE = "training/courses/course.html"
EDIT = "training/courses/edit.html"
NEW = "training/courses/new.html"
LESSON = "training/courses/lesson.html"
LESSON_EDIT = "training/courses/lesson_edit.html"
PRACTICAL_EDIT = "training/courses/practical_edit.html"


@bp.app_context_processor
def training_course_helpers():
    """Labels every training template uses."""
    return {"course_kind_label": kind_label, "course_status_label": status_label,
            "course_status_badges": STATUS_BADGES, "practical_label": practical_label}


@bp.app_template_global("training_tabs")
def training_tabs() -> list[tuple[str, str, bool]]:
    """(label, url, current) of the training pages the user may open (我的培训, courses, programmes, matrix)."""
    endpoint = request.endpoint or ""
    tabs = [(_("My training"), url_for("training.index"), endpoint == "training.index"),
            (_("Courses"), url_for("training.courses"), endpoint.startswith(("training.course", "training.lesson",
                                                                             "training.practical")))]
    if has_permission(current_user, Permission.ASSIGN_TRAINING):
        tabs.append((_("Programmes"), url_for("training.programmes"), endpoint.startswith("training.programme")))
    if "training.matrix" in current_app.view_functions and has_permission(current_user,
                                                                          Permission.VIEW_TRAINING_MATRIX):
        tabs.append((_("Training matrix"), url_for("training.matrix"), endpoint.startswith("training.matrix")))
    return tabs


def _first_error(errors: dict) -> str:
    return next(iter(errors.values()))


# --------------------------------------------------------------------------- list and pages

@bp.get("/courses")
@require(Permission.VIEW_TRAINING)
def courses():
    """The course list with filters (title/summary words, kind, status for editors, 上岗必修)."""
    args = {name: (request.args.get(name) or "")[:100] for name in ("q", "kind", "status", "required")}
    found = svc.list_courses(current_user, **args)
    return render(INDEX, "course_list", courses=found, args=args, counts=svc.lesson_counts(c.id for c in found),
                  can_edit=svc.is_editor(current_user))


@bp.route("/courses/new", methods=["GET", "POST"])
@require(Permission.EDIT_TRAINING)
def course_new():
    """Create a draft course; errors come back beside the fields."""
    form = CourseForm()
    if form.validate_on_submit():
        try:
            course = svc.create_course(current_user, title=form.title.data, summary=form.summary.data,
                                       kind=form.kind.data, required_for_live=form.required_for_live.data,
                                       recert_days=form.recert_days.data, valid_days=form.valid_days.data)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("Course created. Add its lessons."), "success")
            return redirect_after_post(url_for("training.course_edit", course_id=course.id))
    return render(NEW, form=form)


@bp.get("/courses/<int:course_id>")
@require(Permission.VIEW_TRAINING)
def course(course_id: int):
    """A course's page: summary, lessons (with the viewer's progress), quiz and certification boxes,
    practical items; for trainers each agent's progress and the publish controls."""
    item = svc.get_visible_course(current_user, course_id, files=True)
    states = svc.lesson_states(current_user.id, [lesson.id for lesson in item.lessons])
    done = sum(1 for state in states.values() if state.completed_at)
    editor = svc.is_editor(current_user)
    return render(COURSE, course=item, states=states, done=done, total=len(item.lessons),
                  practical_items=svc.active_practical_items(item), can_edit=editor,
                  can_assign=has_permission(current_user, Permission.ASSIGN_TRAINING),
                  progress=svc.agents_progress(current_user, item) if editor else [],
                  changed=editor and svc.changed_since_publish(item), publish_form=PublishForm(formdata=None),
                  unpassable=editor and svc.cannot_be_passed(item))


# --------------------------------------------------------------------------- the editor

def _scenario_choices() -> list[tuple[str, str]]:
    return [("", _("— none —"))] + [(str(s.id), s.title) for s in svc.scenario_choices()]


def _practical_form(formdata=None, item=None) -> PracticalForm:
    form = PracticalForm(formdata=formdata) if formdata is not None else PracticalForm(formdata=None)
    form.sop_scenario_id.choices = _scenario_choices()
    if formdata is None and item is not None:
        form.kind.data = item.kind
        form.title.data = item.title
        form.sop_scenario_id.data = str(item.sop_scenario_id or "")
        form.days.data = str(item.days or "")
        form.checklist.data = "\n".join(item.checklist or [])
        form.pass_score.data = "" if item.pass_score is None else str(item.pass_score)
        form.description.data = item.description
        form.version.data = str(item.version)
    return form


def _course_form(course, formdata=None) -> CourseForm:
    if formdata is not None:
        return CourseForm(formdata=formdata)
    form = CourseForm(formdata=None, obj=course)
    form.version.data = str(course.version)
    return form


def _edit_page(course, form=None, *, lesson_form=None, practical_form=None, status: int = 200,
               conflict: bool = False, block: str | None = None):
    return render(EDIT, block, status=status, course=course, form=form or _course_form(course),
                  lesson_form=lesson_form or LessonAddForm(formdata=None),
                  practical_form=practical_form or _practical_form(),
                  practical_items=svc.active_practical_items(course), conflict=conflict,
                  publish_form=PublishForm(formdata=None))


@bp.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_TRAINING)
def course_edit(course_id: int):
    """The course editor: title, summary, kind, 上岗必修; lessons in order; practical items.
    A save from a stale page is a 409 with the stored values and what was typed."""
    item = svc.get_course_for_edit(current_user, course_id, files=True)
    if request.method == "GET":
        return _edit_page(item)
    form = _course_form(item, request.form)
    outcome = locked_save(form, item, lambda version: svc.update_course(
        current_user, item, version=version, title=form.title.data, summary=form.summary.data, kind=form.kind.data,
        required_for_live=form.required_for_live.data, recert_days=form.recert_days.data,
        valid_days=form.valid_days.data))
    if outcome == SAVED:
        flash(_("Course saved."), "success")
        return redirect_after_post(url_for("training.course_edit", course_id=item.id))
    if outcome == STALE:
        return _edit_page(item, form, status=409, conflict=True)
    return _edit_page(item, form)


@bp.post("/courses/<int:course_id>/publish")
@require(Permission.EDIT_TRAINING)
def course_publish(course_id: int):
    """Publish (again). Again after changes: a required change with its note makes agents who passed
    this 上岗必修 course re-pass; a minor change does not."""
    form = PublishForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "danger")
        return redirect_after_post(url_for("training.course", course_id=course_id))
    try:
        item = svc.publish_course(current_user, course_id, parse_version(form.version.data),
                                  required_change=form.required_change.data == "1", note=form.note.data)
    except (StaleEdit, StaleDataError):
        flash(_("Someone else changed the course meanwhile; check it and publish again."), "danger")
    except ValidationError as exc:
        flash(_first_error(exc.errors), "danger")
    else:
        flash(_("Course published (revision %(n)d).", n=item.revision), "success")
    return redirect_after_post(url_for("training.course", course_id=course_id))


@bp.post("/courses/<int:course_id>/archive")
@require(Permission.EDIT_TRAINING)
def course_archive(course_id: int):
    """Archive a course: agents no longer see it; results stay."""
    try:
        svc.archive_course(current_user, course_id, parse_version(request.form.get("version")))
    except (StaleEdit, StaleDataError):
        flash(_("Someone else changed the course meanwhile; check it and try again."), "danger")
    except ValidationError as exc:
        flash(_first_error(exc.errors), "danger")
    else:
        flash(_("Course archived."), "success")
    return redirect_after_post(url_for("training.course", course_id=course_id))


@bp.post("/courses/<int:course_id>/lessons")
@require(Permission.EDIT_TRAINING)
def lesson_add(course_id: int):
    """Add a lesson at the end and open its editor."""
    item = svc.get_course_for_edit(current_user, course_id)
    form = LessonAddForm()
    if form.validate_on_submit():
        try:
            lesson = svc.add_lesson(current_user, item, title=form.title.data)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("Lesson added. Write its content."), "success")
            return redirect_after_post(url_for("training.lesson_edit", lesson_id=lesson.id))
    return _edit_page(item, lesson_form=form, block="lessons")


@bp.post("/lessons/<int:lesson_id>/move")
@require(Permission.EDIT_TRAINING)
def lesson_move(lesson_id: int):
    """Move a lesson up or down (buttons), or to a position (drag and drop); htmx gets the lesson list back.
    Anything else is a tampered form (400)."""
    lesson = svc.get_lesson_for_edit(current_user, lesson_id)
    direction = request.form.get("direction", "")
    position = request.form.get("position", "")
    if direction in ("up", "down"):
        item = svc.move_lesson(current_user, lesson, direction)
    elif position.isascii() and position.isdigit() and 0 < len(position) < 4:
        item = svc.move_lesson_to(current_user, lesson, int(position))
    else:
        abort(400)
    if wants_fragment():
        return render_fragment(EDIT, "lessons", course=item, lesson_form=LessonAddForm(formdata=None))
    return redirect_after_post(url_for("training.course_edit", course_id=item.id))


@bp.post("/lessons/<int:lesson_id>/delete")
@require(Permission.EDIT_TRAINING)
def lesson_delete(lesson_id: int):
    """Remove a lesson with its files and everyone's progress in it."""
    lesson = svc.get_lesson_for_edit(current_user, lesson_id)
    course_id = lesson.course_id
    try:
        svc.delete_lesson(current_user, lesson)
    except ValidationError as exc:
        flash(_first_error(exc.errors), "danger")
    else:
        flash(_("Lesson removed."), "success")
    return redirect_after_post(url_for("training.course_edit", course_id=course_id))


# --------------------------------------------------------------------------- lesson editor

def _lesson_form(lesson, formdata=None) -> LessonForm:
    form = LessonForm(formdata=formdata) if formdata is not None else LessonForm(formdata=None)
    form.sop_scenario_id.choices = _scenario_choices()
    if formdata is None:
        form.title.data = lesson.title
        form.body.data = lesson.body
        form.sop_scenario_id.data = str(lesson.sop_scenario_id or "")
        form.version.data = str(lesson.version)
    return form


def _preview(form: LessonForm) -> dict:
    errors: dict = {}
    scenario_id = svc._clean_scenario_id(errors, form.sop_scenario_id.data)
    from ...models.sop import SopScenario

    scenario = db.session.get(SopScenario, scenario_id) if scenario_id else None
    return {"title": form.title.data or "", "body": (form.body.data or "")[:svc.BODY_MAX],
            "sop_version": scenario.current_version if scenario else None}


def _lesson_editor(lesson, form, *, status: int = 200, conflict: bool = False):
    return render(LESSON_EDIT, status=status, lesson=lesson, course=lesson.course, form=form,
                  preview=_preview(form), file_form=FileForm(formdata=None), conflict=conflict,
                  max_mb=svc.max_file_mb())


@bp.route("/lessons/<int:lesson_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_TRAINING)
def lesson_edit(lesson_id: int):
    """The lesson editor: title, Markdown with a live preview (the lesson page's own template),
    an embedded SOP scenario, files. A stale save is a 409 that keeps what was typed."""
    lesson = svc.get_lesson_for_edit(current_user, lesson_id)
    if request.method == "GET":
        return _lesson_editor(lesson, _lesson_form(lesson))
    form = _lesson_form(lesson, request.form)
    outcome = locked_save(form, lesson, lambda version: svc.update_lesson(
        current_user, lesson, version=version, title=form.title.data, body=form.body.data,
        sop_scenario_id=form.sop_scenario_id.data))
    if outcome == SAVED:
        flash(_("Lesson saved."), "success")
        return redirect_after_post(url_for("training.lesson_edit", lesson_id=lesson.id))
    if outcome == STALE:
        return _lesson_editor(lesson, form, status=409, conflict=True)
    return _lesson_editor(lesson, form)


@bp.post("/lessons/preview")
@require(Permission.EDIT_TRAINING)
@fragment_only("training.courses")
def lesson_preview():
    """The live preview of the lesson editor: the typed lesson as the lesson page renders it."""
    form = LessonForm(formdata=request.form)
    form.sop_scenario_id.choices = _scenario_choices()
    return render_fragment(LESSON_EDIT, "preview", preview=_preview(form))


@bp.post("/lessons/<int:lesson_id>/files")
@require(Permission.EDIT_TRAINING)
def lesson_file_add(lesson_id: int):
    """Upload a file to a lesson (PDF, image, .xlsx, MP4; type by content; size limit)."""
    lesson = svc.get_lesson_for_edit(current_user, lesson_id)
    form = FileForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "danger")
    else:
        try:
            stored = svc.add_file(current_user, lesson, request.files.get("file"))
        except ValidationError as exc:
            flash(_first_error(exc.errors), "danger")
        else:
            flash(_("%(name)s added.", name=stored.original_name), "success")
    return redirect_after_post(url_for("training.lesson_edit", lesson_id=lesson.id))


@bp.post("/files/<int:file_id>/delete")
@require(Permission.EDIT_TRAINING)
def lesson_file_delete(file_id: int):
    """Remove a file from its lesson."""
    item = svc.get_file_for_edit(current_user, file_id)
    lesson = svc.remove_file(current_user, item)
    flash(_("File removed."), "success")
    return redirect_after_post(url_for("training.lesson_edit", lesson_id=lesson.id))


@bp.get("/files/<int:file_id>")
@require(Permission.VIEW_TRAINING)
def lesson_file(file_id: int):
    """A lesson file for whoever may see the course (404 otherwise), with storage's safe headers."""
    item = svc.get_visible_file(current_user, file_id)
    if not storage.exists(item.stored_name):
        from ...service_errors import NotFound

        raise NotFound(file_id)
    return storage.serve(item.stored_name, item.content_type, item.original_name,
                         inline=request.args.get("download") != "1")


# --------------------------------------------------------------------------- reading a lesson

def _lesson_context(lesson) -> dict:
    course = lesson.course
    lessons = sorted(course.lessons, key=lambda item: (item.position, item.id))
    index = lessons.index(lesson)
    return {"lesson": lesson, "course": course, "lessons": lessons, "number": index + 1,
            "previous": lessons[index - 1] if index > 0 else None,
            "next": lessons[index + 1] if index + 1 < len(lessons) else None,
            "sop_version": svc.embedded_version(lesson), "can_edit": svc.is_editor(current_user)}


@bp.get("/lessons/<int:lesson_id>")
@require(Permission.VIEW_TRAINING)
def lesson(lesson_id: int):
    """A lesson as agents read it (opening it is recorded once): content, embedded SOP, files."""
    item = svc.get_visible_lesson(current_user, lesson_id)
    progress = svc.open_lesson(current_user, item)
    done, total = svc.course_progress(current_user.id, item.course)
    return render(LESSON, progress=progress, done=done, total=total, **_lesson_context(item))


@bp.post("/lessons/<int:lesson_id>/done")
@require(Permission.VIEW_TRAINING)
def lesson_done(lesson_id: int):
    """Mark a lesson done (once; repeats change nothing). htmx: the done box comes back."""
    item = svc.get_visible_lesson(current_user, lesson_id)
    progress = svc.mark_lesson_done(current_user, item)
    context = _lesson_context(item)
    if wants_fragment():
        done, total = svc.course_progress(current_user.id, item.course)
        return render_fragment(LESSON, "done", progress=progress, done=done, total=total,
                               toast=_("Lesson marked as done."), **context)
    flash(_("Lesson marked as done."), "success")
    target = context["next"] or item.course
    endpoint = "training.lesson" if context["next"] else "training.course"
    return redirect_after_post(url_for(endpoint, **({"lesson_id": target.id} if context["next"]
                                                    else {"course_id": target.id})))


# --------------------------------------------------------------------------- practical items

@bp.post("/courses/<int:course_id>/practical")
@require(Permission.EDIT_TRAINING)
def practical_add(course_id: int):
    """Add a practical item (情景模拟 of an SOP scenario, or 实战带教 for N days) to the course."""
    item = svc.get_course_for_edit(current_user, course_id)
    form = _practical_form(request.form)
    if form.validate_on_submit():
        try:
            svc.save_practical_item(current_user, item, kind=form.kind.data, title=form.title.data,
                                    description=form.description.data, sop_scenario_id=form.sop_scenario_id.data,
                                    days=form.days.data, checklist=form.checklist.data,
                                    pass_score=form.pass_score.data)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("Practical item added."), "success")
            if wants_fragment():
                return render_fragment(EDIT, "practical", course=item, practical_form=_practical_form(),
                                       practical_items=svc.active_practical_items(item))
            return redirect_after_post(url_for("training.course_edit", course_id=item.id))
    return _edit_page(item, practical_form=form, block="practical")


@bp.route("/practical/<int:item_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_TRAINING)
def practical_edit(item_id: int):
    """Change a practical item (its own page); a stale save is a 409 that keeps what was typed."""
    item = svc.get_practical_for_edit(current_user, item_id)
    if request.method == "GET":
        return render(PRACTICAL_EDIT, item=item, course=item.course, form=_practical_form(item=item))
    form = _practical_form(request.form)
    outcome = locked_save(form, item, lambda version: svc.save_practical_item(
        current_user, item.course, item, version=version, kind=form.kind.data, title=form.title.data,
        description=form.description.data, sop_scenario_id=form.sop_scenario_id.data, days=form.days.data,
        checklist=form.checklist.data, pass_score=form.pass_score.data))
    if outcome == SAVED:
        flash(_("Practical item saved."), "success")
        return redirect_after_post(url_for("training.course_edit", course_id=item.course_id))
    status, conflict = (409, True) if outcome == STALE else (200, False)
    return render(PRACTICAL_EDIT, status=status, item=item, course=item.course, form=form, conflict=conflict)


@bp.post("/practical/<int:item_id>/remove")
@require(Permission.EDIT_TRAINING)
def practical_remove(item_id: int):
    """Remove a practical item (kept, out of use, when someone was already signed off on it)."""
    item = svc.get_practical_for_edit(current_user, item_id)
    course = svc.remove_practical_item(current_user, item)
    flash(_("Practical item removed."), "success")
    if wants_fragment():
        return render_fragment(EDIT, "practical", course=course, practical_form=_practical_form(),
                               practical_items=svc.active_practical_items(course))
    return redirect_after_post(url_for("training.course_edit", course_id=course.id))


@bp.app_template_global("training_scenario_title")
def training_scenario_title(scenario_id: int | None) -> str:
    """The title of an SOP scenario (a practical item's role play), "—" when it is gone."""
    from ...models.sop import SopScenario

    scenario = db.session.get(SopScenario, scenario_id) if scenario_id else None
    return scenario.title if scenario else "—"


@bp.app_template_global("lesson_markdown")
def lesson_markdown(text: str):
    """A lesson body through the one Markdown pipeline (kdcs/markdown.py)."""
    return render_markdown(text or "")


from ..my import routes as _my_routes  # noqa: E402,F401  (我的培训, /training/)
from ..programmes import routes as _programme_routes  # noqa: E402,F401  (programmes and assignments)
