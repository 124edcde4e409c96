"""The demo agents' training stages (kdcs/training/certification/demo.py through seed_demo): who is
certified, flagged, in progress, failed and waiting, overdue, never certified (agent12); the rest
of the demo still seeds and a second run changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from kdcs.demo import seed_demo
from kdcs.extensions import db
from kdcs.models import User
from kdcs.models.training import (
    CertificationState,
    LessonProgress,
    PracticalItem,
    PracticalSignoff,
    QuizAttempt,
    TrainingAssignment,
    TrainingCourse,
    TrainingLesson,
)
from kdcs.training.certification import gate, matrix, service


def reference_course_status(user_id, course, today):
    """The course-by-course status (before ``course_statuses``), kept here as the reference."""
    result = service.result_for(user_id, course.id)
    counts = service.pass_counts(result, course, today)
    if counts == "current":
        return service.PASSED
    if counts == "grace":
        return service.RECERT_DUE
    if result is not None and result.passed_at is not None:  # re-pass missed or expired
        return service.OVERDUE
    assignment = db.session.scalar(select(TrainingAssignment).where(
        TrainingAssignment.user_id == user_id, TrainingAssignment.course_id == course.id))
    if assignment and assignment.due_on and assignment.due_on < today:
        return service.OVERDUE
    last = db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.user_id == user_id, QuizAttempt.course_id == course.id,
        QuizAttempt.is_archived.is_(False), QuizAttempt.submitted_at.is_not(None),
        QuizAttempt.course_revision == course.revision,
    ).order_by(QuizAttempt.submitted_at.desc())).first()
    if last is not None and last.passed is False:
        return service.FAILED
    if last is not None:
        return service.IN_PROGRESS
    started = db.session.scalar(select(func.count(LessonProgress.id)).join(
        TrainingLesson, TrainingLesson.id == LessonProgress.lesson_id).where(
        LessonProgress.user_id == user_id, TrainingLesson.course_id == course.id))
    signed = db.session.scalar(select(func.count(PracticalSignoff.id)).join(
        PracticalItem, PracticalItem.id == PracticalSignoff.item_id).where(
        PracticalSignoff.user_id == user_id, PracticalItem.course_id == course.id,
        PracticalSignoff.is_archived.is_(False)))
    open_attempt = db.session.scalar(select(func.count(QuizAttempt.id)).where(
        QuizAttempt.user_id == user_id, QuizAttempt.course_id == course.id, QuizAttempt.is_archived.is_(False)))
    return service.IN_PROGRESS if (started or signed or open_attempt) else service.NOT_STARTED




def test_demo_stages():
    seed_demo()
    users = {u.username: u for u in db.session.scalars(select(User))}
    courses = {c.title: c for c in db.session.scalars(select(TrainingCourse))}
    comms = courses["沟通技巧与共情话术"]
    assert comms.revision == 2
    for name in ("agent1", "agent3", "agent4", "agent6", "agent9"):
        assert gate.is_certified(users[name]), name
        assert service.certification_for(users[name].id).certified_at is not None
    flagged = service.certification_for(users["agent10"].id)
    assert flagged.state == CertificationState.FLAGGED and gate.is_certified(users["agent10"])
    assert service.course_status(users["agent10"].id, comms) == service.RECERT_DUE
    assert not gate.is_certified(users["agent12"])
    assert "品牌规则与条款" in gate.refusal_reason(users["agent12"])
    rules = courses["品牌规则与条款"]
    assert service.course_status(users["agent13"].id, rules) == service.IN_PROGRESS
    assert service.course_status(users["agent13"].id, courses["品牌系统操作与收发派签"]) == service.IN_PROGRESS
    assert service.course_status(users["agent14"].id, rules) == service.FAILED
    assert service.course_status(users["agent15"].id, rules) == service.OVERDUE
    # lead2 sees agent12's outlets to act on
    acts = matrix.to_act_on(users["lead2"])
    assert acts.outlets and all(o.primary_agent_id in (users["agent12"].id, users["agent14"].id,
                                                         users["agent15"].id) for o in acts.outlets)
    # every holder of open tickets is linked with their full count, not only the 20 tickets shown
    from kdcs.models import Ticket, TicketStatus
    holders = {user.username: count for user, count in acts.ticket_holders}
    for name, count in holders.items():
        assert count == db.session.scalar(select(db.func.count()).select_from(Ticket).where(
            Ticket.assignee_id == users[name].id, Ticket.status != TicketStatus.CLOSED))
    assert sum(holders.values()) == acts.tickets_total
    if acts.tickets_total:
        assert "agent12" in holders
    # the going-live audit rows read as labels, not codes
    from kdcs import auditing
    assert auditing.format_value("training_cert_state", "none") == service.state_label("none") != "none"
    assert seed_demo()["training_agents"] == 0


def test_course_statuses_at_once_match_the_course_by_course_reading():
    """``course_statuses`` (a few statements for all of an agent's courses, 我的培训 and the home;
    ``course_status`` is it for one course) answers what the course-by-course reading answered,
    for every demo agent and course, today and on later days (re-pass dates and expiries passed)."""
    from datetime import timedelta

    seed_demo()
    agents = list(db.session.scalars(select(User).where(User.role == "agent")))
    courses = list(db.session.scalars(select(TrainingCourse)))
    today = service._today()
    seen = set()
    for day in (today, today + timedelta(days=40), today + timedelta(days=400)):
        for agent in agents:
            at_once = service.course_statuses(agent.id, courses, today=day)
            one_by_one = {c.id: reference_course_status(agent.id, c, day) for c in courses}
            assert {c.id: service.course_status(agent.id, c, today=day) for c in courses} == one_by_one
            assert at_once == one_by_one, (agent.username, day)
            seen.update(one_by_one.values())
    assert {service.PASSED, service.RECERT_DUE, service.IN_PROGRESS, service.FAILED, service.OVERDUE,
            service.NOT_STARTED} <= seen
    assert service.course_statuses(agents[0].id, [], today=today) == {}
    many = service.course_statuses_many([a.id for a in agents], courses, today=today)
    assert many == {(a.id, c.id): reference_course_status(a.id, c, today) for a in agents for c in courses}


def test_parts_missing_at_once_match_standing_one_by_one():
    """``parts_missing`` (four statements for many agents and courses) answers what ``standing``
    answers agent by agent and course by course: quiz missing, practical items without a pass."""
    seed_demo()
    agents = list(db.session.scalars(select(User).where(User.role == "agent")))
    courses = list(db.session.scalars(select(TrainingCourse)))
    parts = service.parts_missing([a.id for a in agents], courses)
    kinds = set()
    for agent in agents:
        for course in courses:
            st = service.standing(agent.id, course)
            quiz_missing, missing = parts[agent.id, course.id]
            assert quiz_missing == (st.quiz_needed and st.quiz_passed_at is None), (agent.username, course.title)
            assert [i.id for i in missing] == [i.id for i in st.missing_items], (agent.username, course.title)
            kinds.add((quiz_missing, bool(missing)))
    assert len(kinds) >= 3, kinds  # passed quizzes and not, items signed and not
