"""Which team someone was in when (kdcs/org/memberships.py): every creation and team change is written by
the session hook, whatever path made it; the team figures of a past period (团队表现, 罚款 by team, 人均毛利's
team filter) count people in the team they were in then; migration 0027 starts every account with its team."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from kdcs import create_app
from kdcs.admin import service as admin_service
from kdcs.dashboard import performance
from kdcs.extensions import db
from kdcs.margin import service as margin
from kdcs.models import TeamMembership
from kdcs.org.memberships import members_at, membership_history, team_at, team_history
from kdcs.tickets import service as tickets
from kdcs.tickets.fines import service as fines
from tests import factories
from tests.html import parse
from tests.test_migration_0013_rates import _database_url
from tests.test_team_performance import _ticket

LAST_MONDAY = date(2026, 11, 16)
THIS_MONDAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)  # Friday noon in Shanghai
TUESDAY = datetime(2026, 11, 17, 2, 0, tzinfo=UTC)  # last week, 10:00 in Shanghai
MOVED = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # this Wednesday agent_a went to 二组


def _teams(user):
    return [row.team_id for row in db.session.scalars(
        sa.select(TeamMembership).where(TeamMembership.user_id == user.id).order_by(TeamMembership.id))]


def _move(w, user, team, at: datetime) -> None:
    """``user``'s history starts at the year's beginning; then the admin moves them to ``team`` at ``at``."""
    rows = db.session.scalars(sa.select(TeamMembership).where(TeamMembership.user_id == user.id)).all()
    for row in rows:
        row.since = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.commit()
    admin_service.update_user(w.admin, user, version=user.version, display_name=user.display_name, role=user.role,
                              team_id=team.id if team else None, phone=user.phone)
    newest = db.session.scalars(sa.select(TeamMembership).where(TeamMembership.user_id == user.id)
                                .order_by(TeamMembership.id.desc())).first()
    newest.since = at
    db.session.commit()


@pytest.fixture
def moved(ticket_world):
    """agent_a answered a ticket on time last Tuesday and was fined for it, then moved to 二组 this Wednesday."""
    w = ticket_world
    _ticket(w, w.own, due=TUESDAY, first=TUESDAY - timedelta(minutes=30))
    tickets.record_fine(w.lead, w.mine.id, version=w.mine.version, amount="50", bearer="company", agent_share="10")
    w.mine.fined_at = TUESDAY
    db.session.commit()
    _move(w, w.agent, w.other_team, MOVED)
    return w


def test_every_path_that_changes_the_team_is_written_once(outlet_world):
    w = outlet_world
    assert _teams(w.agent) == [w.team.id] and _teams(w.admin) == [None]  # created (factories write directly)
    admin_service.update_user(w.admin, w.agent, version=w.agent.version, display_name="张敏", role="agent",
                              team_id=w.other_team.id, phone=None)
    admin_service.update_user(w.admin, w.agent, version=w.agent.version, display_name="张敏", role="agent",
                              team_id=w.other_team.id, phone="13800000000")  # same team: nothing written
    w.agent.team_id = None  # a direct write
    db.session.commit()
    w.agent.team = w.team  # through the relationship
    db.session.commit()
    w.agent.last_login_at = datetime.now(UTC)  # login bookkeeping: nothing written
    db.session.commit()
    assert _teams(w.agent) == [w.team.id, w.other_team.id, None, w.team.id]
    created = admin_service.create_user(w.admin, username="agent_new", display_name="新人", role="agent",
                                        password="Kdcs-demo-2026", team_id=w.other_team.id)
    assert _teams(created) == [w.other_team.id]


def test_the_team_at_a_moment(moved):
    w = moved
    history = membership_history([w.agent.id, w.teammate.id])
    assert team_at(history, w.agent, MOVED - timedelta(seconds=1)) == w.team.id
    assert team_at(history, w.agent, MOVED) == w.other_team.id
    assert team_at(history, w.agent, datetime(2025, 6, 1, tzinfo=UTC)) == w.other_team.id  # before it: now's
    assert {u.username for u in members_at(w.team, MOVED - timedelta(days=1))} == {"lead_a", "agent_a", "agent_mate"}
    assert {u.username for u in members_at(w.team, MOVED)} == {"lead_a", "agent_mate"}
    assert {u.username for u in members_at(w.other_team, MOVED)} == {"agent_a", "agent_far"}
    assert [team.id if team else None for _since, team in team_history(w.agent)] == [w.other_team.id, w.team.id]


def _people(report):
    return {line.user.username: line for line in report.lines}


def test_a_past_week_counts_who_was_in_the_team_then(moved):
    w = moved
    last_week = performance.team_period(w.lead, w.team, "week", LAST_MONDAY, NOW)
    assert set(_people(last_week)) == {"agent_a", "agent_mate", "lead_a"}
    assert _people(last_week)["agent_a"].on_time == 1 and last_week.total.on_time == 1
    assert _people(last_week)["agent_a"].fines == 1
    this_week = performance.team_period(w.lead, w.team, "week", THIS_MONDAY, NOW)
    assert "agent_a" not in _people(this_week)
    other_last = performance.team_period(w.admin, w.other_team, "week", LAST_MONDAY, NOW)
    assert "agent_a" not in _people(other_last)
    other_now = performance.team_period(w.admin, w.other_team, "week", THIS_MONDAY, NOW)
    assert "agent_a" in _people(other_now)


def test_the_page_marks_who_moved_out(client, auth, moved):
    w = moved
    auth.login(w.lead)
    page = parse(client.get(f"/team/performance?period=week&start={LAST_MONDAY.isoformat()}").text)
    row = page.one("tr", data_agent="agent_a")
    assert row.find(data_testid="moved-out") is not None and "已调出" in row.text
    assert row.find("a") is None  # no longer the lead's to open
    mate = page.one("tr", data_agent="agent_mate")
    assert mate.find(data_testid="moved-out") is None and mate.find("a") is not None
    auth.logout()
    auth.login(w.admin)
    page = parse(client.get(f"/team/performance?team={w.team.id}&period=week&start={LAST_MONDAY.isoformat()}").text)
    assert page.one("tr", data_agent="agent_a").find("a") is not None  # an admin may open anyone's


def test_a_deactivated_member_stays_while_the_period_has_figures(ticket_world):
    w = ticket_world
    _ticket(w, w.team_outlet, due=TUESDAY, first=TUESDAY - timedelta(minutes=5))
    admin_service.set_user_active(w.admin, w.teammate, False)
    assert "agent_mate" in _people(performance.team_period(w.lead, w.team, "week", LAST_MONDAY, NOW))
    assert "agent_mate" not in _people(performance.team_period(w.lead, w.team, "week", THIS_MONDAY, NOW))


def test_fines_are_summed_under_the_team_of_when_they_were_recorded(moved):
    w = moved
    report = fines.month_report(w.admin, date(2026, 11, 1), NOW)
    assert [(group.label, group.count) for group in report.by_team] == [("一组", 1)]
    w.mine.fined_at = MOVED + timedelta(hours=1)  # recorded after the move: 二组's
    db.session.commit()
    report = fines.month_report(w.admin, date(2026, 11, 1), NOW)
    assert [(group.label, group.count) for group in report.by_team] == [("二组", 1)]


def test_margin_by_team_takes_the_team_at_the_months_end(moved):
    w = moved
    november, october = date(2026, 11, 1), date(2026, 10, 1)

    def names(month, team):
        return {line.person.username for line in margin.month_report(w.admin, month, team_id=team.id).lines}

    assert "agent_a" in names(november, w.other_team) and "agent_a" not in names(november, w.team)
    assert "agent_a" in names(october, w.team) and "agent_a" not in names(october, w.other_team)


def test_the_admin_sees_the_team_changes(client, auth, moved):
    w = moved
    auth.login(w.admin)
    page = parse(client.get(f"/admin/users/{w.agent.id}").text)
    history = page.one("details", data_testid="team-history")
    assert "团队变动 (1)" in history.text and "一组" in history.text and "二组" in history.text
    page = parse(client.get(f"/admin/users/{w.teammate.id}").text)
    assert page.find("details", data_testid="team-history") is None  # one team all along: nothing to show


def test_migration_0027_starts_each_account_with_its_team(tmp_path):
    from flask_migrate import downgrade, upgrade

    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True, "SECRET_KEY": "m27",
                      "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path)})
    created = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
    with app.app_context():
        upgrade()
        team = factories.make_team("一组")
        agent, loner = factories.make_user("agent", team=team), factories.make_user("trainer")
        for user in (agent, loner):
            user.created_at = created
        db.session.commit()
        ids, team_id = (agent.id, loner.id), team.id
        db.session.remove()
        downgrade(revision="0026_outlet_assignments")
        upgrade()
        rows = db.session.execute(sa.select(TeamMembership.user_id, TeamMembership.team_id, TeamMembership.since)
                                  .where(TeamMembership.user_id.in_(ids))).all()
        assert sorted(rows) == sorted([(ids[0], team_id, created), (ids[1], None, created)])
        db.session.remove()
        db.engine.dispose()
