"""User administration: service rules and routes (full page and htmx fragment)."""

import pytest

from kdcs.admin import service
from kdcs.extensions import db
from kdcs.models import AuditLog, User
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import StaleEdit, ValidationError
from tests import factories
from tests.conftest import AuthActions


def test_create_user_hashes_password_and_audits(users):
    admin = users["admin"]
    user = service.create_user(admin, username="agent88", display_name="李想", role="agent",
                               password="Lxq2026ok", team_id=users["team"].id)
    assert user.check_password("Lxq2026ok")
    entry = db.session.query(AuditLog).filter_by(action="user.create", entity_id=user.id).one()
    assert entry.actor_id == admin.id
    assert entry.after["username"] == "agent88" and "password_hash" not in entry.after


def test_create_user_validation(users):
    with pytest.raises(ValidationError) as exc:
        service.create_user(users["admin"], username="AGENT_A", display_name="x", role="boss", password="weak")
    assert set(exc.value.errors) == {"username", "role", "password"}
    assert "已被使用" in exc.value.errors["username"]


@pytest.mark.parametrize("role", ["agent", "trainer", "lead"])
def test_only_admin_may_manage_users_in_service(users, role):
    with pytest.raises(PermissionDenied):
        service.create_user(users[role], username="x1", display_name="x", role="agent", password="Lxq2026ok")
    with pytest.raises(PermissionDenied):
        service.set_user_active(users[role], users["agent"], False)


def test_update_user_records_before_after_and_checks_version(users):
    admin, agent = users["admin"], users["agent"]
    service.update_user(admin, agent, version=agent.version, display_name="新名字", role="lead",
                        team_id=None, phone="13900001111")
    entry = db.session.query(AuditLog).filter_by(action="user.update").one()
    assert entry.before == {"display_name": entry.before["display_name"], "role": "agent",
                            "team_id": users["team"].id, "phone": None}
    assert entry.after["role"] == "lead" and entry.after["team_id"] is None
    with pytest.raises(StaleEdit):
        service.update_user(admin, agent, version=agent.version - 1, display_name="x", role="agent",
                            team_id=None, phone=None)


def test_admin_cannot_demote_or_deactivate_self(users):
    admin = users["admin"]
    with pytest.raises(ValidationError):
        service.update_user(admin, admin, version=admin.version, display_name="a", role="agent", team_id=None, phone=None)
    with pytest.raises(ValidationError):
        service.set_user_active(admin, admin, False)


def test_deactivate_rotates_session_and_audits(users):
    agent = users["agent"]
    token = agent.session_token
    service.set_user_active(users["admin"], agent, False)
    assert not agent.is_active and agent.session_token != token
    assert db.session.query(AuditLog).filter_by(action="user.deactivate", entity_id=agent.id).count() == 1


def test_reset_password_rejects_weak_and_rotates(users):
    agent = users["agent"]
    with pytest.raises(ValidationError):
        service.reset_password(users["admin"], agent, "123")
    token = agent.session_token
    service.reset_password(users["admin"], agent, "Lxq2026ok")
    assert agent.check_password("Lxq2026ok") and agent.session_token != token


# ---- routes -----------------------------------------------------------------

def test_users_page_full_and_fragment(client, auth, users):
    auth.login(users["admin"])
    page = client.get("/admin/users")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<html" in html and 'id="user-table"' in html and "agent_a" in html
    assert page.headers.get("Vary") and "HX-Request" in page.headers["Vary"]
    fragment = client.htmx("get", "/admin/users?q=lead_")
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "lead_a" in body and "agent_a" not in body


def test_users_filters(client, auth, users):
    auth.login(users["admin"])
    factories.make_user("agent", username="sleepy", active=False)
    body = client.htmx("get", "/admin/users?active=0").get_data(as_text=True)
    assert "sleepy" in body and "agent_a" not in body
    body = client.htmx("get", "/admin/users?role=trainer").get_data(as_text=True)
    assert "trainer_a" in body and "agent_a" not in body


def test_create_user_via_form(client, auth, users):
    auth.login(users["admin"])
    response = client.post("/admin/users/new", data={
        "username": "agent99", "display_name": "钱多", "role": "agent", "team_id": str(users["team"].id),
        "phone": "", "password": "Lxq2026ok",
    })
    assert response.status_code == 303
    assert db.session.query(User).filter_by(username="agent99").one().team_id == users["team"].id


def test_create_user_form_errors_in_chinese_keep_input(client, auth, users):
    auth.login(users["admin"])
    response = client.post("/admin/users/new", data={
        "username": "a b", "display_name": "保留我", "role": "agent", "team_id": "0", "password": "short",
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2–32 位字母" in html and "保留我" in html
    assert db.session.query(User).filter_by(display_name="保留我").count() == 0


def test_inline_edit_row_roundtrip(client, auth, users):
    auth.login(users["admin"])
    agent = users["agent"]
    form = client.htmx("get", f"/admin/users/{agent.id}/edit")
    assert form.status_code == 200 and 'class="editing"' in form.get_data(as_text=True)
    response = client.htmx("post", f"/admin/users/{agent.id}/edit", data={
        "display_name": "改过的名字", "role": "agent", "team_id": "0", "phone": "", "version": str(agent.version),
    })
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "改过的名字" in body and "<tr" in body and "<html" not in body
    assert "toast" in response.headers["HX-Trigger"]


def test_stale_inline_edit_is_409(client, auth, users):
    auth.login(users["admin"])
    agent = users["agent"]
    response = client.htmx("post", f"/admin/users/{agent.id}/edit", data={
        "display_name": "x", "role": "agent", "team_id": "0", "phone": "", "version": str(agent.version + 5),
    })
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "其他人保存了用户 agent_a" in body and 'value="x"' in body  # what was typed is kept


def test_deactivate_via_htmx_then_user_is_logged_out(app, users):
    admin_client, agent_client = app.test_client(), app.test_client()
    AuthActions(agent_client).login(users["agent"])
    AuthActions(admin_client).login(users["admin"])
    response = admin_client.htmx("post", f"/admin/users/{users['agent'].id}/active", data={"active": "0"})
    assert response.status_code == 200 and "已停用" in response.get_data(as_text=True)
    assert agent_client.get("/").status_code == 302


def test_reset_password_route(client, auth, users):
    auth.login(users["admin"])
    response = client.post(f"/admin/users/{users['agent'].id}/password", data={"password": "Lxq2026ok"})
    assert response.status_code == 303
    response = client.post(f"/admin/users/{users['agent'].id}/password", data={"password": "weak"})
    assert response.status_code == 200 and "至少 8 个字符" in response.get_data(as_text=True)


def test_unknown_user_404(client, auth, users):
    auth.login(users["admin"])
    assert client.get("/admin/users/99999").status_code == 404
    assert "页面或记录不存在" in client.get("/admin/users/99999").get_data(as_text=True)


def test_audit_page_filters(client, auth, users):
    auth.login(users["admin"])
    service.create_user(users["admin"], username="zz_new", display_name="新人", role="agent", password="Lxq2026ok")
    service.set_user_active(users["admin"], users["agent"], False)
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "创建用户" in html and "停用用户" in html
    body = client.htmx("get", "/admin/audit?action=user.create").get_data(as_text=True)
    assert "zz_new" in body and "停用用户" not in body.split("</select>")[-1]
    body = client.htmx("get", "/admin/audit?since=bad-date").get_data(as_text=True)
    assert "日期格式应为" in body
    body = client.htmx("get", f"/admin/audit?actor={users['agent'].id}").get_data(as_text=True)
    assert "暂无记录" in body


def test_user_list_paginates(client, auth, users):
    for i in range(55):
        factories.make_user("agent", username=f"bulk{i:02d}")
    auth.login(users["admin"])
    first = client.get("/admin/users").get_data(as_text=True)
    assert "下一页" in first and "第 1 / 2 页" in first
    second = client.htmx("get", "/admin/users?page=2").get_data(as_text=True)
    assert "上一页" in second and "第 2 / 2 页" in second


def test_activate_button_with_a_tampered_value_is_refused(client, auth, users):
    auth.login(users["admin"])
    for bad in ({}, {"active": "yes"}):
        response = client.post(f"/admin/users/{users['agent'].id}/active", data=bad)
        assert response.status_code == 400
    assert db.session.get(User, users["agent"].id).is_active
