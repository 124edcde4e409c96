"""Outlet pages over HTTP: active search, inline edit, 409, assignment, CSRF."""

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models import AuditLog, Notification, Outlet
from tests import factories
from tests.html import parse


def text(response):
    return response.get_data(as_text=True)


def toasts(response) -> str:
    """The toast messages of an htmx response (HX-Trigger is JSON, possibly ASCII-escaped)."""
    import json

    return " ".join(t["message"] for t in json.loads(response.headers["HX-Trigger"])["toast"])


# Who may open which outlet page (anonymous, roles, scope, unknown ids, 405s): rows of the
# route matrix in tests/test_route_permissions.py.


# --------------------------------------------------------------------------- admin list


def test_admin_list_shows_outlets_with_rates_and_agents(client, auth, outlet_world):
    auth.login(outlet_world["admin"])
    body = text(client.get("/admin/outlets"))
    for outlet in ("own", "team_outlet", "other", "free"):
        assert outlet_world[outlet].code in body
    assert "¥0.0250" in body  # rate with 4 decimals
    assert "138****5678" in body and "13812345678" not in body  # contact phones masked in the list
    assert "未分配" in body and outlet_world["agent"].display_name in body
    assert 'hx-trigger="input changed delay:300ms from:#outlet-q' in body and 'hx-push-url="true"' in body
    assert "<html" in body and "网点编码" in body


def test_active_search_returns_only_the_table_for_htmx(client, auth, outlet_world):
    auth.login(outlet_world["admin"])
    response = client.htmx("get", "/admin/outlets?q=松江")
    body = text(response)
    assert response.status_code == 200 and "<html" not in body and "<table" in body
    assert outlet_world["other"].code in body and outlet_world["own"].code not in body
    assert "HX-Request" in response.headers.get("Vary", "")
    # The same URL without htmx is the whole page, already filtered (no-JS fallback, history).
    full = text(client.get("/admin/outlets?q=松江"))
    assert "<html" in full and outlet_world["other"].code in full and outlet_world["own"].code not in full
    assert 'value="松江"' in full


def test_list_filters(client, auth, outlet_world):
    auth.login(outlet_world["admin"])

    def codes(query):
        body = text(client.htmx("get", f"/admin/outlets?{query}"))
        return {o.code for o in (outlet_world["own"], outlet_world["team_outlet"], outlet_world["other"], outlet_world["free"]) if o.code in body}

    assert codes(f"brand={outlet_world['yto'].id}") == {outlet_world["other"].code, outlet_world["free"].code}
    assert codes("agent=none") == {outlet_world["free"].code}
    assert codes(f"agent={outlet_world['teammate'].id}") == {outlet_world["team_outlet"].code}
    outlet_world["free"].is_active = False
    db.session.commit()
    assert codes("active=0") == {outlet_world["free"].code}
    assert codes("active=1&agent=none") == set()
    assert "没有符合条件的网点" in text(client.htmx("get", "/admin/outlets?q=不存在的网点"))


def test_list_paginates(client, auth, outlet_world, app):
    auth.login(outlet_world["admin"])
    for n in range(55):
        factories.make_outlet(brand=outlet_world["zto"], code=f"PAGE{n:03d}")
    first = text(client.get("/admin/outlets"))
    assert "第 1 / 2 页" in first and "page=2" in first and "下一页" in first
    second = text(client.htmx("get", "/admin/outlets?page=2"))
    assert "YTO021102" in second and "PAGE000" not in second


# --------------------------------------------------------------------------- inline edit


def edit_data(outlet, **overrides):
    data = {
        "name": outlet.name, "brand_id": str(outlet.brand_id), "region": outlet.region,
        "contact_name": outlet.contact_name, "contact_phone": outlet.contact_phone,
        "rate_per_parcel": f"{outlet.rate_per_parcel:.4f}", "notes": outlet.notes, "version": str(outlet.version),
    }
    data.update(overrides)
    return data


def test_inline_edit_swaps_the_row(client, auth, outlet_world):
    auth.login(outlet_world["admin"])
    own = outlet_world["own"]
    form = client.htmx("get", f"/admin/outlets/{own.id}/edit")
    body = text(form)
    assert form.status_code == 200 and body.lstrip().startswith(f'<tr id="outlet-{own.id}"')
    assert 'name="version"' in body and "0.0250" in body
    saved = client.htmx("post", f"/admin/outlets/{own.id}/edit",
                        data=edit_data(own, name="中通余杭良渚二部", rate_per_parcel="0.0235"))
    body = text(saved)
    assert saved.status_code == 200 and body.lstrip().startswith(f'<tr id="outlet-{own.id}"')
    assert "中通余杭良渚二部" in body and "¥0.0235" in body and "<input" not in body.split("<form", 1)[0]
    assert "已保存" in toasts(saved)  # the flash became a toast
    outlet = db.session.get(Outlet, own.id)
    assert outlet.name == "中通余杭良渚二部" and outlet.rate_per_parcel == Decimal("0.0235")
    [row] = db.session.scalars(select(AuditLog).where(AuditLog.action == "outlet.update")).all()
    assert row.after == {"name": "中通余杭良渚二部", "rate_per_parcel": "0.0235"}


def test_cancel_returns_the_plain_row(client, auth, outlet_world):
    auth.login(outlet_world["admin"])
    body = text(client.htmx("get", f"/admin/outlets/{outlet_world['own'].id}/row"))
    assert body.lstrip().startswith(f'<tr id="outlet-{outlet_world["own"].id}"') and "<form" in body and 'name="name"' not in body


def test_inline_edit_validation_errors_in_chinese(client, auth, outlet_world):
    auth.login(outlet_world["admin"])
    own = outlet_world["own"]
    response = client.htmx("post", f"/admin/outlets/{own.id}/edit",
                           data=edit_data(own, rate_per_parcel="0.5x", contact_phone="12345", name=""))
    body = text(response)
    assert response.status_code == 200
    assert "费率必须是数字" in body and "手机号" in body and "请填写网点名称" in body
    assert body.lstrip().startswith(f'<tr id="outlet-{own.id}" class="editing"')
    assert db.session.get(Outlet, own.id).version == own.version
    for bad, message in (("0", "必须大于 0"), ("1.01", "不能超过 1 元"), ("0.12345", "最多保留 4 位小数")):
        body = text(client.htmx("post", f"/admin/outlets/{own.id}/edit", data=edit_data(own, rate_per_parcel=bad)))
        assert message in body, bad


def test_stale_inline_edit_answers_409_fragment(client, auth, outlet_world):
    auth.login(outlet_world["admin"])
    own = outlet_world["own"]
    loaded = edit_data(own)
    assert client.htmx("post", f"/admin/outlets/{own.id}/edit", data={**loaded, "name": "甲的修改"}).status_code == 200
    response = client.htmx("post", f"/admin/outlets/{own.id}/edit", data={**loaded, "name": "乙的修改"})
    body = text(response)
    assert response.status_code == 409
    assert "其他人保存了网点" in body and "<html" not in body and body.lstrip().startswith(f'<tr id="outlet-{own.id}"')
    assert "<dd>甲的修改</dd>" in body and 'value="乙的修改"' in body  # stored now, and what was typed
    assert db.session.get(Outlet, own.id).name == "甲的修改"
    # Without JavaScript: a full page with the stored values and what was typed.
    page = client.post(f"/admin/outlets/{own.id}/edit", data={**loaded, "name": "丙的修改"})
    assert page.status_code == 409 and "<html" in text(page) and "其他人保存了网点" in text(page)
    assert "<dd>甲的修改</dd>" in text(page) and 'value="丙的修改"' in text(page)


def test_edit_without_javascript(client, auth, outlet_world):
    auth.login(outlet_world["admin"])
    own = outlet_world["own"]
    page = client.get(f"/admin/outlets/{own.id}/edit")
    assert page.status_code == 200 and "<html" in text(page) and f"编辑 · 网点 {own.code}" in text(page)
    response = client.post(f"/admin/outlets/{own.id}/edit", data=edit_data(own, region="浙江省杭州市临平区"))
    assert response.status_code == 303 and response.headers["Location"] == f"/outlets/{own.id}"
    assert db.session.get(Outlet, own.id).region == "浙江省杭州市临平区"
    bad = client.post(f"/admin/outlets/{own.id}/edit", data=edit_data(own, rate_per_parcel="abc"))
    assert bad.status_code == 200 and "费率必须是数字" in text(bad) and "<html" in text(bad)


def test_activate_deactivate(client, auth, outlet_world):
    auth.login(outlet_world["admin"])
    own = outlet_world["own"]
    response = client.htmx("post", f"/admin/outlets/{own.id}/active", data={"active": "0"})
    assert response.status_code == 200 and "启用" in text(response) and "已停用" in text(response)
    assert db.session.get(Outlet, own.id).is_active is False
    response = client.post(f"/admin/outlets/{own.id}/active", data={"active": "1"})
    assert response.status_code == 303
    assert db.session.get(Outlet, own.id).is_active is True
    actions = [r.action for r in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions == ["outlet.deactivate", "outlet.activate"]
    detail = client.htmx("post", f"/admin/outlets/{own.id}/active", data={"active": "0", "from": "detail"})
    assert "<tr" not in text(detail) and "已停用" in text(detail)


def test_create_outlet(client, auth, outlet_world):
    auth.login(outlet_world["admin"])
    page = client.get("/admin/outlets/new")
    assert page.status_code == 200 and "0.0250" in text(page)
    data = {"code": "ZTO571199", "name": "中通临平南苑网点", "brand_id": str(outlet_world["zto"].id),
            "region": "浙江省杭州市临平区", "contact_name": "王建华", "contact_phone": "0571-88886666",
            "rate_per_parcel": "0.026", "notes": "", "primary_agent_id": str(outlet_world["agent"].id)}
    response = client.post("/admin/outlets/new", data=data)
    assert response.status_code == 303
    outlet = db.session.scalar(select(Outlet).where(Outlet.code == "ZTO571199"))
    assert response.headers["Location"] == f"/outlets/{outlet.id}"
    assert outlet.rate_per_parcel == Decimal("0.0260") and outlet.primary_agent_id == outlet_world["agent"].id
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "outlet.create")).entity_id == outlet.id
    duplicate = client.post("/admin/outlets/new", data={**data, "code": "zto571199"})
    assert duplicate.status_code == 200 and "已被其他网点使用" in text(duplicate)
    bad_agent = client.post("/admin/outlets/new", data={**data, "code": "ZTO571198", "primary_agent_id": str(outlet_world["lead"].id)})
    assert "不是客服" in text(bad_agent)


# --------------------------------------------------------------------------- detail and assignment


def test_detail_shows_fields_volumes_and_fee(client, auth, outlet_world):
    auth.login(outlet_world["agent"])
    body = text(client.get(f"/outlets/{outlet_world['own'].id}"))
    assert "中通余杭良渚网点" in body and "ZTO571101" in body and "13812345678" in body
    assert "2026-09" in body and "200,000" in body and "100,000" in body and "300,000" in body
    assert "¥7,500.00" in body  # 300,000 × 0.025
    assert outlet_world["agent"].display_name in body
    assert "指定或更换主责客服" not in body and "/assign" not in body  # agents cannot assign
    status = parse(body).one(id="outlet-status")
    assert status.text == "正常" and status.find("form") is None  # no activate/deactivate button for agents


def test_admin_detail_has_assign_control_with_active_agents_only(client, auth, outlet_world):
    inactive = factories.make_user("agent", username="agent_gone", active=False, display_name="离职客服")
    auth.login(outlet_world["admin"])
    body = text(client.get(f"/outlets/{outlet_world['free'].id}"))
    assert "指定或更换主责客服" in body
    toggle = parse(body).one(id="outlet-status").one("form")
    assert toggle.get("action") == f"/admin/outlets/{outlet_world['free'].id}/active"
    assert "agent_a" in body and "agent_mate" in body and inactive.username not in body
    assert "lead_a" not in body.split("指定或更换主责客服", 1)[1]


def test_assign_with_htmx_audits_and_notifies(client, auth, outlet_world):
    auth.login(outlet_world["admin"])
    free = outlet_world["free"]
    response = client.htmx("post", f"/outlets/{free.id}/assign",
                           data={"agent_id": str(outlet_world["agent"].id), "version": str(free.version)})
    body = text(response)
    assert response.status_code == 200 and "<html" not in body and outlet_world["agent"].display_name in body
    assert "已通知" in toasts(response)
    assert db.session.get(Outlet, free.id).primary_agent_id == outlet_world["agent"].id
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "outlet.assign"))
    assert row.before == {"primary_agent_id": None} and row.after == {"primary_agent_id": outlet_world["agent"].id}
    [note] = db.session.scalars(select(Notification)).all()
    assert note.user_id == outlet_world["agent"].id and note.link == f"/outlets/{free.id}"
    # The agent now sees the outlet.
    auth.logout()
    auth.login(outlet_world["agent"])
    assert client.get(f"/outlets/{free.id}").status_code == 200


def test_assign_without_javascript_and_rejections(client, auth, outlet_world):
    auth.login(outlet_world["admin"])
    own = outlet_world["own"]
    inactive = factories.make_user("agent", active=False)
    refused = client.post(f"/outlets/{own.id}/assign", data={"agent_id": str(inactive.id), "version": str(own.version)})
    assert refused.status_code == 200 and "已停用" in text(refused)
    refused = client.post(f"/outlets/{own.id}/assign", data={"agent_id": str(outlet_world["lead"].id), "version": str(own.version)})
    assert "不是客服" in text(refused)
    assert db.session.get(Outlet, own.id).primary_agent_id == outlet_world["agent"].id
    loaded_version = str(own.version)
    ok = client.post(f"/outlets/{own.id}/assign", data={"agent_id": str(outlet_world["teammate"].id), "version": str(own.version)})
    assert ok.status_code == 303 and ok.headers["Location"] == f"/outlets/{own.id}"
    stale = client.htmx("post", f"/outlets/{own.id}/assign", data={"agent_id": "", "version": loaded_version})
    assert stale.status_code == 409 and "刚刚被他人修改" in text(stale)
    assert db.session.get(Outlet, own.id).primary_agent_id == outlet_world["teammate"].id
    assert client.post("/outlets/999999/assign", data={"agent_id": ""}).status_code == 404


def test_mine_lists_own_outlets_with_fees(client, auth, outlet_world):
    factories.make_volume(outlet_world["own"], date(2026, 10, 1), 40_000, 20_000)
    auth.login(outlet_world["agent"])
    body = text(client.get("/outlets/mine"))
    assert outlet_world["own"].code in body and outlet_world["team_outlet"].code not in body
    assert "60,000" in body and "¥1,500.00" in body  # latest month: 60,000 × 0.025
    auth.logout()
    auth.login(outlet_world["lead"])
    body = text(client.get("/outlets/mine"))
    assert outlet_world["own"].code in body and outlet_world["team_outlet"].code in body and outlet_world["other"].code not in body


# --------------------------------------------------------------------------- CSRF


def test_post_without_csrf_token_is_refused(client, outlet_world, csrf_on):
    login_response = client.get("/login")
    assert login_response.status_code == 200
    # Log in with a real token taken from the form.
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', text(login_response))
    token = next(g for g in token.groups() if g)
    client.post("/login", data={"username": outlet_world["admin"].username, "password": factories.PASSWORD, "csrf_token": token})
    own = outlet_world["own"]
    refused = client.post(f"/admin/outlets/{own.id}/active", data={"active": "0"})
    assert refused.status_code == 400
    refused = client.htmx("post", f"/admin/outlets/{own.id}/edit", data=edit_data(own, name="无令牌"))
    assert refused.status_code == 400
    assert db.session.get(Outlet, own.id).is_active is True and db.session.get(Outlet, own.id).name != "无令牌"
    # The same htmx post with the header from <body hx-headers> goes through.
    page = text(client.get("/admin/outlets"))
    header_token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page).group(1)
    ok = client.htmx("post", f"/admin/outlets/{own.id}/active", data={"active": "0"}, headers={"X-CSRFToken": header_token})
    assert ok.status_code == 200
    assert db.session.get(Outlet, own.id).is_active is False
    assert 'name="csrf_token"' in page
    edit_row = text(client.htmx("get", f"/admin/outlets/{own.id}/edit"))
    assert 'name="csrf_token"' in edit_row
