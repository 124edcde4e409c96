"""Accounts, roles and teams."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, Date, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .types import UTCDateTime, utcnow


class Role(StrEnum):
    AGENT = "agent"
    TRAINER = "trainer"
    LEAD = "lead"
    ADMIN = "admin"


class Team(db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, ondelete="SET NULL"), index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    lead: Mapped[User | None] = relationship(foreign_keys=[lead_id])
    members: Mapped[list[User]] = relationship(
        back_populates="team", foreign_keys="User.team_id", order_by=lambda: list(username_order())
    )

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Team {self.name}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), index=True)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    is_active_account: Mapped[bool] = mapped_column(
        "is_active", Boolean, default=True, server_default="1"
    )
    phone: Mapped[str | None] = mapped_column(String(32))
    start_date: Mapped[date | None] = mapped_column(Date)  # 入职日期: the 30-day training programme counts from it
    # Rotated on password change/reset and deactivation: old sessions stop working.
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    team: Mapped[Team | None] = relationship(back_populates="members", foreign_keys=[team_id])

    __mapper_args__ = {"version_id_col": version}

    # Flask-Login
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return bool(self.is_active_account)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)  # scrypt by default
        self.session_token = secrets.token_hex(16)
        self.password_changed_at = utcnow()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def rotate_session(self) -> None:
        self.session_token = secrets.token_hex(16)

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class TeamMembership(db.Model):
    """Which team a person was in from ``since`` on, until their next row: written whenever an account
    is created or its team changes (``kdcs.org.memberships``), so a past week's or month's team figures
    (团队表现, 罚款 by team, 人均毛利 by team) count the people who were in the team then. Accounts
    created before the history was kept start with one row for the team they had then (migration 0027)."""

    __tablename__ = "team_memberships"
    __table_args__ = (Index("ix_team_memberships_user_since", "user_id", "since"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True)  # None: no team
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<TeamMembership {self.user_id} {self.team_id} {self.since:%Y-%m-%d}>"


USERNAME_DIGITS = "0123456789"


def username_order() -> tuple:
    """ORDER BY terms that sort 工号 naturally, agent2 before agent10, on SQLite and PostgreSQL.

    The name without its trailing digits, then its length (same prefix: more
    digits is a bigger number), then the name, case-insensitively. (Leading
    zeros count as digits: agent3 sorts before agent02.) ``username_sort_key``
    is the same order in Python, for lists sorted in memory.
    """
    return (func.lower(func.rtrim(User.username, USERNAME_DIGITS)), func.length(User.username),
            func.lower(User.username), User.username)


def username_sort_key(username: str) -> tuple:
    """The order of ``username_order`` for a username in Python."""
    return (username.rstrip(USERNAME_DIGITS).lower(), len(username), username.lower(), username)


def username_key(value: str):
    """Usernames compare case-insensitively (工号 may be typed either way)."""
    return func.lower(User.username) == value.strip().lower()
