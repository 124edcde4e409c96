"""An outlet's monthly statement (网点对账单): what the company bills the outlet for a month and why —
the parcels at the rate in force (服务费), the approved overtime at the rates agreed (加班费), and the
brand's fines of the month with who bears each. The fines the company caused (its part and the
agents' shares) are listed apart, with the total after deducting them, since whether they are
deducted from the bill or settled separately is the contract's matter.

Leads (their team's outlets) and admins read it; it prints on A4 like the 交接单.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Outlet, OutletVolume, OvertimeEntry, OvertimeStatus, Role, User
from ..permissions import Permission, has_permission
from .rates import rate_at, rate_entries, shift_month
from .service import monthly_fee

ZERO = Decimal("0.00")


def can_read(user: User) -> bool:
    """Leads and admins read statements (agents see their outlets' parcels and fees on 我的网点)."""
    return user.role in (Role.LEAD, Role.ADMIN) and has_permission(user, Permission.VIEW_OUTLETS)


@dataclass
class OutletStatement:
    outlet: Outlet
    month: date
    inbound: int | None = None  # None: no volume recorded for the month (yet)
    outbound: int | None = None
    rate: Decimal = ZERO  # per parcel, in force that month
    fee: Decimal = ZERO
    overtime: list[OvertimeEntry] = field(default_factory=list)  # approved, by the day worked
    overtime_minutes: int = 0
    overtime_fee: Decimal = ZERO
    fines: list = field(default_factory=list)  # tickets.fines.service.FineRow of the outlet
    fines_total: Decimal = ZERO
    outlet_borne: Decimal = ZERO
    ours: Decimal = ZERO  # the company's part and the agents' shares: what the company caused

    @property
    def parcels(self) -> int | None:
        return None if self.inbound is None else self.inbound + self.outbound

    @property
    def billed(self) -> Decimal:
        """服务费 + 加班费."""
        return self.fee + self.overtime_fee

    @property
    def after_fines(self) -> Decimal:
        """The bill less the fines the company caused (when the contract deducts them)."""
        return self.billed - self.ours


def statement(viewer: User, outlet: Outlet, month: date, now: datetime) -> OutletStatement:
    """The outlet's statement for ``month`` (the caller has checked the outlet is in the viewer's
    scope and ``can_read``). Five statements: volume, rates, overtime, fines (with the user)."""
    from ..tickets.fines import service as fines

    result = OutletStatement(outlet=outlet, month=month)
    volume = db.session.scalar(select(OutletVolume).where(OutletVolume.outlet_id == outlet.id,
                                                          OutletVolume.month == month))
    result.rate = rate_at(rate_entries(outlet.id), month, outlet.rate_per_parcel)
    if volume is not None:
        result.inbound, result.outbound = volume.inbound_parcels, volume.outbound_parcels
        result.fee = monthly_fee(volume.total_parcels, result.rate)
    result.overtime = list(db.session.scalars(
        select(OvertimeEntry).where(OvertimeEntry.outlet_id == outlet.id,
                                    OvertimeEntry.status == OvertimeStatus.APPROVED,
                                    OvertimeEntry.work_date >= month, OvertimeEntry.work_date < shift_month(month, 1))
        .options(joinedload(OvertimeEntry.user)).order_by(OvertimeEntry.work_date, OvertimeEntry.id)))
    result.overtime_minutes = sum(e.minutes for e in result.overtime)
    priced = sum((Decimal(e.minutes) * e.rate for e in result.overtime if e.rate is not None), start=Decimal(0))
    result.overtime_fee = (priced / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    result.fines = sorted(fines.fined_rows(viewer, month, now, outlet_id=outlet.id), key=lambda r: r.fined_at)
    result.fines_total = sum((r.amount for r in result.fines), start=ZERO)
    result.outlet_borne = sum((r.outlet_borne for r in result.fines), start=ZERO)
    result.ours = result.fines_total - result.outlet_borne
    return result
