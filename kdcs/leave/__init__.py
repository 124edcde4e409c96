"""Leave with handover (休假交接): types and rules, requests with a handover per outlet,
the substitute's answer, the lead's decision with coverage in view, and the substitute
serving the outlets during the leave.

Layout: ``rules.py`` — plain date rules (working-day length, notice, half days, windows);
``service.py`` — requests, the state machine, substitutes, approvals; ``coverage.py`` — who
serves an outlet at an instant (used by the ticket queue, creation and import); ``tasks.py``
— start/end notices and the return digest; ``routes.py`` / ``forms.py`` — the pages.
"""

from flask import Blueprint

bp = Blueprint("leave", __name__, url_prefix="/leave")

from . import calendar_routes as _calendar_routes  # noqa: E402,F401
from . import proof_routes as _proof_routes  # noqa: E402,F401
from . import routes as _routes  # noqa: E402,F401
