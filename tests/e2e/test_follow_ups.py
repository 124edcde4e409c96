"""跟进 in a real browser: an agent promises the customer a call back on a ticket (an empty form is
explained, what was typed is kept; the quick button fills the time), finds it on 我的跟进 and the home
page, marks it done there with the outcome, and the ticket's timeline says so."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_ticket_replies import _ticket

pytestmark = pytest.mark.e2e


def test_agent_promises_a_call_back_and_keeps_it(login_as, e2e_app):
    t = _ticket(e2e_app, agent="agent5")
    page = login_as("agent5")
    page.goto(f"/tickets/{t['id']}")
    page.wait_for_load_state("networkidle")
    card = page.locator("#act-follow-up")
    expect(card).to_contain_text("暂无待跟进事项")
    page.fill("#follow_up-promise", "拿到快递员回复后回电客户")
    card.locator("button[type=submit]", has_text="记录跟进").click()
    expect(card.locator(".field-error")).to_contain_text("请填写约定的时间")
    expect(page.locator("#follow_up-promise")).to_have_value("拿到快递员回复后回电客户")  # kept
    card.locator("button", has_text="2 小时后").click()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", page.locator("#follow_up-due_at").input_value())
    card.locator("button[type=submit]", has_text="记录跟进").click()
    expect(card.locator(".follow-up")).to_have_count(1)
    expect(card.locator(".follow-up")).to_contain_text("拿到快递员回复后回电客户")
    expect(card.locator(".follow-up-when")).to_contain_text(re.compile(r"还有 (1 小时 5\d 分钟|2 小时)"))
    expect(page.locator("#ticket-timeline > li.ev").first).to_contain_text("拿到快递员回复后回电客户")
    expect(page.locator("#toasts")).to_contain_text("已记录跟进")

    page.locator("nav a", has_text="跟进").click()
    page.wait_for_url(re.compile(r"/tickets/follow-ups"))
    row = page.locator("tr", has_text=t["waybill"])
    expect(row).to_contain_text("拿到快递员回复后回电客户")
    row.locator("input[name=outcome]").fill("已回电，客户同意明天派送")
    row.locator("button", has_text="完成").click()
    expect(page.locator("#toasts")).to_contain_text("跟进已完成")
    expect(page.locator("tr", has_text=t["waybill"])).to_have_count(0)

    page.goto(f"/tickets/{t['id']}")
    expect(page.locator("#ticket-timeline > li.ev").first).to_contain_text("已回电，客户同意明天派送")
    expect(page.locator("#act-follow-up")).to_contain_text("暂无待跟进事项")
    assert not page.js_errors


def test_a_reply_that_promises_a_call_back_becomes_a_follow_up(login_as, e2e_app):
    """跟进 on the reply form: the agent records what they told the customer and picks 30 分钟后; the
    reply is listed, and the 跟进 card holds the same words with a reminder in half an hour."""
    t = _ticket(e2e_app, agent="agent5")
    page = login_as("agent5")
    page.goto(f"/tickets/{t['id']}")
    page.wait_for_load_state("networkidle")
    page.fill("#reply-body", "已联系网点核实，30 分钟内给您回电")
    page.select_option("#reply-follow_up", label="30 分钟后")
    page.locator("#act-reply button[type=submit]", has_text="记录回复").click()
    expect(page.locator("#toasts")).to_contain_text(re.compile(r"回复已记录；跟进时间 \d{2}-\d{2} \d{2}:\d{2}"))
    expect(page.locator("#reply-list")).to_contain_text("已联系网点核实，30 分钟内给您回电")
    card = page.locator("#act-follow-up")
    expect(card.locator(".follow-up")).to_have_count(1)
    expect(card.locator(".follow-up")).to_contain_text("已联系网点核实，30 分钟内给您回电")
    expect(card.locator(".follow-up-when")).to_contain_text(re.compile(r"还有 (2\d|3[0-5]) 分钟"))
    expect(page.locator("#reply-follow_up")).to_have_value("")  # a fresh form: no follow-up chosen
    assert not page.js_errors
