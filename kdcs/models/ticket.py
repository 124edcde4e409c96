"""Tickets (问题件, 留言, 工单, 仲裁), their timeline, and the reference data
that drives them: reasons, deadline rules, canned replies, import mappings.

Codes are English and stored as short strings; the Chinese labels live in
``kdcs.tickets.labels``. Rules that change state (status machines, deadlines,
scope) live in ``kdcs.tickets.service``: views never set these fields directly.

Queue design (why the extra columns):

* ``brand_id`` is copied from the outlet so brand filters need no join.
* ``queue_state`` is 0 while a deadline is pending (``due_at`` = that
  deadline), 1 while the ticket is open with nothing pending (resolved and
  awaiting closure), 2 when closed. The queue indexes are
  ``(<filter column>, queue_state, due_at)``, so "open tickets, nearest
  deadline first" is ``queue_state < 2 ORDER BY queue_state, due_at`` and is
  read straight from an index on SQLite and PostgreSQL alike (no NULL-ordering
  differences: ``due_at`` is never NULL while ``queue_state`` is 0).
* ``waybill_no`` is stored upper-case; the unique key
  ``(waybill_no, outlet_id, category, reason_id)`` is both the duplicate rule
  of imports and the index for exact and prefix waybill search (a range
  ``>= prefix AND < next(prefix)``, see ``service.waybill_prefix_clause``).
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from enum import IntEnum, StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .outlet import Brand, Outlet
from .types import Money, UTCDateTime, utcnow
from .user import User


class Direction(StrEnum):
    INBOUND = "inbound"  # 进港
    OUTBOUND = "outbound"  # 出港


class Category(StrEnum):
    PROBLEM = "problem"  # 问题件
    MESSAGE = "message"  # 留言
    WORK_ORDER = "work_order"  # 工单
    ARBITRATION = "arbitration"  # 仲裁


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TicketStatus(StrEnum):
    # ordinary tickets (问题件, 留言, 工单)
    NEW = "new"  # 新建
    IN_PROGRESS = "in_progress"  # 处理中
    AWAITING_FEEDBACK = "awaiting_feedback"  # 待反馈
    REPLIED = "replied"  # 已回复
    # arbitration (仲裁)
    TO_FILE = "to_file"  # 待上报
    FILED = "filed"  # 已上报
    NEGOTIATING = "negotiating"  # 协商中
    JUDGED = "judged"  # 已判责
    # both
    CLOSED = "closed"  # 已结案


class FineBearer(StrEnum):
    COMPANY = "company"  # 公司承担
    AGENT = "agent"  # 客服承担
    OUTLET = "outlet"  # 网点承担


class EventKind(StrEnum):
    CREATED = "created"
    STATUS = "status"
    ASSIGN = "assign"
    NOTE = "note"
    FINE = "fine"
    FIRST_REPLY = "first_reply"  # older tickets; replies are "reply" events now
    REPLY = "reply"  # a TicketReply was recorded (from_value: channel, to_value: sent_at ISO)
    REOPEN = "reopen"
    EDIT = "edit"
    SOP = "sop"  # an SOP script version was inserted or copied (kdcs.sop.panel)
    FOLLOW_UP = "follow_up"  # a 跟进 was promised, done or cancelled (to_value: the state; kdcs.tickets.followups)


class QueueState(IntEnum):
    ACTIVE = 0  # open, a deadline is pending: due_at is set
    WAITING = 1  # open, nothing pending (resolved, awaiting closure)
    CLOSED = 2


class CountingMode(StrEnum):
    CLOCK = "clock"  # wall-clock minutes, every day
    SERVICE_HOURS = "service_hours"  # only inside the daily window, on working days


class TicketSource(StrEnum):
    MANUAL = "manual"
    IMPORT = "import"
    DEMO = "demo"


class TicketReason(db.Model):
    """A reason from a category's list (地址不详, 催件, 遗失 ...); admins extend the lists."""

    __tablename__ = "ticket_reasons"
    __table_args__ = (UniqueConstraint("category", "name", name="uq_ticket_reasons_category_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<TicketReason {self.category}:{self.name}>"


class DeadlineRule(db.Model):
    """Brand (or any) × category × reason (or any) → reply and resolve deadlines.

    The most specific active rule wins (see ``tickets.deadlines.select_rule``).
    Tickets store the times computed when they were created, so editing a rule
    never moves the deadlines of existing tickets.
    """

    __tablename__ = "deadline_rules"
    __table_args__ = (Index("ix_deadline_rules_category_brand", "category", "brand_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(16))
    reason_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_reasons.id", ondelete="CASCADE"))
    reply_minutes: Mapped[int] = mapped_column(Integer)
    resolve_minutes: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16), default=CountingMode.CLOCK, server_default="clock")
    service_start: Mapped[time | None] = mapped_column(Time)  # Asia/Shanghai wall time
    service_end: Mapped[time | None] = mapped_column(Time)
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    brand: Mapped[Brand | None] = relationship()
    reason: Mapped[TicketReason | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<DeadlineRule {self.id} {self.category} brand={self.brand_id} reason={self.reason_id}>"


class WorkCalendarDay(db.Model):
    """An exception to "Monday–Friday are working days": a holiday or a make-up workday (调休).

    Dates without a row follow the weekday rule. Seeded from ``chinesecalendar``;
    admins edit rows (``source`` becomes "admin" so a re-seed leaves them alone).
    """

    __tablename__ = "work_calendar_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(32), default="", server_default="")  # 春节, 国庆节, 调休上班
    source: Mapped[str] = mapped_column(String(16), default="admin", server_default="admin")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<WorkCalendarDay {self.day} {'work' if self.is_workday else 'off'} {self.name}>"


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (
        # The import duplicate rule, and the waybill exact/prefix search index.
        UniqueConstraint("waybill_no", "outlet_id", "category", "reason_id", name="uq_tickets_dedupe"),
        # Queues: "<filter> and open, nearest deadline first".
        # ... then "id" (the tie-break) and what the tab counts' exact part reads of the
        # current hour's deadlines (kdcs/tickets/counts.py): the scope's columns and "category".
        Index("ix_tickets_queue", "queue_state", "due_at", "id", "assignee_id", "outlet_id", "category"),
        # ... then "id" (the order's tie-break, still read from the index) and "category",
        # so the tab counts (open / overdue / due soon per
        # category of "mine" and "team") read the index alone, never the table rows.
        Index("ix_tickets_assignee_queue", "assignee_id", "queue_state", "due_at", "id", "category"),
        Index("ix_tickets_outlet_queue", "outlet_id", "queue_state", "due_at", "id", "category"),
        # ... then what an agent's or a lead's scope tests (0024): a brand or category filter's page
        # is found in the index, without reading the rows of other people's tickets.
        Index("ix_tickets_brand_queue", "brand_id", "queue_state", "due_at", "id", "assignee_id", "outlet_id"),
        Index("ix_tickets_category_queue", "category", "queue_state", "due_at", "id", "assignee_id", "outlet_id"),
        Index("ix_tickets_registered_at", "registered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id"))  # = outlet.brand_id, for filters
    direction: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16))
    reason_id: Mapped[int] = mapped_column(ForeignKey("ticket_reasons.id"))
    waybill_no: Mapped[str] = mapped_column(String(20))  # upper-case letters and digits
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)  # in the brand system
    customer_name: Mapped[str] = mapped_column(String(32), default="", server_default="")
    customer_phone: Mapped[str] = mapped_column(String(32), default="", server_default="")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    priority: Mapped[str] = mapped_column(String(16), default=Priority.NORMAL, server_default="normal")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20))
    # Deadlines as computed at creation (a later rule change does not move them).
    reply_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolve_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_rule_id: Mapped[int | None] = mapped_column(ForeignKey("deadline_rules.id", ondelete="SET NULL"))
    # Derived, maintained by the service: the pending deadline and the queue bucket.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queue_state: Mapped[int] = mapped_column(SmallInteger, default=QueueState.ACTIVE, server_default="0")
    first_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fine_amount: Mapped[Decimal | None] = mapped_column(Money(12, 2))
    fine_bearer: Mapped[str | None] = mapped_column(String(16))
    fine_agent_share: Mapped[Decimal | None] = mapped_column(Money(12, 2))
    # The agent the fine is charged to: the assignee when it was first recorded (a later reassignment
    # does not move a fine to the new assignee); None when the ticket was unassigned then.
    fine_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # no ON DELETE: migration 0019
    # When the fine was first recorded: the month it counts in (罚款, 团队表现, 网点月报, the homes);
    # a correction later changes the amount, not the month (migration 0022).
    fined_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Whom the first reply deadline counts for (团队表现, 我的表现): the assignee when the deadline passed
    # without a reply (the escalation task stamps it) or when the first reply was recorded, whichever
    # came first; None until then (the pages count the assignee). A reassignment afterwards keeps it.
    reply_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # migration 0021
    source: Mapped[str] = mapped_column(String(16), default=TicketSource.MANUAL, server_default="manual")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    outlet: Mapped[Outlet] = relationship()
    brand: Mapped[Brand] = relationship()
    reason: Mapped[TicketReason] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    fine_agent: Mapped[User | None] = relationship(foreign_keys=[fine_agent_id])
    deadline_rule: Mapped[DeadlineRule | None] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="(TicketEvent.at, TicketEvent.id)",
        cascade="all, delete-orphan", passive_deletes=True,
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.status != TicketStatus.CLOSED

    @property
    def is_arbitration(self) -> bool:
        return self.category == Category.ARBITRATION

    def __repr__(self) -> str:
        return f"<Ticket {self.id} {self.waybill_no} {self.category}/{self.status}>"


class TicketEvent(db.Model):
    """One line of a ticket's timeline: who did what, when, from what to what."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_at", "ticket_id", "at"),
                      Index("ix_ticket_events_kind_at", "kind", "at", "ticket_id"))  # fines this month

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    from_value: Mapped[str | None] = mapped_column(String(64))
    to_value: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text, default="", server_default="")

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class CannedReply(db.Model):
    """常用回复: a short text per category (or for all) that agents insert or copy."""

    __tablename__ = "canned_replies"
    __table_args__ = (Index("ix_canned_replies_category_sort", "category", "sort_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str | None] = mapped_column(String(16))  # None: every category
    reason_id: Mapped[int | None] = mapped_column(  # None: every reason of the category
        ForeignKey("ticket_reasons.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    reason: Mapped[TicketReason | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class ImportMapping(db.Model):
    """The remembered column mapping of a brand's export: {"columns": {field: header}, ...}."""

    __tablename__ = "import_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), unique=True)
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    brand: Mapped[Brand] = relationship()

    __mapper_args__ = {"version_id_col": version}


class ImportValueMap(db.Model):
    """A brand's value remembered by the import: what a category, direction or reason value of its
    exports means in KDCS.

    ``field`` is "category", "direction" or "reason"; ``context`` is the row's category for a
    reason value ("" otherwise); ``source_key`` the value compared loosely (``reader.header_key``),
    ``source_text`` as it was written. ``target`` is a category or direction code, "reason:<id>"
    or "reject" (the rows are refused).
    """

    __tablename__ = "import_value_maps"
    __table_args__ = (UniqueConstraint("brand_id", "field", "context", "source_key",
                                       name="uq_import_value_maps_brand_field_context_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(16))
    context: Mapped[str] = mapped_column(String(16), default="", server_default="")
    source_key: Mapped[str] = mapped_column(String(64))
    source_text: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(32))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ReplyChannel(StrEnum):
    BRAND_SYSTEM = "brand_system"  # 品牌系统
    PHONE = "phone"  # 电话
    SMS = "sms"  # 短信
    WECHAT = "wechat"  # 微信
    OUTLET = "outlet"  # 网点
    OTHER = "other"  # 其他


class TicketReply(db.Model):
    """A reply the agent gave (回复记录): channel, text, when it was sent. Never edited or deleted:
    a correction is a new reply pointing at the one it corrects (the record is evidence)."""

    __tablename__ = "ticket_replies"
    __table_args__ = (Index("ix_ticket_replies_ticket_sent", "ticket_id", "sent_at"),
                      Index("ix_ticket_replies_sent", "sent_at", "ticket_id"))  # replied today

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_replies.id", ondelete="SET NULL"))
    sop_version_id: Mapped[int | None] = mapped_column(ForeignKey("sop_versions.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # a double submit stores once

    ticket: Mapped[Ticket] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    corrects: Mapped[TicketReply | None] = relationship(remote_side=[id])


class TicketAttachment(db.Model):
    """Evidence (举证材料) on a ticket: a file stored outside static, named by its content hash.
    Removing hides it (who, when, why) and keeps the file; only an admin purges."""

    __tablename__ = "ticket_attachments"
    __table_args__ = (Index("ix_ticket_attachments_ticket", "ticket_id", "removed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    stored_name: Mapped[str] = mapped_column(String(80), index=True)  # sha256 hex + extension
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(80))  # decided from the content, never the name
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    evidence_item_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_items.id", ondelete="SET NULL"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    remove_reason: Mapped[str] = mapped_column(String(200), default="")
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    ticket: Mapped[Ticket] = relationship()
    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])
    removed_by: Mapped[User | None] = relationship(foreign_keys=[removed_by_id])
    evidence_item: Mapped[EvidenceItem | None] = relationship()


class EvidenceItem(db.Model):
    """One item of a reason's evidence checklist (破损: 外包装照片、内件照片、称重照片), editable by admins."""

    __tablename__ = "evidence_items"
    __table_args__ = (Index("ix_evidence_items_reason_sort", "reason_id", "sort_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reason_id: Mapped[int] = mapped_column(ForeignKey("ticket_reasons.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    reason: Mapped[TicketReason] = relationship()

    __mapper_args__ = {"version_id_col": version}


class TicketNotice(db.Model):
    """A deadline notice already sent (due soon → assignee, overdue → the assignee's lead):
    the escalation task's marker, so two workers or a restart never send one twice."""

    __tablename__ = "ticket_notices"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", "due_at", name="uq_ticket_notices_ticket_kind_due"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # "reply_due_soon", "reply_overdue", "resolve_overdue"
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the deadline it was about (a reopen gives a new one)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
