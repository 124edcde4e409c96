"""All models, imported here so Alembic and the app see the full metadata."""

from .audit import AuditLog
from .import_job import ImportJob, ImportJobRow, ImportStatus, RowState  # noqa: F401  (ticket imports)
from .leave import DayPart, LeaveEvent, LeaveHandover, LeaveRequest, LeaveStatus, LeaveType, TeamStaffing
from .notification import Notification
from .outlet import Brand, Outlet, OutletVolume
from .presence import TicketPresence
from .security import LoginAttempt
from .sop import (
    AppSetting,
    ReportStatus,
    SopAcknowledgement,
    SopKind,
    SopReadingNotice,
    SopReport,
    SopScenario,
    SopVersion,
    VersionStatus,
)
from .ticket import (
    CannedReply,
    Category,
    CountingMode,
    DeadlineRule,
    Direction,
    EventKind,
    FineBearer,
    ImportMapping,
    Priority,
    QueueState,
    Ticket,
    TicketEvent,
    TicketReason,
    TicketSource,
    TicketStatus,
    WorkCalendarDay,
)
from .types import Money, UTCDateTime, utcnow
from .user import Role, Team, User

__all__ = [
    "AppSetting",
    "AuditLog",
    "Brand",
    "CannedReply",
    "Category",
    "CountingMode",
    "DeadlineRule",
    "Direction",
    "EventKind",
    "FineBearer",
    "DayPart",
    "ImportMapping",
    "LeaveEvent",
    "LeaveHandover",
    "LeaveRequest",
    "LeaveStatus",
    "LeaveType",
    "LoginAttempt",
    "Money",
    "Notification",
    "Outlet",
    "OutletVolume",
    "Priority",
    "QueueState",
    "ReportStatus",
    "Role",
    "SopAcknowledgement",
    "SopKind",
    "SopReadingNotice",
    "SopReport",
    "SopScenario",
    "SopVersion",
    "Team",
    "TeamStaffing",
    "Ticket",
    "TicketEvent",
    "TicketPresence",
    "TicketReason",
    "TicketSource",
    "TicketStatus",
    "UTCDateTime",
    "User",
    "VersionStatus",
    "WorkCalendarDay",
    "utcnow",
]
