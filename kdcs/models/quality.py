"""Quality checks (质检): a lead, trainer or admin samples an agent's recorded replies and scores
each against the scorecard (``QualityCriterion``, admins and trainers edit it). A review keeps the
criteria as they were when it was scored (``QualityReviewItem``), so a later change of the
scorecard never rewrites an old score."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .ticket import Ticket, TicketReply
from .types import UTCDateTime, utcnow
from .user import User


class QualityCriterion(db.Model):
    """One line of the scorecard (评分项): what is checked and how many points it is worth."""

    __tablename__ = "quality_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)  # 按SOP处理
    hint: Mapped[str] = mapped_column(String(200), default="", server_default="")  # what earns the points
    points: Mapped[int] = mapped_column(Integer)  # 1–100
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class QualityReview(db.Model):
    """The score of one reply (one review per reply): points per criterion, a fatal error (致命错误:
    the score is 0 whatever the points) and the reviewer's feedback to the agent."""

    __tablename__ = "quality_reviews"
    __table_args__ = (
        Index("ix_quality_reviews_agent_sent", "agent_id", "reply_sent_at"),
        Index("ix_quality_reviews_created", "created_at"),
        Index("ix_quality_reviews_appeal_state", "appeal_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("ticket_replies.id", ondelete="CASCADE"), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))  # who recorded the reply
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reply_sent_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the period a review counts in
    awarded: Mapped[int] = mapped_column(Integer)  # points given, summed
    possible: Mapped[int] = mapped_column(Integer)  # points the scorecard had
    fatal: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    score: Mapped[int] = mapped_column(Integer)  # 0–100
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # 申诉: the agent disputes the score once, within days; a reviewer upholds it or scores it again
    appeal_state: Mapped[str | None] = mapped_column(String(16))  # None, open, upheld, changed
    appeal_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appeal_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    appeal_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appeal_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    original_score: Mapped[int | None] = mapped_column(Integer)  # the score before an appeal changed it
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    reply: Mapped[TicketReply] = relationship()
    ticket: Mapped[Ticket] = relationship()
    agent: Mapped[User] = relationship(foreign_keys=[agent_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    appeal_decided_by: Mapped[User | None] = relationship(foreign_keys=[appeal_decided_by_id])
    items: Mapped[list[QualityReviewItem]] = relationship(
        back_populates="review", order_by="QualityReviewItem.position", cascade="all, delete-orphan")


class QualityReviewItem(db.Model):
    """A criterion as it was scored: its name and points kept, whatever the scorecard says later."""

    __tablename__ = "quality_review_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("quality_reviews.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int | None] = mapped_column(ForeignKey("quality_criteria.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(40))
    points: Mapped[int] = mapped_column(Integer)
    awarded: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)

    review: Mapped[QualityReview] = relationship(back_populates="items")
