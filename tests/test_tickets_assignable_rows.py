"""The reassign menu's rows (kdcs/tickets/service.py assignable_rows): a statement prebuilt once per
kind of actor, run on every call. Always the same people as ``assignable_users``, whatever changed
since the statement was built: a new or deactivated user, a team move, the going-live gate."""

from __future__ import annotations

from datetime import timedelta

from kdcs.extensions import db
from kdcs.leave.rules import beijing_today
from kdcs.models import AgentCertification, CertificationState, Role
from kdcs.tickets import service
from tests import factories
from tests.training_cert_data import certify, make_course


def _rows(actor):
    return [(row.id, row.display_name, row.username) for row in service.assignable_rows(actor)]


def _expected(actor):
    return [(u.id, u.display_name, u.username) for u in service.assignable_users(actor)]


def test_rows_follow_users_teams_and_the_gate(users):
    lead, admin, agent = users.lead, users.admin, users.agent
    team = users.team
    for actor in (lead, admin, agent, users.trainer):  # built (and kept) before anything changes
        assert _rows(actor) == _expected(actor)
    assert agent.id in [row[0] for row in _rows(lead)]

    newcomer = factories.make_user(Role.AGENT, team=team, display_name="新同事")
    db.session.commit()
    assert newcomer.id in [row[0] for row in _rows(lead)] and newcomer.id in [row[0] for row in _rows(admin)]
    assert _rows(newcomer) == [(newcomer.id, "新同事", newcomer.username)]

    newcomer.display_name = "新同事（改名）"
    db.session.commit()
    assert (newcomer.id, "新同事（改名）", newcomer.username) in _rows(lead)

    newcomer.team_id = None  # moved out of the lead's team
    db.session.commit()
    assert newcomer.id not in [row[0] for row in _rows(lead)] and newcomer.id in [row[0] for row in _rows(admin)]

    newcomer.is_active_account = False
    db.session.commit()
    assert newcomer.id not in [row[0] for row in _rows(admin)]

    course = make_course("品牌规则与条款")  # now going live requires a course: the agent is not live
    db.session.commit()
    assert agent.id not in [row[0] for row in _rows(lead)] and lead.id in [row[0] for row in _rows(lead)]
    for actor in (lead, admin, agent):
        assert _rows(actor) == _expected(actor)
    certify(agent, course, users.trainer)
    db.session.commit()
    assert agent.id in [row[0] for row in _rows(lead)]

    # flagged (待复训): live through the re-pass due date, not after it
    row = db.session.get(AgentCertification, agent.id)
    row.state, row.flagged_until = CertificationState.FLAGGED.value, beijing_today()
    db.session.commit()
    assert agent.id in [r[0] for r in _rows(lead)]
    row.flagged_until = beijing_today() - timedelta(days=1)
    db.session.commit()
    assert agent.id not in [r[0] for r in _rows(lead)]
    for actor in (lead, admin, agent):
        assert _rows(actor) == _expected(actor)


def test_a_lead_without_a_team_assigns_nobody(users):
    users.lead.team_id = None
    db.session.commit()
    assert _rows(users.lead) == [] == _expected(users.lead)
