"""Leave with handover (休假交接): leave types, requests, the handover per outlet, the history.

A request covers ``start_at``..``end_at`` (UTC instants computed from Beijing dates and
half days: a 下午 start begins at 12:00, an 上午 end finishes at 12:00). While a request is
approved or in progress and the instant is inside that window (and before an early
return), each handed-over outlet is served by its substitute: coverage is derived from
these rows, never written into the outlets or tickets, so the owner's assignment is
never rewritten and forgotten.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .outlet import Outlet
from .types import UTCDateTime, utcnow
from .user import User


class LeaveStatus(StrEnum):
    DRAFT = "draft"  # 草稿
    SUBMITTED = "submitted"  # 已提交 (waiting for the substitute)
    SUBSTITUTE_ACCEPTED = "substitute_accepted"  # 替补已确认 (waiting for the lead)
    APPROVED = "approved"  # 已批准
    REJECTED = "rejected"  # 已驳回
    IN_PROGRESS = "in_progress"  # 休假中
    RETURNED = "returned"  # 已销假
    CANCELLED = "cancelled"  # 已撤销


class DayPart(StrEnum):
    FULL = "full"  # 全天
    AM = "am"  # 上午
    PM = "pm"  # 下午


class LeaveType(db.Model):
    """年假, 事假, 病假 ...: notice, length limits, half days, proof and a yearly allowance."""

    __tablename__ = "leave_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # "annual", "sick" ...
    name: Mapped[str] = mapped_column(String(32), unique=True)  # 年假
    notice_days: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    short_notice_allowed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")  # 病假: with the lead's override
    min_days: Mapped[Decimal] = mapped_column(Numeric(5, 1), default=Decimal("0.5"), server_default="0.5")
    max_days: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    half_days_allowed: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    proof_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    proof_after_allowed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    yearly_allowance_days: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))  # None: no allowance
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class LeaveRequest(db.Model):
    """One agent's leave: dates, type, status, who decides, and the overrides the lead gave."""

    __tablename__ = "leave_requests"
    __table_args__ = (
        Index("ix_leave_requests_user_start", "user_id", "start_at"),
        Index("ix_leave_requests_status_window", "status", "start_at", "end_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type_id: Mapped[int] = mapped_column(ForeignKey("leave_types.id", ondelete="RESTRICT"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    start_part: Mapped[str] = mapped_column(String(8), default=DayPart.FULL)  # full | pm
    end_date: Mapped[date] = mapped_column(Date)
    end_part: Mapped[str] = mapped_column(String(8), default=DayPart.FULL)  # full | am
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the instant the leave begins
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the instant it ends (exclusive)
    working_days: Mapped[Decimal] = mapped_column(Numeric(5, 1), default=Decimal("0"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(24), default=LeaveStatus.DRAFT, index=True)
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    # Lead overrides, each with the note that justifies it.
    short_notice_override: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    balance_override: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    team_override: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    override_note: Mapped[str] = mapped_column(String(500), default="")
    # Proof (病假条 ...) when the type requires one: pending | later (handed in after the leave) | received.
    # Uploading the file itself waits for shared upload storage; the lead records that it arrived.
    proof_status: Mapped[str | None] = mapped_column(String(16))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # early or on time
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    start_notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # periodic task markers
    digest_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    leave_type: Mapped[LeaveType] = relationship()
    approver: Mapped[User | None] = relationship(foreign_keys=[approver_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    handover: Mapped[list[LeaveHandover]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="LeaveHandover.id"
    )
    history: Mapped[list[LeaveEvent]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="LeaveEvent.id"
    )
    proofs: Mapped[list[LeaveProof]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="LeaveProof.id"
    )

    __mapper_args__ = {"version_id_col": version}


class LeaveProof(db.Model):
    """A proof file (病假条 ...) the requester uploaded, stored by ``kdcs.storage`` under its content hash."""

    __tablename__ = "leave_proofs"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("leave_requests.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80))
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[LeaveRequest] = relationship(back_populates="proofs")
    uploaded_by: Mapped[User | None] = relationship()


class LeaveHandover(db.Model):
    """One outlet in a handover (交接单): its substitute, pending promises, special requirements."""

    __tablename__ = "leave_handovers"
    __table_args__ = (
        Index("ix_leave_handovers_substitute", "substitute_id", "request_id"),
        Index("ix_leave_handovers_outlet", "outlet_id", "request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("leave_requests.id", ondelete="CASCADE"), index=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    substitute_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    pending_promises: Mapped[str] = mapped_column(Text, default="")  # 待办承诺
    special_requirements: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    substitute_answer: Mapped[str | None] = mapped_column(String(16))  # accepted | declined
    substitute_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str] = mapped_column(String(500), default="")

    request: Mapped[LeaveRequest] = relationship(back_populates="handover")
    outlet: Mapped[Outlet] = relationship()
    substitute: Mapped[User | None] = relationship()


class LeaveEvent(db.Model):
    """A step in a request's life: who, when, from what status to what, and the note."""

    __tablename__ = "leave_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("leave_requests.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(String(500), default="")

    request: Mapped[LeaveRequest] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()


class TeamStaffing(db.Model):
    """The minimum number of agents a team needs at work on a working day (set by its lead)."""

    __tablename__ = "team_staffing"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    min_agents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
