"""Notifications other features send: ``notify(user, kind, title, ...)``."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select, update

from .. import core_sql
from ..extensions import db
from ..models import Notification, User, utcnow


def notify(user: User | int, kind: str, title: str, body: str = "", link: str | None = None) -> Notification:
    """Queue a notification in the caller's transaction (the caller commits)."""
    if link and (not link.startswith("/") or link.startswith("//")):
        raise ValueError("notification links must be site-relative")
    user_id = user if isinstance(user, int) else user.id
    notification = Notification(user_id=user_id, kind=kind, title=title[:120], body=body[:500], link=link)
    db.session.add(notification)
    return notification


_UNREAD_COUNT = None


def unread_count(user: User) -> int:
    """How many of the user's notifications are unread (the bell: polled every 30 s on every page,
    so its statement is built once per process, the user as a parameter). The bell's user
    (kdcs/poll_user.py) was read with its count in one statement: that count, no second query."""
    preloaded = getattr(user, "unread_at_load", None)
    if preloaded is not None:
        return preloaded
    global _UNREAD_COUNT
    if _UNREAD_COUNT is None:
        _UNREAD_COUNT = select(func.count(Notification.id)).where(
            Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None))
    return core_sql.execute(_UNREAD_COUNT, {"user_id": user.id}).scalar()


def list_for(user: User, page: int = 1, per_page: int = 30, unread_only: bool = False):
    """One page of the user's notifications, newest first."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def get_own(user: User, notification_id: int) -> Notification | None:
    """Only the owner's notification; anyone else gets None (-> 404)."""
    return db.session.scalar(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == user.id)
    )


def mark_read(user: User, notification: Notification) -> None:
    """Mark one of the user's own notifications read (another user's: PermissionError)."""
    if notification.user_id != user.id:
        raise PermissionError("not the owner")
    if notification.read_at is None:
        notification.read_at = utcnow()
    db.session.commit()


def mark_all_read(user: User) -> int:
    """Mark all the user's unread notifications read; returns how many."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return result.rowcount or 0
