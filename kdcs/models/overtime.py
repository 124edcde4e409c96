"""Overtime (加班) an agent worked for an outlet: recorded by the agent, decided by their lead,
billed to the outlet at the rate agreed with it (``Outlet.overtime_rate``, 元/小时)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .outlet import Outlet
from .types import Money, UTCDateTime, utcnow
from .user import User


class OvertimeStatus(StrEnum):
    SUBMITTED = "submitted"  # 待审批
    APPROVED = "approved"  # 已批准: billed to the outlet
    REJECTED = "rejected"  # 已驳回
    WITHDRAWN = "withdrawn"  # 已撤回 by the agent before a decision


class OvertimeEntry(db.Model):
    """Hours worked beyond the schedule on one day for one outlet (双十一高峰, 节假日值班 ...)."""

    __tablename__ = "overtime_entries"
    __table_args__ = (
        Index("ix_overtime_entries_user_day", "user_id", "work_date"),
        Index("ix_overtime_entries_outlet_day", "outlet_id", "work_date"),
        Index("ix_overtime_entries_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    work_date: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)  # whole half hours
    note: Mapped[str] = mapped_column(String(200))  # why: the peak, the holiday duty, the outlet's request
    status: Mapped[str] = mapped_column(String(16), default=OvertimeStatus.SUBMITTED)
    rate: Mapped[Decimal | None] = mapped_column(Money(10, 2))  # 元/小时 agreed when it was approved
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    outlet: Mapped[Outlet] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def hours(self) -> Decimal:
        """The minutes as hours (2.5)."""
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.1"))

    @property
    def fee(self) -> Decimal | None:
        """What the outlet is billed: hours × the rate agreed when it was approved; None unbilled."""
        if self.status != OvertimeStatus.APPROVED or self.rate is None:
            return None
        return (Decimal(self.minutes) * self.rate / 60).quantize(Decimal("0.01"))
