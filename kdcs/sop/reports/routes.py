"""Views of the reports: send one (from a scenario or a ticket), the trainers' inbox, resolve."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...auth.routes import safe_next
from ...crud import parse_version
from ...extensions import db
from ...htmx import fragment_only, render, render_fragment, wants_fragment
from ...models.sop import SopScenario, SopVersion
from ...permissions import Permission, require
from ...service_errors import NotFound, StaleEdit, ValidationError
from ...views import apply_errors
from .. import bp
from . import service
from .forms import ReportForm, ResolveForm

BADGE_EVENT = "sop-reports-changed"


@bp.context_processor
def _report_helpers() -> dict:
    """Helpers the report cards use (links to scenarios and versions that may not exist yet)."""
    return {
        "report_scenario_url": service.scenario_url,
        "report_version_url": service.version_url,
        "report_version_number": service.version_number,
        "report_resolved_version": service.resolved_version,
        "report_ticket_label": service.ticket_label,
    }


def _int(raw) -> int | None:
    return parse_version(raw) if raw else None


def _subject(form: ReportForm):
    """The scenario, version and ticket a report form names (404 for ones that do not exist)."""
    from ...tickets.service import get_visible_ticket

    scenario = version = ticket = None
    if form.scenario_id.data:
        scenario = db.session.get(SopScenario, _int(form.scenario_id.data) or 0)
        if scenario is None:
            abort(404)
    if form.version_id.data:
        version = db.session.get(SopVersion, _int(form.version_id.data) or 0)
        if version is None:
            abort(404)
    if form.ticket_id.data:
        ticket = get_visible_ticket(current_user, _int(form.ticket_id.data) or 0)
        if ticket is None:
            abort(404)
    return scenario, version, ticket


def _back(form: ReportForm, scenario, ticket) -> str:
    target = safe_next(form.next.data)
    if target:
        return target
    if ticket is not None:
        return url_for("tickets.detail", ticket_id=ticket.id)
    if scenario is not None and "sop.scenario" in _endpoints():
        return url_for("sop.scenario", scenario_id=scenario.id)
    return url_for("sop.report_new")


def _endpoints():
    from flask import current_app

    return current_app.view_functions


def _form_context(form: ReportForm, scenario, version, ticket) -> dict:
    uid = request.form.get("uid") or request.args.get("uid") or ""
    return {"report_form": form, "report_scenario": scenario, "report_version": version,
            "report_ticket": ticket, "report_next": form.next.data or "", "report_uid": uid[:20]}


@bp.route("/reports/new")
@require(Permission.VIEW_SOP)
def report_new():
    """A page with the report form (the no-JavaScript way, and a link target): ?scenario_id=&ticket_id=."""
    form = ReportForm(formdata=None)
    form.scenario_id.data = request.args.get("scenario_id", "")
    form.version_id.data = request.args.get("version_id", "")
    form.ticket_id.data = request.args.get("ticket_id", "")
    form.next.data = safe_next(request.args.get("next")) or ""
    scenario, version, ticket = _subject(form)
    if version is not None and not version.is_published:
        abort(404)
    return render("sop/report_new.html", **_form_context(form, scenario, version, ticket))


@bp.route("/reports", methods=["POST"])
@require(Permission.VIEW_SOP)
def report_create():
    """Send a report; htmx gets the "thank you" in place of the form, a plain post a 303 back."""
    form = ReportForm()
    scenario, version, ticket = _subject(form)
    if form.validate_on_submit():
        try:
            service.create_report(current_user, note=form.note.data, scenario=scenario, version=version,
                                  ticket=ticket)
        except NotFound:
            abort(404)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            message = _("Thank you: the trainers will look at your report.")
            if wants_fragment():
                return render_fragment("sop/report_new.html", "report_sent", toast=message,
                                       events=BADGE_EVENT, report_message=message)
            flash(message, "success")
            return redirect(_back(form, scenario, ticket), code=303)
    return render("sop/report_new.html", block="report_form", **_form_context(form, scenario, version, ticket))


@bp.route("/reports")
@require(Permission.HANDLE_SOP_REPORTS)
def reports():
    """The trainers' inbox: open reports first (oldest waiting on top); resolved and all as tabs."""
    status = request.args.get("status", "open")
    page = request.args.get("page", 1, type=int)
    box = service.inbox(current_user, status, page=min(max(page, 1), 100_000))
    return render("sop/reports.html", block="report_list", inbox=box, forms=_resolve_forms(box.reports))


def _resolve_forms(reports, keep=None) -> dict:
    forms = {}
    linkable = service.linkable_versions_many([r for r in reports if r.status == "open"])
    for report in reports:
        if report.status != "open":
            continue
        form = keep if keep is not None and keep[0] == report.id else None
        form = form[1] if form else ResolveForm(prefix=f"r{report.id}", formdata=None)
        if form.version.data is None:
            form.version.data = str(report.version)
        form.resolved_version_id.choices = [("", _("— no version, answer only —"))] + [
            (v.id, _("《%(t)s》 version %(n)s", t=v.title, n=v.number)) for v in linkable[report.id]
        ]
        forms[report.id] = form
    return forms


@bp.route("/reports/<int:report_id>")
@require(Permission.HANDLE_SOP_REPORTS)
def report(report_id: int):
    """One report on its own page (links from the audit log and notifications)."""
    try:
        item = service.get_report(current_user, report_id)
    except NotFound:
        abort(404)
    return render("sop/report.html", block="report_card", r=item, forms=_resolve_forms([item]))


@bp.route("/reports/<int:report_id>/resolve", methods=["POST"])
@require(Permission.HANDLE_SOP_REPORTS)
def report_resolve(report_id: int):
    """Resolve a report (link a version and/or answer); the reporter is notified. Stale: 409."""
    try:
        item = service.get_report(current_user, report_id)
    except NotFound:
        abort(404)
    form = ResolveForm(prefix=f"r{report_id}")
    status, conflict = 200, False
    if form.validate_on_submit():
        try:
            service.resolve_report(current_user, item, version_no=parse_version(form.version.data),
                                   answer=form.answer.data, resolved_version_id=form.resolved_version_id.data)
        except StaleEdit:
            db.session.expire_all()
            item = service.get_report(current_user, report_id)
            status, conflict = 409, True
            form.version.data = str(item.version)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            message = _("Report resolved; the reporter has been notified.")
            if not wants_fragment():
                flash(message, "success")
                return redirect(url_for("sop.reports"), code=303)
            return render_fragment("sop/report.html", "report_card", toast=message, events=BADGE_EVENT,
                                   r=item, forms={})
    return render("sop/report.html", block="report_card", status=status, conflict=conflict, r=item,
                  forms=_resolve_forms([item], keep=(item.id, form)))


@bp.route("/reports/badge")
@require(Permission.HANDLE_SOP_REPORTS)
@fragment_only("sop.reports")
def reports_badge():
    """The navigation badge (open reports), refreshed after a report is sent or resolved."""
    return render_fragment("sop/_reports_badge.html", "badge", count=service.open_count())
