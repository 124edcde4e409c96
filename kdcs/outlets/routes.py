"""Outlet pages. (Minimal until the outlets feature lands in full.)"""

from flask import abort, render_template
from flask_login import current_user

from ..extensions import db
from ..models import Outlet
from ..permissions import Permission, require
from . import bp, service


@bp.route("/outlets/<int:outlet_id>")
@require(Permission.VIEW_OUTLETS)
def detail(outlet_id: int):
    if not service.can_view_outlet(current_user, outlet_id):
        abort(404)
    outlet = db.session.get(Outlet, outlet_id)
    return render_template("outlets/detail.html", outlet=outlet)


@bp.route("/outlets/mine")
@require(Permission.VIEW_OUTLETS)
def mine():
    outlets = db.session.scalars(service.visible_outlets_query(current_user).order_by(Outlet.code)).all()
    return render_template("outlets/mine.html", outlets=outlets)


@bp.route("/admin/outlets")
@require(Permission.MANAGE_OUTLETS)
def admin_list():
    outlets = db.session.scalars(service.visible_outlets_query(current_user).order_by(Outlet.code)).all()
    return render_template("outlets/mine.html", outlets=outlets)
