"""Ticket settings in a real browser (Chromium): the inline-edit kit's edit and 409 conflict
rows on the deadline rules, the work calendar's day editor conflict.

Uses the e2e harness of tests/e2e (its own app instance and database, demo company).
What it changes it creates itself (a rule for a brand of its own, a day in 2030), so
the demo data other browser tests rely on stays as it was.
"""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def _db(e2e_app, fn):
    from kdcs.extensions import db

    with e2e_app.app_context():
        result = fn(db)
        db.session.commit()
        return result


def _make_rule(e2e_app) -> int:
    """A rule for a brand only this test uses (clock time, 2 h / 24 h)."""
    from kdcs.models import Brand
    from kdcs.models.ticket import DeadlineRule

    def make(db):
        brand = Brand(code="E2ER", name="规则测试品牌")
        db.session.add(brand)
        db.session.flush()
        rule = DeadlineRule(brand_id=brand.id, category="problem", reply_minutes=120, resolve_minutes=1440,
                            mode="clock", note="原来的备注", is_active=True)
        db.session.add(rule)
        db.session.flush()
        return rule.id

    return _db(e2e_app, make)


def test_rule_conflict_keeps_what_was_typed_and_saves_again(login_as, e2e_app):
    from kdcs.models.ticket import DeadlineRule

    rule_id = _make_rule(e2e_app)
    page = login_as("admin")
    page.goto("/tickets/rules?q=规则测试品牌")
    page.locator(f"#rule-{rule_id}").get_by_role("link", name="编辑").click()
    editing = page.locator(f"#rule-{rule_id}.editing")
    expect(editing.locator("input[name=reply_hours]")).to_have_value("2")
    # The service window only shows for service-hours counting.
    expect(editing.locator("input[name=service_start]")).to_be_hidden()
    editing.locator("select[name=mode]").select_option("service_hours")
    expect(editing.locator("input[name=service_start]")).to_be_visible()
    editing.locator("select[name=mode]").select_option("clock")

    def someone_else(db):
        rule = db.session.get(DeadlineRule, rule_id)
        rule.reply_minutes, rule.note = 180, "别人的备注"

    _db(e2e_app, someone_else)
    editing.locator("input[name=reply_hours]").fill("5")
    editing.locator("input[name=note]").fill("我的备注")
    editing.get_by_role("button", name="保存").click()
    conflict = page.locator(f"#rule-{rule_id}.conflict")
    expect(conflict).to_contain_text("其他人保存了规则“规则测试品牌 · 问题件 · 任意原因”")
    expect(conflict.locator("dl.stored")).to_contain_text("3 小时")
    expect(conflict.locator("dl.stored")).to_contain_text("别人的备注")
    expect(conflict.locator("input[name=reply_hours]")).to_have_value("5")
    expect(conflict.locator("input[name=note]")).to_have_value("我的备注")
    conflict.get_by_role("button", name="保存").click()
    row = page.locator(f"#rule-{rule_id}")
    expect(row).not_to_have_class("editing conflict")
    expect(row).to_contain_text("5 小时")
    expect(row).to_contain_text("我的备注")
    assert _db(e2e_app, lambda db: db.session.get(DeadlineRule, rule_id).reply_minutes) == 300
    assert not page.js_errors, page.js_errors


def test_calendar_day_conflict_shows_the_stored_day(login_as, e2e_app):
    from kdcs.models.ticket import WorkCalendarDay

    day = date(2030, 6, 12)  # a Wednesday no seed or other test touches
    page = login_as("admin")
    page.goto(f"/tickets/calendar?year=2030&month=6&day={day.isoformat()}")
    editor = page.locator("#day-editor")
    expect(editor.locator("input[name=version]")).to_have_value("0")
    _db(e2e_app, lambda db: db.session.add(WorkCalendarDay(day=day, is_workday=False, name="别人定的假", source="admin")))
    editor.get_by_label("休息日").check()
    editor.locator("#day-name").fill("我定的假")
    editor.get_by_role("button", name="保存", exact=True).click()
    expect(editor.locator(".conflict-box")).to_contain_text("其他人保存了6月12日（周三）")
    expect(editor.locator("dl.stored")).to_contain_text("别人定的假")
    expect(editor.locator("#day-name")).to_have_value("我定的假")
    expect(editor.locator("input[name=version]")).to_have_value("1")
    editor.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(f"#day-{day.isoformat()}")).to_contain_text("我定的假")
    expect(editor.locator(".conflict-box")).to_have_count(0)
    assert not page.js_errors, page.js_errors
