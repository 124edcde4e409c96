"""The team calendar (/leave/calendar) and the return digest page (/leave/<id>/digest)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from kdcs.extensions import db
from kdcs.leave import calendar as team_calendars
from kdcs.models import LeaveStatus, TeamStaffing
from tests import factories
from tests.leave_data import make_leave

DAY = date(2026, 10, 12)  # Monday


@pytest.fixture
def team(users):
    """一组: agent_a (2 outlets) and 李娜, 王强 (1 outlet each); minimum 3 agents at work."""
    brand = factories.make_brand("ZTO", "中通")
    sub = factories.make_user("agent", username="agent_sub", team=users["team"], display_name="李娜")
    third = factories.make_user("agent", username="agent_third", team=users["team"], display_name="王强")
    outlets = [factories.make_outlet(brand, users["agent"], code=f"ZTO57110{i}", name=f"网点{i}") for i in (1, 2)]
    third_outlet = factories.make_outlet(brand, third, code="ZTO571109", name="网点9")
    db.session.add(TeamStaffing(team_id=users["team"].id, min_agents=3))
    db.session.commit()
    return {**users, "sub": sub, "third": third, "outlets": outlets, "third_outlet": third_outlet}


def _day(cal, day):
    return next(d for d in cal.days if d.day == day)


def test_who_is_away_who_covers_short_days_and_uncovered_outlets(team):
    from kdcs.models import WorkCalendarDay

    db.session.add(WorkCalendarDay(day=date(2026, 10, 1), is_workday=False, name="国庆节"))
    db.session.commit()
    make_leave(team["agent"], team["outlets"], team["sub"], DAY, DAY + timedelta(days=1), end_part="am")
    make_leave(team["third"], [team["third_outlet"]], None, DAY + timedelta(days=1), DAY + timedelta(days=1))
    pending = make_leave(team["sub"], [], None, DAY + timedelta(days=3), DAY + timedelta(days=3),
                         status=LeaveStatus.SUBMITTED)
    cal = team_calendars.team_calendar(team["lead"], team["team"], "month", DAY, today=DAY)
    assert (cal.first, cal.last) == (date(2026, 10, 1), date(2026, 10, 31)) and len(cal.days) == 31
    monday, tuesday, thursday = _day(cal, DAY), _day(cal, DAY + timedelta(days=1)), _day(cal, DAY + timedelta(days=3))
    assert monday.is_today and not tuesday.is_today
    assert monday.away[team["agent"].id].part == "full" and monday.present == 2 and monday.short
    assert tuesday.away[team["agent"].id].part == "am" and tuesday.away[team["third"].id].part == "full"
    assert tuesday.present == 1.5 and tuesday.short
    assert [u.outlet.id for u in tuesday.uncovered] == [team["third_outlet"].id]  # agent_a's are covered
    assert monday.uncovered == []
    assert thursday.away[team["sub"].id].pending and thursday.present == 3 and not thursday.short
    assert thursday.away[team["sub"].id].leave.id == pending.id
    assert _day(cal, date(2026, 10, 1)).is_workday is False and not _day(cal, date(2026, 10, 1)).short  # 国庆
    assert _day(cal, date(2026, 10, 3)).is_workday is False  # Saturday
    [line] = cal.covers
    assert line.substitute.id == team["sub"].id and {o.id for o in line.outlets} == {o.id for o in team["outlets"]}


def test_week_view_and_scope(team):
    cal = team_calendars.team_calendar(team["agent"], team["team"], "week", DAY + timedelta(days=2), today=DAY)
    assert (cal.first, cal.last, cal.previous, cal.next) == (DAY, DAY + timedelta(days=6), DAY - timedelta(days=7),
                                                             DAY + timedelta(days=7))
    other = factories.make_team("二组")
    assert [t.id for t in team_calendars.teams_for(team["agent"])] == [team["team"].id]
    assert {t.id for t in team_calendars.teams_for(team["admin"])} == {team["team"].id, other.id}
    from kdcs.service_errors import NotFound

    with pytest.raises(NotFound):
        team_calendars.team_calendar(team["agent"], other, "month", DAY)


def test_calendar_page(client, auth, team):
    make_leave(team["agent"], team["outlets"], team["sub"], DAY, DAY)
    auth.login(team["lead"])
    html = client.get(f"/leave/calendar?start={DAY.isoformat()}").get_data(as_text=True)
    assert "一组" in html and "李娜" in html and "网点1" in html
    assert 'class="data lv-grid lv-month"' in html
    assert html.count("lv-away part-full") == 1
    week = client.get(f"/leave/calendar?view=week&start={DAY.isoformat()}")
    assert week.status_code == 200 and "lv-week" in week.get_data(as_text=True)
    assert re.search(r'class="lv-subs">[^<]*李娜', week.get_data(as_text=True))  # who covers, in the week view
    today = client.get("/leave/calendar").get_data(as_text=True)
    assert len(re.findall(r'aria-current="date"', today)) == 1
    assert client.get("/leave/calendar?team=999999").status_code == 404
    assert client.get("/leave/calendar?start=garbage&view=nope").status_code == 200


@pytest.mark.parametrize("role, status", [("agent", 200), ("lead", 200), ("admin", 200), ("trainer", 403)])
def test_calendar_by_role(client, auth, team, role, status):
    auth.login(team[role])
    assert client.get("/leave/calendar").status_code == status


def test_digest_page_for_the_agent_only_after_the_start(client, auth, team):
    leave = make_leave(team["agent"], team["outlets"], team["sub"], DAY, DAY, status=LeaveStatus.RETURNED,
                       returned_at=None)
    leave.returned_at = leave.end_at
    db.session.commit()
    auth.login(team["agent"])
    html = client.get(f"/leave/{leave.id}/digest").get_data(as_text=True)
    assert "网点1" in html and "李娜" in html
    detail = client.get(f"/leave/{leave.id}").get_data(as_text=True)
    assert f'href="/leave/{leave.id}/digest"' in detail  # the handover page links its digest
    waiting = make_leave(team["agent"], team["outlets"], team["sub"], DAY + timedelta(days=30),
                         DAY + timedelta(days=30), status=LeaveStatus.SUBMITTED)
    assert client.get(f"/leave/{waiting.id}/digest").status_code == 404
    assert f"/leave/{waiting.id}/digest" not in client.get(f"/leave/{waiting.id}").get_data(as_text=True)
    auth.logout()
    auth.login(team["third"])  # not the requester, the substitute, the approver or the lead
    assert client.get(f"/leave/{leave.id}/digest").status_code == 404
