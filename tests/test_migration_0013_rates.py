"""Migration 0013_outlet_rates turns each outlet's single rate into its first history entry, figures unchanged.

Runs on an app of its own (a SQLite file; with KDCS_TEST_DATABASE_URL a database of its own
beside the suite's on that PostgreSQL server), migrated to 0012, filled, upgraded, downgraded
and upgraded again. The suite's database stays untouched.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from kdcs import create_app
from kdcs.extensions import db
from kdcs.models.types import Money, UTCDateTime
from tests.conftest import TEST_DATABASE_URL

OUTLETS = sa.table("outlets", *(sa.column(c) for c in ("id", "code", "name", "brand_id", "region", "contact_name",
                                                       "contact_phone", "notes", "is_active", "version")),
                   sa.column("rate_per_parcel", Money(12, 4)), sa.column("created_at", UTCDateTime()),
                   sa.column("updated_at", UTCDateTime()))
BRANDS = sa.table("brands", sa.column("id"), sa.column("code"), sa.column("name"), sa.column("is_active", sa.Boolean()),
                  sa.column("created_at", UTCDateTime()), sa.column("version"))
VOLUMES = sa.table("outlet_volumes", sa.column("outlet_id"), sa.column("month", sa.Date()),
                   sa.column("inbound_parcels"), sa.column("outbound_parcels"))


def _database_url(tmp_path) -> str:
    """A fresh empty database: a SQLite file, or ``<suite database>_m13`` on the suite's PostgreSQL server."""
    if not TEST_DATABASE_URL:
        return f"sqlite:///{tmp_path / 'm13.sqlite3'}"
    from kdcs.config import normalize_database_url

    url = sa.engine.make_url(normalize_database_url(TEST_DATABASE_URL))
    name = f"{url.database}_m13"
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def test_single_rate_becomes_the_first_entry_and_fees_stay(tmp_path):
    from flask_migrate import downgrade, upgrade

    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True, "SECRET_KEY": "m13",
                      "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path)})
    with app.app_context():
        upgrade(revision="0012_training")
        created = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
        with db.engine.begin() as conn:
            conn.execute(BRANDS.insert().values(id=1, code="ZTO", name="中通", is_active=True,
                                                created_at=datetime(2026, 1, 1, tzinfo=UTC), version=1))
            for outlet_id, rate in ((1, Decimal("0.0333")), (2, Decimal("0.0250")), (3, Decimal("0.0410"))):
                conn.execute(OUTLETS.insert().values(
                    id=outlet_id, code=f"M13-{outlet_id}", name=f"网点{outlet_id}", brand_id=1, region="", contact_name="",
                    contact_phone="", notes="", is_active=True, version=1, rate_per_parcel=rate,
                    created_at=created, updated_at=created))
            conn.execute(VOLUMES.insert(), [
                {"outlet_id": 1, "month": date(2026, 8, 1), "inbound_parcels": 3, "outbound_parcels": 0},
                {"outlet_id": 1, "month": date(2026, 10, 1), "inbound_parcels": 12_345, "outbound_parcels": 678},
                {"outlet_id": 2, "month": date(2025, 12, 1), "inbound_parcels": 1_001, "outbound_parcels": 1},
            ])  # outlet 3 has no volume: its entry starts the month it was created

        from kdcs.outlets.service import monthly_fee

        before = {(1, "2026-08"): monthly_fee(3, Decimal("0.0333")), (1, "2026-10"): monthly_fee(13_023, Decimal("0.0333")),
                  (2, "2025-12"): monthly_fee(1_002, Decimal("0.0250"))}

        upgrade(revision="0013_outlet_rates")
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT outlet_id, month, rate, note FROM outlet_rates ORDER BY outlet_id")).all()
        assert [(r[0], str(r[1])[:10], Decimal(str(r[2])).quantize(Decimal("0.0001"))) for r in rows] == [
            (1, "2026-08-01", Decimal("0.0333")), (2, "2025-12-01", Decimal("0.0250")), (3, "2026-11-01", Decimal("0.0410"))]
        assert all(r[3] for r in rows)

        downgrade(revision="0012_training")
        with db.engine.connect() as conn:
            assert "outlet_rates" not in sa.inspect(conn).get_table_names()

        upgrade()
        from kdcs.models import Outlet
        from kdcs.outlets import rates
        from kdcs.outlets.service import volume_lines

        after = {}
        for outlet_id in (1, 2):
            for line in volume_lines(db.session.get(Outlet, outlet_id)):
                after[(outlet_id, f"{line.month:%Y-%m}")] = line.fee
        assert after == before == {(1, "2026-08"): Decimal("0.10"), (1, "2026-10"): Decimal("433.67"),
                                   (2, "2025-12"): Decimal("25.05")}
        assert rates.rate_in_force(db.session.get(Outlet, 3), date(2027, 6, 1)) == Decimal("0.0410")
        db.session.remove()
        db.engine.dispose()
