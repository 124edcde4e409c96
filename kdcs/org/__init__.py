"""Teams and brands administration (admin only)."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ..auditing import register_labels

bp = Blueprint("org", __name__, url_prefix="/admin")

register_labels(
    actions={
        "team.create": _l("Team created"),
        "team.update": _l("Team changed"),
        "team.activate": _l("Team activated"),
        "team.deactivate": _l("Team deactivated"),
        "brand.create": _l("Brand created"),
        "brand.update": _l("Brand changed"),
        "brand.activate": _l("Brand activated"),
        "brand.deactivate": _l("Brand deactivated"),
    },
)

from . import memberships as _memberships  # noqa: E402,F401  (each person's team history: a session hook)
from . import routes  # noqa: E402,F401
