"""Ticket queues: problem parcels (问题件), messages (留言), work orders (工单), arbitration (仲裁).

Domain rules are in ``service`` (status machines, scope, writes), ``deadlines``
(the due-time calculation and rule selection), ``workcalendar`` (working days),
``labels`` (every Chinese label of a code), ``reference`` (seeded reference data).
"""

from flask import Blueprint

bp = Blueprint("tickets", __name__, url_prefix="/tickets")

# labels registers the audit labels; the others are the views and the CLI.
from . import cli, import_routes, labels, routes, settings_routes  # noqa: E402,F401
