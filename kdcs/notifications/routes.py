from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..htmx import fragment_only, render
from ..permissions import Permission, require
from . import bp, service


@bp.route("/")
@require(Permission.VIEW_NOTIFICATIONS)
def index():
    """All of one's notifications, newest first."""
    unread_only = request.args.get("unread") == "1"
    page = request.args.get("page", 1, type=int)
    pagination = service.list_for(current_user, page=page, unread_only=unread_only)
    return render(
        "notifications/index.html", block="notification_list",
        pagination=pagination, unread_only=unread_only,
    )


@bp.route("/bell")
@require(Permission.VIEW_NOTIFICATIONS)
@fragment_only("notifications.index")
def bell():
    """The bell alone; htmx polls it so the unread count stays current."""
    return render("notifications/_bell.html")


@bp.route("/<int:notification_id>/open", methods=["POST"])
@require(Permission.VIEW_NOTIFICATIONS)
def open_notification(notification_id: int):
    """Mark a notification read and follow its link (our own paths only)."""
    notification = service.get_own(current_user, notification_id)
    if notification is None:
        abort(404)
    service.mark_read(current_user, notification)
    return redirect(notification.link or url_for("notifications.index"), code=303)


@bp.route("/read-all", methods=["POST"])
@require(Permission.VIEW_NOTIFICATIONS)
def read_all():
    """Mark every notification read."""
    count = service.mark_all_read(current_user)
    flash(_("%(n)d notifications marked as read.", n=count), "success")
    return redirect(url_for("notifications.index"), code=303)
