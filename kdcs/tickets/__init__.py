"""Ticket queues: problem parcels (问题件), messages (留言), work orders (工单), arbitration (仲裁).

Domain rules are in ``service`` (status machines, scope, writes), ``deadlines``
(the due-time calculation and rule selection), ``labels`` (every Chinese label
of a code), ``reference`` (seeded reference data); working days come from
``kdcs.workcalendar``. Sub-features: ``imports/`` (Excel import, its Huey
tasks), ``settings/`` (admin pages for rules, calendar, reasons, replies) and ``fines/``
(the fines of a month).
Their views register on this one blueprint, so endpoints stay ``tickets.*``.
"""

from flask import Blueprint

bp = Blueprint("tickets", __name__, url_prefix="/tickets")

# labels registers the audit labels; the others are the views and the CLI.
from . import cli, labels, routes  # noqa: E402,F401
from .attachments import routes as attachments_routes  # noqa: E402,F401
from .fines import routes as fines_routes  # noqa: E402,F401
from .followups import routes as follow_up_routes  # noqa: E402,F401
from .imports import routes as imports_routes  # noqa: E402,F401
from .settings import routes as settings_routes  # noqa: E402,F401
