"""Home pages by role and the navigation each role sees."""

from datetime import date
from decimal import Decimal

from kdcs.dashboard.service import outlet_summary
from kdcs.models.user import username_sort_key
from kdcs.outlets.service import monthly_fee
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


def test_agent_home_shows_outlets_and_fee(client, auth, users):
    outlet = factories.make_outlet(agent=users["agent"], name="中通杭州良渚网点")
    factories.make_volume(outlet, date(2026, 10, 1), 200_000, 100_000)
    auth.login(users["agent"])
    html = client.get("/").get_data(as_text=True)
    assert "中通杭州良渚网点" in html and "¥7,500.00" in html and "300,000" in html


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


def test_admin_home_counts(client, auth, users):
    factories.make_outlet(agent=None)
    auth.login(users["admin"])
    html = client.get("/").get_data(as_text=True)
    assert "管理概览" in html and "1 个未分配主责客服" in html


def test_trainer_home_lists_agents_by_team(client, auth, users):
    auth.login(users["trainer"])
    html = client.get("/").get_data(as_text=True)
    assert "各组客服" in html and "agent_a" in html and "一组" in html


NAV = {"首页", "工单队列", "我的网点", "我的团队", "常用回复", "用户", "团队", "网点", "品牌", "工单设置", "审计日志"}


def _nav_labels(html: str) -> set[str]:
    import re

    nav = html.split('<nav>', 1)[1].split("</nav>", 1)[0]
    return set(re.findall(r'<a href="[^"]+"[^>]*>([^<]+)</a>', nav)) & NAV


def test_navigation_by_role(app, client, auth, users):
    expected = {
        "agent": {"首页", "工单队列", "我的网点"},
        "trainer": {"首页"},
        "lead": {"首页", "工单队列", "我的网点", "我的团队"},
        "admin": {"首页", "工单队列", "用户", "团队", "网点", "品牌", "审计日志"},
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
