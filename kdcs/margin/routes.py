"""人均毛利 pages (admins): the month's table with inline labour costs, its Excel export, and one
person's twelve months with their cost history."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..htmx import fragment_only, redirect_after_post, render, render_fragment, wants_fragment
from ..outlets.rates import month_asked, parse_month, shift_month, this_month
from ..permissions import Permission, require
from ..request_args import id_or_none
from ..service_errors import NotFound, ValidationError
from ..spreadsheets import Workbook, xlsx_response
from ..views import apply_errors
from . import bp, service
from .forms import LabourCostForm, PastedCostsForm

INDEX = "margin/index.html"
PERSON = "margin/person.html"


def _month() -> tuple[date, str | None]:
    """The month asked for (``?month=``), the newest month with parcels when none is; a message when
    the text is not a month."""
    text = request.args.get("month", "")
    if not text:
        return service.default_month(), None
    return month_asked(text, datetime.now(UTC))


def _filters() -> dict:
    """The table's team and sort, cleaned: an unknown team or sort is ignored."""
    sort = request.args.get("sort", "margin")
    return {"team_id": id_or_none(request.args.get("team")), "sort": sort if sort in service.SORTS else "margin"}


def _person_or_404(user_id: int):
    try:
        return service.get_person(current_user, user_id)
    except NotFound:
        abort(404)


@bp.route("/")
@require(Permission.VIEW_MARGIN)
def index():
    """The month's gross margin per person: lowest (or unknown) first, with the total and 人均, and a
    labour cost to enter or change on each row."""
    month, error = _month()
    return _index_page(month, error)


def _index_page(month: date, error: str | None = None, paste_form: PastedCostsForm | None = None, status: int = 200):
    """The month's page (``paste_form``: a refused paste shown again, open, with its problems)."""
    filters = _filters()
    report, trend = service.month_with_trend(current_user, month, **filters)
    if paste_form is None:
        paste_form = PastedCostsForm(formdata=None, month=f"{month:%Y-%m}")
    return render(INDEX, report=report, trend=trend, month=month, error=error, teams=service.team_choices(), **filters,
                  paste_form=paste_form, status=status,
                  current=this_month(), previous=shift_month(month, -1), next=shift_month(month, 1))


@bp.route("/costs/paste", methods=["POST"])
@require(Permission.VIEW_MARGIN)
def paste_costs():
    """Many people's monthly labour cost at once, pasted from a spreadsheet (工号 and cost): all or
    nothing; a refused paste comes back with every problem by line and the text as it was."""
    form = PastedCostsForm()
    month = parse_month(form.month.data) or _month()[0]
    if form.validate_on_submit():
        try:
            count = service.set_labour_costs_pasted(current_user, month=form.month.data, text=form.text.data,
                                                    note=form.note.data)
        except ValidationError as exc:
            lines = exc.errors.pop("text", "")
            apply_errors(form, exc.errors)
            form.text.errors = [*form.text.errors, *filter(None, lines.split("\n"))]  # one message a line
        else:
            flash(_("Labour costs of %(n)d people set from %(month)s on.", n=count, month=f"{month:%Y-%m}"), "success")
            return redirect_after_post(url_for("margin.index", month=f"{month:%Y-%m}"))
    return _index_page(month, paste_form=form, status=422)


MARGIN_COLUMNS = [("工号", 10), ("姓名", 10), ("组", 10), ("网点数", 8), ("票数", 12), ("服务费", 12),
                  ("加班费", 10), ("收入合计", 12), ("公司承担罚款", 12), ("人工成本", 12), ("毛利", 12),
                  ("毛利率%", 8)]


@bp.route("/export.xlsx")
@require(Permission.VIEW_MARGIN)
def export():
    """The month's table as an .xlsx download, rows in the page's order (names written as text)."""
    month, _error = _month()
    filters = _filters()
    report = service.month_report(current_user, month, **filters)
    book = Workbook()
    sheet = book.sheet(f"{month:%Y-%m}", MARGIN_COLUMNS, freeze="C2")
    rows = [(line.person.username, line.person.display_name, line.person.team.name if line.person.team else "", line)
            for line in report.lines]
    if report.unassigned is not None:
        rows.append(("", _("Outlets without a primary agent"), "", report.unassigned))
    rows.append(("", _("Total"), "", report.total))
    for username, name, team, line in rows:
        sheet.append([username, name, team, line.outlets, line.parcels, line.fee, line.overtime_fee, line.revenue,
                      line.fines_borne, line.labour_cost, line.margin, line.rate])
    return xlsx_response(book.to_bytes(), f"人均毛利_{month:%Y-%m}.xlsx")


@bp.route("/people/<int:user_id>")
@require(Permission.VIEW_MARGIN)
def person(user_id: int):
    """One person's last twelve months and their labour cost history, with the form to set it."""
    who = _person_or_404(user_id)
    month, error = _month()
    form = LabourCostForm(formdata=None, month=f"{month:%Y-%m}")
    return _person_page(who, month, form, error=error)


def _person_page(who, month: date, form: LabourCostForm, *, error: str | None = None, status: int = 200):
    return render(PERSON, person=who, month=month, form=form, error=error, status=status,
                  months=service.person_months(current_user, who, month),
                  history=service.cost_history(current_user, who, month),
                  previous=shift_month(month, -1), next=shift_month(month, 1))


def _row(who, month: date):
    """The month's line of one person, as the table shows it."""
    report_line = service.person_months(current_user, who, month, count=1)[0][1]
    return render_fragment(INDEX, "person_row", line=report_line, month=month, **_filters())


@bp.route("/people/<int:user_id>/row")
@require(Permission.VIEW_MARGIN)
@fragment_only("margin.index")
def row(user_id: int):
    """A person's row of the month's table (htmx: the cancel of the inline cost form)."""
    who = _person_or_404(user_id)
    return _row(who, _month()[0])


@bp.route("/people/<int:user_id>/cost", methods=["GET", "POST"])
@require(Permission.VIEW_MARGIN)
def cost(user_id: int):
    """Set a person's monthly labour cost from a month on. GET (htmx) is the table row's inline form;
    a refused entry comes back beside its field with what was typed; a stored one reloads the page
    it came from, whose totals it changed."""
    who = _person_or_404(user_id)
    if request.method == "GET":
        month, _error = _month()
        if not wants_fragment():
            return redirect_after_post(url_for("margin.person", user_id=who.id, month=f"{month:%Y-%m}"))
        form = LabourCostForm(formdata=None, month=f"{month:%Y-%m}", back="list")
        return render_fragment(INDEX, "cost_row", person=who, form=form, month=month, **_filters())
    form = LabourCostForm()
    month = parse_month(form.month.data) or _month()[0]
    if form.validate_on_submit():
        try:
            entry = service.set_labour_cost(current_user, who.id, month=form.month.data, amount=form.amount.data,
                                            note=form.note.data)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("Labour cost of %(name)s from %(month)s on: %(amount)s yuan a month.", name=who.display_name,
                    month=f"{entry.month:%Y-%m}", amount=f"{entry.amount:,.2f}"), "success")
            if form.back.data == "list":
                filters = _filters()
                return redirect_after_post(url_for("margin.index", month=f"{month:%Y-%m}", team=filters["team_id"],
                                                   sort=None if filters["sort"] == "margin" else filters["sort"]))
            return redirect_after_post(url_for("margin.person", user_id=who.id, month=f"{month:%Y-%m}") + "#costs")
    if form.back.data == "list" and wants_fragment():
        return render_fragment(INDEX, "cost_row", person=who, form=form, month=month, status=422, **_filters())
    return _person_page(who, month, form, status=422)


@bp.route("/costs/<int:cost_id>/delete", methods=["POST"])
@require(Permission.VIEW_MARGIN)
def delete_cost(cost_id: int):
    """Delete one labour cost entry (a mistake): the months it covered fall back to the entry before."""
    try:
        who = service.delete_labour_cost(current_user, cost_id)
    except NotFound:
        abort(404)
    flash(_("The entry was deleted."), "success")
    month = parse_month(request.form.get("month")) or this_month()
    return redirect_after_post(url_for("margin.person", user_id=who.id, month=f"{month:%Y-%m}") + "#costs")

