"""加班 (kdcs/overtime): the rules, who records and decides what, the lead's notice, the bill, the page."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from kdcs.extensions import db
from kdcs.leave.rules import beijing_today
from kdcs.models import Notification, OvertimeEntry, OvertimeStatus, utcnow
from kdcs.outlets import kpis
from kdcs.overtime import service
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import NotFound, StaleEdit, ValidationError
from tests import factories
from tests.html import parse

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize("text, minutes", [
    ("2", 120), ("2.5", 150), (" 0.5 ", 30), ("１２", 720), ("３.５小时", 210), ("12.0", 720),
    ("0", None), ("0.25", None), ("12.5", None), ("-1", None), ("abc", None), ("", None), ("nan", None),
    ("Infinity", None), ("1e1", 600), ("9" * 40, None)])
def test_parse_hours(text, minutes):
    assert service.parse_hours(text) == minutes


def test_day_rules(app):
    with app.test_request_context():
        assert service.day_problem(TODAY, TODAY) is None
        assert service.day_problem(TODAY - timedelta(days=62), TODAY) is None
        assert "不能晚于今天" in service.day_problem(TODAY + timedelta(days=1), TODAY)
        assert "62" in service.day_problem(TODAY - timedelta(days=63), TODAY)
        assert "2026-11-30" in service.day_problem(None, TODAY)


def test_format_hours():
    assert [service.format_hours(m) for m in (30, 120, 150, 720)] == ["0.5", "2", "2.5", "12"]


def _record(w, user=None, outlet=None, day=TODAY, hours="2.5", note="双十一高峰"):
    return service.record(user or w.agent, outlet_id=(outlet or w.own).id, day=day, hours=hours, note=note,
                          today=TODAY)


def test_an_agent_records_and_the_lead_is_told(ticket_world):
    w = ticket_world
    entry = _record(w)
    assert (entry.status, entry.minutes, entry.user_id, entry.rate) == (OvertimeStatus.SUBMITTED, 150, w.agent.id, None)
    notice = db.session.scalars(db.select(Notification).where(Notification.user_id == w.lead.id)).one()
    assert "加班待审批" in notice.title and "2.5" in notice.title and notice.link == "/overtime/?month=2026-11"


def test_an_agent_of_a_team_without_lead_tells_the_admins(ticket_world):
    w = ticket_world
    _record(w, user=w.stranger, outlet=w.other)
    told = set(db.session.scalars(db.select(Notification.user_id).where(Notification.kind == "overtime")))
    assert told == {w.admin.id}


def test_every_problem_is_said_at_once(ticket_world):
    w = ticket_world
    with pytest.raises(ValidationError) as caught:
        service.record(w.agent, outlet_id=w.other.id, day=TODAY + timedelta(days=1), hours="13", note=" ",
                       today=TODAY)
    assert set(caught.value.errors) == {"outlet_id", "work_date", "hours", "note"}
    assert db.session.scalar(db.select(db.func.count()).select_from(OvertimeEntry)) == 0  # nothing stored


def test_one_entry_per_outlet_and_day_and_twelve_hours_a_day(ticket_world):
    w = ticket_world
    w.team_outlet.primary_agent_id = w.agent.id  # two outlets for the agent
    db.session.commit()
    first = _record(w, hours="8")
    with pytest.raises(ValidationError) as caught:
        _record(w, hours="1")
    assert "已为该网点登记过" in caught.value.errors["work_date"]
    with pytest.raises(ValidationError) as caught:
        _record(w, outlet=w.team_outlet, hours="4.5")
    assert "已登记 8 小时" in caught.value.errors["hours"]
    _record(w, outlet=w.team_outlet, hours="4")  # 12 in all
    service.withdraw(w.agent, first.id, version=first.version)
    _record(w, hours="1")  # withdrawn: the day is free again


def test_the_lead_approves_at_the_outlets_rate_and_the_agent_is_told(ticket_world):
    w = ticket_world
    w.own.overtime_rate = Decimal("35.00")
    db.session.commit()
    entry = _record(w)
    service.decide(w.lead, entry.id, version=entry.version, approve=True)
    assert (entry.status, entry.rate, entry.fee, entry.decided_by_id) == (
        OvertimeStatus.APPROVED, Decimal("35.00"), Decimal("87.50"), w.lead.id)
    w.own.overtime_rate = Decimal("50.00")  # a new agreement does not rewrite what was approved
    db.session.commit()
    assert entry.fee == Decimal("87.50")
    told = db.session.scalars(db.select(Notification).where(Notification.user_id == w.agent.id)).all()
    assert any("加班已批准" in n.title for n in told)


def test_a_rejection_says_why(ticket_world):
    w = ticket_world
    entry = _record(w)
    with pytest.raises(ValidationError):
        service.decide(w.lead, entry.id, version=entry.version, approve=False, note="  ")
    service.decide(w.lead, entry.id, version=entry.version, approve=False, note="当天不是高峰")
    assert (entry.status, entry.rate, entry.fee, entry.decision_note) == (OvertimeStatus.REJECTED, None, None,
                                                                           "当天不是高峰")


def test_who_decides_what(ticket_world):
    w = ticket_world
    entry = _record(w)
    assert service.can_decide(w.lead, entry) and service.can_decide(w.admin, entry)
    assert not service.can_decide(w.agent, entry) and not service.can_decide(w.teammate, entry)
    lead_own = _record(w, user=w.lead, outlet=w.team_outlet)
    assert not service.can_decide(w.lead, lead_own) and service.can_decide(w.admin, lead_own)  # never one's own
    far = _record(w, user=w.stranger, outlet=w.other)
    with pytest.raises(NotFound):  # another team's is not even visible to the lead
        service.decide(w.lead, far.id, version=far.version, approve=True)
    with pytest.raises(StaleEdit):
        service.decide(w.lead, entry.id, version=entry.version + 1, approve=True)
    service.decide(w.lead, entry.id, version=entry.version, approve=True)
    with pytest.raises(PermissionDenied):  # decided already
        service.decide(w.admin, entry.id, version=entry.version, approve=False, note="x")
    with pytest.raises(PermissionDenied):  # no longer waiting
        service.withdraw(w.agent, entry.id, version=entry.version)
    with pytest.raises(NotFound):  # someone else's
        service.withdraw(w.teammate, lead_own.id, version=lead_own.version)


def test_the_month_as_each_role_sees_it(ticket_world):
    w = ticket_world
    w.own.overtime_rate = Decimal("40.00")
    db.session.commit()
    mine = _record(w)
    _record(w, user=w.teammate, outlet=w.team_outlet, hours="1")
    _record(w, user=w.stranger, outlet=w.other, hours="3")
    service.decide(w.lead, mine.id, version=mine.version, approve=True)
    month = date(2026, 11, 1)
    assert {e.user.username for e in service.month_entries(w.agent, month).entries} == {"agent_a"}
    lead_view = service.month_entries(w.lead, month)
    assert {e.user.username for e in lead_view.entries} == {"agent_a", "agent_mate"}
    assert lead_view.entries[0].status == OvertimeStatus.SUBMITTED  # waiting first
    assert (lead_view.waiting, lead_view.approved_minutes, lead_view.fee) == (1, 150, Decimal("100.00"))
    assert len(service.month_entries(w.admin, month).entries) == 3


def test_the_bill_counts_approved_hours_in_the_month_worked(ticket_world):
    w = ticket_world
    w.own.overtime_rate = Decimal("35.00")
    db.session.commit()
    for day, hours, approve in ((date(2026, 11, 3), "2.5", True), (date(2026, 11, 30), "1", True),
                                (date(2026, 11, 5), "4", False), (date(2026, 10, 31), "2", True)):
        entry = service.record(w.agent, outlet_id=w.own.id, day=day, hours=hours, note="高峰", today=date(2026, 12, 1))
        service.decide(w.lead, entry.id, version=entry.version, approve=approve, note="" if approve else "不需要")
    found = kpis.figures([w.own], [date(2026, 10, 1), date(2026, 11, 1)], utcnow())
    nov, oct_ = found[(w.own.id, date(2026, 11, 1))], found[(w.own.id, date(2026, 10, 1))]
    assert (nov.overtime_minutes, nov.overtime_fee) == (210, Decimal("122.50"))
    assert (oct_.overtime_minutes, oct_.overtime_fee) == (120, Decimal("70.00"))
    unpriced = service.record(w.agent, outlet_id=w.own.id, day=date(2026, 11, 10), hours="1", note="高峰",
                              today=date(2026, 12, 1))
    w.own.overtime_rate = None
    db.session.commit()
    service.decide(w.lead, unpriced.id, version=unpriced.version, approve=True)
    nov = kpis.figures([w.own], [date(2026, 11, 1)], utcnow())[(w.own.id, date(2026, 11, 1))]
    assert (nov.overtime_minutes, nov.overtime_fee) == (270, Decimal("122.50"))  # hours, but nothing billed
    assert service.month_entries(w.lead, date(2026, 11, 1)).unpriced == 1


def test_the_outlet_rate_is_edited_by_admins(ticket_world):
    from kdcs.outlets import service as outlets

    w = ticket_world
    outlets.update_outlet(w.admin, w.own, version=w.own.version, overtime_rate="42.5")
    assert w.own.overtime_rate == Decimal("42.50")
    for bad in ("abc", "0", "1000.01", "3.333"):
        with pytest.raises(ValidationError) as caught:
            outlets.update_outlet(w.admin, w.own, version=w.own.version, overtime_rate=bad)
        assert "加班费率" in caught.value.errors["overtime_rate"]
    outlets.update_outlet(w.admin, w.own, version=w.own.version, overtime_rate="")
    assert w.own.overtime_rate is None


# --------------------------------------------------------------------------- the page


def _csrf(page_html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page_html).group(1)


def test_an_agent_records_on_the_page(client, auth, ticket_world):
    w = ticket_world
    auth.login(w.agent)
    page = client.get("/overtime/")
    assert page.status_code == 200 and "登记加班" in page.get_data(as_text=True)
    day = (beijing_today() - timedelta(days=1)).isoformat()
    answer = client.post("/overtime/", data={"outlet_id": w.own.id, "work_date": day, "hours": "2.5",
                                             "note": "网点要求晚间值守", "csrf_token": _csrf(page.get_data(as_text=True))})
    assert answer.status_code == 303 and "/overtime/?month=" in answer.headers["Location"]
    listed = parse(client.get(answer.headers["Location"]))
    row = listed.one(data_testid="overtime-entries").find_all("tr", data_status="submitted")
    assert len(row) == 1 and "2.5" in row[0].text and "待审批" in row[0].text
    assert "撤回" in row[0].text


def test_bad_input_is_explained_and_kept(client, auth, ticket_world):
    w = ticket_world
    auth.login(w.agent)
    token = _csrf(client.get("/overtime/").get_data(as_text=True))
    answer = client.post("/overtime/", data={"outlet_id": "abc", "work_date": "30/11/2026", "hours": "13",
                                             "note": "保留这段说明", "csrf_token": token})
    assert answer.status_code == 422
    page = parse(answer)
    errors = [e.text for e in page.find_all(cls="field-error")]
    assert any("网点" in e for e in errors) and any("2026-11-30" in e for e in errors) and any("0.5" in e for e in errors)
    assert page.one("textarea", id="overtime-note").text.strip() == "保留这段说明"


def test_the_lead_decides_on_the_page(client, auth, ticket_world):
    w = ticket_world
    entry = factories.make_overtime(w.agent, w.own)
    month = f"{entry.work_date:%Y-%m}"
    auth.login(w.lead)
    page = client.get(f"/overtime/?month={month}")
    html = page.get_data(as_text=True)
    assert 'value="approve"' in html
    token = _csrf(html)
    refused = client.post(f"/overtime/{entry.id}/decide", data={"decision": "reject", "decision_note": "",
                                                                  "version": entry.version, "month": month,
                                                                  "csrf_token": token})
    assert refused.status_code == 422 and "请填写驳回原因" in refused.get_data(as_text=True)
    done = client.post(f"/overtime/{entry.id}/decide", data={"decision": "approve", "version": entry.version,
                                                              "month": month, "csrf_token": token})
    assert done.status_code == 303
    db.session.refresh(entry)
    assert entry.status == OvertimeStatus.APPROVED
    stale = client.post(f"/overtime/{entry.id}/decide", data={"decision": "approve", "version": 1, "month": month,
                                                               "csrf_token": token})
    assert stale.status_code == 409


def test_the_page_statements_do_not_grow_with_the_entries(client, auth, ticket_world):
    """Entries with their people, outlets and deciders in one statement."""
    from tests.test_statements_admin import _counts

    w = ticket_world
    days = iter(range(1, 60))

    def add(n):
        for _ in range(n):
            entry = factories.make_overtime(w.teammate, w.team_outlet,
                                            day=beijing_today() - timedelta(days=next(days)))
            entry.work_date = beijing_today().replace(day=1)  # this month
            db.session.commit()

    counted, sql, body = _counts(client, auth, w.lead, "/overtime/", add)
    assert counted[0] == counted[1], (counted, sql)


def test_the_lead_home_says_what_waits(client, auth, ticket_world):
    w = ticket_world
    factories.make_overtime(w.agent, w.own)
    factories.make_overtime(w.stranger, w.other)  # another team: not lead_a's
    assert service.waiting_count(w.lead) == 1 and service.waiting_count(w.admin) == 2
    assert service.waiting_count(w.agent) == 0
    auth.login(w.lead)
    link = parse(client.get("/")).one(data_testid="lead-overtime-waiting")
    assert link.get("href") == "/overtime/" and "1 条加班" in link.text


def test_the_month_exports_as_on_the_page(client, auth, ticket_world):
    import io

    from openpyxl import load_workbook

    w = ticket_world
    day = beijing_today() - timedelta(days=1)
    factories.make_overtime(w.agent, w.own, day=day, note="=HYPERLINK(\"http://x\")")
    factories.make_overtime(w.stranger, w.other, day=day)  # another team: not the lead's
    auth.login(w.lead)
    response = client.get(f"/overtime/export.xlsx?month={day:%Y-%m}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(r[2], r[5], r[7]) for r in rows] == [("agent_a", 2, "待审批")]
    assert rows[0][6] == "=HYPERLINK(\"http://x\")" and sheet.cell(2, 7).data_type == "s"  # text, not a formula
