"""Shared builders for the certification tests: a published 上岗必修 course with questions and a
practical item, and quiz attempts recorded the way T2's scorer leaves them (then the hook)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kdcs.extensions import db
from kdcs.models.training import (
    CourseStatus,
    PracticalItem,
    QuizAttempt,
    TrainingCourse,
    TrainingQuestion,
)
from kdcs.training.certification import service


def make_course(title: str = "品牌规则与条款", *, required: bool = True, published: bool = True,
                questions: int = 2, items: int = 1, valid_days: int | None = None) -> TrainingCourse:
    """A course with ``questions`` active questions and ``items`` practical items (checklist of two)."""
    course = TrainingCourse(title=title, required_for_live=required,
                            status=CourseStatus.PUBLISHED if published else CourseStatus.DRAFT,
                            revision=1 if published else 0, valid_days=valid_days,
                            published_at=datetime.now(UTC) if published else None)
    db.session.add(course)
    db.session.flush()
    for n in range(questions):
        db.session.add(TrainingQuestion(course_id=course.id, text=f"题{n}", options=[{"key": "a", "text": "是"}],
                                        correct=["a"]))
    for n in range(items):
        db.session.add(PracticalItem(course_id=course.id, position=n, title=f"情景模拟{n + 1}",
                                     checklist=["开场白规范", "核实运单号"]))
    db.session.commit()
    return course


def take_quiz(user, course: TrainingCourse, passed: bool, *, when: datetime | None = None) -> QuizAttempt:
    """A submitted attempt (as T2 scores it) and the certification hook; commits."""
    when = when or datetime.now(UTC)
    number = 1 + db.session.query(QuizAttempt).filter_by(user_id=user.id, course_id=course.id).count()
    attempt = QuizAttempt(course_id=course.id, user_id=user.id, number=number, course_revision=course.revision,
                          started_at=when - timedelta(minutes=5), submitted_at=when, total=10,
                          correct_count=10 if passed else 5, score_percent=100 if passed else 50, passed=passed)
    db.session.add(attempt)
    db.session.flush()
    service.on_quiz_scored(attempt)
    db.session.commit()
    return attempt


def sign_off(actor, user, course: TrainingCourse, passed: bool = True):
    """Sign off every active practical item of the course for ``user``."""
    return [service.record_signoff(actor, user.id, item.id, passed=passed, score=95, ticked=[0, 1],
                                   comment="表现良好") for item in service.active_items(course)]


def certify(user, course: TrainingCourse, trainer) -> None:
    """Pass the quiz and every practical item of ``course``."""
    take_quiz(user, course, True)
    sign_off(trainer, user, course)


def certify_in(app, usernames) -> None:
    """Certify (上岗) agents created in a browser-test world after the demo (whose 上岗必修 courses
    would otherwise keep them out of outlet, ticket and substitute choosers)."""
    from sqlalchemy import select

    from kdcs.models import User
    from kdcs.training.certification.demo import certify_agent

    with app.test_request_context("/"):
        for username in usernames:
            certify_agent(db.session.scalar(select(User).where(User.username == username)))
