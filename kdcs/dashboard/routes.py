from datetime import UTC, datetime

from flask import abort, request
from flask_login import current_user

from ..extensions import db
from ..health import service as health
from ..htmx import render
from ..margin import service as margin_service
from ..models import Role, User
from ..outlets.service import latest_month
from ..permissions import Permission, has_permission, require
from ..quality import service as quality_service
from ..tickets.followups import service as follow_up_service
from ..tickets.labels import label
from ..workcalendar import SHANGHAI
from ..workcalendar.service import next_year_warning
from . import bp, performance, service


def _today():
    return datetime.now(SHANGHAI).date()


@bp.route("/")
@require(Permission.VIEW_HOME)
def home():
    """Each role's home page: what is due today for agents (tickets and training), the team for leads
    (with leave to decide and who is not live), agents by team and this week's 质检 for trainers, the system and 人均毛利 of
    the newest month with parcels for admins."""
    role = current_user.role
    context = {}
    if role == Role.ADMIN:
        context["worker"] = health.worker_status()
        context["counts"] = service.admin_counts()
        context["recent_audit"] = service.recent_audit()
        context["calendar_missing_year"] = next_year_warning(_today())
        if has_permission(current_user, Permission.VIEW_MARGIN):
            context["margin"] = margin_service.month_report(current_user, margin_service.default_month())
    elif role == Role.LEAD:
        context["day"] = service.team_day(current_user)
        context["summary"] = service.outlet_summary(current_user)
        context["attention"] = service.lead_attention(current_user, context["day"], _today(), context["summary"])
        context["follow_ups"] = follow_up_service.home_figures(current_user)
    elif role == Role.AGENT:
        context["day"] = service.agent_day(current_user)
        context["summary"] = service.outlet_summary(current_user)
        context["training"] = service.agent_training(current_user, _today())
        context["follow_ups"] = follow_up_service.home_figures(current_user)
        unread = context["day"].unread
        context["unread_notifications"] = lambda: unread  # the bell shows the count the page read
    else:
        context["agents_by_team"] = service.agents_by_team()
        if has_permission(current_user, Permission.REVIEW_QUALITY):
            context["quality_week"] = quality_service.teams_this_week(current_user._get_current_object())
    return render(f"dashboard/home_{role}.html", **context)


@bp.route("/team")
@require(Permission.VIEW_TEAM)
def team():
    """A lead's team: members, their outlets, the parcels and fees of the latest month, who is away."""
    month = latest_month()
    members = service.team_members(current_user.team_id, month)
    return render("dashboard/team.html", members=members, team=current_user.team, month=month)


def _period_args(today):
    """The period and its first day asked in the query string (``performance.period_asked``)."""
    return performance.period_asked(request.args, today)


@bp.route("/team/performance")
@require(Permission.VIEW_TEAM)
def team_performance():
    """The team's week or month per agent: first replies on time, deadlines missed, replies,
    closed tickets and fines (a lead's own team; an admin picks the team)."""
    today = _today()
    period, start, error = _period_args(today)
    teams = performance.teams_for(current_user)  # read once: the picker and the default team
    team = performance.team_for(current_user, request.args.get("team", type=int), teams)
    report = performance.team_period(current_user, team, period, start, datetime.now(UTC))
    quality = quality_service.averages((line.user.id for line in report.lines),
                                       *quality_service.period_bounds(period, start))
    return render("dashboard/performance.html", report=report, error=error, teams=teams, quality=quality,
                  quality_total=quality_service.overall(quality),
                  duration=performance.duration_text,
                  current=performance.period_start(period, today), previous=performance.previous_start(period, start),
                  next=report.end, period_label=performance.period_label)


def _person_page(person, endpoint: str, **url_args):
    """One person's week or month (the agent's own page and a lead's look at a member share it)."""
    today = _today()
    period, start, error = _period_args(today)
    now = datetime.now(UTC)
    report = performance.person_period(current_user, person, period, start, now)
    quality = quality_service.periods_of(person.id, [quality_service.period_bounds(period, first) for first in (
        start, performance.previous_start(period, start))])  # this period's and the one before's (count, average)
    return render("dashboard/person_performance.html", report=report, error=error, now=now, quality=quality,
                  L=label, duration=performance.duration_text,
                  endpoint=endpoint, url_args=url_args, own=person.id == current_user.id,
                  current=performance.period_start(period, today), previous=performance.previous_start(period, start),
                  next=report.end, period_label=performance.period_label)


@bp.route("/me/performance")
@require(Permission.WORK_TICKETS)
def my_performance():
    """我的表现: an agent's own week or month (first replies on time, deadlines missed, replies,
    closed, fines) against the period before, and the tickets behind every late or missed reply."""
    if not performance.can_view_person(current_user, current_user):
        abort(404)  # an admin holds no queue
    return _person_page(current_user, "dashboard.my_performance")


@bp.route("/team/performance/<int:user_id>")
@require(Permission.VIEW_TEAM)
def member_performance(user_id: int):
    """A lead's look at one member's week or month, as the member sees it (an admin: anyone's)."""
    person = db.session.get(User, user_id)
    if person is None or not performance.can_view_person(current_user, person):
        abort(404)
    return _person_page(person, "dashboard.member_performance", user_id=person.id)
