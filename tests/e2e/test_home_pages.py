"""Home pages in Chromium: each figure opens the queue filtered to exactly the tickets it counts."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e


def _count(link) -> int:
    """The figure of a link: its .value (a stat card, whose label may hold digits) or its text."""
    value = link.locator(".value")
    return int((value if value.count() else link).inner_text().strip())


def _rows(page) -> int:
    page.wait_for_load_state("networkidle")
    return page.locator("table.tickets tbody tr[id^='ticket-']").count()


def test_agent_home_figures_open_the_filtered_queue(login_as):
    page = login_as("agent1")
    for name, arg in (("overdue", "window=overdue"), ("hour", "window=hour"), ("category-arbitration", "category=arbitration")):
        page.goto(re.sub(r"(https?://[^/]+).*", r"\1/", page.url))
        link = page.locator(f"[data-figure='{name}']")
        count = _count(link)
        link.click()
        page.wait_for_url(re.compile(arg))
        if count <= 50:
            assert _rows(page) == count, name


def test_lead_home_agent_row_opens_that_agents_overdue_tickets(login_as):
    page = login_as("lead1")
    row = page.locator("tr[data-agent='agent1']")
    name = row.locator("td").first.inner_text().split()[0]
    link = row.locator("[data-figure='overdue']")
    count = _count(link)
    link.click()
    page.wait_for_url(re.compile(r"window=overdue.*assignee=\d+|assignee=\d+.*window=overdue"))
    if count <= 50:
        assert _rows(page) == count
    assignees = page.locator("table.tickets tbody tr[id^='ticket-'] td:nth-last-child(2)").all_inner_texts()
    assert all(name in text for text in assignees)
    # The export button follows the filter.
    href = page.locator("#queue-export").get_attribute("href")
    assert "window=overdue" in href and "assignee=" in href


def test_lead_reads_the_months_fines_from_the_navigation(login_as):
    """罚款 in the sidebar: the month's totals equal the home's figure, months can be walked and
    typed, the list opens the ticket, and the export downloads the month's rows."""
    page = login_as("lead1")
    home_count = _count(page.locator("[data-figure='fines']"))
    page.locator("aside nav a", has_text="罚款").click()
    page.wait_for_url(re.compile(r"/tickets/fines"))
    assert int(page.locator("[data-figure='count']").inner_text()) == home_count
    rows = page.locator("[data-testid='fine-rows'] tbody tr")
    assert rows.count() == home_count
    this_month, typed = page.locator("h1").inner_text(), page.locator("#fines-month").input_value()
    page.locator("a[rel='prev']").click()
    page.wait_for_url(re.compile(r"month=\d{4}-\d{2}"))
    assert page.locator("h1").inner_text() != this_month
    page.locator("#fines-month").fill(typed)  # back by typing the month
    page.locator("#fines-month").press("Enter")
    page.wait_for_url(re.compile(f"month={typed}"))
    assert page.locator("h1").inner_text() == this_month
    with page.expect_download() as download:
        page.locator("a[href*='fines/export.xlsx']").click()
    assert download.value.suggested_filename.startswith("罚款_") and download.value.suggested_filename.endswith(".xlsx")
    waybill = page.locator("[data-testid='fine-rows'] a.waybill").first
    number = waybill.inner_text()
    waybill.click()
    page.wait_for_url(re.compile(r"/tickets/\d+$"))
    assert number in page.locator("h1").inner_text()
    assert not page.js_errors


def test_lead_reads_the_teams_week_and_month(login_as):
    """团队表现 from the lead's home: one row per member with its on-time rate, week and month views."""
    page = login_as("lead1")
    page.locator("a", has_text="团队表现").first.click()
    page.wait_for_url(re.compile(r"/team/performance"))
    rows = page.locator("[data-testid='performance'] tbody tr")
    assert rows.count() == page.locator("[data-testid='performance'] tbody tr[data-agent]").count() >= 2
    rate = page.locator("tr[data-agent='agent1'] [data-figure='rate']").inner_text()
    assert re.fullmatch(r"\d{1,3}%|—", rate)
    week = page.locator("h1").inner_text()
    page.locator("a", has_text="按月").click()
    page.wait_for_url(re.compile(r"period=month"))
    assert page.locator("h1").inner_text() != week and "月" in page.locator("h1").inner_text()
    page.locator("a[rel='prev']").click()
    page.wait_for_url(re.compile(r"period=month.*start="))
    assert page.locator("[data-testid='performance']").is_visible()
    assert not page.js_errors
