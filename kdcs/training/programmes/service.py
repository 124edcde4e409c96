"""Programmes (新人30天计划) and assignments: plain functions, no request.

A programme is an ordered plan of courses and practical items, each on 第 N 天 (1–30) counted from
the agent's start date. Enrolling an agent (``enroll``) records a ``ProgrammeEnrollment`` and gives
each course of the plan a ``TrainingAssignment`` due on start + N − 1 (a course already assigned
keeps the earlier due date). A new agent account with a start date (入职日期) is enrolled in the
default programme by ``auto_enroll`` (called by the admin user service). Trainers also assign
single courses to agents or whole teams with a due date (``assign_course``). Every assignment and
enrolment is audited.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ...auditing import record
from ...extensions import db
from ...models.training import (
    AssignmentSource,
    CourseStatus,
    PracticalItem,
    ProgrammeEnrollment,
    ProgrammeItem,
    TrainingAssignment,
    TrainingCourse,
    TrainingProgramme,
)
from ...models.user import Role, Team, User
from ...permissions import Permission, ensure
from ...request_args import id_or_none
from ...service_errors import NotFound, StaleEdit, ValidationError

TITLE_MAX = 100
DESCRIPTION_MAX = 2_000
NOTE_MAX = 200
MAX_DAY = 30
MAX_ITEMS = 60


# --------------------------------------------------------------------------- reading

def list_programmes(actor) -> list[TrainingProgramme]:
    """Every programme, the default first, then active ones by title."""
    ensure(actor, Permission.ASSIGN_TRAINING)
    return list(db.session.scalars(select(TrainingProgramme).order_by(
        TrainingProgramme.is_default.desc(), TrainingProgramme.is_active.desc(), TrainingProgramme.title)))


def get_programme(actor, programme_id) -> TrainingProgramme:
    """One programme (trainers and admins); NotFound for unknown ids."""
    ensure(actor, Permission.ASSIGN_TRAINING)
    # the plan names each item's course or practical item (and its course): read with the programme,
    # a fixed number of statements however long the plan (one or two per item before)
    wanted = id_or_none(programme_id)
    programme = db.session.scalar(select(TrainingProgramme).where(TrainingProgramme.id == wanted).options(
        selectinload(TrainingProgramme.items).selectinload(ProgrammeItem.course),
        selectinload(TrainingProgramme.items).selectinload(ProgrammeItem.practical_item)
        .selectinload(PracticalItem.course))) if wanted else None
    if programme is None:
        raise NotFound(programme_id)
    return programme


def default_programme() -> TrainingProgramme | None:
    """The active programme new agents are enrolled in, if any."""
    return db.session.scalar(select(TrainingProgramme).where(
        TrainingProgramme.is_default.is_(True), TrainingProgramme.is_active.is_(True)).order_by(TrainingProgramme.id))


def enrollments_of(programme: TrainingProgramme) -> list[ProgrammeEnrollment]:
    """Who follows the programme, newest start first (with their names and teams, which the page shows)."""
    return list(db.session.scalars(select(ProgrammeEnrollment).options(
        selectinload(ProgrammeEnrollment.user).selectinload(User.team))
                                   .where(ProgrammeEnrollment.programme_id == programme.id)
                                   .order_by(ProgrammeEnrollment.start_date.desc(), ProgrammeEnrollment.id)))


def enrollment_of(user_id: int) -> ProgrammeEnrollment | None:
    """The user's most recent programme enrolment (the one 我的培训 counts days from)."""
    return db.session.scalar(select(ProgrammeEnrollment).options(
        selectinload(ProgrammeEnrollment.programme).selectinload(TrainingProgramme.items))
        .where(ProgrammeEnrollment.user_id == user_id)
        .order_by(ProgrammeEnrollment.start_date.desc(), ProgrammeEnrollment.id.desc()).limit(1))


def assignments_for(user_id: int) -> list[TrainingAssignment]:
    """The user's assigned courses that are still published, by due date (undated last)."""
    rows = db.session.scalars(select(TrainingAssignment).options(
        selectinload(TrainingAssignment.course).selectinload(TrainingCourse.lessons))
        .join(TrainingCourse).where(TrainingAssignment.user_id == user_id,
                                    TrainingCourse.status == CourseStatus.PUBLISHED))
    return sorted(rows, key=lambda a: (a.due_on is None, a.due_on or date.max, a.course.title))


def agent_choices() -> list[User]:
    """Active agents, by team and 工号 (with their teams, which the choices name)."""
    return list(db.session.scalars(select(User).options(joinedload(User.team))
                                   .where(User.role == Role.AGENT, User.is_active_account.is_(True))
                                   .order_by(User.team_id, User.username)))


def team_choices() -> list[Team]:
    """Active teams by name."""
    return list(db.session.scalars(select(Team).where(Team.is_active.is_(True)).order_by(Team.name)))


def published_courses() -> list[TrainingCourse]:
    """Published courses by title (what a programme or an assignment may name)."""
    return list(db.session.scalars(select(TrainingCourse).where(TrainingCourse.status == CourseStatus.PUBLISHED)
                                   .order_by(TrainingCourse.title)))


def practical_choices() -> list[PracticalItem]:
    """Practical items in use of published courses."""
    return list(db.session.scalars(select(PracticalItem).join(TrainingCourse).where(
        PracticalItem.is_active.is_(True), TrainingCourse.status == CourseStatus.PUBLISHED)
        .order_by(TrainingCourse.title, PracticalItem.position)))


# --------------------------------------------------------------------------- programmes

def _clean_programme(title, description) -> dict:
    errors: dict[str, str] = {}
    title = (title or "").strip()
    description = (description or "").replace("\r\n", "\n").strip()
    if not title:
        errors["title"] = _("Enter a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("At most %(n)d characters.", n=TITLE_MAX)
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = _("At most %(n)d characters.", n=DESCRIPTION_MAX)
    if errors:
        raise ValidationError(errors)
    return {"title": title, "description": description}


def _make_default(programme: TrainingProgramme) -> None:
    for other in db.session.scalars(select(TrainingProgramme).where(TrainingProgramme.is_default.is_(True),
                                                                    TrainingProgramme.id != programme.id)):
        other.is_default = False


def create_programme(actor, *, title: str, description: str = "", is_default: bool = False) -> TrainingProgramme:
    """A new programme (without items); ``is_default`` makes it the one new agents follow."""
    ensure(actor, Permission.ASSIGN_TRAINING)
    programme = TrainingProgramme(**_clean_programme(title, description), is_default=bool(is_default),
                                  created_by_id=actor.id)
    db.session.add(programme)
    db.session.flush()
    if programme.is_default:
        _make_default(programme)
    record(actor, "training.programme_save", "training_programme", programme.id, summary=programme.title,
           after={"title": programme.title, "is_default": programme.is_default})
    db.session.commit()
    return programme


def update_programme(actor, programme: TrainingProgramme, *, version: int | None, title: str, description: str,
                     is_default: bool, is_active: bool) -> TrainingProgramme:
    """Change a programme's title, description, default and active flags (optimistic lock)."""
    ensure(actor, Permission.ASSIGN_TRAINING)
    if version is None or version != programme.version:
        raise StaleEdit(programme)
    clean = _clean_programme(title, description)
    before = {"title": programme.title, "is_default": programme.is_default, "is_active": programme.is_active}
    programme.title, programme.description = clean["title"], clean["description"]
    programme.is_active = bool(is_active)
    programme.is_default = bool(is_default) and programme.is_active
    if programme.is_default:
        _make_default(programme)
    after = {"title": programme.title, "is_default": programme.is_default, "is_active": programme.is_active}
    if before != after:
        record(actor, "training.programme_save", "training_programme", programme.id, summary=programme.title,
               before=before, after=after)
    db.session.commit()
    return programme


def add_item(actor, programme: TrainingProgramme, *, day_offset, course_id=None, practical_item_id=None,
             note: str = "") -> ProgrammeItem:
    """Add a course or a practical item to the plan on 第 ``day_offset`` 天 (1–30)."""
    ensure(actor, Permission.ASSIGN_TRAINING)
    errors: dict[str, str] = {}
    try:
        day = int(day_offset)
    except (TypeError, ValueError):
        day = 0
    if not 1 <= day <= MAX_DAY:
        errors["day_offset"] = _("Choose a day between 1 and %(n)d.", n=MAX_DAY)
    course = db.session.get(TrainingCourse, id_or_none(course_id)) if id_or_none(course_id) else None
    practical = db.session.get(PracticalItem, id_or_none(practical_item_id)) if id_or_none(practical_item_id) else None
    if course is not None and course.status != CourseStatus.PUBLISHED:
        course = None
    if practical is not None and (not practical.is_active or practical.course.status != CourseStatus.PUBLISHED):
        practical = None
    if (course is None) == (practical is None):
        errors["item"] = _("Choose one published course or one practical item.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = _("At most %(n)d characters.", n=NOTE_MAX)
    if len(programme.items) >= MAX_ITEMS:
        errors["item"] = _("A programme has at most %(n)d items.", n=MAX_ITEMS)
    if errors:
        raise ValidationError(errors)
    position = max((i.position for i in programme.items if i.day_offset == day), default=0) + 1
    item = ProgrammeItem(programme=programme, day_offset=day, position=position, course=course,
                         practical_item=practical, note=note)
    db.session.add(item)
    db.session.commit()
    db.session.refresh(programme)
    return item


def remove_item(actor, programme: TrainingProgramme, item_id) -> TrainingProgramme:
    """Remove one item from the plan (assignments already given stay)."""
    ensure(actor, Permission.ASSIGN_TRAINING)
    item = next((i for i in programme.items if i.id == id_or_none(item_id)), None)
    if item is None:
        raise NotFound(item_id)
    programme.items.remove(item)
    db.session.commit()
    db.session.refresh(programme)
    return programme


# --------------------------------------------------------------------------- assignments

def _upsert_assignment(user_id: int, course_id: int, due_on: date | None, source: str, actor_id: int | None,
                       programme_id: int | None = None, team_id: int | None = None,
                       keep_earlier: bool = False) -> TrainingAssignment:
    assignment = db.session.scalar(select(TrainingAssignment).where(TrainingAssignment.user_id == user_id,
                                                                    TrainingAssignment.course_id == course_id))
    if assignment is None:
        assignment = TrainingAssignment(user_id=user_id, course_id=course_id, due_on=due_on, source=source,
                                        programme_id=programme_id, team_id=team_id, assigned_by_id=actor_id)
        db.session.add(assignment)
        return assignment
    same_plan = assignment.source == AssignmentSource.PROGRAMME and assignment.programme_id == programme_id
    if keep_earlier and not same_plan and assignment.due_on is not None and (due_on is None
                                                                             or assignment.due_on <= due_on):
        return assignment  # an earlier date given otherwise stays; the same plan's own dates follow its start
    assignment.due_on, assignment.source, assignment.assigned_by_id = due_on, source, actor_id
    assignment.programme_id, assignment.team_id = programme_id, team_id
    return assignment


def _agents(user_ids, team_ids) -> tuple[list[User], list[Team]]:
    ids = {id_or_none(v) for v in user_ids or []} - {None}
    tids = {id_or_none(v) for v in team_ids or []} - {None}
    agents = list(db.session.scalars(select(User).where(User.id.in_(ids), User.role == Role.AGENT,
                                                        User.is_active_account.is_(True)))) if ids else []
    teams = list(db.session.scalars(select(Team).where(Team.id.in_(tids)))) if tids else []
    if len(agents) != len(ids) or len(teams) != len(tids):
        raise ValidationError({"user_ids": _("Choose active agents and existing teams.")})
    return agents, teams


def assign_course(actor, course: TrainingCourse, *, user_ids=(), team_ids=(), due_on: date | None) -> int:
    """Assign a published course to agents and/or every active agent of teams, due on ``due_on``.
    An agent already assigned gets the new due date. Returns how many agents were assigned; audited."""
    ensure(actor, Permission.ASSIGN_TRAINING)
    errors: dict[str, str] = {}
    if course.status != CourseStatus.PUBLISHED:
        errors["status"] = _("Only a published course can be assigned.")
    if not (user_ids or team_ids):
        errors["user_ids"] = _("Choose agents or teams.")
    if errors:
        raise ValidationError(errors)
    agents, teams = _agents(user_ids, team_ids)
    chosen: dict[int, int | None] = {agent.id: None for agent in agents}
    for team in teams:
        for member in db.session.scalars(select(User).where(User.team_id == team.id, User.role == Role.AGENT,
                                                            User.is_active_account.is_(True))):
            chosen.setdefault(member.id, team.id)
    for user_id, team_id in chosen.items():
        source = AssignmentSource.TEAM if team_id else AssignmentSource.COURSE
        _upsert_assignment(user_id, course.id, due_on, source, actor.id, team_id=team_id)
    named = {agent.id: agent.display_name for agent in agents}
    missing = [user_id for user_id in chosen if user_id not in named]
    if missing:
        named.update(db.session.execute(select(User.id, User.display_name).where(User.id.in_(missing))).all())
    # names, not ids: the audit page reads them as they were when assigned
    record(actor, "training.assign", "training_course", course.id, summary=course.title,
           after={"agents": "、".join(sorted(named[user_id] for user_id in chosen)),
                  "teams": "、".join(sorted(t.name for t in teams)) or None,
                  "due_on": due_on.isoformat() if due_on else None})
    db.session.commit()
    return len(chosen)


def _enroll(actor, programme: TrainingProgramme, user: User, start_date: date) -> ProgrammeEnrollment:
    enrollment = db.session.scalar(select(ProgrammeEnrollment).where(
        ProgrammeEnrollment.programme_id == programme.id, ProgrammeEnrollment.user_id == user.id))
    if enrollment is None:
        enrollment = ProgrammeEnrollment(programme_id=programme.id, user_id=user.id, start_date=start_date,
                                         assigned_by_id=actor.id if actor else None)
        db.session.add(enrollment)
    else:
        enrollment.start_date = start_date
    due: dict[int, date] = {}
    for item in programme.items:
        if item.course_id and item.course and item.course.status == CourseStatus.PUBLISHED:
            day = start_date + timedelta(days=item.day_offset - 1)
            due[item.course_id] = max(due.get(item.course_id, day), day)
    for course_id, due_on in due.items():
        _upsert_assignment(user.id, course_id, due_on, AssignmentSource.PROGRAMME, actor.id if actor else None,
                           programme_id=programme.id, keep_earlier=True)
    db.session.flush()
    titles = {c.id: c.title for c in (item.course for item in programme.items if item.course_id) if c}
    record(actor, "training.enroll", "training_programme", programme.id,
           summary=f"{programme.title} · {user.display_name}",
           after={"agent_id": user.id, "start_date": start_date.isoformat(),
                  "courses": "、".join(titles[course_id] for course_id in sorted(due, key=lambda i: due[i]))})
    return enrollment


def enroll(actor, programme: TrainingProgramme, *, user_id, start_date: date | None) -> ProgrammeEnrollment:
    """Put an active agent on a programme from ``start_date``: each course item becomes an assignment
    due on start + 第N天 − 1 (re-enrolling moves the start). Audited."""
    ensure(actor, Permission.ASSIGN_TRAINING)
    errors: dict[str, str] = {}
    user = db.session.get(User, id_or_none(user_id)) if id_or_none(user_id) else None
    if user is None or user.role != Role.AGENT or not user.is_active_account:
        errors["user_id"] = _("Choose an active agent.")
    if start_date is None:
        errors["start_date"] = _("Enter the start date.")
    if not programme.is_active:
        errors["user_id"] = _("The programme is not active.")
    if errors:
        raise ValidationError(errors)
    enrollment = _enroll(actor, programme, user, start_date)
    db.session.commit()
    return enrollment


def auto_enroll(actor, user: User) -> ProgrammeEnrollment | None:
    """Enrol an active agent with a start date (入职日期) in the default programme, once; a corrected
    start date moves that enrolment and its due dates (the caller commits). Nothing happens for other
    roles, without a start date or without a default programme."""
    if user.role != Role.AGENT or user.start_date is None or not user.is_active_account:
        return None
    programme = default_programme()
    if programme is None:
        return None
    already = db.session.scalar(select(ProgrammeEnrollment).where(
        ProgrammeEnrollment.programme_id == programme.id, ProgrammeEnrollment.user_id == user.id))
    if already is not None and already.start_date == user.start_date:
        return None
    return _enroll(actor, programme, user, user.start_date)
