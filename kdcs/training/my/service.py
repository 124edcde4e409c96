"""我的培训: what an agent has to do today, next and overdue, and how far each course is (no request)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import inspect, select
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import set_committed_value

from ...extensions import db
from ...models.training import CourseStatus, PracticalSignoff, TrainingCourse, TrainingLesson
from ...models.user import Role
from ...permissions import Permission, ensure
from ..courses import service as courses
from ..programmes import service as programmes


def _course_statuses(user_id: int, courses: list[TrainingCourse]) -> dict[int, str]:
    from ..certification import service as certification

    return certification.course_statuses(user_id, courses)


def _load_lessons(courses: list[TrainingCourse]) -> None:
    """Every course's lessons in one statement (each ``course.lessons`` was a lazy load), without
    their Markdown bodies (the overview shows titles; a body read later loads on its own)."""
    unloaded = {course.id: course for course in courses if "lessons" not in inspect(course).dict}
    if not unloaded:
        return
    by_course: dict[int, list[TrainingLesson]] = {course_id: [] for course_id in unloaded}
    for lesson in db.session.scalars(
            select(TrainingLesson).where(TrainingLesson.course_id.in_(list(unloaded)))
            .options(defer(TrainingLesson.body))
            .order_by(TrainingLesson.course_id, TrainingLesson.position, TrainingLesson.id)):
        by_course[lesson.course_id].append(lesson)
    for course_id, lessons in by_course.items():
        set_committed_value(unloaded[course_id], "lessons", lessons)


def _needs_to_go_live(user) -> bool:
    from ..certification import gate

    return user.role == Role.AGENT.value and not gate.is_certified(user)


def _required_courses() -> list[TrainingCourse]:
    from ..certification import service as certification

    return certification.required_courses()


def _waiting_for_signoff(user_id: int, courses: list[TrainingCourse]) -> set[int]:
    """The courses whose quiz is passed (or that have none) and only practical items wait for a
    trainer, in four statements (``certification.parts_missing``)."""
    from ..certification import service as certification

    parts = certification.parts_missing([user_id], courses)
    return {course.id for course in courses
            if parts[user_id, course.id][1] and not parts[user_id, course.id][0]}


def _passed_items(user_id: int, item_ids: list[int]) -> set[int]:
    if not item_ids:
        return set()
    return set(db.session.scalars(select(PracticalSignoff.item_id).where(
        PracticalSignoff.user_id == user_id, PracticalSignoff.item_id.in_(item_ids),
        PracticalSignoff.passed.is_(True), PracticalSignoff.is_archived.is_(False))))


def overview(user, today: date, *, others: bool = True) -> dict:
    """The agent's page: programme day (第N天), each assigned course with lessons done, status and due
    date (for an agent who is not live also the 上岗必修 courses not yet passed, assigned or not), which
    course waits only for a trainer's sign-off, today's items, the next thing to do (a course with work
    for the agent), what is overdue, and other published courses (``others=False``: not read, an
    empty list; the home page does not show them)."""
    ensure(user, Permission.VIEW_TRAINING)
    enrollment = programmes.enrollment_of(user.id)
    day_number = (today - enrollment.start_date).days + 1 if enrollment else None
    assignments = programmes.assignments_for(user.id)
    done = courses.progress_by_course(user.id, [a.course_id for a in assignments])
    pairs = [(assignment, assignment.course) for assignment in assignments]
    assigned_ids = {a.course_id for a in assignments}
    if _needs_to_go_live(user):
        # An agent who is not live owns the required courses they have not passed, assigned or not.
        pairs += [(None, course) for course in _required_courses() if course.id not in assigned_ids]
        done.update(courses.progress_by_course(user.id, [c.id for a, c in pairs if a is None]))
    statuses = _course_statuses(user.id, [course for _assignment, course in pairs])
    _load_lessons([course for _assignment, course in pairs])
    # lessons all read and not passed: does only a trainer's sign-off wait? (one batch for all)
    waiting_ids = _waiting_for_signoff(user.id, [
        course for _assignment, course in pairs
        if statuses[course.id] != "passed" and done.get(course.id, 0) >= len(course.lessons)])
    rows = []
    for assignment, course in pairs:
        total = len(course.lessons)
        status = statuses[course.id]
        finished = status == "passed"
        if assignment is None and finished:
            continue
        due_on = assignment.due_on if assignment else None
        count = done.get(course.id, 0)
        waiting = course.id in waiting_ids
        rows.append({
            "assignment": assignment, "course": course, "done": count, "total": total,
            "percent": round(100 * count / total) if total else 0, "status": status,
            "finished": finished, "due_on": due_on, "unassigned_required": assignment is None,
            # lessons read and quiz passed: only a trainer's practical sign-off is missing
            "awaiting_signoff": waiting,
            "overdue": not finished and due_on is not None and due_on < today,
            "due_today": not finished and due_on == today,
        })
    plan = []
    if enrollment is not None:
        practical_ids = [i.practical_item_id for i in enrollment.programme.items if i.practical_item_id]
        passed = _passed_items(user.id, practical_ids)
        for item in enrollment.programme.items:
            if item.practical_item is None or not item.practical_item.is_active:
                continue
            due_on = enrollment.start_date + timedelta(days=item.day_offset - 1)
            finished = item.practical_item_id in passed
            plan.append({"item": item, "practical": item.practical_item, "due_on": due_on, "finished": finished,
                         "overdue": not finished and due_on < today, "due_today": not finished and due_on == today})
    # the next step is the first course with work the agent can do (not one waiting for a sign-off)
    open_rows = [r for r in rows if not r["finished"] and not r["awaiting_signoff"]]
    shown_ids = {r["course"].id for r in rows}
    others = [c for c in db.session.scalars(select(TrainingCourse).where(
        TrainingCourse.status == CourseStatus.PUBLISHED).order_by(TrainingCourse.title))
        if c.id not in shown_ids] if others else []
    next_row = open_rows[0] if open_rows else None
    next_lesson = None
    if next_row is not None:
        states = courses.lesson_states(user.id, [lesson.id for lesson in next_row["course"].lessons])
        next_lesson = next((lesson for lesson in next_row["course"].lessons
                            if not (states.get(lesson.id) and states[lesson.id].completed_at)), None)
    return {
        "next_lesson": next_lesson,
        "enrollment": enrollment,
        "day_number": day_number,
        "rows": rows,
        "plan": plan,
        "today": [r for r in rows if r["due_today"]] + [p for p in plan if p["due_today"]],
        "overdue": [r for r in rows if r["overdue"]] + [p for p in plan if p["overdue"]],
        "next": next_row,
        "others": others,
    }
