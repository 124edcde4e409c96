"""Authentication rules: password checks, throttling, password policy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from ..auditing import record
from ..extensions import db
from ..models import LoginAttempt, User, utcnow
from ..models.user import username_key

MIN_PASSWORD_LENGTH = 8
COMMON_PASSWORDS = {
    "12345678", "123456789", "1234567890", "password", "password1", "qwerty123",
    "11111111", "88888888", "66666666", "abc12345", "a1234567", "iloveyou",
    "admin123", "demo1234", "kdcs1234", "qwertyui", "00000000", "1q2w3e4r",
}


class AuthError(Exception):
    """A login that must not proceed; ``message`` is shown to the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ThrottleLimits:
    per_user: int
    per_address: int
    window: timedelta


def password_problems(password: str, username: str = "") -> list[str]:
    """Why a new password is too weak (empty list when it is fine)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(_("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        problems.append(_("Use both letters and digits."))
    if password.lower() in COMMON_PASSWORDS:
        problems.append(_("This password is too common."))
    if username and username.lower() in password.lower():
        problems.append(_("The password must not contain the username."))
    return problems


def _failures_since(column, value: str, since) -> int:
    return db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since
        )
    )


def is_throttled(username: str, address: str, limits: ThrottleLimits) -> bool:
    """True when the user or the address failed too often within the window."""
    since = utcnow() - limits.window
    return (
        _failures_since(LoginAttempt.username, username.lower(), since) >= limits.per_user
        or _failures_since(LoginAttempt.address, address, since) >= limits.per_address
    )


def authenticate(username: str, password: str, address: str, limits: ThrottleLimits) -> User:
    """Return the user or raise AuthError; every attempt is recorded."""
    username = (username or "").strip()
    if is_throttled(username, address, limits):
        raise AuthError(
            _("Too many failed attempts. Try again in %(m)d minutes or ask an administrator.",
              m=int(limits.window.total_seconds() // 60))
        )
    user = db.session.scalar(select(User).where(username_key(username)))
    ok = user is not None and user.check_password(password or "")
    db.session.add(LoginAttempt(username=username.lower()[:64], address=address[:64], succeeded=ok))
    if not ok:
        db.session.commit()
        raise AuthError(_("Wrong username or password."))
    if not user.is_active:
        db.session.commit()
        raise AuthError(_("This account has been deactivated. Contact an administrator."))
    record_login(user)
    # A success clears this user's failure streak.
    db.session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.username == username.lower(), LoginAttempt.succeeded.is_(False)
        )
    )
    db.session.commit()
    return user


def record_login(user: User) -> None:
    """Write ``last_login_at`` without touching the row's version (caller commits).

    Login bookkeeping is not an edit: a plain UPDATE of that one column, outside the
    ORM's version counter, so simultaneous logins of one user (two tabs, a reconnecting
    laptop) never conflict with each other, nor with an admin's edit form of that user.
    """
    now = utcnow()
    db.session.execute(update(User.__table__).where(User.__table__.c.id == user.id).values(last_login_at=now))
    set_committed_value(user, "last_login_at", now)


def change_own_password(user: User, current_password: str, new_password: str) -> None:
    """Change one's own password after checking the current one; weak passwords are refused."""
    if not user.check_password(current_password):
        raise AuthError(_("The current password is wrong."))
    problems = password_problems(new_password, user.username)
    if problems:
        raise AuthError(" ".join(problems))
    user.set_password(new_password)
    record(user, "user.password_change", "user", user.id, summary=user.username)
    db.session.commit()


def prune_attempts(older_than: timedelta = timedelta(days=30)) -> int:
    """Delete login attempts older than ``older_than``; returns how many."""
    result = db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - older_than))
    db.session.commit()
    return result.rowcount or 0
