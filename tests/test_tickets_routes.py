"""The ticket screens through the client: full page and htmx fragment, bulk and fine rights."""

from __future__ import annotations

from kdcs.extensions import db
from tests.html import parse

# Every ticket route for anonymous users and each role (scope of the detail page, its
# fragments and actions, 403s for trainers, 404s outside the scope) is a row of the route
# matrix in tests/test_route_permissions.py.


def test_only_ticket_workers_have_the_ticket_link(client, auth, users, ticket_world):
    for role, shown in (("agent", True), ("lead", True), ("admin", True), ("trainer", False)):
        auth.login(users[role])
        assert bool(parse(client.get("/")).find("a", href="/tickets/")) is shown, role
        auth.logout()


def test_bulk_and_fines_need_lead_or_admin(client, auth, users, ticket_world):
    t = ticket_world["mine"]
    auth.login(users["agent"])
    page = client.get("/tickets/").get_data(as_text=True)
    assert 'id="bulk-form"' not in page
    response = client.post("/tickets/bulk", data={"ids": [t.id], "action": "close", "note": "x"})
    assert response.status_code == 403
    response = client.post(f"/tickets/{t.id}/fine", data={"fine-version": t.version, "fine-amount": "50",
                                                          "fine-bearer": "company"})
    assert response.status_code == 403
    assert 'id="act-fine"' not in client.get(f"/tickets/{t.id}").get_data(as_text=True)
    db.session.refresh(t)
    assert t.fine_amount is None and t.status == "new"


def test_queue_full_page_and_fragment(client, auth, users, ticket_world):
    auth.login(users["agent"])
    page = client.get("/tickets/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert 'id="ticket-table"' in html and 'id="queue-filter"' in html
    assert "HX-Request" in page.headers.get("Vary", "")
    fragment = client.htmx("get", "/tickets/?scope=mine&q=&category=&window=overdue")
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert "<html" not in body and 'id="queue-filter"' not in body
    assert "<table" in body
    # the address bar gets the canonical URL: no empty parameters
    assert fragment.headers["HX-Push-Url"] == "/tickets/?scope=mine&window=overdue"
    refresh = client.htmx("get", "/tickets/?scope=mine", headers={"HX-Trigger": "ticket-table"})
    assert refresh.headers["HX-Replace-Url"] == "/tickets/?scope=mine" and "HX-Push-Url" not in refresh.headers
    # a history restore asks for the full page
    restore = client.htmx("get", "/tickets/?scope=mine", headers={"HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_detail_full_page_and_fragment(client, auth, users, ticket_world):
    auth.login(users["agent"])
    t = ticket_world["mine"]
    html = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert "<html" in html and 'id="ticket-body"' in html and 'id="presence"' in html
    fragment = client.htmx("get", f"/tickets/{t.id}").get_data(as_text=True)
    assert "<html" not in fragment and 'id="presence"' not in fragment
    assert t.waybill_no in fragment and 'id="ticket-version"' in fragment
