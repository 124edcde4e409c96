"""Quality checks (质检): who may score whose replies, drawing a sample, scoring one, the team's
sheet of a week or month, an agent's own reviews, and the scorecard.

Scope: a lead reviews the agents of their own team, trainers and admins every agent; nobody their
own replies. A review is read by its agent, its reviewer and whoever may review that agent. One
review per reply (a unique key): a second scoring of the same reply, a double click or two
reviewers at once, stores nothing and points at the first.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import auditing
from ..dashboard.performance import period_end
from ..extensions import db
from ..models import (
    QualityCriterion,
    QualityReview,
    QualityReviewItem,
    Role,
    Team,
    Ticket,
    TicketReply,
    User,
)
from ..models.user import username_sort_key
from ..notifications.service import notify
from ..org.memberships import members_at
from ..permissions import Permission, PermissionDenied, ensure, has_permission
from ..service_errors import NotFound, StaleEdit, ValidationError
from ..settings import get_setting, set_setting
from ..tickets.queue import shanghai_day_bounds
from . import rules

auditing.register_labels(
    actions={
        "quality.review": _l("Reply reviewed"),
        "quality.appeal": _l("Quality score disputed"),
        "quality.appeal_decide": _l("Quality dispute decided"),
        "quality_criterion.create": _l("Scorecard criterion created"),
        "quality_criterion.update": _l("Scorecard criterion changed"),
        "quality_criterion.activate": _l("Scorecard criterion activated"),
        "quality_criterion.deactivate": _l("Scorecard criterion deactivated"),
    },
    entities={"quality_review": _l("Quality review"), "quality_criterion": _l("Scorecard criterion")},
)

PASS_SCORE_KEY = "quality.pass_score"
WEEKLY_TARGET_KEY = "quality.weekly_target"
MAX_WEEKLY_TARGET = 50
RECENT_DAYS = 30  # an agent's own average: the last 30 days
LISTED = 50  # reviews listed on a page


class AlreadyReviewed(Exception):
    """The reply has its review already (one per reply)."""

    def __init__(self, review_id: int):
        super().__init__(review_id)
        self.review_id = review_id


# --------------------------------------------------------------------------- scope


def can_review(viewer: User, agent: User) -> bool:
    """Whether ``viewer`` may score ``agent``'s replies: an agent (active or not), never oneself; a
    lead their own team's, trainers and admins anyone's."""
    return _may_review(viewer, agent.id, agent.role, agent.team_id)


def _may_review(viewer: User, agent_id: int, role: str, team_id: int | None) -> bool:
    """``can_review`` from the author's id, role and team (a row, no User loaded)."""
    if not has_permission(viewer, Permission.REVIEW_QUALITY) or role != Role.AGENT or agent_id == viewer.id:
        return False
    if viewer.role == Role.LEAD:
        return viewer.team_id is not None and team_id == viewer.team_id
    return True


def can_read(viewer: User, review: QualityReview) -> bool:
    """The agent it scores, its reviewer, and whoever may review that agent."""
    if review.agent_id == viewer.id:
        return True
    if not has_permission(viewer, Permission.REVIEW_QUALITY):
        return False
    return review.reviewer_id == viewer.id or can_review(viewer, review.agent)


def teams_for(viewer: User) -> list[Team]:
    """The teams ``viewer`` may look at: a lead their own, trainers and admins every active team."""
    ensure(viewer, Permission.REVIEW_QUALITY)
    if viewer.role == Role.LEAD:
        team = db.session.get(Team, viewer.team_id) if viewer.team_id else None
        return [team] if team else []
    return list(db.session.scalars(select(Team).where(Team.is_active.is_(True)).order_by(Team.name, Team.id)))


def team_for(teams: list[Team], team_id: int | None) -> Team | None:
    """The team asked for among ``teams`` (the first when it is not one of them)."""
    return next((t for t in teams if t.id == team_id), teams[0] if teams else None)


# --------------------------------------------------------------------------- the pass line


def pass_score() -> int:
    """The score a reviewed reply must reach (合格线), 80 unless an admin or trainer changed it."""
    return int(get_setting(PASS_SCORE_KEY))


def weekly_target() -> int:
    """How many replies of each agent should be scored a week (抽检目标), 3 unless changed; 0: none."""
    return int(get_setting(WEEKLY_TARGET_KEY))


def save_settings(actor: User, *, pass_score_text: str, target_text: str) -> tuple[int, int]:
    """Change the pass line (1–100) and the weekly target per agent (0–50, 0: none); audited. Raises
    ValidationError with a message per field, nothing saved. The caller commits."""
    ensure(actor, Permission.MANAGE_QUALITY)
    errors: dict[str, str] = {}
    line = rules.parse_awarded(pass_score_text, 100)
    if not line:
        errors["pass_score"] = _("Enter a whole number from 1 to 100.")
    target = rules.parse_awarded(target_text, MAX_WEEKLY_TARGET)
    if target is None:
        errors["weekly_target"] = _("Enter a whole number from 0 to %(n)d.", n=MAX_WEEKLY_TARGET)
    if errors:
        raise ValidationError(errors)
    set_setting(actor, PASS_SCORE_KEY, line)
    set_setting(actor, WEEKLY_TARGET_KEY, target)
    return line, target


# --------------------------------------------------------------------------- the team's sheet


@dataclass
class AgentLine:
    """One agent's period: replies recorded, how many were reviewed, and their scores."""

    user: User
    replies: int = 0
    reviewed: int = 0
    average: float | None = None
    lowest: int | None = None
    failed: int = 0  # below the pass line (fatal errors included)
    fatal: int = 0
    weakest: tuple[str, int] | None = None  # the criterion that lost most points, and how many (coaching)


@dataclass
class TeamSheet:
    team: Team | None
    period: str
    start: date
    end: date  # exclusive
    pass_score: int
    target: int = 0  # replies to score per agent in the period (a week's target; 0 for a month or none)
    lines: list[AgentLine] = field(default_factory=list)
    reviews: list[QualityReview] = field(default_factory=list)  # newest first, at most LISTED
    lost: list[tuple[str, int]] = field(default_factory=list)  # criteria by points lost in the period, most first

    @property
    def reviewed(self) -> int:
        return sum(line.reviewed for line in self.lines)

    def short_of_target(self, line: AgentLine) -> int:
        """How many more of ``line``'s replies should be scored to reach the target (no more than
        the replies they recorded); 0 when reached or without a target."""
        if not self.target or not line.user.is_active_account:
            return 0
        return max(0, min(self.target, line.replies) - line.reviewed)

    @property
    def under_target(self) -> int:
        """The agents whose replies were scored less than the target asks."""
        return sum(1 for line in self.lines if self.short_of_target(line))

    @property
    def average(self) -> float | None:
        """The average of every review in the period (not of the agents' averages)."""
        total = sum(line.average * line.reviewed for line in self.lines if line.average is not None)
        return total / self.reviewed if self.reviewed else None


def _below(line: int):
    """A count of the reviews scored under the pass line ``line`` (不合格), for a grouped read."""
    return func.sum(case((QualityReview.score < line, 1), else_=0))


def period_bounds(period: str, start: date) -> tuple[datetime, datetime]:
    """[since, until) of a week or month of Beijing days, in UTC."""
    return shanghai_day_bounds(start)[0], shanghai_day_bounds(period_end(period, start))[0]


def _members(team: Team, until: datetime, now: datetime) -> list[User]:
    """The agents who were in ``team`` at ``until`` (now when that is still to come), by 工号."""
    members = members_at(team, None if until > now else until, User.role == Role.AGENT)
    members.sort(key=lambda m: username_sort_key(m.username))
    return members


def _in_period(agent_ids, since: datetime, until: datetime):
    """Reviews of these agents' replies sent in [since, until)."""
    return (QualityReview.agent_id.in_(agent_ids), QualityReview.reply_sent_at >= since,
            QualityReview.reply_sent_at < until)


def team_sheet(viewer: User, team: Team | None, period: str, start: date, now: datetime) -> TeamSheet:
    """Each agent who was in ``team`` at the period's end (now for the running one) with the replies
    they recorded in it (corrections not counted), the reviews of those replies and the criterion
    that lost them most points; the team's criteria by points lost; the period's reviews, newest
    first. The number of statements does not grow with the agents or the reviews."""
    ensure(viewer, Permission.REVIEW_QUALITY)
    if team is not None and viewer.role == Role.LEAD and team.id != viewer.team_id:
        raise PermissionDenied(Permission.REVIEW_QUALITY)
    sheet = TeamSheet(team=team, period=period, start=start, end=period_end(period, start), pass_score=pass_score(),
                      target=weekly_target() if period == "week" else 0)
    if team is None:
        return sheet
    since, until = period_bounds(period, start)
    lines = {m.id: AgentLine(m) for m in _members(team, until, now)}
    if not lines:
        return sheet
    for agent_id, count in db.session.execute(
            select(TicketReply.recorded_by_id, func.count())
            .where(TicketReply.recorded_by_id.in_(lines), TicketReply.sent_at >= since, TicketReply.sent_at < until,
                   TicketReply.corrects_id.is_(None))
            .group_by(TicketReply.recorded_by_id)):
        lines[agent_id].replies = count
    for agent_id, count, average, lowest, failed, fatal in db.session.execute(
            select(QualityReview.agent_id, func.count(), func.avg(QualityReview.score), func.min(QualityReview.score),
                   _below(sheet.pass_score),
                   func.sum(case((QualityReview.fatal.is_(True), 1), else_=0)))
            .where(*_in_period(lines, since, until))
            .group_by(QualityReview.agent_id)):
        line = lines[agent_id]
        line.reviewed, line.average, line.lowest = count, float(average), lowest
        line.failed, line.fatal = int(failed or 0), int(fatal or 0)
    lost_by_name: dict[str, int] = {}
    for agent_id, name, lost in db.session.execute(
            select(QualityReview.agent_id, QualityReviewItem.name,
                   func.sum(QualityReviewItem.points - QualityReviewItem.awarded))
            .join(QualityReviewItem, QualityReviewItem.review_id == QualityReview.id)
            .where(*_in_period(lines, since, until), QualityReviewItem.awarded < QualityReviewItem.points)
            .group_by(QualityReview.agent_id, QualityReviewItem.name)):
        lost = int(lost)
        lost_by_name[name] = lost_by_name.get(name, 0) + lost
        line = lines[agent_id]
        if line.weakest is None or (-lost, name) < (-line.weakest[1], line.weakest[0]):
            line.weakest = (name, lost)
    sheet.lost = sorted(lost_by_name.items(), key=lambda pair: (-pair[1], pair[0]))
    # a deactivated agent stays while the period has their replies or reviews
    sheet.lines = [line for line in lines.values() if line.user.is_active_account or line.replies or line.reviewed]
    sheet.reviews = list(db.session.scalars(
        select(QualityReview).where(*_in_period(lines, since, until))
        .options(joinedload(QualityReview.agent), joinedload(QualityReview.reviewer),
                 joinedload(QualityReview.ticket))
        .order_by(QualityReview.created_at.desc(), QualityReview.id.desc()).limit(LISTED)))
    return sheet


def averages(agent_ids, since: datetime, until: datetime) -> dict[int, tuple[int, float]]:
    """agent id → (reviews, average score) of their replies sent in [since, until): the 质检 column of
    团队表现 and 我的表现 (the caller has checked who may read them). One statement."""
    ids = list(agent_ids)
    if not ids:
        return {}
    return {agent_id: (count, float(average)) for agent_id, count, average in db.session.execute(
        select(QualityReview.agent_id, func.count(), func.avg(QualityReview.score))
        .where(*_in_period(ids, since, until)).group_by(QualityReview.agent_id))}


def periods_of(agent_id: int, bounds: list[tuple[datetime, datetime]]) -> list[tuple[int, float] | None]:
    """(reviews, average score) of ``agent_id``'s replies sent in each of the periods ``bounds`` (None
    for a period without any): 我的表现's period and the one before. One statement."""
    which = case(*[(and_(QualityReview.reply_sent_at >= since, QualityReview.reply_sent_at < until), n)
                   for n, (since, until) in enumerate(bounds)], else_=-1)
    found = {n: (count, float(average)) for n, count, average in db.session.execute(
        select(which, func.count(), func.avg(QualityReview.score))
        .where(QualityReview.agent_id == agent_id, QualityReview.reply_sent_at >= min(b[0] for b in bounds),
               QualityReview.reply_sent_at < max(b[1] for b in bounds))
        .group_by(which))}
    return [found.get(n) for n in range(len(bounds))]


def overall(found: dict[int, tuple[int, float]]) -> float | None:
    """The average of every review behind ``averages(...)`` (not of the agents' averages)."""
    count = sum(n for n, _average in found.values())
    return sum(n * average for n, average in found.values()) / count if count else None


EXPORT_LIMIT = 20_000


def period_reviews(viewer: User, team: Team | None, period: str, start: date, now: datetime) -> list[QualityReview]:
    """Every review of the period on the sheet (its agents, replies sent in it), oldest first, with
    what the export writes; at most ``EXPORT_LIMIT``."""
    ensure(viewer, Permission.REVIEW_QUALITY)
    if team is None:
        return []
    if viewer.role == Role.LEAD and team.id != viewer.team_id:
        raise PermissionDenied(Permission.REVIEW_QUALITY)
    since, until = period_bounds(period, start)
    agent_ids = [m.id for m in _members(team, until, now)]
    if not agent_ids:
        return []
    return list(db.session.scalars(
        select(QualityReview).where(*_in_period(agent_ids, since, until))
        .options(joinedload(QualityReview.agent), joinedload(QualityReview.reviewer),
                 joinedload(QualityReview.appeal_decided_by), joinedload(QualityReview.reply),
                 joinedload(QualityReview.ticket).joinedload(Ticket.outlet), selectinload(QualityReview.items))
        .order_by(QualityReview.created_at, QualityReview.id).limit(EXPORT_LIMIT)))


# --------------------------------------------------------------------------- drawing and scoring


def _agent(viewer: User, agent_id: int | None) -> User:
    agent = db.session.get(User, agent_id) if agent_id else None
    if agent is None or not can_review(viewer, agent):
        raise NotFound()
    return agent


def risky_reply():
    """The condition on a reply (joined to its ticket) that makes it worth checking first (风险回复):
    sent after the ticket's reply deadline, or on a ticket that has been fined."""
    return or_(and_(Ticket.reply_due_at.is_not(None), TicketReply.sent_at > Ticket.reply_due_at), Ticket.fine_amount > 0)


def draw(viewer: User, agent_id: int | None, since: datetime, until: datetime,
         rng: random.Random | None = None, category: str | None = None, risky: bool = False) -> TicketReply:
    """One of ``agent``'s replies sent in [since, until) that has no review yet, at random (抽检), on
    a ticket of ``category`` when given (a lead checks the 仲裁 replies this week), and only a risky
    one (``risky_reply``: late, or on a fined ticket) when ``risky``; a ValidationError when there
    is none left."""
    ensure(viewer, Permission.REVIEW_QUALITY)
    agent = _agent(viewer, agent_id)
    reviewed = select(QualityReview.reply_id).where(QualityReview.agent_id == agent.id)
    query = (select(TicketReply.id)
             .where(TicketReply.recorded_by_id == agent.id, TicketReply.sent_at >= since, TicketReply.sent_at < until,
                    TicketReply.corrects_id.is_(None), TicketReply.id.not_in(reviewed)))
    if category or risky:
        query = query.join(Ticket, Ticket.id == TicketReply.ticket_id)
    if category:
        query = query.where(Ticket.category == category)
    if risky:
        query = query.where(risky_reply())
    left = db.session.scalar(select(func.count()).select_from(query.subquery()))
    offset = (rng or random).randrange(left) if left else 0  # every reply left as likely, however many
    chosen = db.session.scalar(query.order_by(TicketReply.id).offset(offset).limit(1)) if left else None
    if chosen is None and left:  # scored meanwhile by someone else: the first one left, if any
        chosen = db.session.scalar(query.order_by(TicketReply.id).limit(1))
    if chosen is None:
        if risky:
            message = _("%(name)s has no risky reply left to review in this period (sent after the deadline or on"
                        " a fined ticket).", name=agent.display_name)
        else:
            message = _("%(name)s has no reply left to review in this period.", name=agent.display_name)
        raise ValidationError({"agent_id": message})
    return db.session.get(TicketReply, chosen)


def reply_for_review(viewer: User, reply_id: int) -> TicketReply:
    """The reply with its ticket, outlet, brand and reason, when ``viewer`` may score its author."""
    ensure(viewer, Permission.REVIEW_QUALITY)
    reply = db.session.scalar(
        select(TicketReply).where(TicketReply.id == reply_id)
        .options(joinedload(TicketReply.recorded_by),
                 joinedload(TicketReply.ticket).options(joinedload(Ticket.outlet), joinedload(Ticket.reason))))
    if reply is None or reply.recorded_by is None or not can_review(viewer, reply.recorded_by):
        raise NotFound()
    return reply


def scorable_replies(viewer: User, replies) -> dict[int, tuple[int, int] | None]:
    """Of a ticket's ``replies`` (rows with id, recorded_by_id, corrects_id), the ones ``viewer`` may
    score, each with (review id, score) when it has a review: the ticket page's 质检 links. Nothing
    read for who does not review; one statement otherwise."""
    if not has_permission(viewer, Permission.REVIEW_QUALITY):
        return {}
    ids = [r.id for r in replies if r.recorded_by_id is not None and r.corrects_id is None]
    if not ids:
        return {}
    found = {}
    for reply_id, author_id, role, team_id, review_id, score in db.session.execute(
            select(TicketReply.id, User.id, User.role, User.team_id, QualityReview.id, QualityReview.score)
            .join(User, User.id == TicketReply.recorded_by_id)
            .outerjoin(QualityReview, QualityReview.reply_id == TicketReply.id)
            .where(TicketReply.id.in_(ids))):
        if _may_review(viewer, author_id, role, team_id):
            found[reply_id] = (review_id, score) if review_id is not None else None
    return found


def review_of_reply(reply_id: int) -> int | None:
    """The id of the reply's review, None when it has none yet."""
    return db.session.scalar(select(QualityReview.id).where(QualityReview.reply_id == reply_id))


def criteria(active_only: bool = True) -> list[QualityCriterion]:
    """The scorecard in its order (the active criteria, or all of them for the settings page)."""
    query = select(QualityCriterion).order_by(QualityCriterion.position, QualityCriterion.id)
    if active_only:
        query = query.where(QualityCriterion.is_active.is_(True))
    return list(db.session.scalars(query))


def review(viewer: User, reply_id: int, values: Mapping[str, str], *, fatal: bool, comment: str,
           now: datetime | None = None) -> QualityReview:
    """Score a reply against the active scorecard: the points per criterion (``values["c-<id>"]``),
    a fatal error, the feedback (required for any deduction). The agent is told. Raises
    ValidationError (messages per field, nothing stored) or AlreadyReviewed. Commits."""
    reply = reply_for_review(viewer, reply_id)
    existing = review_of_reply(reply.id)
    if existing:
        raise AlreadyReviewed(existing)
    cards = criteria()
    errors: dict[str, str] = {}
    if not cards:
        errors["form"] = _("The scorecard has no active criterion: ask a trainer or an admin to add one.")
    given: list[tuple[QualityCriterion, int]] = []
    for card in cards:
        value = rules.parse_awarded(values.get(f"c-{card.id}"), card.points)
        if value is None:
            errors[f"c-{card.id}"] = _("Enter a whole number from 0 to %(n)d.", n=card.points)
        else:
            given.append((card, value))
    comment = (comment or "").strip()
    if len(comment) > rules.MAX_COMMENT:
        errors["comment"] = _("At most %(max)d characters.", max=rules.MAX_COMMENT)
    awarded, possible = sum(v for _c, v in given), sum(c.points for c in cards)
    if not errors and rules.comment_needed(awarded, possible, fatal) and not comment:
        errors["comment"] = _("Say why points were taken off (or what the fatal error was): the agent learns "
                              "from the reason, not the number.")
    if errors:
        raise ValidationError(errors)
    result = QualityReview(
        reply_id=reply.id, ticket_id=reply.ticket_id, agent_id=reply.recorded_by_id, reviewer_id=viewer.id,
        reply_sent_at=reply.sent_at, awarded=awarded, possible=possible, fatal=bool(fatal),
        score=rules.score(awarded, possible, bool(fatal)), comment=comment, created_at=now or datetime.now(UTC),
        items=[QualityReviewItem(criterion_id=c.id, name=c.name, points=c.points, awarded=v, position=n)
               for n, (c, v) in enumerate(given)])
    db.session.add(result)
    try:
        db.session.flush()
    except IntegrityError:  # another reviewer scored it a moment ago
        db.session.rollback()
        raise AlreadyReviewed(review_of_reply(reply_id) or 0) from None
    verdict = _("meets the pass line") if rules.passed(result.score, pass_score()) else _("below the pass line")
    notify(reply.recorded_by_id, "quality_review",
           _("Quality check: %(score)d points (%(verdict)s), waybill %(waybill)s",
             score=result.score, verdict=verdict, waybill=reply.ticket.waybill_no),
           comment[:200], f"/quality/reviews/{result.id}")
    auditing.record(viewer, "quality.review", "quality_review", result.id,
                    summary=f"{reply.recorded_by.display_name} {reply.ticket.waybill_no} {result.score}")
    db.session.commit()
    return result


def get_review(viewer: User, review_id: int) -> QualityReview:
    """A review with its items, reply, ticket and people, for those who may read it (else NotFound)."""
    found = db.session.scalar(
        select(QualityReview).where(QualityReview.id == review_id)
        .options(selectinload(QualityReview.items), joinedload(QualityReview.agent),
                 joinedload(QualityReview.reviewer), joinedload(QualityReview.reply),
                 joinedload(QualityReview.ticket).options(joinedload(Ticket.outlet), joinedload(Ticket.reason))))
    if found is None or not can_read(viewer, found):
        raise NotFound()
    return found


# --------------------------------------------------------------------------- an agent's own


@dataclass
class OwnReviews:
    reviews: list[QualityReview]  # newest first, at most LISTED
    recent: int  # reviews of the last RECENT_DAYS days
    average: float | None
    failed: int
    pass_score: int


def own_reviews(user: User, now: datetime | None = None) -> OwnReviews:
    """``user``'s reviews, newest first, and the last 30 days' count, average and scores below the line."""
    ensure(user, Permission.VIEW_OWN_QUALITY)
    line = pass_score()
    since = (now or datetime.now(UTC)) - timedelta(days=RECENT_DAYS)
    count, average, failed = db.session.execute(
        select(func.count(), func.avg(QualityReview.score),
               _below(line))
        .where(QualityReview.agent_id == user.id, QualityReview.created_at >= since)).one()
    reviews = list(db.session.scalars(
        select(QualityReview).where(QualityReview.agent_id == user.id)
        .options(joinedload(QualityReview.reviewer), joinedload(QualityReview.ticket))
        .order_by(QualityReview.created_at.desc(), QualityReview.id.desc()).limit(LISTED)))
    return OwnReviews(reviews, count, float(average) if average is not None else None, int(failed or 0), line)


# --------------------------------------------------------------------------- the scorecard


def _criterion_errors(name: str, points: int | None, hint: str, exclude: int | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Enter the criterion's name.")
    elif len(name) > 40:
        errors["name"] = _("At most %(max)d characters.", max=40)
    elif db.session.scalar(select(QualityCriterion.id).where(QualityCriterion.name == name,
                                                             QualityCriterion.id != (exclude or 0))):
        errors["name"] = _("The scorecard has a criterion of that name already.")
    if points is None or not 1 <= points <= rules.MAX_POINTS:
        errors["points"] = _("Enter a whole number from 1 to 100.")
    if len(hint) > 200:
        errors["hint"] = _("At most %(max)d characters.", max=200)
    return errors


def create_criterion(actor: User, *, name: str, points: int | None, hint: str = "") -> QualityCriterion:
    """Add a criterion at the end of the scorecard; audited. The caller commits."""
    ensure(actor, Permission.MANAGE_QUALITY)
    name, hint = (name or "").strip(), (hint or "").strip()
    errors = _criterion_errors(name, points, hint)
    if errors:
        raise ValidationError(errors)
    last = db.session.scalar(select(func.max(QualityCriterion.position))) or 0
    criterion = QualityCriterion(name=name, points=points, hint=hint, position=last + 1)
    db.session.add(criterion)
    db.session.flush()
    auditing.record(actor, "quality_criterion.create", "quality_criterion", criterion.id, summary=name,
                    after={"name": name, "points": points, "hint": hint})
    return criterion


def update_criterion(actor: User, criterion: QualityCriterion, *, version: int, name: str, points: int | None,
                     hint: str = "") -> QualityCriterion:
    """Change a criterion (reviews already scored keep what it was); audited. The caller commits."""
    ensure(actor, Permission.MANAGE_QUALITY)
    if version != criterion.version:
        raise StaleEdit()
    name, hint = (name or "").strip(), (hint or "").strip()
    errors = _criterion_errors(name, points, hint, exclude=criterion.id)
    if errors:
        raise ValidationError(errors)
    before = {"name": criterion.name, "points": criterion.points, "hint": criterion.hint}
    criterion.name, criterion.points, criterion.hint = name, points, hint
    auditing.record(actor, "quality_criterion.update", "quality_criterion", criterion.id, summary=name,
                    before=before, after={"name": name, "points": points, "hint": hint})
    return criterion


def set_criterion_active(actor: User, criterion: QualityCriterion, active: bool) -> QualityCriterion:
    """Take a criterion off the scorecard (or back): new reviews no longer score it. The caller commits."""
    ensure(actor, Permission.MANAGE_QUALITY)
    auditing.record_active_change(actor, criterion, active, "quality_criterion", criterion.name)
    return criterion


# --------------------------------------------------------------------------- appeals (申诉)


class AppealState:
    OPEN = "open"  # 申诉中
    UPHELD = "upheld"  # 维持原分
    CHANGED = "changed"  # 已改分


def appeal(agent: User, review_id: int, reason: str, now: datetime | None = None) -> QualityReview:
    """The agent disputes their score, once and within ``rules.APPEAL_DAYS`` days, saying why; the
    reviewer is told (the agent's lead when the reviewer's account is closed). Commits."""
    ensure(agent, Permission.VIEW_OWN_QUALITY)
    now = now or datetime.now(UTC)
    found = db.session.get(QualityReview, review_id)
    if found is None or found.agent_id != agent.id:
        raise NotFound()
    if found.appeal_state is not None:
        raise ValidationError({"appeal_reason": _("This score was disputed already.")})
    if not rules.may_appeal(found.appeal_state, found.created_at, now):
        raise ValidationError({"appeal_reason": _("A score can be disputed within %(n)d days of it: this one can "
                                                  "no longer be.", n=rules.APPEAL_DAYS)})
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"appeal_reason": _("Say why the score is wrong: what the reviewer missed.")})
    if len(reason) > rules.MAX_APPEAL:
        raise ValidationError({"appeal_reason": _("At most %(max)d characters.", max=rules.MAX_APPEAL)})
    found.appeal_state, found.appeal_reason, found.appealed_at = AppealState.OPEN, reason, now
    to = found.reviewer if found.reviewer is not None and found.reviewer.is_active_account else None
    if to is None and agent.team is not None and agent.team.lead_id:
        to = db.session.get(User, agent.team.lead_id)
    if to is not None:
        notify(to, "quality_appeal", _("%(name)s disputes a quality score (%(score)d points)",
                                        name=agent.display_name, score=found.score),
               reason[:200], f"/quality/reviews/{found.id}")
    auditing.record(agent, "quality.appeal", "quality_review", found.id, summary=reason[:100])
    try:
        db.session.commit()
    except StaleDataError:  # a double submit: the first one stored the dispute
        db.session.rollback()
        raise ValidationError({"appeal_reason": _("This score was disputed already.")}) from None
    return found


def decide_appeal(viewer: User, review_id: int, *, version: int | None, change: bool, values: Mapping[str, str],
                  fatal: bool, note: str, now: datetime | None = None) -> QualityReview:
    """Uphold a disputed score, or score the reply again (the points per criterion as scored,
    ``values["i-<item id>"]``, and the fatal error); the original score is kept and the agent told.
    Raises StaleEdit when someone decided it meanwhile, ValidationError for bad input. Commits."""
    ensure(viewer, Permission.REVIEW_QUALITY)
    found = get_review(viewer, review_id)
    if not can_review(viewer, found.agent):
        raise NotFound()
    if version != found.version or found.appeal_state != AppealState.OPEN:
        raise StaleEdit()
    errors: dict[str, str] = {}
    note = (note or "").strip()
    if not note:
        errors["appeal_note"] = _("Say what you decided and why: the agent reads it.")
    elif len(note) > rules.MAX_APPEAL:
        errors["appeal_note"] = _("At most %(max)d characters.", max=rules.MAX_APPEAL)
    given: dict[int, int] = {}
    if change:
        for item in found.items:
            value = rules.parse_awarded(values.get(f"i-{item.id}"), item.points)
            if value is None:
                errors[f"i-{item.id}"] = _("Enter a whole number from 0 to %(n)d.", n=item.points)
            else:
                given[item.id] = value
        if not errors:
            awarded = sum(given.values())
            if rules.score(awarded, found.possible, fatal) == found.score and bool(fatal) == found.fatal:
                errors["form"] = _("The new points give the same score: uphold it instead.")
    if errors:
        raise ValidationError(errors)
    before = found.score
    if change:
        for item in found.items:
            item.awarded = given[item.id]
        found.awarded, found.fatal = sum(given.values()), bool(fatal)
        found.original_score, found.score = before, rules.score(found.awarded, found.possible, found.fatal)
    found.appeal_state = AppealState.CHANGED if change else AppealState.UPHELD
    found.appeal_decided_by_id, found.appeal_decided_at, found.appeal_note = viewer.id, now or datetime.now(UTC), note
    if change:
        title = _("Your dispute was accepted: %(before)d → %(after)d points", before=before, after=found.score)
    else:
        title = _("Your dispute was declined: the score stays at %(score)d points", score=found.score)
    notify(found.agent_id, "quality_appeal", title, note[:200], f"/quality/reviews/{found.id}")
    auditing.record(viewer, "quality.appeal_decide", "quality_review", found.id, summary=note[:100],
                    before={"score": before}, after={"score": found.score, "appeal": found.appeal_state})
    try:
        db.session.commit()
    except StaleDataError:  # another reviewer decided it between our read and our write
        db.session.rollback()
        raise StaleEdit() from None
    return found


def open_appeal_count(lead: User) -> int:
    """How many disputed scores of the lead's team's agents wait for a decision (the lead's home says
    so). One statement; 0 for someone who does not review or has no team."""
    if not has_permission(lead, Permission.REVIEW_QUALITY) or lead.team_id is None:
        return 0
    return db.session.scalar(
        select(func.count(QualityReview.id)).join(User, User.id == QualityReview.agent_id)
        .where(QualityReview.appeal_state == AppealState.OPEN, User.team_id == lead.team_id)) or 0


def open_appeals(viewer: User, team: Team | None) -> list[QualityReview]:
    """The disputed scores of ``team``'s agents (now) waiting for a decision, oldest first."""
    ensure(viewer, Permission.REVIEW_QUALITY)
    if team is None:
        return []
    return list(db.session.scalars(
        select(QualityReview).join(User, User.id == QualityReview.agent_id)
        .where(QualityReview.appeal_state == AppealState.OPEN, User.team_id == team.id)
        .options(joinedload(QualityReview.agent), joinedload(QualityReview.ticket))
        .order_by(QualityReview.appealed_at, QualityReview.id).limit(LISTED)))


# --------------------------------------------------------------------------- from a score to training

REFRESHER_DAYS = 7  # the default due date of a course assigned after a review
MAX_REFRESHER_DAYS = 90


def refresher_courses() -> list:
    """The published courses a trainer may assign after a review, by title."""
    from ..models import TrainingCourse
    from ..models.training import CourseStatus

    return list(db.session.scalars(select(TrainingCourse).where(TrainingCourse.status == CourseStatus.PUBLISHED)
                                   .order_by(TrainingCourse.title, TrainingCourse.id)))


def assign_refresher(actor: User, review_id: int, course_id: int | None, due_on: date | None,
                     today: date) -> tuple[object, date]:
    """Assign the reviewed agent a published course due on ``due_on`` (today to 90 days on): what the
    score showed them to relearn. The agent is told; the assignment is audited by training. Commits."""
    from ..models import TrainingCourse
    from ..models.training import CourseStatus
    from ..training.programmes import service as programmes

    ensure(actor, Permission.ASSIGN_TRAINING)
    found = get_review(actor, review_id)
    errors: dict[str, str] = {}
    course = db.session.get(TrainingCourse, course_id) if course_id else None
    if course is None or course.status != CourseStatus.PUBLISHED:
        errors["course_id"] = _("Choose a published course.")
    if due_on is None or not today <= due_on <= today + timedelta(days=MAX_REFRESHER_DAYS):
        errors["due_on"] = _("Enter a due date from today to %(n)d days on, as 2026-12-10.", n=MAX_REFRESHER_DAYS)
    if not found.agent.is_active_account:
        errors["course_id"] = _("%(name)s's account is closed.", name=found.agent.display_name)
    if errors:
        raise ValidationError(errors)
    notify(found.agent_id, "training_assigned",
           _("After a quality check: the course %(title)s, due %(day)s", title=course.title, day=due_on.isoformat()),
           _("Assigned by %(name)s after the review of waybill %(waybill)s.", name=actor.display_name,
             waybill=found.ticket.waybill_no), f"/training/courses/{course.id}")
    programmes.assign_course(actor, course, user_ids=[str(found.agent_id)], due_on=due_on)  # commits
    return course, due_on


APPEAL_WAIT = timedelta(days=2)  # a dispute waiting this long is put to the agent's lead again
APPEAL_REMINDER = "quality_appeal_wait"


def remind_waiting_appeals(now: datetime | None = None) -> int:
    """Disputes waiting for a decision for more than two days: the agent's lead (else the reviewer) is
    told once per dispute, whatever runs this again (a ``SentMark`` per lead and review, claimed in
    the notification's transaction). How many were sent."""
    from ..models import SentMark

    now = now or datetime.now(UTC)
    waiting = db.session.scalars(
        select(QualityReview).where(QualityReview.appeal_state == AppealState.OPEN,
                                    QualityReview.appealed_at <= now - APPEAL_WAIT)
        .options(joinedload(QualityReview.agent).joinedload(User.team), joinedload(QualityReview.reviewer))
        .order_by(QualityReview.appealed_at, QualityReview.id).limit(500)).all()
    done = set(db.session.scalars(select(SentMark.period).where(
        SentMark.kind == APPEAL_REMINDER, SentMark.period.in_([str(r.id) for r in waiting])))) if waiting else set()
    sent = 0
    for review in waiting:
        if str(review.id) in done:
            continue
        team = review.agent.team
        to = db.session.get(User, team.lead_id) if team is not None and team.lead_id else None
        if to is None or not to.is_active_account:
            to = review.reviewer if review.reviewer is not None and review.reviewer.is_active_account else None
        if to is None:
            continue
        db.session.add(SentMark(kind=APPEAL_REMINDER, user_id=to.id, period=str(review.id), sent_at=now))
        days = int((now - review.appealed_at) / timedelta(days=1))
        notify(to, APPEAL_REMINDER, _("A quality dispute of %(name)s has waited %(n)d days for a decision",
                                      name=review.agent.display_name, n=days),
               review.appeal_reason[:200], f"/quality/reviews/{review.id}")
        try:
            db.session.commit()
        except IntegrityError:  # told already (an earlier run, another worker)
            db.session.rollback()
            continue
        sent += 1
    return sent


@dataclass
class TeamWeek:
    """One team's line on a trainer's home: this week's checks and the disputes waiting."""

    team: Team
    reviewed: int = 0
    average: float | None = None
    failed: int = 0
    disputes: int = 0


def teams_this_week(viewer: User, now: datetime | None = None) -> list[TeamWeek]:
    """Every active team with the checks of this week's replies by its agents (now in it) and the
    disputes waiting: a trainer's home. Three statements."""
    from ..dashboard.performance import period_start
    from ..workcalendar import SHANGHAI

    ensure(viewer, Permission.REVIEW_QUALITY)
    now = now or datetime.now(UTC)
    since, until = period_bounds("week", period_start("week", now.astimezone(SHANGHAI).date()))
    lines = {team.id: TeamWeek(team) for team in teams_for(viewer)}
    if not lines:
        return []
    line = pass_score()
    for team_id, count, average, failed in db.session.execute(
            select(User.team_id, func.count(), func.avg(QualityReview.score),
                   _below(line))
            .select_from(QualityReview).join(User, User.id == QualityReview.agent_id)
            .where(User.team_id.in_(lines), QualityReview.reply_sent_at >= since, QualityReview.reply_sent_at < until)
            .group_by(User.team_id)):
        week = lines[team_id]
        week.reviewed, week.average, week.failed = count, float(average), int(failed or 0)
    for team_id, count in db.session.execute(
            select(User.team_id, func.count()).select_from(QualityReview).join(User, User.id == QualityReview.agent_id)
            .where(User.team_id.in_(lines), QualityReview.appeal_state == AppealState.OPEN)
            .group_by(User.team_id)):
        lines[team_id].disputes = count
    return list(lines.values())
