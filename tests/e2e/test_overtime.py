"""加班 in a real browser: an agent records an evening for an outlet (a bad entry is explained first),
the lead rejects without a reason (told to give one), then approves; the agent sees it approved and
billed. Uses the demo company (agent5 of 一组 has no demo overtime)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


def test_agent_records_lead_decides(page):
    login(page, "agent5")
    page.locator("nav a", has_text="加班").click()
    page.wait_for_url(re.compile(r"/overtime/"))
    page.select_option("#overtime-outlet", index=1)
    outlet = page.locator("#overtime-outlet option:checked").inner_text()
    page.fill("#overtime-hours", "13")
    page.fill("#overtime-note", "双十一高峰，网点要求晚间值守")
    page.locator("button", has_text="提交审批").click()
    page.wait_for_load_state("load")
    assert "0.5 到 12 小时" in page.locator(".field-error").first.inner_text()
    assert page.locator("#overtime-note").input_value() == "双十一高峰，网点要求晚间值守"  # kept
    page.fill("#overtime-hours", "2.5")
    page.locator("button", has_text="提交审批").click()
    page.wait_for_url(re.compile(r"/overtime/\?month=\d{4}-\d{2}"))
    row = page.locator("tr[data-status='submitted']", has_text=outlet.split(" ")[0])
    assert "待审批" in row.inner_text() and "2.5" in row.inner_text()
    month_url = page.url

    page.context.clear_cookies()
    login(page, "lead1")
    page.goto(month_url)
    row = page.locator("tr[data-status='submitted']", has_text="周杰")
    row.locator("button", has_text="驳回").click()
    page.wait_for_load_state("load")
    assert "请填写驳回原因" in page.locator("tr[data-status='submitted']", has_text="周杰").inner_text()
    page.locator("tr[data-status='submitted']", has_text="周杰").locator("button", has_text="批准").click()
    page.wait_for_url(re.compile(r"/overtime/\?month="))
    assert "已批准" in page.locator(".flash, .alert, [role=status]").first.inner_text() or \
        page.locator("tr[data-status='approved']", has_text="周杰").count() >= 1
    assert page.locator("tr[data-status='approved']", has_text="周杰").count() >= 1

    page.context.clear_cookies()
    login(page, "agent5")
    page.goto(month_url)
    approved = page.locator("tr[data-status='approved']", has_text=outlet.split(" ")[0]).first
    assert "已批准" in approved.inner_text() and "王丽" in approved.inner_text()
    assert not page.js_errors


def test_lead_prints_an_outlets_statement(page):
    """From an outlet's 月度指标 the lead opens last month's 对账单: the fee, the approved overtime and
    the totals on one A4 sheet."""
    login(page, "lead1")
    page.goto("/outlets/report")
    page.locator("[data-testid='outlet-report'] tbody tr[data-outlet] a").first.click()
    page.wait_for_url(re.compile(r"/outlets/\d+$"))
    page.locator("[data-testid='statement-link']").nth(1).click()  # last month's row
    page.wait_for_url(re.compile(r"/outlets/\d+/statement\?month=\d{4}-\d{2}"))
    assert page.locator("h1").inner_text().replace(" ", "") == "网点对账单"
    billed = page.locator("[data-figure='billed']").inner_text()
    assert billed.startswith("¥") and billed != "¥0.00"  # last month's parcels are recorded in the demo
    page.emulate_media(media="print")
    assert not page.locator("nav.screen-only").is_visible()
    assert not page.js_errors
