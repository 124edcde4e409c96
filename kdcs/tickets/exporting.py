"""Export the (filtered) ticket queue to .xlsx, streamed.

``export_tickets_xlsx(query)`` writes an openpyxl write-only workbook row by
row to a temporary file (rows fetched in chunks with ``yield_per``), so memory
does not grow with the number of tickets; the view sends the file and removes
it. The filters are the queue's own (``queue.parse_filter`` /
``queue.queue_query``), so the export is exactly what the user sees in /tickets/.
"""

from __future__ import annotations

import os
import tempfile

from sqlalchemy import Select, select

from ..extensions import db
from ..models import Outlet, Ticket, TicketReason, User
from ..spreadsheets import Workbook, local_time
from .labels import label

# (header, width, value of a ticket). Headers are the file format, in Chinese like the brand exports.
COLUMNS: list[tuple[str, int, object]] = [
    ("工单编号", 10, lambda t, x: t.id),
    ("运单号", 20, lambda t, x: t.waybill_no),
    ("品牌", 8, lambda t, x: x["brand"].get(t.brand_id, "")),
    ("网点编码", 12, lambda t, x: x["outlet_code"].get(t.outlet_id, "")),
    ("网点名称", 20, lambda t, x: x["outlet_name"].get(t.outlet_id, "")),
    ("进港出港", 8, lambda t, x: label("direction", t.direction)),
    ("类别", 8, lambda t, x: label("category", t.category)),
    ("原因", 16, lambda t, x: x["reason"].get(t.reason_id, "")),
    ("状态", 8, lambda t, x: label("status", t.status)),
    ("优先级", 6, lambda t, x: label("priority", t.priority)),
    ("登记时间", 17, lambda t, x: local_time(t.registered_at)),
    ("回复时限", 17, lambda t, x: local_time(t.reply_due_at)),
    ("办结时限", 17, lambda t, x: local_time(t.resolve_due_at)),
    ("首次回复时间", 17, lambda t, x: local_time(t.first_replied_at)),
    ("结案时间", 17, lambda t, x: local_time(t.closed_at)),
    ("处理人", 10, lambda t, x: x["user"].get(t.assignee_id, "")),
    ("客户姓名", 10, lambda t, x: t.customer_name),
    ("客户电话", 14, lambda t, x: _masked(t.customer_phone)),
    ("问题描述", 40, lambda t, x: t.description),
    ("罚款金额", 10, lambda t, x: t.fine_amount),
    ("罚款承担", 8, lambda t, x: label("fine_bearer", t.fine_bearer) if t.fine_bearer else ""),
    ("来源", 8, lambda t, x: label("source", t.source)),
]
CHUNK = 2000


def _masked(phone: str) -> str:
    from .service import mask_phone

    return mask_phone(phone)


def _lookups() -> dict[str, dict]:
    """Names of the few referenced records, loaded once (not per row)."""
    from ..models import Brand

    outlets = db.session.execute(select(Outlet.id, Outlet.code, Outlet.name)).all()
    return {
        "brand": dict(db.session.execute(select(Brand.id, Brand.name)).all()),
        "outlet_code": {o.id: o.code for o in outlets},
        "outlet_name": {o.id: o.name for o in outlets},
        "reason": dict(db.session.execute(select(TicketReason.id, TicketReason.name)).all()),
        "user": dict(db.session.execute(select(User.id, User.display_name)).all()),
    }


def export_tickets_xlsx(query: Select, max_rows: int = 100_000, path: str | None = None) -> str:
    """Write the tickets of ``query`` (a ``select(Ticket)``, filtered and sorted) to an .xlsx file.

    Returns the file's path (a temporary file unless ``path`` is given); the
    caller sends and removes it. At most ``max_rows`` tickets; a last row says
    when the list was cut.
    """
    lookups = _lookups()
    book = Workbook()  # customer names and descriptions are user text: written as text, never formulas
    sheet = book.sheet("工单", [(title, width) for title, width, _getter in COLUMNS], freeze="C2")
    getters = [getter for _title, _width, getter in COLUMNS]
    count = 0
    truncated = False
    result = db.session.execute(query.limit(max_rows + 1).execution_options(yield_per=CHUNK))
    for ticket in result.scalars():
        if count >= max_rows:
            truncated = True
            break
        sheet.append([getter(ticket, lookups) for getter in getters])  # datetimes as yyyy-mm-dd hh:mm
        count += 1  # (the identity map holds weak references: exported tickets are let go)
    result.close()
    if truncated:
        sheet.append([f"仅导出前 {max_rows} 条，请缩小筛选范围后再导出。"])
    if path is None:
        fd, path = tempfile.mkstemp(prefix="kdcs-export-", suffix=".xlsx")
        os.close(fd)
    book.save(path)
    return path


def open_and_unlink(path: str):
    """An open handle on the file, which is removed from disk right away (POSIX) or when closed."""
    handle = open(path, "rb")  # noqa: SIM115 - closed by the response
    try:
        os.unlink(path)
    except OSError:  # Windows: the file stays until the temp folder is cleaned
        pass
    return handle


def remove_later(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def queue_query_from_args(user, args) -> Select:
    """The queue's query for these URL arguments (same filters and sort as /tickets/)."""
    try:
        from . import queue
    except ImportError:  # the queue UI is not there yet: basic filters
        queue = None
    if queue is not None and hasattr(queue, "parse_filter") and hasattr(queue, "queue_query"):
        return queue.queue_query(user, queue.parse_filter(args, user))
    from .service import order_by_deadline, visible_tickets_query

    query = visible_tickets_query(user)
    for name, column in (("category", Ticket.category), ("status", Ticket.status), ("direction", Ticket.direction)):
        if args.get(name):
            query = query.where(column == args.get(name))
    if args.get("outlet", type=int):
        query = query.where(Ticket.outlet_id == args.get("outlet", type=int))
    if args.get("brand", type=int):
        query = query.where(Ticket.brand_id == args.get("brand", type=int))
    return order_by_deadline(query)
