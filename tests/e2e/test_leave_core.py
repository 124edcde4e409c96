"""Leave requests in a real browser (Chromium): notice refused in Chinese, a sick leave one day ahead
approved with lead1's override, lead1 unable to approve their own leave, the printable 交接单 at A4.

Uses the e2e harness (its own app and database, demo company). The agents this file requests leave
for are its own (created here, in 一组), so the demo's leave and the journey test stay as they were.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, login

pytestmark = pytest.mark.e2e


def _db(e2e_app, fn):
    from kdcs.extensions import db

    with e2e_app.app_context():
        result = fn(db)
        db.session.commit()
        return result


@pytest.fixture(scope="module")
def pair(e2e_app):
    """Two agents of 一组 (the requester with an outlet and an open ticket, and a substitute)."""
    from kdcs.models import Brand, Outlet, Team, User
    from tests.factories import _password_hash

    def build(db):
        team = db.session.scalar(db.select(Team).where(Team.name == "一组"))
        brand = db.session.scalar(db.select(Brand).order_by(Brand.id))
        users = []
        for username, name in (("leavee2e1", "请假甲"), ("leavee2e2", "替班乙")):
            user = User(username=username, display_name=name, role="agent", team_id=team.id,
                        password_hash=_password_hash("demo1234"))
            db.session.add(user)
            users.append(user)
        db.session.flush()
        db.session.add(Outlet(code="E2ELEAVE01", name="中通测试请假网点", brand_id=brand.id,
                              primary_agent_id=users[0].id))
        return [u.username for u in users]

    names = _db(e2e_app, build)
    from tests.training_cert_data import certify_in

    certify_in(e2e_app, names)  # the demo has 上岗必修 courses: only certified agents may be substitutes
    return names


def _switch(page, username: str) -> None:
    page.context.clear_cookies()
    login(page, username)


def _dates(e2e_app, days_ahead: int):
    from kdcs.leave import rules
    from kdcs.workcalendar import DbCalendar

    with e2e_app.app_context():
        calendar = DbCalendar()
        start = rules.beijing_today() + timedelta(days=days_ahead)
        end = start
        while not calendar(end):
            end += timedelta(days=1)
        return start, end


def _fill_request(page, type_name: str, start, end, substitute: str | None):
    page.goto("/leave/new")
    page.select_option("#type_id", label=type_name)
    page.fill("#start_date", start.isoformat())
    page.fill("#end_date", end.isoformat())
    page.fill("#reason", "浏览器测试")
    if substitute:
        page.select_option("#substitute_id", label=substitute)


def test_one_day_ahead_refused_in_chinese(page, e2e_app, pair):
    login(page, pair[0])
    start, end = _dates(e2e_app, 1)
    _fill_request(page, "年假", start, end, "替班乙（leavee2e2）")
    # The substitute's checks appear while choosing (htmx).
    expect(page.locator("#cand-all")).to_contain_text("同组")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#leave-errors")).to_contain_text("年假须至少提前 2 天申请")
    assert "/leave/new" in page.url
    assert page.js_errors == []


def test_sick_leave_one_day_ahead_goes_through_with_lead1_override(page, e2e_app, pair):
    login(page, pair[0])
    start, end = _dates(e2e_app, 1)
    _fill_request(page, "病假", start, end, "替班乙（leavee2e2）")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#leave-status")).to_have_text("已提交")
    leave_url = page.url

    _switch(page, pair[1])
    page.goto(leave_url)
    page.get_by_role("button", name="已阅读交接内容，确认接手").click()
    expect(page.locator("#leave-status")).to_have_text("替补已确认")

    _switch(page, "lead1")
    page.goto("/leave/")
    item = page.locator(".inbox-item", has_text="请假甲")
    expect(item).to_contain_text("临时申请")
    item.get_by_role("button", name="批准").click()
    expect(item).to_contain_text("未满提前天数")  # the override is needed, nothing decided
    item.get_by_label("特批：允许临时申请").check()
    item.get_by_label("备注").fill("发烧，先批，病假条回来补")
    item.get_by_role("button", name="批准").click()
    decided = page.locator(".inbox-item.decided", has_text="请假甲")
    expect(decided).to_contain_text("已批准")  # the row updated in place
    assert page.js_errors == []


def test_lead1_cannot_approve_own_leave(page, e2e_app):
    login(page, "lead1")
    start, end = _dates(e2e_app, 9)
    _fill_request(page, "事假", start, end, None)
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#leave-status")).to_have_text("替补已确认")
    expect(page.locator("#leave-actions")).to_contain_text("任何人都不能审批自己的请假")
    expect(page.get_by_role("button", name="批准")).to_have_count(0)
    page.goto("/leave/")
    expect(page.locator("#leave-inbox .inbox-item", has_text="王丽")).to_have_count(0)


def test_print_view_at_a4(page, e2e_app, pair):
    login(page, pair[0])
    page.goto("/leave/")
    page.get_by_role("link", name="交接单").first.click()
    page.get_by_role("link", name="打印交接单").click()
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.emulate_media(media="print")
    expect(page.locator("h1")).to_have_text("工作交接单")
    expect(page.locator("table.signatures")).to_contain_text("组长")
    expect(page.get_by_text("按 Ctrl+P 打印")).to_be_hidden()
    # Nothing wider than the page: no cut tables.
    assert page.evaluate("document.documentElement.scrollWidth") <= 794
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "leave_print_a4.png"), full_page=True)
    pdf = page.pdf(format="A4")
    assert pdf[:4] == b"%PDF"
