"""Idempotency keys: a double submit (double click, a retry after a timeout) stores a write once.

A form carries a random key made when it was rendered. The write stores the key with the
user who sent it and what it stored, in the same transaction; the same user sending the same
key for the same action again gets the stored result instead of a second row. Kept for a day
(``kdcs.tickets.idempotency.purge``, a periodic task).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "action", "key", name="uq_idempotency_keys_user_action_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))  # ticket.note, ticket.reply, ticket.fine, ticket.attachment
    key: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    result_ids: Mapped[str] = mapped_column(String(400), default="")  # what the write stored: "12" or "7,8,9"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    @property
    def ids(self) -> list[int]:
        """The stored ids, in order."""
        return [int(part) for part in self.result_ids.split(",") if part.strip().isdigit()]
