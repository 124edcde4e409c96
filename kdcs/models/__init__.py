"""All models, imported here so Alembic and the app see the full metadata."""

from .audit import AuditLog
from .notification import Notification
from .outlet import Brand, Outlet, OutletVolume
from .security import LoginAttempt
from .types import Money, UTCDateTime, utcnow
from .user import Role, Team, User

__all__ = [
    "AuditLog",
    "Brand",
    "LoginAttempt",
    "Money",
    "Notification",
    "Outlet",
    "OutletVolume",
    "Role",
    "Team",
    "UTCDateTime",
    "User",
    "utcnow",
]
