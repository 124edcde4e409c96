"""The overtime page (/overtime/): record one's overtime, see the month's entries, decide the team's."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..htmx import redirect_after_post, render
from ..leave.rules import beijing_today
from ..outlets.rates import month_asked, this_month
from ..outlets.rates import shift_month as _shift
from ..permissions import Permission, require
from ..request_args import day_or_none, id_or_none
from ..service_errors import ValidationError
from ..views import apply_errors
from . import bp, service
from .forms import RecordForm

STATUS_LABELS = {
    "submitted": (_l("Waiting for approval"), "badge-warn"),
    "approved": (_l("Approved"), "badge-ok"),
    "rejected": (_l("Rejected"), ""),
    "withdrawn": (_l("Withdrawn"), ""),
}


def _status(code: str) -> tuple[str, str]:
    """The Chinese name of an entry's state and its badge class."""
    text, badge = STATUS_LABELS.get(code, (code, ""))
    return str(text), badge


def _page(form: RecordForm | None = None, month: date | None = None, error: str | None = None, *, status: int = 200,
          row_error: tuple[int, str, str] | None = None):
    """The month's page: the form (for those with outlets to record for) and the entries."""
    user = current_user._get_current_object()
    today = beijing_today()
    if month is None:
        month, error = month_asked(request.args.get("month", ""), datetime.now(UTC))
    outlets = service.recordable_outlets(user)
    if form is None:
        form = RecordForm(formdata=None, work_date=today.isoformat())
    form.outlet_id.choices = [(0, _("Choose an outlet"))] + [(o.id, f"{o.code} {o.name}") for o in outlets]
    if not form.outlet_id.data and len(outlets) == 1:
        form.outlet_id.data = outlets[0].id
    report = service.month_entries(user, month)
    return render("overtime/index.html", form=form, outlets=outlets, report=report, month=month, error=error,
                  current=this_month(), previous=_shift(month, -1), next=_shift(month, 1), today=today,
                  can_decide=lambda entry: service.can_decide(user, entry), status_of=_status,
                  hours=service.format_hours, row_error=row_error, max_days=service.MAX_DAYS_BACK, status=status)


@bp.route("/")
@require(Permission.RECORD_OVERTIME)
def index():
    """The month's overtime: one's own (and a lead's team's, an admin's all), waiting ones first,
    with what the approved hours bill, and the form to record a day."""
    return _page()


@bp.route("/", methods=["POST"])
@require(Permission.RECORD_OVERTIME)
def record():
    """Record a day's overtime for one of one's outlets; the lead is told. Errors keep the input."""
    form = RecordForm()
    day = day_or_none(form.work_date.data)
    try:
        entry = service.record(current_user, outlet_id=form.outlet_id.data, day=day, hours=form.hours.data or "",
                               note=form.note.data or "", today=beijing_today())
    except ValidationError as exc:
        apply_errors(form, exc.errors)
        return _page(form, day.replace(day=1) if day else None, status=422)  # the typed day's month
    flash_text = _("Recorded: %(h)s hours on %(day)s. Your lead has been told.", h=service.format_hours(entry.minutes),
                   day=f"{entry.work_date:%m-%d}")
    flash(flash_text, "success")
    return redirect_after_post(url_for("overtime.index", month=f"{entry.work_date:%Y-%m}"))


def _version() -> int | None:
    return id_or_none(request.form.get("version"))


def _back(month_text: str | None):
    month = month_asked(month_text or "")[0]
    return url_for("overtime.index", month=f"{month:%Y-%m}")


@bp.route("/<int:entry_id>/decide", methods=["POST"])
@require(Permission.APPROVE_OVERTIME)
def decide(entry_id: int):
    """Approve or reject an entry waiting for the lead (a rejection says why); the agent is told."""
    approve = request.form.get("decision") == "approve"
    if request.form.get("decision") not in ("approve", "reject"):
        abort(400)
    note = request.form.get("decision_note", "")
    try:
        entry = service.decide(current_user, entry_id, version=_version(), approve=approve, note=note)
    except ValidationError as exc:
        month = month_asked(request.form.get("month", ""))[0]
        return _page(month=month, status=422, row_error=(entry_id, next(iter(exc.errors.values())), note[:200]))
    if approve:
        flash(_("Approved: %(name)s, %(h)s hours.", name=entry.user.display_name,
                h=service.format_hours(entry.minutes)), "success")
    else:
        flash(_("Rejected: %(name)s has been told why.", name=entry.user.display_name), "success")
    return redirect_after_post(_back(request.form.get("month")))


@bp.route("/<int:entry_id>/withdraw", methods=["POST"])
@require(Permission.RECORD_OVERTIME)
def withdraw(entry_id: int):
    """Take back one's own entry before the lead decides."""
    service.withdraw(current_user, entry_id, version=_version())
    flash(_("Withdrawn."), "success")
    return redirect_after_post(_back(request.form.get("month")))


EXPORT_COLUMNS = [("加班日期", 12), ("客服", 10), ("工号", 10), ("网点编码", 12), ("网点名称", 22), ("小时数", 8),
                  ("原因", 30), ("状态", 8), ("审批人", 10), ("审批说明", 24), ("费率(元/小时)", 10), ("收费", 10)]


@bp.route("/export.xlsx")
@require(Permission.RECORD_OVERTIME)
def export():
    """The month's entries as on the page, as .xlsx (payroll and billing work from it; user text stays text)."""
    from ..spreadsheets import Workbook, xlsx_response

    month = month_asked(request.args.get("month", ""), datetime.now(UTC))[0]
    report = service.month_entries(current_user._get_current_object(), month)
    book = Workbook()
    sheet = book.sheet(f"{month:%Y-%m}", EXPORT_COLUMNS, freeze="C2")
    for e in report.entries:
        sheet.append([e.work_date, e.user.display_name, e.user.username, e.outlet.code, e.outlet.name, e.hours,
                      e.note, _status(e.status)[0], e.decided_by.display_name if e.decided_by else "",
                      e.decision_note, e.rate, e.fee])
    return xlsx_response(book.to_bytes(), f"加班_{month:%Y-%m}.xlsx")
