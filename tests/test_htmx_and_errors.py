"""The one htmx rule, toasts, error pages and the CSRF header on <body>."""

import json

from kdcs.htmx import wants_fragment


def test_wants_fragment_rule(app):
    cases = [
        ({}, False),
        ({"HX-Request": "true"}, True),
        ({"HX-Request": "true", "HX-Boosted": "true"}, False),
        ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False),
    ]
    for headers, expected in cases:
        with app.test_request_context("/", headers=headers):
            assert wants_fragment() is expected, headers


def test_body_carries_csrf_header(client, users, csrf_on):
    client.get("/login")
    html = client.get("/login").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


def test_htmx_post_with_csrf_header_is_accepted(client, users, csrf_on):
    import re

    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post("/login", data={"username": "admin_a", "password": "Passw0rd!x", "csrf_token": token})
    assert response.status_code == 303
    home = client.get("/").get_data(as_text=True)
    header_token = re.search(r'"X-CSRFToken": "([^"]+)"', home).group(1)
    ok = client.htmx("post", f"/admin/users/{users['agent'].id}/active", data={"active": "0"},
                     headers={"X-CSRFToken": header_token})
    assert ok.status_code == 200
    refused = client.htmx("post", f"/admin/users/{users['agent'].id}/active", data={"active": "1"})
    assert refused.status_code == 400


def test_flash_becomes_toast_on_htmx(client, auth, users):
    auth.login(users["admin"])
    response = client.htmx("post", f"/admin/users/{users['agent'].id}/active", data={"active": "0"})
    events = json.loads(response.headers["HX-Trigger"])
    assert events["toast"][0]["level"] == "success"
    assert "用户 agent_a 已停用。" in events["toast"][0]["message"]


def test_error_pages_are_chinese_full_and_fragment(client, auth, users):
    auth.login(users["agent"])
    page = client.get("/admin/users")
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert "您没有权限执行此操作" in html and "<html" in html
    fragment = client.htmx("get", "/admin/users")
    assert fragment.status_code == 403 and "<html" not in fragment.get_data(as_text=True)
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "页面或记录不存在" in missing.get_data(as_text=True)


def test_500_page_is_chinese(tmp_path):
    from kdcs import create_app

    app = create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})

    @app.route("/__boom")
    def boom():  # exercised through the client
        raise RuntimeError("boom")

    response = app.test_client().get("/__boom")
    assert response.status_code == 500 and "系统出错" in response.get_data(as_text=True)


def test_toast_header_is_sendable_by_a_real_server(client, auth, users):
    """HTTP headers are latin-1: Chinese toasts must travel as \\u escapes."""
    auth.login(users["admin"])
    response = client.htmx("post", f"/admin/users/{users['agent'].id}/active", data={"active": "0"})
    header = response.headers["HX-Trigger"]
    header.encode("ascii")
    assert "已停用。" in json.loads(header)["toast"][0]["message"]
