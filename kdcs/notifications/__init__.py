from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

from . import routes  # noqa: E402,F401


@bp.app_context_processor
def bell_context():
    from flask_login import current_user

    from .service import unread_count

    def unread_notifications() -> int:
        return unread_count(current_user) if current_user.is_authenticated else 0

    return {"unread_notifications": unread_notifications}
