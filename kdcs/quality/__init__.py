"""Quality checks (质检): leads, trainers and admins draw an agent's recorded replies at random and
score them against the scorecard; the agent reads the score and the reasons. ``rules.py`` holds the
scoring rules, ``service.py`` scope, sampling, scoring and the sheets, ``routes.py`` the pages."""

from flask import Blueprint

bp = Blueprint("quality", __name__, url_prefix="/quality")

from . import routes as _routes  # noqa: E402,F401
