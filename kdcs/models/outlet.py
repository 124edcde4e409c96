"""Brands, outlets (网点) and their monthly parcel volumes (票数)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import Money, UTCDateTime, utcnow
from .user import User


class Brand(db.Model):
    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # ZTO, YTO ...
    name: Mapped[str] = mapped_column(String(32), unique=True)  # 中通 ...
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Brand {self.code}>"


class Outlet(db.Model):
    __tablename__ = "outlets"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # brand system's outlet code
    name: Mapped[str] = mapped_column(String(64), index=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id"), index=True)
    region: Mapped[str] = mapped_column(String(64), default="")
    contact_name: Mapped[str] = mapped_column(String(32), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    rate_per_parcel: Mapped[Decimal] = mapped_column(Money(12, 4), default=Decimal("0.0250"))
    overtime_rate: Mapped[Decimal | None] = mapped_column(Money(10, 2))  # 元/小时 agreed; None: none agreed
    primary_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[str] = mapped_column(String(500), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    brand: Mapped[Brand] = relationship()
    primary_agent: Mapped[User | None] = relationship()
    volumes: Mapped[list[OutletVolume]] = relationship(
        back_populates="outlet", order_by="OutletVolume.month.desc()", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Outlet {self.code}>"


class OutletVolume(db.Model):
    """Parcels handled by an outlet in one month; the basis of the service fee."""

    __tablename__ = "outlet_volumes"
    __table_args__ = (UniqueConstraint("outlet_id", "month", name="uq_outlet_volumes_outlet_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    month: Mapped[date] = mapped_column(Date)  # first day of the month
    inbound_parcels: Mapped[int] = mapped_column(Integer, default=0)
    outbound_parcels: Mapped[int] = mapped_column(Integer, default=0)

    outlet: Mapped[Outlet] = relationship(back_populates="volumes")

    @property
    def total_parcels(self) -> int:
        return self.inbound_parcels + self.outbound_parcels


class OutletRate(db.Model):
    """An outlet's rate per parcel (票) from ``month`` on, until the next entry's month.

    The fee of a month is that month's parcels × the rate in force that month
    (``kdcs.outlets.rates``). Months before the first entry bill at the first
    entry's rate. ``Outlet.rate_per_parcel`` mirrors the newest entry's rate.
    """

    __tablename__ = "outlet_rates"
    __table_args__ = (UniqueConstraint("outlet_id", "month", name="uq_outlet_rates_outlet_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    month: Mapped[date] = mapped_column(Date)  # first day of the first month at this rate
    rate: Mapped[Decimal] = mapped_column(Money(12, 4))
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<OutletRate {self.outlet_id} {self.month:%Y-%m} {self.rate}>"


class OutletAssignment(db.Model):
    """Who was an outlet's primary agent from ``since`` on, until the outlet's next row: written
    whenever an outlet is created or its primary agent changes (``kdcs.outlets.assignments``), so a
    past month's fees go to the agent who had the outlet then (人均毛利). Outlets created before
    the history was kept start with one row for the agent they had then (migration 0026)."""

    __tablename__ = "outlet_assignments"
    __table_args__ = (Index("ix_outlet_assignments_outlet_since", "outlet_id", "since"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))  # None: nobody
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    outlet: Mapped[Outlet] = relationship()

    def __repr__(self) -> str:
        return f"<OutletAssignment {self.outlet_id} {self.agent_id} {self.since:%Y-%m-%d}>"
