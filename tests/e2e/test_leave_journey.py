"""The leave journey in a real browser (issue 12): agent3 (赵磊) requests annual leave five days ahead
with agent4 (孙婷) as substitute; agent4 accepts; lead1 approves; on the leave's first day agent4's queue
shows agent3's outlets' tickets marked 代班 and a newly imported ticket for one of them goes to agent4;
after the end agent3 is back, the queue is theirs again and agent3 reads the digest.

The server's clock is real, so the leave is moved instead: once approved its dates are shifted so
that it starts today (the first day), then its end is set to now (it is over). The periodic task runs
in between, as the consumer would (``kdcs.leave.tasks.run``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

OWNER, SUBSTITUTE = "agent3", "agent4"
JOB_TIMEOUT = 30_000


def _in_app(e2e_app, fn):
    from kdcs.extensions import db

    with e2e_app.app_context():
        result = fn(db)
        db.session.commit()
        return result


def _switch(page, username: str) -> None:
    page.context.clear_cookies()
    login(page, username)


def _five_days_ahead(e2e_app):
    """The first day five days ahead, and the last day: the first working day from there."""
    from kdcs.leave import rules
    from kdcs.workcalendar import DbCalendar

    with e2e_app.app_context():
        calendar = DbCalendar()
        start = rules.beijing_today() + timedelta(days=5)
        end = start
        while not calendar(end):
            end += timedelta(days=1)
        return start, end


def _owner_outlets(e2e_app) -> list[dict]:
    from kdcs.models import Outlet, Ticket, TicketStatus, User

    def read(db):
        owner = db.session.scalar(select(User).where(User.username == OWNER))
        outlets = db.session.scalars(select(Outlet).where(Outlet.primary_agent_id == owner.id)
                                     .order_by(Outlet.code)).all()
        return [{"id": o.id, "code": o.code, "name": o.name, "brand_id": o.brand_id,
                 "open": db.session.scalar(select(func.count()).select_from(Ticket).where(
                     Ticket.outlet_id == o.id, Ticket.status != TicketStatus.CLOSED))} for o in outlets]

    return _in_app(e2e_app, read)


def _move_to_first_day(e2e_app, leave_id: int) -> None:
    """Shift the approved leave so that its first day is today (Beijing)."""
    from kdcs.leave import rules
    from kdcs.models import LeaveRequest

    def shift(db):
        leave = db.session.get(LeaveRequest, leave_id)
        delta = leave.start_date - rules.beijing_today()
        leave.start_date -= delta
        leave.end_date -= delta
        leave.start_at -= delta
        leave.end_at -= delta

    _in_app(e2e_app, shift)


def _end_now(e2e_app, leave_id: int) -> None:
    """End the leave now: everything done so far (the import a moment ago, on a fast machine well under a
    second ago) falls inside its window; the task, run after, finds it over."""
    from kdcs.models import LeaveRequest, utcnow

    def end(db):
        db.session.get(LeaveRequest, leave_id).end_at = utcnow()

    _in_app(e2e_app, end)


def _run_task(e2e_app) -> dict:
    from kdcs.leave import tasks

    with e2e_app.app_context():
        return tasks.run()


def _import_one_ticket(page, e2e_app, zh, outlet: dict) -> str:
    """lead1 imports a one-row export for ``outlet`` through the import pages; returns its waybill."""
    from kdcs.workcalendar import SHANGHAI
    from tests.test_tickets_import import xlsx

    waybill = "7736" + datetime.now().strftime("%m%d%H%M%S")
    registered = (datetime.now(SHANGHAI) - timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M")
    data = xlsx([["运单号", "网点编码", "类别", "进港出港", "原因", "登记时间", "客户姓名"],
                 [waybill, outlet["code"], "问题件", "进港", "查无此人", registered, "钱先生"]])
    page.goto("/tickets/import")
    page.select_option("#brand_id", str(outlet["brand_id"]))
    page.set_input_files("#file", files=[{"name": "代班导入.xlsx", "mimeType":
                                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                          "buffer": data}])
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Upload and map columns"), exact=True).click()
    expect(page.locator("#col_waybill_no")).to_have_value("运单号")
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Check all rows"), exact=True).last.click()  # the same button heads the card
    expect(page.locator("[data-import-counts]")).to_be_visible(timeout=JOB_TIMEOUT)
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Import %(n)s tickets") % {"n": 1}, exact=True).click()
    expect(page.locator("[data-import-done]")).to_be_visible(timeout=JOB_TIMEOUT)
    return waybill


def test_leave_with_handover_coverage_and_return(page, e2e_app, zh):
    from kdcs.models import LeaveRequest, LeaveStatus, Ticket

    outlets = _owner_outlets(e2e_app)
    assert outlets and sum(o["open"] for o in outlets) > 0, "the demo gives agent3 outlets with open tickets"

    # 1. agent3 requests annual leave five days ahead, agent4 for every outlet.
    login(page, OWNER)
    start, end = _five_days_ahead(e2e_app)
    page.goto("/leave/new")
    page.select_option("#type_id", label="年假")
    page.fill("#start_date", start.isoformat())
    page.fill("#end_date", end.isoformat())
    page.fill("#reason", "回老家办事")
    page.select_option("#substitute_id", label="孙婷（agent4）")
    expect(page.locator("#cand-all")).to_contain_text("同组")  # the substitute's checks while choosing
    page.locator(f"#promises_{outlets[0]['id']}").fill("已答应客户周五前回电")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#leave-status")).to_have_text("已提交")
    leave_url = page.url
    leave_id = int(re.search(r"/leave/(\d+)$", leave_url).group(1))

    # 2. agent4 reads the handover and accepts.
    _switch(page, SUBSTITUTE)
    page.goto(leave_url)
    expect(page.locator("table.leave-handover")).to_contain_text("已答应客户周五前回电")
    page.get_by_role("button", name="已阅读交接内容，确认接手").click()
    expect(page.locator("#leave-status")).to_have_text("替补已确认")

    # 3. lead1 approves from the inbox (the row updates in place).
    _switch(page, "lead1")
    page.goto("/leave/")
    item = page.locator(".inbox-item", has_text="赵磊")
    item.get_by_role("button", name="批准").click()
    expect(page.locator(".inbox-item.decided", has_text="赵磊")).to_contain_text("已批准")

    # Before the leave nothing is covered.
    _switch(page, SUBSTITUTE)
    page.goto(f"/tickets/?outlet={outlets[0]['id']}")
    expect(page.locator("table.tickets tbody tr[id^=ticket-]")).to_have_count(0)

    # 4. The leave's first day: the task starts it and tells agent4.
    _move_to_first_day(e2e_app, leave_id)
    assert _run_task(e2e_app)["started"] == 1
    page.goto("/notifications/")
    expect(page.locator("#notification-list")).to_contain_text("赵磊")

    # agent4's 我的 queue: agent3's outlets' tickets, each marked 代班 with agent3 as the owner.
    for outlet in outlets:
        page.goto(f"/tickets/?outlet={outlet['id']}")
        rows = page.locator("table.tickets tbody tr[id^=ticket-]")
        expect(rows).to_have_count(min(outlet["open"], 50))
        if outlet["open"]:
            expect(rows.locator(".covering")).to_have_count(min(outlet["open"], 50))
            expect(rows.first).to_contain_text("赵磊")
    page.goto("/tickets/")
    expect(page.locator("table.tickets .covering").first).to_be_visible()

    # A new imported ticket for one of agent3's outlets goes to agent4.
    _switch(page, "lead1")
    waybill = _import_one_ticket(page, e2e_app, zh, outlets[0])

    def assignee(db):
        ticket = db.session.scalar(select(Ticket).where(Ticket.waybill_no == waybill))
        return ticket.assignee.username

    assert _in_app(e2e_app, assignee) == SUBSTITUTE
    _switch(page, SUBSTITUTE)
    page.goto(f"/tickets/?q={waybill}")
    row = page.locator("table.tickets tbody tr[id^=ticket-]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("孙婷")
    expect(row.locator(".covering")).to_contain_text("赵磊")

    # 5. After the end: the task ends the leave, hands the new ticket back and sends agent3 the digest.
    _end_now(e2e_app, leave_id)
    done = _run_task(e2e_app)
    assert done["returned"] == 1 and done["digests"] == 1
    assert _in_app(e2e_app, assignee) == OWNER
    status = _in_app(e2e_app, lambda db: db.session.get(LeaveRequest, leave_id).status)
    assert status == LeaveStatus.RETURNED
    page.goto("/tickets/")
    expect(page.locator("table.tickets .covering")).to_have_count(0)  # the queue is agent3's again

    _switch(page, OWNER)
    page.goto("/notifications/")
    note = page.locator("#notification-list tr", has_text="欢迎回来")
    expect(note).to_have_count(1)
    with page.expect_navigation():
        note.get_by_role("button", name=zh("Open"), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/leave/{leave_id}/digest$"))
    expect(page.locator("h1")).to_have_text("销假摘要")
    digest = page.locator("#leave-digest")
    expect(digest).to_contain_text("赵磊")
    table = page.locator("table.data").first
    for outlet in outlets:
        expect(table).to_contain_text(outlet["name"])
    expect(table).to_contain_text("孙婷")
    row = table.locator("tr", has_text=outlets[0]["name"])
    expect(row.locator("td").nth(2)).to_have_text(re.compile(r"[1-9]\d*"))  # the imported ticket is new
    assert page.js_errors == []
