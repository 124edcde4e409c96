"""Chinese error pages; fragments for htmx so a table cell never shows a full page."""

from __future__ import annotations

from flask import render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError

from .extensions import db
from .htmx import wants_fragment
from .permissions import PermissionDenied


def error_response(status: int, message: str | None = None):
    """The Chinese error page, or its fragment for htmx; features reuse it for 413 etc."""
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    return render_template(template, status=status, message=message), status


def init_app(app) -> None:
    for status in (400, 403, 404, 405, 409, 413, 500):
        app.register_error_handler(status, lambda e, s=status: error_response(s, getattr(e, "kdcs_message", None)))

    @app.errorhandler(PermissionDenied)
    def permission_denied(_error):
        return error_response(403)

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return error_response(400, "csrf")

    register_stale_edit(app)

    @app.errorhandler(StaleDataError)
    def stale_data(_error):
        db.session.rollback()
        return error_response(409)


def register_stale_edit(app) -> None:
    from .service_errors import NotFound, StaleEdit

    @app.errorhandler(NotFound)
    def not_found(_error):
        db.session.rollback()
        return error_response(404)

    @app.errorhandler(StaleEdit)
    def stale_edit(_error):
        db.session.rollback()
        return error_response(409)
