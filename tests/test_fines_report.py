"""The fines of a month (/tickets/fines): month rules, scope per role, sums by who bears them, the export."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from kdcs.extensions import db
from kdcs.filters import SHANGHAI
from kdcs.models import EventKind, TicketEvent
from kdcs.permissions import PermissionDenied
from kdcs.tickets import service as tickets
from kdcs.tickets.fines import service
from tests import factories
from tests.html import parse

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 2026-11-20 12:00 in Shanghai
NOVEMBER = date(2026, 11, 1)


# --------------------------------------------------------------------------- pure month rules


def test_months_are_typed_as_on_the_rate_pages(client, auth, users):
    """The page reads a month with the outlet rates' parser (2026-11, 2026/11, 2026年11月 ...)."""
    auth.login(users.lead)
    for typed in ("2026-11", "2026/11", "2026年11月", " 2026-11-05 "):
        assert "2026年11月" in parse(client.get("/tickets/fines", query_string={"month": typed})).one("h1").text


def test_shift_month_crosses_years():
    assert service.shift_month(date(2026, 12, 1), 1) == date(2027, 1, 1)
    assert service.shift_month(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert service.shift_month(date(2026, 11, 1), -13) == date(2025, 10, 1)


def test_month_bounds_are_shanghai_midnights():
    start, end = service.month_bounds(NOVEMBER)
    assert start == datetime(2026, 10, 31, 16, 0, tzinfo=UTC) and end == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    from kdcs.outlets.rates import this_month

    assert this_month(datetime(2026, 11, 30, 16, 30, tzinfo=UTC)) == date(2026, 12, 1)  # 00:30 on 12-01 in Beijing


# --------------------------------------------------------------------------- the service


def _fine(world, ticket, amount, bearer, share=None, at: datetime | None = None):
    """Record a fine through the service, then date its event ``at`` (the service stamps now), and the
    fine's month when it is the first one recorded on the ticket."""
    db.session.refresh(ticket)
    first = ticket.fine_amount is None
    tickets.record_fine(world.admin, ticket.id, version=ticket.version, amount=amount, bearer=bearer,
                        agent_share=share)
    if at is not None:
        event = db.session.scalars(db.select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == EventKind.FINE)
            .order_by(TicketEvent.id.desc())).first()
        event.at = at
        if first:
            ticket.fined_at = at
        db.session.commit()


@pytest.fixture
def fined(ticket_world):
    """Three fined tickets of November (mine: company with a share; the teammate's: the agent's
    own; the other team's: the outlet's), one of October and one fined the first second of December."""
    w = ticket_world
    mid = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    _fine(w, w.mine, "100", "company", "30", at=mid)
    _fine(w, w.team_ticket, "50", "agent", at=mid + timedelta(hours=1))
    _fine(w, w.far, "80", "outlet", at=mid + timedelta(hours=2))
    october = factories.make_ticket(w.own, reason=w.address)
    _fine(w, october, "20", "company", at=datetime(2026, 10, 31, 15, 59, tzinfo=UTC))  # 10-31 23:59 Shanghai
    december = factories.make_ticket(w.own, reason=w.address)
    _fine(w, december, "40", "company", at=datetime(2026, 11, 30, 16, 0, tzinfo=UTC))  # 12-01 00:00 Shanghai
    return w


def test_admin_sees_every_fine_of_the_month_with_who_bears_what(fined):
    report = service.month_report(fined.admin, NOVEMBER, NOW)
    assert [r.waybill_no for r in report.rows] == [fined.far.waybill_no, fined.team_ticket.waybill_no,
                                                   fined.mine.waybill_no]  # newest fine first
    total = report.total
    assert (total.count, total.amount, total.agent_share, total.outlet_borne, total.company_borne) == (
        3, Decimal("230.00"), Decimal("80.00"), Decimal("80.00"), Decimal("70.00"))
    by_outlet = {g.label: (g.count, g.amount) for g in report.by_outlet}
    assert by_outlet == {"ZTO571101 中通余杭良渚网点": (1, Decimal("100.00")),
                         "ZTO571102 中通萧山北干网点": (1, Decimal("50.00")),
                         "YTO021101 圆通上海松江网点": (1, Decimal("80.00"))}
    assert [g.label for g in report.by_agent] == [fined.agent.display_name, "郑洋", "李娜"]  # largest first
    assert [(g.label, g.count) for g in report.by_reason] == [("问题件 · 地址不详", 3)]


def test_month_edges_follow_shanghai_time(fined):
    october = service.month_report(fined.admin, date(2026, 10, 1), NOW)
    december = service.month_report(fined.admin, date(2026, 12, 1), NOW)
    assert october.total.amount == Decimal("20.00") and december.total.amount == Decimal("40.00")


def test_lead_sees_the_team_queue_and_agent_only_their_own(fined):
    lead = service.month_report(fined.lead, NOVEMBER, NOW)
    assert {r.ticket_id for r in lead.rows} == {fined.mine.id, fined.team_ticket.id}
    agent = service.month_report(fined.agent, NOVEMBER, NOW)
    assert [r.ticket_id for r in agent.rows] == [fined.mine.id] and agent.own_only
    assert agent.total.agent_share == Decimal("30.00")


def test_an_agent_does_not_see_fines_of_their_outlet_charged_to_someone_else(fined):
    """The agent's report is what they may bear: a ticket of their outlet handled by a teammate is not theirs."""
    handled = factories.make_ticket(fined.own, reason=fined.address, assignee=fined.teammate)
    _fine(fined, handled, "60", "agent", at=datetime(2026, 11, 11, 2, 0, tzinfo=UTC))
    assert handled.id not in {r.ticket_id for r in service.month_report(fined.agent, NOVEMBER, NOW).rows}
    assert handled.id in {r.ticket_id for r in service.month_report(fined.teammate, NOVEMBER, NOW).rows}


def test_a_fine_stays_with_the_agent_who_had_the_ticket_when_it_was_fined(fined):
    """Reassigned after the fine (and corrected after that), the fine is still charged to the first
    agent: on their page (no link once the ticket is out of their queue), in the lead's sums."""
    far_agent = fined.stranger
    moved = factories.make_ticket(fined.other, reason=fined.address, assignee=fined.agent)  # another team's outlet
    _fine(fined, moved, "60", "company", "10", at=datetime(2026, 11, 12, 2, 0, tzinfo=UTC))
    db.session.refresh(moved)
    assert moved.fine_agent_id == fined.agent.id
    tickets.assign(fined.admin, moved.id, far_agent.id, version=moved.version)
    _fine(fined, moved, "70", "company", "20", at=datetime(2026, 11, 13, 2, 0, tzinfo=UTC))
    db.session.refresh(moved)
    assert (moved.assignee_id, moved.fine_agent_id) == (far_agent.id, fined.agent.id)
    mine = service.month_report(fined.agent, NOVEMBER, NOW)
    row = next(r for r in mine.rows if r.ticket_id == moved.id)
    assert (row.agent_share, row.openable) == (Decimal("20.00"), False)
    assert next(r for r in mine.rows if r.ticket_id == fined.mine.id).openable
    assert moved.id not in {r.ticket_id for r in service.month_report(far_agent, NOVEMBER, NOW).rows}
    admin = service.month_report(fined.admin, NOVEMBER, NOW)
    assert next(r for r in admin.rows if r.ticket_id == moved.id).agent == fined.agent.display_name


def test_a_fine_on_an_unassigned_ticket_is_charged_to_nobody(fined):
    free = factories.make_ticket(fined.free, reason=fined.address, assignee=None)
    _fine(fined, free, "30", "company", at=datetime(2026, 11, 14, 2, 0, tzinfo=UTC))
    report = service.month_report(fined.admin, NOVEMBER, NOW)
    assert next(g for g in report.by_agent if g.key is None).amount == Decimal("30.00")


def test_a_correction_stays_in_the_month_the_fine_was_first_recorded(fined):
    """Corrected in December, the November fine shows its new amount in November and is not counted
    again in December (it was counted in both months before migration 0022)."""
    _fine(fined, fined.mine, "120", "company", "40", at=datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    november = service.month_report(fined.admin, NOVEMBER, NOW)
    row = next(r for r in november.rows if r.ticket_id == fined.mine.id)
    assert (row.amount, row.agent_share, row.fined_at) == (
        Decimal("120.00"), Decimal("40.00"), datetime(2026, 11, 10, 2, 0, tzinfo=UTC))
    december = service.month_report(fined.admin, date(2026, 12, 1), NOW)
    assert fined.mine.id not in {r.ticket_id for r in december.rows}


def test_trainers_may_not_read_fines(fined):
    with pytest.raises(PermissionDenied):
        service.fined_rows(fined.trainer, NOVEMBER, NOW)


def test_this_months_totals_equal_the_lead_home_figure(ticket_world):
    """The page and the home's "本月罚款" count the same tickets the same way."""
    from kdcs.dashboard.service import team_totals

    w = ticket_world
    _fine(w, w.mine, "100", "company", "30")
    _fine(w, w.team_ticket, "50", "agent")
    _fine(w, w.far, "80", "outlet")
    now = datetime.now(UTC)
    from kdcs.outlets.rates import this_month

    report = service.month_report(w.lead, this_month(now), now)
    (count, amount, share), _unassigned = team_totals(w.lead, now)
    assert (report.total.count, report.total.amount, report.total.agent_share) == (count, amount, share) == (
        2, Decimal("150.00"), Decimal("80.00"))


# --------------------------------------------------------------------------- the pages


def test_lead_page_shows_totals_sums_and_rows(client, auth, fined):
    auth.login(fined.lead)
    response = client.get("/tickets/fines?month=2026-11")
    assert response.status_code == 200
    page = parse(response)
    assert page.one(data_figure="count").text == "2"
    assert page.one(data_figure="amount").text == "¥150.00"
    assert page.one(data_figure="agent-share").text == "¥80.00"
    assert len(page.one("table", data_testid="fine-rows").one("tbody").find_all("tr")) == 2
    assert len(page.one("table", data_testid="by-agent").one("tbody").find_all("tr")) == 2
    assert page.one("a", rel="prev").get("href").endswith("month=2026-10")
    assert page.one("a", rel="next").get("href").endswith("month=2026-12")
    assert "罚款 · 2026年11月" in page.one("h1").text


def test_agent_page_is_their_own_without_the_per_agent_table(client, auth, fined):
    auth.login(fined.agent)
    page = parse(client.get("/tickets/fines?month=2026-11"))
    assert "我的罚款" in page.one("h1").text
    assert page.find(data_testid="by-agent") is None
    assert [a.text for a in page.one("table", data_testid="fine-rows").find_all("a", cls="waybill")] == [
        fined.mine.waybill_no]


@pytest.mark.parametrize("month", ["2026-13", "abc", "1999-12", "=1+1", "9" * 300])
def test_a_bad_month_is_explained_and_this_month_shown(client, auth, users, month):
    auth.login(users.lead)
    response = client.get("/tickets/fines", query_string={"month": month})
    assert response.status_code == 200
    page = parse(response)
    assert "不是有效的月份" in page.one(data_testid="month-error").text
    today = datetime.now(SHANGHAI)
    assert f"{today.year}年{today.month}月" in page.one("h1").text


def test_a_month_without_fines_says_so(client, auth, users):
    auth.login(users.lead)
    page = parse(client.get("/tickets/fines?month=2020-01"))
    assert "2020年1月 没有罚款记录" in page.one(data_testid="no-fines").text
    assert not [a for a in page.find_all("a") if "fines/export" in (a.get("href") or "")]


def test_trainer_gets_403_and_no_nav_item(client, auth, users):
    auth.login(users.trainer)
    assert client.get("/tickets/fines").status_code == 403
    assert client.get("/tickets/fines/export.xlsx").status_code == 403
    auth.logout()
    auth.login(users.lead)
    nav = parse(client.get("/")).one("aside").find_all("a")
    assert "罚款" in [a.text for a in nav]


def test_export_has_the_pages_rows_and_keeps_formulas_as_text(client, auth, fined):
    fined.address.name = "=HYPERLINK(\"http://x\")"
    db.session.commit()
    auth.login(fined.lead)
    response = client.get("/tickets/fines/export.xlsx?month=2026-11")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("记录时间", "运单号", "品牌") and len(rows) == 3
    by_waybill = {row[1]: row for row in rows[1:]}
    mine = by_waybill[fined.mine.waybill_no]
    assert mine[9] == 100 and mine[10] == "公司" and mine[11] == 30 and mine[13] == 70
    assert mine[6] == '=HYPERLINK("http://x")'
    cells = [c for c in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert cells[6].data_type == "s"  # text, not a formula


def test_fines_page_statements_do_not_grow_with_the_fines(client, auth, ticket_world):
    """The month's fines are one statement, whatever their number (agents, outlets, reasons of each)."""
    from tests.test_statements_ticket_desk import _counts

    w = ticket_world

    def add(n):
        for _ in range(n):
            agent = factories.make_user("agent", team=w.team)
            outlet = factories.make_outlet(agent=agent)
            ticket = factories.make_ticket(outlet, reason=factories.make_reason("problem"))
            _fine(w, ticket, "10", "company", "5")

    counted, sql, body = _counts(client, auth, w.lead, "/tickets/fines", add)
    assert counted == [4, 4], (counted, sql)  # the user, the covered outlets, the fines, the bell
    assert body.count('class="waybill"') == 6


def test_ticket_page_says_who_a_reassigned_fine_is_charged_to(client, auth, ticket_world):
    w = ticket_world
    _fine(w, w.mine, "40", "company", "10")
    auth.login(w.admin)
    assert parse(client.get(f"/tickets/{w.mine.id}")).find(data_testid="fine-agent") is None  # still the assignee's
    db.session.refresh(w.mine)
    tickets.assign(w.admin, w.mine.id, w.teammate.id, version=w.mine.version)
    charged = parse(client.get(f"/tickets/{w.mine.id}")).one(data_testid="fine-agent")
    assert charged.text == f"记在 {w.agent.display_name} 名下"


def test_admin_sees_the_teams_side_by_side(client, auth, fined):
    report = service.month_report(fined.admin, NOVEMBER, NOW)
    assert [(g.label, g.count, g.amount) for g in report.by_team] == [
        ("一组", 2, Decimal("150.00")), ("二组", 1, Decimal("80.00"))]
    assert service.month_report(fined.lead, NOVEMBER, NOW).by_team == []
    auth.login(fined.admin)
    table = parse(client.get("/tickets/fines?month=2026-11")).one("table", data_testid="by-team")
    assert [tr.find_all("td")[0].text for tr in table.one("tbody").find_all("tr")] == ["一组", "二组"]


def test_the_service_dates_a_fine_once(ticket_world):
    """record_fine stamps fined_at when the fine is first recorded; a correction keeps it."""
    w = ticket_world
    tickets.record_fine(w.lead, w.mine.id, version=w.mine.version, amount="50", bearer="company")
    first = w.mine.fined_at
    assert first is not None
    w.mine.fined_at = first = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    db.session.commit()
    tickets.record_fine(w.lead, w.mine.id, version=w.mine.version, amount="30", bearer="outlet")
    assert (w.mine.fined_at, w.mine.fine_amount) == (first, Decimal("30.00"))
