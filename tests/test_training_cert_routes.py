"""Certification pages: the matrix (scope, filters, export), a person's record, sign-off through
the form (checklist per line), reset, the course and 我的培训 boxes, the team view's list to act on
and the certified date on the user pages."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from kdcs.extensions import db
from kdcs.models.training import (
    AgentCertification,
    CertificationState,
    PracticalSignoff,
    QuizAttempt,
)
from tests import factories
from tests.training_cert_data import certify, make_course, take_quiz


@pytest.fixture
def world(users):
    other = factories.make_team("二组")
    far = factories.make_user("agent", username="agent_far", team=other, display_name="郑洋")
    course = make_course("品牌规则与条款")
    return {"course": course, "far": far, "other": other}


def test_matrix_for_trainer_shows_every_team_and_statuses(client, auth, users, world):
    take_quiz(users.agent, world["course"], False)
    auth.login(users.trainer)
    page = client.get("/training/matrix").get_data(as_text=True)
    assert "品牌规则与条款" in page and "郑洋" in page and "未通过" in page and "未开始" in page
    assert "未上岗" in page and "测验" in page  # who is not live and why


def test_matrix_lead_sees_own_team_only(client, auth, users, world):
    auth.login(users.lead)
    page = client.get("/training/matrix").get_data(as_text=True)
    assert "郑洋" not in page and users.agent.display_name in page
    assert client.get(f"/training/matrix?team={world['other'].id}").status_code == 403
    assert client.get(f"/training/people/{world['far'].id}").status_code == 404
    assert client.get(f"/training/people/{users.agent.id}").status_code == 200


def test_matrix_filters_and_export(client, auth, users, world):
    certify(users.agent, world["course"], users.trainer)
    auth.login(users.admin)
    page = client.get("/training/matrix?status=passed").get_data(as_text=True)
    assert users.agent.display_name in page and "郑洋" not in page
    page = client.get(f"/training/matrix?team={users.team.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in page and "郑洋" not in page
    response = client.get("/training/matrix/export.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.values)
    assert rows[0][-1] == "品牌规则与条款"
    mine = next(r for r in rows if r[0] == users.agent.username)
    assert mine[3] == "已上岗" and mine[4] is not None and mine[-1] == "已通过"


def test_signoff_form_records_checklist_and_certifies(client, auth, users, world):
    course = world["course"]
    take_quiz(users.agent, course, True)
    item = course.practical_items[0]
    auth.login(users.lead)
    page = client.get(f"/training/people/{users.agent.id}/items/{item.id}/signoff").get_data(as_text=True)
    assert "开场白规范" in page and 'name="ticked"' in page
    response = client.post(f"/training/people/{users.agent.id}/items/{item.id}/signoff",
                           data={"passed": "1", "score": "abc", "ticked": ["0"], "comment": "很好"})
    assert response.status_code == 422 and "0 到 100" in response.get_data(as_text=True)
    response = client.post(f"/training/people/{users.agent.id}/items/{item.id}/signoff",
                           data={"passed": "1", "score": "92", "ticked": ["0"], "comment": "很好"})
    assert response.status_code == 303
    signoff = db.session.query(PracticalSignoff).one()
    assert signoff.checklist == [{"text": "开场白规范", "ok": True}, {"text": "核实运单号", "ok": False}]
    assert signoff.score == 92 and signoff.signed_by_id == users.lead.id
    assert db.session.get(AgentCertification, users.agent.id).state == CertificationState.CERTIFIED
    # the agent sees it on the course page box and on 我的培训
    from flask import render_template_string
    from flask_login import login_user
    with client.application.test_request_context():
        login_user(users.agent)
        html = render_template_string('{% include "training/certification/_course_box.html" %}', course=course)
        assert "很好" in html and "92" in html and "✗ 核实运单号" in html and "已通过" in html
        mine = render_template_string('{% include "training/certification/_my_box.html" %}')
        assert "已上岗" in mine


def test_lead_cannot_sign_off_another_team(client, auth, users, world):
    item = world["course"].practical_items[0]
    auth.login(users.lead)
    assert client.get(f"/training/people/{world['far'].id}/items/{item.id}/signoff").status_code == 404
    assert client.post(f"/training/people/{world['far'].id}/items/{item.id}/signoff",
                       data={"passed": "1", "score": "92", "comment": "x"}).status_code == 404
    auth.logout()
    auth.login(users.agent)
    assert client.post(f"/training/people/{users.agent.id}/items/{item.id}/signoff",
                       data={"passed": "1", "score": "92", "comment": "x"}).status_code == 403


def test_reset_needs_a_note_and_archives(client, auth, users, world):
    certify(users.agent, world["course"], users.trainer)
    auth.login(users.trainer)
    url = f"/training/people/{users.agent.id}/courses/{world['course'].id}/reset"
    assert client.post(url, data={"note": ""}).status_code == 422
    assert client.post(url, data={"note": "考试作弊，重考"}).status_code == 303
    assert db.session.query(QuizAttempt).filter_by(is_archived=True).count() == 1
    page = client.get(f"/training/people/{users.agent.id}").get_data(as_text=True)
    assert "考试作弊，重考" in page and "已归档" in page
    auth.logout()
    auth.login(users.lead)
    assert client.post(url, data={"note": "x"}).status_code == 403


def test_team_view_lists_what_uncertified_agents_hold(client, auth, users, world):
    outlet = factories.make_outlet(agent=users.agent, code="ZTO1", name="中通测试网点")
    auth.login(users.lead)
    page = client.get("/team").get_data(as_text=True)
    assert "中通测试网点" in page and "未上岗" in page
    certify(users.agent, world["course"], users.trainer)
    page = client.get("/team").get_data(as_text=True)
    assert "中通测试网点" not in page and "已上岗" in page
    assert outlet.primary_agent_id == users.agent.id  # never moved by the gate


def test_admin_user_page_shows_certified_date(client, auth, users, world):
    certify(users.agent, world["course"], users.trainer)
    auth.login(users.admin)
    page = client.get(f"/admin/users/{users.agent.id}").get_data(as_text=True)
    assert "已上岗" in page
