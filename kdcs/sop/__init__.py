"""SOP scripts (话术/SOP): versioned scenarios, review before publish, Chinese search,
required reading (72-hour rule), reports from agents, and the panel on the ticket page.

Layout: ``routes.py``/``forms.py``/``service.py`` — scenarios, drafts, review, diff;
``search.py`` — the scenario index (over ``kdcs/search``); ``reading/`` — required
reading, acknowledgements, reminders, the matrix; ``reports/`` — the trainers' inbox;
``panel.py`` — the scenarios beside a ticket.
"""

from flask import Blueprint

bp = Blueprint("sop", __name__, url_prefix="/sop")

# Views of the sub-features register on this one blueprint (endpoints stay ``sop.*``):
# routes (scenarios, versions, diff, editor, review), search_routes (the library /sop/), panel_routes (ticket panel: timeline
# record), reading (banner, acknowledge, matrix), reports (reports, inbox).
from . import panel_routes, routes, search_routes  # noqa: E402,F401
from .reading import routes as reading_routes  # noqa: E402,F401
from .reports import routes as reports_routes  # noqa: E402,F401
