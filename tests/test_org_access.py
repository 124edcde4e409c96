"""Every org route, walked by anonymous and by each role, with the exact outcome."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models import AuditLog, Team
from tests import factories
from tests.conftest import login

# (method, url template, status for admin). {team}/{brand} are filled with real ids.
ROUTES = [
    ("get", "/admin/teams", 200),
    ("get", "/admin/teams?q=一&active=1", 200),
    ("post", "/admin/teams/new", 200),  # empty form: re-rendered with errors
    ("get", "/admin/teams/{team}", 200),
    ("get", "/admin/teams/{team}/edit", 200),
    ("post", "/admin/teams/{team}/edit", 409),  # no version: the conflict form
    ("get", "/admin/teams/{team}/row", 303),  # without htmx the bare row sends you to the list
    ("post", "/admin/teams/{team}/active", 303),  # with active=1 (see DATA)
    ("get", "/admin/brands", 200),
    ("get", "/admin/brands?q=Z", 200),
    ("post", "/admin/brands/new", 200),
    ("get", "/admin/brands/{brand}/edit", 200),
    ("post", "/admin/brands/{brand}/edit", 409),
    ("get", "/admin/brands/{brand}/row", 303),
    ("post", "/admin/brands/{brand}/active", 303),
]

# Form data the admin walk sends (valid enough to reach the view's normal answer).
DATA = {"/admin/teams/{team}/active": {"active": "1"}, "/admin/brands/{brand}/active": {"active": "1"}}

HTMX_ROUTES = [
    ("get", "/admin/teams/{team}/row"),
    ("get", "/admin/teams/{team}/edit"),
    ("get", "/admin/brands/{brand}/row"),
    ("get", "/admin/brands/{brand}/edit"),
]


@pytest.fixture
def ids(users):
    brand = factories.make_brand("ZTO", "中通")
    return {"team": users["team"].id, "brand": brand.id}


def _url(template: str, ids: dict, team: int | None = None, brand: int | None = None) -> str:
    return template.format(team=team if team is not None else ids["team"], brand=brand if brand is not None else ids["brand"])


@pytest.mark.parametrize("method,template,_status", ROUTES)
def test_anonymous_is_sent_to_login(client, ids, method, template, _status):
    response = getattr(client, method)(_url(template, ids))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("method,template,_status", ROUTES)
def test_anonymous_htmx_gets_hx_redirect(client, ids, method, template, _status):
    response = client.htmx(method, _url(template, ids))
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login")


@pytest.mark.parametrize("role", ["agent", "trainer", "lead"])
def test_non_admin_roles_get_403_everywhere(client, users, ids, role):
    login(client, users[role])
    for method, template, _status in ROUTES:
        response = getattr(client, method)(_url(template, ids), data={"name": "偷改", "active": "0", "code": "X"})
        assert response.status_code == 403, (role, method, template)
        assert "没有权限" in response.get_data(as_text=True)
    for method, template in HTMX_ROUTES:
        assert client.htmx(method, _url(template, ids)).status_code == 403
    # Unknown ids are 403 too for them: the permission is checked before the lookup.
    assert client.get("/admin/teams/999999").status_code == 403
    db.session.expire_all()
    assert users["team"].name == "一组" and users["team"].is_active
    assert db.session.scalar(select(AuditLog.id)) is None


def test_admin_gets_expected_statuses(client, users, ids):
    login(client, users["admin"])
    for method, template, status in ROUTES:
        kwargs = {"data": DATA[template]} if template in DATA else {}
        response = getattr(client, method)(_url(template, ids), **kwargs)
        assert response.status_code == status, (method, template, response.get_data(as_text=True)[:300])
    for method, template in HTMX_ROUTES:
        assert client.htmx(method, _url(template, ids)).status_code == 200, template


def test_activate_button_without_a_valid_value_is_400(client, users, ids):
    login(client, users["admin"])
    for url in (f"/admin/teams/{ids['team']}/active", f"/admin/brands/{ids['brand']}/active"):
        assert client.post(url).status_code == 400
        assert client.post(url, data={"active": "yes"}).status_code == 400
    assert db.session.scalar(select(AuditLog.id)) is None


def test_admin_unknown_ids_are_404(client, users, ids):
    login(client, users["admin"])
    for method, template, _status in ROUTES:
        if "{team}" not in template and "{brand}" not in template:
            continue
        response = getattr(client, method)(_url(template, ids, team=999999, brand=999999))
        assert response.status_code == 404, (method, template)
        assert "找不到" in response.get_data(as_text=True) or "不存在" in response.get_data(as_text=True)


def test_org_links_in_admin_navigation_only(client, users):
    login(client, users["admin"])
    html = client.get("/").get_data(as_text=True)
    assert 'href="/admin/teams"' in html and 'href="/admin/brands"' in html
    client.post("/logout")
    login(client, users["lead"])
    html = client.get("/").get_data(as_text=True)
    assert 'href="/admin/teams"' not in html and 'href="/admin/brands"' not in html


def test_post_without_csrf_token_is_refused(client, users, csrf_on):
    login_client = client
    # Log in with a token: fetch the login page first.
    import re

    page = login_client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    response = login_client.post("/login", data={"username": users["admin"].username, "password": factories.PASSWORD,
                                                  "csrf_token": token.group(1)})
    assert response.status_code == 303
    for url, data in [
        ("/admin/teams/new", {"name": "三组"}),
        (f"/admin/teams/{users['team'].id}/active", {"active": "0"}),
        ("/admin/brands/new", {"code": "SF", "name": "顺丰"}),
    ]:
        response = login_client.post(url, data=data)
        assert response.status_code == 400, url
        assert "表单已过期" in response.get_data(as_text=True) or "过期" in response.get_data(as_text=True)
    assert db.session.scalar(select(Team).where(Team.name == "三组")) is None
    assert db.session.scalar(select(AuditLog.id)) is None
    # With the token from the page, the same create works.
    page = login_client.get("/admin/teams").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    response = login_client.post("/admin/teams/new", data={"name": "三组", "lead_id": "0", "csrf_token": token.group(1)})
    assert response.status_code == 303
    assert db.session.scalar(select(Team).where(Team.name == "三组")) is not None
