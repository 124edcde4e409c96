"""The training matrix (agents × courses), one agent's record (attempts, sign-offs, going live),
the Excel export, and the lead's list to act on (outlets and tickets held by uncertified agents).

Scope: trainers and admins see every team (and agents without one); a lead sees the agents of
their own team(s) only — naming another team is PermissionDenied, another team's agent NotFound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Outlet, Team, Ticket, TicketStatus
from ...models.training import (
    AgentCertification,
    CertificationState,
    CourseStatus,
    PracticalSignoff,
    QuizAttempt,
    TrainingCourse,
)
from ...models.user import Role, User, username_order
from ...permissions import Permission, PermissionDenied, ensure, has_permission
from ...service_errors import NotFound
from . import gate, service


def lead_team_ids(lead: User) -> set[int]:
    """A lead's teams: their own and any they lead (sop.reading's rule; imported late: kdcs.sop imports
    tickets, which import outlets, which import this package's gate)."""
    from ...sop.reading.service import lead_team_ids as teams_of_lead

    return teams_of_lead(lead)


def sees_every_team(actor: User) -> bool:
    """Trainers and admins see every team; leads only their own."""
    return has_permission(actor, Permission.VIEW_TRAINING_MATRIX) and actor.role != Role.LEAD.value


def teams_in_scope(actor: User) -> list[Team]:
    """The teams the actor may filter the matrix by."""
    ensure(actor, Permission.VIEW_TRAINING_MATRIX)
    query = select(Team).order_by(Team.name)
    if not sees_every_team(actor):
        own = lead_team_ids(actor)
        if not own:
            return []
        return list(db.session.scalars(query.where(Team.id.in_(own))))
    return list(db.session.scalars(query.where(Team.is_active.is_(True))))


def visible_agent(actor: User, user_id: int) -> User:
    """An agent the actor may see in the matrix (NotFound otherwise: another team's or not an agent)."""
    ensure(actor, Permission.VIEW_TRAINING_MATRIX)
    agent = db.session.get(User, user_id)
    if agent is None or agent.role != Role.AGENT.value:
        raise NotFound()
    if not sees_every_team(actor) and agent.team_id not in lead_team_ids(actor):
        raise NotFound()
    return agent


def published_courses() -> list[TrainingCourse]:
    """Published courses, 上岗必修 first, then by title."""
    return list(db.session.scalars(select(TrainingCourse).where(
        TrainingCourse.status == CourseStatus.PUBLISHED.value).order_by(
        TrainingCourse.required_for_live.desc(), TrainingCourse.title)))


@dataclass
class Row:
    """One agent's line: status per course, the going-live row and why not (if not)."""

    agent: User
    statuses: list[str]
    cert: AgentCertification | None
    live: bool
    reasons: list[str] = field(default_factory=list)


@dataclass
class Matrix:
    """The matrix page's data."""

    courses: list[TrainingCourse]
    rows: list[Row]
    teams: list[Team]
    team_id: int | None
    course_id: int | None
    status: str | None

    @property
    def not_live(self) -> list[Row]:
        """Agents who are not certified (the lead's list: who, which course, which item)."""
        return [row for row in self.rows if not row.live]


def matrix(actor: User, team_id: int | None = None, course_id: int | None = None, status: str | None = None,
           *, today: date | None = None) -> Matrix:
    """Agents × published courses with their status (未开始/学习中/已通过/未通过/已逾期/待复训),
    within the actor's scope; ``team_id`` / ``course_id`` narrow it, ``status`` keeps agents with
    that status in some shown course."""
    ensure(actor, Permission.VIEW_TRAINING_MATRIX)
    today = today or service._today()
    teams = teams_in_scope(actor)
    allowed = {t.id for t in teams}
    if team_id is not None and not sees_every_team(actor) and team_id not in allowed:
        raise PermissionDenied(Permission.VIEW_TRAINING_MATRIX)
    if team_id is not None and db.session.get(Team, team_id) is None:
        raise NotFound()
    courses = published_courses()
    if course_id is not None:
        courses = [c for c in courses if c.id == course_id]
        if not courses:
            raise NotFound()
    query = select(User).where(User.role == Role.AGENT.value, User.is_active_account.is_(True))
    if team_id is not None:
        query = query.where(User.team_id == team_id)
    elif not sees_every_team(actor):
        query = query.where(User.team_id.in_(allowed or {-1}))
    agents = list(db.session.scalars(query.order_by(*username_order())))
    live_ids = gate.certified_ids([a.id for a in agents], today=today)
    # Every cell's status at once (were ~5 statements a cell), the not-live reasons for all at once.
    reasons = service.missing_reasons_many([a.id for a in agents if a.id not in live_ids], today=today)
    found = service.course_statuses_many([a.id for a in agents], courses, today=today)
    certifications = {c.user_id: c for c in db.session.scalars(select(AgentCertification).where(
        AgentCertification.user_id.in_([a.id for a in agents])))} if agents else {}
    rows = []
    for agent in agents:
        statuses = [found[agent.id, c.id] for c in courses]
        if status and status not in statuses:
            continue
        live = agent.id in live_ids
        rows.append(Row(agent, statuses, certifications.get(agent.id), live,
                        [] if live else reasons[agent.id]))
    return Matrix(courses, rows, teams, team_id, course_id, status)


def export_matrix(actor: User, team_id: int | None = None, course_id: int | None = None,
                  status: str | None = None) -> bytes:
    """The matrix as .xlsx (one row per agent: team, going live and since when, why not, a column
    per course), through the safe writer."""
    from ...filters import to_shanghai
    from ...spreadsheets import Workbook

    data = matrix(actor, team_id, course_id, status)
    book = Workbook()
    columns = [(_("Staff no."), 12), (_("Name"), 12), (_("Team"), 12), (_("Going live"), 14),
               (_("Certified on"), 14), (_("Why not live"), 40)]
    columns += [(course.title, 16) for course in data.courses]
    sheet = book.sheet(_("Training matrix"), columns, freeze="C2")
    for row in data.rows:
        cert = row.cert
        certified_on = to_shanghai(cert.certified_at).date() if cert and cert.certified_at and row.live else None
        sheet.append([row.agent.username, row.agent.display_name, row.agent.team.name if row.agent.team else "",
                      live_label(row), certified_on, "；".join(row.reasons)]
                     + [service.status_label(s) for s in row.statuses])
    return book.to_bytes()


def live_label(row: Row) -> str:
    """已上岗 / 待复训 / 已失效 / 未上岗 for a matrix row."""
    if not service.training_required():
        return _("No required course")
    if row.live:
        return service.state_label(row.cert.state if row.cert else CertificationState.CERTIFIED.value)
    return service.state_label(row.cert.state if row.cert else CertificationState.NONE.value)


# --------------------------------------------------------------------------- one agent


@dataclass
class CourseRecord:
    """One course in an agent's record: status, result, attempts and sign-offs (archived included)."""

    course: TrainingCourse
    status: str
    result: object
    attempts: list[QuizAttempt]
    signoffs: list[PracticalSignoff]
    items: list  # (item, latest kept sign-off or None)


def record(actor: User, user_id: int) -> tuple[User, list[CourseRecord]]:
    """An agent's attempts and sign-offs per published course (and any course they have attempts in),
    read in a fixed number of statements whatever the number of courses (one reading per course before)."""
    agent = visible_agent(actor, user_id)
    courses = {c.id: c for c in published_courses()}
    attempts_of: dict[int, list[QuizAttempt]] = {}
    for attempt in db.session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == agent.id)
                                      .order_by(QuizAttempt.id)):
        attempts_of.setdefault(attempt.course_id, []).append(attempt)
    others = [course_id for course_id in attempts_of if course_id not in courses]  # first attempted first
    if others:
        found = {c.id: c for c in db.session.scalars(select(TrainingCourse).where(TrainingCourse.id.in_(others)))}
        courses.update((course_id, found.get(course_id)) for course_id in others)
    if courses:  # every course's practical items at once (the sign-offs and the items' rows read them)
        db.session.scalars(select(TrainingCourse).where(TrainingCourse.id.in_(list(courses)))
                           .options(selectinload(TrainingCourse.practical_items))).all()
    course_of_item = {item.id: course.id for course in courses.values() for item in course.practical_items}
    signoffs_of: dict[int, list[PracticalSignoff]] = {}
    if course_of_item:
        for signoff in db.session.scalars(select(PracticalSignoff).options(  # each row names its signer
                selectinload(PracticalSignoff.signed_by)).where(
                PracticalSignoff.user_id == agent.id, PracticalSignoff.item_id.in_(list(course_of_item)))
                .order_by(PracticalSignoff.signed_at.desc(), PracticalSignoff.id.desc())):
            signoffs_of.setdefault(course_of_item[signoff.item_id], []).append(signoff)
    statuses = service.course_statuses(agent.id, list(courses.values()))
    results = service.results_for(agent.id, list(courses))
    records = []
    for course in courses.values():
        attempts = sorted(attempts_of.get(course.id, []), key=lambda a: a.number, reverse=True)
        signoffs = signoffs_of.get(course.id, [])
        latest = {}
        for signoff in signoffs:  # newest first: the first kept one of an item is its latest
            if not signoff.is_archived:
                latest.setdefault(signoff.item_id, signoff)
        items = [(item, latest.get(item.id)) for item in service.active_items(course)]
        records.append(CourseRecord(course, statuses[course.id], results.get(course.id), attempts, signoffs, items))
    return agent, records


# --------------------------------------------------------------------------- the lead's list to act on


@dataclass
class ActionList:
    """Outlets whose primary agent is not certified and open tickets assigned to uncertified agents."""

    outlets: list[Outlet]
    tickets: list[Ticket]
    tickets_total: int
    ticket_holders: list = field(default_factory=list)  # [(User, open ticket count)] for the queue links


def to_act_on(actor: User, *, limit: int = 20) -> ActionList:
    """Within the actor's teams (all teams for admins/trainers): what an uncertified agent still
    holds. Existing assignments are never changed by a lapse; this is where the lead sees them."""
    if not (has_permission(actor, Permission.VIEW_TRAINING_MATRIX) or has_permission(actor, Permission.VIEW_TEAM)):
        raise PermissionDenied(Permission.VIEW_TRAINING_MATRIX)
    if not service.training_required():
        return ActionList([], [], 0)
    agents = select(User.id).where(User.role == Role.AGENT.value)
    if actor.role == Role.LEAD.value:
        agents = agents.where(User.team_id.in_(lead_team_ids(actor) or {-1}))
    agent_ids = list(db.session.scalars(agents))
    live = gate.certified_ids(agent_ids)
    holders = [i for i in agent_ids if i not in live]
    if not holders:
        return ActionList([], [], 0)
    outlets = list(db.session.scalars(select(Outlet).where(
        Outlet.primary_agent_id.in_(holders), Outlet.is_active.is_(True)).order_by(Outlet.code)))
    open_tickets = select(Ticket).where(Ticket.assignee_id.in_(holders), Ticket.status != TicketStatus.CLOSED)
    total = db.session.scalar(select(db.func.count()).select_from(open_tickets.subquery()))
    tickets = list(db.session.scalars(open_tickets.order_by(Ticket.due_at, Ticket.id).limit(limit)))
    counts = db.session.execute(select(Ticket.assignee_id, db.func.count()).where(
        Ticket.assignee_id.in_(holders), Ticket.status != TicketStatus.CLOSED).group_by(Ticket.assignee_id)).all()
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([c[0] for c in counts])))}
    ticket_holders = sorted(((users[i], n) for i, n in counts if i in users), key=lambda pair: pair[0].username)
    return ActionList(outlets, tickets, int(total or 0), ticket_holders)


def certified_since(user: User) -> datetime | None:
    """When a live agent was certified (None if not live or never recorded)."""
    cert = service.certification_for(user.id)
    if cert is None or not gate.is_certified(user):
        return None
    return cert.certified_at
