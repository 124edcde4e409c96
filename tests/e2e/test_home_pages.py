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
