"""The user behind a poll, without loading the ORM ``User``.

The bell (every 30 s on every page) and the ticket page's presence poll (every 10 s) are
more than half of the requests an agent's browser sends, and they need little of the user:
the id, role, team and that the account is active. ``load_poll_user`` reads those columns
with one prebuilt statement (the ORM load of the whole row was about a quarter of such a
request). Anything else asked of it loads the real ``User`` once and answers from it, so
code that needs more still works, only slower.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from . import core_sql
from .extensions import db
from .models import Notification, User

# Endpoints whose views and templates get a PollUser as ``current_user``.
POLL_ENDPOINTS = frozenset({"notifications.bell", "tickets.presence_banner"})

# The endpoint whose user row comes with the user's unread notification count (the bell shows
# only that): one statement for the whole request.
WITH_UNREAD = "notifications.bell"

_STATEMENTS: dict[bool, object] = {}


def _statement(with_unread: bool):
    statement = _STATEMENTS.get(with_unread)
    if statement is None:
        columns = [User.id, User.role, User.team_id, User.display_name, User.is_active_account.label("is_active"),
                   User.session_token]
        if with_unread:
            columns.append(select(func.count(Notification.id))
                           .where(Notification.user_id == User.id, Notification.read_at.is_(None))
                           .scalar_subquery().label("unread"))
        statement = _STATEMENTS[with_unread] = select(*columns).where(User.id == bindparam("user_id"))
    return statement


class PollUser:
    """``current_user`` for a poll: the few columns a poll reads, the full ``User`` on demand."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, row, acting_from: str | None) -> None:
        self.id, self.role, self.team_id, self.display_name = row.id, row.role, row.team_id, row.display_name
        self.is_active_account, self.session_token = bool(row.is_active), row.session_token
        self.acting_from = acting_from
        # The unread notification count read with the user (the bell), else None: asked again.
        self.unread_at_load: int | None = getattr(row, "unread", None)
        self._user: User | None = None

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __getattr__(self, name: str):
        # Only reached for what __init__ did not set: load the real user once.
        if name.startswith("__") or name == "_user":
            raise AttributeError(name)
        user = self.__dict__.get("_user")
        if user is None:
            user = self.__dict__["_user"] = db.session.get(User, self.id)
            user.acting_from = self.acting_from
        return getattr(user, name)

    def __eq__(self, other) -> bool:
        return getattr(other, "id", None) == self.id and isinstance(other, (User, PollUser))

    def __hash__(self) -> int:
        return hash(("user", self.id))

    def __repr__(self) -> str:
        return f"<PollUser {self.id}>"


def load_poll_user(user_id: int, token: str, acting_from: str | None, *, with_unread: bool = False) -> PollUser | None:
    """The poll's user if the account exists, is active and the session token is current; with
    ``with_unread`` its unread notification count comes in the same statement (``unread_at_load``)."""
    row = core_sql.execute(_statement(with_unread), {"user_id": user_id}).first()
    if row is None or not row.is_active or row.session_token != token:
        return None
    return PollUser(row, acting_from)
