"""Views of the fines of a month (/tickets/fines) and their .xlsx export."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, request
from flask_login import current_user

from ...htmx import render
from ...models import Role
from ...outlets.rates import (  # months typed and counted as on the rate pages
    month_asked,
    this_month,
)
from ...permissions import Permission, require
from ...spreadsheets import Workbook, local_time, xlsx_response
from .. import bp
from ..labels import label
from ..queue import QueueFilter
from . import service

EXPORT_COLUMNS = [("记录时间", 17), ("运单号", 20), ("品牌", 8), ("网点编码", 12), ("网点名称", 20), ("类别", 8),
                  ("原因", 16), ("状态", 8), ("责任客服", 10), ("罚款金额", 10), ("罚款承担", 8), ("客服承担", 10),
                  ("网点承担", 10), ("公司承担", 10)]


def _month_asked() -> tuple:
    """(first day of the month asked for, error text or None): this month when none or a bad one is given."""
    return month_asked(request.args.get("month", ""), datetime.now(UTC))


def _viewer():
    """The user, if they may read fines (403 otherwise: trainers see no tickets)."""
    user = current_user._get_current_object()
    if not service.can_view(user):
        abort(403)
    return user


@bp.route("/fines")
@require(Permission.VIEW_TICKETS)
def fines():
    """The fines of a month: who bears what, by agent, outlet and reason, and every fined ticket."""
    user = _viewer()
    month, error = _month_asked()
    now = datetime.now(UTC)
    report = service.month_report(user, month, now)
    current = this_month(now)
    queue_args = None
    if month == current and user.role in (Role.LEAD, Role.ADMIN):  # the queue filters this month only
        queue_args = QueueFilter(scope="team" if user.role == Role.LEAD else "all", fined="month",
                                 status="all").args()
    return render("tickets/fines/report.html", report=report, error=error, current=current,
                  previous=service.shift_month(month, -1), next=service.shift_month(month, 1),
                  queue_args=queue_args, L=label)


@bp.route("/fines/export.xlsx")
@require(Permission.VIEW_TICKETS)
def fines_export():
    """The month's fined tickets as on the page, as an .xlsx download (user text written as text)."""
    user = _viewer()
    month, _error = _month_asked()
    rows = service.fined_rows(user, month)
    book = Workbook()
    sheet = book.sheet("罚款", EXPORT_COLUMNS, freeze="C2")
    for r in rows:
        sheet.append([
            local_time(r.fined_at), r.waybill_no, r.brand, r.outlet_code,
            r.outlet_name, label("category", r.category), r.reason, label("status", r.status), r.agent,
            r.amount, label("fine_bearer", r.bearer), r.agent_share, r.outlet_borne, r.company_borne,
        ])
    return xlsx_response(book.to_bytes(), f"罚款_{month:%Y-%m}.xlsx")
