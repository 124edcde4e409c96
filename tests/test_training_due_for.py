"""``certification.due_for`` reads everything in one statement; it lists what the course-by-course
reading (``required_courses`` + the open assignments, ``course_status`` and ``result_for`` per
course: the earlier implementation, kept here as the reference) lists, in the same order."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models.training import CourseResult, QuizAttempt, TrainingAssignment
from kdcs.training.certification import service
from tests import factories
from tests.sql_statements import statements
from tests.training_cert_data import certify, make_course, sign_off, take_quiz


def reference_due_for(user_id, today):
    """The course-by-course ``due_for`` (before the one statement)."""
    courses = {c.id: c for c in service.required_courses()}
    assignments = {a.course_id: a for a in db.session.scalars(select(TrainingAssignment).where(
        TrainingAssignment.user_id == user_id, TrainingAssignment.completed_at.is_(None)))}
    for course_id, assignment in assignments.items():
        if assignment.course.status == "published":
            courses.setdefault(course_id, assignment.course)
    items = []
    for course in courses.values():
        status = service.course_status(user_id, course, today=today)
        if status == service.PASSED:
            continue
        result = service.result_for(user_id, course.id)
        due = result.recert_due_on if status == service.RECERT_DUE and result else None
        if due is None and course.id in assignments:
            due = assignments[course.id].due_on
        items.append(service.DueItem(course, status, due))
    return sorted(items, key=lambda i: (i.due_on is None, i.due_on or today, i.course.title))


def shown(items):
    return [(item.course.id, item.status, item.due_on) for item in items]


def assign(user, course, due_on, completed=False):
    db.session.add(TrainingAssignment(user_id=user.id, course_id=course.id, due_on=due_on,
                                      completed_at=service._now() if completed else None))
    db.session.commit()


def test_due_for_in_one_statement_matches_the_course_by_course_reading(users):
    today = service._today()
    agent, other = users.agent, factories.make_user("agent", username="due_other", team=users.team)
    trainer = factories.make_user("trainer", username="due_trainer")
    fresh = make_course("A 未开始")
    failed = make_course("B 未通过")
    take_quiz(agent, failed, False)
    passed = make_course("C 已通过")
    certify(agent, passed, trainer)
    grace = make_course("D 待复训")
    certify(agent, grace, trainer)
    expired = make_course("E 已过期", valid_days=30)
    certify(agent, expired, trainer)
    late = make_course("F 指派逾期", required=False)
    assign(agent, late, today - timedelta(days=2))
    started = make_course("G 学习中", required=False, questions=0)
    assign(agent, started, today + timedelta(days=5))
    sign_off(trainer, agent, started, passed=False)
    draft = make_course("H 草稿", required=False, published=False)
    assign(agent, draft, today)
    done = make_course("I 已完成指派", required=False)
    assign(agent, done, today, completed=True)
    due_later = make_course("J 必修有期限")
    assign(agent, due_later, today + timedelta(days=1))
    open_attempt = make_course("K 答题中", required=False)
    assign(agent, open_attempt, None)
    db.session.add(QuizAttempt(course_id=open_attempt.id, user_id=agent.id, number=1, course_revision=1,
                               started_at=service._now()))
    required_done = make_course("L 必修指派已完成")  # an assignment marked done gives no due date
    assign(agent, required_done, today + timedelta(days=9), completed=True)
    take_quiz(other, fresh, False)  # another agent's attempt changes nothing for this one
    grace.revision += 1
    result = db.session.scalar(select(CourseResult).where(CourseResult.user_id == agent.id,
                                                          CourseResult.course_id == grace.id))
    result.recert_due_on = today + timedelta(days=3)
    expired_result = db.session.scalar(select(CourseResult).where(CourseResult.user_id == agent.id,
                                                                  CourseResult.course_id == expired.id))
    expired_result.expires_on = today - timedelta(days=1)
    db.session.commit()

    expected = reference_due_for(agent.id, today)
    statuses = {course_id: status for course_id, status, _due in shown(expected)}
    assert statuses == {fresh.id: service.NOT_STARTED, failed.id: service.FAILED, grace.id: service.RECERT_DUE,
                        expired.id: service.OVERDUE, late.id: service.OVERDUE, started.id: service.IN_PROGRESS,
                        due_later.id: service.NOT_STARTED, open_attempt.id: service.IN_PROGRESS,
                        required_done.id: service.NOT_STARTED}
    with statements() as seen:
        got = service.due_for(agent.id, today=today)
    assert shown(got) == shown(expected)
    assert len(seen) == 1, seen
    for user in (other, users.lead):
        assert shown(service.due_for(user.id, today=today)) == shown(reference_due_for(user.id, today))
    assert shown(service.due_for(other.id, today=today + timedelta(days=400))) == shown(
        reference_due_for(other.id, today + timedelta(days=400)))
