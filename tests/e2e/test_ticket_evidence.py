"""Browser piece (issue 8 §3): on a 仲裁 · 破损 ticket the agent pastes two screenshots (a paste event
carrying an image File, as Ctrl+V in the brand system's screenshot tool gives) and uploads a PDF;
thumbnails show, each file under its checklist item, and the checklist goes from "still missing" to
complete. The served file carries nosniff and a sandbox."""

from __future__ import annotations

import secrets
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

PASTE_SCREENSHOT = """async ([color, w, h]) => {
  const canvas = document.createElement("canvas");
  canvas.width = w; canvas.height = h;
  const g = canvas.getContext("2d");
  g.fillStyle = color; g.fillRect(0, 0, w, h);
  g.fillStyle = "#fff"; g.fillRect(10, 10, w / 2, 12);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const transfer = new DataTransfer();
  transfer.items.add(new File([blob], "image.png", {type: "image/png"}));
  const event = new ClipboardEvent("paste", {clipboardData: transfer, bubbles: true, cancelable: true});
  document.body.dispatchEvent(event);
  return event.defaultPrevented;
}"""


def _arbitration_ticket(e2e_app, agent: str = "agent1") -> dict:
    """A 仲裁 · 破损 ticket of ``agent``'s outlet (its reason has the seeded 3-item checklist)."""
    from kdcs.extensions import db
    from kdcs.models import Direction, Outlet, TicketReason, User, utcnow
    from kdcs.tickets import service

    with e2e_app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        owner = db.session.scalar(select(User).where(User.username == agent))
        outlet = db.session.scalars(select(Outlet).where(Outlet.primary_agent_id == owner.id,
                                                         Outlet.is_active.is_(True)).order_by(Outlet.id)).first()
        reason = db.session.scalar(select(TicketReason).where(TicketReason.category == "arbitration",
                                                              TicketReason.name == "破损"))
        waybill = f"E2EEVD{secrets.token_hex(4).upper()}"
        created = service.create_ticket(
            admin, outlet_id=outlet.id, direction=Direction.INBOUND, category="arbitration", reason_id=reason.id,
            waybill_no=waybill, registered_at=(utcnow() - timedelta(hours=1)).replace(microsecond=0),
            customer_name="程女士", description="收件人称外包装破损，申请仲裁")
        return {"id": created.id, "waybill": waybill}


def test_paste_two_screenshots_and_upload_a_pdf_tick_the_checklist(login_as, e2e_app, base_url, zh):
    t = _arbitration_ticket(e2e_app)
    page = login_as("agent1")
    page.goto(f"/tickets/{t['id']}")
    page.wait_for_load_state("networkidle")

    box = page.locator("#evidence")
    missing = box.locator(".alert-warning")
    expect(missing).to_contain_text("外包装照片、内件照片、称重照片")
    item = page.locator("#evidence_item_id")

    # Screenshot 1, pasted (Ctrl+V) as the outer packaging photo.
    item.select_option(label="外包装照片")
    assert page.evaluate(PASTE_SCREENSHOT, ["#c0392b", 320, 200]) is True
    files = page.locator("#evidence-list li.evidence-file")
    expect(files).to_have_count(1)
    expect(page.locator("#toasts")).to_contain_text(zh("%(n)s file(s) attached.") % {"n": 1})
    expect(files.first.locator("img")).to_be_visible()
    expect(files.first).to_contain_text("截图-")
    expect(box.locator("li.is-done")).to_have_text([f"✓ 外包装照片 {zh('provided')}"], use_inner_text=True)
    expect(missing).to_contain_text("内件照片、称重照片")

    # A PDF through the file input, as the inner-contents evidence.
    page.locator("#evidence_item_id").select_option(label="内件照片")
    page.locator("#evidence-upload input[type=file]").set_input_files(
        [{"name": "内件照片说明.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.locator("#evidence-upload button[type=submit]").click()
    expect(files).to_have_count(2)
    expect(files.nth(1)).to_contain_text("内件照片说明.pdf")
    expect(files.nth(1).locator(".evidence-icon")).to_have_text("PDF")

    # Screenshot 2, pasted as the weighing photo: the checklist is complete.
    page.locator("#evidence_item_id").select_option(label="称重照片")
    page.evaluate(PASTE_SCREENSHOT, ["#2e86c1", 400, 240])
    expect(files).to_have_count(3)
    expect(box.locator("li.is-missing")).to_have_count(0)
    expect(box.locator("li.is-done")).to_have_count(3)
    expect(box.locator(".alert-success")).to_have_text(zh("The evidence checklist is complete."))

    # Thumbnails really load (served images, not broken ones).
    page.wait_for_function("""() => [...document.querySelectorAll('#evidence-list img')]
        .every((img) => img.complete && img.naturalWidth > 0)""")
    assert page.locator("#evidence-list img").count() == 2
    # The file opens in a new tab, served so that it can never run as a page.
    href = files.first.locator("a.evidence-thumb").get_attribute("href")
    assert files.first.locator("a.evidence-thumb").get_attribute("target") == "_blank"
    response = page.request.get(base_url + href)
    assert response.status == 200 and response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"].startswith("sandbox")
    assert page.js_errors == []


def test_a_renamed_html_file_is_refused_in_chinese(login_as, e2e_app, zh):
    t = _arbitration_ticket(e2e_app)
    page = login_as("agent1")
    page.goto(f"/tickets/{t['id']}")
    page.locator("#evidence-upload input[type=file]").set_input_files(
        [{"name": "截图.png", "mimeType": "image/png", "buffer": b"<html><script>alert(1)</script></html>"}])
    page.locator("#evidence-upload button[type=submit]").click()
    expect(page.locator("#evidence-errors")).to_contain_text("截图.png")
    expect(page.locator("#evidence-errors")).to_contain_text("只能上传")
    expect(page.locator("#evidence-list li")).to_have_count(0)
