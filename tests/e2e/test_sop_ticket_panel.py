"""Browser journey (issue 10): on a 破损 ticket the SOP panel shows the filled script; inserting it
records the version on the timeline; copying works with and without the clipboard; an agent's
report from the panel reaches the trainers' inbox and its resolution reaches the agent."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import expect
from sqlalchemy import select


def _damage_ticket(e2e_app, agent: str, customer: str = "王女士") -> tuple[int, str, str]:
    """A new 问题件 · 破损 ticket of ``agent``'s outlet: (id, waybill, outlet name)."""
    from kdcs.extensions import db
    from kdcs.models import Direction, Outlet, TicketReason, User, utcnow
    from kdcs.tickets import service

    with e2e_app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        owner = db.session.scalar(select(User).where(User.username == agent))
        outlet = db.session.scalars(select(Outlet).where(Outlet.primary_agent_id == owner.id,
                                                         Outlet.is_active.is_(True)).order_by(Outlet.id)).first()
        reason = db.session.scalar(select(TicketReason).where(TicketReason.category == "problem",
                                                              TicketReason.name == "破损"))
        waybill = f"E2ESOP{secrets.token_hex(4).upper()}"
        ticket = service.create_ticket(
            admin, outlet_id=outlet.id, direction=Direction.INBOUND, category="problem", reason_id=reason.id,
            waybill_no=waybill, registered_at=utcnow(), customer_name=customer, customer_phone="13800138000",
            description="外包装压坏，内件玻璃杯碎了",
        )
        return ticket.id, waybill, outlet.name


def test_panel_shows_the_filled_script_and_inserting_records_the_version(login_as, e2e_app, base_url, zh):
    ticket_id, waybill, outlet_name = _damage_ticket(e2e_app, "agent1")
    page = login_as("agent1")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page.goto(f"/tickets/{ticket_id}")
    page.wait_for_load_state("networkidle")

    panel = page.locator("#sop-panel")
    expect(panel).to_be_visible()
    first = panel.locator("[data-sop-item]").first
    expect(first.locator(".sop-item-title")).to_have_text("破损理赔")
    expect(first.locator("summary .badge").first).to_have_text("第 3 版")
    script = first.locator(".sop-script")
    expect(script).to_contain_text("王女士您好，我是中通客服张敏")
    expect(script).to_contain_text(waybill)
    expect(script).to_contain_text(outlet_name)
    assert "{" not in script.inner_text()

    timeline = page.locator("#ticket-timeline")
    used = "查看并使用了话术《破损理赔》第 3 版"
    expect(timeline).not_to_contain_text(used)
    note = page.locator("#reply-body")  # scripts go into the reply box while the ticket is open
    note.fill("已致电客户。")
    first.get_by_role("button", name=zh("Insert into the reply")).click()
    expect(note).to_have_value(re.compile(r"^已致电客户。\n王女士您好，我是中通客服张敏"))
    expect(note).to_be_focused()
    expect(page.locator("#toasts")).to_contain_text(zh("Script inserted into the reply box."))
    # The timeline line arrives by htmx (out of band), without a reload and without losing the note.
    expect(timeline.locator("li.ev-sop")).to_have_count(1)
    expect(timeline.locator("li.ev-sop").first).to_contain_text(used)
    expect(timeline.locator("li.ev-sop").first).to_contain_text("张敏")
    expect(note).to_have_value(re.compile("王女士您好"))

    # Copying the same version right after adds no second line; the clipboard holds the filled text.
    first.get_by_role("button", name=zh("Copy"), exact=True).click()
    expect(page.locator("#toasts")).to_contain_text(zh("Script copied."))
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("王女士您好，我是中通客服张敏") and waybill in copied
    page.reload()
    expect(page.locator("#ticket-timeline li.ev-sop")).to_have_count(1)
    expect(page.locator("#ticket-timeline")).to_contain_text(used)
    assert not page.js_errors, page.js_errors


def test_a_blank_the_ticket_cannot_fill_is_marked_and_selected(login_as, e2e_app):
    ticket_id, _waybill, _outlet = _damage_ticket(e2e_app, "agent2", customer="")
    page = login_as("agent2")
    page.goto(f"/tickets/{ticket_id}")
    page.wait_for_load_state("networkidle")
    # 网点沟通 applies to every 问题件 and asks for {问题说明}, which no ticket field gives.
    item = page.locator("[data-sop-item]", has=page.locator(".sop-item-title", has_text="网点沟通"))
    item.locator(":scope > summary").click()
    expect(item.locator(".sop-missing")).to_contain_text("问题说明")
    expect(item.locator("mark.blank-missing")).to_have_text("【待填写：问题说明】")
    item.get_by_role("button", name="插入到回复").click()
    assert page.evaluate("""() => { const box = document.querySelector('#reply-body');
                                     return box.value.slice(box.selectionStart, box.selectionEnd); }""") \
        == "【待填写：问题说明】"
    # Without a customer name the greeting is the polite 您 (破损理赔 starts with {客户称呼}).
    expect(page.locator("[data-sop-item]").first.locator(".sop-script")).to_contain_text("您好，我是")


def test_copy_falls_back_to_a_selected_box_when_the_clipboard_is_refused(login_as, e2e_app, zh):
    ticket_id, _waybill, _outlet = _damage_ticket(e2e_app, "agent3")
    page = login_as("agent3")
    page.goto(f"/tickets/{ticket_id}")
    page.wait_for_load_state("networkidle")
    page.evaluate("""() => {
        Object.defineProperty(navigator, 'clipboard', {value: {writeText: () => Promise.reject(new Error('no'))}});
        document.execCommand = () => false; }""")
    first = page.locator("[data-sop-item]").first
    first.get_by_role("button", name=zh("Copy"), exact=True).click()
    box = first.locator("textarea.sop-text")
    expect(box).to_be_visible()
    expect(box).to_be_focused()
    expect(first.locator(".sop-copy-hint")).to_contain_text("Ctrl+C")
    selected = page.evaluate("() => { const b = document.activeElement; return b.value.slice(b.selectionStart, b.selectionEnd); }")
    assert selected.startswith("王女士您好")
    # The script was in front of the agent: the timeline says so.
    expect(page.locator("#ticket-timeline li.ev-sop")).to_have_count(1)


def test_a_report_from_the_panel_is_resolved_by_a_trainer_and_the_agent_is_told(browser, base_url, e2e_app, zh):
    from tests.e2e.conftest import VIEWPORT, login

    ticket_id, waybill, _outlet = _damage_ticket(e2e_app, "agent5", customer="赵先生")
    agent = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=base_url).new_page()
    trainer = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=base_url).new_page()
    try:
        login(trainer, "trainer2")
        badge = trainer.locator("#sop-reports-badge")
        before = int(re.match(r"\d+", badge.inner_text().strip()).group()) if badge.is_visible() else 0

        login(agent, "agent5")
        agent.goto(f"/tickets/{ticket_id}")
        first = agent.locator("[data-sop-item]").first
        first.locator(".sop-report > summary").click()
        first.locator(".sop-report textarea").fill("客户的包裹是大件家具，无法拍六面照片，话术没有说明。")
        first.get_by_role("button", name=zh("Send to the trainers")).click()
        expect(first.locator(".sop-report-sent")).to_have_text(zh("Thank you: the trainers will look at your report."))

        trainer.goto("/sop/reports")
        expect(trainer.locator("#sop-reports-badge")).to_contain_text(f"{before + 1}条待处理")
        card = trainer.locator("article.sop-report-card", has_text=waybill)
        expect(card).to_contain_text("大件家具")
        card.locator("select").select_option(label="《破损理赔》第 3 版")
        card.locator("textarea").fill("大件拍外包装四面即可，下一版会写进话术。")
        card.get_by_role("button", name=zh("Resolve and notify the reporter")).click()
        expect(trainer.locator("article.sop-report-card", has_text=waybill)).to_contain_text(zh("Report handled"))
        expect(trainer.locator("#toasts")).to_contain_text(zh("Report resolved; the reporter has been notified."))
        if before == 0:
            expect(trainer.locator("#sop-reports-badge")).to_be_hidden()
        else:
            expect(trainer.locator("#sop-reports-badge")).to_contain_text(f"{before}条待处理")

        agent.goto("/notifications/")
        expect(agent.locator("main")).to_contain_text("您的话术反馈已处理：《破损理赔》第 3 版")
        expect(agent.locator("main")).to_contain_text("大件拍外包装四面即可")
    finally:
        agent.context.close()
        trainer.context.close()


def test_replying_with_the_panel_open_records_the_version(login_as, e2e_app, zh):
    ticket_id, _waybill, _outlet = _damage_ticket(e2e_app, "agent4")
    page = login_as("agent4")
    page.goto(f"/tickets/{ticket_id}")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#ticket-timeline li.ev-sop")).to_have_count(0)
    # the answer to a write keeps the page's panel and evidence box (hx-preserve): the same elements
    page.evaluate("""() => { for (const id of ['sop-panel', 'evidence'])
                               document.getElementById(id).setAttribute('data-e2e-page', 'kept'); }""")
    page.locator("#reply-body").fill("您好，已为您登记破损，网点核实后联系您。")
    page.locator("#act-reply").get_by_role("button", name=zh("Record reply")).click()
    expect(page.locator("#toasts")).to_contain_text(zh("Reply recorded."))
    expect(page.locator("#reply-list")).to_contain_text("已为您登记破损")  # the body around them is new
    for section in ("#sop-panel", "#evidence"):
        expect(page.locator(section)).to_have_attribute("data-e2e-page", "kept")
    expect(page.locator("#sop-panel details[data-sop-item]").first).to_be_visible()
    expect(page.locator("#evidence h2")).to_be_visible()
    # Only the open scenario (破损理赔, the first) counts as "in front of the agent".
    expect(page.locator("#ticket-timeline li.ev-sop")).to_have_count(1)
    expect(page.locator("#ticket-timeline")).to_contain_text("查看并使用了话术《破损理赔》第 3 版")
    page.reload()
    expect(page.locator("#ticket-timeline li.ev-sop")).to_have_count(1)
