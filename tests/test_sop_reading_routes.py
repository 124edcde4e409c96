"""Required reading pages: the banner, acknowledging, my reading, the matrix and its export, for every role."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import func, select

from kdcs.extensions import db
from kdcs.models import utcnow
from kdcs.models.sop import SopAcknowledgement
from tests.sop_reading_data import make_reading_world, make_scenario, publish


@pytest.fixture
def w():
    world = make_reading_world()
    now = utcnow()
    world["scenario"] = make_scenario("破损理赔")
    world["version"] = publish(world.scenario, published_at=now - timedelta(hours=2))
    world["old_scenario"] = make_scenario("遗失理赔")
    world["old"] = publish(world.old_scenario, teams=[world.one], published_at=now - timedelta(hours=80))
    return world


def ack_url(version):
    return f"/sop/{version.scenario_id}/versions/{version.number}/acknowledge"


def acks():
    return db.session.scalar(select(func.count(SopAcknowledgement.id)))


# --------------------------------------------------------------------------- the banner


def test_agent_sees_the_banner_on_every_page_with_links_deadline_and_overdue(client, auth, w):
    auth.login(w.agent_a)
    html = client.get("/").get_data(as_text=True)
    assert 'data-testid="sop-reading-banner"' in html
    assert "2 份必读 SOP 待阅读确认" in html and "其中 1 份已逾期" in html
    assert f'href="/sop/{w.scenario.id}"' in html and f'href="/sop/{w.old_scenario.id}"' in html
    assert "（北京时间）" in html and "alert-danger" in html
    assert 'data-testid="sop-reading-banner"' in client.get("/notifications/").get_data(as_text=True)


def test_agent_of_another_team_sees_only_what_asks_them(client, auth, w):
    auth.login(w.agent_c)
    html = client.get("/").get_data(as_text=True)
    assert "1 份必读 SOP 待阅读确认" in html and "已逾期" not in html and "alert-warning" in html


@pytest.mark.parametrize("role", ["lead_a", "trainer", "admin"])
def test_no_banner_for_other_roles(client, auth, w, role):
    auth.login(w[role])
    html = client.get("/").get_data(as_text=True)
    assert 'data-testid="sop-reading-banner"' not in html
    assert 'id="sop-reading-banner"' in html  # the empty slot stays (refreshed after an acknowledgement)


def test_banner_fragment_for_htmx_and_303_for_a_browser(client, auth, w):
    auth.login(w.agent_a)
    fragment = client.htmx("get", "/sop/reading/banner")
    assert fragment.status_code == 200
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="sop-reading-banner"') and "<html" not in body
    plain = client.get("/sop/reading/banner")
    assert plain.status_code == 303 and plain.headers["Location"].endswith("/sop/reading/mine")


# --------------------------------------------------------------------------- acknowledging


def test_acknowledge_with_htmx_answers_the_box_and_refreshes_the_banner(client, auth, w):
    auth.login(w.agent_a)
    response = client.htmx("post", ack_url(w.version))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'id="sop-acknowledge"' in body and "你已于" in body and "<html" not in body
    trigger = response.headers["HX-Trigger"]
    assert "sop-reading-changed" in trigger and "toast" in trigger
    assert acks() == 1
    again = client.htmx("post", ack_url(w.version))
    assert again.status_code == 200 and acks() == 1  # idempotent
    html = client.get("/").get_data(as_text=True)
    assert "1 份必读 SOP 待阅读确认" in html  # the overdue one remains


def test_acknowledge_without_javascript_redirects_to_the_scenario(client, auth, w):
    auth.login(w.agent_a)
    response = client.post(ack_url(w.version))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/sop/{w.scenario.id}")
    assert acks() == 1
    nxt = client.post(ack_url(w.old), data={"next": "/sop/reading/mine"})
    assert nxt.headers["Location"].endswith("/sop/reading/mine")
    evil = client.post(ack_url(w.old), data={"next": "//evil.example/"})
    assert "evil" not in evil.headers["Location"]


def test_acknowledge_refused_for_who_is_not_asked(client, auth, w):
    auth.login(w.agent_c)  # 二组: the old version asks 一组 only
    response = client.htmx("post", ack_url(w.old))
    assert response.status_code == 422
    assert "此版本不是你的必读内容" in response.get_data(as_text=True)
    refused = client.post(ack_url(w.old))  # without JavaScript: back to the scenario with the reason
    assert refused.status_code == 303 and refused.headers["Location"].endswith(f"/sop/{w.old_scenario.id}")
    assert "此版本不是你的必读内容" in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(w.trainer)
    assert client.htmx("post", ack_url(w.version)).status_code == 422
    assert acks() == 0


def test_acknowledge_unknown_or_unpublished_version_is_404(client, auth, w):
    auth.login(w.agent_a)
    assert client.post(f"/sop/{w.scenario.id}/versions/9/acknowledge").status_code == 404
    w.scenario.is_archived = True
    db.session.commit()
    assert client.post(ack_url(w.version)).status_code == 404
    assert acks() == 0


def test_acknowledge_needs_the_csrf_token(client, auth, w, csrf_on):
    from tests.html import csrf_token

    auth.login(w.agent_a)
    assert client.post(ack_url(w.version)).status_code == 400
    assert acks() == 0
    token = csrf_token(client.get("/"))
    assert client.post(ack_url(w.version), data={"csrf_token": token}).status_code == 303
    assert acks() == 1


def test_anonymous_cannot_acknowledge(client, w):
    response = client.post(ack_url(w.version))
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
    assert acks() == 0


def test_acknowledge_box_renders_for_a_target(app, w):
    from flask import render_template
    from flask_login import login_user

    with app.test_request_context("/"):
        login_user(w.agent_a)
        html = render_template("sop/_acknowledge.html", version=w.version)
        assert "我已阅读并理解" in html and ack_url(w.version) in html
        login_user(w.trainer)
        assert "sop-acknowledge" not in render_template("sop/_acknowledge.html", version=w.version)


# --------------------------------------------------------------------------- my reading


def test_my_reading_lists_what_to_read_and_what_was_read(client, auth, w):
    auth.login(w.agent_a)
    client.post(ack_url(w.version))
    html = client.get("/sop/reading/mine").get_data(as_text=True)
    to_read = html.split('data-testid="reading-to-read"')[1].split("</table>")[0]
    history = html.split('data-testid="reading-history"')[1].split("</table>")[0]
    assert "遗失理赔" in to_read and "已逾期" in to_read and "破损理赔" not in to_read
    assert "破损理赔" in history and "第 1 版" in history


@pytest.mark.parametrize("role", ["trainer", "lead_a", "admin"])
def test_my_reading_is_empty_for_other_roles(client, auth, w, role):
    auth.login(w[role])
    response = client.get("/sop/reading/mine")
    assert response.status_code == 200 and "没有待阅读的必读内容" in response.get_data(as_text=True)


# --------------------------------------------------------------------------- the matrix


def test_matrix_page_for_trainer_shows_every_team(client, auth, w):
    auth.login(w.agent_a)
    client.post(ack_url(w.version))
    auth.logout()
    auth.login(w.trainer)
    html = client.get("/sop/reading").get_data(as_text=True)
    assert 'data-testid="reading-matrix"' in html and "<html" in html
    for name in ("张伟", "李娜", "郑洋"):
        assert name in html
    assert "✓" in html and "已逾期" in html and "待阅读" in html
    assert "1/3" in html  # counts per version


def test_matrix_team_filter_as_fragment(client, auth, w):
    auth.login(w.admin)
    response = client.htmx("get", f"/sop/reading?team={w.two.id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert "郑洋" in body and "张伟" not in body
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]


def test_lead_sees_own_team_only(client, auth, w):
    auth.login(w.lead_a)
    html = client.get("/sop/reading").get_data(as_text=True)
    assert "张伟" in html and "郑洋" not in html
    assert ">二组<" not in html
    assert client.get(f"/sop/reading?team={w.two.id}").status_code == 403
    assert client.get(f"/sop/reading/export.xlsx?team={w.two.id}").status_code == 403


@pytest.mark.parametrize("role,status", [("agent_a", 403), ("trainer", 200), ("lead_a", 200), ("admin", 200)])
def test_matrix_and_export_by_role(client, auth, w, role, status):
    auth.login(w[role])
    assert client.get("/sop/reading").status_code == status
    assert client.htmx("get", "/sop/reading").status_code == status
    assert client.get("/sop/reading/export.xlsx").status_code == status


def test_bad_team_filter(client, auth, w):
    auth.login(w.trainer)
    assert client.get("/sop/reading?team=abc").status_code == 400
    assert client.get("/sop/reading?team=9999").status_code == 404
    assert client.get(f"/sop/reading?team={10**30}").status_code == 404


def test_export_is_an_xlsx_of_the_scope(client, auth, w):
    from openpyxl import load_workbook

    auth.login(w.lead_a)
    response = client.get("/sop/reading/export.xlsx?all=1")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(BytesIO(response.data))
    assert book.sheetnames == ["汇总", "明细"]
    people = {row[2].value for row in book["明细"].iter_rows(min_row=2)}
    assert people == {"agent_a", "agent_b"}


def test_anonymous_is_sent_to_login(client, w):
    for url in ("/sop/reading", "/sop/reading/mine", "/sop/reading/export.xlsx"):
        response = client.get(url)
        assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
