"""The ticket screens through the client: every route, each role, full page and htmx fragment."""

from __future__ import annotations

import pytest

from kdcs.extensions import db
from kdcs.models import TicketEvent
from tests import factories
from tests.conftest import login


@pytest.fixture
def world(users):
    """An outlet of agent_a with tickets, another agent's outlet in the same team, one outside the team."""
    brand = factories.make_brand("ZTO", "中通")
    outlet = factories.make_outlet(brand, users["agent"], name="余杭良渚网点")
    mate = factories.make_user("agent", username="agent_b", team=users["team"])
    mate_outlet = factories.make_outlet(brand, mate, name="萧山北干网点")
    stranger = factories.make_user("agent", username="agent_x")
    far_outlet = factories.make_outlet(brand, stranger, name="外组网点")
    reason = factories.make_reason("problem", "地址不详")
    factories.make_rule("problem")
    mine = factories.make_ticket(outlet, reason=reason, waybill_no="75121488724296", customer_name="李先生",
                                 customer_phone="13912345678")
    team_ticket = factories.make_ticket(mate_outlet, reason=reason, waybill_no="75121488724297")
    far = factories.make_ticket(far_outlet, reason=reason, waybill_no="75121488724298")
    return {"outlet": outlet, "mine": mine, "team": team_ticket, "far": far, "reason": reason, "brand": brand,
            "mate": mate, "stranger": stranger}


def _routes(world):
    t = world["mine"].id
    return [
        ("get", "/tickets/"),
        ("get", "/tickets/?scope=mine&window=overdue&q=7512"),
        ("get", f"/tickets/{t}"),
        ("get", f"/tickets/{t}/presence?version=1"),
        ("get", "/tickets/new"),
        ("post", "/tickets/new"),
        ("post", "/tickets/new/check?field=waybill_no"),
        ("get", "/tickets/reasons?category=problem"),
        ("post", f"/tickets/{t}/note"),
        ("post", f"/tickets/{t}/status"),
        ("post", f"/tickets/{t}/assign"),
        ("post", f"/tickets/{t}/first-reply"),
        ("post", f"/tickets/{t}/fine"),
        ("post", f"/tickets/{t}/reopen"),
        ("post", "/tickets/bulk"),
    ]


def test_anonymous_is_sent_to_login_everywhere(client, world):
    for method, url in _routes(world):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url


def test_anonymous_htmx_gets_hx_redirect_everywhere(client, world):
    for method, url in _routes(world):
        response = client.htmx(method, url)
        assert response.status_code == 204, url
        assert response.headers["HX-Redirect"].startswith("/login"), url


def test_trainer_gets_403_everywhere_and_no_ticket_link(client, users, world):
    login(client, users["trainer"])
    for method, url in _routes(world):
        response = getattr(client, method)(url, data={"note-body": "x"})
        assert response.status_code == 403, url
        assert client.htmx(method, url).status_code == 403, url
    assert 'href="/tickets/"' not in client.get("/").get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(TicketEvent.id)).where(TicketEvent.kind == "note")) == 0


@pytest.mark.parametrize("role,own,team,far", [
    ("agent", 200, 404, 404),
    ("lead", 200, 200, 404),
    ("admin", 200, 200, 200),
])
def test_detail_visibility_by_role(client, users, world, role, own, team, far):
    login(client, users[role])
    assert client.get(f"/tickets/{world['mine'].id}").status_code == own
    assert client.get(f"/tickets/{world['team'].id}").status_code == team
    assert client.get(f"/tickets/{world['far'].id}").status_code == far
    assert client.get("/tickets/999999").status_code == 404
    # the same for the fragments and actions behind the page
    assert client.htmx("get", f"/tickets/{world['far'].id}/presence").status_code == far
    if far == 404:
        response = client.htmx("post", f"/tickets/{world['far'].id}/note", data={"note-body": "偷看"})
        assert response.status_code == 404
        assert "没有找到" in response.get_data(as_text=True) or "不存在" in response.get_data(as_text=True)


@pytest.mark.parametrize("role,status", [("agent", 200), ("lead", 200), ("admin", 200)])
def test_queue_and_new_form_open_for_working_roles(client, users, world, role, status):
    login(client, users[role])
    assert client.get("/tickets/").status_code == status
    assert client.get("/tickets/new").status_code == status
    assert client.htmx("get", "/tickets/reasons?category=problem").status_code == status


def test_bulk_and_fines_need_lead_or_admin(client, users, world):
    t = world["mine"]
    login(client, users["agent"])
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


def test_queue_full_page_and_fragment(client, users, world):
    login(client, users["agent"])
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


def test_detail_full_page_and_fragment(client, users, world):
    login(client, users["agent"])
    t = world["mine"]
    html = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert "<html" in html and 'id="ticket-body"' in html and 'id="presence"' in html
    fragment = client.htmx("get", f"/tickets/{t.id}").get_data(as_text=True)
    assert "<html" not in fragment and 'id="presence"' not in fragment
    assert t.waybill_no in fragment and 'id="ticket-version"' in fragment
