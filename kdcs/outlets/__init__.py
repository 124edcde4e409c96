from flask import Blueprint

bp = Blueprint("outlets", __name__)

from . import assignments as _assignments  # noqa: E402,F401  (the primary agents' history: a session hook)
from . import routes  # noqa: E402,F401
