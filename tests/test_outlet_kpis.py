"""An outlet's months in figures (kdcs/outlets/kpis.py): the outlet page's 月度指标 and 网点月报."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from kdcs.extensions import db
from kdcs.models import EventKind, TicketEvent
from kdcs.outlets import kpis, rates
from kdcs.tickets import service as tickets
from tests import factories
from tests.html import parse

NOV, OCT = date(2026, 11, 1), date(2026, 10, 1)
NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)  # Friday noon in Shanghai
NOV_START = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # 11-01 00:00 in Shanghai


def _ticket(w, outlet, *, registered: datetime, due: datetime, first: datetime | None = None):
    ticket = factories.make_ticket(outlet, reason=w.address, registered_at=registered)
    ticket.reply_due_at, ticket.first_replied_at = due, first
    db.session.commit()
    return ticket


def _fine(w, ticket, at: datetime, **fine):
    tickets.record_fine(w.lead, ticket.id, version=ticket.version, **fine)
    event = db.session.scalars(db.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                            TicketEvent.kind == EventKind.FINE)).one()
    event.at = ticket.fined_at = at
    db.session.commit()


@pytest.fixture
def november(ticket_world):
    """The agent's outlet (ZTO571101): 300,000 parcels in November; four tickets registered in
    November (one at 00:10 on the 1st, Beijing), one late on 31 October; first replies on time, late,
    a deadline missed, one still ahead; a fine the outlet bears and one the company bears with an
    agent's share. The teammate's outlet: one ticket, no volume."""
    w = ticket_world
    factories.make_volume(w.own, NOV, 200_000, 100_000)
    day = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    _ticket(w, w.own, registered=NOV_START + timedelta(minutes=10), due=day, first=day - timedelta(hours=1))
    late = _ticket(w, w.own, registered=day - timedelta(hours=3), due=day, first=day + timedelta(hours=2))
    missed = _ticket(w, w.own, registered=day, due=day + timedelta(days=10))
    _ticket(w, w.own, registered=NOW - timedelta(hours=1), due=NOW + timedelta(hours=1))  # not due yet
    _ticket(w, w.own, registered=NOV_START - timedelta(minutes=30), due=NOV_START + timedelta(hours=1),
            first=NOV_START + timedelta(hours=2))  # registered in October, answered (late) in November
    _ticket(w, w.team_outlet, registered=day, due=day + timedelta(hours=2), first=day)
    _fine(w, late, day + timedelta(days=1), amount="50", bearer="outlet", agent_share="0")
    _fine(w, missed, day + timedelta(days=12), amount="100", bearer="company", agent_share="20")
    return w


def test_an_outlets_november(november):
    w = november
    found = kpis.figures([w.own, w.team_outlet], [OCT, NOV], NOW)
    nov = found[(w.own.id, NOV)]
    assert (nov.parcels, nov.tickets, nov.per_thousand) == (300_000, 4, Decimal("0.01"))
    assert (nov.on_time, nov.late, nov.missed, nov.due, nov.on_time_rate) == (1, 2, 1, 4, 25)
    assert (nov.fines, nov.fine_amount, nov.outlet_borne, nov.agent_share, nov.company_borne) == (
        2, Decimal("150.00"), Decimal("50.00"), Decimal("20.00"), Decimal("80.00"))
    assert nov.fee == Decimal("7500.00")  # 300,000 × 0.025
    oct_ = found[(w.own.id, OCT)]
    assert (oct_.tickets, oct_.due, oct_.fines, oct_.parcels) == (1, 0, 0, None)  # the 31st, 23:30 Beijing
    mate = found[(w.team_outlet.id, NOV)]
    assert (mate.tickets, mate.on_time, mate.parcels, mate.per_thousand) == (1, 1, None, None)


def test_tickets_per_thousand_parcels():
    line = kpis.MonthFigures(NOV, parcels=400_000, tickets=37)
    assert line.per_thousand == Decimal("0.09")  # 0.0925
    assert kpis.MonthFigures(NOV, parcels=8_000, tickets=1).per_thousand == Decimal("0.13")  # 0.125 rounded half up
    assert kpis.MonthFigures(NOV, parcels=1_000, tickets=3).per_thousand == Decimal("3.00")
    assert kpis.MonthFigures(NOV, parcels=0, tickets=3).per_thousand is None
    total = kpis.MonthFigures(NOV)
    total.add(kpis.MonthFigures(NOV, parcels=2_000, tickets=4))
    total.add(kpis.MonthFigures(NOV, tickets=50))  # no parcels recorded: not divided
    assert (total.parcels, total.tickets, total.per_thousand) == (2_000, 54, Decimal("2.00"))


def test_a_deadline_still_ahead_is_missed_once_it_passes(november):
    later = NOW + timedelta(hours=2)
    assert kpis.figures([november.own], [NOV], later)[(november.own.id, NOV)].missed == 2


def test_the_outlet_page_months(november):
    months = kpis.outlet_months(november.own, rates.this_month(NOW), 6, NOW)
    assert [m.month for m in months] == [NOV, OCT, date(2026, 9, 1), date(2026, 8, 1), date(2026, 7, 1),
                                         date(2026, 6, 1)]
    assert months[0].tickets == 4 and months[2].parcels == 300_000  # the world's September volume


def test_the_overview_in_each_scope(november):
    w = november
    codes = lambda user: [line.outlet.code for line in kpis.month_overview(user, NOV, NOW)[0]]  # noqa: E731
    assert codes(w.agent) == ["ZTO571101"]
    assert codes(w.lead) == ["ZTO571101", "ZTO571102"]  # worst first: only the first has a rate
    assert set(codes(w.admin)) == {"ZTO571101", "ZTO571102", "YTO021101", "YTO021102"}
    lines, total = kpis.month_overview(w.admin, NOV, NOW, sort="code")
    assert [line.outlet.code for line in lines] == sorted(codes(w.admin))
    assert (total.tickets, total.fines, total.fine_amount, total.parcels) == (5, 2, Decimal("150.00"), 300_000)
    assert total.per_thousand == Decimal("0.01")  # only the outlet with parcels is divided: 4 / 300,000
    fines_first = kpis.month_overview(w.admin, NOV, NOW, sort="fines")[0]
    assert fines_first[0].outlet.code == "ZTO571101"
    worst_rate = kpis.month_overview(w.admin, NOV, NOW, sort="on_time")[0]
    assert worst_rate[0].outlet.code == "ZTO571101"  # 25 % before the teammate's 100 %


def test_a_closed_outlet_without_figures_is_left_out(november):
    w = november
    w.free.is_active = False
    db.session.commit()
    assert "YTO021102" not in [line.outlet.code for line in kpis.month_overview(w.admin, NOV, NOW)[0]]
    w.own.is_active = False  # closed, but it had tickets in November
    db.session.commit()
    assert "ZTO571101" in [line.outlet.code for line in kpis.month_overview(w.admin, NOV, NOW)[0]]


def test_the_report_page_and_its_export(client, auth, november):
    auth.login(november.lead)
    page = parse(client.get("/outlets/report?month=2026-11"))
    assert "网点月报" in page.one("h1").text and "2026年11月" in page.one("h1").text
    rows = page.one(data_testid="outlet-report").find_all("tr")
    coded = [tr.get("data-outlet") for tr in rows if tr.get("data-outlet")]
    assert coded == ["ZTO571101", "ZTO571102"]
    own = page.one("tr", data_outlet="ZTO571101")
    # seen from today, November's deadline still ahead on the 27th has passed without a reply too
    assert own.one(data_figure="rate").text == "20%" and "300,000" in own.text
    assert page.one(data_testid="report-totals").one(data_figure="fines").text == "¥150.00"
    assert page.one("a", rel="prev").get("href") == "/outlets/report?month=2026-10&sort=per_thousand"
    book = load_workbook(io.BytesIO(client.get("/outlets/report.xlsx?month=2026-11").data))
    sheet = book.active
    assert [c.value for c in sheet[1]][:7] == ["网点编码", "网点名称", "品牌", "负责客服", "票数", "服务费", "工单数"]
    assert [sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)] == ["ZTO571101", "ZTO571102"]
    assert sheet.cell(2, 7).value == 4 and sheet.cell(3, 5).value is None


@pytest.mark.parametrize("month", ["2026-13", "abc", "9" * 40, "=1+1"])
def test_a_bad_month_is_explained(client, auth, users, month):
    auth.login(users.admin)
    response = client.get("/outlets/report", query_string={"month": month, "sort": "<x>"})
    assert response.status_code == 200
    assert "不是有效的月份" in parse(response).one(data_testid="month-error").text


def test_the_outlet_page_shows_six_months(client, auth, ticket_world):
    w = ticket_world
    last_month = rates.shift_month(rates.this_month(), -1)
    factories.make_volume(w.own, last_month, 1_000_000, 234_567)
    auth.login(w.agent)
    page = parse(client.get(f"/outlets/{w.own.id}"))
    months = [tr.get("data-month") for tr in page.one(data_testid="outlet-kpis").find_all("tr") if tr.get("data-month")]
    assert len(months) == 6 and months[0] == f"{rates.this_month():%Y-%m}"
    assert "1,234,567" in page.one("tr", data_month=f"{last_month:%Y-%m}").text  # the volume table's, not read again


def test_links_to_the_report(client, auth, users):
    for user, url in ((users.agent, "/outlets/mine"), (users.lead, "/"), (users.lead, "/outlets/mine"),
                      (users.admin, "/admin/outlets")):
        auth.login(user)
        assert "/outlets/report" in [a.get("href") for a in parse(client.get(url)).find_all("a")], url
        auth.logout()


def test_report_statements_do_not_grow_with_the_outlets(client, auth, ticket_world):
    """Outlets (with brand and agent), tickets, fines, volumes, rates: a fixed number for any number of outlets."""
    from tests.test_statements_admin import _counts

    w = ticket_world

    last_month = rates.shift_month(rates.this_month(), -1)  # a past month: the agents of its end are read

    def add(n):
        for _ in range(n):
            outlet = factories.make_outlet(agent=w.teammate)
            factories.make_volume(outlet, last_month, 1000, 1000)
            due = datetime.now(UTC) - timedelta(hours=1)
            _ticket(w, outlet, registered=due - timedelta(hours=1), due=due)

    counted, sql, body = _counts(client, auth, w.admin, f"/outlets/report?month={last_month:%Y-%m}", add)
    # user, outlets, tickets, fines, overtime, rates, volumes; the admin's sidebar badges (SOP reviews,
    # reports), bell
    assert counted == [11, 11], (counted, sql)  # … and the assignment history (the agent at the month's end)
    assert body.count("data-outlet=") == 4 + 6


def test_outlet_page_statements_with_the_figures(client, auth, ticket_world):
    """The outlet page's 月度指标 adds three statements (tickets, fines, overtime) for six months: the
    parcels and fees are the ones the page's volume table has read."""
    from tests.test_statements_admin import _counts

    w = ticket_world

    def add(n):
        due = datetime.now(UTC) - timedelta(hours=1)
        for _ in range(n):
            _ticket(w, w.own, registered=due - timedelta(hours=1), due=due)

    counted, sql, _body = _counts(client, auth, w.admin, f"/outlets/{w.own.id}", add)
    assert counted[0] == counted[1], (counted, sql)


# 网点对账单 (kdcs/outlets/statement.py)


def test_the_statement_of_a_month(client, auth, november):
    w = november
    w.own.overtime_rate = Decimal("40.00")
    db.session.commit()
    from kdcs.overtime import service as overtime

    entry = factories.make_overtime(w.agent, w.own, day=date(2026, 11, 11), minutes=150)
    overtime.decide(w.lead, entry.id, version=entry.version, approve=True)
    factories.make_overtime(w.agent, w.own, day=date(2026, 11, 12), minutes=60)  # waiting: not billed
    from kdcs.outlets import statement

    sheet = statement.statement(w.lead, w.own, NOV, NOW)
    assert (sheet.parcels, sheet.fee, sheet.overtime_minutes, sheet.overtime_fee) == (
        300_000, Decimal("7500.00"), 150, Decimal("100.00"))
    assert (sheet.fines_total, sheet.outlet_borne, sheet.ours) == (Decimal("150.00"), Decimal("50.00"), Decimal("100.00"))
    assert (sheet.billed, sheet.after_fines) == (Decimal("7600.00"), Decimal("7500.00"))
    auth.login(w.lead)
    page = parse(client.get(f"/outlets/{w.own.id}/statement?month=2026-11"))
    assert "网点对账单" in page.one("h1").text and page.one(data_testid="statement-month").text == "2026年11月"
    assert page.one(data_testid="statement-totals").one(data_figure="billed").text == "¥7,600.00"
    assert len(page.one(data_testid="statement-fines").find_all("tr")) == 1 + 2 + 1
    assert page.one("a", rel="prev").get("href").endswith("month=2026-10")
    default = parse(client.get(f"/outlets/{w.own.id}/statement"))  # the month that ended last
    expected = rates.shift_month(rates.this_month(), -1)
    assert default.one(data_testid="statement-month").text == f"{expected.year}年{expected.month}月"
    bad = parse(client.get(f"/outlets/{w.own.id}/statement?month=2026-13"))
    assert "不是有效的月份" in bad.one(data_testid="month-error").text


def test_the_outlet_page_links_the_statement_for_leads_only(client, auth, ticket_world):
    w = ticket_world
    auth.login(w.lead)
    assert parse(client.get(f"/outlets/{w.own.id}")).find_all(data_testid="statement-link")
    auth.logout()
    auth.login(w.agent)
    assert not parse(client.get(f"/outlets/{w.own.id}")).find_all(data_testid="statement-link")
