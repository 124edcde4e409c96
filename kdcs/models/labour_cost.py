"""What a person costs the company a month (人工成本: wage, social insurance, housing fund), from a
month on: the other half of gross margin per agent (人均毛利 = fees of their outlets − labour cost).

Kept as a history like outlet rates: the cost in force in a month is the entry with the latest
``month`` not after it; months before a person's first entry have no cost (not entered). Admins
only: these are salaries.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import Money, UTCDateTime, utcnow
from .user import User


class LabourCost(db.Model):
    """A person's monthly labour cost from ``month`` on, until their next entry's month."""

    __tablename__ = "labour_costs"
    __table_args__ = (UniqueConstraint("user_id", "month", name="uq_labour_costs_user_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    month: Mapped[date] = mapped_column(Date)  # first day of the first month at this cost
    amount: Mapped[Decimal] = mapped_column(Money(12, 2))  # 元 a month; 0: no longer counted (left, unpaid leave)
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    person: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    def __repr__(self) -> str:
        return f"<LabourCost {self.user_id} {self.month:%Y-%m} {self.amount}>"
