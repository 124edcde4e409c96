"""Home pages by role and the navigation each role sees."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest

from kdcs.dashboard.service import outlet_summary
from kdcs.extensions import db
from kdcs.models import Notification, TicketReply, TicketStatus
from kdcs.models.user import username_sort_key
from kdcs.outlets.service import monthly_fee
from kdcs.tickets import service as ticket_service
from tests import factories


def test_monthly_fee_is_exact_decimal():
    assert monthly_fee(300_000, Decimal("0.025")) == Decimal("7500.00")
    assert monthly_fee(123_457, Decimal("0.0237")) == Decimal("2925.93")  # 2925.9309 rounded to the fen


def test_natural_sort_key():
    assert sorted(["agent10", "agent2", "agent1"], key=username_sort_key) == ["agent1", "agent2", "agent10"]


def test_agent_summary_uses_latest_month_and_only_own_outlets(users):
    agent = users["agent"]
    mine = factories.make_outlet(agent=agent, rate="0.0250")
    other = factories.make_outlet(agent=factories.make_user("agent"))
    factories.make_volume(mine, date(2026, 9, 1), 100_000, 50_000)
    factories.make_volume(mine, date(2026, 10, 1), 200_000, 100_000)
    factories.make_volume(other, date(2026, 10, 1), 1, 1)
    summary = outlet_summary(agent)
    assert [line.outlet.id for line in summary.lines] == [mine.id]
    assert summary.month == date(2026, 10, 1)
    assert summary.total_parcels == 300_000 and summary.total_fee == Decimal("7500.00")


def test_agent_home_shows_outlets_without_fees(client, auth, users):
    outlet = factories.make_outlet(agent=users["agent"], name="中通杭州良渚网点")
    factories.make_volume(outlet, date(2026, 10, 1), 200_000, 100_000)
    auth.login(users["agent"])
    html = client.get("/").get_data(as_text=True)
    assert "中通杭州良渚网点" in html and "300,000" in html
    assert "¥7,500.00" not in html and "服务费" not in html  # fees moved off the agent's home


def test_parcels_and_fees_name_their_month(client, auth, users):
    """Every table of parcels (and fees) says which month it counts: the newest month with volumes."""
    outlet = factories.make_outlet(agent=users["agent"], name="中通杭州良渚网点")
    factories.make_volume(outlet, date(2026, 9, 1), 100, 100)
    factories.make_volume(outlet, date(2026, 10, 1), 200_000, 100_000)

    def caption(html):
        return unescape(re.sub(r"<[^>]+>", "", html.split('data-testid="volume-month">', 1)[1].split("</", 1)[0]))

    auth.login(users["agent"])
    assert caption(client.get("/").get_data(as_text=True)) == "2026年10月 票数"
    auth.logout()
    auth.login(users["lead"])
    assert caption(client.get("/").get_data(as_text=True)) == "2026年10月 票数"
    team = client.get("/team").get_data(as_text=True)
    assert caption(team) == "票数和服务费为 2026年10月 的数据。" and "300,000" in team


def test_tables_without_volumes_name_no_month(client, auth, users):
    factories.make_outlet(agent=users["agent"], name="新网点")
    auth.login(users["lead"])
    assert 'data-testid="volume-month"' not in client.get("/").get_data(as_text=True)
    assert 'data-testid="volume-month"' not in client.get("/team").get_data(as_text=True)


def test_lead_home_lists_team_members_and_their_outlets(client, auth, users):
    factories.make_outlet(agent=users["agent"], name="团队的网点")
    outsider = factories.make_user("agent", username="outsider")
    factories.make_outlet(agent=outsider, name="别组的网点")
    auth.login(users["lead"])
    html = client.get("/").get_data(as_text=True)
    assert "agent_a" in html and "团队的网点" in html
    assert "outsider" not in html and "别组的网点" not in html
    team_page = client.get("/team").get_data(as_text=True)
    assert "agent_a" in team_page and "outsider" not in team_page


def test_lead_home_names_the_team(client, auth, users):
    """The "Team" figure: the lead's team (read with the members), "-" for a lead without a team."""
    def team_figure(html):
        day = html[html.index('data-testid="team-day"'):]
        return re.search(r'<span class="value">([^<]*)</span>', day).group(1)

    users["team"].name = "一组 <&>"
    db.session.commit()
    auth.login(users["lead"])
    assert team_figure(client.get("/").get_data(as_text=True)) == "一组 &lt;&amp;&gt;"
    auth.logout()
    loner = factories.make_user("lead", username="lead_alone", team=None)
    auth.login(loner)
    assert team_figure(client.get("/").get_data(as_text=True)) == "-"


def test_admin_home_counts(client, auth, users):
    factories.make_outlet(agent=None)
    auth.login(users["admin"])
    html = client.get("/").get_data(as_text=True)
    assert "管理概览" in html and "1 个未分配主责客服" in html


def test_trainer_home_lists_agents_by_team(client, auth, users):
    auth.login(users["trainer"])
    html = client.get("/").get_data(as_text=True)
    assert "各组客服" in html and "agent_a" in html and "一组" in html


NAV = {"首页", "工单队列", "罚款", "我的网点", "我的团队", "常用回复", "用户", "团队", "网点", "品牌", "工单设置", "审计日志"}


def _nav_labels(html: str) -> set[str]:
    import re

    nav = html.split('<nav>', 1)[1].split("</nav>", 1)[0]
    return set(re.findall(r'<a href="[^"]+"[^>]*>([^<]+)</a>', nav)) & NAV


def test_navigation_by_role(app, client, auth, users):
    expected = {
        "agent": {"首页", "工单队列", "罚款", "我的网点"},
        "trainer": {"首页"},
        "lead": {"首页", "工单队列", "罚款", "我的网点", "我的团队"},
        "admin": {"首页", "工单队列", "罚款", "用户", "团队", "网点", "品牌", "审计日志"},
    }
    expected["admin"].add("工单设置")
    expected["trainer"].add("常用回复")
    for role, labels in expected.items():
        auth.login(users[role])
        seen = _nav_labels(client.get("/").get_data(as_text=True))
        assert labels <= seen, (role, seen)
        assert not ((NAV - labels) & seen), (role, seen)
        auth.logout()


def test_only_the_current_section_is_highlighted(client, auth, users):
    auth.login(users["admin"])
    html = client.get("/tickets/calendar").get_data(as_text=True)
    nav = html.split("<nav>", 1)[1].split("</nav>", 1)[0]
    active = [line for line in nav.splitlines() if 'class="active"' in line]
    assert len(active) == 1 and "工单设置" in active[0]
    html = client.get("/tickets/").get_data(as_text=True)
    nav = html.split("<nav>", 1)[1].split("</nav>", 1)[0]
    active = [line for line in nav.splitlines() if 'class="active"' in line]
    assert len(active) == 1 and "工单队列" in active[0]
    html = client.get("/tickets/fines").get_data(as_text=True)
    nav = html.split("<nav>", 1)[1].split("</nav>", 1)[0]
    active = [line for line in nav.splitlines() if 'class="active"' in line]
    assert len(active) == 1 and "罚款" in active[0]


# --------------------------------------------------------------------------- the day's work

FIGURE = re.compile(r'<a [^>]*href="([^"]+)"[^>]*data-figure="([^"]+)"[^>]*>(?:\s*<span class="label">[^<]*</span>'
                    r'<span class="value">)?(\d+)')


def figures(html: str, within: str | None = None) -> dict[str, tuple[int, str]]:
    """{data-figure: (count, href)} of a page (or of the part after ``within``, up to the next row)."""
    if within is not None:
        html = html[html.index(within):]
        html = html[:html.index("</tr>")]
    return {name: (int(count), unescape(href)) for href, name, count in FIGURE.findall(html)}


def queue_ids(client, href: str) -> set[int]:
    html = client.get(href).get_data(as_text=True)
    return {int(i) for i in re.findall(r'<tr id="ticket-(\d+)"', html)}


def minutes_from_now(outlet, minutes: int, **fields):
    """A ticket whose reply is due ``minutes`` from now (negative: overdue)."""
    now = datetime.now(UTC)
    return factories.make_ticket(outlet, registered_at=now - timedelta(minutes=60),
                                 reply_minutes=60 + minutes, resolve_minutes=60 + 3 * 24 * 60, **fields)


@pytest.fixture
def day(users):
    mate = factories.make_user("agent", username="agent_mate", team=users.team, display_name="李娜")
    far = factories.make_user("agent", username="agent_far", team=factories.make_team("二组"))
    own = factories.make_outlet(agent=users.agent, name="良渚网点")
    mates = factories.make_outlet(agent=mate, name="勾庄网点")
    farout = factories.make_outlet(agent=far, name="远处网点")
    t = dict(
        late1=minutes_from_now(own, -10),
        late2=minutes_from_now(own, -90, category="arbitration"),
        hour=minutes_from_now(own, 30),
        later=minutes_from_now(own, 60 * 30),
        closed=minutes_from_now(own, -10, status=TicketStatus.CLOSED),
        mate_late=minutes_from_now(mates, -5),
        mate_free=minutes_from_now(mates, 120, assignee=None),
        far=minutes_from_now(farout, -5),
    )
    for ticket in t.values():
        ticket_service.refresh_derived(ticket)
    db.session.commit()
    return dict(users=users, mate=mate, tickets=t)


def test_agent_home_counts_and_each_figure_links_to_exactly_those_tickets(client, auth, day):
    users, t = day["users"], day["tickets"]
    db.session.add(Notification(user_id=users.agent.id, kind="ticket", title="工单已分配给你：X1", link="/tickets/1"))
    db.session.add(Notification(user_id=users.agent.id, kind="ticket", title="已读的通知", link="/tickets/1",
                                read_at=datetime.now(UTC)))
    db.session.commit()
    auth.login(users.agent)
    html = client.get("/").get_data(as_text=True)
    found = figures(html)
    assert found["overdue"][0] == 2 and found["hour"][0] == 1 and found["open"][0] == 4
    assert found["category-arbitration"][0] == 1 and found["category-problem"][0] == 3
    assert queue_ids(client, found["overdue"][1]) == {t["late1"].id, t["late2"].id}
    assert queue_ids(client, found["hour"][1]) == {t["hour"].id}
    for name, (count, href) in found.items():
        assert href.startswith("/tickets/?") or href.startswith("/tickets?")
        assert len(queue_ids(client, href)) == count, name
    assert "工单已分配给你：X1" in html and "已读的通知" not in html


def test_lead_home_per_agent_figures_link_to_exactly_those_tickets(client, auth, day):
    users, t = day["users"], day["tickets"]
    db.session.add(TicketReply(ticket_id=t["hour"].id, channel="phone", body="已联系", sent_at=datetime.now(UTC),
                               recorded_by_id=users.agent.id))
    db.session.commit()
    ticket_service.record_fine(users.lead, t["late1"].id, version=t["late1"].version, amount="50",
                               bearer="company", agent_share="20")
    ticket_service.record_fine(users.lead, t["closed"].id, version=t["closed"].version, amount="30", bearer="agent")
    auth.login(users.lead)
    html = client.get("/").get_data(as_text=True)
    mine = figures(html, 'data-agent="agent_a"')
    assert {k: v[0] for k, v in mine.items()} == {"open": 4, "overdue": 2, "today": mine["today"][0], "replied": 1}
    assert queue_ids(client, mine["overdue"][1]) == {t["late1"].id, t["late2"].id}
    assert queue_ids(client, mine["replied"][1]) == {t["hour"].id}
    theirs = figures(html, 'data-agent="agent_mate"')
    assert theirs["open"][0] == 1 and theirs["overdue"][0] == 1
    assert queue_ids(client, theirs["open"][1]) == {t["mate_late"].id}
    top = figures(html)
    assert top["unassigned"][0] == 1 and queue_ids(client, top["unassigned"][1]) == {t["mate_free"].id}
    assert top["fines"][0] == 2 and queue_ids(client, top["fines"][1]) == {t["late1"].id, t["closed"].id}
    assert "¥80.00" in html and "¥50.00" in html  # amount; agents' share 20 + 30
    for row in ('data-agent="agent_a"', 'data-agent="agent_mate"'):
        for name, (count, href) in figures(html, row).items():
            assert len(queue_ids(client, href)) == count, (row, name)
    assert "agent_far" not in html


def test_queue_has_export_and_import_buttons_following_the_filter(client, auth, day):
    users = day["users"]
    auth.login(users.lead)
    html = client.get("/tickets/?scope=team&window=overdue").get_data(as_text=True)
    assert re.search(r'id="queue-export"[^>]*href="/tickets/export\.xlsx\?scope=team&amp;window=overdue"', html)
    assert 'href="/tickets/import"' in html
    fragment = client.htmx("get", "/tickets/?scope=team&category=arbitration").get_data(as_text=True)
    assert re.search(r'id="queue-export"[^>]*hx-swap-oob="true"[^>]*category=arbitration', fragment)
    auth.logout()
    auth.login(users.agent)
    html = client.get("/tickets/").get_data(as_text=True)
    assert 'id="queue-export"' in html and 'href="/tickets/import"' not in html


def _attach(ticket, item, removed: bool = False):
    from kdcs.models.ticket import TicketAttachment

    db.session.add(TicketAttachment(
        ticket_id=ticket.id, stored_name=f"{ticket.id:064d}.png", original_name="a.png", content_type="image/png",
        size=10, evidence_item_id=item.id, removed_at=datetime.now(UTC) if removed else None))


def test_agent_home_counts_open_tickets_missing_an_evidence_item(client, auth, day):
    from kdcs.models.ticket import EvidenceItem

    users, t = day["users"], day["tickets"]
    damaged = [EvidenceItem(reason_id=t["late2"].reason_id, name=n, sort_order=i) for i, n in enumerate(["外包装照片", "内件照片"])]
    delay = EvidenceItem(reason_id=t["hour"].reason_id, name="物流轨迹截图", sort_order=1)
    retired = EvidenceItem(reason_id=t["later"].reason_id, name="旧项目", sort_order=1, is_active=False)
    db.session.add_all([*damaged, delay, retired])
    db.session.flush()
    _attach(t["late2"], damaged[0])  # one of two filed: still missing one
    _attach(t["hour"], delay)  # complete
    _attach(t["late1"], delay, removed=True)  # another reason's item, removed: no checklist of its own
    db.session.commit()
    auth.login(users.agent)
    found = figures(client.get("/").get_data(as_text=True))
    assert found["evidence"][0] == 1
    assert queue_ids(client, found["evidence"][1]) == {t["late2"].id}
    # Filing the second item completes it.
    _attach(t["late2"], damaged[1])
    db.session.commit()
    assert figures(client.get("/").get_data(as_text=True))["evidence"][0] == 0


def test_prebuilt_today_and_evidence_counts_equal_the_queue_queries(app, day):
    """``queue.today_and_evidence_counts`` (one prebuilt statement) counts what the queue's general
    queries of "due today" and "evidence missing" count, for every role and tab it serves."""
    from sqlalchemy import func, select

    from kdcs.models import utcnow
    from kdcs.models.ticket import EvidenceItem
    from kdcs.tickets import queue

    users, t = day["users"], day["tickets"]
    item = EvidenceItem(reason_id=t["late2"].reason_id, name="外包装照片", sort_order=1)
    db.session.add(item)
    db.session.flush()
    _attach(t["hour"], item)
    db.session.commit()
    now = utcnow()

    def general(user, scope, **filters):
        query = queue.apply_filters(queue.scoped_query(user, scope, now), queue.QueueFilter(scope=scope, **filters), now)
        return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))

    checked = 0
    for user in (users.agent, users.lead, users.admin):
        for scope in queue.allowed_scopes(user):
            with app.test_request_context("/"):
                got = queue.today_and_evidence_counts(user, scope, now)
            if got is None:
                continue
            checked += 1
            assert got == (general(user, scope, window="today"), general(user, scope, evidence="missing")), (user, scope)
    assert checked >= 4


def test_home_outlet_tables_escape_every_text_once(client, auth, users):
    """The outlet table's rows are placed without autoescape (OutletSummary.rows escapes each text):
    names with HTML characters come out as autoescape wrote them, never raw, never twice."""
    from markupsafe import escape

    nasty = {"code": "O<1>'&", "name": "<i>良渚</i> & \"网点\"", "brand": "<b>中通</b>",
             "region": "杭州 <script>", "agent": "<u>张 & 李</u>"}
    users["agent"].display_name = nasty["agent"]
    db.session.commit()
    outlet = factories.make_outlet(factories.make_brand("ZZX", nasty["brand"]), users["agent"], code=nasty["code"],
                                   name=nasty["name"], region=nasty["region"])
    factories.make_volume(outlet, date(2026, 10, 1), 1234, 1000)
    factories.make_outlet(agent=None, name="无人网点")
    for user in (users["lead"], users["agent"]):
        auth.login(user)
        html = client.get("/").get_data(as_text=True)
        auth.logout()
        table = html[html.rindex('<table class="data">'):]
        for text in nasty.values():
            if text != nasty["agent"] or user is users["lead"]:
                assert f">{escape(text)}<" in table, text
        for raw in ("<i>良渚", "<b>中通", "<script>", "<u>张"):
            assert raw not in html
        assert "&amp;lt;" not in html and "&amp;amp;" not in html and "&amp;#39;" not in html
        assert f'<a href="/outlets/{outlet.id}">' in table and ">2,234<" in table


def test_lead_team_table_escapes_names_and_badges_once(client, auth, users):
    """The "today by agent" rows are placed without autoescape (TeamDay.rows escapes each text) and
    the going-live badge inside them still escapes its own texts (the missing course's title)."""
    from markupsafe import escape

    from tests.training_cert_data import make_course

    make_course("<b>规则</b> & \"条款\"")
    users["agent"].display_name = "<u>张 & 李</u>"
    db.session.commit()
    auth.login(users["lead"])
    html = client.get("/").get_data(as_text=True)
    table = html[html.index('<table class="data team-day">'):]
    table = table[:table.index("</table>")]
    row = table[table.index('data-agent="agent_a"'):]
    row = row[:row.index("</tr>")]
    assert f">{escape('<u>张 & 李</u>')} <span" in row
    assert 'data-testid="cert-badge" title="' in row and str(escape("<b>规则</b> & \"条款\"")) in row
    assert "<u>张" not in html and "<b>规则" not in html
    assert "&amp;lt;" not in html and "&amp;amp;" not in html and "&amp;#34;" not in html


def test_outlet_summary_reads_the_parcels_with_its_rows_as_fees_for_month_did(users):
    """The summary's parcels (a column of its rows) and fees are ``fees_for_month``'s at the latest month:
    outlets with volumes that month, an older month only, none at all; each user's own scope."""
    from kdcs.dashboard.service import outlet_summary
    from kdcs.outlets.service import fees_for_month
    from tests.sql_statements import statements

    agent, mate = users["agent"], factories.make_user("agent", username="summary_mate", team=users["team"])
    now_, old_, none_ = (factories.make_outlet(agent=a, rate="0.0333") for a in (agent, mate, agent))
    factories.make_volume(now_, date(2026, 10, 1), 1001, 7)
    factories.make_volume(now_, date(2026, 9, 1), 5, 5)
    factories.make_volume(old_, date(2026, 9, 1), 300, 4)
    factories.make_volume(factories.make_outlet(agent=None), date(2026, 10, 1), 9, 9)  # nobody's: sets the month
    for user in (agent, users["lead"], users["admin"]):
        with statements() as seen:
            summary = outlet_summary(user)
        assert not [s for s in seen if "outlet_volumes" in s.split("FROM")[-1] and s.startswith("SELECT outlet_volumes")]
        expected = fees_for_month([line.outlet for line in summary.lines], date(2026, 10, 1))
        assert summary.month == date(2026, 10, 1)
        assert {line.outlet.id: (line.parcels, line.rate, line.fee) for line in summary.lines} == expected
        assert any(line.parcels for line in summary.lines)
    assert {line.outlet.id: line.parcels for line in outlet_summary(agent).lines} == {now_.id: 1008, none_.id: 0}
