"""Outlet rates with a history (kdcs/outlets/rates.py): fees per month at the rate in force, corrections, page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from kdcs.dashboard import service as dashboard
from kdcs.extensions import db
from kdcs.models import AuditLog, OutletRate
from kdcs.outlets import rates
from kdcs.outlets import service as outlets
from kdcs.service_errors import StaleEdit, ValidationError
from tests import factories

NOW = date(2026, 12, 1)


@pytest.fixture
def outlet(users):
    outlet = factories.make_outlet(agent=users["agent"], rate="0.0250")
    for month, parcels in ((date(2026, 9, 1), 10_001), (date(2026, 10, 1), 20_003), (date(2026, 11, 1), 30_005)):
        factories.make_volume(outlet, month, parcels, 0)
    return outlet


def _fees(outlet) -> dict[str, tuple[Decimal, Decimal]]:
    return {f"{line.month:%Y-%m}": (line.rate, line.fee) for line in outlets.volume_lines(outlet)}


def test_without_history_every_month_bills_at_the_single_rate(outlet):
    assert _fees(outlet) == {"2026-11": (Decimal("0.0250"), Decimal("750.13")),
                             "2026-10": (Decimal("0.0250"), Decimal("500.08")),
                             "2026-09": (Decimal("0.0250"), Decimal("250.03"))}


def test_a_change_from_a_month_leaves_earlier_months(users, outlet):
    admin = users["admin"]
    rates.put_rate(admin, outlet, date(2026, 9, 1), Decimal("0.0250"), "首个费率")
    db.session.commit()
    rates.set_rate(admin, outlet, month=date(2027, 1, 1), rate="0.0300", version=outlet.version, today_month=NOW)
    assert _fees(outlet)["2026-11"] == (Decimal("0.0250"), Decimal("750.13"))
    assert outlet.rate_per_parcel == Decimal("0.0300")  # the newest entry, mirrored
    assert rates.rate_in_force(outlet, date(2027, 3, 15)) == Decimal("0.0300")
    assert rates.rate_in_force(outlet, date(2026, 12, 31)) == Decimal("0.0250")
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "outlet.rate_change"))
    assert audit.after["month"] == "2027-01" and audit.after["months"] == []


def test_a_past_month_is_an_explicit_correction_with_a_note(users, outlet):
    admin = users["admin"]
    rates.put_rate(admin, outlet, date(2026, 9, 1), Decimal("0.0250"))
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        rates.set_rate(admin, outlet, month=date(2026, 10, 1), rate="0.0200", version=outlet.version, today_month=NOW)
    assert set(refused.value.errors) == {"correction", "note"}
    with pytest.raises(ValidationError) as refused:
        rates.set_rate(admin, outlet, month=date(2026, 10, 1), rate="0.0200", correction=True,
                       version=outlet.version, today_month=NOW)
    assert set(refused.value.errors) == {"note"}
    assert _fees(outlet)["2026-10"][0] == Decimal("0.0250")  # nothing changed
    rates.set_rate(admin, outlet, month=date(2026, 10, 1), rate="0.0200", correction=True,
                   note="合同约定10月起降价，补录", version=outlet.version, today_month=NOW)
    fees = _fees(outlet)
    assert fees["2026-09"] == (Decimal("0.0250"), Decimal("250.03"))
    assert fees["2026-10"] == (Decimal("0.0200"), Decimal("400.06"))
    assert fees["2026-11"] == (Decimal("0.0200"), Decimal("600.10"))
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "outlet.rate_correct"))
    assert audit.after["months"] == ["2026-10", "2026-11"] and audit.after["note"].startswith("合同")
    assert audit.before["rate"] == "0.0250"


def test_stale_form_and_bad_input(users, outlet):
    admin = users["admin"]
    with pytest.raises(StaleEdit):
        rates.set_rate(admin, outlet, month=date(2027, 1, 1), rate="0.03", version=outlet.version + 1)
    for bad in ("abc", "-1", "1e9", "0.00001", ""):
        with pytest.raises(ValidationError):
            rates.set_rate(admin, outlet, month=date(2027, 1, 1), rate=bad, version=outlet.version)
    with pytest.raises(ValidationError):  # the same rate as already in force
        rates.set_rate(admin, outlet, month=date(2027, 1, 1), rate="0.0250", version=outlet.version)
    assert db.session.scalar(select(OutletRate.id)) is None


def test_fee_is_rounded_once_in_decimal(users):
    outlet = factories.make_outlet(rate="0.0333")
    factories.make_volume(outlet, date(2026, 11, 1), 3, 0)  # 0.0999 → 0.10, never 3 × 0.03
    assert _fees(outlet)["2026-11"] == (Decimal("0.0333"), Decimal("0.10"))


def test_every_fee_view_uses_the_rate_in_force(users, outlet):
    admin = users["admin"]
    rates.put_rate(admin, outlet, date(2026, 9, 1), Decimal("0.0250"))
    rates.put_rate(admin, outlet, date(2027, 1, 1), Decimal("0.0400"))  # planned: not for November
    db.session.commit()
    summary = dashboard.outlet_summary(users["agent"])
    line = next(line for line in summary.lines if line.outlet.id == outlet.id)
    assert summary.month == date(2026, 11, 1) and line.rate == Decimal("0.0250") and line.fee == Decimal("750.13")
    members = {m.user.id: m for m in dashboard.team_members(users["agent"].team_id)}
    assert members[users["agent"].id].fee == Decimal("750.13")
    assert outlets.fees_for_month([outlet], date(2027, 2, 1))[outlet.id][1] == Decimal("0.0400")


def test_inline_edit_changes_the_rate_from_this_month(users, outlet):
    admin = users["admin"]
    rates.put_rate(admin, outlet, date(2026, 9, 1), Decimal("0.0250"))
    db.session.commit()
    outlets.update_outlet(admin, outlet, version=outlet.version, rate_per_parcel="0.0280")
    month = rates.this_month()
    assert rates.rate_in_force(outlet, month) == Decimal("0.0280")
    assert rates.rate_in_force(outlet, date(2026, 9, 1)) == Decimal("0.0250")
    rates.put_rate(admin, outlet, date(month.year + 1, 1, 1), Decimal("0.0300"))
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        outlets.update_outlet(admin, outlet, version=outlet.version, rate_per_parcel="0.0290")
    assert "rate_per_parcel" in refused.value.errors


def test_created_outlet_gets_its_first_entry(users):
    brand = factories.make_brand()
    outlet = outlets.create_outlet(users["admin"], code="NEW01", name="新网点", brand_id=brand.id, rate_per_parcel="0.031")
    assert [(e.rate, e.month) for e in rates.rate_entries(outlet.id)] == [(Decimal("0.0310"), rates.this_month())]


@pytest.mark.parametrize("text, month", [("2027-01", date(2027, 1, 1)), ("2027-1-15", date(2027, 1, 1)),
                                         ("2027年3月", date(2027, 3, 1)), ("2027/12", date(2027, 12, 1)),
                                         ("2027-13", None), ("abc", None), ("", None), ("9" * 30, None)])
def test_parse_month(text, month):
    assert rates.parse_month(text) == month


# --------------------------------------------------------------------------- the page


def test_outlet_page_shows_history_and_admin_changes_it(client, auth, users, outlet):
    auth.login(users["admin"])
    month = rates.this_month()
    html = client.get(f"/outlets/{outlet.id}").get_data(as_text=True)
    assert 'data-testid="rate-history"' in html and 'name="month"' in html
    next_month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    saved = client.post(f"/outlets/{outlet.id}/rates", data={"month": f"{next_month:%Y-%m}", "rate": "0.0300",
                                                             "note": "", "version": str(outlet.version)})
    assert saved.status_code == 303
    html = client.get(f"/outlets/{outlet.id}").get_data(as_text=True)
    assert "¥0.0300" in html and "¥750.13" in html  # November still at 0.025
    stale = client.post(f"/outlets/{outlet.id}/rates", data={"month": "2027-05", "rate": "0.0310", "version": "1"})
    assert stale.status_code == 409
    past = client.post(f"/outlets/{outlet.id}/rates", data={"month": "2026-09", "rate": "0.0200",
                                                            "version": str(db.session.get(type(outlet), outlet.id).version)})
    assert past.status_code == 200 and "更正" in past.get_data(as_text=True)


@pytest.mark.parametrize("data", [{}, {"month": "abc", "rate": "abc", "version": "x"}, {"month": "2027-13", "rate": "1e9"},
                                  {"month": "9" * 30, "rate": "９", "version": "9" * 30, "note": "x" * 10_000}])
def test_rate_form_malformed_input(client, auth, users, outlet, data):
    auth.login(users["admin"])
    response = client.post(f"/outlets/{outlet.id}/rates", data=data)
    assert response.status_code in (200, 409)
    assert "lang=\"zh-CN\"" in response.get_data(as_text=True)


def test_others_may_not_change_rates(client, auth, users, outlet):
    auth.login(users["agent"])
    html = client.get(f"/outlets/{outlet.id}").get_data(as_text=True)
    assert 'data-testid="rate-history"' in html and 'name="rate"' not in html
    assert client.post(f"/outlets/{outlet.id}/rates", data={"month": "2027-01", "rate": "0.03"}).status_code == 403
