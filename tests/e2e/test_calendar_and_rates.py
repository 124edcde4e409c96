"""Issue 9 in Chromium: an admin enters a year from the State Council's notice (paste → preview → confirm),
and changes an outlet's rate from a month on, then corrects a past month with a note."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.holiday_notices import NOTICE_2026

pytestmark = pytest.mark.e2e


def _year_rows(e2e_app, year):
    from kdcs.extensions import db
    from kdcs.models.ticket import WorkCalendarDay

    with e2e_app.app_context():
        rows = db.session.execute(select(WorkCalendarDay.source, func.count()).where(
            WorkCalendarDay.day >= date(year, 1, 1), WorkCalendarDay.day <= date(year, 12, 31))
            .group_by(WorkCalendarDay.source)).all()
        return dict(rows)


def test_paste_preview_confirm_the_notice(login_as, e2e_app):
    page = login_as("admin")
    page.goto("/tickets/calendar?year=2026&month=10")
    page.get_by_role("link", name="粘贴 2026 年的通知").click()
    expect(page.locator("#notice-year")).to_have_value("2026")
    page.evaluate("window.__kdcsNoReload = 'still-here'")
    # A notice whose 端午节 line the parser cannot read: the admin adds it as a date range.
    text = NOTICE_2026.replace("五、端午节：6月19日（周五）至21日（周日）放假，共3天。", "五、端午节：另行通知。")
    page.locator("#notice-text").fill(text)
    page.get_by_role("button", name="预览").click()
    warnings = page.get_by_test_id("notice-warnings")
    expect(warnings).to_contain_text("端午节：没有读到日期")
    page.locator("#range-0-start").fill("2026-06-19")
    page.locator("#range-0-end").fill("2026-06-21")
    page.locator("#range-0-name").fill("端午节")
    page.get_by_role("button", name="预览").click()
    days = page.get_by_test_id("notice-days")
    expect(days).to_contain_text("06-19（周五） – 06-21（周日）")
    expect(days).to_contain_text("10-01（周四） – 10-07（周三）")
    expect(page.locator("#notice-preview")).to_contain_text("2026 年：33 天放假，6 天调休上班")
    assert page.evaluate("window.__kdcsNoReload") == "still-here", "the preview reloaded the page"
    assert "notice" not in _year_rows(e2e_app, 2026)  # a preview saves nothing

    # The year has the package's days: saving without ticking the replacement is refused.
    page.get_by_role("button", name="保存 2026 年").click()
    expect(page.locator("#notice-preview")).to_contain_text("请勾选确认替换")
    page.get_by_label("替换该年现有的日期").check()
    page.get_by_role("button", name="保存 2026 年").click()
    page.wait_for_url("**/tickets/calendar?year=2026&month=1")
    expect(page.locator(".toast, .alert").first).to_contain_text("2026 年已保存：33 天放假，6 天调休上班。")
    assert _year_rows(e2e_app, 2026) == {"notice": 39}
    assert page.js_errors == []


def _outlet(e2e_app):
    from kdcs.extensions import db
    from kdcs.models import Outlet, OutletVolume

    with e2e_app.app_context():
        outlet = db.session.scalars(select(Outlet).where(Outlet.is_active.is_(True)).order_by(Outlet.code.desc())).first()
        months = list(db.session.scalars(select(OutletVolume.month).where(OutletVolume.outlet_id == outlet.id)
                                         .order_by(OutletVolume.month)))
        return outlet.id, months


def _fee_cells(page) -> dict[str, tuple[str, str]]:
    rows = page.locator("#volumes-title").locator("xpath=ancestor::section").locator("tbody tr")
    found = {}
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td").all_inner_texts()
        found[cells[0]] = (cells[4], cells[5])
    return found


def test_rate_change_from_a_month_and_a_correction(login_as, e2e_app):
    from kdcs.outlets.rates import this_month

    outlet_id, months = _outlet(e2e_app)
    assert len(months) >= 3
    page = login_as("admin")
    page.goto(f"/outlets/{outlet_id}")
    before = _fee_cells(page)
    month = this_month()
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)

    page.locator("#rate-month").fill(f"{following:%Y-%m}")
    page.locator("#rate-value").fill("0.0300")
    page.get_by_role("button", name="保存费率").click()
    history = page.get_by_test_id("rate-history")
    expect(history).to_contain_text(f"{following:%Y-%m}")
    expect(history).to_contain_text("¥0.0300")
    expect(history).to_contain_text("已安排")
    assert _fee_cells(page) == before  # months already billed keep their rate and fee

    # Correcting a past month: refused without the box and a note, then done with them.
    corrected = months[-1]
    page.locator("#rate-month").fill(f"{corrected:%Y-%m}")
    page.locator("#rate-value").fill("0.0200")
    page.get_by_role("button", name="保存费率").click()
    expect(page.locator("#rates")).to_contain_text("请勾选“更正已结算月份”")
    expect(page.locator("#rates")).to_contain_text("请在备注中说明原因")
    page.get_by_label("更正已结算月份").check()
    page.locator("#rate-note").fill("合同补充协议：该月起降价")
    page.get_by_role("button", name="保存费率").click()
    expect(page.get_by_test_id("rate-history")).to_contain_text("合同补充协议")
    after = _fee_cells(page)
    key = f"{corrected:%Y-%m}"
    assert after[key][0] == "¥0.0200" and after[key] != before[key]
    assert {k: v for k, v in after.items() if k != key} == {k: v for k, v in before.items() if k != key}

    page.goto(f"/admin/audit?entity=outlet&entity_id={outlet_id}")
    expect(page.locator("main")).to_contain_text("网点以前月份费率更正")
    assert page.js_errors == []
