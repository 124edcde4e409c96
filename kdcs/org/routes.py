"""Teams and brands administration. (Minimal until the feature lands in full.)"""

from flask import render_template
from sqlalchemy import select

from ..extensions import db
from ..models import Brand, Team
from ..permissions import Permission, require
from . import bp


@bp.route("/teams")
@require(Permission.MANAGE_TEAMS)
def teams():
    return render_template("org/teams.html", teams=db.session.scalars(select(Team).order_by(Team.name)).all())


@bp.route("/brands")
@require(Permission.MANAGE_BRANDS)
def brands():
    return render_template("org/brands.html", brands=db.session.scalars(select(Brand).order_by(Brand.code)).all())
