"""Entering a year from the State Council's notice: service (one transaction, audit, replace) and page."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from kdcs.extensions import db
from kdcs.models import AuditLog
from kdcs.models.ticket import WorkCalendarDay
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import StaleEdit, ValidationError
from kdcs.workcalendar import DbCalendar, seed_calendar
from kdcs.workcalendar.notice import parse_notice
from kdcs.workcalendar.service import import_year, next_year_warning, year_day_count
from tests import factories
from tests.holiday_notices import NOTICE_2025, NOTICE_2026


def _rows(year: int) -> dict[date, tuple[bool, str, str]]:
    rows = db.session.scalars(select(WorkCalendarDay).where(
        WorkCalendarDay.day >= date(year, 1, 1), WorkCalendarDay.day <= date(year, 12, 31)))
    return {r.day: (r.is_workday, r.name, r.source) for r in rows}


def test_import_writes_the_year_in_one_transaction_with_an_audit_row(users):
    days = parse_notice(NOTICE_2025).days()
    counts = import_year(users["admin"], 2025, days)
    assert counts == {"holidays": 28, "workdays": 5, "replaced": 0}
    stored = _rows(2025)
    assert {d for d, (w, _n, _s) in stored.items() if not w} == parse_notice(NOTICE_2025).holidays
    assert all(source == "notice" for _w, _n, source in stored.values())
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "calendar.import"))
    assert audit.entity_id == 2025 and audit.actor_id == users["admin"].id
    assert "2025-10-08" in audit.after["holidays"] and audit.before["days"] == 0
    calendar = DbCalendar()
    assert not calendar(date(2025, 10, 8)) and calendar(date(2025, 9, 28))


def test_reimport_replaces_only_after_confirmation(users):
    admin = users["admin"]
    seed_calendar({2026})
    before = year_day_count(2026)
    assert before > 0
    db.session.add(WorkCalendarDay(day=date(2026, 3, 2), is_workday=False, name="公司活动", source="admin"))
    db.session.commit()
    days = {date(2026, 10, 1): (False, "国庆节"), date(2026, 10, 10): (True, "调休上班")}
    with pytest.raises(ValidationError) as refused:
        import_year(admin, 2026, days)
    assert "replace" in refused.value.errors
    assert year_day_count(2026) == before + 1  # nothing changed
    with pytest.raises(StaleEdit):
        import_year(admin, 2026, days, replace=True, expected_existing=before)  # someone added a day meanwhile
    counts = import_year(admin, 2026, days, replace=True, expected_existing=before + 1)
    assert counts["replaced"] == before + 1
    assert set(_rows(2026)) == set(days)  # the hand-edited day went too: the admin confirmed


def test_import_refuses_bad_days_and_non_admins(users):
    with pytest.raises(PermissionDenied):
        import_year(users["agent"], 2027, {date(2027, 1, 1): (False, "元旦")})
    with pytest.raises(ValidationError):
        import_year(users["admin"], 2027, {date(2027, 1, 4): (True, "调休上班")})  # a Monday; no holiday either
    with pytest.raises(ValidationError):
        import_year(users["admin"], 2027, {date(2030, 1, 1): (False, "元旦")})
    assert db.session.scalar(select(func.count(WorkCalendarDay.id))) == 0


def test_a_package_reload_keeps_notice_days(users):
    import_year(users["admin"], 2026, {date(2026, 3, 3): (False, "通知里的假日")})
    counts = seed_calendar({2026})
    assert counts["kept"] == 0 and _rows(2026)[date(2026, 3, 3)] == (False, "通知里的假日", "notice")


def test_next_year_warning_from_november(users):
    assert next_year_warning(date(2026, 10, 31)) is None
    assert next_year_warning(date(2026, 11, 1)) == 2027
    import_year(users["admin"], 2027, {date(2027, 1, 1): (False, "元旦")})
    assert next_year_warning(date(2026, 12, 31)) is None


def test_deadlines_already_computed_do_not_move(users, outlet_world):
    """Due times are computed once and stored on the ticket: entering the year's holidays later leaves them."""
    from kdcs.models.ticket import Ticket
    from kdcs.tickets import service as tickets

    reason = factories.make_reason("problem", "地址不详")
    factories.make_rule("problem", reply_minutes=8 * 60, resolve_minutes=24 * 60, mode="service_hours")
    registered = datetime(2026, 9, 30, 1, 0, tzinfo=UTC)  # 09:00 Beijing, Wednesday before 国庆节
    ticket = tickets.create_ticket(users["admin"], outlet_id=outlet_world["own"].id, direction="inbound",
                                   category="problem", reason_id=reason.id, waybill_no="75129999000001",
                                   registered_at=registered)
    due = (ticket.reply_due_at, ticket.resolve_due_at)
    assert due[1].astimezone(UTC) == datetime(2026, 10, 2, 1, 0, tzinfo=UTC)  # 11 h Wed + 12 h Thu + 1 h Fri
    import_year(users["admin"], 2026, {date(2026, 10, d): (False, "国庆节") for d in range(1, 8)})
    db.session.expire_all()
    again = db.session.get(Ticket, ticket.id)
    assert (again.reply_due_at, again.resolve_due_at) == due
    fresh = tickets.create_ticket(users["admin"], outlet_id=outlet_world["own"].id, direction="inbound",
                                  category="problem", reason_id=reason.id, waybill_no="75129999000002",
                                  registered_at=registered)
    assert fresh.resolve_due_at > due[1]  # a new ticket counts with the holidays


# --------------------------------------------------------------------------- the page


def _post(client, **data):
    form = {"year": "", "text": "", "action": "preview"}
    form.update(data)
    return client.post("/work-calendar/notice", data=form)


def test_page_preview_then_save(client, auth, users):
    auth.login(users["admin"])
    page = client.get("/work-calendar/notice")
    assert page.status_code == 200 and "国务院" in page.get_data(as_text=True)
    preview = _post(client, text=NOTICE_2026)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "2026：33 天放假，6 天调休上班" in html or "33" in html
    assert "10-01（周四） – 10-07（周三）" in html
    assert year_day_count(2026) == 0  # a preview saves nothing
    saved = _post(client, text=NOTICE_2026, action="save", expected="0")
    assert saved.status_code == 303 and "/tickets/calendar" in saved.headers["Location"]
    assert year_day_count(2026) == 39


def test_page_reimport_asks_for_confirmation_and_ranges_fill_gaps(client, auth, users):
    auth.login(users["admin"])
    import_year(users["admin"], 2026, parse_notice(NOTICE_2026).days())
    text = NOTICE_2026.replace("五、端午节：6月19日（周五）至21日（周日）放假，共3天。", "五、端午节：另行通知。")
    data = {"text": text, "ranges-0-kind": "off", "ranges-0-start": "2026-06-19", "ranges-0-end": "2026-06-21",
            "ranges-0-name": "端午节"}
    html = _post(client, **data).get_data(as_text=True)
    assert "端午节：没有读到日期" in html and "已有 39 天" in html or "39" in html
    refused = _post(client, **data, action="save", expected="39")
    assert refused.status_code == 200 and year_day_count(2026) == 39
    assert _rows(2026)[date(2026, 6, 19)][2] == "notice"
    saved = _post(client, **data, action="save", expected="39", replace="y")
    assert saved.status_code == 303
    assert _rows(2026)[date(2026, 6, 20)] == (False, "端午节", "notice")


@pytest.mark.parametrize("data", [
    {"year": "abc"}, {"year": "99999", "text": "x"}, {"text": "随便"}, {"year": "2027", "ranges-0-start": "2027-13-01"},
    {"year": "2027", "ranges-0-start": "2027-10-07", "ranges-0-end": "2027-10-01"},
    {"year": "2027", "ranges-0-start": "2027-01-01", "ranges-0-end": "2027-12-31"},
    {"year": "2027", "ranges-9-start": "2027-01-01", "ranges-99-kind": "x"},
    {"year": "2027", "text": "一、元旦：1月1日放假。", "action": "save", "expected": "nope"},
])
def test_page_malformed_input_is_a_chinese_message_not_a_500(client, auth, users, data):
    auth.login(users["admin"])
    response = _post(client, **data)
    assert response.status_code in (200, 303)
    html = response.get_data(as_text=True)
    if response.status_code == 200 and "ranges-9-start" not in data:
        assert "field-error" in html or "alert" in html
    assert "Not a valid" not in html and "Invalid" not in html


def test_admin_home_warns_from_november(client, auth, users, monkeypatch):
    import kdcs.dashboard.routes as dashboard_routes

    class November(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 11, 2, 9, 0, tzinfo=tz)

    auth.login(users["admin"])
    monkeypatch.setattr(dashboard_routes, "datetime", November)
    html = client.get("/").get_data(as_text=True)
    assert 'data-testid="calendar-next-year-warning"' in html and "/work-calendar/notice?year=2027" in html
    import_year(users["admin"], 2027, {date(2027, 1, 1): (False, "元旦")})
    assert 'data-testid="calendar-next-year-warning"' not in client.get("/").get_data(as_text=True)


def test_rules_page_keeps_its_warning(client, auth, users):
    from kdcs.models.ticket import CountingMode
    from tests.factories import make_rule

    rule = make_rule()
    rule.mode = CountingMode.SERVICE_HOURS
    db.session.commit()
    auth.login(users["admin"])
    html = client.get(f"/tickets/rules/preview?rule_id={rule.id}&start=2031-03-02T10:00").get_data(as_text=True)
    assert "2031" in html and "/tickets/calendar?year=2031" in html


def test_the_notice_title_wins_over_the_year_field(client, auth, users):
    auth.login(users["admin"])
    html = _post(client, year="2027", text=NOTICE_2026).get_data(as_text=True)
    assert "通知是 2026 年的" in html and "保存 2026 年" in html
