"""Demo agents at every stage of going live (上岗), built through the services (T2's quiz
attempts answered and submitted, sign-offs recorded, T1's programme enrolment and publish):

- agent1–agent9, agent11: certified (all three 上岗必修 courses passed, quiz and practical item);
- agent10 许佳: passed the old revision of 沟通技巧与共情话术; a required change was published
  afterwards, so she is live but flagged (待复训) until her re-pass due date;
- agent12 朱琳: never certified (holds outlets from before: lead2's list to act on shows them);
- new hires on the 新人30天计划 with a start date: agent13 林晓 in progress (lessons read, the
  first quiz passed), agent14 宋雨 failed the quiz once and waits for the next try, agent15 唐宁
  overdue (started 45 days ago, barely begun).

Idempotent: an agent who already has quiz attempts is left as they are; the required change is
published once (revision 2). Agents who hold outlets and tickets in the demo are certified before
the rest of the demo relies on them, agent12 aside.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from ...extensions import db
from ...leave.rules import beijing_today
from ...models import Team
from ...models.training import (
    AgentCertification,
    CourseResult,
    PracticalSignoff,
    QuizAttempt,
    TrainingCourse,
    TrainingQuestion,
)
from ...models.user import Role, User

CERTIFIED = [f"agent{i}" for i in (1, 2, 3, 4, 5, 6, 7, 8, 9, 11)]
FLAGGED = "agent10"
NEW_HIRES = [  # username, name, team, days since the start date, stage
    ("agent13", "林晓", "一组", 2, "in_progress"),
    ("agent14", "宋雨", "二组", 1, "failed"),
    ("agent15", "唐宁", "二组", 45, "overdue"),
]
REQUIRED_CHANGE_NOTE = "新增“破损件先安抚再核实”的话术要求，测验题同步更新：已通过的同事请在两周内重新通过。"
COMMENTS = ["开场白规范，核实信息完整，安抚到位。", "流程熟练，能准确说明时效和赔付规则。", "跟岗期间回复及时，工单记录清楚。"]


def _user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def _answers(attempt: QuizAttempt, right: bool) -> dict[str, list[str]]:
    """Every question of the attempt answered right (the bank's keys) or wrong (another option)."""
    answers = {}
    for shown in attempt.questions:
        question = db.session.get(TrainingQuestion, shown["id"])
        if right:
            answers[str(question.id)] = list(question.correct)
        else:
            wrong = [key for key in shown["options"] if key not in question.correct][:1]
            answers[str(question.id)] = wrong or list(question.correct)
    return answers


def take_quiz(user: User, course: TrainingCourse, right: bool, at: datetime) -> QuizAttempt:
    """Start an attempt at ``at`` and submit it ten minutes later, all right or all wrong."""
    from ..quiz import service as quiz

    attempt = quiz.start_attempt(user, course.id, now=at)
    return quiz.submit_attempt(user, attempt.id, _answers(attempt, right), now=at + timedelta(minutes=10))


def sign_off(signer: User, user: User, course: TrainingCourse, index: int) -> None:
    """Sign off every active practical item of the course as passed (whole checklist ticked)."""
    from . import service

    for item in service.active_items(course):
        service.record_signoff(signer, user.id, item.id, passed=True, score=88 + index % 10,
                               ticked=list(range(len(item.checklist or []))),
                               comment=COMMENTS[index % len(COMMENTS)])


def _read_all(user: User, course: TrainingCourse) -> None:
    from ..courses import service as courses

    for lesson in course.lessons:
        courses.mark_lesson_done(user, lesson)


def _pass_course(user: User, course: TrainingCourse, signer: User, index: int, at: datetime) -> None:
    _read_all(user, course)
    take_quiz(user, course, True, at)
    sign_off(signer, user, course, index)


def certify_agent(user: User, signer: User | None = None, at: datetime | None = None) -> None:
    """Pass every published 上岗必修 course for ``user`` through the services (lessons read, quiz
    answered right, practical items signed off by ``signer``, default trainer1): for demo and
    browser-test agents created after the demo."""
    from . import service

    signer = signer or _user("trainer1")
    at = at or datetime.now(UTC) - timedelta(hours=3)
    for course in service.required_courses():
        if service.course_status(user.id, course) != service.PASSED:
            _pass_course(user, course, signer, 0, at)


def _backdate(user: User, days_ago: int) -> None:
    """Spread the certified dates (the sign-offs happened "now" while seeding)."""
    when = datetime.now(UTC) - timedelta(days=days_ago)
    cert = db.session.get(AgentCertification, user.id)
    if cert is not None and cert.certified_at is not None:
        cert.certified_at = when
    for result in db.session.scalars(select(CourseResult).where(CourseResult.user_id == user.id,
                                                                CourseResult.passed_at.is_not(None))):
        result.passed_at = min(result.passed_at, when)
    for signoff in db.session.scalars(select(PracticalSignoff).where(PracticalSignoff.user_id == user.id)):
        signoff.signed_at = min(signoff.signed_at, when)


def _has_attempts(user: User) -> bool:
    return bool(db.session.scalar(select(func.count(QuizAttempt.id)).where(QuizAttempt.user_id == user.id)))


def seed_certification(courses: dict[str, TrainingCourse], today: date | None = None) -> dict[str, int]:
    """Put the demo agents at their stages (see the module docstring). Returns {"training_agents": n}
    — how many agents were set up by this call (0 the second time)."""
    from ..courses import service as courses_service
    from ..programmes import service as programmes

    today = today or beijing_today()  # the date the certification pages count from
    trainer = _user("trainer1")
    leads = {"一组": _user("lead1"), "二组": _user("lead2")}
    order = [courses[key] for key in ("rules", "systems", "comms") if key in courses]
    if trainer is None or len(order) < 3:
        return {"training_agents": 0}
    made = 0
    now = datetime.now(UTC)

    # agent10 passes revision 1 of everything, then the required change of 沟通技巧 flags her.
    flagged = _user(FLAGGED)
    if flagged is not None and not _has_attempts(flagged):
        for course in order:
            _pass_course(flagged, course, trainer, 3, now - timedelta(days=50))
        _backdate(flagged, 48)
        made += 1
    comms = courses["comms"]
    if comms.revision < 2:
        courses_service.publish_course(trainer, comms.id, comms.version, required_change=True,
                                       note=REQUIRED_CHANGE_NOTE)

    # The serving agents: certified on the current revisions, signed off by their lead or the trainer.
    for index, username in enumerate(CERTIFIED):
        user = _user(username)
        if user is None or _has_attempts(user):
            continue
        signer = leads.get(user.team.name if user.team else "") or trainer
        for course in order:
            _pass_course(user, course, signer if course.id != comms.id else trainer, index,
                         now - timedelta(days=30 - index))
        _backdate(user, 25 - index)
        made += 1

    # New hires on the default programme.
    programme = programmes.default_programme()
    for username, name, team_name, days, stage in NEW_HIRES:
        user = _user(username)
        if user is not None and (_has_attempts(user) or programmes.enrollment_of(user.id)):
            continue
        if user is None:
            from ...demo import DEMO_PASSWORD

            team = db.session.scalar(select(Team).where(Team.name == team_name))
            user = User(username=username, display_name=name, role=Role.AGENT.value, team=team,
                        start_date=today - timedelta(days=days))
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
            db.session.commit()
        if programme is not None:
            programmes.enroll(trainer, programme, user_id=user.id, start_date=today - timedelta(days=days))
        rules, systems = courses["rules"], courses["systems"]
        if stage == "in_progress":
            _read_all(user, rules)
            take_quiz(user, rules, True, now - timedelta(days=2))
            courses_service.open_lesson(user, systems.lessons[0])
        elif stage == "failed":
            _read_all(user, rules)
            take_quiz(user, rules, False, now - timedelta(minutes=15))  # waits 30 min for the next try
        else:
            courses_service.open_lesson(user, rules.lessons[0])
        made += 1
    db.session.commit()
    return {"training_agents": made}
