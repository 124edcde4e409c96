"""Required reading (必读, 政策变更黄金72小时): who must read which version, acknowledgements,
reminders, the matrix.

The rules, decided here and documented in the README:

* **Obligation.** For each scenario that is not archived, the agent owes its newest
  published version that is required reading and not a minor edit (``obligation``).
  A minor edit never creates an obligation: it points back to the required version
  before it, and whoever acknowledged that one has read it. An older required version
  of the same scenario is superseded by a newer one (its row stays in the matrix
  history, but nobody is reminded of it any more).
* **Acknowledgement.** An acknowledgement records the version the agent read and the
  time. It satisfies every required version of the same scenario up to that number
  (reading version 5 covers the change made in version 4), so acknowledging the
  scenario page's current version is always enough.
* **Targets.** Active agents (role agent) in the chosen teams, or every active agent when
  no team was chosen, read as the teams are *now*: an agent who joins a target team
  before the deadline must read it too (the team's rules apply to them from then on).
  Agents whose account was created after the deadline are not asked (the handbook as it
  stands is part of their training).
* **Personal window.** The deadline is the version's (default 72 hours after publishing).
  An agent whose account was created after publishing gets the same window counted
  from their account's creation, so nobody is overdue retroactively, and their 24 h /
  48 h reminders count from then as well.
* **Reminders** (``send_reminders``, a periodic task): 24 h and 48 h after the start of
  the window the agent is reminded; at the deadline the agent's team lead is told (one
  notification per lead and version listing the agents). Each (agent, version,
  threshold) is sent at most once: a ``SopReadingNotice`` row is inserted first with
  INSERT … ON CONFLICT DO NOTHING and the notice goes out only if this run inserted it,
  so two workers or a rerun never send it twice. A run sends only the highest threshold
  reached (a worker that was down for two days sends the 48 h reminder, not both).
  Deadlines more than ``REMINDER_HORIZON`` in the past are not looked at any more.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import aliased, joinedload

from ...auditing import record, register_labels
from ...extensions import db
from ...filters import format_datetime
from ...models import Role, Team, User, utcnow
from ...models.sop import (
    SopAcknowledgement,
    SopReadingNotice,
    SopScenario,
    SopVersion,
    VersionStatus,
)
from ...models.user import username_order
from ...notifications.service import notify
from ...permissions import Permission, PermissionDenied, ensure, has_permission
from ...service_errors import NotFound, ValidationError

DEFAULT_WINDOW = timedelta(hours=72)
REMINDERS = (("48h", timedelta(hours=48)), ("24h", timedelta(hours=24)))  # highest first
OVERDUE = "overdue"
REMINDER_HORIZON = timedelta(days=30)
NOTIFICATION_KIND = "sop_reading"

ACKNOWLEDGED, PENDING, OVERDUE_STATUS = "acknowledged", "pending", "overdue"

register_labels(actions={"sop.acknowledge": _l("Required SOP reading acknowledged")})


# --------------------------------------------------------------------------- versions and windows


def due_of(version: SopVersion) -> datetime:
    """The version's deadline (72 hours after publishing unless the publisher chose one)."""
    if version.reading_due_at is not None:
        return version.reading_due_at
    return (version.published_at or utcnow()) + DEFAULT_WINDOW


def window_of(version: SopVersion, user: User) -> tuple[datetime, datetime]:
    """(start, deadline) for one agent: the version's, or the same length from a later account creation."""
    published, due = version.published_at or utcnow(), due_of(version)
    created = user.created_at
    if created is not None and created > published:
        return created, created + max(due - published, timedelta(0))
    return published, due


def is_obligation_version(version: SopVersion) -> bool:
    """A published, required, non-minor version: one that asks for a new acknowledgement."""
    return (version.status == VersionStatus.PUBLISHED and bool(version.required_reading)
            and not version.minor_edit and version.number is not None)


def is_target(user: User, version: SopVersion) -> bool:
    """Whether the version asks this user to read it (see the module docstring)."""
    if user is None or user.role != Role.AGENT or not user.is_active_account:
        return False
    teams = version.reading_team_ids or []
    if teams and user.team_id not in teams:
        return False
    return user.created_at is None or user.created_at <= due_of(version)


# A later version of the same scenario; one alias for the process (an ``aliased()`` per call
# rebuilt its column proxies on every page an agent opens: the banner is on all of them).
_LATER = aliased(SopVersion, name="later_version")


def _required(current_only: bool = True):
    """SELECT of required (non-minor, published) versions of live scenarios; newest required per scenario.
    Built once per process: the banner runs it on every page an agent opens."""
    query = _REQUIRED.get(current_only)
    if query is None:
        query = _REQUIRED[current_only] = _build_required(current_only)
    return query


_REQUIRED: dict[bool, object] = {}


def _required_where(current_only: bool) -> list:
    """The WHERE of ``_required`` (with ``sop_scenarios`` joined)."""
    where = [SopVersion.status == VersionStatus.PUBLISHED, SopVersion.required_reading.is_(True),
             SopVersion.minor_edit.is_(False), SopScenario.is_archived.is_(False)]
    if current_only:
        later = _LATER
        where.append(~exists().where(
            later.scenario_id == SopVersion.scenario_id, later.status == VersionStatus.PUBLISHED,
            later.required_reading.is_(True), later.minor_edit.is_(False), later.number > SopVersion.number,
        ))
    return where


def _build_required(current_only: bool):
    query = (
        select(SopVersion)
        .join(SopScenario, SopScenario.id == SopVersion.scenario_id)
        .where(*_required_where(current_only))
        .options(joinedload(SopVersion.scenario))
    )
    return query.order_by(SopVersion.published_at.desc(), SopVersion.id.desc())


def obligation(scenario: SopScenario) -> SopVersion | None:
    """The version of this scenario everyone targeted must have read (None: nothing required)."""
    if scenario.is_archived:
        return None
    return db.session.scalar(
        select(SopVersion).where(
            SopVersion.scenario_id == scenario.id, SopVersion.status == VersionStatus.PUBLISHED,
            SopVersion.required_reading.is_(True), SopVersion.minor_edit.is_(False),
        ).order_by(SopVersion.number.desc()).limit(1)
    )


def _acks_by_scenario(user_ids, scenario_ids) -> dict[tuple[int, int], list[tuple[int, datetime]]]:
    """(user, scenario) → [(version number, acknowledged at)] sorted by number."""
    result: dict[tuple[int, int], list[tuple[int, datetime]]] = defaultdict(list)
    if not user_ids or not scenario_ids:
        return result
    global _ACKS
    if _ACKS is None:
        _ACKS = (
            select(SopAcknowledgement.user_id, SopVersion.scenario_id, SopVersion.number,
                   SopAcknowledgement.acknowledged_at)
            .join(SopVersion, SopVersion.id == SopAcknowledgement.version_id)
            .where(SopAcknowledgement.user_id.in_(bindparam("user_ids", expanding=True)),
                   SopVersion.scenario_id.in_(bindparam("scenario_ids", expanding=True)))
            .order_by(SopVersion.number)
        )
    rows = db.session.execute(_ACKS, {"user_ids": list(user_ids), "scenario_ids": list(scenario_ids)})
    for user_id, scenario_id, number, at in rows:
        result[(user_id, scenario_id)].append((number or 0, at))
    return result


_ACKS = None


def _satisfied_at(acks: list[tuple[int, datetime]], number: int) -> datetime | None:
    """When an acknowledgement of this version or a later one was first recorded (None: not yet)."""
    times = [at for n, at in acks if n >= number]
    return min(times) if times else None


# --------------------------------------------------------------------------- one agent


@dataclass
class Item:
    """One required version for one agent: its window and where the agent stands."""

    version: SopVersion
    start_at: datetime
    due_at: datetime
    acknowledged_at: datetime | None = None
    status: str = PENDING

    @property
    def scenario(self) -> SopScenario:
        return self.version.scenario

    @property
    def is_overdue(self) -> bool:
        return self.status == OVERDUE_STATUS


def _status(acknowledged_at: datetime | None, due: datetime, now: datetime) -> str:
    if acknowledged_at is not None:
        return ACKNOWLEDGED
    return OVERDUE_STATUS if now >= due else PENDING


def items_for(user: User, now: datetime | None = None) -> list[Item]:
    """Every current obligation of this agent, acknowledged or not (empty for other roles)."""
    if user is None or user.role != Role.AGENT or not user.is_active_account:
        return []
    now = now or utcnow()
    versions = [v for v in db.session.scalars(_required()).unique() if is_target(user, v)]
    acks = _acks_by_scenario([user.id], {v.scenario_id for v in versions})
    items = []
    for version in versions:
        start, due = window_of(version, user)
        at = _satisfied_at(acks.get((user.id, version.scenario_id), []), version.number)
        items.append(Item(version, start, due, at, _status(at, due, now)))
    return items


def unread_for(user: User, now: datetime | None = None) -> list[Item]:
    """The banner: the agent's required versions not yet acknowledged, overdue and soonest due first."""
    items = [item for item in items_for(user, now) if item.acknowledged_at is None]
    return sorted(items, key=lambda item: (not item.is_overdue, item.due_at, item.version.id))


# The banner's one statement: the current required versions (``_required``) this agent has not
# acknowledged (no acknowledgement of the scenario at that number or later, ``_satisfied_at``),
# with the columns the banner and the windows need; no ORM entities.
_ACK_VERSION = aliased(SopVersion, name="ack_version")
_BANNER = None


def _banner_statement():
    global _BANNER
    if _BANNER is None:
        acknowledged = (
            select(SopAcknowledgement.id)
            .join(_ACK_VERSION, _ACK_VERSION.id == SopAcknowledgement.version_id)
            .where(SopAcknowledgement.user_id == bindparam("user_id"),
                   _ACK_VERSION.scenario_id == SopVersion.scenario_id,
                   func.coalesce(_ACK_VERSION.number, 0) >= SopVersion.number)
            .exists()
        )
        _BANNER = (
            select(SopVersion.id, SopVersion.scenario_id, SopVersion.number, SopVersion.title,
                   SopVersion.published_at, SopVersion.reading_due_at, SopVersion.reading_team_ids)
            .join(SopScenario, SopScenario.id == SopVersion.scenario_id)
            .where(*_required_where(True), ~acknowledged)
        )
    return _BANNER


def banner_for(user: User, now: datetime | None = None) -> list[Item]:
    """``unread_for`` for a logged-in page, in one statement (none for roles that are never targeted).
    Each item's ``version`` is a row of the columns the banner shows (id, scenario_id, number, title)
    and the window needs (published_at, reading_due_at, reading_team_ids), not a ``SopVersion``."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.AGENT or not user.is_active_account:
        return []
    from ... import core_sql

    now = now or utcnow()
    items = []
    for version in core_sql.execute(_banner_statement(), {"user_id": user.id}):
        if not is_target(user, version):
            continue
        start, due = window_of(version, user)
        items.append(Item(version, start, due, None, _status(None, due, now)))
    return sorted(items, key=lambda item: (not item.is_overdue, item.due_at, item.version.id))


@dataclass
class MyReading:
    """An agent's own page: what to read, and what they have read (newest first)."""

    to_read: list[Item]
    read: list[Item]
    history: list[SopAcknowledgement] = field(default_factory=list)


def mine(user: User, now: datetime | None = None) -> MyReading:
    """What the agent must read, what they read, and every acknowledgement they recorded."""
    ensure(user, Permission.VIEW_SOP)
    items = items_for(user, now)
    to_read = sorted((i for i in items if i.acknowledged_at is None),
                     key=lambda i: (not i.is_overdue, i.due_at, i.version.id))
    read = sorted((i for i in items if i.acknowledged_at is not None),
                  key=lambda i: i.acknowledged_at, reverse=True)
    history = list(db.session.scalars(
        select(SopAcknowledgement).where(SopAcknowledgement.user_id == user.id)
        .options(joinedload(SopAcknowledgement.sop_version).joinedload(SopVersion.scenario))
        .order_by(SopAcknowledgement.acknowledged_at.desc(), SopAcknowledgement.id.desc())
    ))
    return MyReading(to_read, read, history)


@dataclass
class AckState:
    """What the acknowledge box on a version page shows to this user."""

    required: SopVersion | None  # the version they owe (None: nothing required of them here)
    acknowledged_at: datetime | None
    due_at: datetime | None
    can_acknowledge: bool  # the version shown satisfies the obligation and is not acknowledged yet
    overdue: bool = False


def ack_state(user: User, version: SopVersion, now: datetime | None = None) -> AckState:
    """The acknowledge box for ``version`` (any published version of a scenario) and this user."""
    now = now or utcnow()
    required = obligation(version.scenario) if version.is_published else None
    if required is None or not is_target(user, required):
        return AckState(None, None, None, False)
    start, due = window_of(required, user)
    acks = _acks_by_scenario([user.id], [version.scenario_id]).get((user.id, version.scenario_id), [])
    at = _satisfied_at(acks, required.number)
    return AckState(required, at, due, at is None and (version.number or 0) >= required.number,
                    at is None and now >= due)


def acknowledge(actor: User, version: SopVersion, now: datetime | None = None) -> SopAcknowledgement:
    """Record that the actor read and understood ``version`` (idempotent: a second click changes nothing).

    The version must be published and cover what the actor owes for its scenario
    (the required version or a later one). Returns the acknowledgement row.
    """
    ensure(actor, Permission.VIEW_SOP)
    if not version.is_published or version.scenario.is_archived:
        raise NotFound()
    existing = db.session.scalar(select(SopAcknowledgement).where(
        SopAcknowledgement.user_id == actor.id, SopAcknowledgement.version_id == version.id))
    if existing is not None:
        return existing
    required = obligation(version.scenario)
    if required is None or not is_target(actor, required):
        raise ValidationError({"version": _("This version is not required reading for you.")})
    if version.number < required.number:
        raise ValidationError({"version": _("Version %(n)d is the one to read: please open the current version.",
                                            n=required.number)})
    now = now or utcnow()
    inserted = _insert_ignore(SopAcknowledgement, {"user_id": actor.id, "version_id": version.id,
                                                   "acknowledged_at": now}, ("user_id", "version_id"))
    if inserted:
        record(actor, "sop.acknowledge", "sop_version", version.id,
               f"{version.scenario.title} v{version.number}")
    db.session.commit()
    return db.session.scalar(select(SopAcknowledgement).where(
        SopAcknowledgement.user_id == actor.id, SopAcknowledgement.version_id == version.id))


def _insert_ignore(model, values: dict, keys: tuple[str, ...]) -> bool:
    """INSERT … ON CONFLICT (keys) DO NOTHING on SQLite and PostgreSQL; True if this call inserted the row."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (insert(model).values(**values).on_conflict_do_nothing(index_elements=list(keys))
                 .returning(model.id))  # rowcount is -1 on psycopg 3 here: RETURNING says it for sure
    return db.session.execute(statement).scalar() is not None


# --------------------------------------------------------------------------- publishing and reminders


def targets(version: SopVersion) -> list[User]:
    """The agents this version asks to read it, in 工号 order."""
    query = select(User).where(User.role == Role.AGENT, User.is_active_account.is_(True))
    if version.reading_team_ids:
        query = query.where(User.team_id.in_([int(t) for t in version.reading_team_ids]))
    return [u for u in db.session.scalars(query.order_by(*username_order())) if is_target(u, version)]


def on_published(version: SopVersion) -> None:
    """Called by sop-core when a version is published (in its transaction; the caller commits).

    A required, non-minor version gets its deadline (72 hours unless chosen) and each
    targeted agent a notification; a minor edit or an ordinary version changes nothing.
    """
    if not version.required_reading:
        return
    if version.published_at is None:
        version.published_at = utcnow()
    if version.reading_due_at is None:
        version.reading_due_at = version.published_at + DEFAULT_WINDOW
    if version.minor_edit:
        return
    db.session.flush()
    title = _("Required reading: %(title)s (version %(n)d)", title=version.title, n=version.number or 0)
    for agent in targets(version):
        _start, due = window_of(version, agent)
        notify(agent, NOTIFICATION_KIND, title,
               _("Please read and acknowledge it by %(due)s (Beijing time).", due=format_datetime(due)),
               f"/sop/{version.scenario_id}")


def send_reminders(now: datetime | None = None) -> dict[str, int]:
    """The periodic task's work: 24 h / 48 h reminders to agents, the lead at the deadline (idempotent).

    Returns how many notices this run sent per threshold. Commits.
    """
    now = now or utcnow()
    sent = {"24h": 0, "48h": 0, OVERDUE: 0}
    versions = [v for v in db.session.scalars(_required()).unique()
                if v.published_at is not None and v.published_at <= now]
    # A late joiner's deadline can be one window after the version's: keep looking that long.
    versions = [v for v in versions if due_of(v) + (due_of(v) - v.published_at) + REMINDER_HORIZON >= now]
    if not versions:
        return sent
    overdue_by_lead: dict[tuple[int, int], list[User]] = defaultdict(list)
    for version in versions:
        agents = targets(version)
        acks = _acks_by_scenario([a.id for a in agents], [version.scenario_id])
        for agent in agents:
            if _satisfied_at(acks.get((agent.id, version.scenario_id), []), version.number) is not None:
                continue
            start, due = window_of(version, agent)
            threshold = _threshold(now, start, due)
            if threshold is None or (threshold == OVERDUE and now - due > REMINDER_HORIZON):
                continue
            if not _insert_ignore(SopReadingNotice, {"user_id": agent.id, "version_id": version.id,
                                                     "threshold": threshold, "sent_at": now},
                                  ("user_id", "version_id", "threshold")):
                continue  # sent before (or by another worker just now)
            sent[threshold] += 1
            if threshold == OVERDUE:
                lead_id = agent.team.lead_id if agent.team is not None else None
                if lead_id is not None and lead_id != agent.id:
                    overdue_by_lead[(lead_id, version.id)].append(agent)
            else:
                notify(agent, NOTIFICATION_KIND,
                       _("Reminder: required reading %(title)s (version %(n)d)", title=version.title,
                         n=version.number),
                       _("Please read and acknowledge it by %(due)s (Beijing time).", due=format_datetime(due)),
                       f"/sop/{version.scenario_id}")
    by_id = {v.id: v for v in versions}
    for (lead_id, version_id), agents in overdue_by_lead.items():
        version = by_id[version_id]
        names = "、".join(f"{a.display_name}（{a.username}）" for a in agents)
        team_id = agents[0].team_id
        notify(lead_id, NOTIFICATION_KIND,
               _("Overdue required reading: %(title)s (version %(n)d)", title=version.title, n=version.number),
               _("Not acknowledged by the deadline: %(names)s", names=names),
               f"/sop/reading?team={team_id}" if team_id else "/sop/reading")
    db.session.commit()
    return sent


def _threshold(now: datetime, start: datetime, due: datetime) -> str | None:
    """The highest threshold reached: overdue at the deadline, else 48 h / 24 h after the start."""
    if now >= due:
        return OVERDUE
    for name, after in REMINDERS:
        if now >= start + after:
            return name
    return None


# --------------------------------------------------------------------------- the matrix


def teams_in_scope(actor: User) -> list[Team]:
    """The teams whose agents the actor may see in the matrix: all for trainers/admins, a lead's own."""
    ensure(actor, Permission.VIEW_SOP_READING)
    query = select(Team).order_by(Team.name)
    if actor.role == Role.LEAD:
        own = lead_team_ids(actor)
        if not own:
            return []
        query = query.where(Team.id.in_(own))
    else:
        query = query.where(Team.is_active.is_(True))
    return list(db.session.scalars(query))


def lead_team_ids(lead: User) -> set[int]:
    """A lead's teams: the one they belong to and any they are recorded as lead of."""
    ids = set(db.session.scalars(select(Team.id).where(Team.lead_id == lead.id)))
    if lead.team_id is not None:
        ids.add(lead.team_id)
    return ids


def sees_every_team(actor: User) -> bool:
    """Trainers and admins see every team (and agents without one); leads only their own."""
    return has_permission(actor, Permission.VIEW_SOP_READING) and actor.role != Role.LEAD


@dataclass
class Cell:
    status: str | None  # None: this version does not ask this agent
    acknowledged_at: datetime | None = None
    due_at: datetime | None = None


@dataclass
class Row:
    version: SopVersion
    cells: list[Cell]
    superseded: bool = False

    @property
    def counts(self) -> dict[str, int]:
        counts = {ACKNOWLEDGED: 0, PENDING: 0, OVERDUE_STATUS: 0}
        for c in self.cells:
            if c.status:
                counts[c.status] += 1
        counts["total"] = sum(counts.values())
        return counts


@dataclass
class Matrix:
    agents: list[User]
    rows: list[Row]
    teams: list[Team]
    team_id: int | None
    show_all: bool
    now: datetime
    published: int = 0  # required versions in the period, asking someone in this scope or not


def matrix(actor: User, team_id: int | None = None, show_all: bool = False,
           now: datetime | None = None) -> Matrix:
    """Required versions × agents (acknowledged / pending / overdue), within the actor's scope.

    ``team_id`` narrows to one team (a lead may only name their own: PermissionDenied
    otherwise; without one a lead sees their own teams). ``show_all`` adds superseded
    required versions.
    """
    ensure(actor, Permission.VIEW_SOP_READING)
    now = now or utcnow()
    teams = teams_in_scope(actor)
    allowed = {t.id for t in teams}
    if team_id is not None and not sees_every_team(actor) and team_id not in allowed:
        raise PermissionDenied(Permission.VIEW_SOP_READING)
    if team_id is not None and sees_every_team(actor) and db.session.get(Team, team_id) is None:
        raise NotFound()
    agent_query = select(User).where(User.role == Role.AGENT, User.is_active_account.is_(True))
    if team_id is not None:
        agent_query = agent_query.where(User.team_id == team_id)
    elif not sees_every_team(actor):
        agent_query = agent_query.where(User.team_id.in_(allowed or {-1}))
    candidates = list(db.session.scalars(agent_query.order_by(*username_order())))
    versions = list(db.session.scalars(_required(current_only=not show_all)).unique())
    current_ids = {v.id for v in db.session.scalars(_required()).unique()} if show_all else None
    versions.sort(key=lambda v: (v.scenario.title, -(v.number or 0)))
    acks = _acks_by_scenario([a.id for a in candidates], {v.scenario_id for v in versions})
    targeted = {(v.id, a.id) for v in versions for a in candidates if is_target(a, v)}
    agents = [a for a in candidates if any((v.id, a.id) in targeted for v in versions)]
    rows = []
    for version in versions:
        cells = []
        for agent in agents:
            if (version.id, agent.id) not in targeted:
                cells.append(Cell(None))
                continue
            _start, due = window_of(version, agent)
            at = _satisfied_at(acks.get((agent.id, version.scenario_id), []), version.number)
            cells.append(Cell(_status(at, due, now), at, due))
        if any(cell.status for cell in cells):  # a version that asks nobody in this scope is left out
            rows.append(Row(version, cells, superseded=current_ids is not None and version.id not in current_ids))
    return Matrix(agents, rows, teams, team_id, show_all, now, published=len(versions))


def export_matrix(actor: User, team_id: int | None = None, show_all: bool = False,
                  now: datetime | None = None) -> bytes:
    """The matrix as .xlsx (a summary sheet and one row per version and agent), via the safe writer."""
    from ...spreadsheets import Workbook, local_time

    data = matrix(actor, team_id, show_all, now)
    labels = status_labels()
    book = Workbook()

    summary = book.sheet(_("Summary"), [
        (_("Scenario"), 28), (_("Version"), 8), (_("Published"), 18), (_("Reading deadline"), 18),
        (_("Acknowledged"), 10), (_("Not yet read"), 10), (_("Reading overdue"), 10), (_("Agents asked"), 10),
    ], freeze="A2")
    for row in data.rows:
        counts = row.counts
        summary.append([row.version.scenario.title, row.version.number, local_time(row.version.published_at),
                        local_time(due_of(row.version)), counts[ACKNOWLEDGED], counts[PENDING],
                        counts[OVERDUE_STATUS], counts["total"]])
    detail = book.sheet(_("Per agent"), [
        (_("Scenario"), 28), (_("Version"), 8), (_("Staff no."), 12), (_("Name"), 12), (_("Team"), 12),
        (_("Status"), 10), (_("Acknowledged at"), 18), (_("Reading deadline"), 18),
    ], freeze="A2")
    for row in data.rows:
        for agent, cell in zip(data.agents, row.cells, strict=True):
            if cell.status is None:
                continue
            detail.append([row.version.scenario.title, row.version.number, agent.username, agent.display_name,
                           agent.team.name if agent.team else "", labels[cell.status],
                           local_time(cell.acknowledged_at), local_time(cell.due_at)])
    return book.to_bytes()


def status_labels() -> dict[str, str]:
    """The words for acknowledged / pending / overdue."""
    return {ACKNOWLEDGED: _("Acknowledged"), PENDING: _("Not yet read"), OVERDUE_STATUS: _("Reading overdue")}

