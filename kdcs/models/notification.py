"""In-app notifications (the bell): approvals asked, decisions made, SOPs to read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # "approval_requested", "sop_to_read" ...
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(String(500), default="")
    link: Mapped[str | None] = mapped_column(String(255))  # site-relative URL only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SentMark(db.Model):
    """A periodic message sent once: (``kind``, user, period) is unique, so a second run of the task, or a
    second worker running it at the same moment, cannot send it again (the lead's Monday 团队周报)."""

    __tablename__ = "sent_marks"
    __table_args__ = (UniqueConstraint("kind", "user_id", "period", name="uq_sent_marks_kind_user_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # "team_week"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(16))  # the period's first day, 2026-11-23
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
