"""Training (培训) and going live (上岗).

Layout (one sub-package per part, each with routes.py / forms.py / service.py):
``courses/`` — courses, lessons (Markdown, embedded SOP, attachments), reorder, publish with a
required-change note, programmes (30-day plan), assignments, lesson progress and 我的培训
(the ``/training/`` index); ``quiz/`` — question banks (.xlsx import/export), quiz settings,
attempts scored on the server; ``certification/`` — practical sign-off, course results,
going live and its gates (outlets, tickets, leave substitutes), recertification, expiry,
reminders, the matrix and its export. Models: ``kdcs/models/training.py``.
"""

from flask import Blueprint

bp = Blueprint("training", __name__, url_prefix="/training")

from .certification import routes as _certification_routes  # noqa: E402,F401
from .courses import routes as _courses_routes  # noqa: E402,F401
from .quiz import routes as _quiz_routes  # noqa: E402,F401
