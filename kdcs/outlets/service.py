"""Outlet rules: who may see which outlet, fees from volumes, assignment."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Select, func, select

from ..extensions import db
from ..models import Outlet, OutletVolume, Role, User


def visible_outlets_query(user: User) -> Select:
    """Outlets in the user's scope: admin all, lead their team's, agent their own, else none."""
    query = select(Outlet)
    if user.role == Role.ADMIN:
        return query
    if user.role == Role.LEAD:
        if user.team_id is None:
            return query.where(False)
        team_agents = select(User.id).where(User.team_id == user.team_id)
        return query.where(Outlet.primary_agent_id.in_(team_agents))
    if user.role == Role.AGENT:
        return query.where(Outlet.primary_agent_id == user.id)
    return query.where(False)


def can_view_outlet(user: User, outlet_id: int) -> bool:
    subquery = visible_outlets_query(user).where(Outlet.id == outlet_id).with_only_columns(Outlet.id)
    return db.session.scalar(subquery) is not None


def monthly_fee(parcels: int, rate: Decimal) -> Decimal:
    """Service fee for a month: parcels × rate, rounded to the fen."""
    return (Decimal(parcels) * Decimal(rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def latest_month() -> date | None:
    return db.session.scalar(select(func.max(OutletVolume.month)))


def volumes_by_outlet(outlet_ids: list[int], month: date | None) -> dict[int, int]:
    """Total parcels per outlet for one month, in one query."""
    if not outlet_ids or month is None:
        return {}
    rows = db.session.execute(
        select(
            OutletVolume.outlet_id,
            OutletVolume.inbound_parcels + OutletVolume.outbound_parcels,
        ).where(OutletVolume.outlet_id.in_(outlet_ids), OutletVolume.month == month)
    )
    return {outlet_id: int(total) for outlet_id, total in rows}
