"""Teams and brands in a real browser (Chromium): htmx swaps, toasts, confirm, 409, no-JS.

Uses the e2e harness of tests/e2e (its own app instance and database, demo company).
Everything this file changes it creates itself, so the demo teams and brands other
browser tests rely on stay as they were.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORT, login

pytestmark = pytest.mark.e2e


def _db(e2e_app, fn):
    from kdcs.extensions import db

    with e2e_app.app_context():
        result = fn(db)
        db.session.commit()
        return result


def _make_team(e2e_app, name):
    from kdcs.models import Team

    return _db(e2e_app, lambda db: (db.session.add(t := Team(name=name)), db.session.flush(), t.id)[2])


def _make_brand(e2e_app, code, name):
    from kdcs.models import Brand

    return _db(e2e_app, lambda db: (db.session.add(b := Brand(code=code, name=name)), db.session.flush(), b.id)[2])


def _no_reload(page):
    page.evaluate("window.__kdcsNoReload = 'still-here'")
    return lambda: page.evaluate("window.__kdcsNoReload") == "still-here"


def test_teams_search_create_edit_deactivate_without_reload(login_as, e2e_app):
    page = login_as("admin")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/admin/teams")
    still_here = _no_reload(page)
    table = page.locator("#team-table")
    expect(table).to_contain_text("一组")
    expect(table).to_contain_text("二组")

    # Active search: the table narrows, the URL follows.
    page.fill("#team-q", "二")
    expect(table).not_to_contain_text("一组")
    expect(table).to_contain_text("二组")
    assert "q=" in page.url
    page.fill("#team-q", "")
    expect(table).to_contain_text("一组")

    # Create: the form resets, the table refreshes, a toast says so.
    page.fill("#new-team-name", "浏览器测试组")
    page.get_by_role("button", name="创建团队").click()
    expect(page.locator("#toasts")).to_contain_text("团队 浏览器测试组 已创建。")
    expect(table).to_contain_text("浏览器测试组")
    expect(page.locator("#new-team-name")).to_have_value("")

    # A Chinese error beside the field.
    page.fill("#new-team-name", "一组")
    page.get_by_role("button", name="创建团队").click()
    expect(page.locator("#team-create")).to_contain_text("已有名为 一组 的团队。")

    # Inline edit swaps the row in place.
    row = page.locator("tr", has_text="浏览器测试组")
    row.get_by_role("link", name="编辑").click()
    name_input = page.locator("tr.editing input[name=name]")
    expect(name_input).to_be_visible()
    name_input.fill("浏览器测试组（改）")
    page.locator("tr.editing select[name=lead_id]").select_option(label="陈刚（lead2）")
    page.locator("tr.editing").get_by_role("button", name="保存").click()
    row = page.locator("tr", has_text="浏览器测试组（改）")
    expect(row).to_contain_text("陈刚")
    expect(page.locator("tr.editing")).to_have_count(0)

    # Deactivating 一组 (with members) is refused with a toast; the empty team can go.
    page.locator("tr", has_text="一组").filter(has_text="王丽").get_by_role("button", name="停用").click()
    expect(page.locator("#toasts")).to_contain_text(re.compile(r"还有 \d+ 名启用的成员，不能停用"))
    row.get_by_role("button", name="停用").click()
    expect(row).to_have_class("inactive")
    expect(row.get_by_role("button", name="启用")).to_be_visible()
    assert still_here(), "the page reloaded"
    assert not page.js_errors, page.js_errors


def test_stale_inline_edit_shows_the_conflict_row(login_as, e2e_app):
    from kdcs.models import Team

    team_id = _make_team(e2e_app, "冲突测试组")
    page = login_as("admin")
    page.goto("/admin/teams?q=冲突")
    page.locator(f"#team-{team_id}").get_by_role("link", name="编辑").click()
    expect(page.locator("tr.editing input[name=name]")).to_be_visible()

    def rename(db):
        db.session.get(Team, team_id).name = "冲突测试组（别人改的）"

    _db(e2e_app, rename)
    page.fill("tr.editing input[name=name]", "冲突测试组（我改的）")
    page.locator("tr.editing").get_by_role("button", name="保存").click()
    conflict = page.locator(f"#team-{team_id}")
    expect(conflict).to_contain_text("其他人保存了团队 冲突测试组（别人改的）。您的修改尚未保存。")
    expect(conflict.locator("dl.stored")).to_contain_text("冲突测试组（别人改的）")
    # What the user typed is still in the form; saving again replaces the stored name.
    expect(conflict.locator("input[name=name]")).to_have_value("冲突测试组（我改的）")
    conflict.get_by_role("button", name="保存").click()
    row = page.locator(f"#team-{team_id}")
    expect(row).not_to_have_class("editing conflict")
    expect(row).to_contain_text("冲突测试组（我改的）")
    assert not page.js_errors, page.js_errors


def test_brands_refusal_edit_and_create(login_as, e2e_app):
    brand_id = _make_brand(e2e_app, "E2EB", "测试品牌")
    page = login_as("admin")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/admin/brands")
    still_here = _no_reload(page)

    page.locator("tr", has_text="ZTO").get_by_role("button", name="停用").click()
    expect(page.locator("#toasts")).to_contain_text("品牌 中通 还有")
    expect(page.locator("tr", has_text="ZTO")).not_to_have_class("inactive")

    row = page.locator(f"#brand-{brand_id}")
    row.get_by_role("link", name="编辑").click()
    page.fill("tr.editing input[name=name]", "测试品牌二")
    page.locator("tr.editing").get_by_role("button", name="保存").click()
    expect(page.locator(f"#brand-{brand_id}")).to_contain_text("测试品牌二")
    page.locator(f"#brand-{brand_id}").get_by_role("button", name="停用").click()
    expect(page.locator(f"#brand-{brand_id}")).to_have_class("inactive")

    page.fill("#new-brand-code", "e2ec")
    page.fill("#new-brand-name", "新测试品牌")
    page.get_by_role("button", name="创建品牌").click()
    expect(page.locator("#brand-table")).to_contain_text("E2EC")
    page.fill("#brand-q", "E2EC")
    expect(page.locator("#brand-table")).not_to_contain_text("ZTO")
    assert still_here(), "the page reloaded"
    assert not page.js_errors, page.js_errors


def test_teams_work_without_javascript(browser, base_url, e2e_app):
    team_id = _make_team(e2e_app, "无脚本组")
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=base_url, java_script_enabled=False)
    page = context.new_page()
    try:
        login(page, "admin")
        page.goto("/admin/teams")
        page.fill("#team-q", "无脚本")
        page.get_by_role("button", name="搜索").click()
        expect(page.locator("#team-table")).not_to_contain_text("一组")
        row = page.locator(f"#team-{team_id}")
        row.get_by_role("link", name="编辑").click()
        assert page.url.endswith(f"/admin/teams/{team_id}/edit")
        page.fill("input[name=name]", "无脚本组（改）")
        page.get_by_role("button", name="保存").click()
        assert page.url.endswith(f"/admin/teams/{team_id}")
        expect(page.locator("main")).to_contain_text("团队 无脚本组（改） 已保存。")
        page.get_by_role("button", name="停用").click()
        expect(page.locator("main")).to_contain_text("团队 无脚本组（改） 已停用。")
    finally:
        context.close()
