"""Brands page over HTTP: list, search, create, inline edit, (de)activation."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models import AuditLog, Brand
from tests import factories


@pytest.fixture
def admin_client(client, auth, users):
    auth.login(users["admin"])
    return client


def _text(response) -> str:
    return response.get_data(as_text=True)


def _toasts(response) -> list[dict]:
    return json.loads(response.headers["HX-Trigger"])["toast"]


@pytest.fixture
def zto():
    brand = factories.make_brand("ZTO", "中通")
    factories.make_outlet(brand=brand)
    factories.make_outlet(brand=brand)
    factories.make_outlet(brand=brand, active=False)
    return brand


def test_list_shows_code_name_outlet_counts(admin_client, zto):
    factories.make_brand("YTO", "圆通")
    html = _text(admin_client.get("/admin/brands"))
    assert "<title>品牌" in html and "新建品牌" in html and "品牌代码" in html
    row = re.search(rf'<tr id="brand-{zto.id}".*?</tr>', html, re.S).group(0)
    assert "<strong>ZTO</strong>" in row and "中通" in row
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["3", "2"]
    assert "共 2 个品牌" in html


def test_active_search(admin_client, zto):
    factories.make_brand("YTO", "圆通")
    response = admin_client.htmx("get", "/admin/brands?q=圆")
    html = _text(response)
    assert html.lstrip().startswith("<table") and "<html" not in html
    assert "YTO" in html and "ZTO" not in html
    html = _text(admin_client.htmx("get", "/admin/brands?q=zt"))
    assert "ZTO" in html and "YTO" not in html
    html = _text(admin_client.get("/admin/brands?q=zt"))
    assert "<html" in html and 'value="zt"' in html and "delay:300ms" in html and 'hx-push-url="true"' in html


def test_create_brand_htmx_and_no_js(admin_client, users):
    response = admin_client.htmx("post", "/admin/brands/new", data={"code": "sf", "name": "顺丰"})
    assert response.status_code == 200
    events = json.loads(response.headers["HX-Trigger"])
    assert events["brands-changed"] is True
    assert events["toast"] == [{"message": "品牌 顺丰 已创建。", "level": "success"}]
    assert db.session.scalar(select(Brand).where(Brand.code == "SF")).name == "顺丰"

    response = admin_client.post("/admin/brands/new", data={"code": "JD", "name": "京东"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/brands"
    assert "品牌 京东 已创建。" in _text(admin_client.get("/admin/brands"))
    actions = [e.action for e in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions == ["brand.create", "brand.create"]


@pytest.mark.parametrize("htmx", [True, False])
def test_create_brand_errors_in_chinese(admin_client, zto, htmx):
    def post(data):
        return admin_client.htmx("post", "/admin/brands/new", data=data) if htmx else admin_client.post("/admin/brands/new", data=data)

    html = _text(post({"code": "zto", "name": "中通"}))
    assert "品牌代码 ZTO 已被使用。" in html and "已有名为 中通 的品牌。" in html
    html = _text(post({"code": "中 通", "name": ""}))
    assert "最多 16 个字母或数字" in html and "请输入品牌名称。" in html
    assert ("<html" in html) is (not htmx)
    assert db.session.scalar(select(AuditLog.id)) is None


def test_inline_edit_and_cancel(admin_client, zto):
    response = admin_client.htmx("get", f"/admin/brands/{zto.id}/edit")
    html = _text(response)
    assert html.lstrip().startswith(f'<tr id="brand-{zto.id}" class="editing">')
    assert 'value="ZTO"' in html and 'value="中通"' in html
    response = admin_client.htmx("post", f"/admin/brands/{zto.id}/edit",
                                 data={"code": "zto", "name": "中通快递", "version": str(zto.version)})
    html = _text(response)
    assert html.lstrip().startswith(f'<tr id="brand-{zto.id}" class="">') and "中通快递" in html
    assert _toasts(response) == [{"message": "品牌 中通快递 已保存。", "level": "success"}]
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "brand.update"))
    assert entry.before == {"name": "中通"} and entry.after == {"name": "中通快递"}
    html = _text(admin_client.htmx("get", f"/admin/brands/{zto.id}/row"))
    assert html.lstrip().startswith(f'<tr id="brand-{zto.id}"') and "editing" not in html


def test_inline_edit_error_stays_in_row(admin_client, zto):
    factories.make_brand("YTO", "圆通")
    response = admin_client.htmx("post", f"/admin/brands/{zto.id}/edit",
                                 data={"code": "YTO", "name": "中通", "version": str(zto.version)})
    html = _text(response)
    assert response.status_code == 200 and 'class="editing"' in html and "品牌代码 YTO 已被使用。" in html


def test_edit_without_js(admin_client, zto):
    html = _text(admin_client.get(f"/admin/brands/{zto.id}/edit"))
    assert "<html" in html and "编辑 · 品牌 中通" in html
    response = admin_client.post(f"/admin/brands/{zto.id}/edit", data={"code": "ZTO", "name": "中通速递", "version": str(zto.version)})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/brands"


def test_stale_brand_edit_is_409(admin_client, zto):
    version = zto.version
    admin_client.htmx("post", f"/admin/brands/{zto.id}/edit", data={"code": "ZTO", "name": "甲", "version": str(version)})
    response = admin_client.htmx("post", f"/admin/brands/{zto.id}/edit", data={"code": "ZTO", "name": "乙", "version": str(version)})
    assert response.status_code == 409
    assert "其他人保存了品牌 甲。您的修改尚未保存。" in _text(response) and 'value="乙"' in _text(response)
    response = admin_client.post(f"/admin/brands/{zto.id}/edit", data={"code": "ZTO", "name": "乙", "version": str(version)})
    assert response.status_code == 409 and "<html" in _text(response)
    db.session.refresh(zto)
    assert zto.name == "甲"


def test_deactivate_brand_with_active_outlets_is_refused(admin_client, zto):
    response = admin_client.htmx("post", f"/admin/brands/{zto.id}/active", data={"active": "0"})
    assert response.status_code == 200
    assert _toasts(response) == [{"message": "品牌 中通 还有 2 个启用的网点，不能停用。请先停用这些网点或把它们改到其他品牌。",
                                  "level": "danger"}]
    db.session.refresh(zto)
    assert zto.is_active
    html = _text(admin_client.get("/admin/brands"))
    assert 'title="请先停用或转移其 2 个启用的网点。"' in html and "还有启用网点的品牌不能停用" in html
    # Without JS the refusal comes back as a flash on the list.
    response = admin_client.post(f"/admin/brands/{zto.id}/active", data={"active": "0"})
    assert response.status_code == 303
    assert "还有 2 个启用的网点" in _text(admin_client.get(response.headers["Location"]))


def test_deactivate_and_activate_brand(admin_client):
    sf = factories.make_brand("SF", "顺丰")
    response = admin_client.htmx("post", f"/admin/brands/{sf.id}/active", data={"active": "0"})
    html = _text(response)
    assert 'class="inactive"' in html and "已停用" in html
    assert _toasts(response) == [{"message": "品牌 顺丰 已停用。", "level": "success"}]
    response = admin_client.htmx("post", f"/admin/brands/{sf.id}/active", data={"active": "1"})
    assert _toasts(response) == [{"message": "品牌 顺丰 已启用。", "level": "success"}]
    actions = [(e.action, e.before, e.after) for e in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions == [("brand.deactivate", {"is_active": True}, {"is_active": False}),
                       ("brand.activate", {"is_active": False}, {"is_active": True})]


def test_audit_page_shows_chinese_labels_for_org_actions(admin_client, zto):
    admin_client.htmx("post", f"/admin/brands/{zto.id}/edit", data={"code": "ZTO", "name": "中通快递", "version": str(zto.version)})
    html = _text(admin_client.get("/admin/audit"))
    assert '<span class="badge">修改品牌</span>' in html
