"""Org pages beyond the route matrix: the strict activate button, navigation links, CSRF."""

from __future__ import annotations

from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models import AuditLog, Team
from tests.html import csrf_token, parse

# The route x role outcomes of these pages (anonymous, non-admin 403s, unknown ids,
# fragments) are rows of the route matrix in tests/test_route_permissions.py.


def test_activate_button_without_a_valid_value_is_400(client, auth, settings_world):
    auth.login(settings_world.admin)
    for url in (f"/admin/teams/{settings_world.team.id}/active", f"/admin/brands/{settings_world.brand.id}/active"):
        assert client.post(url).status_code == 400
        assert client.post(url, data={"active": "yes"}).status_code == 400
    assert db.session.scalar(select(AuditLog.id)) is None


def test_org_links_in_admin_navigation_only(client, auth, users):
    auth.login(users["admin"])
    html = client.get("/").get_data(as_text=True)
    assert 'href="/admin/teams"' in html and 'href="/admin/brands"' in html
    auth.logout()
    auth.login(users["lead"])
    html = client.get("/").get_data(as_text=True)
    assert 'href="/admin/teams"' not in html and 'href="/admin/brands"' not in html


def test_post_without_csrf_token_is_refused(client, auth, users, csrf_on):
    auth.login(users["admin"])  # with the login page's token
    for url, data in [
        ("/admin/teams/new", {"name": "三组"}),
        (f"/admin/teams/{users['team'].id}/active", {"active": "0"}),
        ("/admin/brands/new", {"code": "SF", "name": "顺丰"}),
    ]:
        response = client.post(url, data=data)
        assert response.status_code == 400, url
        assert parse(response).one(cls="error-box").text == "400 表单已过期，请刷新页面后重试。 返回首页"
    assert db.session.scalar(select(Team).where(Team.name == "三组")) is None
    assert db.session.scalar(select(AuditLog.id)) is None
    # With the token from the page, the same create works.
    token = csrf_token(client.get("/admin/teams"))
    response = client.post("/admin/teams/new", data={"name": "三组", "lead_id": "0", "csrf_token": token})
    assert response.status_code == 303
    assert db.session.scalar(select(Team).where(Team.name == "三组")) is not None
