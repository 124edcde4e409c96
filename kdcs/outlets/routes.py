"""Outlet pages: the admin list with inline edit, detail and assignment, Excel in and out.

Views are thin: parse, authorize (@require here, ``ensure`` again in the
service), call the service, render the page or the htmx block.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from ..crud import InlineEdit, discard_changes, get_or_404, parse_version
from ..errors import error_response
from ..extensions import db
from ..filters import SHANGHAI
from ..htmx import is_htmx, redirect_after_post, render, render_fragment, wants_fragment
from ..models import Outlet
from ..permissions import Permission, has_permission, require
from ..service_errors import StaleEdit, ValidationError
from ..spreadsheets import xlsx_response
from ..views import active_filter, apply_errors
from . import bp, excel, kpis, rates, service
from . import statement as statements
from .forms import (
    AssignForm,
    ImportConfirmForm,
    ImportUploadForm,
    OutletCreateForm,
    OutletEditForm,
    RateForm,
)

LIST_TEMPLATE = "outlets/admin_list.html"
DETAIL_TEMPLATE = "outlets/detail.html"
IMPORT_TEMPLATE = "outlets/import.html"
IMPORT_SESSION_KEY = "outlet_import"


# --------------------------------------------------------------------------- helpers


def _brand_choices(include_blank: bool = True):
    choices = [(b.id, f"{b.name} {b.code}") for b in service.all_brands()]
    return ([("", _("Choose a brand"))] if include_blank else []) + choices


def _agent_choices(blank_label: str):
    return [("", blank_label)] + [
        (u.id, f"{u.display_name} · {u.username}" + (f" · {u.team.name}" if u.team else ""))
        for u in service.assignable_agents()
    ]


def _filter_from_args() -> service.OutletFilter:
    return service.OutletFilter(
        text=request.args.get("q", "").strip(),
        brand_id=request.args.get("brand", type=int),
        active=active_filter(request.args),
        agent=request.args.get("agent", "").strip(),
    )


def _safe_back(default: str) -> str:
    referrer = request.referrer
    if referrer and referrer.startswith(request.host_url):
        return referrer
    return default


def _edit_fields(form) -> dict:
    return {
        "name": form.name.data, "brand_id": form.brand_id.data, "region": form.region.data,
        "contact_name": form.contact_name.data, "contact_phone": form.contact_phone.data,
        "rate_per_parcel": form.rate_per_parcel.data, "overtime_rate": form.overtime_rate.data, "notes": form.notes.data,
    }


# --------------------------------------------------------------------------- admin list


@bp.route("/admin/outlets")
@require(Permission.MANAGE_OUTLETS)
def admin_list():
    """The admin outlet list: search, brand/agent/status filters, inline edit."""
    f = _filter_from_args()
    page = request.args.get("page", 1, type=int)
    pagination = db.paginate(
        service.search_outlets(current_user, f), page=page,
        per_page=current_app.config.get("KDCS_PAGE_SIZE", 50), error_out=False,
    )
    return render(
        LIST_TEMPLATE, block="outlet_table", pagination=pagination, f=f,
        brands=service.all_brands(), agents=service.agents_with_outlets(), kit=OUTLETS,
        rates_now=rates.rates_for_month(list(pagination.items), rates.this_month()),
    )


@bp.route("/admin/outlets/new", methods=["GET", "POST"])
@require(Permission.MANAGE_OUTLETS)
def admin_new():
    """Create an outlet (with its primary agent, if chosen)."""
    form = OutletCreateForm()
    form.brand_id.choices = _brand_choices()
    form.primary_agent_id.choices = _agent_choices(_("No primary agent yet"))
    if request.method == "GET" and not form.rate_per_parcel.data:
        form.rate_per_parcel.data = "0.0250"
    if form.validate_on_submit():
        try:
            outlet = service.create_outlet(
                current_user, code=form.code.data, primary_agent_id=form.primary_agent_id.data,
                **_edit_fields(form),
            )
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("Outlet %(c)s created.", c=outlet.code), "success")
            return redirect(url_for("outlets.detail", outlet_id=outlet.id), code=303)
    return render_template("outlets/new.html", form=form)


def _prepare_outlet_form(form, _outlet=None) -> None:
    form.brand_id.choices = _brand_choices()


def _load_outlet_form(form, outlet: Outlet) -> None:
    form.rate_per_parcel.data = f"{outlet.rate_per_parcel:.4f}"
    form.overtime_rate.data = f"{outlet.overtime_rate:.2f}" if outlet.overtime_rate is not None else ""


def _toggle_fragment(outlet: Outlet):
    """The activate button on the detail page swaps the status block, not a list row."""
    if request.form.get("from") == "detail":
        return render_fragment(DETAIL_TEMPLATE, "status", outlet=outlet, kit=OUTLETS)
    return None


OUTLETS = InlineEdit(
    name="outlet", model=Outlet, template=LIST_TEMPLATE, list_endpoint="outlets.admin_list",
    edit_form=OutletEditForm, describe=lambda outlet: _("outlet %(c)s", c=outlet.code),
    row_context=lambda outlet: {"outlet": outlet, "rates_now": rates.rates_for_month([outlet], rates.this_month())},
    colspan=9, lead_cells=lambda outlet: [outlet.code],
    prepare_form=_prepare_outlet_form, load_form=_load_outlet_form, fields_template="outlets/_edit_fields.html",
    save=lambda outlet, form, version: service.update_outlet(
        current_user, outlet, version=version, **_edit_fields(form)),
    saved_url=lambda outlet: url_for("outlets.detail", outlet_id=outlet.id),
    set_active=lambda outlet, active: service.set_outlet_active(current_user, outlet, active),
    toggle_fragment=_toggle_fragment,
)
OUTLETS.register(bp, "/admin/outlets", Permission.MANAGE_OUTLETS, endpoint="admin")


# --------------------------------------------------------------------------- detail, assignment, mine


def _detail_context(outlet: Outlet, assign_form: AssignForm | None = None, rate_form: RateForm | None = None) -> dict:
    can_assign = has_permission(current_user, Permission.ASSIGN_OUTLETS)
    can_manage = has_permission(current_user, Permission.MANAGE_OUTLETS)
    if can_assign and assign_form is None:
        assign_form = AssignForm(formdata=None)
        assign_form.agent_id.data = outlet.primary_agent_id
        assign_form.version.data = str(outlet.version)
    if assign_form is not None:
        assign_form.agent_id.choices = _agent_choices(_("No primary agent"))
    month = rates.this_month()
    if can_manage and rate_form is None:
        rate_form = RateForm(formdata=None, month=f"{month:%Y-%m}")
    if rate_form is not None:
        rate_form.version.data = str(outlet.version)
    volumes = service.volume_lines(outlet)
    history = rates.rate_history(outlet, month)
    return {
        "outlet": outlet,
        "volumes": volumes,
        "total_parcels": sum(v.total for v in volumes),
        "total_fee": sum((v.fee for v in volumes), start=Decimal("0.00")),
        "assign_form": assign_form if can_assign else None,
        "can_manage": can_manage,
        "rate_history": history,
        "rate_now": rates.rate_at([line.entry for line in reversed(history)], month, outlet.rate_per_parcel),
        "rate_planned": next((line for line in history if line.month > month), None),
        "rate_form": rate_form if can_manage else None,
        "this_month": month,
        "can_statement": statements.can_read(current_user),  # 对账单
        # read only where the page shows them (not for the htmx blocks rendered from this context)
        "kpi_months": lambda: kpis.outlet_months(outlet, month, KPI_MONTHS, datetime.now(UTC), volumes),
    }


@bp.route("/outlets/<int:outlet_id>")
@require(Permission.VIEW_OUTLETS)
def detail(outlet_id: int):
    """One outlet: contacts, rate, volumes and fees, primary agent (within the user's scope)."""
    outlet = service.get_visible_outlet(current_user, outlet_id)
    if outlet is None:
        abort(404)
    return render_template(DETAIL_TEMPLATE, **_detail_context(outlet))


KPI_MONTHS = 6  # the outlet page's months of figures


@bp.route("/outlets/report")
@require(Permission.VIEW_OUTLETS)
def report():
    """网点月报: every outlet in the user's scope for one month — parcels and fee, tickets per 1,000
    parcels, reply deadlines kept, fines and who bears them — worst first, with a total."""
    now = datetime.now(UTC)
    month, error = rates.month_asked(request.args.get("month", ""), now)
    sort = request.args.get("sort", "per_thousand")
    if sort not in kpis.SORTS:
        sort = "per_thousand"
    lines, total = kpis.month_overview(current_user, month, now, sort)
    from ..overtime.service import format_hours

    return render("outlets/report.html", lines=lines, total=total, month=month, sort=sort, error=error,
                  hours=format_hours,
                  current=rates.this_month(now), previous=rates.shift_month(month, -1),
                  next=rates.shift_month(month, 1))


REPORT_COLUMNS = [("网点编码", 12), ("网点名称", 22), ("品牌", 8), ("负责客服", 10), ("票数", 12), ("服务费", 12),
                  ("工单数", 8), ("每千票工单", 10), ("回复时限到期", 12), ("按时回复", 10), ("超时回复", 10),
                  ("超时未回复", 10), ("按时率%", 8), ("罚款单数", 8), ("罚款金额", 10), ("网点承担", 10),
                  ("客服承担", 10), ("公司承担", 10), ("加班小时", 8), ("加班费", 10)]


@bp.route("/outlets/report.xlsx")
@require(Permission.VIEW_OUTLETS)
def report_export():
    """网点月报 as an .xlsx download: the same rows and order as the page (user text written as text)."""
    from ..spreadsheets import Workbook

    now = datetime.now(UTC)
    month, _error = rates.month_asked(request.args.get("month", ""), now)
    lines, _total = kpis.month_overview(current_user, month, now, request.args.get("sort", "per_thousand"))
    book = Workbook()
    sheet = book.sheet(f"{month:%Y-%m}", REPORT_COLUMNS, freeze="C2")
    for line in lines:
        f = line.figures
        sheet.append([line.outlet.code, line.outlet.name, line.outlet.brand.name, line.agent, f.parcels, f.fee,
                      f.tickets, f.per_thousand, f.due, f.on_time, f.late, f.missed, f.on_time_rate, f.fines,
                      f.fine_amount, f.outlet_borne, f.agent_share, f.company_borne,
                      Decimal(f.overtime_minutes) / 60, f.overtime_fee])
    return xlsx_response(book.to_bytes(), f"网点月报_{month:%Y-%m}.xlsx")


@bp.route("/outlets/<int:outlet_id>/statement")
@require(Permission.VIEW_OUTLETS)
def statement(outlet_id: int):
    """网点对账单: one month's bill of an outlet (parcels at the rate in force, approved overtime) with
    the month's fines and who bears them, to print on A4 (leads: their team's outlets; admins)."""
    if not statements.can_read(current_user):
        abort(403)
    outlet = service.get_visible_outlet(current_user, outlet_id)
    if outlet is None:
        abort(404)
    now = datetime.now(UTC)
    text = request.args.get("month", "")
    month, error = rates.month_asked(text, now)
    if not text:
        month = rates.shift_month(month, -1)  # a statement is for a month that has ended
    sheet = statements.statement(current_user, outlet, month, now)
    from ..overtime.service import format_hours
    from ..tickets.labels import label

    return render_template("outlets/statement.html", s=sheet, error=error, printed=now, hours=format_hours, L=label,
                           previous=rates.shift_month(month, -1), next=rates.shift_month(month, 1))


@bp.route("/outlets/<int:outlet_id>/assign", methods=["POST"])
@require(Permission.ASSIGN_OUTLETS)
def assign(outlet_id: int):
    """Set or replace an outlet's primary agent; a stale form is a 409 with the current state."""
    outlet = get_or_404(Outlet, outlet_id)
    form = AssignForm()
    form.agent_id.choices = _agent_choices(_("No primary agent"))
    status = 200
    if form.validate_on_submit():
        version = parse_version(form.version.data)  # missing or malformed: as stale as an old one
        try:
            if version is None:
                raise StaleEdit()
            service.assign_primary_agent(current_user, outlet, form.agent_id.data, version=version)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        except StaleEdit:
            discard_changes(outlet)
            form.version.data = str(outlet.version)  # the choice stays, ready to resubmit over the new state
            status = 409
            flash(_("Someone else changed this outlet a moment ago. Check the primary agent and try again."), "danger")
        else:
            agent = outlet.primary_agent
            if agent:
                flash(_("%(name)s is now the primary agent of %(c)s and has been notified.",
                        name=agent.display_name, c=outlet.code), "success")
            else:
                flash(_("%(c)s has no primary agent now.", c=outlet.code), "success")
            if not wants_fragment():
                return redirect(url_for("outlets.detail", outlet_id=outlet.id), code=303)
            form = None
    return render(DETAIL_TEMPLATE, block="assignment", status=status, conflict=status == 409,
                  **_detail_context(outlet, form))


@bp.route("/outlets/<int:outlet_id>/rates", methods=["POST"])
@require(Permission.MANAGE_OUTLETS)
def rate_change(outlet_id: int):
    """Change an outlet's rate from a chosen month on; a past month is a correction with a note (409 when stale)."""
    outlet = get_or_404(Outlet, outlet_id)
    form = RateForm()
    status = 200
    if form.validate_on_submit():
        month = rates.parse_month(form.month.data)
        try:
            if month is None:
                raise ValidationError({"month": _("Choose the month the rate applies from, such as 2027-01.")})
            version = parse_version(form.version.data)
            if version is None:
                raise StaleEdit()
            entry = rates.set_rate(current_user, outlet, month=month, rate=form.rate.data, note=form.note.data or "",
                                   correction=form.correction.data, version=version)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        except StaleEdit:
            discard_changes(outlet)
            status = 409
        else:
            flash(_("Rate of %(c)s from %(m)s on: %(r)s per parcel.", c=outlet.code, m=f"{entry.month:%Y-%m}",
                    r=f"{entry.rate:.4f}"), "success")
            # htmx follows HX-Redirect with location.href: a "#rates" on the same page would only scroll.
            page = url_for("outlets.detail", outlet_id=outlet.id)
            return redirect_after_post(page if is_htmx() else page + "#rates")
    return render(DETAIL_TEMPLATE, block="rates", status=status, rate_conflict=status == 409,
                  **_detail_context(outlet, rate_form=form))


@bp.route("/outlets/mine")
@require(Permission.VIEW_OUTLETS)
def mine():
    """An agent's own outlets with last month's volumes."""
    outlets = service.my_outlets(current_user)
    month = service.latest_month()
    fees = service.fees_for_month(outlets, month)
    lines = [(o, *fees[o.id]) for o in outlets]  # (outlet, parcels, rate in force that month, fee)
    active = [line for line in lines if line[0].is_active]
    return render_template(
        "outlets/mine.html", lines=lines, month=month,
        total_parcels=sum(line[1] for line in active),
        total_fee=sum((line[3] for line in active), start=Decimal("0.00")),
    )


# --------------------------------------------------------------------------- Excel


def _today() -> str:
    return datetime.now(SHANGHAI).strftime("%Y%m%d")


@bp.route("/admin/outlets/export.xlsx")
@require(Permission.MANAGE_OUTLETS)
def admin_export():
    """The filtered outlet list as .xlsx (user text never written as a formula)."""
    outlets = db.session.scalars(service.search_outlets(current_user, _filter_from_args())).unique()
    data = excel.write_workbook(excel.outlet_to_row(o) for o in outlets)
    return xlsx_response(data, f"网点_{_today()}.xlsx")


@bp.route("/admin/outlets/import/template.xlsx")
@require(Permission.MANAGE_OUTLETS)
def admin_import_template():
    """The outlet import template (.xlsx) with its header row."""
    data = excel.write_workbook([], brands=[(b.code, b.name) for b in service.all_brands()])
    return xlsx_response(data, "网点导入模板.xlsx")


def _import_page(form=None, plan=None, error=None, token=None, filename="", status=200):
    return render_template(
        IMPORT_TEMPLATE, form=form or ImportUploadForm(formdata=None), plan=plan, error=error,
        confirm_form=ImportConfirmForm(formdata=None, token=token) if token else None,
        filename=filename, max_mb=_max_mb(),
        max_rows=_max_rows(),
    ), status


def _max_mb() -> int:
    return int(current_app.config.get("KDCS_MAX_UPLOAD_MB") or 20)


def _max_rows() -> int:
    return int(current_app.config.get("KDCS_OUTLET_IMPORT_MAX_ROWS", 5000))


def _upload_dir() -> str:
    return current_app.config["KDCS_UPLOAD_DIR"]


@bp.route("/admin/outlets/import", methods=["GET", "POST"])
@require(Permission.MANAGE_OUTLETS)
def admin_import():
    """Upload an outlet spreadsheet and preview it with per-row Chinese errors (nothing written yet)."""
    if request.method == "GET":
        return _import_page()
    form = ImportUploadForm()
    if not form.validate_on_submit():
        return _import_page(form, error=_("The form has expired. Reload the page and try again."), status=400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_page(form, error=_("Choose an .xlsx file to upload."))
    filename = upload.filename
    data = upload.read(_max_mb() * 1024 * 1024 + 1)
    if len(data) > _max_mb() * 1024 * 1024:
        return _import_page(form, error=_("The file is larger than %(n)d MB. Split it into smaller files.", n=_max_mb()),
                            status=413)
    try:
        sheet = excel.read_outlet_rows(data, _max_rows())
    except excel.ImportFileError as exc:
        return _import_page(form, error=str(exc), filename=filename)
    plan = service.plan_import(current_user, sheet)
    token = None
    if plan.ok:
        excel.discard_upload(_upload_dir(), session.get(IMPORT_SESSION_KEY, {}).get("token"))
        token = excel.store_upload(_upload_dir(), data)
        session[IMPORT_SESSION_KEY] = {"token": token, "filename": filename[:120]}
    return _import_page(form, plan=plan, token=token, filename=filename)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """An upload over MAX_CONTENT_LENGTH: say so on the import page (nothing was read or written)."""
    if request.endpoint == "outlets.admin_import" and has_permission(current_user, Permission.MANAGE_OUTLETS):
        return _import_page(error=_("The file is larger than %(n)d MB. Split it into smaller files.", n=_max_mb()),
                            status=413)
    return error_response(413)


@bp.route("/admin/outlets/import/confirm", methods=["POST"])
@require(Permission.MANAGE_OUTLETS)
def admin_import_confirm():
    """Write a previewed import, all rows or none."""
    form = ImportConfirmForm()
    pending = session.get(IMPORT_SESSION_KEY) or {}
    token = form.token.data if form.validate_on_submit() else None
    path = excel.upload_path(_upload_dir(), token) if token and token == pending.get("token") else None
    if path is None:
        flash(_("The uploaded file is no longer available. Upload it again."), "warning")
        return redirect(url_for("outlets.admin_import"), code=303)
    filename = pending.get("filename", "")
    try:
        sheet = excel.read_outlet_rows(path.read_bytes(), _max_rows())
    except excel.ImportFileError as exc:
        excel.discard_upload(_upload_dir(), token)
        session.pop(IMPORT_SESSION_KEY, None)
        return _import_page(error=str(exc), filename=filename)
    plan = service.plan_import(current_user, sheet)
    if not plan.ok:  # the database changed since the preview
        excel.discard_upload(_upload_dir(), token)
        session.pop(IMPORT_SESSION_KEY, None)
        return _import_page(plan=plan, filename=filename,
                            error=_("Outlets changed since the preview; these rows are no longer valid. Nothing was imported."))
    counts = service.apply_import(current_user, plan, filename=filename)
    excel.discard_upload(_upload_dir(), token)
    session.pop(IMPORT_SESSION_KEY, None)
    flash(_("Import done: %(c)d created, %(u)d updated, %(n)d unchanged.",
            c=counts["created"], u=counts["updated"], n=counts["unchanged"]), "success")
    return redirect(url_for("outlets.admin_list"), code=303)


@bp.route("/admin/outlets/import/cancel", methods=["POST"])
@require(Permission.MANAGE_OUTLETS)
def admin_import_cancel():
    """Drop a previewed import and its stored file."""
    pending = session.pop(IMPORT_SESSION_KEY, None) or {}
    excel.discard_upload(_upload_dir(), pending.get("token"))
    flash(_("Import cancelled. Nothing was written."), "info")
    return redirect(url_for("outlets.admin_list"), code=303)
