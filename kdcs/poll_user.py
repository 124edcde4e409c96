"""The user behind a poll, without loading the ORM ``User``.

The bell (every 30 s on every page) and the ticket page's presence poll (every 10 s) are
more than half of the requests an agent's browser sends, and they need little of the user:
the id, role, team and that the account is active. ``load_poll_user`` reads those columns
with one prebuilt statement (the ORM load of the whole row was about a quarter of such a
request). Anything else asked of it loads the real ``User`` once and answers from it, so
code that needs more still works, only slower.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select

from . import core_sql
from .extensions import db
from .models import User

# Endpoints whose views and templates get a PollUser as ``current_user``.
POLL_ENDPOINTS = frozenset({"notifications.bell", "tickets.presence_banner"})

_STATEMENT = None


class PollUser:
    """``current_user`` for a poll: the few columns a poll reads, the full ``User`` on demand."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, row, acting_from: str | None) -> None:
        self.id, self.role, self.team_id, self.display_name = row.id, row.role, row.team_id, row.display_name
        self.is_active_account, self.session_token = bool(row.is_active), row.session_token
        self.acting_from = acting_from
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


def load_poll_user(user_id: int, token: str, acting_from: str | None) -> PollUser | None:
    """The poll's user if the account exists, is active and the session token is current."""
    global _STATEMENT
    if _STATEMENT is None:
        _STATEMENT = select(User.id, User.role, User.team_id, User.display_name, User.is_active_account.label("is_active"),
                            User.session_token).where(User.id == bindparam("user_id"))
    row = core_sql.execute(_STATEMENT, {"user_id": user_id}).first()
    if row is None or not row.is_active or row.session_token != token:
        return None
    return PollUser(row, acting_from)
