"""人均毛利 (kdcs/margin): the arithmetic, the month's figures per person, labour costs with their
history, and the pages (full, htmx fragment, export) — admins only."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from kdcs.extensions import db
from kdcs.filters import format_money
from kdcs.margin import rules, service
from kdcs.models import AuditLog, LabourCost
from kdcs.outlets import kpis
from kdcs.outlets.service import monthly_fee
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import NotFound, ValidationError
from kdcs.tickets import service as tickets
from tests import factories
from tests.html import parse

NOV, OCT, DEC = date(2026, 11, 1), date(2026, 10, 1), date(2026, 12, 1)
IN_NOV = datetime(2026, 11, 15, 4, 0, tzinfo=UTC)
NOV_START = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # 11-01 00:00 in Beijing


# --------------------------------------------------------------------------- rules

class Entry:
    def __init__(self, month, amount):
        self.month, self.amount = month, Decimal(amount)


def test_the_cost_in_force_is_the_latest_entry_not_after_the_month():
    history = [Entry(date(2026, 6, 1), "5200"), Entry(date(2026, 12, 1), "5700")]
    assert rules.cost_in_force(history, date(2026, 5, 1)) is None  # before the first: not entered
    assert rules.cost_in_force(history, date(2026, 6, 1)) == Decimal("5200.00")
    assert rules.cost_in_force(history, NOV) == Decimal("5200.00")
    assert rules.cost_in_force(history, DEC) == Decimal("5700.00")
    assert rules.cost_in_force([], NOV) is None


def test_margin_rate_and_per_head():
    assert rules.gross_margin(Decimal("10000"), Decimal("150"), Decimal("6000")) == Decimal("3850.00")
    assert rules.gross_margin(Decimal("10000"), Decimal("0"), None) is None  # unknown, not 10000
    assert rules.margin_rate(Decimal("3850"), Decimal("10000")) == Decimal("38.5")
    assert rules.margin_rate(Decimal("-6000"), Decimal("0")) is None  # no revenue to divide by
    assert rules.margin_rate(None, Decimal("10")) is None
    assert rules.per_head([Decimal("100"), None, Decimal("-40")]) == (Decimal("30.00"), 2)
    assert rules.per_head([None]) == (None, 0)


@pytest.mark.parametrize("text, amount", [
    ("6500", "6500.00"), (" 6,500.50 ", "6500.50"), ("６５００元", "6500.00"), ("¥6500", "6500.00"),
    ("0", "0.00"), ("1000000", "1000000.00")])
def test_amounts_as_admins_type_them(app, text, amount):
    with app.test_request_context():
        assert rules.parse_amount(text) == Decimal(amount)


@pytest.mark.parametrize("text, message", [
    ("", "请填写"), ("abc", "不是金额"), ("-1", "不能为负数"), ("6500.555", "两位小数"), ("1000000.01", "多输了 0"),
    ("1e5", "不是金额"), ("NaN", "不是金额"), ("9" * 40, "多输了 0")])
def test_bad_amounts_say_why_in_chinese(app, text, message):
    with app.test_request_context(), pytest.raises(ValueError) as caught:
        rules.parse_amount(text)
    assert message in str(caught.value)


# --------------------------------------------------------------------------- the month

def _fine(w, ticket, at: datetime, **fine):
    tickets.record_fine(w.admin, ticket.id, version=ticket.version, **fine)
    ticket.fined_at = at
    db.session.commit()


@pytest.fixture
def november(ticket_world):
    """November 2026: the agent's outlet 300,000 parcels, the teammate's 100,000, the free outlet 50,000,
    the other team's none. The agent's overtime (approved in November, one in December, one
    rejected); fines: the agent's (company, share 50), the teammate's (the outlet's fault), the
    stranger's (all the agent's), one on an unassigned ticket, one of October. Costs: the agent 6000
    from September and 6500 from December, the lead 8000, the teammate none."""
    w = ticket_world
    factories.make_volume(w.own, NOV, 200_000, 100_000)
    factories.make_volume(w.team_outlet, NOV, 60_000, 40_000)
    factories.make_volume(w.free, NOV, 30_000, 20_000)
    factories.make_overtime(w.agent, w.own, day=date(2026, 11, 11), minutes=150, status="approved", rate=Decimal("40"))
    factories.make_overtime(w.agent, w.own, day=date(2026, 12, 1), minutes=60, status="approved", rate=Decimal("40"))
    factories.make_overtime(w.agent, w.own, day=date(2026, 11, 12), minutes=60, status="rejected")
    _fine(w, w.mine, IN_NOV, amount="200", bearer="company", agent_share="50")
    _fine(w, w.team_ticket, IN_NOV, amount="300", bearer="outlet", agent_share="0")
    _fine(w, w.far, NOV_START, amount="100", bearer="agent")  # 00:00 Beijing, 1 November: in November
    nobody = factories.make_ticket(w.free, reason=w.address, assignee=None)
    _fine(w, nobody, IN_NOV, amount="80", bearer="company")
    october = factories.make_ticket(w.own, reason=w.address)
    _fine(w, october, NOV_START - timedelta(seconds=1), amount="999", bearer="company")
    factories.make_labour_cost(w.agent, date(2026, 9, 1), "6000")
    factories.make_labour_cost(w.agent, DEC, "6500")
    factories.make_labour_cost(w.lead, date(2026, 1, 1), "8000")
    return w


def _lines(report):
    return {line.person.username: line for line in report.lines}


def test_each_persons_november(november):
    w = november
    report = service.month_report(w.admin, NOV)
    lines = _lines(report)
    agent = lines["agent_a"]
    fee = monthly_fee(300_000, Decimal("0.025"))
    assert (agent.outlets, agent.parcels, agent.fee) == (1, 300_000, fee)
    assert (agent.overtime_minutes, agent.overtime_fee) == (150, Decimal("100.00"))  # 2.5 h × 40
    assert (agent.fines, agent.fines_borne) == (1, Decimal("150.00"))  # 200 less the agent's 50
    assert agent.labour_cost == Decimal("6000.00")  # December's raise is not November's
    assert agent.margin == fee + Decimal("100.00") - Decimal("150.00") - Decimal("6000.00")
    assert agent.rate == rules.margin_rate(agent.margin, agent.revenue)
    mate = lines["agent_mate"]
    assert (mate.fee, mate.fines, mate.fines_borne, mate.labour_cost, mate.margin) == (
        monthly_fee(100_000, Decimal("0.025")), 1, Decimal("0.00"), None, None)  # the outlet's own fault
    far = lines["agent_far"]
    assert (far.outlets, far.unrecorded, far.fee, far.fines, far.fines_borne) == (1, 1, Decimal("0.00"), 1, Decimal("0.00"))
    lead = lines["lead_a"]
    assert (lead.outlets, lead.revenue, lead.margin) == (0, Decimal("0.00"), Decimal("-8000.00"))
    assert "trainer_a" not in lines and "admin_a" not in lines  # no figures, no cost
    nobody = report.unassigned
    assert (nobody.outlets, nobody.fee, nobody.fines, nobody.fines_borne) == (
        1, monthly_fee(50_000, Decimal("0.025")), 1, Decimal("80.00"))
    assert {line.person.username for line in report.missing_cost} == {"agent_mate", "agent_far"}
    assert report.per_head == ((agent.margin + lead.margin) / 2).quantize(Decimal("0.01"))
    assert report.counted == 2 and report.volumes_recorded


def test_the_totals_agree_with_the_outlet_report(november):
    """Every fee and every approved overtime of the month is someone's or the unassigned line's."""
    w = november
    report = service.month_report(w.admin, NOV)
    _lines_, outlets_total = kpis.month_overview(w.admin, NOV, datetime(2026, 12, 3, tzinfo=UTC))
    assert report.total.fee == outlets_total.fee
    assert report.total.overtime_fee == outlets_total.overtime_fee
    assert report.total.fines_borne == outlets_total.company_borne
    assert report.total.labour_cost == Decimal("14000.00")
    assert report.total.margin == report.total.revenue - report.total.fines_borne - Decimal("14000.00")


def test_the_order_and_the_team_filter(november):
    w = november
    order = [line.person.username for line in service.month_report(w.admin, NOV).lines]
    assert order[:2] == ["agent_far", "agent_mate"]  # unknown margins first (by 工号), then the lowest
    assert order[2:] == ["lead_a", "agent_a"]
    by_revenue = [line.person.username for line in service.month_report(w.admin, NOV, sort="revenue").lines]
    assert by_revenue[0] == "agent_a"
    team = service.month_report(w.admin, NOV, team_id=w.team.id)
    assert {line.person.username for line in team.lines} == {"agent_a", "agent_mate", "lead_a"}
    assert team.unassigned is None  # outlets nobody has are no team's


def test_a_cost_of_zero_stops_counting_a_person_without_figures(november):
    w = november
    gone = factories.make_user("agent", username="agent_gone", active=False)
    factories.make_labour_cost(gone, date(2026, 1, 1), "5000")
    factories.make_labour_cost(gone, OCT, "0")
    assert "agent_gone" not in _lines(service.month_report(w.admin, NOV))
    assert _lines(service.month_report(w.admin, date(2026, 9, 1)))["agent_gone"].labour_cost == Decimal("5000.00")


def test_an_agent_who_starts_later_is_not_counted_before(november):
    w = november
    newcomer = factories.make_user("agent", username="agent_new")
    newcomer.start_date = date(2026, 12, 7)
    db.session.commit()
    assert "agent_new" not in _lines(service.month_report(w.admin, NOV))
    assert "agent_new" in _lines(service.month_report(w.admin, DEC))


def test_a_cost_cannot_start_before_the_person_did(november):
    """A cost from a month before the 入职日期 would make them cost money before they worked: refused, alone
    and in a paste (all or nothing), with the earliest month named; their start month is fine."""
    w = november
    newcomer = factories.make_user("agent", username="agent_new", display_name="新人")
    newcomer.start_date = date(2026, 12, 7)
    db.session.commit()
    assert rules.before_start(NOV, newcomer.start_date) and not rules.before_start(DEC, newcomer.start_date)
    assert not rules.before_start(NOV, None)
    with pytest.raises(ValidationError) as refused:
        service.set_labour_cost(w.admin, newcomer.id, month="2026-11", amount="5000")
    assert refused.value.errors["month"] == "新人 的入职日期是 2026-12-07，人工成本最早从 2026-12 起填写。"
    with pytest.raises(ValidationError) as refused:
        service.set_labour_costs_pasted(w.admin, month="2026-11", text="agent_a\t6100\nagent_new\t5000")
    assert refused.value.errors["text"].startswith("第 2 行：新人 的入职日期是 2026-12-07")
    assert db.session.scalar(db.select(db.func.count(LabourCost.id)).where(LabourCost.user_id == newcomer.id)) == 0
    assert service.set_labour_cost(w.admin, newcomer.id, month="2026-12", amount="5000").month == DEC


def test_a_persons_twelve_months(november):
    w = november
    months = service.person_months(w.admin, w.agent, DEC)
    assert [m for m, _line in months][:3] == [DEC, NOV, OCT] and len(months) == 12
    by_month = dict(months)
    assert by_month[DEC].labour_cost == Decimal("6500.00") and by_month[DEC].overtime_fee == Decimal("40.00")
    assert by_month[NOV].margin == _lines(service.month_report(w.admin, NOV))["agent_a"].margin
    assert by_month[date(2026, 8, 1)].labour_cost is None


def test_only_admins_see_margins(november):
    w = november
    for who in (w.agent, w.lead, w.trainer):
        with pytest.raises(PermissionDenied):
            service.month_report(who, NOV)
        with pytest.raises(PermissionDenied):
            service.set_labour_cost(who, w.agent.id, month=NOV, amount="1")
    assert db.session.scalar(db.select(db.func.count()).select_from(LabourCost)) == 3


# --------------------------------------------------------------------------- labour costs

def test_setting_a_cost_from_a_month_replaces_that_months_entry_and_is_audited(ticket_world):
    w = ticket_world
    first = service.set_labour_cost(w.admin, w.agent.id, month="2026-11", amount="6,000", note="工资 + 社保")
    again = service.set_labour_cost(w.admin, w.agent.id, month=NOV, amount="6200", note="")
    assert first.id == again.id and again.amount == Decimal("6200.00") and again.note == "工资 + 社保"
    service.set_labour_cost(w.admin, w.agent.id, month="2027-01", amount="6500")
    history = service.cost_history(w.admin, w.agent, DEC)
    assert [(c.entry.month, c.until, c.current) for c in history] == [
        (date(2027, 1, 1), None, False), (NOV, DEC, True)]
    audits = db.session.scalars(db.select(AuditLog).where(AuditLog.action == "labour_cost.set")
                                .order_by(AuditLog.id)).all()
    assert len(audits) == 3 and audits[1].entity_id == w.agent.id
    assert audits[1].before["labour_cost"] == "6000.00" and audits[1].after["labour_cost"] == "6200.00"


def test_every_problem_is_said_at_once_and_nothing_is_stored(ticket_world):
    w = ticket_world
    with pytest.raises(ValidationError) as caught:
        service.set_labour_cost(w.admin, w.agent.id, month="2026-13", amount="-5", note="x" * 201)
    assert set(caught.value.errors) == {"month", "amount", "note"}
    with pytest.raises(NotFound):
        service.set_labour_cost(w.admin, 999_999, month=NOV, amount="5000")
    assert db.session.scalar(db.select(db.func.count()).select_from(LabourCost)) == 0


def test_deleting_an_entry_falls_back_to_the_one_before(ticket_world):
    w = ticket_world
    service.set_labour_cost(w.admin, w.agent.id, month=OCT, amount="6000")
    raise_ = service.set_labour_cost(w.admin, w.agent.id, month=NOV, amount="6500")
    assert service.delete_labour_cost(w.admin, raise_.id).id == w.agent.id
    assert _lines(service.month_report(w.admin, NOV))["agent_a"].labour_cost == Decimal("6000.00")
    with pytest.raises(NotFound):
        service.delete_labour_cost(w.admin, raise_.id)
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "labour_cost.delete")) == 1


# --------------------------------------------------------------------------- pages

def _rows(page) -> dict:
    table = page.one("table", data_testid="margin-table")
    return {tr.get("data-person"): tr for tr in table.one("tbody").find_all("tr")}


def test_the_month_page(november, client, auth):
    w = november
    auth.login(w.admin)
    page = parse(client.get("/admin/margin/?month=2026-11"))
    rows = _rows(page)
    assert set(rows) == {"agent_a", "agent_mate", "agent_far", "lead_a", ""}
    agent = rows["agent_a"]
    assert agent.one(data_figure="cost").text.startswith("¥6,000.00")
    margin = _lines(service.month_report(w.admin, NOV))["agent_a"].margin
    assert agent.one(data_figure="margin").text == f"¥{margin:,.2f}"
    assert "未填" in rows["agent_mate"].text
    assert "未填人工成本的人数：2" in page.one(data_testid="missing-cost").text
    per_head = service.month_report(w.admin, NOV).per_head
    assert page.one(data_testid="margin-totals").one(data_figure="per-head").text == format_money(per_head)
    assert "人均毛利" in page.one("title").text


def test_a_month_without_volumes_and_a_bad_month_say_so(november, client, auth):
    auth.login(november.admin)
    page = parse(client.get("/admin/margin/?month=2026-13"))
    assert "2026-13" in page.one(data_testid="month-error").text
    page = parse(client.get("/admin/margin/?month=2026-05"))
    assert "尚未录入任何网点票数" in page.one(data_testid="no-volumes").text


def test_the_inline_cost_form_saves_and_reloads_the_month(november, client, auth):
    w = november
    auth.login(w.admin)
    form = client.htmx("GET", f"/admin/margin/people/{w.teammate.id}/cost?month=2026-11&team={w.team.id}")
    row = parse(form).one("tr", id=f"margin-{w.teammate.id}")
    assert row.one("input", name="month").get("value") == "2026-11"
    assert row.one("input", name="back").get("value") == "list"
    done = client.htmx("POST", f"/admin/margin/people/{w.teammate.id}/cost?team={w.team.id}",
                       data={"month": "2026-11", "amount": "5800", "note": "", "back": "list"})
    assert done.status_code == 204
    assert done.headers["HX-Redirect"] == f"/admin/margin/?month=2026-11&team={w.team.id}"
    assert _lines(service.month_report(w.admin, NOV))["agent_mate"].labour_cost == Decimal("5800.00")


def test_a_refused_inline_cost_keeps_what_was_typed(november, client, auth):
    w = november
    auth.login(w.admin)
    refused = client.htmx("POST", f"/admin/margin/people/{w.teammate.id}/cost",
                          data={"month": "2026-11", "amount": "58OO", "note": "工资", "back": "list"})
    assert refused.status_code == 422
    row = parse(refused).one("tr", id=f"margin-{w.teammate.id}")
    assert "不是金额" in row.one(cls="field-error").text
    assert row.one("input", name="amount").get("value") == "58OO"
    assert row.one("input", name="note").get("value") == "工资"
    cancel = client.htmx("GET", f"/admin/margin/people/{w.teammate.id}/row?month=2026-11")
    assert parse(cancel).one("tr", id=f"margin-{w.teammate.id}").find(data_figure="cost") is not None


def test_the_person_page_sets_and_deletes_costs_without_javascript(november, client, auth):
    w = november
    auth.login(w.admin)
    page = parse(client.get(f"/admin/margin/people/{w.agent.id}?month=2026-12"))
    months = page.one("table", data_testid="person-months").one("tbody").find_all("tr")
    assert [tr.get("data-month") for tr in months][:2] == ["2026-12", "2026-11"]
    assert len(page.one("table", data_testid="cost-history").one("tbody").find_all("tr")) == 2
    refused = client.post(f"/admin/margin/people/{w.agent.id}/cost",
                          data={"month": "", "amount": "", "note": "", "back": "person"})
    assert refused.status_code == 422
    assert len(parse(refused).find_all(cls="field-error")) == 2
    saved = client.post(f"/admin/margin/people/{w.agent.id}/cost",
                        data={"month": "2027-01", "amount": "7000", "note": "", "back": "person"})
    assert saved.status_code == 303 and saved.headers["Location"].endswith(f"/people/{w.agent.id}?month=2027-01#costs")
    entry_id = db.session.scalar(db.select(LabourCost.id).where(LabourCost.month == date(2027, 1, 1)))
    gone = client.post(f"/admin/margin/costs/{entry_id}/delete", data={"month": "2026-12"})
    assert gone.status_code == 303 and db.session.get(LabourCost, entry_id) is None


def test_the_export_writes_names_as_text(november, client, auth):
    w = november
    w.teammate.display_name = "=HYPERLINK(\"x\")"
    db.session.commit()
    auth.login(w.admin)
    response = client.get("/admin/margin/export.xlsx?month=2026-11")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("工号", "姓名", "组") and rows[-1][1] == "合计"
    mate = next(r for r in rows if r[0] == "agent_mate")
    assert mate[1] == "=HYPERLINK(\"x\")"
    cell = next(c for c in sheet.iter_rows() if c[0].value == "agent_mate")[1]
    assert cell.data_type == "s"
    agent = next(r for r in rows if r[0] == "agent_a")
    assert Decimal(str(agent[9])) == Decimal("6000") and agent[10] is not None


def test_the_users_admin_page_links_to_their_margin(ticket_world, client, auth):
    w = ticket_world
    auth.login(w.admin)
    page = parse(client.get(f"/admin/users/{w.agent.id}"))
    link = page.one("a", href=f"/admin/margin/people/{w.agent.id}#costs")
    assert link.text == "毛利与人工成本"


def test_the_demo_costs_everyone_but_one_new_hire_once(ticket_world):
    from kdcs.margin.demo import seed_demo_labour_costs

    w = ticket_world
    factories.make_user("agent", username="agent12")
    new_hire = factories.make_user("agent", username="agent13")
    new_hire.start_date = date(2026, 11, 20)
    db.session.commit()
    assert seed_demo_labour_costs(date(2026, 12, 3)) == {"labour_costs": 5}  # agent_a, agent_mate, agent_far, lead_a, agent13
    first = db.session.scalars(db.select(LabourCost.month).where(LabourCost.user_id == new_hire.id)).all()
    assert first == [NOV]  # from the month they started, not half a year back
    assert seed_demo_labour_costs(date(2026, 12, 3)) == {"labour_costs": 0}
    report = service.month_report(w.admin, NOV)
    assert [line.person.username for line in report.missing_cost] == ["agent12"]
    assert _lines(report)["lead_a"].labour_cost == Decimal("8200.00")


def test_a_past_month_stays_with_the_agent_who_had_the_outlet(november):
    """The agent's outlet goes to the teammate in December: November's fee stays the agent's."""
    from kdcs.models import OutletAssignment
    from kdcs.outlets import service as outlets

    w = november
    outlets.assign_primary_agent(w.admin, w.own, w.teammate.id)
    first, handover = db.session.scalars(db.select(OutletAssignment).where(OutletAssignment.outlet_id == w.own.id)
                                         .order_by(OutletAssignment.id)).all()
    first.since, handover.since = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    db.session.commit()
    factories.make_volume(w.own, DEC, 1000, 0)
    lines = _lines(service.month_report(w.admin, NOV))
    assert lines["agent_a"].fee == monthly_fee(300_000, Decimal("0.025")) and lines["agent_a"].outlets == 1
    assert lines["agent_mate"].outlets == 1  # only their own in November
    december = _lines(service.month_report(w.admin, DEC))
    assert december["agent_mate"].outlets == 2 and december["agent_a"].outlets == 0
    months = dict(service.person_months(w.admin, w.agent, DEC, count=2))
    assert months[NOV].parcels == 300_000 and months[DEC].parcels == 0


def test_the_trend_reads_six_months_in_one_pass(november):
    """The month's page shows the six months up to it (oldest first) from the same eight statements
    as one month; a person's twelve months too."""
    from tests.sql_statements import statements

    w = november
    with statements() as seen:
        report, trend = service.month_with_trend(w.admin, NOV)
    assert [r.month for r in trend] == [date(2026, m, 1) for m in range(6, 12)]
    assert trend[-1].per_head == report.per_head == service.month_report(w.admin, NOV).per_head
    assert trend[-1].total.margin == report.total.margin
    assert not trend[0].volumes_recorded and trend[-1].volumes_recorded
    assert trend[3].total.labour_cost == Decimal("14000.00")  # September: the agent's 6000 and the lead's 8000
    assert trend[2].total.labour_cost == Decimal("8000.00")  # August: the lead's only
    assert len(seen) <= 10, seen
    with statements() as seen:
        service.person_months(w.admin, w.agent, DEC)
    assert len(seen) <= 8, seen


# --------------------------------------------------------------------------- pasted from a spreadsheet

def test_pasted_lines_as_spreadsheets_copy_them(app):
    with app.test_request_context():
        rows, problems = rules.parse_cost_lines("工号\t人工成本\nagent1\t6500\n\n agent2 , 5,800.50 \nagent3\n"
                                                "ａｇｅｎｔ４　６２００\nagent5\t6,500")
    assert rows == [(2, "agent1", "6500"), (4, "agent2", "5800.50"), (6, "agent4", "6200"), (7, "agent5", "6500")]
    assert [n for n, _p in problems] == [5] and "两列" in problems[0][1]
    with app.test_request_context():
        assert rules.parse_cost_lines("a 1\n" * 2001)[1][0][0] == 0  # too many lines: one problem, no rows


def test_a_paste_is_all_or_nothing_and_names_each_problem_by_line(ticket_world):
    w = ticket_world
    text = f"{w.agent.username}\t6500\nnobody\t5000\n{w.teammate.username}\tabc\n{w.agent.username.upper()}\t1"
    with pytest.raises(ValidationError) as caught:
        service.set_labour_costs_pasted(w.admin, month="2026-11", text=text)
    lines = caught.value.errors["text"].split("\n")
    assert [line.split("：")[0] for line in lines] == ["第 2 行", "第 3 行", "第 4 行"]
    assert "nobody" in lines[0] and "不是金额" in lines[1] and "第 1 行" in lines[2]
    assert db.session.scalar(db.select(db.func.count()).select_from(LabourCost)) == 0
    assert service.set_labour_costs_pasted(w.admin, month="2026-11", text=f"{w.agent.username}\t6500\n"
                                           f"{w.teammate.username}\t5,800") == 2
    assert _lines(service.month_report(w.admin, NOV))["agent_mate"].labour_cost == Decimal("5800.00")
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "labour_cost.set")) == 2
    with pytest.raises(ValidationError) as caught:
        service.set_labour_costs_pasted(w.admin, month="x", text=" \n ")
    assert set(caught.value.errors) == {"month", "text"}
    with pytest.raises(PermissionDenied):
        service.set_labour_costs_pasted(w.lead, month="2026-11", text=f"{w.agent.username}\t1")


def test_the_paste_form_keeps_the_text_and_lists_the_problems(november, client, auth):
    w = november
    auth.login(w.admin)
    refused = client.post("/admin/margin/costs/paste", data={"month": "2026-11", "text": "agent_mate\t58OO\nghost\t1"})
    assert refused.status_code == 422
    page = parse(refused)
    card = page.one(data_testid="paste-costs")
    assert card.one("details").get("open") is not None
    assert [e.text.split("：")[0] for e in card.find_all(cls="field-error")] == ["第 1 行", "第 2 行"]
    assert card.one("textarea").text == "agent_mate 58OO ghost 1"
    done = client.post("/admin/margin/costs/paste", data={"month": "2026-11", "text": "agent_mate\t5800"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/admin/margin/?month=2026-11")
    assert "已为 1 人设置" in client.get("/admin/margin/?month=2026-11").get_data(as_text=True)


def test_the_admin_home_shows_the_newest_months_margin(november, client, auth):
    w = november
    auth.login(w.admin)
    card = parse(client.get("/")).one(data_testid="home-margin")
    assert "2026年11月" in card.text
    assert card.one(data_figure="per-head").text == format_money(service.month_report(w.admin, NOV).per_head)
    missing = card.one(data_testid="home-margin-missing")
    assert "未填人工成本" in missing.text and "2" in missing.text and "month=2026-11" in missing.get("href")
    auth.logout()
    auth.login(w.lead)
    assert parse(client.get("/")).find(data_testid="home-margin") is None  # salaries: admins only


def test_the_admin_home_says_when_no_parcels_are_recorded(users, client, auth):
    auth.login(users.admin)
    card = parse(client.get("/")).one(data_testid="home-margin")
    assert "尚未录入票数" in card.one(data_testid="home-margin-empty").text
