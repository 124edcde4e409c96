"""Courses, lessons, lesson files, practical items and lesson progress (plain functions, no request).

Who sees what: trainers and admins (``EDIT_TRAINING``) see every course, drafts and archived ones
included; everyone else sees published courses only. ``can_view_course`` / ``get_visible_course``
are the one rule (lesson pages, lesson files and the quiz and certification boxes use them).

Publishing: a draft's first publication makes it revision 1. Publishing a published course again
asks whether it is a *required change*: then the revision goes up with the note (agents who passed
an older revision of a 上岗必修 course must re-pass: ``certification.service.on_course_published``,
in the same transaction); a minor change keeps the revision. Every publish and archive is audited.

Lesson progress: opening a lesson records it once (``first_opened_at``), marking it done sets
``completed_at`` once; ``LessonProgress`` is unique per agent and lesson, so reopening or a double
click never counts twice (a concurrent insert is caught by the unique constraint).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from ... import storage
from ...auditing import record, snapshot
from ...extensions import db
from ...models.sop import SopScenario
from ...models.training import (
    CourseKind,
    CourseStatus,
    LessonProgress,
    PracticalItem,
    PracticalKind,
    PracticalSignoff,
    TrainingAttachment,
    TrainingCourse,
    TrainingLesson,
    TrainingQuestion,
)
from ...models.types import utcnow
from ...models.user import Role, User
from ...permissions import Permission, ensure, has_permission
from ...request_args import id_or_none
from ...service_errors import NotFound, StaleEdit, ValidationError

TITLE_MAX = 100
SUMMARY_MAX = 2_000
BODY_MAX = 50_000  # the Markdown pipeline's own limit
NOTE_MAX = 500
DESCRIPTION_MAX = 2_000
CHECKLIST_MAX = 20
CHECKLIST_ITEM_MAX = 100
MAX_DAYS = 30
MAX_LESSONS = 50
FILES_PER_LESSON = 20
TRAINING_KINDS = frozenset({"jpeg", "png", "webp", "pdf", "xlsx", "mp4"})
COURSE_FIELDS = ["title", "summary", "kind", "required_for_live", "recert_days", "valid_days"]
RECERT_DAYS_RANGE = (1, 365)  # a required change: re-pass within
VALID_DAYS_RANGE = (30, 3650)  # a pass expires after (empty: never)


def is_editor(user) -> bool:
    """Trainers and admins: write courses, see drafts and every agent's progress."""
    return has_permission(user, Permission.EDIT_TRAINING)


# --------------------------------------------------------------------------- who sees what

def get_or_not_found(model, object_id):
    """The row of ``model`` with this id; NotFound for unknown ids and for values that are not ids."""
    obj = db.session.get(model, id_or_none(object_id)) if id_or_none(object_id) else None
    if obj is None:
        raise NotFound(object_id)
    return obj


def can_view_course(user, course: TrainingCourse) -> bool:
    """Editors see every course; others only published (not archived) ones."""
    if not has_permission(user, Permission.VIEW_TRAINING):
        return False
    return is_editor(user) or course.status == CourseStatus.PUBLISHED


def _course_with_files(course_id) -> TrainingCourse:
    """The course with its lessons and their files read at once (the course page and the editor list
    every lesson with its files: one statement per lesson before); NotFound as ``get_or_not_found``."""
    wanted = id_or_none(course_id)
    course = db.session.scalar(select(TrainingCourse).where(TrainingCourse.id == wanted).options(
        selectinload(TrainingCourse.lessons).selectinload(TrainingLesson.attachments))) if wanted else None
    if course is None:
        raise NotFound(course_id)
    return course


def get_visible_course(user, course_id, *, files: bool = False) -> TrainingCourse:
    """The course if ``user`` may see it; NotFound otherwise (also for ids that are not ids).
    ``files``: with its lessons and their files read at once."""
    ensure(user, Permission.VIEW_TRAINING)
    course = _course_with_files(course_id) if files else get_or_not_found(TrainingCourse, course_id)
    if not can_view_course(user, course):
        raise NotFound(course_id)
    return course


def get_course_for_edit(actor, course_id, *, files: bool = False) -> TrainingCourse:
    """A course to edit (trainers and admins); NotFound for unknown ids. ``files``: with its lessons
    and their files read at once."""
    ensure(actor, Permission.EDIT_TRAINING)
    return _course_with_files(course_id) if files else get_or_not_found(TrainingCourse, course_id)


def get_visible_lesson(user, lesson_id) -> TrainingLesson:
    """A lesson of a course ``user`` may see; NotFound otherwise."""
    ensure(user, Permission.VIEW_TRAINING)
    lesson = get_or_not_found(TrainingLesson, lesson_id)
    if not can_view_course(user, lesson.course):
        raise NotFound(lesson_id)
    return lesson


def get_lesson_for_edit(actor, lesson_id) -> TrainingLesson:
    """A lesson to edit (trainers and admins); NotFound for unknown ids."""
    ensure(actor, Permission.EDIT_TRAINING)
    return get_or_not_found(TrainingLesson, lesson_id)


def get_visible_file(user, file_id) -> TrainingAttachment:
    """A lesson file of a course ``user`` may see; NotFound otherwise (no hint that it exists)."""
    ensure(user, Permission.VIEW_TRAINING)
    item = get_or_not_found(TrainingAttachment, file_id)
    if not can_view_course(user, item.lesson.course):
        raise NotFound(file_id)
    return item


def list_courses(user, *, q: str = "", kind: str = "", status: str = "", required: str = "") -> list[TrainingCourse]:
    """Courses ``user`` may see, filtered (title/summary words, kind, status, 上岗必修 "1"/"0"), by title."""
    ensure(user, Permission.VIEW_TRAINING)
    query = select(TrainingCourse)
    if not is_editor(user):
        query = query.where(TrainingCourse.status == CourseStatus.PUBLISHED)
    elif status in {s.value for s in CourseStatus}:
        query = query.where(TrainingCourse.status == status)
    if kind in {k.value for k in CourseKind}:
        query = query.where(TrainingCourse.kind == kind)
    if required in ("1", "0"):
        query = query.where(TrainingCourse.required_for_live.is_(required == "1"))
    for word in (q or "").split()[:5]:
        like = f"%{word[:50]}%"
        query = query.where(or_(TrainingCourse.title.ilike(like), TrainingCourse.summary.ilike(like)))
    order = [TrainingCourse.status != CourseStatus.PUBLISHED, TrainingCourse.required_for_live.desc(),
             TrainingCourse.title, TrainingCourse.id]
    return list(db.session.scalars(query.order_by(*order)))


def lesson_counts(course_ids: Iterable[int]) -> dict[int, int]:
    """course id → number of lessons."""
    ids = list(course_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(TrainingLesson.course_id, func.count()).where(
        TrainingLesson.course_id.in_(ids)).group_by(TrainingLesson.course_id))
    return dict(rows.all())


# --------------------------------------------------------------------------- courses

def _clean_text(errors: dict, name: str, value, limit: int, required: bool = False) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if required and not text:
        errors[name] = _("Enter a title.") if name == "title" else _("This field is required.")
    elif len(text) > limit:
        errors[name] = _("At most %(n)d characters.", n=limit)
    return text


KEEP = object()  # update_course: a day field not given keeps its stored value
FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def _clean_days(errors: dict, name: str, value, bounds: tuple[int, int], *, required: bool) -> int | None:
    """A whole number of days within bounds (full-width digits accepted); empty is None unless required."""
    text = str(value if value is not None else "").strip().translate(FULLWIDTH_DIGITS)
    if not text:
        if required:
            errors[name] = _("Enter a number of days.")
        return None
    low, high = bounds
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        errors[name] = _("Enter a whole number of days from %(low)d to %(high)d.", low=low, high=high)
        return None
    return int(text)



def _clean_course(title, summary, kind, required_for_live, recert_days=14, valid_days=None) -> dict:
    errors: dict[str, str] = {}
    clean = {
        "title": _clean_text(errors, "title", title, TITLE_MAX, required=True),
        "summary": _clean_text(errors, "summary", summary, SUMMARY_MAX),
        "kind": kind,
        "required_for_live": bool(required_for_live),
        "recert_days": _clean_days(errors, "recert_days", recert_days, RECERT_DAYS_RANGE, required=True),
        "valid_days": _clean_days(errors, "valid_days", valid_days, VALID_DAYS_RANGE, required=False),
    }
    if kind not in {k.value for k in CourseKind}:
        errors["kind"] = _("Choose a kind.")
    if errors:
        raise ValidationError(errors)
    return clean


def _check_version(obj, version: int | None) -> None:
    if version is None or version != obj.version:
        raise StaleEdit(obj)


def create_course(actor, *, title: str, summary: str = "", kind: str = CourseKind.ONBOARDING,
                  required_for_live: bool = False, recert_days=14, valid_days=None) -> TrainingCourse:
    """A new draft course (trainers and admins); audited."""
    ensure(actor, Permission.EDIT_TRAINING)
    clean = _clean_course(title, summary, kind, required_for_live, recert_days, valid_days)
    course = TrainingCourse(**clean, status=CourseStatus.DRAFT, created_by_id=actor.id)
    db.session.add(course)
    db.session.flush()
    record(actor, "training.course_create", "training_course", course.id, summary=course.title,
           after=snapshot(course, COURSE_FIELDS))
    db.session.commit()
    return course


def update_course(actor, course: TrainingCourse, *, version: int | None, title: str, summary: str, kind: str,
                  required_for_live: bool, recert_days=None, valid_days=KEEP) -> TrainingCourse:
    """Change a course's title, summary, kind, 上岗必修 flag, re-pass days and how long a pass is
    valid (optimistic lock: StaleEdit). Omitted day fields keep their stored values."""
    ensure(actor, Permission.EDIT_TRAINING)
    _check_version(course, version)
    clean = _clean_course(title, summary, kind, required_for_live,
                          course.recert_days if recert_days is None else recert_days,
                          course.valid_days if valid_days is KEEP else valid_days)
    before = snapshot(course, COURSE_FIELDS)
    for name, value in clean.items():
        setattr(course, name, value)
    if before != snapshot(course, COURSE_FIELDS):
        record(actor, "training.course_update", "training_course", course.id, summary=course.title,
               before=before, after=snapshot(course, COURSE_FIELDS))
    db.session.commit()
    return course


def publish_course(actor, course_id, version: int | None, required_change: bool = False,
                   note: str = "") -> TrainingCourse:
    """Publish a course. The first publication is revision 1. Publishing a published course again:
    a *required change* (with a note) raises the revision, so agents who passed an older one must
    re-pass (certification's ``on_course_published``, same transaction); otherwise a minor change."""
    ensure(actor, Permission.EDIT_TRAINING)
    course = get_course_for_edit(actor, course_id)
    _check_version(course, version)
    errors: dict[str, str] = {}
    note = _clean_text(errors, "note", note, NOTE_MAX)
    if course.status == CourseStatus.ARCHIVED:
        errors["status"] = _("The course is archived; it cannot be published.")
    if not course.lessons:
        errors["status"] = _("Add at least one lesson before publishing.")
    first = course.status == CourseStatus.DRAFT
    required_change = bool(required_change) and not first
    if required_change and not note:
        errors["note"] = _("Say what changed: agents who must re-pass read this note.")
    if errors:
        raise ValidationError(errors)
    before = {"status": course.status, "revision": course.revision}
    course.status = CourseStatus.PUBLISHED
    course.published_at = utcnow()
    if first or required_change:
        course.revision = (course.revision or 0) + 1
        course.revision_note = note
    # what the course is now (after only: "必要变更：是" reads better than "— → 是"); the note says why
    record(actor, "training.course_publish", "training_course", course.id, summary=course.title,
           after={"status": course.status, "revision": course.revision, "required_change": required_change,
                  "old_revision": before["revision"] if before["revision"] != course.revision else None,
                  "revision_note": note or None})
    db.session.flush()
    from ..certification import service as certification

    certification.on_course_published(course, required_change, actor)
    db.session.commit()
    return course


def changed_since_publish(course: TrainingCourse) -> bool:
    """Whether a lesson of a published course was added or saved after its last publication (the
    course page then asks to publish again and say whether the change is required)."""
    if course.status != CourseStatus.PUBLISHED or course.published_at is None:
        return False
    return any(lesson.updated_at and lesson.updated_at > course.published_at for lesson in course.lessons)


def cannot_be_passed(course: TrainingCourse) -> bool:
    """Whether a 上岗必修 course has neither an active question nor an active practical item: nobody
    can pass it, so publishing it would flag (and later lapse) every live agent. The course page warns."""
    if not course.required_for_live:
        return False
    has_question = db.session.scalar(select(TrainingQuestion.id).where(
        TrainingQuestion.course_id == course.id, TrainingQuestion.is_active.is_(True)).limit(1))
    return has_question is None and not active_practical_items(course)


def archive_course(actor, course_id, version: int | None) -> TrainingCourse:
    """Archive a course: agents no longer see it; results and attempts stay. Audited."""
    ensure(actor, Permission.EDIT_TRAINING)
    course = get_course_for_edit(actor, course_id)
    _check_version(course, version)
    if course.status == CourseStatus.ARCHIVED:
        raise ValidationError({"status": _("The course is already archived.")})
    before = course.status
    course.status = CourseStatus.ARCHIVED
    record(actor, "training.course_archive", "training_course", course.id, summary=course.title,
           before={"status": before}, after={"status": course.status})
    db.session.commit()
    return course


# --------------------------------------------------------------------------- lessons

def scenario_choices() -> list[SopScenario]:
    """SOP scenarios a lesson may embed: published, not archived, by title."""
    return list(db.session.scalars(select(SopScenario).where(
        SopScenario.current_version_id.is_not(None), SopScenario.is_archived.is_(False)).order_by(SopScenario.title)))


def _clean_scenario_id(errors: dict, raw, name: str = "sop_scenario_id") -> int | None:
    if raw in (None, "", 0, "0"):
        return None
    scenario_id = id_or_none(raw)
    scenario = db.session.get(SopScenario, scenario_id) if scenario_id else None
    if scenario is None or scenario.current_version_id is None or scenario.is_archived:
        errors[name] = _("Choose a published SOP scenario.")
        return None
    return scenario.id


def embedded_version(lesson: TrainingLesson):
    """The current published version of the lesson's SOP scenario (None when none or archived)."""
    if lesson.sop_scenario_id is None:
        return None
    scenario = db.session.get(SopScenario, lesson.sop_scenario_id)
    if scenario is None or scenario.is_archived:
        return None
    return scenario.current_version


def add_lesson(actor, course: TrainingCourse, *, title: str) -> TrainingLesson:
    """A new lesson at the end of the course."""
    ensure(actor, Permission.EDIT_TRAINING)
    errors: dict[str, str] = {}
    title = _clean_text(errors, "title", title, TITLE_MAX, required=True)
    if course.status == CourseStatus.ARCHIVED:
        errors["title"] = _("The course is archived; it cannot be changed.")
    if len(course.lessons) >= MAX_LESSONS:
        errors["title"] = _("A course has at most %(n)d lessons.", n=MAX_LESSONS)
    if errors:
        raise ValidationError(errors)
    position = max((lesson.position for lesson in course.lessons), default=0) + 1
    lesson = TrainingLesson(course=course, title=title, body="", position=position)
    db.session.add(lesson)
    record(actor, "training.lesson_add", "training_course", course.id, summary=course.title,
           after={"lesson": title})
    db.session.commit()
    return lesson


def update_lesson(actor, lesson: TrainingLesson, *, version: int | None, title: str, body: str,
                  sop_scenario_id=None) -> TrainingLesson:
    """Save a lesson's title, Markdown body and embedded SOP scenario (optimistic lock: StaleEdit)."""
    ensure(actor, Permission.EDIT_TRAINING)
    _check_version(lesson, version)
    errors: dict[str, str] = {}
    title = _clean_text(errors, "title", title, TITLE_MAX, required=True)
    body = _clean_text(errors, "body", body, BODY_MAX)
    scenario_id = _clean_scenario_id(errors, sop_scenario_id)
    if lesson.course.status == CourseStatus.ARCHIVED:
        errors["title"] = _("The course is archived; it cannot be changed.")
    if errors:
        raise ValidationError(errors)
    changes = {"lesson": title}  # which lesson, and what changed (the body is said, not copied)
    if lesson.title != title:
        changes["old_title"] = lesson.title
    if lesson.body != body:
        changes["body_changed"] = True
    if lesson.sop_scenario_id != scenario_id:
        changes["sop_scenario"] = _scenario_title(scenario_id)
    lesson.title, lesson.body, lesson.sop_scenario_id = title, body, scenario_id
    if len(changes) > 1:
        record(actor, "training.lesson_update", "training_course", lesson.course_id, summary=lesson.course.title,
               after=changes)
    db.session.commit()
    return lesson


def delete_lesson(actor, lesson: TrainingLesson) -> TrainingCourse:
    """Remove a lesson (its files and progress go with it); returns its course."""
    ensure(actor, Permission.EDIT_TRAINING)
    course = lesson.course
    if course.status == CourseStatus.ARCHIVED:
        raise ValidationError({"status": _("The course is archived; it cannot be changed.")})
    record(actor, "training.lesson_delete", "training_course", course.id, summary=course.title,
           before={"lesson": lesson.title})
    course.lessons.remove(lesson)
    db.session.commit()
    return course


def move_lesson_to(actor, lesson: TrainingLesson, position: int) -> TrainingCourse:
    """Put a lesson at ``position`` (1 = first; beyond the ends: first or last), the others keep their
    order (drag and drop on the course editor)."""
    ensure(actor, Permission.EDIT_TRAINING)
    course = lesson.course
    lessons = [item for item in sorted(course.lessons, key=lambda item: (item.position, item.id)) if item is not lesson]
    lessons.insert(min(max(int(position), 1), len(lessons) + 1) - 1, lesson)
    for number, item in enumerate(lessons, start=1):
        item.position = number
    db.session.commit()
    db.session.refresh(course)
    return course


def move_lesson(actor, lesson: TrainingLesson, direction: str) -> TrainingCourse:
    """Swap a lesson with the one before ("up") or after ("down"); at an end nothing moves."""
    ensure(actor, Permission.EDIT_TRAINING)
    if direction not in ("up", "down"):
        raise ValidationError({"direction": _("Unknown direction.")})
    course = lesson.course
    lessons = sorted(course.lessons, key=lambda item: (item.position, item.id))
    for number, item in enumerate(lessons, start=1):  # positions 1..n, whatever they were
        item.position = number
    index = lessons.index(lesson)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(lessons):
        lessons[index].position, lessons[other].position = lessons[other].position, lessons[index].position
    db.session.commit()
    db.session.refresh(course)
    return course


# --------------------------------------------------------------------------- lesson files

def max_file_mb() -> float:
    """The largest lesson file in MB (``KDCS_TRAINING_FILE_MAX_MB``, default 50: short videos)."""
    value = (current_app.config.get("KDCS_TRAINING_FILE_MAX_MB") or os.environ.get("KDCS_TRAINING_FILE_MAX_MB")
             or 50)
    try:
        return max(float(value), 0.1)
    except (TypeError, ValueError):
        return 50.0


def add_file(actor, lesson: TrainingLesson, upload) -> TrainingAttachment:
    """Store one upload (PDF, image, .xlsx, MP4; type by content, size limit) as a file of the lesson."""
    ensure(actor, Permission.EDIT_TRAINING)
    if upload is None or not getattr(upload, "filename", ""):
        raise ValidationError({"file": _("Choose a file.")})
    if len(lesson.attachments) >= FILES_PER_LESSON:
        raise ValidationError({"file": _("A lesson has at most %(n)d files.", n=FILES_PER_LESSON)})
    stored = storage.save_upload(upload, kinds=TRAINING_KINDS, max_bytes=round(max_file_mb() * 1024 * 1024))
    item = TrainingAttachment(lesson=lesson, stored_name=stored.stored_name, original_name=stored.original_name,
                              content_type=stored.content_type, size=stored.size, uploaded_by_id=actor.id)
    db.session.add(item)
    db.session.commit()
    return item


def remove_file(actor, item: TrainingAttachment) -> TrainingLesson:
    """Remove a file from its lesson (the stored file stays: the same content may be used elsewhere)."""
    ensure(actor, Permission.EDIT_TRAINING)
    lesson = item.lesson
    lesson.attachments.remove(item)
    db.session.commit()
    return lesson


def get_file_for_edit(actor, file_id) -> TrainingAttachment:
    """A lesson file to remove (trainers and admins)."""
    ensure(actor, Permission.EDIT_TRAINING)
    return get_or_not_found(TrainingAttachment, file_id)


# --------------------------------------------------------------------------- practical items

def parse_checklist(raw) -> list[str]:
    """Checklist lines from a textarea (one a line) or a list: trimmed, blank lines dropped."""
    lines = raw.splitlines() if isinstance(raw, str) else list(raw or [])
    return [line.strip().lstrip("-•·").strip() for line in lines if line and line.strip().lstrip("-•·").strip()]


def _clean_practical(kind, title, description, sop_scenario_id, days, checklist, pass_score) -> dict:
    errors: dict[str, str] = {}
    clean = {
        "kind": kind,
        "title": _clean_text(errors, "title", title, TITLE_MAX, required=True),
        "description": _clean_text(errors, "description", description, DESCRIPTION_MAX),
        "checklist": parse_checklist(checklist),
        "sop_scenario_id": None,
        "days": None,
        "pass_score": None,
    }
    if kind not in {k.value for k in PracticalKind}:
        errors["kind"] = _("Choose a kind.")
    elif kind == PracticalKind.ROLE_PLAY:
        clean["sop_scenario_id"] = _clean_scenario_id(errors, sop_scenario_id)
        if clean["sop_scenario_id"] is None and "sop_scenario_id" not in errors:
            errors["sop_scenario_id"] = _("Choose the SOP scenario to role-play.")
    else:
        try:
            clean["days"] = int(days)
        except (TypeError, ValueError):
            clean["days"] = 0
        if not 1 <= clean["days"] <= MAX_DAYS:
            errors["days"] = _("Enter between 1 and %(n)d days.", n=MAX_DAYS)
    if len(clean["checklist"]) > CHECKLIST_MAX:
        errors["checklist"] = _("At most %(n)d checklist items.", n=CHECKLIST_MAX)
    elif any(len(line) > CHECKLIST_ITEM_MAX for line in clean["checklist"]):
        errors["checklist"] = _("A checklist item may have at most %(n)d characters.", n=CHECKLIST_ITEM_MAX)
    if pass_score not in (None, ""):
        try:
            clean["pass_score"] = int(pass_score)
        except (TypeError, ValueError):
            clean["pass_score"] = -1
        if not 0 <= clean["pass_score"] <= 100:
            errors["pass_score"] = _("Enter a score between 0 and 100, or leave it empty.")
    if errors:
        raise ValidationError(errors)
    return clean


def active_practical_items(course: TrainingCourse) -> list[PracticalItem]:
    """The course's practical items in use, in order."""
    return [item for item in course.practical_items if item.is_active]


def get_practical_for_edit(actor, item_id) -> PracticalItem:
    """A practical item to edit (trainers and admins); NotFound for unknown or removed ones."""
    ensure(actor, Permission.EDIT_TRAINING)
    item = get_or_not_found(PracticalItem, item_id)
    if not item.is_active:
        raise NotFound(item_id)
    return item


def save_practical_item(actor, course: TrainingCourse, item: PracticalItem | None = None, *,
                        version: int | None = None, kind: str, title: str, description: str = "",
                        sop_scenario_id=None, days=None, checklist="", pass_score=None) -> PracticalItem:
    """Add a practical item to a course (``item`` None) or change one (optimistic lock: StaleEdit).
    情景模拟 names a published SOP scenario; 实战带教 a number of days (1–30)."""
    ensure(actor, Permission.EDIT_TRAINING)
    if item is not None:
        _check_version(item, version)
    clean = _clean_practical(kind, title, description, sop_scenario_id, days, checklist, pass_score)
    if course.status == CourseStatus.ARCHIVED:
        raise ValidationError({"title": _("The course is archived; it cannot be changed.")})
    if item is None:
        position = max((p.position for p in course.practical_items), default=0) + 1
        item = PracticalItem(course=course, position=position, **clean)
        db.session.add(item)
        record(actor, "training.practical_add", "training_course", course.id, summary=course.title,
               after={"practical_item": item.title, **_practical_audit(item)})
    else:
        before = {"practical_item": item.title, **_practical_audit(item)}
        for name, value in clean.items():
            setattr(item, name, value)
        record(actor, "training.practical_update", "training_course", course.id, summary=course.title,
               before=before, after={"practical_item": item.title, **_practical_audit(item)})
    db.session.commit()
    return item


def _practical_audit(item: PracticalItem) -> dict:
    """A practical item's audited fields (codes and ids; the audit page shows them in words)."""
    return {"practical_kind": item.kind, "days": item.days, "pass_score": item.pass_score,
            "sop_scenario": _scenario_title(item.sop_scenario_id), "checklist": "；".join(item.checklist or [])}


def _scenario_title(scenario_id: int | None) -> str | None:
    if scenario_id is None:
        return None
    scenario = db.session.get(SopScenario, scenario_id)
    return scenario.title if scenario else None


def remove_practical_item(actor, item: PracticalItem) -> TrainingCourse:
    """Remove a practical item: deleted if nobody was signed off on it, else kept but no longer in use."""
    ensure(actor, Permission.EDIT_TRAINING)
    course = item.course
    signed = db.session.scalar(select(func.count()).select_from(PracticalSignoff).where(
        PracticalSignoff.item_id == item.id))
    record(actor, "training.practical_remove", "training_course", course.id, summary=course.title,
           before={"practical_item": item.title})
    if signed:
        item.is_active = False
    else:
        course.practical_items.remove(item)
    db.session.commit()
    return course


# --------------------------------------------------------------------------- progress

def open_lesson(user, lesson: TrainingLesson) -> LessonProgress:
    """Record that ``user`` opened the lesson (once: reopening changes nothing)."""
    progress = _progress(user.id, lesson.id)
    if progress is not None:
        return progress
    try:
        with db.session.begin_nested():
            progress = LessonProgress(user_id=user.id, lesson_id=lesson.id)
            db.session.add(progress)
    except IntegrityError:  # opened at the same moment in another tab
        progress = _progress(user.id, lesson.id)
    db.session.commit()
    return progress


def mark_lesson_done(user, lesson: TrainingLesson) -> LessonProgress:
    """Mark the lesson done for ``user`` (once: the first time counts, repeats change nothing)."""
    ensure(user, Permission.VIEW_TRAINING)
    if not can_view_course(user, lesson.course):
        raise NotFound(lesson.id)
    progress = open_lesson(user, lesson)
    if progress.completed_at is None:
        progress.completed_at = utcnow()
        db.session.commit()
    return progress


def _progress(user_id: int, lesson_id: int) -> LessonProgress | None:
    return db.session.scalar(select(LessonProgress).where(LessonProgress.user_id == user_id,
                                                          LessonProgress.lesson_id == lesson_id))


def lesson_states(user_id: int, lesson_ids: Iterable[int]) -> dict[int, LessonProgress]:
    """lesson id → the user's progress row (opened; done when ``completed_at`` is set)."""
    ids = list(lesson_ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(LessonProgress).where(LessonProgress.user_id == user_id,
                                                           LessonProgress.lesson_id.in_(ids)))
    return {row.lesson_id: row for row in rows}


def course_progress(user_id: int, course: TrainingCourse) -> tuple[int, int]:
    """(lessons done, lessons) of one agent in one course."""
    total = len(course.lessons)
    if not total:
        return 0, 0
    done = db.session.scalar(select(func.count()).select_from(LessonProgress).join(TrainingLesson).where(
        LessonProgress.user_id == user_id, TrainingLesson.course_id == course.id,
        LessonProgress.completed_at.is_not(None)))
    return done or 0, total


def progress_by_course(user_id: int, course_ids: Iterable[int]) -> dict[int, int]:
    """course id → lessons done by the user (one query for a list of courses)."""
    ids = list(course_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(TrainingLesson.course_id, func.count()).select_from(LessonProgress)
                              .join(TrainingLesson).where(LessonProgress.user_id == user_id,
                                                          TrainingLesson.course_id.in_(ids),
                                                          LessonProgress.completed_at.is_not(None))
                              .group_by(TrainingLesson.course_id))
    return dict(rows.all())


def agents_progress(actor, course: TrainingCourse) -> list[dict]:
    """Each active agent who is assigned the course or has opened a lesson of it (trainers previewing
    do not count): name, team, lessons
    done of total, due date, last activity (trainers and admins; leads see their team in the matrix)."""
    ensure(actor, Permission.EDIT_TRAINING)
    from ...models.training import TrainingAssignment

    total = len(course.lessons)
    assigned = {a.user_id: a for a in db.session.scalars(select(TrainingAssignment).where(
        TrainingAssignment.course_id == course.id))}
    rows = db.session.execute(
        select(LessonProgress.user_id, func.count(LessonProgress.completed_at), func.max(LessonProgress.first_opened_at),
               func.max(LessonProgress.completed_at))
        .join(TrainingLesson).where(TrainingLesson.course_id == course.id).group_by(LessonProgress.user_id)).all()
    progress = {user_id: (done, opened, completed) for user_id, done, opened, completed in rows}
    ids = set(assigned) | set(progress)
    if not ids:
        return []
    users = db.session.scalars(select(User).options(joinedload(User.team))  # each row names the team
                               .where(User.id.in_(ids), User.role == Role.AGENT, User.is_active_account.is_(True))
                               .order_by(User.team_id, User.username)).all()
    result = []
    for user in users:
        done, opened, completed = progress.get(user.id, (0, None, None))
        last = max((t for t in (opened, completed) if t is not None), default=None)
        assignment = assigned.get(user.id)
        result.append({"user": user, "done": done, "total": total,
                       "due_on": assignment.due_on if assignment else None, "last": last,
                       "percent": round(100 * done / total) if total else 0})
    return result


def assignments_for(user_id: int):
    """The user's assigned published courses by due date (kdcs/training/programmes/service.py)."""
    from ..programmes.service import assignments_for as _assignments_for

    return _assignments_for(user_id)
