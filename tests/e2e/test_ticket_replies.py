"""Browser journey (issue 8 §1–2): on a 破损 ticket the agent inserts a filled canned reply into the
reply box (an unfillable blank stays marked and the agent is told), copies it (confirmation; a manual
fallback where the clipboard is refused), and records three replies over two days (back-dated);
the earliest reply met the reply deadline; the reply box stays after each reply."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

TEMPLATE = "{客户称呼}您好，运单{运单号}已转{网点}核实，取件码{取件码}。"


def _ticket(e2e_app, agent: str = "agent1") -> dict:
    """A 问题件 · 破损 ticket of ``agent``'s outlet registered two days ago, and a canned reply for 破损."""
    from kdcs.extensions import db
    from kdcs.filters import SHANGHAI
    from kdcs.models import CannedReply, Direction, Outlet, Ticket, TicketReason, User, utcnow
    from kdcs.tickets import service

    with e2e_app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        owner = db.session.scalar(select(User).where(User.username == agent))
        outlet = db.session.scalars(select(Outlet).where(Outlet.primary_agent_id == owner.id,
                                                         Outlet.is_active.is_(True)).order_by(Outlet.id)).first()
        reason = db.session.scalar(select(TicketReason).where(TicketReason.category == "problem",
                                                              TicketReason.name == "破损"))
        if not db.session.scalar(select(CannedReply).where(CannedReply.title == "破损转网点")):
            db.session.add(CannedReply(category="problem", reason_id=reason.id, title="破损转网点", body=TEMPLATE))
            db.session.commit()
        registered = (utcnow() - timedelta(days=2)).replace(second=0, microsecond=0)
        waybill = f"E2ERPL{secrets.token_hex(4).upper()}"
        created = service.create_ticket(
            admin, outlet_id=outlet.id, direction=Direction.INBOUND, category="problem", reason_id=reason.id,
            waybill_no=waybill, registered_at=registered, customer_name="程女士", customer_phone="13800138000",
            description="外包装破损")
        ticket = db.session.get(Ticket, created.id)
        assert ticket.reply_due_at is not None and ticket.reply_due_at > registered + timedelta(minutes=10)
        local = lambda at: at.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")  # noqa: E731
        return {"id": ticket.id, "waybill": waybill, "outlet": outlet.name,
                "first": local(registered + timedelta(minutes=10)),
                "second": local(registered + timedelta(days=1, hours=3))}


def _record(page, text: str, channel: str, sent_at: str | None = None, status: str | None = None) -> None:
    box = page.locator("#reply-body")
    box.fill(text)
    page.select_option("#reply-channel", channel)
    if sent_at:
        page.fill("#reply-sent_at", sent_at)
    if status:
        page.select_option("#reply-set_status", status)
    page.locator("#act-reply button[type=submit]").click()


def test_canned_reply_filled_copied_and_three_replies_over_two_days(login_as, e2e_app, base_url, zh):
    t = _ticket(e2e_app)
    page = login_as("agent1")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page.goto(f"/tickets/{t['id']}")
    page.wait_for_load_state("networkidle")

    # The ticket's own reason comes first; inserting fills its blanks into the REPLY box, not the note.
    box = page.locator("#reply-body")
    group = page.locator(".canned-group").first
    expect(group).to_contain_text("破损")
    group.get_by_role("button", name="破损转网点").click()
    expected = f"程女士您好，运单{t['waybill']}已转{t['outlet']}核实，取件码【待填写：取件码】。"
    expect(box).to_have_value(expected)
    expect(page.locator("#note-body")).to_have_value("")
    expect(page.locator("#reply-missing")).to_contain_text("取件码")
    expect(page.locator("#toasts")).to_contain_text(zh("Inserted: fill in the parts marked 【待填写】 before saving."))
    # The marked blank is selected: typing replaces it.
    page.keyboard.type("8826")
    filled = expected.replace("【待填写：取件码】", "8826")
    expect(box).to_have_value(filled)
    expect(page.locator("#reply-missing")).to_have_text("")

    # Copy: the clipboard holds the text, and the agent sees it was copied.
    page.get_by_role("button", name=zh("Copy the reply")).click()
    expect(page.locator("#act-reply .copy-status")).to_have_text(zh("Copied: paste it into the brand system."))
    assert page.evaluate("navigator.clipboard.readText()") == filled

    # Reply 1, back-dated to 10 minutes after registration (two days ago): the first reply, in time.
    _record(page, filled, "brand_system", sent_at=t["first"])
    items = page.locator("#reply-list li.reply-item")
    expect(items).to_have_count(1)
    expect(page.locator("#toasts")).to_contain_text(zh("Reply recorded."))
    expect(page.locator(".reply-met")).to_have_text(zh("First reply within the deadline"))
    # Reply 2, the next day, by phone; reply 3 now, setting 待反馈 in the same step.
    _record(page, "电话告知客户网点已上门取件。", "phone", sent_at=t["second"])
    expect(items).to_have_count(2)
    _record(page, "已在品牌系统补充处理结果，等待客户确认。", "brand_system", status="awaiting_feedback")
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_contain_text(zh("First reply"))
    expect(items.nth(0)).to_contain_text("8826")
    expect(items.nth(1)).to_contain_text(zh("Phone call"))
    expect(page.locator(".ticket-head .status")).to_have_text(zh("Awaiting feedback"))
    expect(page.locator(".reply-met")).to_have_text(zh("First reply within the deadline"))
    expect(page.locator("#ticket-timeline li.ev-reply")).to_have_count(3)
    # The box stays, empty and ready for the next reply.
    expect(box).to_have_value("")
    assert page.js_errors == []


def test_copy_falls_back_to_a_selection_when_the_clipboard_is_refused(login_as, e2e_app, zh):
    t = _ticket(e2e_app)
    page = login_as("agent1")
    page.add_init_script(
        "Object.defineProperty(navigator, 'clipboard', {value: {writeText: () => Promise.reject(new Error('no'))}});"
        "document.execCommand = () => false;")
    page.goto(f"/tickets/{t['id']}")
    box = page.locator("#reply-body")
    box.fill("您好，已为您登记。")
    page.get_by_role("button", name=zh("Copy the reply")).click()
    expect(page.locator("#act-reply .copy-status")).to_have_text(re.compile("Ctrl\\+C"))
    expect(box).to_be_focused()
    assert page.evaluate("(() => { const b = document.querySelector('#reply-body');"
                         " return b.value.slice(b.selectionStart, b.selectionEnd); })()") == "您好，已为您登记。"
