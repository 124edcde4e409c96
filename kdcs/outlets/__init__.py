from flask import Blueprint

bp = Blueprint("outlets", __name__)

from . import routes  # noqa: E402,F401
