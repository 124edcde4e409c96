"""Overtime (加班): agents record the hours they worked for an outlet, leads decide, the approved
hours are billed to the outlet at its agreed rate (网点月报). ``service.py`` holds the rules,
``routes.py`` / ``forms.py`` the page."""

from flask import Blueprint

bp = Blueprint("overtime", __name__, url_prefix="/overtime")

from . import routes as _routes  # noqa: E402,F401
