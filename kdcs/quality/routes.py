"""The quality pages (/quality/): the team's sheet and the draw, scoring a reply, a review, an
agent's own reviews, and the scorecard with the pass line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..crud import InlineEdit
from ..dashboard import performance
from ..extensions import db
from ..htmx import redirect_after_post, render
from ..models import Category, QualityCriterion, Role, SopVersion
from ..permissions import Permission, has_permission, require
from ..request_args import day_or_none, id_or_none
from ..service_errors import StaleEdit, ValidationError
from ..tickets.labels import label
from ..views import apply_errors
from ..workcalendar import SHANGHAI
from . import bp, rules, service
from .forms import (
    AppealDecisionForm,
    AppealForm,
    CriterionForm,
    RefresherForm,
    ReviewForm,
    SettingsForm,
)


def _today():
    """Today in Beijing."""
    return datetime.now(SHANGHAI).date()


CATEGORIES = tuple(c.value for c in Category)


def _category_asked() -> str | None:
    """The ticket category the draw keeps to (抽检范围), None for every category."""
    asked = request.args.get("category", "")
    return asked if asked in CATEGORIES else None


def _risky_asked(values) -> bool:
    """Whether the draw keeps to risky replies (late, or on a fined ticket): ``risky=1``."""
    return values.get("risky", "") == "1"


def _scope_args(team_id: int | None, category: str | None = None, risky: bool = False) -> dict:
    """What a link to the sheet keeps besides the period: the team picked (not for a lead: theirs),
    the category the draw keeps to and whether it keeps to risky replies."""
    args = {}
    if team_id and current_user.role != Role.LEAD:
        args["team"] = team_id
    if category:
        args["category"] = category
    if risky:
        args["risky"] = 1
    return args


def _sheet_url(period: str, start, team_id: int | None, category: str | None = None, risky: bool = False) -> str:
    """The sheet of the period that begins on ``start``, with its team and the draw's scope."""
    return url_for("quality.index", period=period, start=start.isoformat(), **_scope_args(team_id, category, risky))


@bp.route("/")
@require(Permission.REVIEW_QUALITY)
def index():
    """The team's week or month: the disputed scores waiting for a decision, each agent's replies, how
    many were drawn and scored, their average, lowest and failed scores, a button to draw one more; the
    period's reviews below."""
    today = _today()
    period, start, error = performance.period_asked(request.args, today)
    user = current_user._get_current_object()
    teams = service.teams_for(user)
    team = service.team_for(teams, request.args.get("team", type=int))
    sheet = service.team_sheet(user, team, period, start, datetime.now(UTC))
    category, risky = _category_asked(), _risky_asked(request.args)
    return render("quality/index.html", report=sheet, error=error, teams=teams if user.role != Role.LEAD else [],
                  appeals=service.open_appeals(user, team), category=category, categories=CATEGORIES, risky=risky,
                  scope_args=_scope_args(team.id if team else None, category, risky), L=label,
                  current=performance.period_start(period, today), previous=performance.previous_start(period, start),
                  next=sheet.end, period_label=performance.period_label, passed=rules.passed)


EXPORT_COLUMNS = [("质检时间", 17), ("客服", 10), ("工号", 10), ("运单号", 18), ("网点", 24), ("回复时间", 17),
                  ("回复内容", 40), ("得分", 6), ("结果", 8), ("致命错误", 8), ("各项得分", 40), ("给客服的反馈", 40),
                  ("质检人", 10), ("申诉", 10), ("申诉理由", 30), ("原分", 6), ("申诉处理说明", 30), ("处理人", 10)]


@bp.route("/export.xlsx")
@require(Permission.REVIEW_QUALITY)
def export():
    """The period's reviews of the team on the sheet as .xlsx (the monthly quality report; user text
    stays text, never a formula)."""
    from ..spreadsheets import Workbook, local_time, xlsx_response

    today = _today()
    period, start, _error = performance.period_asked(request.args, today)
    user = current_user._get_current_object()
    team = service.team_for(service.teams_for(user), request.args.get("team", type=int))
    reviews = service.period_reviews(user, team, period, start, datetime.now(UTC))
    line = service.pass_score()
    appeal_names = {"open": _("Disputed"), "upheld": _("Score upheld"), "changed": _("Scored again")}
    book = Workbook()
    sheet = book.sheet(f"{start:%Y-%m-%d}", EXPORT_COLUMNS, freeze="C2")
    for r in reviews:
        items = "；".join(f"{i.name} {i.awarded}/{i.points}" for i in r.items)
        sheet.append([local_time(r.created_at), r.agent.display_name, r.agent.username, r.ticket.waybill_no,
                      f"{r.ticket.outlet.code} {r.ticket.outlet.name}", local_time(r.reply_sent_at), r.reply.body, r.score,
                      _("Meets the pass line") if rules.passed(r.score, line) else _("Below the pass line"),
                      _("Yes") if r.fatal else "", items, r.comment, r.reviewer.display_name if r.reviewer else "",
                      appeal_names.get(r.appeal_state or "", ""), r.appeal_reason, r.original_score, r.appeal_note,
                      r.appeal_decided_by.display_name if r.appeal_decided_by else ""])
    team_name = team.name if team else ""
    return xlsx_response(book.to_bytes(), f"质检_{team_name}_{start:%Y-%m-%d}.xlsx")


@bp.route("/draw", methods=["POST"])
@require(Permission.REVIEW_QUALITY)
def draw():
    """Draw one of the agent's replies of the period that has no review yet, at random, and open it
    for scoring; when none is left the sheet says so."""
    period = request.form.get("period", "week")
    period = period if period in performance.PERIODS else "week"
    day = performance.parse_day(request.form.get("start", "")) or _today()
    start = performance.period_start(period, day)
    team_id = id_or_none(request.form.get("team"))
    since, until = service.period_bounds(period, start)
    category = request.form.get("category", "")
    category = category if category in CATEGORIES else None
    risky = _risky_asked(request.form)
    try:
        reply = service.draw(current_user, id_or_none(request.form.get("agent_id")), since, until, category=category,
                             risky=risky)
    except ValidationError as exc:
        flash(next(iter(exc.errors.values())), "warning")
        return redirect_after_post(_sheet_url(period, start, team_id, category, risky))
    return redirect_after_post(url_for("quality.score", reply_id=reply.id))


def _sop_version(reply):
    """The SOP version the agent had open when recording the reply, if any."""
    return db.session.get(SopVersion, reply.sop_version_id) if reply.sop_version_id else None


def _score_page(reply, form: ReviewForm, values: dict[str, str] | None = None, errors: dict | None = None,
                status: int = 200):
    cards = service.criteria()
    if values is None:
        values = {f"c-{c.id}": str(c.points) for c in cards}  # full points: the reviewer takes off
    sent_day = reply.sent_at.astimezone(SHANGHAI).date()
    return render("quality/score.html", reply=reply, form=form, cards=cards, values=values, errors=errors or {},
                  L=label, sop_version=_sop_version(reply),
                  possible=sum(c.points for c in cards), pass_score=service.pass_score(), status=status,
                  back=_sheet_url("week", performance.period_start("week", sent_day), reply.recorded_by.team_id))


@bp.route("/replies/<int:reply_id>/review", methods=["GET", "POST"])
@require(Permission.REVIEW_QUALITY)
def score(reply_id: int):
    """Score a drawn reply against the scorecard (full points to start with; a deduction needs a
    reason). A reply scored already opens its review."""
    user = current_user._get_current_object()
    reply = service.reply_for_review(user, reply_id)
    existing = service.review_of_reply(reply.id)
    if existing:
        if request.method == "POST":
            flash(_("This reply was scored already: here is its review."), "info")
        return redirect_after_post(url_for("quality.review", review_id=existing))
    form = ReviewForm()
    if request.method == "GET":
        return _score_page(reply, ReviewForm(formdata=None))
    values = {key: request.form.get(key, "")[:10] for key in request.form if key.startswith("c-")}
    if not form.validate_on_submit():
        return _score_page(reply, form, values, status=400)
    try:
        result = service.review(user, reply.id, values, fatal=bool(form.fatal.data), comment=form.comment.data or "")
    except service.AlreadyReviewed as exc:
        flash(_("This reply was scored already: here is its review."), "info")
        return redirect_after_post(url_for("quality.review", review_id=exc.review_id))
    except ValidationError as exc:
        apply_errors(form, {k: v for k, v in exc.errors.items() if k == "comment"})
        return _score_page(reply, form, values, exc.errors, status=422)
    flash(_("Scored: %(score)d points. %(name)s has been told.", score=result.score,
            name=reply.recorded_by.display_name), "success")
    return redirect_after_post(url_for("quality.review", review_id=result.id))


def _refresher_form(formdata=None) -> RefresherForm | None:
    """The 安排培训 form for those who assign training (its course choices), else None."""
    if not has_permission(current_user, Permission.ASSIGN_TRAINING):
        return None
    form = RefresherForm(formdata=formdata) if formdata is not None else RefresherForm(
        formdata=None, due_on=(_today() + timedelta(days=service.REFRESHER_DAYS)).isoformat())
    form.course_id.choices = [(0, _("Choose a course"))] + [(c.id, c.title) for c in service.refresher_courses()]
    return form


def _review_page(review_id: int, *, appeal_form: AppealForm | None = None,
                 decision_form: AppealDecisionForm | None = None, values: dict[str, str] | None = None,
                 errors: dict[str, str] | None = None, refresher_form: RefresherForm | None = None,
                 status: int = 200):
    user = current_user._get_current_object()
    found = service.get_review(user, review_id)
    sent_day = found.reply_sent_at.astimezone(SHANGHAI).date()
    week = performance.period_start("week", sent_day)
    can_review = service.can_review(user, found.agent)
    if decision_form is None:
        decision_form = AppealDecisionForm(formdata=None, fatal=found.fatal)
    if values is None:
        values = {f"i-{item.id}": str(item.awarded) for item in found.items}
    own = found.agent_id == user.id
    return render("quality/review.html", review=found, pass_score=service.pass_score(), passed=rules.passed,
                  can_review=can_review, week=week, L=label, sop_version=_sop_version(found.reply),
                  back=_sheet_url("week", week, found.agent.team_id) if can_review else None, own=own,
                  may_appeal=own and rules.may_appeal(found.appeal_state, found.created_at, datetime.now(UTC)),
                  appeal_deadline=rules.appeal_deadline(found.created_at),
                  appeal_form=appeal_form or AppealForm(formdata=None), decision_form=decision_form,
                  values=values, errors=errors or {}, status=status,
                  refresher_form=refresher_form or (_refresher_form() if found.agent.is_active_account else None))


@bp.route("/reviews/<int:review_id>")
@require()
def review(review_id: int):
    """One review: the reply as it was sent, the points per criterion, the feedback, the dispute (the
    agent it scores, its reviewer and whoever may review that agent)."""
    return _review_page(review_id)


@bp.route("/reviews/<int:review_id>/appeal", methods=["POST"])
@require(Permission.VIEW_OWN_QUALITY)
def appeal(review_id: int):
    """The agent disputes their score (申诉), once and within days, saying why; the reviewer is told."""
    form = AppealForm()
    if not form.validate_on_submit():
        return _review_page(review_id, appeal_form=form, status=400)
    try:
        service.appeal(current_user._get_current_object(), review_id, form.appeal_reason.data or "")
    except ValidationError as exc:
        apply_errors(form, exc.errors)
        return _review_page(review_id, appeal_form=form, status=422)
    flash(_("Your dispute has been sent: the reviewer decides and you will be told."), "success")
    return redirect_after_post(url_for("quality.review", review_id=review_id))


@bp.route("/reviews/<int:review_id>/appeal/decide", methods=["POST"])
@require(Permission.REVIEW_QUALITY)
def decide_appeal(review_id: int):
    """Uphold a disputed score or score the reply again (the original score is kept); the agent is told.
    Someone else's decision a moment before wins and is shown."""
    decision = request.form.get("decision")
    if decision not in ("uphold", "change"):
        abort(400)
    form = AppealDecisionForm()
    values = {key: request.form.get(key, "")[:10] for key in request.form if key.startswith("i-")}
    if not form.validate_on_submit():
        return _review_page(review_id, decision_form=form, values=values, status=400)
    try:
        found = service.decide_appeal(current_user._get_current_object(), review_id,
                                      version=id_or_none(request.form.get("version")), change=decision == "change",
                                      values=values, fatal=bool(form.fatal.data), note=form.appeal_note.data or "")
    except StaleEdit:
        flash(_("This dispute was decided a moment ago: here is the decision."), "warning")
        return redirect_after_post(url_for("quality.review", review_id=review_id))
    except ValidationError as exc:
        apply_errors(form, {k: v for k, v in exc.errors.items() if k == "appeal_note"})
        return _review_page(review_id, decision_form=form, values=values, errors=exc.errors, status=422)
    if found.appeal_state == service.AppealState.CHANGED:
        flash(_("Scored again: %(before)d → %(after)d points. The agent has been told.", before=found.original_score,
                after=found.score), "success")
    else:
        flash(_("Score upheld. The agent has been told."), "success")
    return redirect_after_post(url_for("quality.review", review_id=review_id))


@bp.route("/reviews/<int:review_id>/refresher", methods=["POST"])
@require(Permission.ASSIGN_TRAINING)
def assign_refresher(review_id: int):
    """Assign the reviewed agent a course to relearn what the score showed (trainers and admins); the
    agent is told and the course appears in their 我的培训."""
    form = _refresher_form(request.form)
    if not form.validate_on_submit():
        return _review_page(review_id, refresher_form=form, status=400)
    try:
        course, due_on = service.assign_refresher(current_user._get_current_object(), review_id, form.course_id.data,
                                                  day_or_none(form.due_on.data), _today())
    except ValidationError as exc:
        apply_errors(form, exc.errors)
        return _review_page(review_id, refresher_form=form, status=422)
    flash(_("Assigned %(title)s, due %(day)s. The agent has been told.", title=course.title, day=due_on.isoformat()),
          "success")
    return redirect_after_post(url_for("quality.review", review_id=review_id))


@bp.route("/mine")
@require(Permission.VIEW_OWN_QUALITY)
def mine():
    """我的质检: the agent's reviews, newest first, with the last 30 days' average and failures."""
    return render("quality/mine.html", own=service.own_reviews(current_user._get_current_object()),
                  passed=rules.passed, days=service.RECENT_DAYS)


# --------------------------------------------------------------------------- the scorecard

CRITERIA_PAGE = "quality/criteria.html"


def _criteria_page(create_form, settings_form: SettingsForm | None = None, status: int = 200,
                   block: str | None = "criterion_table"):
    if settings_form is None:
        settings_form = SettingsForm(formdata=None, pass_score=str(service.pass_score()),
                                     weekly_target=str(service.weekly_target()))
    rows = service.criteria(active_only=False)
    return render(CRITERIA_PAGE, block=block, rows=rows, create_form=create_form, kit=CRITERIA,
                  settings_form=settings_form, total=sum(c.points for c in rows if c.is_active), status=status)


def _committed(obj):
    db.session.commit()
    return obj


def _stored(criterion: QualityCriterion) -> list[tuple[str, str]]:
    return [(_("Criterion"), criterion.name), (_("Points"), str(criterion.points)),
            (_("What earns the points"), criterion.hint or "—")]


CRITERIA = InlineEdit(
    name="criterion", model=QualityCriterion, template=CRITERIA_PAGE, list_endpoint="quality.criteria",
    edit_form=CriterionForm, colspan=4, stored=_stored,
    describe=lambda c: _("criterion %(name)s", name=c.name),
    row_context=lambda c: {"row": c},
    save=lambda c, form, version: _committed(
        service.update_criterion(current_user, c, version=version, **form.values())),
    set_active=lambda c, active: _committed(service.set_criterion_active(current_user, c, active)),
    create_form=CriterionForm, page=_criteria_page,
    create=lambda form: _committed(service.create_criterion(current_user, **form.values())),
    fields=("name", "points", "hint"),
)
CRITERIA.register(bp, "/criteria", Permission.MANAGE_QUALITY)


@bp.route("/criteria")
@require(Permission.MANAGE_QUALITY)
def criteria():
    """The scorecard (评分表: criteria and their points, new reviews score the active ones) and the pass line."""
    return _criteria_page(CriterionForm(formdata=None))


@bp.route("/criteria/settings", methods=["POST"])
@require(Permission.MANAGE_QUALITY)
def settings():
    """Change the pass line (合格线) a score must reach and the weekly target per agent (抽检目标); audited."""
    form = SettingsForm()
    if form.validate_on_submit():
        try:
            line, target = service.save_settings(current_user, pass_score_text=form.pass_score.data or "",
                                                 target_text=form.weekly_target.data or "")
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(_("Saved: pass line %(n)d points, %(t)d replies per agent and week.", n=line, t=target), "success")
            return redirect(url_for("quality.criteria"), code=303)
    return _criteria_page(CriterionForm(formdata=None), form, status=422, block=None)  # the whole page
