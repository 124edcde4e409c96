"""User administration and the audit log query. Services check permissions too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from ..auditing import record, record_active_change, snapshot
from ..auth.service import password_problems
from ..extensions import db
from ..models import AuditLog, Outlet, Role, Team, User
from ..models.user import username_order
from ..permissions import Permission, ensure
from ..service_errors import StaleEdit, ValidationError
from ..training.programmes.service import auto_enroll

USER_AUDIT_FIELDS = ["username", "display_name", "role", "team_id", "phone", "start_date", "is_active_account"]


def search_users(actor: User, text: str = "", role: str = "", team_id: int | None = None, active: str = ""):
    """Users matching a 工号/name search and role, team and status filters, 工号 in natural order."""
    ensure(actor, Permission.MANAGE_USERS)
    query = select(User).options(joinedload(User.team)).order_by(*username_order())
    if text:
        like = f"%{text.strip()}%"
        query = query.where(or_(User.username.ilike(like), User.display_name.ilike(like)))
    if role:
        query = query.where(User.role == role)
    if team_id:
        query = query.where(User.team_id == team_id)
    if active == "1":
        query = query.where(User.is_active_account.is_(True))
    elif active == "0":
        query = query.where(User.is_active_account.is_(False))
    return query


def going_live_badges(users) -> dict[int, dict]:
    """user id → going-live badge data (the shape of ``certification_badge``) for a page of users,
    read with one query for their certification rows and one for the gate, not per row. Only agents
    get one, and only while some 上岗必修 course is published."""
    from ..models.training import AgentCertification
    from ..training.certification import gate
    from ..training.certification import service as certification

    agents = [u for u in users if u.role == Role.AGENT.value]
    if not agents or not certification.training_required():
        return {}
    ids = [u.id for u in agents]
    certs = {c.user_id: c for c in db.session.scalars(
        select(AgentCertification).where(AgentCertification.user_id.in_(ids)))}
    live_ids = gate.certified_ids(ids)
    badges = {}
    for user_id in ids:
        cert, live = certs.get(user_id), user_id in live_ids
        state = cert.state if cert and (live or cert.state != "flagged") else ("lapsed" if cert else "none")
        badges[user_id] = {"show": True, "live": live, "state": state,
                           "label": certification.state_label(state),
                           "since": cert.certified_at if cert and live else None,
                           "flagged_until": cert.flagged_until if cert and live else None,
                           "reason": "" if live or cert is None else cert.reason}
    return badges


def _check_role_team(role: str, team_id: int | None) -> dict[str, str]:
    errors = {}
    if role not in {r.value for r in Role}:
        errors["role"] = _("Unknown role.")
    if team_id and db.session.get(Team, team_id) is None:
        errors["team_id"] = _("Unknown team.")
    return errors


def create_user(actor: User, *, username: str, display_name: str, role: str, password: str,
                team_id: int | None = None, phone: str | None = None, start_date: date | None = None) -> User:
    """Create an account; a taken 工号, weak password or wrong team comes back as field errors.
    An agent with a start date (入职日期) is enrolled in the default training programme."""
    ensure(actor, Permission.MANAGE_USERS)
    username = username.strip()
    errors = _check_role_team(role, team_id)
    if db.session.scalar(select(User.id).where(User.username.ilike(username))):
        errors["username"] = _("This username is already taken.")
    problems = password_problems(password, username)
    if problems:
        errors["password"] = " ".join(problems)
    if errors:
        raise ValidationError(errors)
    user = User(username=username, display_name=display_name.strip(), role=role,
                team_id=team_id or None, phone=(phone or "").strip() or None, start_date=start_date)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record(actor, "user.create", "user", user.id, summary=f"{user.username} {user.display_name}",
           after=snapshot(user, USER_AUDIT_FIELDS))
    auto_enroll(actor, user)
    db.session.commit()
    return user


def update_user(actor: User, user: User, *, version: int, display_name: str, role: str,
                team_id: int | None, phone: str | None, start_date: date | None | object = ...) -> User:
    """Change name, role, team, phone and start date; a stale version raises StaleEdit; an admin keeps
    their own role. An agent given a start date is enrolled in the default training programme (once)."""
    ensure(actor, Permission.MANAGE_USERS)
    if user.version != version:
        raise StaleEdit()
    errors = _check_role_team(role, team_id)
    if user.id == actor.id and role != Role.ADMIN:
        errors["role"] = _("You cannot remove your own administrator role.")
    if errors:
        raise ValidationError(errors)
    before = snapshot(user, USER_AUDIT_FIELDS)
    user.display_name = display_name.strip()
    user.role = role
    user.team_id = team_id or None
    user.phone = (phone or "").strip() or None
    if start_date is not ...:  # not given: kept
        user.start_date = start_date
    after = snapshot(user, USER_AUDIT_FIELDS)
    if before != after:
        record(actor, "user.update", "user", user.id, summary=user.username, before=before, after=after)
        auto_enroll(actor, user)
    db.session.commit()
    return user


def set_user_active(actor: User, user: User, active: bool) -> User:
    """Deactivation ends the user's sessions at their next request."""
    ensure(actor, Permission.MANAGE_USERS)
    if user.id == actor.id and not active:
        raise ValidationError({"is_active": _("You cannot deactivate your own account.")})
    if not record_active_change(actor, user, active, "user", user.username, attr="is_active_account"):
        return user
    if not active:
        user.rotate_session()
    db.session.commit()
    return user


def reset_password(actor: User, user: User, new_password: str) -> None:
    """Set a new password (strength checked); the user's open sessions end."""
    ensure(actor, Permission.MANAGE_USERS)
    problems = password_problems(new_password, user.username)
    if problems:
        raise ValidationError({"password": " ".join(problems)})
    user.set_password(new_password)
    record(actor, "user.password_reset", "user", user.id, summary=user.username)
    db.session.commit()


def outlets_of(user: User) -> list[Outlet]:
    """The outlets where this user is the primary agent, by code."""
    return db.session.scalars(select(Outlet).where(Outlet.primary_agent_id == user.id).order_by(Outlet.code)).all()


@dataclass
class AuditFilter:
    entity_type: str = ""
    action: str = ""
    actor_id: int | None = None
    entity_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""


def audit_query(actor: User, f: AuditFilter):
    """The audit log filtered as asked, newest first (auditors only)."""
    ensure(actor, Permission.VIEW_AUDIT)
    query = select(AuditLog).options(joinedload(AuditLog.actor)).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if f.entity_type:
        query = query.where(AuditLog.entity_type == f.entity_type)
    if f.action:
        query = query.where(AuditLog.action == f.action)
    if f.actor_id:
        query = query.where(AuditLog.actor_id == f.actor_id)
    if f.entity_id:
        query = query.where(AuditLog.entity_id == f.entity_id)
    if f.since:
        query = query.where(AuditLog.at >= f.since)
    if f.until:
        query = query.where(AuditLog.at < f.until)
    if f.text:
        query = query.where(AuditLog.summary.ilike(f"%{f.text.strip()}%"))
    return query


def audit_actions() -> list[str]:
    """Every action name the log holds (for the filter select)."""
    return list(db.session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))


def audit_actors() -> list[User]:
    """Everyone, for the audit page's "who" filter, in 工号 order (agent2 before agent10)."""
    return list(db.session.scalars(select(User).order_by(*username_order())))


def audit_entity_types() -> list[str]:
    """Every entity type the log holds (for the filter select)."""
    return list(db.session.scalars(select(AuditLog.entity_type).distinct().order_by(AuditLog.entity_type)))
