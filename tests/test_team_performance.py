"""A team's week or month per agent (/team/performance): periods, each figure, scope, the page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from kdcs.dashboard import performance
from kdcs.extensions import db
from kdcs.models import EventKind, TicketEvent, TicketReply, TicketStatus
from kdcs.permissions import PermissionDenied
from kdcs.tickets import service as tickets
from tests import factories
from tests.html import parse

MONDAY = date(2026, 11, 23)
SINCE = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # Monday 00:00 in Shanghai
NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)  # Friday noon in Shanghai


def test_periods():
    assert performance.period_start("week", date(2026, 11, 29)) == MONDAY  # a Sunday
    assert performance.period_end("week", MONDAY) == date(2026, 11, 30)
    assert performance.period_start("month", date(2026, 12, 31)) == date(2026, 12, 1)
    assert performance.period_end("month", date(2026, 12, 1)) == date(2027, 1, 1)
    assert performance.period_end("month", date(2027, 2, 1)) == date(2027, 3, 1)
    assert performance.previous_start("week", MONDAY) == date(2026, 11, 16)
    assert performance.previous_start("month", date(2027, 1, 1)) == date(2026, 12, 1)


def _ticket(w, outlet, *, due: datetime, first: datetime | None = None, assignee="primary"):
    ticket = factories.make_ticket(outlet, reason=w.address, assignee=assignee, registered_at=due - timedelta(hours=2))
    ticket.reply_due_at, ticket.first_replied_at = due, first
    db.session.commit()
    return ticket


@pytest.fixture
def week(ticket_world):
    """agent_a: one first reply on time, one late, one deadline missed, one deadline still ahead, one
    answered last week; two replies recorded this week (and a correction), one ticket closed, one fine.
    The teammate: one on time. The other team's agent: one missed (not in the team)."""
    w = ticket_world
    day = SINCE + timedelta(days=1, hours=2)  # Tuesday 10:00
    _ticket(w, w.own, due=day, first=day - timedelta(minutes=30))
    _ticket(w, w.own, due=day, first=day + timedelta(hours=1))
    _ticket(w, w.own, due=day + timedelta(days=1))  # Wednesday: passed, never answered
    _ticket(w, w.own, due=NOW + timedelta(hours=2))  # due later today: not missed yet
    _ticket(w, w.own, due=SINCE - timedelta(days=2), first=SINCE - timedelta(days=3))  # last week's
    _ticket(w, w.team_outlet, due=day, first=day - timedelta(hours=1))
    _ticket(w, w.other, due=day)
    for at in (day, day + timedelta(hours=3), SINCE - timedelta(hours=1)):
        db.session.add(TicketReply(ticket_id=w.mine.id, channel="phone", body="已联系", sent_at=at,
                                   recorded_by_id=w.agent.id))
    db.session.flush()
    first = db.session.scalars(db.select(TicketReply).where(TicketReply.ticket_id == w.mine.id)).first()
    db.session.add(TicketReply(ticket_id=w.mine.id, channel="phone", body="更正", sent_at=day,
                               recorded_by_id=w.agent.id, corrects_id=first.id))
    db.session.add(TicketEvent(ticket_id=w.mine.id, actor_id=w.agent.id, kind=EventKind.STATUS,
                               from_value="replied", to_value=TicketStatus.CLOSED, at=day))
    db.session.commit()
    tickets.record_fine(w.lead, w.mine.id, version=w.mine.version, amount="50", bearer="company", agent_share="15")
    event = db.session.scalars(db.select(TicketEvent).where(TicketEvent.kind == EventKind.FINE)).one()
    event.at = w.mine.fined_at = day
    db.session.commit()
    return w


def _lines(report):
    return {line.user.username: line for line in report.lines}


def test_each_figure_of_the_week(week):
    report = performance.team_period(week.lead, week.team, "week", MONDAY, NOW)
    mine = _lines(report)["agent_a"]
    assert (mine.on_time, mine.late, mine.missed, mine.due, mine.on_time_rate) == (1, 1, 1, 3, 33)
    assert (mine.replies, mine.closed, mine.fines, mine.fine_share) == (2, 1, 1, Decimal("15.00"))
    mate = _lines(report)["agent_mate"]
    assert (mate.on_time, mate.due, mate.on_time_rate, mate.replies) == (1, 1, 100, 0)
    assert _lines(report)["lead_a"].on_time_rate is None  # nothing due: no rate, not 0 %
    assert "agent_far" not in _lines(report)  # another team
    total = report.total
    assert (total.on_time, total.late, total.missed, total.replies, total.fines) == (2, 1, 1, 2, 1)
    assert total.on_time_rate == 50


def test_the_week_before_and_a_month(week):
    before = _lines(performance.team_period(week.lead, week.team, "week", date(2026, 11, 16), NOW))["agent_a"]
    assert (before.on_time, before.replies, before.closed, before.fines) == (1, 1, 0, 0)
    month = _lines(performance.team_period(week.lead, week.team, "month", date(2026, 11, 1), NOW))["agent_a"]
    assert (month.on_time, month.late, month.missed, month.replies) == (2, 1, 1, 3)


def test_a_deadline_still_ahead_is_not_missed_until_it_passes(week):
    later = NOW + timedelta(hours=3)
    assert _lines(performance.team_period(week.lead, week.team, "week", MONDAY, later))["agent_a"].missed == 2


def test_who_may_read_which_team(week):
    assert performance.team_for(week.lead, week.other_team.id) == week.team  # a lead reads their own
    assert performance.team_for(week.admin, week.other_team.id) == week.other_team
    with pytest.raises(PermissionDenied):
        performance.team_period(week.lead, week.other_team, "week", MONDAY, NOW)
    with pytest.raises(PermissionDenied):
        performance.team_for(week.agent, None)
    far = _lines(performance.team_period(week.admin, week.other_team, "week", MONDAY, NOW))
    assert far["agent_far"].missed == 1


def test_lead_page(client, auth, week):
    auth.login(week.lead)
    page = parse(client.get("/team/performance?period=week&start=2026-11-25"))
    assert "11-23 至 11-29" in page.one("h1").text and "一组" in page.one("h1").text
    row = page.one("tr", data_agent="agent_a")
    assert row.one(data_figure="rate").text == "25%"  # seen from today, Friday's later deadline was missed too
    assert page.one("a", rel="prev").get("href").endswith("start=2026-11-16")
    assert page.find("select", id="perf-team") is None  # a lead has one team
    month = parse(client.get("/team/performance?period=month&start=2026-11-25"))
    assert "2026年11月" in month.one("h1").text


def test_admin_picks_a_team(client, auth, week):
    auth.login(week.admin)
    page = parse(client.get(f"/team/performance?team={week.other_team.id}&start=2026-11-23"))
    assert "二组" in page.one("h1").text and page.find("tr", data_agent="agent_far") is not None
    assert [o.text for o in page.one("select", id="perf-team").find_all("option")] == ["一组", "二组"]


@pytest.mark.parametrize("start", ["2026-13-01", "abc", "9" * 40, "0001-01-01", "2026-11"])
def test_a_bad_date_is_explained(client, auth, users, start):
    auth.login(users.lead)
    response = client.get("/team/performance", query_string={"start": start, "period": "fortnight"})
    assert response.status_code == 200
    assert "不是有效的日期" in parse(response).one(data_testid="period-error").text


def test_the_lead_home_and_the_team_page_link_here(client, auth, users):
    auth.login(users.lead)
    for url in ("/", "/team"):
        links = [a.get("href") for a in parse(client.get(url)).find_all("a")]
        assert "/team/performance" in links, url


def test_page_statements_do_not_grow_with_the_team(client, auth, ticket_world):
    """Members, their tickets' deadlines, replies, closings and fines: a fixed number of statements."""
    from tests.test_statements_admin import _counts

    w = ticket_world

    def add(n):
        for _ in range(n):
            agent = factories.make_user("agent", team=w.team)
            outlet = factories.make_outlet(agent=agent)
            due = datetime.now(UTC) - timedelta(hours=1)
            _ticket(w, outlet, due=due, first=due - timedelta(minutes=5))
            _ticket(w, outlet, due=due)

    counted, sql, body = _counts(client, auth, w.lead, "/team/performance", add)
    assert counted == [9, 9], (counted, sql)  # user, team, members, deadlines, replies, closed, fines, 质检, bell
    assert body.count("data-agent=") == 2 + 6 + 1  # agent_a, the teammate, six new agents, the lead


@pytest.mark.parametrize("text, expected", [
    ("2026-11-30", date(2026, 11, 30)), (" 2026-11-30 ", date(2026, 11, 30)), ("2026-02-30", None),
    ("1999-12-31", None), ("2100-01-01", None), ("", None), ("30/11/2026", None)])
def test_parse_day(text, expected):
    assert performance.parse_day(text) == expected


# 我的表现 and a lead's look at one member (/me/performance, /team/performance/<id>)

def test_a_persons_week_the_week_before_and_the_tickets_behind(week):
    report = performance.person_period(week.agent, week.agent, "week", MONDAY, NOW)
    line, before = report.line, report.previous
    assert (line.on_time, line.late, line.missed, line.replies, line.closed, line.fines) == (1, 1, 1, 2, 1, 1)
    assert (before.on_time, before.late, before.missed, before.replies) == (1, 0, 0, 1)
    assert [r.first_replied_at is not None for r in report.late] == [True]
    assert report.late[0].overrun_minutes(NOW) == 60
    assert [r.first_replied_at for r in report.missed] == [None]
    missed = report.missed[0]
    assert missed.overrun_minutes(NOW) == int((NOW - missed.reply_due_at).total_seconds() // 60)
    assert missed.outlet_code == "ZTO571101" and missed.reason == week.address.name
    # the same figures as the agent's line of the team's week
    assert _lines(performance.team_period(week.lead, week.team, "week", MONDAY, NOW))["agent_a"].due == line.due


def test_a_person_with_nothing_wrong_lists_nothing(week):
    report = performance.person_period(week.lead, week.teammate, "week", MONDAY, NOW)
    assert (report.line.on_time, report.late, report.missed) == (1, [], [])


def test_who_may_read_whose_figures(week):
    can = performance.can_view_person
    assert can(week.agent, week.agent) and can(week.lead, week.lead)
    assert not can(week.agent, week.teammate)  # not a colleague's
    assert can(week.lead, week.agent) and can(week.lead, week.teammate)
    assert not can(week.lead, week.stranger)  # another team
    assert can(week.admin, week.stranger)
    assert not can(week.admin, week.admin) and not can(week.admin, week.trainer)  # no queue, no figures
    with pytest.raises(PermissionDenied):
        performance.person_period(week.agent, week.teammate, "week", MONDAY, NOW)
    with pytest.raises(PermissionDenied):
        performance.person_period(week.lead, week.stranger, "week", MONDAY, NOW)


def test_my_page(client, auth, week, monkeypatch):
    auth.login(week.agent)
    page = parse(client.get("/me/performance?period=week&start=2026-11-25"))
    assert "我的表现" in page.one("h1").text and "11-23 至 11-29" in page.one("h1").text
    figures = page.one(data_testid="person-figures")
    assert figures.one(data_figure="due").one(cls="value").text == "4"  # Friday's later deadline has passed now
    assert "上周" in figures.one(data_figure="rate").text
    late = page.one(data_testid="perf-late")
    assert "(1)" in late.one("h2").text and len([tr for tr in late.find_all("tr") if tr.get("data-ticket")]) == 1
    assert late.one("td", cls="is-bad").text == "1 小时"  # duration_text
    missed = page.one(data_testid="perf-missed")
    assert len([tr for tr in missed.find_all("tr") if tr.get("data-ticket")]) == 2
    links = [a.get("href") for a in missed.find_all("a")]
    assert all(href.startswith("/tickets/") for href in links) and links
    assert page.one("a", rel="prev").get("href") == "/me/performance?period=week&start=2026-11-16"
    empty = parse(client.get("/me/performance?period=week&start=2026-11-02"))
    assert "这段时间没有超时的首次回复" in empty.one(data_testid="perf-late").text


def test_a_lead_opens_a_member_from_the_team_table(client, auth, week):
    auth.login(week.lead)
    team = parse(client.get("/team/performance?period=month&start=2026-11-01"))
    href = team.one("tr", data_agent="agent_a").one("a").get("href")
    assert href == f"/team/performance/{week.agent.id}?period=month&start=2026-11-01"
    page = parse(client.get(href))
    assert "王芳" in page.one("h1").text or week.agent.display_name in page.one("h1").text
    assert page.one("a", rel="next").get("href") == f"/team/performance/{week.agent.id}?period=month&start=2026-12-01"
    assert client.get(f"/team/performance/{week.stranger.id}").status_code == 404


@pytest.mark.parametrize("start", ["2026-13-01", "abc", "9" * 40])
def test_my_page_explains_a_bad_date(client, auth, users, start):
    auth.login(users.agent)
    response = client.get("/me/performance", query_string={"start": start, "period": "year"})
    assert response.status_code == 200
    assert "不是有效的日期" in parse(response).one(data_testid="period-error").text


def test_the_agent_home_links_here(client, auth, users):
    auth.login(users.agent)
    assert "/me/performance" in [a.get("href") for a in parse(client.get("/")).find_all("a")]


def test_my_page_statements_do_not_grow_with_the_tickets(client, auth, ticket_world):
    """Figures for the period and the one before, and one list of the late and missed tickets."""
    from tests.test_statements_admin import _counts

    w = ticket_world

    def add(n):
        due = datetime.now(UTC) - timedelta(hours=1)
        for _ in range(n):
            _ticket(w, w.own, due=due, first=due + timedelta(minutes=5))
            _ticket(w, w.own, due=due)

    counted, sql, body = _counts(client, auth, w.agent, "/me/performance", add)
    # user, 4 figures now, 4 before, the outlets covered now (代班, for "openable"), the list, the bell, the SOP
    # reading banner of an agent's pages
    assert counted == [14, 14], (counted, sql)  # + 质检 of the period and of the one before (one statement)


@pytest.mark.parametrize("minutes, text", [(0, "0 分钟"), (40, "40 分钟"), (60, "1 小时"), (185, "3 小时 5 分钟"),
                                           (1440, "1 天"), (2 * 1440 + 4 * 60 + 59, "2 天 4 小时"), (-5, "0 分钟")])
def test_duration_text(app, minutes, text):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert performance.duration_text(minutes) == text


def test_first_contact_resolution_and_handling_time(ticket_world):
    """Three tickets agent_a closed this week: one with one reply (first contact, 2 h), one with two
    replies (4 h), one reopened and closed again (6 h and 8 h); the teammate closed none."""
    w = ticket_world
    day = SINCE + timedelta(days=2)

    def closed(hours: int, replies: int, *, reopened: bool = False):
        ticket = factories.make_ticket(w.own, reason=w.address, registered_at=day - timedelta(hours=hours))
        for n in range(replies):
            db.session.add(TicketReply(ticket_id=ticket.id, channel="phone", body="已处理", recorded_by_id=w.agent.id,
                                       sent_at=day - timedelta(minutes=10 + n)))
        db.session.add(TicketEvent(ticket_id=ticket.id, actor_id=w.agent.id, kind=EventKind.STATUS,
                                   from_value="replied", to_value=TicketStatus.CLOSED, at=day))
        if reopened:
            db.session.add(TicketEvent(ticket_id=ticket.id, actor_id=w.lead.id, kind=EventKind.REOPEN,
                                       from_value=TicketStatus.CLOSED, to_value="in_progress",
                                       at=day + timedelta(hours=1)))
            db.session.add(TicketEvent(ticket_id=ticket.id, actor_id=w.agent.id, kind=EventKind.STATUS,
                                       from_value="in_progress", to_value=TicketStatus.CLOSED,
                                       at=day + timedelta(hours=2)))
        db.session.commit()

    closed(2, 1)
    closed(4, 2)
    closed(6, 1, reopened=True)
    lines = _lines(performance.team_period(w.lead, w.team, "week", MONDAY, NOW))
    mine = lines["agent_a"]
    assert (mine.closed, mine.closed_first_time, mine.first_contact_rate) == (3, 1, 33)
    assert mine.closings == 4 and mine.average_handling_minutes == (2 + 4 + 6 + 8) * 60 // 4
    assert lines["agent_mate"].first_contact_rate is None and lines["agent_mate"].average_handling_minutes is None
    person = performance.person_period(w.agent, w.agent, "week", MONDAY, NOW).line
    assert (person.first_contact_rate, person.average_handling_minutes) == (33, 300)


def test_a_registration_after_the_closing_counts_no_time(ticket_world):
    """Imported data can say a ticket was registered after it was closed: it adds 0, not minus."""
    w = ticket_world
    day = SINCE + timedelta(days=2)
    for hours in (-5, 3):
        ticket = factories.make_ticket(w.own, reason=w.address, registered_at=day - timedelta(hours=hours))
        db.session.add(TicketEvent(ticket_id=ticket.id, actor_id=w.agent.id, kind=EventKind.STATUS,
                                   from_value="replied", to_value=TicketStatus.CLOSED, at=day))
    db.session.commit()
    mine = _lines(performance.team_period(w.lead, w.team, "week", MONDAY, NOW))["agent_a"]
    assert (mine.closed, mine.first_contact_rate, mine.average_handling_minutes) == (2, 100, 90)


# Whom a deadline counts for (Ticket.reply_agent_id): the holder when it passed or was met.


def test_a_deadline_stays_with_who_held_the_ticket(ticket_world):
    """agent_a's ticket passes its reply deadline (the escalation pass keeps agent_a), then the lead
    gives it to the teammate, who replies: the miss and the late reply count for agent_a; a ticket
    the teammate received before its deadline and answered counts for the teammate."""
    from kdcs.tickets import notices

    w = ticket_world
    now = datetime.now(UTC)
    # of the teammate's outlet, but held by agent_a: once it is the teammate's again, agent_a cannot open it
    missed = factories.make_ticket(w.team_outlet, reason=w.address, registered_at=now - timedelta(hours=3),
                                   reply_minutes=60, assignee=w.agent)
    fresh = factories.make_ticket(w.own, reason=w.address, registered_at=now - timedelta(minutes=10))
    version = missed.version
    notices.escalate(now)
    db.session.refresh(missed)
    assert (missed.reply_agent_id, missed.version) == (w.agent.id, version)  # stamped without a version bump
    for ticket in (missed, fresh):
        tickets.assign(w.lead, ticket.id, w.teammate.id, version=ticket.version)
    tickets.record_reply(w.teammate, fresh.id, version=fresh.version, channel="phone", body="已联系客户")
    tickets.record_reply(w.teammate, missed.id, version=missed.version, channel="phone", body="已联系客户")
    db.session.refresh(missed)
    db.session.refresh(fresh)
    assert (missed.reply_agent_id, fresh.reply_agent_id) == (w.agent.id, w.teammate.id)
    week = performance.period_start("week", beijing_day := (now + timedelta(hours=8)).date())
    lines = _lines(performance.team_period(w.lead, w.team, "week", week, now + timedelta(minutes=1)))
    assert (lines["agent_a"].late, lines["agent_a"].on_time) == (1, 0)
    assert (lines["agent_mate"].late, lines["agent_mate"].on_time) == (0, 1)
    mine = performance.person_period(w.agent, w.agent, "week", week, now + timedelta(minutes=1))
    assert [r.ticket_id for r in mine.late] == [missed.id] and not mine.late[0].openable  # the teammate's now
    assert beijing_day >= week
    # the teammate goes on leave and agent_a covers the outlet (代班): agent_a may open it again
    from tests.leave_data import make_leave

    make_leave(w.teammate, [w.team_outlet], w.agent, beijing_day - timedelta(days=1), beijing_day + timedelta(days=1))
    mine = performance.person_period(w.agent, w.agent, "week", week, now + timedelta(minutes=1))
    assert mine.late[0].openable


def test_a_reopened_ticket_without_reply_counts_its_new_deadline_afresh(ticket_world):
    w = ticket_world
    now = datetime.now(UTC)
    ticket = factories.make_ticket(w.own, reason=w.address, registered_at=now - timedelta(hours=3), reply_minutes=60)
    ticket.reply_agent_id = w.agent.id
    ticket.status, ticket.closed_at = "closed", now
    db.session.commit()
    tickets.reopen(w.lead, ticket.id, version=ticket.version, reason="客户再次来电")
    assert ticket.reply_agent_id is None and ticket.reply_due_at > now


def test_the_page_shows_each_member_s_quality_score(client, auth, ticket_world):
    """质检均分: the average score of the member's replies sent in the period (how many were scored)."""
    from kdcs.models import utcnow

    w = ticket_world
    for awarded in (18, 14):  # 90 and 70
        factories.make_quality_review(factories.make_reply(w.mine, w.agent, sent_at=utcnow()), w.lead,
                                      awarded=awarded, possible=20)
    factories.make_quality_review(factories.make_reply(w.mine, w.agent, sent_at=utcnow() - timedelta(days=40)),
                                  w.lead, awarded=0, possible=20)  # another period
    auth.login(w.lead)
    page = parse(client.get("/team/performance"))
    assert page.one("tr", data_agent="agent_a").one(data_figure="quality").text == "80.0 (2)"
    assert page.one("tr", data_agent="agent_mate").one(data_figure="quality").text == "—"
    assert page.one(data_figure="team-quality").text == "80.0"


def test_the_person_page_shows_the_quality_checks_of_both_periods(client, auth, ticket_world):
    from kdcs.models import utcnow

    w = ticket_world
    factories.make_quality_review(factories.make_reply(w.mine, w.agent, sent_at=utcnow()), w.lead,
                                  awarded=18, possible=20)
    auth.login(w.agent)
    text = parse(client.get("/me/performance")).one(data_testid="person-quality").text
    assert "抽检 1 条，平均 90.0 分" in text and "上周: 没有抽检" in text and "我的质检" in text
    from kdcs.quality.service import period_bounds
    from kdcs.workcalendar import SHANGHAI

    monday = performance.period_start("week", datetime.now(SHANGHAI).date())
    last_week = period_bounds("week", monday - timedelta(days=7))[0] + timedelta(hours=10)
    for awarded in (14, 12):  # 70 and 60, last week
        factories.make_quality_review(factories.make_reply(w.mine, w.agent, sent_at=last_week), w.lead,
                                      awarded=awarded, possible=20)
    text = parse(client.get("/me/performance")).one(data_testid="person-quality").text
    assert "抽检 1 条，平均 90.0 分" in text and "上周: 抽检 2 条，平均 65.0 分" in text
