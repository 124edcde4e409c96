"""SOP scripts (话术/SOP): scenarios, their versions, review, required reading, reports.

A scenario (场景) has versions. A version is a draft, waits for review, is
returned with a comment, or is published; a published version never changes
(editing starts a new draft from it) and gets the next ``number``. The
scenario's ``current_version`` is its newest published version.

Required reading (必读, 政策变更黄金72小时): a published version may be marked
required for all agents or chosen teams with a deadline; each agent's
acknowledgement is a row, and each reminder sent is a marker row (so a
periodic task never sends one twice).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .ticket import TicketReason
from .types import UTCDateTime, utcnow
from .user import User


class SopKind(StrEnum):
    CONSULTATION = "consultation"  # 咨询
    COMPLAINT = "complaint"  # 投诉
    CLAIM = "claim"  # 理赔
    SUGGESTION = "suggestion"  # 建议
    INTERNAL = "internal"  # 内部流程


class VersionStatus(StrEnum):
    DRAFT = "draft"  # 草稿
    IN_REVIEW = "in_review"  # 待审核
    RETURNED = "returned"  # 已退回
    PUBLISHED = "published"  # 已发布


class ReportStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


sop_scenario_reasons = db.Table(
    "sop_scenario_reasons",
    db.Column("scenario_id", ForeignKey("sop_scenarios.id", ondelete="CASCADE"), primary_key=True),
    db.Column("reason_id", ForeignKey("ticket_reasons.id", ondelete="CASCADE"), primary_key=True),
)


class SopScenario(db.Model):
    """One SOP scenario (e.g. 破损理赔): what it applies to, and its versions."""

    __tablename__ = "sop_scenarios"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)  # ["破损", "理赔"]
    categories: Mapped[list] = mapped_column(JSON, default=list)  # ticket categories it applies to
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("sop_versions.id", use_alter=True, ondelete="SET NULL")
    )
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0", index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    current_version: Mapped[SopVersion | None] = relationship(foreign_keys=[current_version_id], post_update=True)
    versions: Mapped[list[SopVersion]] = relationship(
        back_populates="scenario", foreign_keys="SopVersion.scenario_id", order_by="SopVersion.id",
        cascade="all, delete-orphan",
    )
    reasons: Mapped[list[TicketReason]] = relationship(secondary=sop_scenario_reasons)
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    __mapper_args__ = {"version_id_col": version}


class SopVersion(db.Model):
    """One version of a scenario: script, steps with time limits, authority limits, review state."""

    __tablename__ = "sop_versions"
    __table_args__ = (
        UniqueConstraint("scenario_id", "number", name="uq_sop_versions_scenario_number"),
        Index("ix_sop_versions_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("sop_scenarios.id", ondelete="CASCADE"), index=True)
    number: Mapped[int | None] = mapped_column(Integer)  # 1, 2, 3 ... once published; None for drafts
    status: Mapped[str] = mapped_column(String(16), default=VersionStatus.DRAFT)
    title: Mapped[str] = mapped_column(String(100))  # the scenario title as of this version
    script: Mapped[str] = mapped_column(Text, default="")  # Markdown with blanks such as {客户称呼}
    steps: Mapped[list] = mapped_column(JSON, default=list)  # [{"text": "...", "limit_minutes": 5}, ...]
    authority: Mapped[str] = mapped_column(Text, default="")  # what the agent may decide alone (Markdown)
    escalation: Mapped[str] = mapped_column(Text, default="")  # when to hand it to the lead (Markdown)
    max_compensation: Mapped[str | None] = mapped_column(String(16))  # e.g. "200.00" 元, decided alone
    change_note: Mapped[str] = mapped_column(String(500), default="")
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("sop_versions.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_comment: Mapped[str] = mapped_column(String(1000), default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Required reading (必读): for everyone (reading_team_ids empty) or the listed teams.
    required_reading: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    reading_team_ids: Mapped[list] = mapped_column(JSON, default=list)
    reading_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minor_edit: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    scenario: Mapped[SopScenario] = relationship(back_populates="versions", foreign_keys=[scenario_id])
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    based_on: Mapped[SopVersion | None] = relationship(remote_side=[id], foreign_keys=[based_on_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED


class SopAcknowledgement(db.Model):
    """An agent read a required version (已读确认): the version and the time."""

    __tablename__ = "sop_acknowledgements"
    __table_args__ = (UniqueConstraint("user_id", "version_id", name="uq_sop_ack_user_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("sop_versions.id", ondelete="CASCADE"), index=True)
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    sop_version: Mapped[SopVersion] = relationship()


class SopReadingNotice(db.Model):
    """A reminder already sent (24h, 48h, deadline → lead): the periodic task's idempotence marker."""

    __tablename__ = "sop_reading_notices"
    __table_args__ = (
        UniqueConstraint("user_id", "version_id", "threshold", name="uq_sop_notice_user_version_threshold"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("sop_versions.id", ondelete="CASCADE"), index=True)
    threshold: Mapped[str] = mapped_column(String(16))  # "24h", "48h", "overdue"
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SopReport(db.Model):
    """"This SOP is wrong or misses a case": an agent's report in the trainers' inbox."""

    __tablename__ = "sop_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int | None] = mapped_column(ForeignKey("sop_scenarios.id", ondelete="SET NULL"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("sop_versions.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    note: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.OPEN, index=True)
    answer: Mapped[str] = mapped_column(Text, default="")
    resolved_version_id: Mapped[int | None] = mapped_column(ForeignKey("sop_versions.id", ondelete="SET NULL"))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    scenario: Mapped[SopScenario | None] = relationship(foreign_keys=[scenario_id])
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])

    __mapper_args__ = {"version_id_col": version}


class AppSetting(db.Model):
    """An admin setting (e.g. ``sop.review_required``): a key and a JSON value."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict | list | str | int | bool | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
