"""我的培训: what an agent has to do today, next and overdue, and how far each course is (no request)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from ...extensions import db
from ...models.training import CourseStatus, PracticalSignoff, TrainingCourse
from ...permissions import Permission, ensure
from ..courses import service as courses
from ..programmes import service as programmes


def _course_status(user_id: int, course: TrainingCourse) -> str:
    from ..certification import service as certification

    return certification.course_status(user_id, course)


def _passed_items(user_id: int, item_ids: list[int]) -> set[int]:
    if not item_ids:
        return set()
    return set(db.session.scalars(select(PracticalSignoff.item_id).where(
        PracticalSignoff.user_id == user_id, PracticalSignoff.item_id.in_(item_ids),
        PracticalSignoff.passed.is_(True), PracticalSignoff.is_archived.is_(False))))


def overview(user, today: date) -> dict:
    """The agent's page: programme day (第N天), each assigned course with lessons done, status and due
    date, today's items, the next thing to do, what is overdue, and other published courses."""
    ensure(user, Permission.VIEW_TRAINING)
    enrollment = programmes.enrollment_of(user.id)
    day_number = (today - enrollment.start_date).days + 1 if enrollment else None
    assignments = programmes.assignments_for(user.id)
    done = courses.progress_by_course(user.id, [a.course_id for a in assignments])
    rows = []
    for assignment in assignments:
        course = assignment.course
        total = len(course.lessons)
        status = _course_status(user.id, course)
        finished = status == "passed"
        rows.append({
            "assignment": assignment, "course": course, "done": done.get(course.id, 0), "total": total,
            "percent": round(100 * done.get(course.id, 0) / total) if total else 0, "status": status,
            "finished": finished, "due_on": assignment.due_on,
            "overdue": not finished and assignment.due_on is not None and assignment.due_on < today,
            "due_today": not finished and assignment.due_on == today,
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
    open_rows = [r for r in rows if not r["finished"]]
    assigned_ids = {a.course_id for a in assignments}
    others = [c for c in db.session.scalars(select(TrainingCourse).where(
        TrainingCourse.status == CourseStatus.PUBLISHED).order_by(TrainingCourse.title)) if c.id not in assigned_ids]
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
