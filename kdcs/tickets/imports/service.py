"""Ticket import from brand exports: upload, column mapping, checked preview, one-transaction commit.

The steps, and where they run:

* ``accept_upload`` (request): keep the file under a random name in
  ``KDCS_UPLOAD_DIR``, reject what is not a spreadsheet, too large or empty
  (nothing is written then), find sheets and the header row, create the job.
* ``mapping_context`` / ``save_mapping`` (request): the file's columns mapped
  to ticket fields, pre-filled from the brand's remembered mapping and from
  header synonyms (运单号 / 运单编号 ...).
* ``run_validation`` (Huey task): stream every row, check it with the domain
  validator (``service.validate_new_ticket``: outlet, reason, waybill, rule and
  deadlines), detect duplicates in bulk (one query per 1000 rows), and stage
  the rows in ``import_job_rows`` in committed batches; the job row carries the
  progress.
* ``run_commit`` (Huey task): ONE transaction copies the staged rows into
  ``tickets`` (``INSERT ... SELECT``) with their "created" events and an audit
  row; a failure anywhere writes no ticket. The mapping is then remembered.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, exists, func, insert, literal, select, text, update
from sqlalchemy.orm import joinedload, selectinload

from ...auditing import record, register_labels
from ...extensions import db
from ...models import (
    Brand,
    Category,
    Direction,
    EventKind,
    ImportJob,
    ImportJobRow,
    ImportStatus,
    Outlet,
    Priority,
    RowState,
    Ticket,
    TicketEvent,
    TicketReason,
    TicketSource,
    User,
    utcnow,
)
from ...models.types import UTCDateTime
from . import reader, values
from .reader import FileRejected
from .values import CATEGORY_WORDS, DIRECTION_WORDS  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
UPLOAD_PREFIX = "ticket-import-"
KEEP_FINISHED_DAYS = 7
STALE_AFTER = timedelta(minutes=2)  # a running job whose heartbeat is older looks dead

register_labels(
    actions={"ticket.import": _l("Tickets imported")},
    entities={"import_job": _l("Ticket import")},
)


# --------------------------------------------------------------------------- fields


@dataclass(frozen=True)
class ImportField:
    """A ticket field an import column can map to, with the header words that suggest it."""
    key: str
    label: object
    synonyms: tuple[str, ...]
    required: bool = False


FIELDS: tuple[ImportField, ...] = (
    ImportField("waybill_no", _l("Waybill number"),
                ("运单号", "运单编号", "运单号码", "快递单号", "单号", "面单号", "运单", "waybill", "waybill_no"), True),
    ImportField("outlet_code", _l("Outlet code"),
                ("网点编码", "所属网点编码", "网点代码", "所属网点代码", "网点编号", "责任网点编码", "被投诉网点编码",
                 "outlet_code")),
    ImportField("outlet_name", _l("Outlet name"),
                ("网点名称", "所属网点名称", "所属网点", "网点", "责任网点", "责任网点名称", "被投诉网点", "outlet")),
    ImportField("category", _l("Category"), ("类别", "工单类别", "业务类别", "问题类别", "大类", "category")),
    ImportField("reason", _l("Reason"),
                ("原因", "问题件二级类型", "二级类型", "问题件原因", "问题原因", "问题类型", "工单类型", "留言类型",
                 "仲裁类型", "仲裁原因", "问题件类型", "投诉类型", "投诉原因", "reason"), True),
    ImportField("direction", _l("Direction"), ("进港出港", "进出港", "进/出港", "方向", "业务方向", "direction")),
    ImportField("registered_at", _l("Registered in the brand system"),
                ("登记时间", "工单创建时间", "创建时间", "投诉时间", "上报时间", "留言时间", "发起时间",
                 "问题件登记时间", "登记日期", "registered_at"), True),
    ImportField("customer_name", _l("Customer name"),
                ("客户姓名", "收件人", "收件人姓名", "客户名称", "投诉人", "联系人", "customer_name")),
    ImportField("customer_phone", _l("Customer phone"),
                ("客户电话", "联系电话", "收件人电话", "收件人手机", "手机号", "投诉人电话", "电话", "customer_phone")),
    ImportField("description", _l("Description"),
                ("工单内容", "问题描述", "投诉内容", "留言内容", "内容", "描述", "问题说明", "问题件原因", "备注",
                 "description")),
    ImportField("urgent", _l("Urgent (是/否)"), ("是否加急", "是否紧急", "加急", "紧急", "是否升级", "urgent")),
)
FIELD_BY_KEY = {f.key: f for f in FIELDS}
DEFAULTABLE = ("category", "direction")
_SYNONYM_KEYS = {reader.header_key(s): f.key for f in reversed(FIELDS) for s in f.synonyms}
KNOWN_HEADER_KEYS = set(_SYNONYM_KEYS)

ERROR_KINDS = {  # error code -> the group's title on the preview, in the order shown
    "outlet_not_in_team": _l("Outlet is not in your team"),
    "outlet_unknown": _l("Outlet does not exist"),
    "outlet_missing": _l("Outlet missing"),
    "outlet_inactive": _l("Outlet not active"),
    "reason_unknown": _l("Reason not in the category"),
    "reason_missing": _l("Reason missing"),
    "category_unknown": _l("Unknown category"),
    "direction_unknown": _l("Unknown direction"),
    "value_rejected": _l("Refused by the value mapping"),
    "waybill_missing": _l("Waybill number missing"),
    "waybill_invalid": _l("Waybill number not valid"),
    "time_missing": _l("Registration time missing"),
    "time_invalid": _l("Registration time not valid"),
    "urgent_invalid": _l("Urgent flag not 是/否"),
    "no_rule": _l("No deadline rule"),
    "other": _l("Other problems"),
}
# Errors the value table can fix: a job whose every row fails otherwise ends itself.
VALUE_ERRORS = ("reason_unknown", "category_unknown", "direction_unknown")
GROUP_EXAMPLES = 3
# The domain validator's fields -> error codes.
_DOMAIN_CODES = {"waybill_no": "waybill_invalid", "registered_at": "time_invalid", "category": "no_rule",
                 "outlet_id": "outlet_inactive", "reason_id": "reason_unknown"}
REJECTED_ERROR_HEADER = "导入错误"  # the error column of the rejected-rows file (no field's synonym)


def field_choices() -> list[ImportField]:
    """The mappable fields, in form order."""
    return list(FIELDS)


# --------------------------------------------------------------------------- upload


def upload_dir() -> Path:
    """The folder that keeps uploads (KDCS_UPLOAD_DIR), created if missing."""
    path = Path(current_app.config["KDCS_UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def max_bytes() -> int:
    """The largest import file accepted (KDCS_IMPORT_MAX_MB)."""
    return int(float(current_app.config.get("KDCS_IMPORT_MAX_MB", 20)) * 1024 * 1024)


def job_path(job: ImportJob) -> str | None:
    """The path of the job's uploaded file, or None when it is gone."""
    if not job.stored_name:
        return None
    path = upload_dir() / job.stored_name
    return str(path) if path.is_file() else None


def discard_file(job: ImportJob) -> None:
    """Delete the job's uploaded file and forget its name."""
    if job.stored_name:
        (upload_dir() / job.stored_name).unlink(missing_ok=True)
        job.stored_name = None


def accept_upload(actor: User, brand_id: int, filename: str, stream) -> ImportJob:
    """Keep the upload and create its job; FileRejected (nothing kept, nothing written) otherwise.

    ``stream`` is read in chunks and never held in memory as a whole.
    """
    brand = db.session.get(Brand, brand_id) if brand_id else None
    if brand is None or not brand.is_active:
        raise FileRejected(_("Choose the brand the file was exported from."))
    limit = max_bytes()
    stored_name = f"{UPLOAD_PREFIX}{secrets.token_urlsafe(18)}.upload"
    path = upload_dir() / stored_name
    size = 0
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise FileRejected(_("The file is larger than %(mb)s MB. Split it into smaller files.",
                                         mb=_mb_text(limit)))
                out.write(chunk)
        if size == 0:
            raise FileRejected(_("The file is empty."))
        kind, encoding = reader.sniff(str(path))
        sheets = reader.sheet_names(str(path), kind)
        sheet, header_row, depth = _first_sheet_with_data(str(path), kind, encoding, sheets)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    job = ImportJob(
        created_by_id=actor.id, brand_id=brand.id, filename=(filename or "")[:200], stored_name=stored_name,
        file_kind=kind, file_size=size, encoding=encoding, sheets=sheets, sheet_name=sheet,
        header_row=header_row, header_depth=depth, status=ImportStatus.UPLOADED,
    )
    job.mapping = suggest_mapping(job, header_names_of(job))
    db.session.add(job)
    db.session.commit()
    return job


def _mb_text(limit: int) -> str:
    """The limit as configured (KDCS_IMPORT_MAX_MB), e.g. "20" or "0.5"."""
    return f"{round(limit / (1024 * 1024), 2):g}"


def _first_sheet_with_data(path: str, kind: str, encoding: str | None, sheets: list[str]) -> tuple[str, int, int]:
    """The sheet whose header names the most ticket fields and has data rows below it
    (a summary sheet in front of the details loses); FileRejected when no sheet has data."""
    best = None  # (score, -index, sheet, header_row, depth)
    for index, sheet in enumerate(sheets):
        rows = reader.first_rows(path, kind, sheet, encoding, reader.HEADER_SEARCH_ROWS + 2)
        if not any(any(reader.cell_text(v) for v in row) for row in rows):
            continue
        header_row, depth = reader.detect_header(rows, KNOWN_HEADER_KEYS)
        data_start = header_row + depth - 1  # rows before the data, 1-based count
        if not any(any(reader.cell_text(v) for v in row) for row in rows[data_start:]):
            continue
        names = reader.header_names(rows, header_row, depth)
        score = len({reader.header_key(n) for n in names} & KNOWN_HEADER_KEYS)
        candidate = (score, -index, sheet, header_row, depth)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is None:
        raise FileRejected(_("The file has no data rows: it is empty or has only a header."))
    return best[2], best[3], best[4]


# --------------------------------------------------------------------------- mapping


def preview_rows(job: ImportJob, count: int = reader.HEADER_SEARCH_ROWS + 5) -> list[list]:
    """The first rows of the job's sheet (empty when the file is gone)."""
    path = job_path(job)
    if path is None:
        return []
    return reader.first_rows(path, job.file_kind, job.sheet_name, job.encoding, count)


def header_names_of(job: ImportJob, rows: list[list] | None = None) -> list[str]:
    """The column names of the job's chosen header row(s)."""
    rows = preview_rows(job) if rows is None else rows
    return reader.header_names(rows, job.header_row, job.header_depth)


def suggest_mapping(job: ImportJob, headers: list[str]) -> dict:
    """{"columns": {field: header}, "defaults": {...}}: the brand's remembered mapping where its
    headers are in this file, then header synonyms for the fields still unmapped."""
    from ..reference import get_import_mapping

    remembered = get_import_mapping(job.brand_id) or {}
    columns: dict[str, str] = {}
    used: set[str] = set()
    for key, header in (remembered.get("columns") or {}).items():
        if key in FIELD_BY_KEY and header in headers and header not in used:
            columns[key] = header
            used.add(header)
    for f in FIELDS:
        if f.key in columns:
            continue
        wanted = {reader.header_key(s) for s in f.synonyms}
        # The synonyms' order is their preference: 运单号 before 单号.
        for synonym in f.synonyms:
            key = reader.header_key(synonym)
            match = next((h for h in headers if h not in used and reader.header_key(h) == key), None)
            if match:
                columns[f.key] = match
                used.add(match)
                break
        else:
            # A section-prefixed name from a two-row header ("投诉信息-运单号").
            match = next((h for h in headers if h not in used and "-" in h
                          and reader.header_key(h.split("-", 1)[1]) in wanted), None)
            if match:
                columns[f.key] = match
                used.add(match)
    defaults = {"category": Category.WORK_ORDER, "direction": Direction.INBOUND}
    defaults.update({k: v for k, v in (remembered.get("defaults") or {}).items() if k in DEFAULTABLE})
    return {"columns": columns, "defaults": defaults}


def mapping_problems(mapping: dict, headers: list[str]) -> dict[str, str]:
    """Errors of a mapping by field key (Chinese), empty when it can be used."""
    columns = mapping.get("columns") or {}
    defaults = mapping.get("defaults") or {}
    problems: dict[str, str] = {}
    for key, header in columns.items():
        if header not in headers:
            problems[key] = _("The file has no column %(name)s.", name=header)
    for f in FIELDS:
        if not f.required or columns.get(f.key):
            continue
        if f.key != "registered_at":
            problems[f.key] = _("Choose the column with the %(field)s.", field=f.label)
        elif not defaults.get("registered_at"):
            problems[f.key] = _("Choose the column with the registration time, or one time for the whole file.")
    if not columns.get("outlet_code") and not columns.get("outlet_name") and not defaults.get("outlet_id"):
        problems["outlet_code"] = _("Choose the column with the outlet code or the outlet name, "
                                    "or one outlet for the whole file.")
    if not columns.get("category") and defaults.get("category") not in set(Category):
        problems["category"] = _("Choose a category column or a category for every row.")
    if not columns.get("direction") and defaults.get("direction") not in set(Direction):
        problems["direction"] = _("Choose a direction column or a direction for every row.")
    seen: dict[str, str] = {}
    for key, header in columns.items():
        if header in seen:
            problems[key] = _("The column %(name)s is already used for %(field)s.", name=header,
                              field=FIELD_BY_KEY[seen[header]].label)
        seen[header] = key
    return problems


def set_layout(job: ImportJob, sheet: str | None, header_row: int | None, depth: int | None) -> None:
    """Change sheet / header row; a new sheet re-detects its header and re-suggests the mapping."""
    sheet_changed = sheet is not None and sheet in (job.sheets or []) and sheet != job.sheet_name
    if sheet_changed:
        job.sheet_name = sheet
        rows = preview_rows(job)
        job.header_row, job.header_depth = reader.detect_header(rows, KNOWN_HEADER_KEYS)
    if header_row and 1 <= header_row <= reader.HEADER_SEARCH_ROWS:
        job.header_row = header_row
    if depth in (1, 2):
        job.header_depth = depth
    job.mapping = suggest_mapping(job, header_names_of(job))


def file_export_time(job: ImportJob) -> datetime | None:
    """The export time the file states (title rows, a 说明 sheet), or None."""
    path = job_path(job)
    if path is None:
        return None
    for sheet in (job.sheets or [None])[:6]:
        rows = reader.first_rows(path, job.file_kind, sheet if job.file_kind == "xlsx" else None, job.encoding)
        found = reader.stated_export_time(rows)
        if found is not None:
            return found
    return None


def whole_file_outlets(actor: User, job: ImportJob) -> list[Outlet]:
    """The outlets one may choose for a whole file: active outlets of the job's brand the user serves
    (a lead: their team's; an admin: all)."""
    from ..service import visible_outlets_query

    query = visible_outlets_query(actor).where(Outlet.brand_id == job.brand_id, Outlet.is_active.is_(True))
    return list(db.session.scalars(query.order_by(Outlet.code)))


def set_whole_file(actor: User, job: ImportJob, mapping: dict, outlet_id: int | None, registered_at: datetime | None,
                   ) -> dict[str, str]:
    """Put the outlet / registration time chosen for the whole file into ``mapping["defaults"]``
    (only when the file has no such column); returns problems by field (Chinese)."""
    columns = mapping.get("columns") or {}
    defaults = mapping.setdefault("defaults", {})
    defaults.pop("outlet_id", None)
    defaults.pop("registered_at", None)
    problems: dict[str, str] = {}
    if not columns.get("outlet_code") and not columns.get("outlet_name") and outlet_id:
        if outlet_id in {o.id for o in whole_file_outlets(actor, job)}:
            defaults["outlet_id"] = outlet_id
        else:
            problems["outlet_code"] = _("Choose one of your outlets of this brand.")
    if not columns.get("registered_at") and registered_at is not None:
        if registered_at > utcnow() + timedelta(minutes=10):
            problems["registered_at"] = _("The registration time cannot be in the future.")
        else:
            defaults["registered_at"] = registered_at.isoformat()
    return problems


# --------------------------------------------------------------------------- values


def value_table(job: ImportJob) -> list[values.ValueRow]:
    """The value table of a checked job: every distinct value of the mapped value columns, those
    to look at first (reasons before categories and directions), then by rows."""
    reasons = list(db.session.scalars(select(TicketReason).order_by(TicketReason.category, TicketReason.sort_order,
                                                                     TicketReason.name)))
    table = values.value_rows((job.mapping or {}).get("values"), job.value_counts, job.brand_id, reasons)
    order = {"reason": 0, "category": 1, "direction": 2}
    rows = [row for field_rows in table.values() for row in field_rows]
    return sorted(rows, key=lambda r: (not r.needs_attention, order[r.field], -r.rows, r.text))


def apply_values(actor: User, job: ImportJob, choices: dict[str, dict[str, str]]) -> None:
    """Keep the value choices on the job (the rows are checked again next).

    "new:<category>" creates a reason named after the value in that category (it needs the
    right to edit reasons; an existing reason of that name is used instead). Does not commit
    the job (creating a reason commits).
    """
    from ...permissions import Permission, has_permission
    from ..settings.service import create_reason

    texts = value_texts(job)
    for item, target in list((choices.get("reason") or {}).items()):
        if not target.startswith(values.NEW_PREFIX):
            continue
        category = target[len(values.NEW_PREFIX):]
        name = ((texts.get("reason") or {}).get(item) or item.split("|", 1)[-1])[:32].strip()
        if category not in set(Category) or not name or not has_permission(actor, Permission.MANAGE_DEADLINE_RULES):
            choices["reason"][item] = ""
            continue
        reason = db.session.scalar(select(TicketReason).where(TicketReason.category == category,
                                                              func.lower(TicketReason.name) == name.lower()))
        if reason is None:
            reason = create_reason(actor, category=category, name=name)
        choices["reason"][item] = f"{values.REASON_PREFIX}{reason.id}"
    mapping = dict(job.mapping or {})
    kept = {name: dict((mapping.get("values") or {}).get(name) or {}) for name in values.FIELDS}
    for name in values.FIELDS:
        kept[name].update(choices.get(name) or {})
    mapping["values"] = kept
    job.mapping = mapping


def error_groups(job: ImportJob) -> list[dict]:
    """The job's errors by kind, in the preview's order: [{code, label, rows, examples}]."""
    groups = job.error_groups or {}
    order = list(ERROR_KINDS)
    result = []
    for code in sorted(groups, key=lambda c: order.index(c) if c in order else len(order)):
        group = groups[code]
        result.append({"code": code, "label": ERROR_KINDS.get(code, ERROR_KINDS["other"]), "rows": group["n"],
                       "examples": group.get("examples") or []})
    return result


def write_rejected_rows(job: ImportJob) -> str:
    """The rows with errors as an .xlsx (a temporary file; the caller sends and removes it):
    the file's columns as they were, plus the error column, through the safe Excel writer, so
    the user fixes them in Excel and uploads the file again."""
    import tempfile

    from ...spreadsheets import Workbook

    headers = list(job.header_names or [])
    book = Workbook()
    sheet = book.sheet(_("Rejected rows"), [(h, 16) for h in headers] + [(REJECTED_ERROR_HEADER, 48)], freeze="A2")
    last = 0
    while True:
        batch = list(db.session.execute(
            select(ImportJobRow.line, ImportJobRow.raw, ImportJobRow.errors)
            .where(ImportJobRow.job_id == job.id, ImportJobRow.state == RowState.ERROR, ImportJobRow.line > last)
            .order_by(ImportJobRow.line).limit(BATCH_SIZE)))
        if not batch:
            break
        for line, raw, errors in batch:
            cells = list(raw or [])[:len(headers)] if headers else list(raw or [])
            cells += [""] * (len(headers) - len(cells))
            sheet.append([c if c != "" else None for c in cells] + ["；".join(e[1] for e in errors or [])])
            last = line
    fd, path = tempfile.mkstemp(prefix="kdcs-rejected-", suffix=".xlsx")
    os.close(fd)
    book.save(path)
    return path


# --------------------------------------------------------------------------- reading rows


def iter_data_rows(job: ImportJob, path: str, source: reader.RowSource) -> Iterator[tuple[int, list]]:
    """(line number, values) of every non-empty data row below the header."""
    first_data = job.header_row + job.header_depth
    for line, row in enumerate(source.rows(), start=1):
        if line < first_data:
            continue
        if not any(reader.cell_text(v) for v in row):
            continue
        yield line, row


def _batches(iterable, size: int):
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class RowChecker:
    """Turns raw rows into ticket values or Chinese errors, with every lookup preloaded once.

    Also counts the distinct category / direction / reason values (``counter``, for the value
    table) and the errors by kind with three examples each (``groups``).
    """

    def __init__(self, job: ImportJob, headers: list[str]):
        from ..service import CreateContext

        self.job = job
        actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
        if actor is None or not actor.is_active:
            raise FileRejected(_("The user who started this import no longer exists or is deactivated."))
        self.ctx = CreateContext.for_actor(actor)
        self.ctx.use_coverage = False  # rows go to the owner here; run_commit applies coverage when it writes
        columns = job.mapping.get("columns") or {}
        self.index = {key: headers.index(h) for key, h in columns.items() if h in headers}
        self.defaults = job.mapping.get("defaults") or {}
        self.outlets_by_code: dict[str, int] = {}
        self.outlets_by_name: dict[str, int] = {}
        self.brand_name = job.brand.name
        outlets = select(Outlet).where(Outlet.brand_id == job.brand_id).options(selectinload(Outlet.primary_agent))
        for outlet in db.session.scalars(outlets):
            self.ctx.outlets[outlet.id] = outlet
            self.outlets_by_code[reader.header_key(outlet.code)] = outlet.id
            self.outlets_by_name.setdefault(reader.header_key(outlet.name), outlet.id)
        reasons = list(db.session.scalars(select(TicketReason)))
        for reason in reasons:
            self.ctx.reasons[reason.id] = reason
        self.resolver = values.Resolver(job.brand_id, job.mapping.get("values"), reasons)
        self.counter = values.ValueCounter()
        self.groups: dict[str, dict] = {}
        # One outlet / one registration time for the whole file, when the file has no such column.
        self.whole_outlet_id = None
        if "outlet_code" not in self.index and "outlet_name" not in self.index:
            self.whole_outlet_id = _as_int(self.defaults.get("outlet_id"))
        self.whole_time = None
        if "registered_at" not in self.index and self.defaults.get("registered_at"):
            self.whole_time = whole_file_time(self.defaults)
        self.now = utcnow()
        self._plain_lookups()

    def _plain_lookups(self) -> None:
        """Give the domain validator plain copies of outlets, reasons and rules.

        It reads a handful of attributes per row; on ORM instances every read
        goes through instrumentation, which for 50,000 rows is a large share of
        the import's time. The copies carry exactly the attributes it reads.
        """
        def plain(obj, names):
            return SimpleNamespace(**{name: getattr(obj, name) for name in names})

        agents = {}
        for outlet_id, outlet in list(self.ctx.outlets.items()):
            agent = outlet.primary_agent
            if agent is not None and agent.id not in agents:
                agents[agent.id] = plain(agent, ("id", "is_active"))
            copy = plain(outlet, ("id", "brand_id", "is_active", "code", "name"))
            copy.primary_agent = agents[agent.id] if agent is not None else None
            self.ctx.outlets[outlet_id] = copy
        for reason_id, reason in list(self.ctx.reasons.items()):
            self.ctx.reasons[reason_id] = plain(reason, ("id", "category", "name", "is_active"))
        self.ctx.rules = [plain(rule, ("id", "brand_id", "category", "reason_id", "is_active", "mode",
                                       "reply_minutes", "resolve_minutes", "service_start", "service_end"))
                          for rule in self.ctx.rules]

    def value(self, row: list, key: str):
        index = self.index.get(key)
        if index is None or index >= len(row):
            return None
        return row[index]

    def text(self, row: list, key: str) -> str:
        return reader.cell_text(self.value(row, key))

    def _outlet(self, row: list, error) -> tuple[int | None, str]:
        """(outlet id, outlet text) of the row: the whole file's outlet, or the code/name columns."""
        if self.whole_outlet_id is not None:
            outlet = self.ctx.outlets.get(self.whole_outlet_id)
            return self.whole_outlet_id, outlet.code if outlet is not None else ""
        outlet_text = self.text(row, "outlet_code") or self.text(row, "outlet_name")
        if not outlet_text:
            error("outlet", _("The outlet is missing."), "outlet_missing")
            return None, ""
        code = self.text(row, "outlet_code")
        name = self.text(row, "outlet_name")
        outlet_id = (self.outlets_by_code.get(reader.header_key(code)) if code else None) or (
            self.outlets_by_name.get(reader.header_key(name)) if name else None)
        if outlet_id is None:
            error("outlet", _("Unknown outlet %(value)s (not an outlet of %(brand)s).",
                              value=outlet_text, brand=self.brand_name), "outlet_unknown")
        elif self.ctx.visible_outlet_ids is not None and outlet_id not in self.ctx.visible_outlet_ids:
            error("outlet", _("Outlet %(value)s is not in your team.", value=outlet_text), "outlet_not_in_team")
            outlet_id = None
        return outlet_id, outlet_text

    def _coded(self, row: list, field_name: str, default, error):
        """Category or direction of the row: its column's value through the value mapping, or the default."""
        text = self.text(row, field_name) if field_name in self.index else ""
        if not text:
            return default
        self.counter.add(field_name, "", text)
        found = self.resolver.coded(field_name, text)
        if found.rejected:
            error(field_name, _("%(value)s is refused by the value mapping.", value=text), "value_rejected")
        elif found.code:
            return found.code
        elif field_name == "category":
            error(field_name, _("Unknown category %(value)s.", value=text), "category_unknown")
        else:
            error(field_name, _("%(value)s is neither 进港 nor 出港.", value=text), "direction_unknown")
        return None

    def check(self, line: int, row: list) -> dict:
        """One data row: its ticket values (state OK) or its errors (state ERROR, with the row's cells)."""
        from ..service import validate_new_ticket

        errors: list[list[str]] = []

        def error(field: str, message, code: str) -> None:
            errors.append([field, str(message), code])

        waybill_text = self.text(row, "waybill_no")
        reason_text = self.text(row, "reason")
        category = self._coded(row, "category", self.defaults.get("category"), error)
        direction = self._coded(row, "direction", self.defaults.get("direction"), error)
        outlet_id, outlet_text = self._outlet(row, error)
        staged = {"line": line, "waybill_text": waybill_text[:64], "outlet_text": outlet_text[:64],
                  "reason_text": reason_text[:64]}

        reason_id = None
        if not reason_text:
            error("reason", _("The reason is missing."), "reason_missing")
        elif category:
            self.counter.add("reason", category, reason_text)
            found = self.resolver.reason(category, reason_text)
            if found.rejected:
                error("reason", _("%(value)s is refused by the value mapping.", value=reason_text), "value_rejected")
            elif found.reason_id:
                reason_id = found.reason_id
                category = self.resolver.reason_category(reason_id)  # a reason of another category moves the row
            else:
                error("reason", _("Unknown reason %(value)s for this category.", value=reason_text), "reason_unknown")

        if not waybill_text:
            error("waybill_no", _("The waybill number is missing."), "waybill_missing")

        registered_at = self.whole_time
        if registered_at is None:
            raw_time = self.value(row, "registered_at")
            if raw_time in (None, ""):
                error("registered_at", _("The registration time is missing."), "time_missing")
            else:
                try:
                    registered_at = reader.parse_datetime(raw_time)
                except ValueError:
                    error("registered_at", _("%(value)s is not a date and time.", value=reader.cell_text(raw_time)),
                          "time_invalid")

        priority = Priority.NORMAL
        if "urgent" in self.index:
            try:
                if reader.parse_flag(self.value(row, "urgent")):
                    priority = Priority.URGENT
            except ValueError:
                error("urgent", _("%(value)s is not 是 or 否.", value=self.text(row, "urgent")), "urgent_invalid")

        if not (errors and not waybill_text):
            # The domain's own checks (waybill format, active outlet, scope, rule, deadlines).
            cleaned, problems = validate_new_ticket(
                self.ctx, outlet_id=outlet_id, direction=direction or "", category=category or "",
                reason_id=reason_id, waybill_no=waybill_text, registered_at=registered_at,
                customer_name=self.text(row, "customer_name"), customer_phone=self.text(row, "customer_phone"),
                description=self.text(row, "description"), priority=priority, check_duplicate=False, now=self.now)
            reported = {e[0] for e in errors}
            for field_name, message in problems.items():
                mapped = {"outlet_id": "outlet", "reason_id": "reason"}.get(field_name, field_name)
                if mapped not in reported and not (mapped in ("category", "direction") and errors):
                    error(mapped, message, _DOMAIN_CODES.get(field_name, "other"))
            if not errors:
                return {**staged, "state": RowState.OK, "errors": None, **_ticket_values(self.ctx, cleaned)}
        self._group(line, errors)
        return {**staged, "state": RowState.ERROR, "errors": errors, "raw": [reader.cell_text(v) for v in row]}

    def _group(self, line: int, errors: list[list[str]]) -> None:
        """Count the row once in each kind of error it has; keep the first examples of each kind."""
        for code in dict.fromkeys(e[2] for e in errors):
            group = self.groups.setdefault(code, {"n": 0, "examples": []})
            group["n"] += 1
            message = next(e[1] for e in errors if e[2] == code)
            examples = group["examples"]
            if len(examples) < GROUP_EXAMPLES:
                examples.append([line, message])
            elif message not in {m for _line, m in examples}:
                # Different values make better examples: a new message replaces a repeated one.
                seen: set[str] = set()
                for index, (_line, known) in enumerate(examples):
                    if known in seen:
                        examples[index] = [line, message]
                        break
                    seen.add(known)


def whole_file_time(defaults: dict) -> datetime | None:
    """The registration time chosen for every row (stored as ISO text in UTC), or None."""
    try:
        value = datetime.fromisoformat(defaults.get("registered_at") or "")
    except ValueError:
        return None
    return value if value.tzinfo else None


def _as_int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def resolve_import_assignee(ctx, cleaned: dict) -> int | None:
    """The agent an imported row is assigned to (the hook for checks on who may receive tickets).

    ``cleaned["assignee"]`` is the domain's choice: the outlet's active primary agent (coverage
    during a leave is applied later, when ``run_commit`` writes). Return None to leave the ticket
    unassigned. ``ctx`` is the import's ``CreateContext`` (its actor, caches).
    """
    assignee = cleaned["assignee"]
    return assignee.id if assignee is not None else None


def _ticket_values(ctx, cleaned: dict) -> dict:
    from ..service import initial_status, refresh_derived

    outlet, rule = cleaned["outlet"], cleaned["rule"]
    # refresh_derived only reads and sets attributes: a plain object is enough (and ~50× cheaper
    # than an ORM instance, which matters for 50,000 rows).
    probe = SimpleNamespace(status=initial_status(cleaned["category"], cleaned["direction"]),
                            reply_due_at=cleaned["reply_due_at"], resolve_due_at=cleaned["resolve_due_at"],
                            first_replied_at=None, resolved_at=None, due_at=None, queue_state=None)
    refresh_derived(probe)
    return {
        "outlet_id": outlet.id, "brand_id": outlet.brand_id, "direction": str(cleaned["direction"]),
        "category": str(cleaned["category"]), "reason_id": cleaned["reason"].id,
        "waybill_no": cleaned["waybill_no"], "registered_at": cleaned["registered_at"],
        "customer_name": cleaned["customer_name"], "customer_phone": cleaned["customer_phone"],
        "description": cleaned["description"], "priority": str(cleaned["priority"]),
        "assignee_id": resolve_import_assignee(ctx, cleaned),
        "status": str(probe.status), "reply_due_at": cleaned["reply_due_at"],
        "resolve_due_at": cleaned["resolve_due_at"], "deadline_rule_id": rule.id if rule else None,
        "due_at": probe.due_at, "queue_state": int(probe.queue_state),
    }


_STAGED_COLUMNS = [c.name for c in ImportJobRow.__table__.columns if c.name not in ("id",)]


def _stage(job_id: int, rows: list[dict]) -> None:
    """Insert a batch of checked rows with one executemany."""
    if not rows:
        return
    payload = [{name: row.get(name) for name in _STAGED_COLUMNS if name != "job_id"} | {"job_id": job_id}
               for row in rows]
    db.session.execute(ImportJobRow.__table__.insert(), payload)  # Core executemany, no ORM bulk path


def _mark_duplicates(job_id: int, rows: list[dict]) -> None:
    """Duplicates inside the batch, of earlier batches of this file, and of existing tickets:
    two queries per batch, whatever its size."""
    from ..service import existing_duplicate_keys

    ok = [r for r in rows if r["state"] == RowState.OK]
    if not ok:
        return
    key = lambda r: (r["waybill_no"], r["outlet_id"], r["category"], r["reason_id"])  # noqa: E731
    existing = existing_duplicate_keys([key(r) for r in ok])
    waybills = sorted({r["waybill_no"] for r in ok})
    earlier = set(db.session.execute(
        select(ImportJobRow.waybill_no, ImportJobRow.outlet_id, ImportJobRow.category, ImportJobRow.reason_id)
        .where(ImportJobRow.job_id == job_id, ImportJobRow.state == RowState.OK,
               ImportJobRow.waybill_no.in_(waybills))).all())
    seen: set[tuple] = set()
    for row in ok:
        k = key(row)
        if k in existing or k in earlier or k in seen:
            row["state"] = RowState.DUPLICATE
        seen.add(k)


def run_validation(job_id: int) -> None:
    """Check every row of the job's file and stage it (the Huey task's body). Commits per batch."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status != ImportStatus.VALIDATING:
        return
    path = job_path(job)
    try:
        if path is None:
            raise FileRejected(_("The uploaded file is no longer available. Upload it again."))
        # Outlets, reasons and rules stay loaded across the batch commits (staged rows are
        # Core inserts, so the identity map does not grow with the file).
        db.session().expire_on_commit = False
        headers = header_names_of(job)
        checker = RowChecker(job, headers)
        db.session.execute(delete(ImportJobRow).where(ImportJobRow.job_id == job.id))
        _reset_counts(job)
        job.header_names = headers
        job.started_at = job.heartbeat_at = utcnow()
        db.session.commit()
        with reader.RowSource(path, job.file_kind, job.sheet_name, job.encoding) as source:
            for batch in _batches(iter_data_rows(job, path, source), BATCH_SIZE):
                rows = [checker.check(line, values) for line, values in batch]
                _mark_duplicates(job.id, rows)
                _stage(job.id, rows)
                if source.estimated_rows:
                    job.total_rows = max(source.estimated_rows - job.header_row - job.header_depth + 1,
                                         job.processed_rows + len(rows))
                job.processed_rows += len(rows)
                job.valid_rows += sum(1 for r in rows if r["state"] == RowState.OK)
                job.duplicate_rows += sum(1 for r in rows if r["state"] == RowState.DUPLICATE)
                job.error_rows += sum(1 for r in rows if r["state"] == RowState.ERROR)
                job.error_groups = {code: dict(group) for code, group in checker.groups.items()}
                job.heartbeat_at = utcnow()
                db.session.commit()
                db.session.refresh(job, ["status"])
                if job.status != ImportStatus.VALIDATING:  # cancelled meanwhile
                    return
        if job.processed_rows == 0:
            raise FileRejected(_("The file has no data rows: it is empty or has only a header."))
        job.total_rows = job.processed_rows
        job.value_counts = checker.counter.as_json()
        job.status = ImportStatus.VALIDATED
        job.finished_at = job.heartbeat_at = utcnow()
        if nothing_to_import(job):
            _end_without_tickets(job)
        db.session.commit()
    except Exception as exc:  # the job says what happened; the page shows it
        db.session.rollback()
        _fail(job_id, exc)


def _reset_counts(job: ImportJob) -> None:
    """Counts of the run about to start: zero (the page never shows a previous run's figures)."""
    job.processed_rows = job.valid_rows = job.duplicate_rows = job.error_rows = job.inserted_rows = 0
    job.error_groups = None
    job.message = ""


def nothing_to_import(job: ImportJob) -> bool:
    """No row can become a ticket, and no error is one the value table could fix."""
    if job.valid_rows:
        return False
    return not any((job.error_groups or {}).get(code) for code in VALUE_ERRORS)


def _end_without_tickets(job: ImportJob) -> None:
    """A job with nothing to import ends itself: done, nothing written, the error rows kept (for
    the rejected-rows file), the upload deleted. Does not commit."""
    db.session.execute(delete(ImportJobRow).where(ImportJobRow.job_id == job.id,
                                                  ImportJobRow.state != RowState.ERROR))
    job.status = ImportStatus.DONE
    job.inserted_rows = 0
    job.message = _("Nothing to import: every row is already in the system or has an error.")
    discard_file(job)


def _fail(job_id: int, exc: Exception) -> None:
    if isinstance(exc, FileRejected):
        message = str(exc)
    else:
        log.exception("ticket import %s failed", job_id)
        message = _("The import stopped because of an unexpected error (%(error)s). Nothing was imported.",
                    error=type(exc).__name__)
    job = db.session.get(ImportJob, job_id)
    if job is None:
        return
    job.status = ImportStatus.FAILED
    job.message = message
    job.finished_at = job.heartbeat_at = utcnow()
    db.session.execute(delete(ImportJobRow).where(ImportJobRow.job_id == job_id))
    discard_file(job)
    db.session.commit()


# --------------------------------------------------------------------------- commit


def _key_join(row=ImportJobRow, ticket=Ticket):
    return and_(ticket.waybill_no == row.waybill_no, ticket.outlet_id == row.outlet_id,
                ticket.category == row.category, ticket.reason_id == row.reason_id)


TICKET_COLUMNS = ("outlet_id", "brand_id", "direction", "category", "reason_id", "waybill_no", "registered_at",
                  "customer_name", "customer_phone", "description", "priority", "assignee_id", "status",
                  "reply_due_at", "resolve_due_at", "deadline_rule_id", "due_at", "queue_state")


def _apply_coverage(job: ImportJob, now: datetime) -> None:
    """代班: rows of an outlet whose owner is on leave at ``now`` go to the substitute.

    Decided when the tickets are written (not at the preview, which may be days
    earlier): one UPDATE per (substitute, owner) pair, only over covered outlets.
    """
    from ...leave.coverage import substitutes_by_outlet
    from ...training.certification.gate import is_certified

    outlets = select(Outlet.id).where(Outlet.brand_id == job.brand_id)
    pairs: dict[tuple[int, int], list[int]] = {}
    for outlet_id, (substitute_id, owner_id) in substitutes_by_outlet(now, outlet_ids=outlets).items():
        pairs.setdefault((substitute_id, owner_id), []).append(outlet_id)
    for (substitute_id, owner_id), outlet_ids in pairs.items():
        substitute = db.session.get(User, substitute_id)
        if substitute is None or not substitute.is_active or not is_certified(substitute):  # 上岗 gate
            continue
        db.session.execute(
            update(ImportJobRow).where(ImportJobRow.job_id == job.id, ImportJobRow.state == RowState.OK,
                                       ImportJobRow.outlet_id.in_(outlet_ids), ImportJobRow.assignee_id == owner_id)
            .values(assignee_id=substitute_id).execution_options(synchronize_session=False))


def run_commit(job_id: int, _fail_after_tickets: bool = False) -> None:
    """Write the staged rows as tickets in ONE transaction (the Huey task's body).

    Rows that became duplicates since the preview (someone imported the same
    file meanwhile) are skipped and counted. ``_fail_after_tickets`` exists for
    the test that proves a failure mid-way writes nothing.
    """
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status != ImportStatus.COMMITTING:
        return
    try:
        actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
        if actor is None or not actor.is_active:
            raise FileRejected(_("The user who started this import no longer exists or is deactivated."))
        now = utcnow()
        job.started_at = job.heartbeat_at = now
        db.session.commit()

        # --- one transaction from here to the commit below ---
        ok_rows = and_(ImportJobRow.job_id == job_id, ImportJobRow.state == RowState.OK)
        db.session.execute(
            update(ImportJobRow).where(ok_rows, exists().where(_key_join()))
            .values(state=RowState.DUPLICATE).execution_options(synchronize_session=False))
        _apply_coverage(job, now)
        columns = [getattr(ImportJobRow, name) for name in TICKET_COLUMNS]
        stamp = literal(now, UTCDateTime())
        source_rows = select(
            *columns, literal(str(TicketSource.IMPORT)), literal(actor.id), stamp, stamp, literal(1),
        ).where(ok_rows).order_by(ImportJobRow.line)
        # Every remaining OK row becomes a ticket (counted here: rowcount of INSERT ... SELECT
        # is not reported by every driver).
        inserted = db.session.scalar(select(func.count()).select_from(ImportJobRow).where(ok_rows))
        db.session.execute(insert(Ticket).from_select(
            [*TICKET_COLUMNS, "source", "created_by_id", "created_at", "updated_at", "version"], source_rows))
        if _fail_after_tickets:
            raise Exception("simulated failure after the tickets were inserted")  # noqa: TRY002
        body = _("Imported from %(file)s", file=job.filename)[:500]
        db.session.execute(insert(TicketEvent).from_select(
            ["ticket_id", "at", "actor_id", "kind", "to_value", "body"],
            select(Ticket.id, stamp, literal(actor.id), literal(str(EventKind.CREATED)), Ticket.status,
                   literal(body)).join(ImportJobRow, _key_join()).where(ok_rows)))
        duplicates = db.session.scalar(select(func.count()).select_from(ImportJobRow).where(
            ImportJobRow.job_id == job_id, ImportJobRow.state == RowState.DUPLICATE))
        # Keep only the error rows (the result page lists them).
        db.session.execute(delete(ImportJobRow).where(ImportJobRow.job_id == job_id,
                                                      ImportJobRow.state != RowState.ERROR))
        values.remember(actor, job.brand_id, (job.mapping or {}).get("values") or {}, value_texts(job))
        job.inserted_rows = inserted
        job.duplicate_rows = duplicates
        job.valid_rows = inserted
        job.status = ImportStatus.DONE
        job.finished_at = job.heartbeat_at = utcnow()
        record(actor, "ticket.import", "import_job", job.id,
               summary=_("%(file)s: %(n)d tickets imported, %(d)d duplicates skipped, %(e)d rows with errors",
                         file=job.filename, n=inserted, d=duplicates, e=job.error_rows))
        discard_file(job)
        db.session.commit()
        # --- end of the transaction ---
    except Exception as exc:
        db.session.rollback()
        _fail(job_id, exc)
        return
    _refresh_planner_statistics()
    try:
        from ..reference import save_import_mapping

        job = db.session.get(ImportJob, job_id)
        save_import_mapping(actor, job.brand_id, remembered_mapping(job.mapping))
    except Exception:  # remembering the mapping is a convenience, never a reason to fail
        db.session.rollback()
        log.exception("could not remember the import mapping of job %s", job_id)


def remembered_mapping(mapping: dict) -> dict:
    """What the brand remembers of a job's mapping: the columns and the category/direction
    defaults; not the outlet or time chosen for one file, nor the values (``values.remember``)."""
    defaults = {k: v for k, v in ((mapping or {}).get("defaults") or {}).items() if k in DEFAULTABLE}
    return {"columns": dict((mapping or {}).get("columns") or {}), "defaults": defaults}


def value_texts(job: ImportJob) -> dict[str, dict[str, str]]:
    """Each counted value's text as written in the file: {field: {item: text}}."""
    result: dict[str, dict[str, str]] = {}
    for field_name in values.FIELDS:
        for context, value_key, written, _n in (job.value_counts or {}).get(field_name) or []:
            item = values.reason_key(context, value_key) if field_name == "reason" else value_key
            result.setdefault(field_name, {})[item] = written
    return result


def _refresh_planner_statistics() -> None:
    """After a big insert, let SQLite refresh its planner statistics if they are stale.

    (``PRAGMA optimize`` is cheap when nothing changed; without statistics
    SQLite's planner sorts every open ticket of a scope for the queue.)
    """
    if db.engine.dialect.name != "sqlite":
        return
    try:
        analyzed = db.session.execute(text(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first() is not None and db.session.execute(
            text("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'tickets' LIMIT 1")).first() is not None
        # Never analysed: do it once (seconds at 1M tickets, in the background); else let SQLite decide.
        db.session.execute(text("PRAGMA optimize" if analyzed else "ANALYZE tickets"))
        db.session.commit()
    except Exception:  # statistics are an optimisation, never a reason to fail
        db.session.rollback()


# --------------------------------------------------------------------------- job lifecycle (requests)


def mark_validating(job: ImportJob) -> None:
    """Set the job to "validating" and commit (``tasks.start_validation`` then queues the work)."""
    job.status = ImportStatus.VALIDATING
    _reset_counts(job)
    job.total_rows = None
    job.started_at = None
    job.heartbeat_at = utcnow()
    db.session.commit()  # the task uses its own connection: nothing may be pending here


def mark_committing(job: ImportJob) -> None:
    """Set the job to "committing" and commit (``tasks.start_commit`` then queues the work)."""
    job.status = ImportStatus.COMMITTING
    job.started_at = None
    job.heartbeat_at = utcnow()
    db.session.commit()  # the task uses its own connection: nothing may be pending here


def cancel(job: ImportJob) -> None:
    """Cancel the job: staged rows and upload deleted, status cancelled, committed."""
    db.session.execute(delete(ImportJobRow).where(ImportJobRow.job_id == job.id))
    discard_file(job)
    job.status = ImportStatus.CANCELLED
    job.finished_at = utcnow()
    db.session.commit()


def looks_stalled(job: ImportJob, now: datetime | None = None) -> bool:
    """A running job whose worker has not reported for a while (died, or no worker running)."""
    if not job.is_running:
        return False
    beat = job.heartbeat_at or job.created_at
    return (now or utcnow()) - beat > STALE_AFTER


def visible_jobs_query(user: User):
    """Jobs the user may see (admins: all; others: their own), newest first."""
    query = select(ImportJob).order_by(ImportJob.created_at.desc(), ImportJob.id.desc())
    if user.role != "admin":
        query = query.where(ImportJob.created_by_id == user.id)
    return query


def recent_jobs(user: User, limit: int = 15) -> list[ImportJob]:
    """The newest jobs the user may see, each with its brand and uploader read in the same
    statement (the import page lists both: not one lookup per row)."""
    query = visible_jobs_query(user).options(joinedload(ImportJob.brand), joinedload(ImportJob.created_by))
    return list(db.session.scalars(query.limit(limit)))


def get_job(user: User, job_id: int) -> ImportJob | None:
    """The job if the user may see it: its creator, or an admin."""
    return db.session.scalar(visible_jobs_query(user).where(ImportJob.id == job_id))


def staged_rows(job: ImportJob, state: int, limit: int = 200, offset: int = 0) -> list[ImportJobRow]:
    """A page of the job's staged rows in one state (ok, duplicate, error), by line."""
    return list(db.session.scalars(
        select(ImportJobRow).where(ImportJobRow.job_id == job.id, ImportJobRow.state == state)
        .order_by(ImportJobRow.line).limit(limit).offset(offset)))


def purge_old_jobs(now: datetime | None = None) -> int:
    """Files and staged rows of jobs left unfinished for a day or finished a week ago; returns jobs purged."""
    now = now or utcnow()
    stale = list(db.session.scalars(select(ImportJob).where(
        ImportJob.stored_name.is_not(None),
        ImportJob.status.in_([ImportStatus.UPLOADED, ImportStatus.VALIDATED]),
        ImportJob.created_at < now - timedelta(days=1))))
    for job in stale:
        discard_file(job)
        job.status = ImportStatus.CANCELLED
        job.message = _("Cancelled automatically: not finished within a day.")
        db.session.execute(delete(ImportJobRow).where(ImportJobRow.job_id == job.id))
    old_ids = list(db.session.scalars(select(ImportJob.id).where(
        ImportJob.status.in_(ImportStatus.FINISHED), ImportJob.finished_at < now - timedelta(days=KEEP_FINISHED_DAYS))))
    if old_ids:
        db.session.execute(delete(ImportJobRow).where(ImportJobRow.job_id.in_(old_ids)))
    db.session.commit()
    return len(stale)
