"""跟进 (follow-ups): what an agent promised on a ticket and by when ("16:00 前回电客户").

The brand's deadline is the ticket's; a follow-up is the agent's own promise to a customer, an
outlet, a courier or the brand, with its time. The task queue reminds whoever serves the ticket
when it comes due (``reminded_at``, stamped once) and tells their lead when it is still open an hour
later (``escalated_at``, stamped once); done or cancelled, it stays as history.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .ticket import Ticket
from .types import UTCDateTime, utcnow
from .user import User


class FollowUpState(StrEnum):
    OPEN = "open"  # 待跟进
    DONE = "done"  # 已完成
    CANCELLED = "cancelled"  # 已取消 (no longer needed: the customer called first, the ticket moved on)


class FollowUpParty(StrEnum):
    CUSTOMER = "customer"  # 客户
    OUTLET = "outlet"  # 网点
    COURIER = "courier"  # 快递员
    BRAND = "brand"  # 品牌总部
    OTHER = "other"  # 其他


class TicketFollowUp(db.Model):
    """One promise on a ticket: to whom, what, by when; who made it and how it ended."""

    __tablename__ = "ticket_follow_ups"
    __table_args__ = (
        Index("ix_ticket_follow_ups_ticket", "ticket_id", "state"),
        # The reminder task and the 我的跟进 lists: open ones by due time.
        Index("ix_ticket_follow_ups_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    party: Mapped[str] = mapped_column(String(16))
    promise: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default=FollowUpState.OPEN, server_default="open")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(Text, default="", server_default="")
    # When the reminder went out (the task stamps it before it notifies: at most once).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the lead was told it is an hour past due and still open (stamped once, like the reminder).
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])

    @property
    def is_open(self) -> bool:
        return self.state == FollowUpState.OPEN
