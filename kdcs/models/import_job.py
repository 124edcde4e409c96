"""Ticket imports from brand exports: the job (progress the page polls) and its staged rows.

An import runs in two background steps (``kdcs.tickets.imports.tasks``):

1. *validate*: stream the uploaded file, check every row, compute deadlines,
   and stage the rows in ``import_job_rows`` in committed batches of 1000, so
   memory stays flat and the progress bar moves;
2. *commit*: one transaction copies the staged valid rows into ``tickets``
   (``INSERT ... SELECT``) with their timeline events: all rows or none.

The job row is the only state the page needs, so a progress bar survives a
reload and a dead worker is visible (``heartbeat_at`` stops moving).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .outlet import Brand
from .types import UTCDateTime, utcnow
from .user import User


class ImportStatus:
    UPLOADED = "uploaded"  # file kept, waiting for the column mapping
    VALIDATING = "validating"  # background: reading and checking rows
    VALIDATED = "validated"  # preview ready, waiting for the user's go
    COMMITTING = "committing"  # background: writing tickets
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    RUNNING = (VALIDATING, COMMITTING)
    FINISHED = (DONE, FAILED, CANCELLED)


class RowState:
    OK = 0
    DUPLICATE = 1
    ERROR = 2


class ImportJob(db.Model):
    __tablename__ = "import_jobs"
    __table_args__ = (Index("ix_import_jobs_created_by_created_at", "created_by_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))  # as uploaded, for display only
    stored_name: Mapped[str | None] = mapped_column(String(80))  # random name in KDCS_UPLOAD_DIR
    file_kind: Mapped[str] = mapped_column(String(8))  # xlsx | csv
    file_size: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    encoding: Mapped[str | None] = mapped_column(String(16))  # csv only
    sheet_name: Mapped[str | None] = mapped_column(String(64))
    sheets: Mapped[list] = mapped_column(JSON, default=list)
    header_row: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # 1-based
    header_depth: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")  # 1 or 2 rows
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    # The header as read when the rows were checked (the rejected-rows file repeats it).
    header_names: Mapped[list | None] = mapped_column(JSON)
    # Distinct values of the mapped category / direction / reason columns with their row counts
    # (``values.ValueCounter.as_json``), for the value mapping step.
    value_counts: Mapped[dict | None] = mapped_column(JSON)
    # Errors by kind: {code: {"n": rows, "examples": [[line, message], ...]}} (three examples).
    error_groups: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=ImportStatus.UPLOADED, server_default="uploaded")
    total_rows: Mapped[int | None] = mapped_column(Integer)  # an estimate while reading
    processed_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    valid_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duplicate_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    inserted_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    message: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    brand: Mapped[Brand] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def is_running(self) -> bool:
        return self.status in ImportStatus.RUNNING

    @property
    def percent(self) -> int | None:
        """Progress of the current step in percent, None when the total is unknown."""
        if self.status == ImportStatus.COMMITTING:
            return None
        if not self.total_rows:
            return None
        return max(0, min(99 if self.is_running else 100, self.processed_rows * 100 // self.total_rows))

    def __repr__(self) -> str:
        return f"<ImportJob {self.id} {self.status}>"


class ImportJobRow(db.Model):
    """One data row of an import, checked: the ticket values, or why it cannot be imported."""

    __tablename__ = "import_job_rows"
    __table_args__ = (
        Index("ix_import_job_rows_job_state_line", "job_id", "state", "line"),
        Index("ix_import_job_rows_job_waybill", "job_id", "waybill_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(Integer)  # row number in the file (1-based)
    state: Mapped[int] = mapped_column(SmallInteger)  # RowState
    errors: Mapped[list | None] = mapped_column(JSON)  # [[field, message, code], ...]
    raw: Mapped[list | None] = mapped_column(JSON)  # error rows: the row's cells as text, for the rejected-rows file
    waybill_text: Mapped[str] = mapped_column(String(64), default="", server_default="")
    outlet_text: Mapped[str] = mapped_column(String(64), default="", server_default="")
    reason_text: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # The ticket to create (valid rows only).
    outlet_id: Mapped[int | None] = mapped_column(Integer)
    brand_id: Mapped[int | None] = mapped_column(Integer)
    direction: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(16))
    reason_id: Mapped[int | None] = mapped_column(Integer)
    waybill_no: Mapped[str | None] = mapped_column(String(20))
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    customer_name: Mapped[str | None] = mapped_column(String(32))
    customer_phone: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str | None] = mapped_column(String(16))
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str | None] = mapped_column(String(20))
    reply_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolve_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_rule_id: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queue_state: Mapped[int | None] = mapped_column(SmallInteger)
