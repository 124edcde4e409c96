"""Views of the ticket import (/tickets/import ...) and the queue export (/tickets/export.xlsx).

Thin: parse, authorize (IMPORT_TICKETS; a job is seen by its creator and
admins, others get 404), call ``service`` (imported as ``importing``), ``tasks``
or ``exporting``, render. Every form posts and redirects (303) without
JavaScript; htmx swaps the mapping form when the sheet or header row changes
and polls the progress every second.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from ...extensions import db
from ...filters import SHANGHAI
from ...htmx import fragment_only, redirect_after_post, render, render_fragment, wants_fragment
from ...models import Brand, Category, Direction, ImportStatus, Outlet, RowState, TicketReason
from ...permissions import Permission, has_permission, require
from ...service_errors import ValidationError
from .. import bp, exporting
from ..labels import CATEGORY_LABELS, DIRECTION_LABELS
from . import service as importing
from . import tasks, values
from .reader import HEADER_SEARCH_ROWS, FileRejected

INDEX_TEMPLATE = "tickets/import/index.html"
JOB_TEMPLATE = "tickets/import/job.html"
ERROR_PAGE_SIZE = 100


def _brands() -> list[Brand]:
    return list(db.session.scalars(select(Brand).where(Brand.is_active.is_(True)).order_by(Brand.name)))


def _index_page(error: str | None = None, status: int = 200, brand_id: int | None = None):
    jobs = importing.recent_jobs(current_user, 15)
    return render(INDEX_TEMPLATE, "upload_card", brands=_brands(), jobs=jobs, error=error,
                  brand_id=brand_id, max_mb=importing._mb_text(importing.max_bytes())), status


@bp.route("/import", methods=["GET", "POST"])
@require(Permission.IMPORT_TICKETS)
def import_index():
    """The import page (recent jobs, upload form); POST keeps an upload and opens its job."""
    if request.method == "GET":
        return _index_page()
    # The import has its own size limit (KDCS_IMPORT_MAX_MB), checked while streaming to disk;
    # the request limit only keeps absurd bodies out.
    request.max_content_length = importing.max_bytes() + 1024 * 1024
    try:
        brand_id = request.form.get("brand_id", type=int)
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        return _too_large()
    if upload is None or not upload.filename:
        return _index_page(_("Choose a file to upload."), 400, brand_id)
    try:
        job = importing.accept_upload(current_user, brand_id, upload.filename, upload.stream)
    except FileRejected as exc:
        return _index_page(str(exc), 400, brand_id)
    return redirect(url_for("tickets.import_job", job_id=job.id), code=303)


def _too_large():
    return _index_page(_("The file is larger than %(mb)s MB. Split it into smaller files.",
                         mb=importing._mb_text(importing.max_bytes())), 413)


@bp.errorhandler(RequestEntityTooLarge)
def _request_too_large(error):
    """A body over the app's MAX_CONTENT_LENGTH, refused before the view (e.g. while checking CSRF)."""
    from ...errors import error_response
    from ...permissions import has_permission

    if request.endpoint == "tickets.import_index" and has_permission(current_user, Permission.IMPORT_TICKETS):
        return _too_large()
    return error_response(413)


def _job_or_404(job_id: int):
    job = importing.get_job(current_user, job_id)
    if job is None:
        abort(404)
    return job


def _local_input(value: datetime | None) -> str:
    """An aware time as the value of a datetime-local input (Beijing time)."""
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M") if value else ""


def _whole_file_context(job) -> dict:
    """The outlet and registration time offered for a file without such columns."""
    defaults = (job.mapping or {}).get("defaults") or {}
    stated = importing.file_export_time(job)
    chosen = importing.whole_file_time(defaults)
    return {
        "whole_outlets": importing.whole_file_outlets(current_user, job),
        "whole_outlet_id": defaults.get("outlet_id"),
        "stated_time": stated,
        "whole_time_value": _local_input(chosen or stated or datetime.now(SHANGHAI)),
    }


def _mapping_context(job, problems: dict | None = None) -> dict:
    rows = importing.preview_rows(job)
    headers = importing.header_names_of(job, rows)
    first_data = job.header_row + job.header_depth - 1
    sample = [row for row in rows[first_data:] if any(v not in (None, "") for v in row)][:5]
    return {
        **_whole_file_context(job),
        "headers": headers,
        "sample": sample,
        "fields": importing.field_choices(),
        "mapping": job.mapping or {},
        "problems": problems or {},
        "header_rows": list(range(1, HEADER_SEARCH_ROWS + 1)),
        "category_choices": [(str(c), CATEGORY_LABELS[c]) for c in Category],
        "direction_choices": [(str(d), DIRECTION_LABELS[d]) for d in Direction],
    }


def _job_page(job, status: int = 200, block: str | None = None, **extra):
    context = {"job": job, "statuses": ImportStatus, "stalled": importing.looks_stalled(job),
               "categories": CATEGORY_LABELS}
    if job.status == ImportStatus.UPLOADED:
        if job_path_missing(job):
            context["file_missing"] = True
        else:
            context.update(_mapping_context(job, extra.pop("problems", None)))
    if job.status in (ImportStatus.VALIDATED, ImportStatus.DONE):
        context["error_rows"] = importing.staged_rows(job, RowState.ERROR, ERROR_PAGE_SIZE)
        context["error_page_size"] = ERROR_PAGE_SIZE
        context["error_groups"] = importing.error_groups(job)
        context.update(_whole_file_labels(job))
    if job.status == ImportStatus.VALIDATED:
        context["valid_sample"] = importing.staged_rows(job, RowState.OK, 10)
        context["duplicate_sample"] = importing.staged_rows(job, RowState.DUPLICATE, 10)
        context["value_count"] = 0  # the value table needs the file (checked again after a change)
        if not job_path_missing(job):
            context.update(_values_context(job))
    context.update(extra)
    return render(JOB_TEMPLATE, block, **context), status


def _whole_file_labels(job) -> dict:
    """What was chosen for every row of a file without outlet / time columns (shown on the preview)."""
    columns = (job.mapping or {}).get("columns") or {}
    defaults = (job.mapping or {}).get("defaults") or {}
    outlet = None
    if not columns.get("outlet_code") and not columns.get("outlet_name") and defaults.get("outlet_id"):
        outlet = db.session.get(Outlet, defaults["outlet_id"])
    time = importing.whole_file_time(defaults) if not columns.get("registered_at") else None
    return {"whole_outlet": outlet, "whole_time": time}


def _values_context(job) -> dict:
    reasons = db.session.scalars(select(TicketReason).where(TicketReason.is_active.is_(True))
                                 .order_by(TicketReason.sort_order, TicketReason.name)).all()
    by_category = [(str(c), CATEGORY_LABELS[c], [r for r in reasons if r.category == c]) for c in Category]
    table = importing.value_table(job)
    return {"value_table": table, "value_count": len(table),
            "values_to_check": sum(1 for r in table if r.needs_attention),
            "reasons_by_category": by_category,
            "can_add_reasons": has_permission(current_user, Permission.MANAGE_DEADLINE_RULES),
            "category_choices": [(str(c), CATEGORY_LABELS[c]) for c in Category],
            "direction_choices": [(str(d), DIRECTION_LABELS[d]) for d in Direction],
            "value_overflow": (job.value_counts or {}).get("overflow") or {}}


def job_path_missing(job) -> bool:
    """True when the job's uploaded file is gone (purged or deleted)."""
    return importing.job_path(job) is None


@bp.route("/import/<int:job_id>")
@require(Permission.IMPORT_TICKETS)
def import_job(job_id: int):
    """One job: mapping form, progress, or result, by its status."""
    job = _job_or_404(job_id)
    return _job_page(job, block="job_body")


@bp.route("/import/<int:job_id>/layout", methods=["POST"])
@require(Permission.IMPORT_TICKETS)
def import_layout(job_id: int):
    """Another sheet or header row: re-read the header and re-suggest the mapping."""
    job = _job_or_404(job_id)
    if job.status != ImportStatus.UPLOADED or job_path_missing(job):
        return _conflict(job)
    depth = 2 if request.form.get("two_row_header") else 1
    sheet = request.form.get("sheet")
    header_row = request.form.get("header_row", type=int)
    if (sheet and sheet not in (job.sheets or [])) or (
            request.form.get("header_row") and not (header_row and 1 <= header_row <= HEADER_SEARCH_ROWS)):
        abort(400)  # both are menus of the form: anything else was not chosen there
    if sheet and sheet != job.sheet_name:
        importing.set_layout(job, sheet, None, None)  # a new sheet: detect its header
    else:
        importing.set_layout(job, None, header_row, depth)
    db.session.commit()
    if wants_fragment():
        return render_fragment(JOB_TEMPLATE, "mapping_form", **_job_context_for_block(job))
    return redirect(url_for("tickets.import_job", job_id=job.id), code=303)


def _job_context_for_block(job, problems=None) -> dict:
    return {"job": job, "statuses": ImportStatus, **_mapping_context(job, problems)}


@bp.route("/import/<int:job_id>/map", methods=["POST"])
@require(Permission.IMPORT_TICKETS)
def import_map(job_id: int):
    """Save the column mapping and check every row in the background."""
    job = _job_or_404(job_id)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.VALIDATED) or job_path_missing(job):
        return _conflict(job)
    if job.status == ImportStatus.VALIDATED and request.form.get("remap"):
        job.status = ImportStatus.UPLOADED  # back to the mapping form, the file is still there
        db.session.commit()
        return redirect(url_for("tickets.import_job", job_id=job.id), code=303)
    headers = importing.header_names_of(job)
    columns = {f.key: request.form.get(f"col_{f.key}", "") for f in importing.FIELDS}
    mapping = {
        "columns": {key: header for key, header in columns.items() if header},
        "defaults": {key: request.form.get(f"default_{key}", "") for key in importing.DEFAULTABLE},
        "values": (job.mapping or {}).get("values") or {},  # the value choices made so far stay
    }
    whole_problems = importing.set_whole_file(
        current_user, job, mapping, request.form.get("whole_outlet_id", type=int),
        _parse_local(request.form.get("whole_registered_at", "")))
    job.mapping = mapping
    problems = {**importing.mapping_problems(mapping, headers), **whole_problems}
    if problems:
        db.session.commit()
        if wants_fragment():
            return render_fragment(JOB_TEMPLATE, "mapping_form", **_job_context_for_block(job, problems))
        return _job_page(job, problems=problems)
    tasks.start_validation(job)
    return _to_job(job)


def _parse_local(text: str) -> datetime | None:
    """A datetime-local value (Beijing time) as aware UTC, None when empty or not a time."""
    try:
        value = datetime.strptime(text.strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    return value.replace(tzinfo=SHANGHAI).astimezone(UTC)


@bp.route("/import/<int:job_id>/values", methods=["POST"])
@require(Permission.IMPORT_TICKETS)
def import_values(job_id: int):
    """Keep the value mapping (reason, category, direction values of the file) and check every row again."""
    job = _job_or_404(job_id)
    if job.status != ImportStatus.VALIDATED or job_path_missing(job):
        return _conflict(job)
    choices = values.parse_form(request.form, has_permission(current_user, Permission.MANAGE_DEADLINE_RULES))
    try:
        importing.apply_values(current_user, job, choices)
    except ValidationError as exc:
        flash(" ".join(str(m) for m in exc.errors.values()), "warning")
        return _to_job(job)
    tasks.start_validation(job)
    return _to_job(job)


@bp.route("/import/<int:job_id>/rejected.xlsx")
@require(Permission.IMPORT_TICKETS)
def import_rejected(job_id: int):
    """The rows with errors as an .xlsx: the file's columns plus the error, to fix and upload again."""
    job = _job_or_404(job_id)
    if job.status not in (ImportStatus.VALIDATED, ImportStatus.DONE) or not job.error_rows:
        abort(404)
    handle = exporting.open_and_unlink(importing.write_rejected_rows(job))
    stem = (job.filename.rsplit(".", 1)[0] or "import")[:80]
    return send_file(handle, as_attachment=True, download_name=f"{stem}_未导入行.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", max_age=0)


def _to_job(job):
    """To the job's page: HX-Redirect for htmx, 303 otherwise."""
    return redirect_after_post(url_for("tickets.import_job", job_id=job.id))


def _conflict(job):
    """The job moved on (another tab, the worker): say so, and show where it is now."""
    flash(_("This import has moved on since the page was loaded; here is where it stands now."), "warning")
    return _to_job(job)


@bp.route("/import/<int:job_id>/progress")
@require(Permission.IMPORT_TICKETS)
def import_progress(job_id: int):
    """The progress bar (polled every second); once the step is over, the whole job page."""
    job = _job_or_404(job_id)
    if not job.is_running:
        return _to_job(job)
    if wants_fragment():
        return render_fragment(JOB_TEMPLATE, "progress", job=job, statuses=ImportStatus,
                               stalled=importing.looks_stalled(job))
    return redirect(url_for("tickets.import_job", job_id=job.id), code=303)


@bp.route("/import/<int:job_id>/commit", methods=["POST"])
@require(Permission.IMPORT_TICKETS)
def import_commit(job_id: int):
    """Queue the write of a validated job's good rows."""
    job = _job_or_404(job_id)
    if job.status != ImportStatus.VALIDATED:
        return _conflict(job)
    if job.valid_rows == 0:
        flash(_("There is nothing to import: every row is a duplicate or has an error."), "warning")
        return _to_job(job)
    tasks.start_commit(job)
    return _to_job(job)


@bp.route("/import/<int:job_id>/cancel", methods=["POST"])
@require(Permission.IMPORT_TICKETS)
def import_cancel(job_id: int):
    """Cancel a job that is not finished or committing; deletes its upload and staged rows."""
    job = _job_or_404(job_id)
    if job.status in ImportStatus.FINISHED or job.status == ImportStatus.COMMITTING:
        return _conflict(job)
    importing.cancel(job)
    flash(_("The import was cancelled and the uploaded file deleted. Nothing was imported."), "success")
    return redirect_after_post(url_for("tickets.import_index"))


@bp.route("/import/<int:job_id>/retry", methods=["POST"])
@require(Permission.IMPORT_TICKETS)
def import_retry(job_id: int):
    """Start a step again when its worker stopped reporting (died, or none is running)."""
    job = _job_or_404(job_id)
    if not importing.looks_stalled(job):
        return _conflict(job)
    if job.status == ImportStatus.VALIDATING:
        tasks.start_validation(job)
    else:
        tasks.start_commit(job)
    flash(_("The step was started again."), "success")
    return _to_job(job)


@bp.route("/import/<int:job_id>/errors")
@require(Permission.IMPORT_TICKETS)
@fragment_only("tickets.import_job")
def import_errors(job_id: int):
    """More rows with errors ("load more"), as table rows for htmx, or the job page."""
    job = _job_or_404(job_id)
    offset = max(request.args.get("offset", type=int) or 0, 0)
    rows = importing.staged_rows(job, RowState.ERROR, ERROR_PAGE_SIZE, offset)
    return render_fragment(JOB_TEMPLATE, "error_rows_block", job=job, error_rows=rows, offset=offset,
                           error_page_size=ERROR_PAGE_SIZE)


# --------------------------------------------------------------------------- export


@bp.route("/export.xlsx")
@require(Permission.VIEW_TICKETS)
def export_xlsx():
    """The queue as filtered by the same query string as /tickets/, as an .xlsx download."""
    query = exporting.queue_query_from_args(current_user, request.args)
    path = exporting.export_tickets_xlsx(query, max_rows=int(current_app.config.get("KDCS_EXPORT_MAX_ROWS", 100_000)))
    handle = exporting.open_and_unlink(path)  # streamed from the open handle, gone from disk
    stamp = datetime.now(SHANGHAI).strftime("%Y%m%d-%H%M")
    return send_file(handle, as_attachment=True, download_name=f"工单_{stamp}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", max_age=0)
