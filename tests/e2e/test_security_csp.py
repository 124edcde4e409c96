"""The Content-Security-Policy in a real browser (issue 7, "Security that every page inherits").

* The queue and the ticket detail page run under the CSP without a single
  violation (no inline script, no eval, no injected <style>), and what the
  detail page's scripts do still works: canned replies insert into the reply box and copy.
* The back button after a filtered queue (URL pushed by htmx) and a ticket opened
  from it shows the whole queue page, navigation and header included, never a
  bare table fragment (htmx-config historyRestoreAsHxRequest: false, and the
  server's one full-page-vs-fragment rule).
"""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.e2e


def _watch_csp(page) -> list[str]:
    """Collect CSP violations: securitypolicyviolation events (every page) and console errors."""
    violations: list[str] = []
    page.expose_function("__kdcsCspViolation", lambda text: violations.append(text))
    page.add_init_script("""
      document.addEventListener("securitypolicyviolation", function (e) {
        window.__kdcsCspViolation([e.violatedDirective, e.blockedURI, e.sourceFile + ":" + e.lineNumber,
                                   (e.sample || "").slice(0, 80)].join(" "));
      });
    """)
    page.on("console", lambda msg: violations.append(f"console: {msg.text}")
            if msg.type == "error" and "Content Security Policy" in msg.text else None)
    return violations


def _ticket_with_canned_replies(e2e_app, agent: str) -> tuple[int, str]:
    """A new ticket of agent ``agent``'s outlet, in a category that has canned replies."""
    from kdcs.extensions import db
    from kdcs.models import Direction, Outlet, User, utcnow
    from kdcs.tickets import reference, service

    with e2e_app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        owner = db.session.scalar(select(User).where(User.username == agent))
        outlet = db.session.scalars(select(Outlet).where(Outlet.primary_agent_id == owner.id,
                                                         Outlet.is_active.is_(True)).order_by(Outlet.id)).first()
        category = next(c for c in ("problem", "work_order", "message", "arbitration") if reference.canned_replies_for(c))
        reason = service.reasons_for(category)[0]
        waybill = f"E2ECSP{secrets.token_hex(4).upper()}"
        ticket = service.create_ticket(
            admin, outlet_id=outlet.id, direction=Direction.INBOUND, category=category, reason_id=reason.id,
            waybill_no=waybill, registered_at=utcnow(), customer_name="测试客户", customer_phone="13800138000",
            description="CSP 浏览器测试",
        )
        return ticket.id, waybill


def test_queue_and_detail_run_under_the_csp_and_canned_replies_work(login_as, e2e_app, base_url, zh):
    ticket_id, waybill = _ticket_with_canned_replies(e2e_app, "agent5")
    page = login_as("agent5")
    violations = _watch_csp(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)

    response = page.goto("/tickets/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")

    # What were inline handlers is event delegation in app.js: data-dismiss, data-confirm.
    page.evaluate("""() => document.querySelector("#main").insertAdjacentHTML("beforeend",
        '<div class="bulk-result" id="probe-result"><button type="button" data-dismiss=".bulk-result">×</button></div>' +
        '<form id="probe-form" method="get" action="/tickets/" data-confirm="确定？">' +
        '<input type="hidden" name="probe" value="1"><button type="submit">go</button></form>')""")
    page.locator("#probe-result button").click()
    expect(page.locator("#probe-result")).to_have_count(0)
    questions = []

    def refuse(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", refuse)
    page.locator("#probe-form button").click()
    page.wait_for_timeout(300)
    assert questions == ["确定？"] and "probe=1" not in page.url
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator("#probe-form button").click()
    assert "probe=1" in page.url

    # The queue, with a filter and a search (htmx swaps, pushed URLs, indicator).
    page.select_option("#f-status", "all")
    expect(page).to_have_url(re.compile(r"[?&]status=all(&|$)"))
    page.fill("#ticket-q", waybill)
    expect(page.locator("#ticket-table tbody tr")).to_have_count(1)
    # The loading indicator is hidden by app.css (htmx's own <style> is switched off).
    assert page.locator("#queue-busy").evaluate("e => getComputedStyle(e).visibility") == "hidden"
    assert page.locator("head style").count() == 0

    # The ticket page and its canned replies (static script, data-* attributes only).
    with page.expect_navigation():
        page.locator("#ticket-table tbody tr a.waybill").first.click()
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket_id}$"))
    page.wait_for_load_state("networkidle")
    canned = page.locator(".canned [data-insert]").first
    expect(canned).to_be_visible()
    text = canned.get_attribute("data-text")
    assert text
    box = page.locator(canned.get_attribute("data-insert"))  # the reply box (canned replies are replies)
    box.fill("您好，")
    canned.click()
    expect(box).to_have_value("您好，" + "\n" + text)
    expect(box).to_be_focused()

    copy = page.locator("[data-copy-from]").first  # copies the reply box, canned text included
    copy.click()
    expect(page.locator("#toasts")).to_contain_text(zh("Copied: paste it into the brand system."))
    assert page.evaluate("navigator.clipboard.readText()") == box.input_value()

    # The presence banner polls every 10 s and the note posts by htmx: still no violation.
    page.locator("#note-body").fill("已电话联系网点")
    page.get_by_role("button", name=zh("Add note"), exact=True).click()
    expect(page.locator("#toasts")).to_contain_text(zh("Note added."))
    assert not page.js_errors, f"JavaScript errors: {page.js_errors}"
    assert violations == [], violations

    # The watcher itself works: an injected inline script is refused and reported.
    page.evaluate("""() => { const s = document.createElement("script"); s.textContent = "window.__ran = 1";
                             document.head.appendChild(s); }""")
    for _ in range(20):
        if violations:
            break
        page.wait_for_timeout(100)
    assert page.evaluate("window.__ran") is None
    assert any("script-src" in v for v in violations), violations


def test_back_button_after_a_filtered_queue_shows_the_full_page(login_as, e2e_app, zh):
    page = login_as("agent6")
    page.goto("/tickets/")
    page.wait_for_load_state("networkidle")
    page.select_option("#f-status", "all")  # htmx swaps the table and pushes the URL
    expect(page).to_have_url(re.compile(r"[?&]status=all(&|$)"))
    page.select_option("#f-category", "problem")
    expect(page).to_have_url(re.compile(r"[?&]category=problem(&|$)"))
    filtered_url = page.url
    rows = page.locator("#ticket-table tbody tr")
    expect(rows.first).to_be_visible()
    count = rows.count()

    with page.expect_navigation():
        rows.first.locator("a.waybill").click()
    expect(page).to_have_url(re.compile(r"/tickets/\d+$"))
    page.wait_for_load_state("networkidle")

    page.go_back()
    expect(page).to_have_url(filtered_url)
    page.wait_for_load_state("networkidle")
    # The whole page: navigation, header, filters, one table — not a bare fragment.
    expect(page.locator("aside.sidebar nav")).to_be_visible()
    expect(page.locator("header.topbar")).to_be_visible()
    expect(page.locator("header.topbar h1")).to_have_text(zh("Tickets"))
    expect(page.locator("#queue-filter")).to_be_visible()
    assert page.locator("aside.sidebar").count() == 1 and page.locator("#ticket-table").count() == 1
    expect(page.locator("#f-category")).to_have_value("problem")
    expect(page.locator("#f-status")).to_have_value("all")
    expect(rows).to_have_count(count)
    assert page.evaluate("document.doctype !== null && document.querySelector('head title') !== null")

    # Within the queue, back to the first filter (htmx's own history restore from the server).
    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]status=all(&|$)"))
    expect(page.locator("aside.sidebar nav")).to_be_visible()
    expect(page.locator("#queue-filter")).to_be_visible()
    assert page.locator("aside.sidebar").count() == 1 and page.locator("#ticket-table").count() == 1
    expect(page.locator("#f-category")).to_have_value("")
    assert not page.js_errors, f"JavaScript errors: {page.js_errors}"
