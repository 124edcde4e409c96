"""Training quiz pages: question banks (with Excel in and out), quiz settings and statistics for
trainers; starting, answering and submitting attempts for everyone who may see a course.

Views are thin: parse, authorize (``@require`` here, ``ensure`` again in the service), call the
service, render the page or the htmx block. Correct answers are only ever rendered by the
review of a *submitted* attempt (``service.review``), as the course's review policy allows.
"""

from __future__ import annotations

import io
from datetime import datetime

from flask import current_app, flash, redirect, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...crud import discard_changes, parse_version
from ...extensions import db
from ...filters import SHANGHAI
from ...htmx import redirect_after_post, render, render_fragment, wants_fragment
from ...models.training import TrainingCourse
from ...permissions import Permission, has_permission, require
from ...service_errors import StaleEdit, ValidationError
from ...views import apply_errors, posted_active
from .. import bp
from . import excel, service
from .forms import ImportConfirmForm, ImportUploadForm, QuestionForm, SettingsForm

BANK = "training/quiz/bank.html"
QUESTION_FORM = "training/quiz/question_form.html"
IMPORT = "training/quiz/import.html"
SETTINGS = "training/quiz/settings.html"
STATS = "training/quiz/stats.html"
HOME = "training/quiz/home.html"
ATTEMPT = "training/quiz/attempt.html"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT_SESSION_KEY = "quiz_import"
IMPORT_MAX_MB = 5


# --------------------------------------------------------------------------- helpers for templates


def course_page_url(course) -> str:
    """The course's page (courses part), where the quiz box sits."""
    return url_for("training.course", course_id=course.id)


@bp.app_template_global("quiz_box")
def quiz_box(course) -> dict:
    """Data for ``training/quiz/_course_box.html`` and ``_my_box.html``: the signed-in user's quiz
    summary and whether they may edit the bank."""
    editor = has_permission(current_user, Permission.EDIT_TRAINING)
    summary = service.quiz_summary(current_user.id, course) if current_user.is_authenticated else None
    return {"course": course, "summary": summary, "editor": editor}


@bp.app_template_global("quiz_summaries")
def quiz_summaries(courses) -> dict:
    """``{course id: quiz summary}`` of the signed-in user for ``_my_box.html``'s list, read at once
    (``service.quiz_summaries``: two statements for any number of courses)."""
    if not current_user.is_authenticated:
        return {}
    return service.quiz_summaries(current_user.id, list(courses))


@bp.app_template_global("quiz_kind_label")
def quiz_kind_label(kind: str) -> str:
    """单选 / 多选 / 判断 for templates."""
    return service.kind_label(kind)


@bp.app_template_global("quiz_review_label")
def quiz_review_label(policy: str) -> str:
    """The review policy in words, for templates."""
    return service.review_label(policy)


bp.add_app_template_global(course_page_url, "quiz_course_url")


# --------------------------------------------------------------------------- the bank


def _bank_context(course) -> dict:
    tag = request.args.get("tag", "").strip()
    active = request.args.get("active", "")
    questions = service.questions_of(course.id)
    if tag:
        questions = [q for q in questions if tag in (q.tags or [])]
    if active in ("1", "0"):
        questions = [q for q in questions if q.is_active == (active == "1")]
    return {"course": course, "questions": questions, "tags": service.bank_tags(course.id), "tag": tag,
            "active": active if active in ("1", "0") else "",
            "active_count": len(service.questions_of(course.id, active_only=True))}


@bp.route("/courses/<int:course_id>/questions")
@require(Permission.EDIT_TRAINING)
def quiz_bank(course_id: int):
    """A course's question bank: every question with its kind, options, tags and state."""
    course = service.get_editable_course(current_user, course_id)
    return render(BANK, block="bank_table", **_bank_context(course))


def _draft_from(form: QuestionForm) -> service.QuestionDraft:
    """The typed question; blank options are dropped and the correct marks follow their options."""
    options: list[str] = []
    correct: list[int] = []
    marked = {int(v) for v in form.correct.data or [] if str(v) in {str(i) for i in range(service.MAX_OPTIONS)}}
    for index in range(service.MAX_OPTIONS):
        text = (getattr(form, f"option{index}").data or "").strip()
        if not text:
            continue
        if index in marked:
            correct.append(len(options))
        options.append(text)
    if form.kind.data == "true_false" and not options:
        options = list(service.TRUE_FALSE_TEXTS)
        correct = [i for i in (0, 1) if i in marked]
    return service.QuestionDraft(kind=form.kind.data or "", text=form.text.data or "", options=options,
                                 correct=correct, explanation=form.explanation.data or "",
                                 tags=service.parse_tags(form.tags.data or ""))


def _load_question(form: QuestionForm, question) -> None:
    form.kind.data = question.kind
    form.text.data = question.text
    for index, option in enumerate(question.options[: service.MAX_OPTIONS]):
        getattr(form, f"option{index}").data = option["text"]
    keys = [o["key"] for o in question.options]
    form.correct.data = [str(keys.index(k)) for k in question.correct if k in keys]
    form.explanation.data = question.explanation
    form.tags.data = "，".join(question.tags or [])
    form.version.data = str(question.version)


@bp.route("/courses/<int:course_id>/questions/new", methods=["GET", "POST"])
@require(Permission.EDIT_TRAINING)
def quiz_question_new(course_id: int):
    """Add a question to the bank (without JavaScript too)."""
    course = service.get_editable_course(current_user, course_id)
    form = QuestionForm()
    if request.method == "GET":
        form.kind.data = "single"
    elif form.validate_on_submit():
        try:
            service.create_question(current_user, course, _draft_from(form))
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("Question added."), "success")
            target = (url_for("training.quiz_question_new", course_id=course.id) if request.form.get("again")
                      else url_for("training.quiz_bank", course_id=course.id))
            return redirect(target, code=303)
    return render(QUESTION_FORM, form=form, course=course, question=None)


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_TRAINING)
def quiz_question_edit(question_id: int):
    """Edit a question; a stale version answers 409 with the stored question beside the typed one."""
    question = service.get_question(current_user, question_id)
    course = service.get_editable_course(current_user, question.course_id)
    form = QuestionForm()
    status = 200
    if request.method == "GET":
        _load_question(form, question)
    elif form.validate_on_submit():
        try:
            service.update_question(current_user, question, _draft_from(form), version=parse_version(form.version.data))
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        except StaleEdit:
            discard_changes(question)
            form.version.data = str(question.version)
            status = 409
            flash(_("Someone else saved this question a moment ago. Check the stored version below and save again."),
                  "danger")
        else:
            flash(_("Question saved."), "success")
            return redirect(url_for("training.quiz_bank", course_id=course.id), code=303)
    return render(QUESTION_FORM, status=status, form=form, course=course, question=question, conflict=status == 409)


@bp.route("/questions/<int:question_id>/active", methods=["POST"])
@require(Permission.EDIT_TRAINING)
def quiz_question_active(question_id: int):
    """Activate or deactivate a question: the row again for htmx, back to the bank otherwise."""
    question = service.get_question(current_user, question_id)
    active = posted_active()
    service.set_question_active(current_user, question, active)
    message = _("Question activated.") if active else _("Question deactivated: it is no longer drawn.")
    course = service.get_editable_course(current_user, question.course_id)
    if wants_fragment():
        return render_fragment(BANK, "question_row", toast=message, question=question, course=course)
    flash(message, "success")
    return redirect(url_for("training.quiz_bank", course_id=course.id), code=303)


# --------------------------------------------------------------------------- Excel


def _xlsx(data: bytes, filename: str):
    response = send_file(io.BytesIO(data), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/courses/<int:course_id>/questions/template.xlsx")
@require(Permission.EDIT_TRAINING)
def quiz_template(course_id: int):
    """The question import template (.xlsx) with examples and a 说明 sheet."""
    service.get_editable_course(current_user, course_id)
    return _xlsx(excel.write_template(), "题库导入模板.xlsx")


@bp.route("/courses/<int:course_id>/questions/export.xlsx")
@require(Permission.EDIT_TRAINING)
def quiz_export(course_id: int):
    """The whole bank as .xlsx (the import format; trainers' text is never written as a formula)."""
    course = service.get_editable_course(current_user, course_id)
    stamp = datetime.now(SHANGHAI).strftime("%Y%m%d")
    return _xlsx(excel.write_bank(service.questions_of(course.id)), f"题库_{course.id}_{stamp}.xlsx")


def _upload_dir() -> str:
    return current_app.config["KDCS_UPLOAD_DIR"]


def _import_page(course, *, form=None, plan=None, error=None, token=None, filename="", status=200):
    return render(IMPORT, status=status, course=course, form=form or ImportUploadForm(formdata=None), plan=plan,
                  error=error, filename=filename, max_mb=IMPORT_MAX_MB, max_rows=excel.MAX_ROWS,
                  confirm_form=ImportConfirmForm(formdata=None, token=token) if token else None)


@bp.route("/courses/<int:course_id>/questions/import", methods=["GET", "POST"])
@require(Permission.EDIT_TRAINING)
def quiz_import(course_id: int):
    """Upload questions in .xlsx and preview them with per-row Chinese errors (nothing written yet)."""
    course = service.get_editable_course(current_user, course_id)
    if request.method == "GET":
        return _import_page(course)
    form = ImportUploadForm()
    if not form.validate_on_submit():
        return _import_page(course, form=form, error=_("The form has expired. Reload the page and try again."),
                            status=400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_page(course, form=form, error=_("Choose an .xlsx file to upload."))
    limit = IMPORT_MAX_MB * 1024 * 1024
    data = upload.read(limit + 1)
    if len(data) > limit:
        return _import_page(course, form=form, error=_("The file is larger than %(n)d MB.", n=IMPORT_MAX_MB),
                            status=413)
    filename = upload.filename[:120]
    try:
        plan = excel.read_plan(data)
    except excel.ImportFileError as exc:
        return _import_page(course, form=form, error=str(exc), filename=filename)
    token = None
    if plan.ok:
        excel.discard_upload(_upload_dir(), (session.get(IMPORT_SESSION_KEY) or {}).get("token"))
        token = excel.store_upload(_upload_dir(), data)
        session[IMPORT_SESSION_KEY] = {"token": token, "course_id": course.id, "filename": filename}
    return _import_page(course, form=form, plan=plan, token=token, filename=filename)


@bp.route("/courses/<int:course_id>/questions/import/confirm", methods=["POST"])
@require(Permission.EDIT_TRAINING)
def quiz_import_confirm(course_id: int):
    """Write a previewed import: every question, or none when a row is (now) wrong."""
    course = service.get_editable_course(current_user, course_id)
    form = ImportConfirmForm()
    pending = session.get(IMPORT_SESSION_KEY) or {}
    token = form.token.data if form.validate_on_submit() else None
    path = (excel.upload_path(_upload_dir(), token)
            if token and token == pending.get("token") and pending.get("course_id") == course.id else None)
    if path is None:
        flash(_("The uploaded file is no longer available. Upload it again."), "warning")
        return redirect(url_for("training.quiz_import", course_id=course.id), code=303)
    filename = pending.get("filename", "")
    try:
        plan = excel.read_plan(path.read_bytes())
    except excel.ImportFileError as exc:
        plan, error = None, str(exc)
    else:
        error = None if plan.ok else _("Some rows have errors. Nothing was imported.")
    excel.discard_upload(_upload_dir(), token)
    session.pop(IMPORT_SESSION_KEY, None)
    if error:
        return _import_page(course, plan=plan, error=error, filename=filename)
    made = service.import_questions(current_user, course, plan.drafts)
    flash(_("%(n)d questions imported.", n=len(made)), "success")
    return redirect(url_for("training.quiz_bank", course_id=course.id), code=303)


@bp.route("/courses/<int:course_id>/questions/import/cancel", methods=["POST"])
@require(Permission.EDIT_TRAINING)
def quiz_import_cancel(course_id: int):
    """Drop a previewed import and its stored file."""
    course = service.get_editable_course(current_user, course_id)
    pending = session.pop(IMPORT_SESSION_KEY, None) or {}
    excel.discard_upload(_upload_dir(), pending.get("token"))
    flash(_("Import cancelled. Nothing was written."), "info")
    return redirect(url_for("training.quiz_bank", course_id=course.id), code=303)


# --------------------------------------------------------------------------- settings and statistics


def _number(errors: dict, form: SettingsForm, name: str, *, optional: bool = False) -> int | None:
    raw = (getattr(form, name).data or "").strip()
    if not raw and optional:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        errors[name] = _("Enter a whole number.")
        return None
    return int(raw)


@bp.route("/courses/<int:course_id>/quiz/settings", methods=["GET", "POST"])
@require(Permission.EDIT_TRAINING)
def quiz_settings(course_id: int):
    """A course's quiz settings: questions drawn (per tag), pass mark, time limit, attempts, wait, review."""
    course = service.get_editable_course(current_user, course_id)
    form = SettingsForm()
    status = 200
    if request.method == "GET":
        form.quiz_size.data = str(course.quiz_size)
        form.quiz_per_tag.data = service.format_per_tag(course.quiz_per_tag)
        form.pass_percent.data = str(course.pass_percent)
        form.time_limit_minutes.data = str(course.time_limit_minutes or "")
        form.max_attempts.data = str(course.max_attempts or "")
        form.retry_wait_minutes.data = str(course.retry_wait_minutes)
        form.review_policy.data = course.review_policy
        form.version.data = str(course.version)
    elif form.validate_on_submit():
        errors: dict[str, str] = {}
        numbers = {name: _number(errors, form, name, optional=name in ("time_limit_minutes", "max_attempts"))
                   for name in ("quiz_size", "pass_percent", "time_limit_minutes", "max_attempts", "retry_wait_minutes")}
        try:
            per_tag = service.parse_per_tag(form.quiz_per_tag.data or "")
        except ValueError as exc:
            errors["quiz_per_tag"] = str(exc)
            per_tag = {}
        try:
            if errors:
                raise ValidationError(errors)
            service.update_settings(current_user, course, service.QuizSettings(
                quiz_size=numbers["quiz_size"], quiz_per_tag=per_tag, pass_percent=numbers["pass_percent"],
                time_limit_minutes=numbers["time_limit_minutes"], max_attempts=numbers["max_attempts"],
                retry_wait_minutes=numbers["retry_wait_minutes"], review_policy=form.review_policy.data or "",
            ), version=parse_version(form.version.data))
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        except StaleEdit:
            discard_changes(course)
            form.version.data = str(course.version)
            status = 409
            flash(_("Someone else changed this course a moment ago. Check the settings and save again."), "danger")
        else:
            flash(_("Quiz settings saved."), "success")
            return redirect(url_for("training.quiz_settings", course_id=course.id), code=303)
    tag_summary = "、".join(f"{tag}（{count}）" for tag, count in sorted(service.bank_tags(course.id).items()))
    return render(SETTINGS, status=status, form=form, course=course, tag_summary=tag_summary)


@bp.route("/courses/<int:course_id>/quiz/stats")
@require(Permission.EDIT_TRAINING)
def quiz_stats(course_id: int):
    """Per question: how often it was answered wrong (submitted attempts, archived ones too), worst first."""
    course = service.get_editable_course(current_user, course_id)
    return render(STATS, course=course, stats=service.question_stats(current_user, course))


# --------------------------------------------------------------------------- taking the quiz


@bp.route("/courses/<int:course_id>/quiz")
@require(Permission.VIEW_TRAINING)
def quiz_home(course_id: int):
    """A course's quiz for the signed-in user: start or continue, the rules, their attempts."""
    course = service.get_visible_course(current_user, course_id)
    return render(HOME, course=course, box=quiz_box(course))


@bp.route("/courses/<int:course_id>/quiz/start", methods=["POST"])
@require(Permission.VIEW_TRAINING)
def quiz_start(course_id: int):
    """Start a new attempt (or continue the one in progress); refused with the reason in Chinese."""
    try:
        attempt = service.start_attempt(current_user, course_id)
    except ValidationError as exc:
        flash(exc.errors.get("attempt", _("The quiz cannot be started now.")), "warning")
        return redirect_after_post(url_for("training.quiz_home", course_id=course_id))
    return redirect_after_post(url_for("training.quiz_attempt", attempt_id=attempt.id))


def _attempt_page(attempt, status: int = 200, error: str | None = None):
    course = db.session.get(TrainingCourse, attempt.course_id)
    context = {"attempt": attempt, "course": course, "page_error": error}
    if attempt.submitted_at is None:
        context["items"] = service.attempt_questions(attempt)
        context["answered"] = sum(1 for item in context["items"] if item["chosen"])
    else:
        context["result"] = service.review(attempt)
    return render(ATTEMPT, status=status, **context)


@bp.route("/quiz/<int:attempt_id>")
@require(Permission.VIEW_TRAINING)
def quiz_attempt(attempt_id: int):
    """One attempt, for its owner only (others 404): the questions while open, the result after."""
    attempt = service.open_for_viewing(current_user, attempt_id)
    return _attempt_page(attempt)


def _posted_answers() -> dict[str, list[str]]:
    """``answer-<question id>`` fields → {question id: [option keys]}."""
    answers = {}
    for name in request.form:
        if name.startswith("answer-"):
            answers[name.removeprefix("answer-")] = request.form.getlist(name)
    for name in request.form.getlist("answered"):  # a question whose boxes were all cleared
        answers.setdefault(name, [])
    return answers


@bp.route("/quiz/<int:attempt_id>/answer", methods=["POST"])
@require(Permission.VIEW_TRAINING)
def quiz_answer(attempt_id: int):
    """Save answers as the agent goes: one question for htmx (its saved mark back), every posted
    question without JavaScript (then back to the attempt). Unknown ids: 422 with a Chinese message."""
    service.get_own_attempt(current_user, attempt_id)  # someone else's (or none): 404, whatever was posted
    question_id = request.form.get("question", "")
    try:
        if question_id:
            attempt = service.save_answer(current_user, attempt_id, question_id,
                                          request.form.getlist(f"answer-{question_id}"))
        else:
            attempt = None
            for qid, keys in _posted_answers().items():
                attempt = service.save_answer(current_user, attempt_id, qid, keys)
    except service.AttemptClosed as closed:
        if closed.timed_out:
            flash(_("Time is up. Your saved answers were scored; later answers were not saved."), "warning")
        else:
            flash(_("This attempt was already submitted; answers can no longer be changed."), "warning")
        return redirect_after_post(url_for("training.quiz_attempt", attempt_id=attempt_id))
    except ValidationError as exc:
        if not question_id:
            return _refused_page(attempt_id, exc)
        return render_fragment(ATTEMPT, "answer_status", status=422, question_id=question_id,
                               answer_error=exc.errors.get("answer", ""), saved_at=None)
    if question_id:
        return render(ATTEMPT, block="answer_status", question_id=question_id, answer_error=None,
                      saved_at=datetime.now(SHANGHAI), attempt=attempt)
    flash(_("Answers saved. The quiz is not submitted yet."), "success")
    return redirect(url_for("training.quiz_attempt", attempt_id=attempt_id), code=303)


def _refused_page(attempt_id: int, exc: ValidationError):
    attempt = service.get_own_attempt(current_user, attempt_id)
    return _attempt_page(attempt, status=422, error=exc.errors.get("answer", ""))


@bp.route("/quiz/<int:attempt_id>/submit", methods=["POST"])
@require(Permission.VIEW_TRAINING)
def quiz_submit(attempt_id: int):
    """Submit once: posted answers are saved, then scored on the server. A second submit only shows
    the result; past the time limit what was saved before is scored; unknown ids: 422, nothing saved."""
    attempt = service.get_own_attempt(current_user, attempt_id)
    if attempt.submitted_at is not None:
        flash(_("This attempt was already submitted. Here is its result."), "info")
        return redirect_after_post(url_for("training.quiz_attempt", attempt_id=attempt.id))
    try:
        attempt = service.submit_attempt(current_user, attempt_id, _posted_answers())
    except ValidationError as exc:
        return _refused_page(attempt_id, exc)
    if attempt.timed_out:
        flash(_("Time was up: the answers saved before the deadline were scored."), "warning")
    elif attempt.passed:
        flash(_("Passed with %(s)d%%.", s=attempt.score_percent), "success")
    else:
        flash(_("Not passed: %(s)d%%.", s=attempt.score_percent), "warning")
    return redirect_after_post(url_for("training.quiz_attempt", attempt_id=attempt.id))
