"""Teams pages over HTTP: list, active search, create, inline edit, (de)activation, detail."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models import AuditLog, Team
from tests import factories


@pytest.fixture
def admin_client(client, auth, users):
    auth.login(users["admin"])
    return client


def _toasts(response) -> list[dict]:
    return json.loads(response.headers["HX-Trigger"])["toast"]


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_list_shows_teams_with_lead_and_counts(admin_client, users):
    factories.make_user("agent", team=users["team"])
    factories.make_user("agent", team=users["team"], active=False)
    factories.make_team("二组")
    response = admin_client.get("/admin/teams")
    html = _text(response)
    assert response.status_code == 200
    assert "<title>团队" in html and "新建团队" in html and "组长" in html
    row = re.search(rf'<tr id="team-{users["team"].id}".*?</tr>', html, re.S).group(0)
    assert users["lead"].display_name in row
    # members: lead + 2 active agents; agents: 2 (the inactive one is not counted)
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["3", "2"]
    assert "badge-ok" in row
    assert "未指定组长" in html  # 二组 has no lead
    assert "共 2 个团队" in html


def test_active_search_returns_only_the_table_block(admin_client, users):
    factories.make_team("二组")
    response = admin_client.htmx("get", "/admin/teams?q=二")
    html = _text(response)
    assert response.status_code == 200
    assert "<html" not in html and "新建团队" not in html
    assert html.lstrip().startswith("<table")
    assert "二组" in html and "一组" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_search_without_js_is_a_full_page_keeping_the_query(admin_client, users):
    factories.make_team("二组")
    html = _text(admin_client.get("/admin/teams?q=二"))
    assert "<html" in html and 'value="二"' in html
    assert ">二组</a>" in html and ">一组</a>" not in html
    # The search form works by GET without htmx and pushes the URL with it.
    assert 'method="get" action="/admin/teams"' in html
    assert 'hx-push-url="true"' in html and "delay:300ms" in html


def test_search_by_lead_and_status(admin_client, users):
    off = factories.make_team("停用组")
    off.is_active = False
    db.session.commit()
    html = _text(admin_client.htmx("get", f"/admin/teams?q={users['lead'].display_name}"))
    assert "一组" in html and "停用组" not in html
    html = _text(admin_client.htmx("get", "/admin/teams?active=0"))
    assert "停用组" in html and ">一组<" not in html
    html = _text(admin_client.htmx("get", "/admin/teams?q=没有这个"))
    assert "没有符合条件的团队" in html


def test_create_team_without_js_redirects_and_flashes(admin_client, users):
    lead = factories.make_user("lead", display_name="陈刚")
    response = admin_client.post("/admin/teams/new", data={"name": "二组", "lead_id": str(lead.id)})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/teams"
    team = db.session.scalar(select(Team).where(Team.name == "二组"))
    assert team.lead_id == lead.id
    html = _text(admin_client.get("/admin/teams"))
    assert "团队 二组 已创建。" in html
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "team.create"))
    assert entry.entity_id == team.id and entry.actor_id == users["admin"].id


def test_create_team_with_htmx_resets_form_and_refreshes_table(admin_client, users):
    response = admin_client.htmx("post", "/admin/teams/new", data={"name": "三组", "lead_id": "0"})
    assert response.status_code == 200
    html = _text(response)
    assert "<h2>新建团队</h2>" in html and "<table" not in html
    assert 'value="三组"' not in html  # a fresh form
    events = json.loads(response.headers["HX-Trigger"])
    assert events["teams-changed"] is True
    assert events["toast"] == [{"message": "团队 三组 已创建。", "level": "success"}]
    assert db.session.scalar(select(Team).where(Team.name == "三组")).lead_id is None


@pytest.mark.parametrize("htmx", [True, False])
def test_create_team_errors_are_shown_in_chinese(admin_client, users, htmx):
    agent = users["agent"]
    def post(url, data):
        return admin_client.htmx("post", url, data=data) if htmx else admin_client.post(url, data=data)

    response = post("/admin/teams/new", {"name": "一组", "lead_id": str(agent.id)})
    assert response.status_code == 200
    html = _text(response)
    assert "已有名为 一组 的团队。" in html
    assert f"{agent.display_name} 不是组长" in html
    assert ("<html" in html) is (not htmx)
    response = post("/admin/teams/new", {"name": "", "lead_id": "0"})
    assert "请输入团队名称。" in _text(response)
    assert db.session.scalar(select(AuditLog.id)) is None


def test_lead_select_lists_only_active_leads(admin_client, users):
    factories.make_user("lead", display_name="停用组长", active=False)
    factories.make_user("agent", display_name="普通客服")
    html = _text(admin_client.get("/admin/teams"))
    select_html = re.search(r'<select[^>]*id="new-team-lead_id".*?</select>', html, re.S).group(0)
    assert users["lead"].display_name in select_html
    assert "停用组长" not in select_html and "普通客服" not in select_html


def test_inline_edit_row_swaps_in_place(admin_client, users):
    team = users["team"]
    response = admin_client.htmx("get", f"/admin/teams/{team.id}/edit")
    html = _text(response)
    assert html.lstrip().startswith(f'<tr id="team-{team.id}" class="editing">')
    assert f'hx-post="/admin/teams/{team.id}/edit"' in html
    assert f'name="version" value="{team.version}"' in html
    assert 'value="一组"' in html

    new_lead = factories.make_user("lead", display_name="陈刚")
    response = admin_client.htmx("post", f"/admin/teams/{team.id}/edit",
                                 data={"name": "一组（早班）", "lead_id": str(new_lead.id), "version": str(team.version)})
    html = _text(response)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="team-{team.id}" class="">')
    assert "一组（早班）" in html and "陈刚" in html and "editing" not in html
    assert _toasts(response) == [{"message": "团队 一组（早班） 已保存。", "level": "success"}]
    db.session.refresh(team)
    assert (team.name, team.lead_id) == ("一组（早班）", new_lead.id)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "team.update"))
    assert entry.after == {"name": "一组（早班）", "lead_id": new_lead.id}

    # Cancel brings back the plain row.
    html = _text(admin_client.htmx("get", f"/admin/teams/{team.id}/row"))
    assert html.lstrip().startswith(f'<tr id="team-{team.id}"') and "一组（早班）" in html


def test_inline_edit_validation_error_keeps_the_edit_row(admin_client, users):
    team = users["team"]
    trainer = users["trainer"]
    response = admin_client.htmx("post", f"/admin/teams/{team.id}/edit",
                                 data={"name": "一组", "lead_id": str(trainer.id), "version": str(team.version)})
    html = _text(response)
    assert response.status_code == 200
    assert 'class="editing"' in html and f"{trainer.display_name} 不是组长" in html
    db.session.refresh(team)
    assert team.lead_id == users["lead"].id


def test_edit_without_js(admin_client, users):
    team = users["team"]
    html = _text(admin_client.get(f"/admin/teams/{team.id}/edit"))
    assert "<html" in html and "编辑 · 团队 一组" in html and 'name="version"' in html
    response = admin_client.post(f"/admin/teams/{team.id}/edit",
                                 data={"name": "一组A", "lead_id": str(team.lead_id), "version": str(team.version)})
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/teams/{team.id}"
    assert "团队 一组A 已保存。" in _text(admin_client.get(response.headers["Location"]))
    db.session.refresh(team)
    response = admin_client.post(f"/admin/teams/{team.id}/edit", data={"name": "", "lead_id": "0", "version": str(team.version)})
    assert response.status_code == 200 and "请输入团队名称。" in _text(response) and "<html" in _text(response)


def test_stale_inline_edit_is_a_409_row_in_chinese(admin_client, users):
    team = users["team"]
    old_version = team.version
    admin_client.htmx("post", f"/admin/teams/{team.id}/edit",
                      data={"name": "先保存的", "lead_id": "0", "version": str(old_version)})
    response = admin_client.htmx("post", f"/admin/teams/{team.id}/edit",
                                 data={"name": "后保存的", "lead_id": "0", "version": str(old_version)})
    assert response.status_code == 409
    html = _text(response)
    assert html.lstrip().startswith(f'<tr id="team-{team.id}"')
    # The conflict form shows what is stored now and keeps what was typed, with the current version.
    assert "其他人保存了团队 先保存的" in html and "当前保存的内容" in html and "<dd>先保存的</dd>" in html
    assert 'value="后保存的"' in html
    db.session.refresh(team)
    assert f'name="version" value="{team.version}"' in html
    assert team.name == "先保存的"
    assert len(db.session.scalars(select(AuditLog).where(AuditLog.action == "team.update")).all()) == 1


def test_stale_edit_without_js_is_the_409_page(admin_client, users):
    team = users["team"]
    response = admin_client.post(f"/admin/teams/{team.id}/edit",
                                 data={"name": "后保存的", "lead_id": "0", "version": str(team.version + 5)})
    assert response.status_code == 409
    assert "<html" in _text(response) and "其他人" in _text(response) and 'value="后保存的"' in _text(response)


def test_deactivate_team_with_members_is_refused_with_a_toast(admin_client, users):
    team = users["team"]
    response = admin_client.htmx("post", f"/admin/teams/{team.id}/active", data={"active": "0"})
    assert response.status_code == 200
    assert _text(response).lstrip().startswith(f'<tr id="team-{team.id}"')
    (toast,) = _toasts(response)
    assert toast["level"] == "danger"
    assert toast["message"] == ("团队 一组 还有 2 名启用的成员，不能停用。请先把他们调到其他团队或停用其账号，再停用团队。")
    db.session.refresh(team)
    assert team.is_active


def test_deactivate_refusal_without_js_is_flashed(admin_client, users):
    team = users["team"]
    response = admin_client.post(f"/admin/teams/{team.id}/active", data={"active": "0"},
                                 headers={"Referer": f"http://localhost/admin/teams/{team.id}"})
    assert response.status_code == 303 and response.headers["Location"] == f"http://localhost/admin/teams/{team.id}"
    html = _text(admin_client.get(f"/admin/teams/{team.id}"))
    assert "还有 2 名启用的成员" in html


def test_the_page_explains_the_deactivation_rule(admin_client, users):
    html = _text(admin_client.get("/admin/teams"))
    assert "还有启用成员的团队不能停用" in html
    assert 'title="请先把其 2 名启用的成员调到其他团队。"' in html


def test_deactivate_and_activate_empty_team(admin_client, users):
    team = factories.make_team("空组")
    response = admin_client.htmx("post", f"/admin/teams/{team.id}/active", data={"active": "0"})
    html = _text(response)
    assert 'class="inactive"' in html and "已停用" in html and ">启用</button>" in html
    assert _toasts(response) == [{"message": "团队 空组 已停用。", "level": "success"}]
    response = admin_client.post(f"/admin/teams/{team.id}/active", data={"active": "1"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/teams"
    db.session.refresh(team)
    assert team.is_active
    actions = [e.action for e in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions == ["team.deactivate", "team.activate"]


def test_team_detail_lists_members_with_links_and_outlet_counts(admin_client, users):
    team = users["team"]
    agent = users["agent"]
    brand = factories.make_brand()
    factories.make_outlet(brand=brand, agent=agent)
    factories.make_outlet(brand=brand, agent=agent)
    factories.make_user("agent", username="agent_gone", team=team, active=False)
    admin_client.post(f"/admin/teams/{team.id}/edit", data={"name": "一组", "lead_id": str(team.lead_id), "version": str(team.version)})
    html = _text(admin_client.get(f"/admin/teams/{team.id}"))
    assert f'<a href="/admin/users/{agent.id}">agent_a</a>' in html
    assert f'<a href="/admin/users/{users["lead"].id}">lead_a</a>' in html
    row = re.search(rf'<tr class="">\s*<td><a href="/admin/users/{agent.id}">.*?</tr>', html, re.S).group(0)
    assert '<td class="num">2</td>' in row
    assert "agent_gone" in html and 'class="inactive"' in html
    assert "这个团队还有 2 名启用的成员" in html  # the deactivation hint
    assert "客服" in html and "组长" in html


def test_team_detail_history_shows_audit(admin_client, users):
    team = users["team"]
    admin_client.htmx("post", f"/admin/teams/{team.id}/edit", data={"name": "一组新", "lead_id": "0", "version": str(team.version)})
    html = _text(admin_client.get(f"/admin/teams/{team.id}"))
    assert "变更记录" in html and "修改团队" in html and "一组新" in html


def test_toast_header_can_be_sent_by_a_real_server(admin_client, users):
    response = admin_client.htmx("post", "/admin/teams/new", data={"name": "三组", "lead_id": "0"})
    response.headers["HX-Trigger"].encode("latin-1")
