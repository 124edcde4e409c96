"""Leave pages: 我的请假 and the lead's inbox, the request + handover form, the handover page
with the substitute's answer / decision / cancellation, the print view, leave types (admin).

Thin views over ``service``: it checks permissions, rules and versions; a ``LeaveConflict``
(someone else decided or cancelled first, or a replayed form) is a 409 that says what happened.
"""

from __future__ import annotations

from datetime import date
from functools import wraps

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..crud import InlineEdit, parse_version
from ..extensions import db
from ..htmx import fragment_only, redirect_after_post, render, render_fragment, wants_fragment
from ..models import Team, User
from ..models.leave import LeaveHandover, LeaveRequest, LeaveStatus, LeaveType
from ..models.types import utcnow
from ..permissions import Permission, has_permission, require
from ..request_args import day_or_none, id_or_zero
from ..service_errors import NotFound, ValidationError
from ..views import apply_errors
from . import bp, inbox, rules, service
from .forms import DecisionForm, FallbackForm, LeaveTypeForm, NoteForm, RequestForm, StaffingForm

S = LeaveStatus


def _any_leave_role(view):
    """Views for those who request leave and for those who approve it (either permission)."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not (has_permission(current_user, Permission.REQUEST_LEAVE)
                or has_permission(current_user, Permission.APPROVE_LEAVE)):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.app_template_global("leave_status_label")
def _status_label(status):
    return service.status_label(status)


@bp.app_template_global("leave_part_label")
def _part_label(part):
    return service.part_label(part)


@bp.app_template_global("leave_days")
def _days(value):
    return service.format_days(value)


@bp.app_template_global("leave_beijing")
def _beijing(at):
    return service.beijing(at)


STATUS_BADGE = {S.DRAFT: "", S.SUBMITTED: "badge-primary", S.SUBSTITUTE_ACCEPTED: "badge-primary",
                S.APPROVED: "badge-ok", S.IN_PROGRESS: "badge-warn", S.RETURNED: "", S.REJECTED: "badge-danger",
                S.CANCELLED: ""}


@bp.app_template_global("leave_proof_label")
def _proof_label(status):
    return service.proof_label(status)


@bp.app_template_global("leave_has_calendar")
def _has_calendar():
    return "leave.calendar" in current_app.view_functions


@bp.app_template_global("leave_status_badge")
def _status_badge(status):
    return STATUS_BADGE.get(status, "")


# --------------------------------------------------------------------------- my requests / inbox


def _get(leave_id: int, *options) -> LeaveRequest:
    try:
        return service.get_request(current_user, leave_id, *options)
    except NotFound:
        abort(404)


# The handover page and its print name every outlet's substitute: loaded with the request (a lazy
# load per substitute otherwise; the history's actors are then mostly known: the requester, the
# substitutes, the viewer).
PAGE_LOADS = (selectinload(LeaveRequest.handover).selectinload(LeaveHandover.substitute),)


@bp.route("/")
@require()
@_any_leave_role
def index():
    """我的请假 with balances and what waits for my answer; the inbox for those who approve."""
    context = {"mine": [], "balances": [], "to_answer": [], "inbox": [], "team_history": [], "staffing": None}
    if has_permission(current_user, Permission.REQUEST_LEAVE):
        context["mine"] = service.my_requests(current_user)
        context["balances"] = service.balances(current_user)
        context["to_answer"] = service.awaiting_my_answer(current_user)
    if has_permission(current_user, Permission.APPROVE_LEAVE):
        context["inbox"] = [_inbox_row(item) for item in inbox.items(service.inbox(current_user, *inbox.LOADS))]
        context["team_history"] = service.team_requests(current_user)
        context["staffing"] = _staffing_teams()
    return render("leave/index.html", **context)


def _staffing_teams() -> list[tuple[Team, int]]:
    if has_permission(current_user, Permission.MANAGE_LEAVE):
        teams = db.session.query(Team).filter(Team.is_active.is_(True)).order_by(Team.name).all()
    else:
        teams = db.session.query(Team).filter(Team.lead_id == current_user.id).all()
    minimums = service.min_staffing_of(t.id for t in teams)
    return [(t, minimums[t.id]) for t in teams]


def _inbox_row(item: inbox.InboxItem) -> dict:
    return {"leave": item.leave, "rows": item.rows, "loads": item.loads, "staffing": item.staffing,
            "needs": item.needs, "form": DecisionForm(formdata=None)}


def _inbox_item(leave: LeaveRequest) -> dict:
    return _inbox_row(inbox.items([leave])[0])


@bp.route("/staffing/<int:team_id>", methods=["POST"])
@require(Permission.APPROVE_LEAVE)
def staffing(team_id: int):
    """A lead sets their team's minimum staffing (admins: any team)."""
    team = db.session.get(Team, team_id) or abort(404)
    form = StaffingForm()
    if not form.validate_on_submit():
        flash(next(iter(form.errors.values()))[0], "danger")
        return redirect(url_for("leave.index"), code=303)
    try:
        service.set_min_staffing(current_user, team, form.min_agents.data)
    except NotFound:
        abort(404)
    except ValidationError as exc:
        flash(next(iter(exc.errors.values())), "danger")
        return redirect(url_for("leave.index"), code=303)
    db.session.commit()
    flash(_("Minimum staffing of %(team)s: %(n)d agents.", team=team.name, n=form.min_agents.data), "success")
    return redirect(url_for("leave.index"), code=303)


# --------------------------------------------------------------------------- the request form


def _handover_posted(outlets) -> list[dict]:
    default = id_or_zero(request.form.get("substitute_id"))
    rows = []
    for entry in outlets:
        oid = entry.outlet.id
        rows.append({
            "outlet_id": oid,
            "substitute_id": id_or_zero(request.form.get(f"sub_{oid}")) or default or None,
            "pending_promises": request.form.get(f"promises_{oid}", ""),
            "special_requirements": request.form.get(f"special_{oid}", ""),
            "notes": request.form.get(f"notes_{oid}", ""),
        })
    return rows


def _request_form(leave: LeaveRequest | None):
    form = RequestForm() if request.method == "POST" else RequestForm(formdata=None, obj=leave)
    form.type_id.choices = [(t.id, t.name) for t in service.leave_types()]
    candidates = service.substitute_candidates(current_user)
    form.substitute_id.choices = [(0, _("Choose per outlet"))] + [
        (u.id, f"{u.display_name}（{u.username}）") for u in candidates]
    if leave is not None and request.method == "GET":
        subs = {h.substitute_id for h in leave.handover}
        form.substitute_id.data = subs.pop() if len(subs) == 1 else 0
    return form, candidates


def _request_page(form, candidates, leave: LeaveRequest | None, errors: dict | None = None, status: int = 200):
    outlets = service.handover_outlets(current_user)
    existing = {h.outlet_id: h for h in leave.handover} if leave else {}
    posted = {r["outlet_id"]: r for r in _handover_posted(outlets)} if request.method == "POST" else {}
    types = service.leave_types()
    # A new handover starts its 待办承诺 from the open follow-ups (跟进) on each outlet's tickets.
    from ..tickets.followups import service as follow_up_service

    promised = {} if leave or posted else follow_up_service.promises_by_outlet(current_user, [e.outlet.id for e in outlets])
    return render("leave/form.html", form=form, leave=leave, outlets=outlets, existing=existing, posted=posted,
                  candidates=candidates, errors=errors or {}, types=types, promised=promised,
                  balances={b.leave_type.id: b for b in service.balances(current_user)}, status=status)


def _save_request(leave: LeaveRequest | None):
    form, candidates = _request_form(leave)
    if request.method == "GET":
        if leave is None:
            form.start_part.data, form.end_part.data = "full", "full"
        return _request_page(form, candidates, leave)
    if not form.validate_on_submit():
        return _request_page(form, candidates, leave, status=200)
    outlets = service.handover_outlets(current_user)
    values = dict(type_id=form.type_id.data, start_date=form.start_date.data, start_part=form.start_part.data,
                  end_date=form.end_date.data, end_part=form.end_part.data, reason=form.reason.data,
                  handover=_handover_posted(outlets), proof_later=bool(form.proof_later.data))
    submit = request.form.get("action") == "submit"
    try:
        leave = service.save_request(current_user, leave, send=submit,
                                     version=parse_version(request.form.get("version")), **values)
    except ValidationError as exc:
        apply_errors(form, {k: v for k, v in exc.errors.items() if k in form._fields})
        leave = db.session.get(LeaveRequest, leave.id) if leave is not None else None
        return _request_page(form, candidates, leave, errors=exc.errors)
    db.session.commit()
    flash(_("Request submitted: your substitute is asked to read the handover.") if submit
          else _("Draft saved."), "success")
    return redirect_after_post(url_for("leave.detail", leave_id=leave.id))


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.REQUEST_LEAVE)
def new():
    """Request leave: type, dates with half days, reason, and the handover of every outlet."""
    return _save_request(None)


@bp.route("/<int:leave_id>/edit", methods=["GET", "POST"])
@require(Permission.REQUEST_LEAVE)
def edit(leave_id: int):
    """Change a draft (also one a substitute declined) and submit it again."""
    leave = _get(leave_id)
    if leave.user_id != current_user.id:
        abort(404)
    if leave.status != S.DRAFT:
        flash(_("Only a draft can be changed."), "warning")
        return redirect(url_for("leave.detail", leave_id=leave.id), code=303)
    return _save_request(leave)


def _parse_date(raw) -> date | None:
    return day_or_none(raw)


@bp.route("/candidate")
@require(Permission.REQUEST_LEAVE)
@fragment_only("leave.new")
def candidate():
    """The checks and load of a substitute for the dates typed so far (htmx, while choosing)."""
    target = request.args.get("target", "all")
    substitute_id = id_or_zero(request.args.get(f"sub_{target}") if target != "all" else None) or id_or_zero(
        request.args.get("substitute_id"))
    candidate_user = db.session.get(User, substitute_id) if substitute_id else None
    start, end = _parse_date(request.args.get("start_date")), _parse_date(request.args.get("end_date"))
    start_part = request.args.get("start_part", "full")
    end_part = request.args.get("end_part", "full")
    checks, load = [], None
    if candidate_user is not None and start and end and start <= end and (end - start).days <= rules.MAX_SPAN_DAYS:
        start_at, end_at = rules.request_window(start, start_part if start_part in rules.START_PARTS else "full",
                                                end, end_part if end_part in rules.END_PARTS else "full")
        exclude = id_or_zero(request.args.get("leave_id")) or None
        checks = service.substitute_checks(current_user, candidate_user, start_at, end_at, exclude_id=exclude)
        load = service.substitute_load(candidate_user, start_at, end_at, exclude_id=exclude)
    return render_fragment("leave/_candidate.html", "candidate", candidate=candidate_user, checks=checks,
                           load=load, dates_missing=not (start and end), target=target)


# --------------------------------------------------------------------------- the handover page


def _detail_context(leave: LeaveRequest, **extra) -> dict:
    mine = [h for h in leave.handover if h.substitute_id == current_user.id]
    # A request still waiting shows its staffing and each substitute's load: read as the inbox reads
    # it (kdcs/leave/inbox.py, equal to the one-request readings), a fixed number of statements
    # however many substitutes (three or four per substitute one at a time).
    waiting = leave.status in (S.SUBMITTED, S.SUBSTITUTE_ACCEPTED)
    may_decide = leave.status == S.SUBSTITUTE_ACCEPTED and service.may_decide(current_user, leave)
    read = inbox.items([leave])[0] if waiting else None  # (may_decide implies waiting)
    context = {
        "leave": leave, "rows": read.rows if read else service.handover_rows(leave),
        "may_answer": leave.status == S.SUBMITTED and any(h.substitute_answer is None for h in mine),
        "may_decide": may_decide,
        "may_cancel": service.can_cancel(current_user, leave),
        "may_return": leave.user_id == current_user.id and leave.status == S.IN_PROGRESS,
        "may_record_proof": (leave.proof_status in (service.PROOF_PENDING, service.PROOF_LATER)
                             and leave.status not in (S.CANCELLED, S.REJECTED)
                             and service.may_record_proof(current_user, leave)),
        "needs": read.needs if leave.status == S.SUBSTITUTE_ACCEPTED else None,  # (waiting: read is set)
        "own_pending": leave.user_id == current_user.id and leave.status == S.SUBSTITUTE_ACCEPTED,
        "note_form": NoteForm(formdata=None), "form": DecisionForm(formdata=None),
        "conflict": None,
    }
    if read:
        context["staffing"] = read.staffing
        context["loads"] = read.loads
    context.update(extra)
    return context


@bp.route("/<int:leave_id>")
@require()
@_any_leave_role
def detail(leave_id: int):
    """The handover (交接单) with the history and the actions open to the viewer."""
    leave = _get(leave_id, *PAGE_LOADS)
    return render("leave/detail.html", **_detail_context(leave))


def _conflict(leave_id: int, message: str, block: str = "actions"):
    db.session.expire_all()  # the service rolled back what it had started; read the row as stored now
    leave = _get(leave_id)
    if wants_fragment() and block == "inbox_row":
        return render_fragment("leave/index.html", "inbox_row", status=409, item=_inbox_item(leave),
                               conflict=message)
    return render("leave/detail.html", block="actions", status=409, conflict=message,
                  **{k: v for k, v in _detail_context(leave).items() if k != "conflict"})


def _done(leave: LeaveRequest, message: str, block: str = "actions"):
    db.session.commit()
    if wants_fragment() and block == "inbox_row":
        return render_fragment("leave/index.html", "inbox_row", toast=message, item=None, decided=leave)
    if wants_fragment():
        return render_fragment("leave/detail.html", "actions", toast=message, events="leave-changed",
                               **_detail_context(leave))
    flash(message, "success")
    return redirect(url_for("leave.detail", leave_id=leave.id), code=303)


def _invalid(leave: LeaveRequest, errors: dict, form=None, block: str = "actions"):
    db.session.expire_all()  # services refuse before changing anything
    leave = db.session.get(LeaveRequest, leave.id)
    message = " ".join(errors.values())
    if wants_fragment() and block == "inbox_row":
        item = _inbox_item(leave)
        if form is not None:
            item["form"] = form
        return render_fragment("leave/index.html", "inbox_row", status=422, item=item, error=message)
    context = _detail_context(leave, error=message)
    if form is not None:
        context["form"] = form
    return render("leave/detail.html", block="actions", status=422, **context)


def _step(leave: LeaveRequest, call, message: str, *, form=None, block: str = "actions"):
    """The one shape of every step of a request: call the service, then the refreshed block,
    the 409 that says what happened meanwhile, or the form again with its errors (422)."""
    try:
        call()
    except NotFound:
        abort(404)
    except service.LeaveConflict as exc:
        return _conflict(leave.id, str(exc), block)
    except ValidationError as exc:
        return _invalid(leave, exc.errors, form, block)
    return _done(leave, message, block)


@bp.route("/<int:leave_id>/submit", methods=["POST"])
@require(Permission.REQUEST_LEAVE)
def submit(leave_id: int):
    """Submit a draft to its substitutes."""
    leave = _get(leave_id)
    NoteForm().validate_on_submit()
    return _step(leave, lambda: service.submit(current_user, leave, version=parse_version(request.form.get("version"))),
                 _("Request submitted: your substitute is asked to read the handover."))


@bp.route("/<int:leave_id>/answer", methods=["POST"])
@require(Permission.REQUEST_LEAVE)
def answer(leave_id: int):
    """The substitute accepts the handover or declines it with a reason."""
    leave = _get(leave_id)
    form = NoteForm()
    form.validate_on_submit()
    accept = request.form.get("answer")
    if accept not in ("accept", "decline"):
        abort(400)
    return _step(leave, lambda: service.substitute_answer(
        current_user, leave, accept == "accept", (form.note.data or "")[:500],
        version=parse_version(request.form.get("version"))),
        _("You accepted the handover.") if accept == "accept" else _("You declined; the agent is told why."))


@bp.route("/<int:leave_id>/decide", methods=["POST"])
@require(Permission.APPROVE_LEAVE)
def decide(leave_id: int):
    """The approver approves or rejects with a note (and the overrides it needs)."""
    leave = _get(leave_id)
    form = DecisionForm()
    form.validate_on_submit()
    decision = request.form.get("decision")
    if decision not in ("approve", "reject"):
        abort(400)
    block = "inbox_row" if request.form.get("from") == "inbox" else "actions"
    return _step(leave, lambda: service.decide(
        current_user, leave, approve=decision == "approve", note=(form.note.data or "")[:500],
        version=parse_version(request.form.get("version")),
        short_notice_override=bool(form.short_notice_override.data),
        balance_override=bool(form.balance_override.data), team_override=bool(form.team_override.data)),
        _("Leave approved.") if decision == "approve" else _("Leave rejected."), form=form, block=block)


@bp.route("/<int:leave_id>/cancel", methods=["POST"])
@require(Permission.REQUEST_LEAVE)
def cancel(leave_id: int):
    """The agent cancels before the start (the lead and substitutes are told)."""
    leave = _get(leave_id)
    form = NoteForm()
    form.validate_on_submit()
    return _step(leave, lambda: service.cancel(current_user, leave, (form.note.data or "")[:500],
                                               version=parse_version(request.form.get("version"))),
                 _("Leave cancelled."))


@bp.route("/<int:leave_id>/return", methods=["POST"])
@require(Permission.REQUEST_LEAVE)
def return_early(leave_id: int):
    """销假: the agent is back (early); coverage ends now."""
    leave = _get(leave_id)
    return _step(leave, lambda: service.mark_returned(current_user, leave,
                                                      version=parse_version(request.form.get("version"))),
                 _("Welcome back: your outlets are yours again."))


@bp.route("/<int:leave_id>/proof", methods=["POST"])
@require(Permission.APPROVE_LEAVE)
def proof(leave_id: int):
    """The lead records that the proof (病假条 ...) was handed in."""
    leave = _get(leave_id)
    return _step(leave, lambda: service.mark_proof_received(current_user, leave,
                                                            version=parse_version(request.form.get("version"))),
                 _("Proof received"))


@bp.route("/<int:leave_id>/print")
@require()
@_any_leave_role
def print_view(leave_id: int):
    """The printable 交接单 (A4 portrait, signature lines)."""
    leave = _get(leave_id, *PAGE_LOADS)
    return render("leave/print.html", leave=leave, rows=service.handover_rows(leave), printed=utcnow())


# --------------------------------------------------------------------------- leave types (admin)

TYPES_PAGE = "leave/types.html"


def _types_page(create_form):
    fallback = FallbackForm(formdata=None)
    fallback.user_id.choices = [(0, _("Nobody (the admin)"))] + [
        (u.id, f"{u.display_name}（{u.username}）") for u in service.approver_choices()]
    current = service.fallback_approver()
    fallback.user_id.data = current.id if current else 0
    return render(TYPES_PAGE, block="leave_type_table", rows=service.leave_types(active_only=False),
                  create_form=create_form, kit=LEAVE_TYPES, fallback=fallback)


def _stored(leave_type: LeaveType) -> list[tuple[str, str]]:
    yes, no = _("Yes"), _("No")
    return [
        (_("Type name"), leave_type.name), (_("Notice (days)"), str(leave_type.notice_days)),
        (_("Short notice with the lead's override"), yes if leave_type.short_notice_allowed else no),
        (_("Minimum (working days)"), service.format_days(leave_type.min_days)),
        (_("Maximum (working days)"), service.format_days(leave_type.max_days) if leave_type.max_days else "—"),
        (_("Half days"), yes if leave_type.half_days_allowed else no),
        (_("Proof required"), yes if leave_type.proof_required else no),
        (_("Yearly allowance (days)"), service.format_days(leave_type.yearly_allowance_days)
         if leave_type.yearly_allowance_days is not None else "—"),
    ]


def _committed(obj):
    db.session.commit()
    return obj


LEAVE_TYPES = InlineEdit(
    name="leave_type", model=LeaveType, template=TYPES_PAGE, list_endpoint="leave.types",
    edit_form=LeaveTypeForm, colspan=7, stored=_stored,
    describe=lambda t: _("leave type %(name)s", name=t.name),
    row_context=lambda t: {"row": t},
    save=lambda t, form, version: _committed(service.update_type(current_user, t, version=version, **form.values())),
    set_active=lambda t, active: _committed(service.set_type_active(current_user, t, active)),
    create_form=LeaveTypeForm, page=_types_page,
    create=lambda form: _committed(service.create_type(current_user, **form.values())),
    fields_template="leave/_type_fields.html",
)
LEAVE_TYPES.register(bp, "/types", Permission.MANAGE_LEAVE)


@bp.route("/types")
@require(Permission.MANAGE_LEAVE)
def types():
    """Leave types (rules per type) and the fallback approver."""
    return _types_page(LeaveTypeForm(formdata=None))


@bp.route("/types/fallback", methods=["POST"])
@require(Permission.MANAGE_LEAVE)
def fallback():
    """Set the approver of leave whose lead is away, missing or is the requester."""
    form = FallbackForm()
    form.user_id.choices = [(0, "")] + [(u.id, "") for u in service.approver_choices()]
    form.validate_on_submit()
    try:
        service.set_fallback_approver(current_user, form.user_id.data or None)
    except ValidationError as exc:
        flash(next(iter(exc.errors.values())), "danger")
        return redirect(url_for("leave.types"), code=303)
    db.session.commit()
    flash(_("Fallback approver saved."), "success")
    return redirect(url_for("leave.types"), code=303)



@bp.cli.command("seed-types")
def seed_types_command():
    """Add the standard leave types (年假 with 5 days a year, 事假, 病假, 调休, 婚假, 丧假, 产假, 其他) that are missing."""
    import click

    added = service.seed_leave_types()
    db.session.commit()
    click.echo(f"leave types added: {added}")
