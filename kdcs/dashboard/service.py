"""What each role sees first on its home page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import AuditLog, Brand, Outlet, Role, Team, User
from ..models.user import username_order
from ..outlets.service import latest_month, monthly_fee, visible_outlets_query, volumes_by_outlet


@dataclass
class OutletLine:
    outlet: Outlet
    parcels: int
    fee: Decimal


@dataclass
class OutletSummary:
    month: date | None
    lines: list[OutletLine] = field(default_factory=list)

    @property
    def total_parcels(self) -> int:
        return sum(line.parcels for line in self.lines)

    @property
    def total_fee(self) -> Decimal:
        return sum((line.fee for line in self.lines), Decimal("0.00"))


def outlet_summary(user: User) -> OutletSummary:
    """The active outlets the user may see with their latest volumes and fees (home page)."""
    outlets = db.session.scalars(
        visible_outlets_query(user)
        .where(Outlet.is_active.is_(True))
        .options(joinedload(Outlet.brand), joinedload(Outlet.primary_agent))
        .order_by(Outlet.code)
    ).all()
    month = latest_month()
    volumes = volumes_by_outlet([o.id for o in outlets], month)
    lines = [
        OutletLine(o, volumes.get(o.id, 0), monthly_fee(volumes.get(o.id, 0), o.rate_per_parcel))
        for o in outlets
    ]
    return OutletSummary(month=month, lines=lines)


@dataclass
class MemberLine:
    user: User
    outlet_count: int
    parcels: int
    fee: Decimal


def team_members(team_id: int | None) -> list[MemberLine]:
    """A lead's team: each member with their outlets, parcels and fees last month."""
    if team_id is None:
        return []
    members = db.session.scalars(
        select(User).where(User.team_id == team_id).order_by(User.role != Role.LEAD, *username_order())
    ).all()
    outlets = db.session.scalars(
        select(Outlet).where(
            Outlet.primary_agent_id.in_([m.id for m in members]), Outlet.is_active.is_(True)
        )
    ).all()
    month = latest_month()
    volumes = volumes_by_outlet([o.id for o in outlets], month)
    lines = []
    for member in members:
        own = [o for o in outlets if o.primary_agent_id == member.id]
        parcels = sum(volumes.get(o.id, 0) for o in own)
        fee = sum((monthly_fee(volumes.get(o.id, 0), o.rate_per_parcel) for o in own), Decimal("0.00"))
        lines.append(MemberLine(member, len(own), parcels, fee))
    return lines


def admin_counts() -> dict[str, int]:
    """Counts of active users, teams, brands and outlets for the admin's home page."""
    def count(model, *where):
        return db.session.scalar(select(func.count(model.id)).where(*where))

    return {
        "users": count(User, User.is_active_account.is_(True)),
        "agents": count(User, User.is_active_account.is_(True), User.role == Role.AGENT),
        "teams": count(Team, Team.is_active.is_(True)),
        "outlets": count(Outlet, Outlet.is_active.is_(True)),
        "unassigned_outlets": count(Outlet, Outlet.is_active.is_(True), Outlet.primary_agent_id.is_(None)),
        "brands": count(Brand, Brand.is_active.is_(True)),
    }


def recent_audit(limit: int = 8) -> list[AuditLog]:
    """The newest audit entries (admin home page)."""
    return db.session.scalars(
        select(AuditLog).options(joinedload(AuditLog.actor)).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    ).all()


def agents_by_team() -> list[tuple[Team | None, list[User]]]:
    """Active agents grouped by team, teams by name, agents in natural 工号 order."""
    agents = db.session.scalars(
        select(User)
        .where(User.role == Role.AGENT, User.is_active_account.is_(True))
        .options(joinedload(User.team))
        .order_by(*username_order())
    ).all()
    grouped: dict[int | None, list[User]] = {}
    for agent in agents:
        grouped.setdefault(agent.team_id, []).append(agent)
    teams = {t.id: t for t in db.session.scalars(select(Team)).all()}
    return [(teams.get(team_id), members) for team_id, members in grouped.items()]
