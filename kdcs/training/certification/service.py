"""Certification (上岗): course results, going live, recertification, expiry, sign-off and resets.

Rules
- An agent *passes a course* when the course's quiz is passed (when it has active questions)
  and every active practical item is signed off as passed, both for the course's current
  ``revision``. ``CourseResult`` keeps the pass (when, which revision, expiry, re-pass due).
- A pass of an older revision still counts while ``recert_due_on`` has not passed (待复训);
  a pass counts until ``expires_on`` (the course's ``valid_days``) when set.
- An agent is *certified* when every published 上岗必修 course is passed. When no published
  上岗必修 course exists, everyone counts as certified (worlds without training keep working).
- Publishing a required change (or a new required course) flags the agents who were certified
  (``FLAGGED``, live until ``flagged_until``); the periodic task (tasks.py) or the next
  ``recompute`` lapses them after that day (``LAPSED``) until they pass again.
- ``AgentCertification`` is what the gates (gate.py) read; it is kept in the same transaction
  as the event that changes it. Callers commit (except the actions at the bottom, which are
  whole user actions and commit themselves).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, and_, bindparam, cast, func, or_, select
from sqlalchemy.orm import selectinload

from ... import auditing, core_sql
from ...extensions import db
from ...leave.rules import beijing_today
from ...models.training import (
    AgentCertification,
    CertificationState,
    CourseResult,
    CourseStatus,
    LessonProgress,
    PracticalItem,
    PracticalSignoff,
    QuizAttempt,
    TrainingAssignment,
    TrainingCourse,
    TrainingLesson,
    TrainingQuestion,
)
from ...models.user import Role, User
from ...permissions import Permission, PermissionDenied, ensure, has_permission
from ...request_memo import forget_on_write
from ...service_errors import NotFound, ValidationError

LIVE_STATES = (CertificationState.CERTIFIED.value, CertificationState.FLAGGED.value)

auditing.register_labels(
    actions={
        "training.certification": _l("Going-live state changed"),
        "training.signoff": _l("Practical item signed off"),
        "training.reset": _l("Training attempts reset"),
        "training.recert": _l("Re-pass required"),
    },
    fields={"user.state": _l("Going-live state"), "user.item_id": _l("Practical item"), "user.passed": _l("Passed"),
            "user.score": _l("Score"), "user.archived": _l("Archived attempts and sign-offs"),
            "user.note": _l("Note"), "user.passed_at": _l("Passed on")},
    kinds={"user.state": "training_cert_state", "user.item_id": "practical_item"},
)

# course_status codes (labels in status_label)
NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
PASSED = "passed"
FAILED = "failed"
OVERDUE = "overdue"
RECERT_DUE = "recert_due"
STATUSES = (NOT_STARTED, IN_PROGRESS, PASSED, FAILED, OVERDUE, RECERT_DUE)


def status_label(code: str) -> str:
    """The Chinese label of a course_status code (未开始, 学习中, 已通过, 未通过, 已逾期, 待复训)."""
    return {
        NOT_STARTED: _("Not started"),
        IN_PROGRESS: _("Course in progress"),
        PASSED: _("Passed"),
        FAILED: _("Quiz failed"),
        OVERDUE: _("Training overdue"),
        RECERT_DUE: _("Re-pass due"),
    }.get(code, code)


def state_label(state: str | None) -> str:
    """The Chinese label of a certification state (未上岗, 已上岗, 待复训, 已失效)."""
    return {
        CertificationState.NONE.value: _("Not live"),
        CertificationState.CERTIFIED.value: _("Live"),
        CertificationState.FLAGGED.value: _("Live, re-pass due"),
        CertificationState.LAPSED.value: _("Lapsed"),
    }.get(state or CertificationState.NONE.value, state or "")


def _practical_item_title(item_id) -> str:
    """An audit value naming a practical item by its title (``#id`` once it is gone)."""
    try:
        item = db.session.get(PracticalItem, int(item_id))
    except (TypeError, ValueError):
        return str(item_id)
    return item.title if item is not None else f"#{item_id}"


auditing.register_formatter("training_cert_state", state_label)
auditing.register_formatter("practical_item", _practical_item_title)


def _now() -> datetime:
    return datetime.now(UTC)


def _today(now: datetime | None = None) -> date:
    return beijing_today(now)


# --------------------------------------------------------------------------- reading


def required_courses() -> list[TrainingCourse]:
    """The published 上岗必修 courses (what going live requires), by id.

    Read once per request (a new agent's home asks for the reasons and for the course list)
    until the session flushes, commits or rolls back."""
    from flask import g, has_app_context

    clean = has_app_context() and not (db.session.new or db.session.dirty or db.session.deleted)
    if clean and "_required_courses" in g:
        return list(g._required_courses)
    courses = list(db.session.scalars(
        select(TrainingCourse)
        .where(TrainingCourse.status == CourseStatus.PUBLISHED.value, TrainingCourse.required_for_live.is_(True))
        .order_by(TrainingCourse.id)))
    if clean:
        g._required_courses = courses
    return list(courses)


def training_required() -> bool:
    """Whether any published 上岗必修 course exists (if not, everyone counts as certified).

    ``required_courses``' answer, so read once per request (a page of agents' badges asks it per
    row, a new agent's home asks for the courses too) until the session writes."""
    return bool(required_courses())


def result_for(user_id: int, course_id: int) -> CourseResult | None:
    """The agent's result row for a course (None before anything counted)."""
    return db.session.scalar(select(CourseResult).where(
        CourseResult.user_id == user_id, CourseResult.course_id == course_id))


def results_for(user_id: int, course_ids: list[int]) -> dict[int, CourseResult]:
    """``result_for`` of several courses ({course_id: result}, absent courses left out) in one statement."""
    if not course_ids:
        return {}
    return {r.course_id: r for r in db.session.scalars(select(CourseResult).where(
        CourseResult.user_id == user_id, CourseResult.course_id.in_(course_ids)))}


def latest_signoffs(user_id: int, items: list[PracticalItem], revision: int | None = None
                    ) -> dict[int, PracticalSignoff]:
    """``latest_signoff`` of several items ({item_id: sign-off}, items without one left out) in one statement."""
    if not items:
        return {}
    query = select(PracticalSignoff).options(selectinload(PracticalSignoff.signed_by)).where(  # the box names the signer
        PracticalSignoff.user_id == user_id, PracticalSignoff.item_id.in_([item.id for item in items]),
        PracticalSignoff.is_archived.is_(False))
    if revision is not None:
        query = query.where(PracticalSignoff.course_revision == revision)
    latest: dict[int, PracticalSignoff] = {}
    for signoff in db.session.scalars(query.order_by(PracticalSignoff.signed_at.desc(), PracticalSignoff.id.desc())):
        latest.setdefault(signoff.item_id, signoff)
    return latest


def certification_for(user_id: int) -> AgentCertification | None:
    """The agent's going-live row (None before the first recompute)."""
    return db.session.get(AgentCertification, user_id)


def _has_quiz(course: TrainingCourse) -> bool:
    return db.session.scalar(select(func.count(TrainingQuestion.id)).where(
        TrainingQuestion.course_id == course.id, TrainingQuestion.is_active.is_(True))) > 0


def active_items(course: TrainingCourse) -> list[PracticalItem]:
    """The course's active practical items in order."""
    return [item for item in course.practical_items if item.is_active]


def latest_signoff(user_id: int, item: PracticalItem, revision: int | None = None) -> PracticalSignoff | None:
    """The newest kept (not archived) sign-off of an item for an agent (for one revision if given)."""
    query = select(PracticalSignoff).where(
        PracticalSignoff.user_id == user_id, PracticalSignoff.item_id == item.id,
        PracticalSignoff.is_archived.is_(False))
    if revision is not None:
        query = query.where(PracticalSignoff.course_revision == revision)
    return db.session.scalars(query.order_by(PracticalSignoff.signed_at.desc(), PracticalSignoff.id.desc())).first()


def _passed_attempt(user_id: int, course: TrainingCourse) -> QuizAttempt | None:
    return db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.user_id == user_id, QuizAttempt.course_id == course.id,
        QuizAttempt.is_archived.is_(False), QuizAttempt.passed.is_(True),
        QuizAttempt.course_revision == course.revision,
    ).order_by(QuizAttempt.submitted_at.desc())).first()  # the latest pass: a re-pass after expiry counts from it


@dataclass
class Standing:
    """What an agent still lacks in one course for its current revision."""

    quiz_needed: bool
    quiz_passed_at: datetime | None
    missing_items: list[PracticalItem]  # active items without a passed sign-off
    passed_at: datetime | None  # when everything was done (None: not yet)

    @property
    def complete(self) -> bool:
        """Quiz and every practical item done."""
        return self.passed_at is not None


def standing(user_id: int, course: TrainingCourse) -> Standing:
    """The quiz and practical items of ``course`` an agent has (not) passed, current revision only."""
    quiz_needed = _has_quiz(course)
    attempt = _passed_attempt(user_id, course) if quiz_needed else None
    quiz_at = (attempt.submitted_at or attempt.started_at) if attempt else None
    missing, times = [], []
    for item in active_items(course):
        signoff = latest_signoff(user_id, item, course.revision)
        if signoff is None or not signoff.passed:
            missing.append(item)
        else:
            times.append(signoff.signed_at)
    items = active_items(course)
    # Something must be passed: a course with neither quiz nor practical item is never "passed" here
    # (its lessons are T1's progress, not an assessment).
    done = bool(quiz_needed or items) and (not quiz_needed or attempt is not None) and not missing
    if quiz_at:
        times.append(quiz_at)
    passed_at = (max(times) if times else _now()) if done else None
    return Standing(quiz_needed, quiz_at, missing, passed_at)


def pass_counts(result: CourseResult | None, course: TrainingCourse, today: date) -> str | None:
    """Whether a result's pass counts today: "current", "grace" (older revision, re-pass not yet
    due) or None (no pass, expired, or re-pass overdue)."""
    if result is None or result.passed_at is None or result.passed_revision is None:
        return None
    if result.expires_on and today > result.expires_on:
        return None
    if result.passed_revision >= course.revision:
        return "current"
    if result.recert_due_on and today <= result.recert_due_on:
        return "grace"
    return None


def course_status(user_id: int, course: TrainingCourse, *, today: date | None = None) -> str:
    """One of not_started / in_progress / passed / failed / overdue / recert_due for the matrix,
    the course page and 我的培训 (``course_statuses`` of one course)."""
    return course_statuses(user_id, [course], today=today)[course.id]


def course_statuses(user_id: int, courses: list[TrainingCourse], *, today: date | None = None) -> dict[int, str]:
    """``course_status`` of several courses for one agent ({course_id: status}) in at most six
    statements whatever their number (我的培训 and the home list every course of a new agent)."""
    found = course_statuses_many([user_id], courses, today=today)
    return {course.id: found[user_id, course.id] for course in courses}


def course_statuses_many(user_ids: list[int], courses: list[TrainingCourse], *,
                         today: date | None = None) -> dict[tuple[int, int], str]:
    """``course_status`` of every agent and course ({(user_id, course_id): status}) in at most six
    statements whatever their numbers (the certification matrix: a row per agent, a column per course)."""
    today = today or _today()
    user_ids = list(dict.fromkeys(user_ids))
    course_ids = [course.id for course in courses]
    found: dict[tuple[int, int], str] = {}
    if not user_ids or not course_ids:
        return found
    statements = _many_statements()
    # Rows of the columns ``pass_counts`` reads, not result objects.
    results = {(r.user_id, r.course_id): r for r in core_sql.execute(
        statements["results"], {"user_ids": user_ids, "course_ids": course_ids})}
    rest = []  # (user, course) pairs no result decides
    for user_id in user_ids:
        for course in courses:
            result = results.get((user_id, course.id))
            counts = pass_counts(result, course, today)
            if counts == "current":
                found[user_id, course.id] = PASSED
            elif counts == "grace":
                found[user_id, course.id] = RECERT_DUE
            elif result is not None and result.passed_at is not None:  # re-pass missed or expired
                found[user_id, course.id] = OVERDUE
            else:
                rest.append((user_id, course))
    if not rest:
        return found
    rest_users = list({user_id for user_id, _course in rest})
    rest_courses = list({course.id for _user_id, course in rest})
    rest_ids = {"user_ids": rest_users, "course_ids": rest_courses}
    due = {(user_id, course_id): due_on for user_id, course_id, due_on
           in core_sql.execute(statements["due"], rest_ids)}
    revision = {course.id: course.revision for course in courses}
    last: dict[tuple[int, int], bool | None] = {}  # the newest submitted attempt of the current revision: passed?
    for user_id, course_id, course_revision, passed in core_sql.execute(statements["submitted"], rest_ids):
        if course_revision == revision[course_id]:
            last.setdefault((user_id, course_id), passed)
    undecided = []
    for user_id, course in rest:
        key = (user_id, course.id)
        if due.get(key) and due[key] < today:
            found[key] = OVERDUE
        elif key in last:
            found[key] = FAILED if last[key] is False else IN_PROGRESS
        else:
            undecided.append(key)
    if undecided:
        users = list({user_id for user_id, _course_id in undecided})
        ids = list({course_id for _user_id, course_id in undecided})
        undecided_ids = {"user_ids": users, "course_ids": ids}
        started = set()
        for name in ("lessons_opened", "items_signed", "quiz_tried"):
            started |= {(u, c) for u, c in core_sql.execute(statements[name], undecided_ids)}
        for key in undecided:
            found[key] = IN_PROGRESS if key in started else NOT_STARTED
    return found


def _missing_line(course: TrainingCourse, quiz_missing: bool, missing_items: list[PracticalItem]) -> str:
    parts = [_("quiz")] if quiz_missing else []
    parts.extend(_("practical item “%(title)s”", title=item.title) for item in missing_items)
    if parts:
        return _("《%(course)s》: %(parts)s", course=course.title, parts=_("、").join(parts))
    return _("《%(course)s》", course=course.title)


def missing_reasons(user_id: int, *, today: date | None = None) -> list[str]:
    """Why an agent is not (or no longer) certified, one line per course: which course, and
    which of its parts (quiz, practical items) is missing. Empty when nothing is missing.

    Inside a request, an answer ``missing_reasons_many`` just computed for the whole team is
    reused (the lead's home asks it for the box and again for each agent's badge) until the
    session flushes or commits anything."""
    today = today or _today()
    memo = _reasons_memo()
    if memo is not None and (user_id, today) in memo and not (db.session.new or db.session.dirty
                                                              or db.session.deleted):
        return list(memo[(user_id, today)])
    return list(missing_reasons_many([user_id], today=today)[user_id])  # five statements, whatever the courses


def _reasons_memo() -> dict | None:
    from flask import g, has_app_context

    return g.get("_certification_reasons") if has_app_context() else None


# Anything written may change what an agent lacks: ``missing_reasons`` asks again.
forget_on_write("_certification_reasons", "_required_courses")


_MANY: dict[str, object] = {}


def _many_statements() -> dict:
    """``missing_reasons_many``'s and ``course_statuses_many``'s statements with their ids as
    parameters, built once per process."""
    if not _MANY:
        users, courses = bindparam("user_ids", expanding=True), bindparam("course_ids", expanding=True)
        _MANY.update(
            results=select(CourseResult.user_id, CourseResult.course_id, CourseResult.passed_at,
                           CourseResult.passed_revision, CourseResult.expires_on, CourseResult.recert_due_on)
            .where(CourseResult.user_id.in_(users), CourseResult.course_id.in_(courses)),
            with_quiz=select(TrainingQuestion.course_id).where(
                TrainingQuestion.course_id.in_(courses), TrainingQuestion.is_active.is_(True)).distinct(),
            quiz_passed=select(QuizAttempt.user_id, QuizAttempt.course_id, QuizAttempt.course_revision).where(
                QuizAttempt.user_id.in_(users), QuizAttempt.course_id.in_(courses),
                QuizAttempt.is_archived.is_(False), QuizAttempt.passed.is_(True)).distinct(),
            items=select(PracticalItem).where(PracticalItem.course_id.in_(courses), PracticalItem.is_active.is_(True))
            .order_by(PracticalItem.course_id, PracticalItem.position),
            signoffs=select(PracticalSignoff.user_id, PracticalSignoff.item_id, PracticalSignoff.course_revision,
                            PracticalSignoff.passed)
            .where(PracticalSignoff.user_id.in_(users),
                   PracticalSignoff.item_id.in_(bindparam("item_ids", expanding=True)),
                   PracticalSignoff.is_archived.is_(False))
            .order_by(PracticalSignoff.signed_at.desc(), PracticalSignoff.id.desc()),
            # course_statuses_many
            due=select(TrainingAssignment.user_id, TrainingAssignment.course_id, TrainingAssignment.due_on)
            .where(TrainingAssignment.user_id.in_(users), TrainingAssignment.course_id.in_(courses)),
            submitted=select(QuizAttempt.user_id, QuizAttempt.course_id, QuizAttempt.course_revision,
                             QuizAttempt.passed)
            .where(QuizAttempt.user_id.in_(users), QuizAttempt.course_id.in_(courses),
                   QuizAttempt.is_archived.is_(False), QuizAttempt.submitted_at.is_not(None))
            .order_by(QuizAttempt.submitted_at.desc()),
            lessons_opened=select(LessonProgress.user_id, TrainingLesson.course_id)
            .join(TrainingLesson, TrainingLesson.id == LessonProgress.lesson_id)
            .where(LessonProgress.user_id.in_(users), TrainingLesson.course_id.in_(courses)).distinct(),
            items_signed=select(PracticalSignoff.user_id, PracticalItem.course_id)
            .join(PracticalItem, PracticalItem.id == PracticalSignoff.item_id)
            .where(PracticalSignoff.user_id.in_(users), PracticalItem.course_id.in_(courses),
                   PracticalSignoff.is_archived.is_(False)).distinct(),
            quiz_tried=select(QuizAttempt.user_id, QuizAttempt.course_id)
            .where(QuizAttempt.user_id.in_(users), QuizAttempt.course_id.in_(courses),
                   QuizAttempt.is_archived.is_(False)).distinct(),
        )
    return _MANY


def parts_missing(user_ids: list[int], courses: list[TrainingCourse]) -> dict[tuple[int, int], tuple]:
    """``{(user_id, course_id): (quiz missing, [active practical items without a passed sign-off])}``
    for the courses' current revisions (``standing``'s answer, without the times), in four
    statements whatever the numbers of agents and courses."""
    found: dict[tuple[int, int], tuple] = {}
    if not user_ids or not courses:
        return found
    statements = _many_statements()
    course_ids = [course.id for course in courses]
    ids = {"user_ids": list(user_ids), "course_ids": course_ids}
    with_quiz = set(core_sql.execute(statements["with_quiz"], {"course_ids": course_ids}).scalars())
    revision = {course.id: course.revision for course in courses}
    quiz_passed = {(user_id, course_id) for user_id, course_id, course_revision
                   in core_sql.execute(statements["quiz_passed"], ids)
                   if course_revision == revision[course_id]}
    items: dict[int, list[PracticalItem]] = {course.id: [] for course in courses}  # active_items of each, at once
    for item in db.session.scalars(statements["items"], {"course_ids": course_ids}):
        items[item.course_id].append(item)
    item_course = {item.id: course_id for course_id, its in items.items() for item in its}
    latest: dict[tuple[int, int], bool] = {}  # (user, item) -> the newest kept sign-off of the revision passed
    if item_course:
        for user_id, item_id, course_revision, passed in core_sql.execute(
                statements["signoffs"], {"user_ids": list(user_ids), "item_ids": list(item_course)}):
            if course_revision == revision[item_course[item_id]]:
                latest.setdefault((user_id, item_id), bool(passed))
    for user_id in user_ids:
        for course in courses:
            found[user_id, course.id] = (
                course.id in with_quiz and (user_id, course.id) not in quiz_passed,
                [item for item in items[course.id] if not latest.get((user_id, item.id), False)])
    return found


def missing_reasons_many(user_ids, *, today: date | None = None) -> dict[int, list[str]]:
    """``missing_reasons`` of many agents at once ({user_id: lines}), in five statements whatever
    their number (the lead's home lists the whole team's agents who are not live)."""
    today = today or _today()
    user_ids = list(dict.fromkeys(user_ids))
    found: dict[int, list[str]] = {user_id: [] for user_id in user_ids}
    courses = required_courses()
    if not user_ids or not courses:
        return found
    course_ids = [course.id for course in courses]
    ids = {"user_ids": user_ids, "course_ids": course_ids}
    # Rows of the columns ``pass_counts`` reads, not result objects.
    results = {(r.user_id, r.course_id): r for r in core_sql.execute(_many_statements()["results"], ids)}
    parts = parts_missing(user_ids, courses)
    lines: dict[tuple, str] = {}  # agents missing the same parts share one line (worded once)
    for user_id in user_ids:
        for course in courses:
            if pass_counts(results.get((user_id, course.id)), course, today) is not None:
                continue
            quiz_missing, missing = parts[user_id, course.id]
            key = (course.id, quiz_missing, *(item.id for item in missing))
            if key not in lines:
                lines[key] = _missing_line(course, quiz_missing, missing)
            found[user_id].append(lines[key])
    from flask import g, has_app_context

    if has_app_context() and not (db.session.new or db.session.dirty or db.session.deleted):
        memo = g.setdefault("_certification_reasons", {})
        memo.update({(user_id, today): lines for user_id, lines in found.items()})
    return found


@dataclass
class DueItem:
    """A course an agent still has to (re-)pass: its status and the date it is due (if any)."""

    course: TrainingCourse
    status: str
    due_on: date | None

    @property
    def label(self) -> str:
        """The status in words."""
        return status_label(self.status)


def _due_statement():
    """The courses ``due_for`` looks at (published and 上岗必修, or assigned to the agent and not
    completed) with what ``course_status`` reads for each: the agent's result, assignment, last
    submitted attempt of the current revision (0 failed, 1 passed, 2 not scored) and whether
    anything was started (a lesson opened, a sign-off kept, an attempt kept). One statement."""
    user_id = bindparam("user_id")
    course = TrainingCourse
    assigned = select(TrainingAssignment.course_id).where(
        TrainingAssignment.user_id == user_id, TrainingAssignment.completed_at.is_(None))
    last_attempt = (
        select(func.coalesce(cast(QuizAttempt.passed, Integer), 2))
        .where(QuizAttempt.user_id == user_id, QuizAttempt.course_id == course.id,
               QuizAttempt.is_archived.is_(False), QuizAttempt.submitted_at.is_not(None),
               QuizAttempt.course_revision == course.revision)
        .order_by(QuizAttempt.submitted_at.desc()).limit(1).scalar_subquery()
    )
    started = or_(
        select(LessonProgress.id).join(TrainingLesson, TrainingLesson.id == LessonProgress.lesson_id).where(
            LessonProgress.user_id == user_id, TrainingLesson.course_id == course.id).exists(),
        select(PracticalSignoff.id).join(PracticalItem, PracticalItem.id == PracticalSignoff.item_id).where(
            PracticalSignoff.user_id == user_id, PracticalItem.course_id == course.id,
            PracticalSignoff.is_archived.is_(False)).exists(),
        select(QuizAttempt.id).where(QuizAttempt.user_id == user_id, QuizAttempt.course_id == course.id,
                                     QuizAttempt.is_archived.is_(False)).exists(),
    )
    return (
        select(course, CourseResult, TrainingAssignment, last_attempt.label("last_attempt"), started.label("started"))
        .outerjoin(CourseResult, and_(CourseResult.user_id == user_id, CourseResult.course_id == course.id))
        .outerjoin(TrainingAssignment, and_(TrainingAssignment.user_id == user_id,
                                            TrainingAssignment.course_id == course.id))
        .where(course.status == CourseStatus.PUBLISHED.value,
               or_(course.required_for_live.is_(True), course.id.in_(assigned)))
        .order_by(course.required_for_live.is_(False), course.id)
    )


_DUE = None


def due_for(user_id: int, *, today: date | None = None) -> list[DueItem]:
    """What an agent still has to do: required courses whose pass does not count (or counts only
    until a re-pass date) and assigned courses not yet completed, earliest due first. One
    statement (``_due_statement``); each status is ``course_status``'s."""
    global _DUE
    today = today or _today()
    if _DUE is None:
        _DUE = _due_statement()
    items = []
    for course, result, assignment, last_attempt, started in db.session.execute(_DUE, {"user_id": user_id}):
        counts = pass_counts(result, course, today)
        if counts == "current":
            continue  # PASSED
        if counts == "grace":
            status = RECERT_DUE
        elif result is not None and result.passed_at is not None:  # re-pass missed or expired
            status = OVERDUE
        elif assignment and assignment.due_on and assignment.due_on < today:
            status = OVERDUE
        elif last_attempt == 0:
            status = FAILED
        elif last_attempt is not None or started:
            status = IN_PROGRESS
        else:
            status = NOT_STARTED
        due = result.recert_due_on if status == RECERT_DUE and result else None
        if due is None and assignment is not None and assignment.completed_at is None:
            due = assignment.due_on
        items.append(DueItem(course, status, due))
    return sorted(items, key=lambda i: (i.due_on is None, i.due_on or today, i.course.title))


# --------------------------------------------------------------------------- maintaining


def _result(user_id: int, course_id: int) -> CourseResult:
    result = result_for(user_id, course_id)
    if result is None:
        result = CourseResult(user_id=user_id, course_id=course_id)
        db.session.add(result)
    return result


def evaluate(user_id: int, course: TrainingCourse) -> CourseResult | None:
    """Bring the agent's result for ``course`` up to date with their attempts and sign-offs:
    a complete current revision becomes the pass (re-pass and lapse cleared, expiry set)."""
    st = standing(user_id, course)
    result = result_for(user_id, course.id)
    if st.quiz_passed_at and (result is None or result.quiz_passed_at != st.quiz_passed_at):
        result = _result(user_id, course.id)
        result.quiz_passed_at = st.quiz_passed_at
    if st.complete and (result is None or result.passed_revision is None
                        or result.passed_revision < course.revision or result.passed_at is None
                        or result.lapsed_at is not None
                        or (result.expires_on is not None and _today() > result.expires_on)):
        result = _result(user_id, course.id)
        result.passed_at = st.passed_at
        result.passed_revision = course.revision
        result.recert_due_on = None
        result.lapsed_at = None
        result.expires_on = (_today(st.passed_at) + timedelta(days=course.valid_days)) if course.valid_days else None
        assignment = db.session.scalar(select(TrainingAssignment).where(
            TrainingAssignment.user_id == user_id, TrainingAssignment.course_id == course.id))
        if assignment is not None and assignment.completed_at is None:
            assignment.completed_at = st.passed_at
    return result


def recompute(user_id: int, *, now: datetime | None = None) -> AgentCertification | None:
    """Recompute an agent's going-live state from their course results (same transaction as the
    caller). Certified when every required course's pass counts; flagged while some count only
    in grace (re-pass due); lapsed when a live agent stops counting; none otherwise. With no
    required course nothing is written (everyone counts as certified)."""
    now = now or _now()
    today = _today(now)
    user = db.session.get(User, user_id)
    if user is None:
        return None
    courses = required_courses()
    if not courses:
        return certification_for(user_id)
    cert = certification_for(user_id)
    if cert is None:
        cert = AgentCertification(user_id=user_id, state=CertificationState.NONE.value)
        db.session.add(cert)
    was = cert.state
    counts = [(course, pass_counts(result_for(user_id, course.id), course, today)) for course in courses]
    grace_dues = [result_for(user_id, c.id).recert_due_on for c, k in counts if k == "grace"]
    if all(k == "current" for _c, k in counts):
        if was not in LIVE_STATES or cert.certified_at is None:
            cert.certified_at = now
        cert.state = CertificationState.CERTIFIED.value
        cert.flagged_until = None
        cert.lapsed_at = None
        cert.reason = ""
    elif all(k is not None for _c, k in counts) and was in LIVE_STATES:
        cert.state = CertificationState.FLAGGED.value
        cert.flagged_until = min(d for d in grace_dues if d)
        cert.reason = "；".join(_("《%(course)s》 re-pass due %(due)s", course=c.title,
                                  due=result_for(user_id, c.id).recert_due_on.isoformat())
                               for c, k in counts if k == "grace")[:500]
    else:
        if was in LIVE_STATES or was == CertificationState.LAPSED.value:
            cert.state = CertificationState.LAPSED.value
            if cert.lapsed_at is None:
                cert.lapsed_at = now
        else:
            cert.state = CertificationState.NONE.value
        cert.flagged_until = None
        cert.reason = "；".join(missing_reasons(user_id, today=today))[:500]
    if cert.state != was:
        auditing.record(None, "training.certification", "user", user_id,
                        f"{user.username}: {state_label(was)} → {state_label(cert.state)}",
                        before={"state": was}, after={"state": cert.state})
    return cert


def on_quiz_scored(attempt: QuizAttempt) -> None:
    """After T2 scored an attempt (same transaction): update the course result and the agent's
    going-live state."""
    course = attempt.course or db.session.get(TrainingCourse, attempt.course_id)
    db.session.flush()
    evaluate(attempt.user_id, course)
    recompute(attempt.user_id)


def on_course_published(course: TrainingCourse, required_change: bool, actor: User | None) -> None:
    """After T1 published a course (same transaction). For a 上岗必修 course: agents who were live
    and have no pass of the current revision get a re-pass due date (``recert_days``, default 14)
    and are flagged; everyone's state is recomputed (a new required course makes agents who never
    went live still not live)."""
    db.session.flush()
    if course.status != CourseStatus.PUBLISHED.value:
        return
    today = _today()
    due = today + timedelta(days=course.recert_days or 14)
    agents = list(db.session.scalars(select(User).where(User.role == Role.AGENT.value)))
    if course.required_for_live:
        for agent in agents:
            cert = certification_for(agent.id)
            if cert is None or cert.state not in LIVE_STATES:
                continue
            result = result_for(agent.id, course.id)
            if result is not None and result.passed_at and (result.passed_revision or 0) >= course.revision:
                continue
            result = _result(agent.id, course.id)
            if result.recert_due_on is None or result.recert_due_on < today:
                result.recert_due_on = due
            if result.passed_at is None:  # a new required course: the grace counts as an old pass
                result.passed_at = _now()
                result.passed_revision = -1
            db.session.flush()
    for agent in agents:
        recompute(agent.id)
    if required_change and course.required_for_live:
        auditing.record(actor, "training.recert", "training_course", course.id,
                        _("%(title)s (revision %(revision)d): re-pass by %(due)s", title=course.title,
                          revision=course.revision, due=due.isoformat()))


def lapse_due(now: datetime | None = None) -> list[int]:
    """Recompute every agent whose flag or pass has run out (periodic; idempotent). Returns the
    ids of agents whose state changed to lapsed."""
    now = now or _now()
    today = _today(now)
    ids = set(db.session.scalars(select(AgentCertification.user_id).where(
        AgentCertification.state.in_(LIVE_STATES),
        AgentCertification.flagged_until.is_not(None), AgentCertification.flagged_until < today)))
    ids |= set(db.session.scalars(select(CourseResult.user_id).join(
        AgentCertification, AgentCertification.user_id == CourseResult.user_id).where(
        AgentCertification.state.in_(LIVE_STATES), CourseResult.expires_on.is_not(None),
        CourseResult.expires_on < today)))
    lapsed = []
    for user_id in sorted(ids):
        cert = recompute(user_id, now=now)
        if cert is not None and cert.state == CertificationState.LAPSED.value:
            lapsed.append(user_id)
    return lapsed


# --------------------------------------------------------------------------- sign-off and reset


def may_sign_off(actor: User, agent: User) -> bool:
    """Trainers and admins sign off anyone; a lead only the agents of their own team."""
    if not has_permission(actor, Permission.SIGN_OFF_PRACTICAL):
        return False
    if actor.role == Role.LEAD.value:
        return bool(actor.team_id) and agent.team_id == actor.team_id and agent.id != actor.id
    return True


def record_signoff(actor: User, user_id: int, item_id: int, *, passed: bool, score: int | None,
                   ticked: list[int] | list[str], comment: str) -> PracticalSignoff:
    """Record the outcome of one practical item for an agent: the item's checklist with each line
    ticked or not (``ticked``: indexes of the ticked lines), a score (0-100, required when the
    item has a pass score, which then decides with the verdict), a comment. Keeps earlier
    sign-offs; updates the course result and the going-live state; audited; commits."""
    ensure(actor, Permission.SIGN_OFF_PRACTICAL)
    agent = db.session.get(User, user_id)
    item = db.session.get(PracticalItem, item_id)
    if agent is None or item is None or not item.is_active:
        raise NotFound()
    if not may_sign_off(actor, agent):
        raise PermissionDenied(Permission.SIGN_OFF_PRACTICAL)
    if agent.role != Role.AGENT.value:
        raise ValidationError({"user_id": _("Only agents are signed off.")})
    errors = {}
    if score is not None and not 0 <= score <= 100:
        errors["score"] = _("The score is 0 to 100.")
    if item.pass_score is not None and score is None:
        errors["score"] = _("Enter the score (pass mark %(n)s).", n=item.pass_score)
    comment = (comment or "").strip()
    if len(comment) > 2000:
        errors["comment"] = _("At most 2000 characters.")
    if passed and not comment and not item.checklist:
        errors["comment"] = _("Say what was observed.")
    if errors:
        raise ValidationError(errors)
    marks = {int(i) for i in ticked if str(i).isdigit()}
    lines = [{"text": text, "ok": index in marks} for index, text in enumerate(item.checklist or [])]
    verdict = bool(passed) and (item.pass_score is None or (score or 0) >= item.pass_score)
    course = item.course
    signoff = PracticalSignoff(item_id=item.id, user_id=agent.id, course_revision=course.revision, passed=verdict,
                               score=score, checklist=lines, comment=comment, signed_by_id=actor.id,
                               signed_at=_now())
    db.session.add(signoff)
    db.session.flush()
    auditing.record(actor, "training.signoff", "user", agent.id,
                    f"{agent.username} · {course.title} · {item.title}: {_('passed') if verdict else _('not passed yet')}",
                    after={"item_id": item.id, "passed": verdict, "score": score})
    from ...notifications.service import notify
    notify(agent, "training_signoff",
           _("Practical item “%(title)s”: %(verdict)s", title=item.title,
             verdict=_("passed") if verdict else _("not passed yet")),
           comment[:300], f"/training/courses/{course.id}")
    evaluate(agent.id, course)
    recompute(agent.id)
    db.session.commit()
    return signoff


def reset_attempts(actor: User, user_id: int, course_id: int, note: str) -> int:
    """Archive one agent's attempts and sign-offs of a course (never deleted) with a note, so they
    start that course afresh; their pass of it is withdrawn and their going-live state recomputed.
    Audited; commits. Returns how many attempts and sign-offs were archived."""
    ensure(actor, Permission.RESET_TRAINING)
    agent = db.session.get(User, user_id)
    course = db.session.get(TrainingCourse, course_id)
    if agent is None or course is None:
        raise NotFound()
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why the attempts are reset.")})
    if len(note) > 500:
        raise ValidationError({"note": _("At most 500 characters.")})
    now = _now()
    count = 0
    for attempt in db.session.scalars(select(QuizAttempt).where(
            QuizAttempt.user_id == agent.id, QuizAttempt.course_id == course.id, QuizAttempt.is_archived.is_(False))):
        attempt.is_archived = True
        attempt.archived_at = now
        attempt.archive_note = note
        count += 1
    for signoff in db.session.scalars(select(PracticalSignoff).join(
            PracticalItem, PracticalItem.id == PracticalSignoff.item_id).where(
            PracticalSignoff.user_id == agent.id, PracticalItem.course_id == course.id,
            PracticalSignoff.is_archived.is_(False))):
        signoff.is_archived = True
        count += 1
    result = result_for(agent.id, course.id)
    before = {}
    if result is not None:
        before = {"passed_at": result.passed_at.isoformat() if result.passed_at else None}
        result.passed_at = None
        result.passed_revision = None
        result.quiz_passed_at = None
        result.recert_due_on = None
        result.expires_on = None
        result.lapsed_at = None
    auditing.record(actor, "training.reset", "user", agent.id,
                    f"{agent.username} · {course.title}: {note}"[:200],
                    before=before or None, after={"archived": count, "note": note} if before else None)
    db.session.flush()
    recompute(agent.id)
    db.session.commit()
    return count
