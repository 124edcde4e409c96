"""Periodic certification work (tasks.py runs it every 30 minutes): re-pass due soon, re-pass
missed (the agent lapses), certificate expiring soon and expired, assignments overdue.

Idempotent: each notice is sent once per (kind, agent, course, key) — the key is the date it is
about — through a ``TrainingReminder`` row inserted with ON CONFLICT DO NOTHING, so two workers
or a restart never send it twice. Lapsing itself is ``service.lapse_due`` (recompute), which
writes nothing when nothing changed. Assignments are never moved by a lapse; the lead is told.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...models import Team
from ...models.training import (
    CourseResult,
    CourseStatus,
    TrainingAssignment,
    TrainingCourse,
    TrainingReminder,
)
from ...models.user import Role, User
from ...notifications.service import notify
from . import service

RECERT_SOON_DAYS = 3  # remind this many days before a re-pass is due
EXPIRY_SOON_DAYS = 14  # remind this many days before a pass expires


def _mark(kind: str, user_id: int, course_id: int, key: str) -> bool:
    """Record that this notice is sent; False when it already was (by us or another worker)."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (insert(TrainingReminder).values(kind=kind, user_id=user_id, course_id=course_id, key=key,
                                                 sent_at=datetime.now(UTC))
                 .on_conflict_do_nothing(index_elements=["kind", "user_id", "course_id", "key"])
                 .returning(TrainingReminder.id))
    return db.session.execute(statement).scalar() is not None


def _lead_of(user: User) -> User | None:
    if user.team_id is None:
        return None
    team = db.session.get(Team, user.team_id)
    lead = team.lead if team else None
    return lead if lead is not None and lead.is_active and lead.id != user.id else None


def _course_link(course: TrainingCourse) -> str:
    return f"/training/courses/{course.id}"


def send_reminders(now: datetime | None = None) -> dict[str, int]:
    """One run: lapse who is due to lapse, then send each notice that is due and not yet sent.
    Commits. Returns how many notices of each kind were sent (and how many agents lapsed)."""
    now = now or datetime.now(UTC)
    today = service._today(now)
    counts = {"lapsed": 0, "recert_soon": 0, "recert_missed": 0, "expiry_soon": 0, "expired": 0,
              "assignment_overdue": 0}
    counts["lapsed"] = len(service.lapse_due(now))
    published = select(TrainingCourse.id).where(TrainingCourse.status == CourseStatus.PUBLISHED.value)
    agents = select(User.id).where(User.role == Role.AGENT.value, User.is_active_account.is_(True))
    results = db.session.scalars(select(CourseResult).where(
        CourseResult.course_id.in_(published), CourseResult.user_id.in_(agents),
        CourseResult.passed_at.is_not(None)))
    for result in list(results):
        course = db.session.get(TrainingCourse, result.course_id)
        agent = db.session.get(User, result.user_id)
        grace = result.passed_revision is not None and result.passed_revision < course.revision
        due = result.recert_due_on
        if grace and due is not None:
            if today <= due <= today + timedelta(days=RECERT_SOON_DAYS) and _mark("recert_soon", agent.id, course.id,
                                                                                   due.isoformat()):
                notify(agent, "training_recert", _("Re-pass 《%(course)s》 by %(day)s", course=course.title,
                                                   day=due.isoformat()),
                       _("The course changed. Pass it again by %(day)s to keep taking outlets and tickets.",
                         day=due.isoformat()), _course_link(course))
                counts["recert_soon"] += 1
            if due < today and _mark("recert_missed", agent.id, course.id, due.isoformat()):
                _tell_both(agent, course, _("Re-pass of 《%(course)s》 missed", course=course.title),
                           _("%(name)s did not re-pass 《%(course)s》 by %(day)s and is no longer live (上岗).",
                             name=agent.display_name, course=course.title, day=due.isoformat()))
                counts["recert_missed"] += 1
        expires = result.expires_on
        if expires is not None and not grace:
            if today <= expires <= today + timedelta(days=EXPIRY_SOON_DAYS) and _mark(
                    "expiry_soon", agent.id, course.id, expires.isoformat()):
                notify(agent, "training_expiry", _("《%(course)s》 expires on %(day)s", course=course.title,
                                                   day=expires.isoformat()),
                       _("Pass it again before then to stay live."), _course_link(course))
                counts["expiry_soon"] += 1
            if expires < today and _mark("expired", agent.id, course.id, expires.isoformat()):
                _tell_both(agent, course, _("《%(course)s》 expired", course=course.title),
                           _("%(name)s's pass of 《%(course)s》 expired on %(day)s.", name=agent.display_name,
                             course=course.title, day=expires.isoformat()))
                counts["expired"] += 1
    overdue = db.session.scalars(select(TrainingAssignment).where(
        TrainingAssignment.completed_at.is_(None), TrainingAssignment.due_on.is_not(None),
        TrainingAssignment.due_on < today, TrainingAssignment.course_id.in_(published),
        TrainingAssignment.user_id.in_(agents)))
    for assignment in list(overdue):
        course = assignment.course
        if service.course_status(assignment.user_id, course, today=today) == service.PASSED:
            continue
        if _mark("assignment_overdue", assignment.user_id, course.id, assignment.due_on.isoformat()):
            agent = db.session.get(User, assignment.user_id)
            _tell_both(agent, course, _("《%(course)s》 is overdue", course=course.title),
                       _("%(name)s has not finished 《%(course)s》, due %(day)s.", name=agent.display_name,
                         course=course.title, day=assignment.due_on.isoformat()))
            counts["assignment_overdue"] += 1
    db.session.commit()
    return counts


def _tell_both(agent: User, course: TrainingCourse, title: str, body: str) -> None:
    """The agent (link to the course) and their lead (link to the agent's record)."""
    notify(agent, "training_overdue", title, body, _course_link(course))
    lead = _lead_of(agent)
    if lead is not None:
        notify(lead, "training_overdue", title, body, f"/training/people/{agent.id}")
