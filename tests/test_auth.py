"""Login, logout, throttling, safe redirects, sessions and passwords."""

from datetime import timedelta

import pytest

from kdcs.auth.routes import safe_next
from kdcs.auth.service import ThrottleLimits, password_problems
from kdcs.extensions import db
from kdcs.models import LoginAttempt, User
from tests import factories


def test_login_page_is_chinese(client):
    html = client.get("/login").get_data(as_text=True)
    assert "登录" in html and "工号" in html and "密码" in html


def test_wrong_password_shows_chinese_error_and_401(client, users):
    response = client.post("/login", data={"username": "agent_a", "password": "nope"})
    assert response.status_code == 401
    assert "工号或密码错误" in response.get_data(as_text=True)


def test_unknown_user_same_message(client):
    response = client.post("/login", data={"username": "ghost", "password": "whatever1"})
    assert response.status_code == 401
    assert "工号或密码错误" in response.get_data(as_text=True)


def test_empty_form_is_400_with_field_errors(client):
    response = client.post("/login", data={"username": "", "password": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "请输入工号" in html and "请输入密码" in html


def test_login_is_case_insensitive_on_username(client, users):
    response = client.post("/login", data={"username": "AGENT_A", "password": factories.PASSWORD})
    assert response.status_code == 303


def test_login_redirects_home_and_logout_requires_post(client, auth, users):
    response = auth.login(users["agent"])
    assert response.headers["Location"] == "/"
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.status_code == 303
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/admin/users", "/admin/users"),
        ("/tickets/?q=1", "/tickets/?q=1"),
        ("https://evil.example/x", None),
        ("//evil.example/x", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("", None),
    ],
)
def test_safe_next(target, expected):
    assert safe_next(target) == expected


def test_next_is_followed_only_inside_site(client, users):
    response = client.post(
        "/login", data={"username": "admin_a", "password": factories.PASSWORD, "next": "/admin/users"}
    )
    assert response.headers["Location"] == "/admin/users"
    client.post("/logout")
    response = client.post(
        "/login", data={"username": "admin_a", "password": factories.PASSWORD, "next": "https://evil.example/"}
    )
    assert response.headers["Location"] == "/"


def test_anonymous_redirected_to_login_with_next(client):
    response = client.get("/admin/users?q=x")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert response.headers["Location"] == "/login?next=/admin/users?q%3Dx"


def test_htmx_request_with_expired_session_gets_hx_redirect(client):
    response = client.htmx("get", "/admin/users?q=x", headers={"HX-Current-URL": "http://localhost/admin/users?q=x"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login?next=")
    assert response.get_data() == b""


def test_throttle_per_username(client, users, app):
    limit = app.config["KDCS_LOGIN_MAX_FAILURES_PER_USER"]
    for _ in range(limit):
        assert client.post("/login", data={"username": "agent_a", "password": "bad"}).status_code == 401
    response = client.post("/login", data={"username": "agent_a", "password": factories.PASSWORD})
    assert response.status_code == 401
    assert "登录失败次数过多" in response.get_data(as_text=True)
    # Another user from the same address is not locked by agent_a's failures.
    assert client.post("/login", data={"username": "lead_a", "password": factories.PASSWORD}).status_code == 303


def test_throttle_per_address(client, users, app):
    app.config["KDCS_LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    try:
        for i in range(3):
            client.post("/login", data={"username": f"someone{i}", "password": "bad"})
        response = client.post("/login", data={"username": "admin_a", "password": factories.PASSWORD})
        assert response.status_code == 401
        assert "登录失败次数过多" in response.get_data(as_text=True)
    finally:
        app.config["KDCS_LOGIN_MAX_FAILURES_PER_ADDRESS"] = 20


def test_throttle_window_expires(users):
    from kdcs.auth.service import is_throttled
    from kdcs.models import utcnow

    limits = ThrottleLimits(per_user=2, per_address=100, window=timedelta(minutes=15))
    old = utcnow() - timedelta(minutes=20)
    for _ in range(3):
        db.session.add(LoginAttempt(username="agent_a", address="10.0.0.1", succeeded=False, at=old))
    db.session.commit()
    assert not is_throttled("agent_a", "10.0.0.1", limits)
    db.session.add(LoginAttempt(username="agent_a", address="10.0.0.1", succeeded=False))
    db.session.add(LoginAttempt(username="agent_a", address="10.0.0.1", succeeded=False))
    db.session.commit()
    assert is_throttled("agent_a", "10.0.0.1", limits)


def test_inactive_user_cannot_log_in(client):
    factories.make_user("agent", username="gone", active=False)
    response = client.post("/login", data={"username": "gone", "password": factories.PASSWORD})
    assert response.status_code == 401
    assert "已停用" in response.get_data(as_text=True)


def test_deactivated_user_is_logged_out_at_next_request(client, auth, users):
    auth.login(users["agent"])
    assert client.get("/").status_code == 200
    agent = db.session.get(User, users["agent"].id)
    agent.is_active_account = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_password_reset_ends_existing_sessions(client, auth, users):
    auth.login(users["agent"])
    agent = db.session.get(User, users["agent"].id)
    agent.set_password("NewPassw0rd9")
    db.session.commit()
    assert client.get("/").status_code == 302


def test_session_cookie_flags(client, users):
    response = client.post("/login", data={"username": "agent_a", "password": factories.PASSWORD})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_passwords_are_hashed_strongly():
    user = User(username="x", display_name="x", role="agent")
    user.set_password("Lxq2026ok")
    method = user.password_hash.split("$", 1)[0]
    assert method == "scrypt:32768:8:1"  # werkzeug's strong default
    assert user.check_password("Lxq2026ok") and not user.check_password("Lxq2026ok ")


@pytest.mark.parametrize(
    "password,ok",
    [("short1", False), ("abcdefgh", False), ("12345678", False), ("demo1234", False), ("Agent_a123", False), ("Lxq2026ok", True)],
)
def test_password_policy(password, ok):
    assert (password_problems(password, "agent_a") == []) is ok


def test_change_own_password(client, auth, users):
    auth.login(users["agent"])
    response = client.post("/account/password", data={
        "current_password": factories.PASSWORD, "new_password": "Lxq2026ok", "confirm_password": "Lxq2026ok",
    })
    assert response.status_code == 303
    assert client.get("/").status_code == 200  # still logged in after the token rotated
    auth.logout()
    assert client.post("/login", data={"username": "agent_a", "password": "Lxq2026ok"}).status_code == 303


def test_change_password_wrong_current_or_weak(client, auth, users):
    auth.login(users["agent"])
    response = client.post("/account/password", data={
        "current_password": "wrong", "new_password": "Lxq2026ok", "confirm_password": "Lxq2026ok",
    })
    assert response.status_code == 200 and "当前密码不正确" in response.get_data(as_text=True)
    response = client.post("/account/password", data={
        "current_password": factories.PASSWORD, "new_password": "abc", "confirm_password": "abc",
    })
    assert "至少 8 个字符" in response.get_data(as_text=True)
    response = client.post("/account/password", data={
        "current_password": factories.PASSWORD, "new_password": "Lxq2026ok", "confirm_password": "Other2026",
    })
    assert "两次输入的密码不一致" in response.get_data(as_text=True)


def test_csrf_is_required_on_login_and_logout(client, users, csrf_on):
    response = client.post("/login", data={"username": "agent_a", "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
