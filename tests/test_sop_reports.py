"""Reports ("this SOP is wrong or misses a case"): sending, the trainers' inbox, resolving, notifying."""

from __future__ import annotations

import pytest

from kdcs.extensions import db
from kdcs.models import AuditLog, Notification
from kdcs.models.sop import ReportStatus, SopReport, SopVersion, VersionStatus
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import NotFound, StaleEdit, ValidationError
from kdcs.sop.reports import service
from tests import factories
from tests.html import parse
from tests.sop_tickets_data import make_scenario
from tests.worlds import World


@pytest.fixture
def world(ticket_world):
    """ticket_world plus a 破损 scenario with two published versions and a draft, and a 破损 ticket."""
    reason = factories.make_reason("problem", "破损")
    ticket = factories.make_ticket(ticket_world.own, reason=reason, waybill_no="75129999000009")
    scenario = make_scenario("破损理赔", reasons=[reason], scripts=["第一版", "第二版"], draft="草稿")
    return World(ticket_world, reason=reason, ticket=ticket, scenario=scenario,
                 v1=next(v for v in scenario.versions if v.number == 1), v2=scenario.current_version,
                 draft=next(v for v in scenario.versions if v.status == VersionStatus.DRAFT))


# --------------------------------------------------------------------------- service

def test_create_from_a_ticket_names_scenario_version_ticket_and_is_audited(world):
    report = service.create_report(world.agent, note="  客户已保价，话术只写了三倍运费  ", version=world.v2,
                                   ticket=world.ticket)
    assert (report.scenario_id, report.version_id, report.ticket_id) == (world.scenario.id, world.v2.id, world.ticket.id)
    assert report.note == "客户已保价，话术只写了三倍运费" and report.status == ReportStatus.OPEN
    assert service.open_count() == 1
    entry = db.session.query(AuditLog).filter_by(action="sop_report.create").one()
    assert entry.actor_id == world.agent.id and entry.entity_id == report.id


def test_create_from_a_scenario_takes_its_current_version(world):
    report = service.create_report(world.lead, note="缺少拒赔情形", scenario=world.scenario)
    assert report.version_id == world.v2.id and report.ticket_id is None


def test_missing_case_report_without_scenario(world):
    report = service.create_report(world.agent, note="地址不详没有话术", ticket=world.mine)
    assert report.scenario_id is None and report.version_id is None


def test_create_refuses_bad_input(world):
    with pytest.raises(ValidationError) as exc:
        service.create_report(world.agent, note="   ", scenario=world.scenario)
    assert "note" in exc.value.errors
    with pytest.raises(ValidationError):
        service.create_report(world.agent, note="x" * 2001, scenario=world.scenario)
    with pytest.raises(NotFound):  # drafts are never reported on by agents (they never see them)
        service.create_report(world.agent, note="x", version=world.draft)
    with pytest.raises(NotFound):  # a ticket outside the agent's scope
        service.create_report(world.agent, note="x", ticket=world.far)
    other = make_scenario("拒收", scripts=["拒收"])
    with pytest.raises(ValidationError):
        service.create_report(world.agent, note="x", scenario=other, version=world.v2)
    assert db.session.query(SopReport).count() == 0


def test_resolve_with_a_version_notifies_the_reporter_and_is_audited(world):
    report = service.create_report(world.agent, note="缺少保价情形", version=world.v1, ticket=world.ticket)
    service.resolve_report(world.trainer, report, version_no=report.version, answer="第 2 版已补充",
                           resolved_version_id=world.v2.id)
    assert report.status == ReportStatus.RESOLVED and report.resolved_by_id == world.trainer.id
    assert report.resolved_version_id == world.v2.id and report.resolved_at is not None
    assert service.open_count() == 0
    note = db.session.query(Notification).filter_by(user_id=world.agent.id, kind="sop_report").one()
    assert note.title == "您的话术反馈已处理：《破损理赔》第 2 版" and note.body == "第 2 版已补充"
    entry = db.session.query(AuditLog).filter_by(action="sop_report.resolve").one()
    assert entry.before == {"status": "open", "answer": "", "resolved_version_id": None, "resolved_by_id": None}
    assert entry.after["resolved_version_id"] == world.v2.id


def test_resolve_with_an_answer_only_links_the_ticket(app, world):
    report = service.create_report(world.agent, note="没有话术", ticket=world.mine)
    with app.test_request_context():
        service.resolve_report(world.admin, report, version_no=report.version, answer="请用通用安抚话术")
    note = db.session.query(Notification).filter_by(user_id=world.agent.id).one()
    assert note.title == "您的话术反馈已有答复" and note.link == f"/tickets/{world.mine.id}"


def test_resolve_rules(world):
    report = service.create_report(world.agent, note="x", scenario=world.scenario)
    for actor in (world.agent, world.lead):
        with pytest.raises(PermissionDenied):
            service.resolve_report(actor, report, version_no=report.version, answer="好")
    with pytest.raises(ValidationError) as exc:
        service.resolve_report(world.trainer, report, version_no=report.version)
    assert "answer" in exc.value.errors
    with pytest.raises(ValidationError) as exc:
        service.resolve_report(world.trainer, report, version_no=report.version, resolved_version_id=world.draft.id)
    assert "resolved_version_id" in exc.value.errors
    with pytest.raises(StaleEdit):
        service.resolve_report(world.trainer, report, version_no=report.version + 1, answer="好")
    with pytest.raises(StaleEdit):
        service.resolve_report(world.trainer, report, version_no=None, answer="好")
    service.resolve_report(world.trainer, report, version_no=report.version, answer="好")
    with pytest.raises(StaleEdit):  # resolved already: a second trainer gets a conflict, not a second notice
        service.resolve_report(world.admin, report, version_no=report.version, answer="也好")
    assert db.session.query(Notification).count() == 1


def test_inbox_open_first_and_permission(world):
    first = service.create_report(world.agent, note="一", scenario=world.scenario)
    second = service.create_report(world.agent, note="二", scenario=world.scenario)
    service.resolve_report(world.trainer, first, version_no=first.version, answer="好")
    box = service.inbox(world.trainer)
    assert [r.id for r in box.reports] == [second.id] and box.counts == {"open": 1, "resolved": 1, "all": 2}
    assert [r.id for r in service.inbox(world.trainer, "all").reports] == [second.id, first.id]
    assert [r.id for r in service.inbox(world.trainer, "resolved").reports] == [first.id]
    for actor in (world.agent, world.lead):
        with pytest.raises(PermissionDenied):
            service.inbox(actor)


def test_linkable_versions(world):
    report = service.create_report(world.agent, note="x", scenario=world.scenario)
    assert [v.number for v in service.linkable_versions(report)] == [2, 1]
    loose = service.create_report(world.agent, note="y", ticket=world.ticket)
    assert [v.id for v in service.linkable_versions(loose)] == [world.v2.id]


# --------------------------------------------------------------------------- routes

def test_report_from_the_ticket_panel_with_htmx(client, auth, world):
    auth.login(world.agent)
    response = client.htmx("post", "/sop/reports", data={
        "note": "客户已保价", "scenario_id": world.scenario.id, "version_id": world.v2.id, "ticket_id": world.ticket.id,
        "next": f"/tickets/{world.ticket.id}"})
    assert response.status_code == 200
    assert parse(response).one(cls="sop-report-sent").text == "谢谢反馈，培训师会尽快处理。"
    assert "sop-reports-changed" in response.headers["HX-Trigger"]
    report = db.session.query(SopReport).one()
    assert report.ticket_id == world.ticket.id and report.reporter_id == world.agent.id


def test_report_without_javascript_goes_back(client, auth, world):
    auth.login(world.agent)
    response = client.post("/sop/reports", data={"note": "缺情形", "ticket_id": world.ticket.id,
                                                 "next": f"/tickets/{world.ticket.id}"})
    assert response.status_code == 303 and response.headers["Location"] == f"/tickets/{world.ticket.id}"
    response = client.post("/sop/reports", data={"note": "缺情形", "next": "https://evil.example/"})
    assert response.status_code == 303 and response.headers["Location"] == "/sop/reports/new"


def test_report_errors_keep_the_form(client, auth, world):
    auth.login(world.agent)
    response = client.htmx("post", "/sop/reports", data={"note": " ", "scenario_id": world.scenario.id, "uid": "p7"})
    assert response.status_code == 200
    form = parse(response).one("form", cls="sop-report-form")
    assert form.find(cls="field-error").text == "请写明哪里有误或缺少哪种情形。"
    assert form.find("textarea").get("id") == "sop-report-p7"
    page = client.post("/sop/reports", data={"note": "", "scenario_id": world.scenario.id})
    assert page.status_code == 200 and parse(page).find("form", cls="sop-report-form") is not None
    assert db.session.query(SopReport).count() == 0


@pytest.mark.parametrize("field, value", [("scenario_id", "99999"), ("version_id", "99999"), ("ticket_id", "3")])
def test_report_about_unknown_or_hidden_records_is_404(client, auth, world, field, value):
    auth.login(world.agent)
    data = {"note": "x", field: value if field != "ticket_id" else str(world.far.id)}
    assert client.post("/sop/reports", data=data).status_code == 404


def test_report_about_a_draft_is_404(client, auth, world):
    auth.login(world.agent)
    assert client.post("/sop/reports", data={"note": "x", "version_id": world.draft.id}).status_code == 404
    assert client.get(f"/sop/reports/new?version_id={world.draft.id}").status_code == 404


def test_report_page(client, auth, world):
    auth.login(world.agent)
    page = parse(client.get(f"/sop/reports/new?scenario_id={world.scenario.id}&ticket_id={world.ticket.id}"))
    fields = {el.get("name"): el.get("value") for el in page.one("form", cls="sop-report-form").find_all("input")}
    assert fields["scenario_id"] == str(world.scenario.id) and fields["ticket_id"] == str(world.ticket.id)


@pytest.mark.parametrize("role, status", [("agent", 403), ("lead", 403), ("trainer", 200), ("admin", 200)])
def test_inbox_by_role(client, auth, world, role, status):
    auth.login(world[role])
    assert client.get("/sop/reports").status_code == status


def test_inbox_lists_open_first_with_the_badge(client, auth, world):
    service.create_report(world.agent, note="客户已保价", version=world.v2, ticket=world.ticket)
    auth.login(world.trainer)
    page = parse(client.get("/sop/reports"))
    card = page.one("article", cls="sop-report-card")
    assert "客户已保价" in card.text and "75129999000009" in card.text
    assert page.one(id="sop-reports-badge").text.startswith("1")
    options = [o.text for o in card.find("select").find_all("option")]
    assert options == ["— 不关联版本，仅答复 —", "《破损理赔》第 2 版", "《破损理赔》第 1 版"]
    fragment = client.htmx("get", "/sop/reports?status=resolved")
    assert "<html" not in fragment.get_data(as_text=True)
    assert parse(fragment).one(cls="empty").text == "这里还没有反馈。"


def test_badge_is_fragment_only_and_hidden_at_zero(client, auth, world):
    auth.login(world.trainer)
    assert client.get("/sop/reports/badge").status_code == 303
    badge = parse(client.htmx("get", "/sop/reports/badge")).one(id="sop-reports-badge")
    assert "hidden" in badge.attrs
    auth.logout()
    auth.login(world.agent)
    assert parse(client.get("/tickets/")).find(id="sop-reports-badge") is None


def test_resolve_route(client, auth, world):
    report = service.create_report(world.agent, note="x", version=world.v1)
    auth.login(world.trainer)
    url = f"/sop/reports/{report.id}/resolve"
    prefix = f"r{report.id}-"
    response = client.htmx("post", url, data={prefix + "version": "1", prefix + "answer": ""})
    assert response.status_code == 200 and "请关联修正后的版本" in response.get_data(as_text=True)
    response = client.htmx("post", url, data={prefix + "version": "1", prefix + "resolved_version_id": str(world.v2.id),
                                              prefix + "answer": "已更新"})
    assert response.status_code == 200
    assert "sop-reports-changed" in response.headers["HX-Trigger"]
    card = parse(response).one("article", cls="sop-report-card")
    assert "已处理" in card.text and "《破损理赔》第 2 版" in card.text and card.find("form") is None
    # a second trainer with the old form: 409, nothing changed, no second notice
    response = client.htmx("post", url, data={prefix + "version": "1", prefix + "answer": "另一个答复"})
    assert response.status_code == 409
    assert db.session.get(SopReport, report.id).answer == "已更新"
    assert db.session.query(Notification).count() == 1


def test_resolve_without_javascript(client, auth, world):
    report = service.create_report(world.agent, note="x", scenario=world.scenario)
    auth.login(world.admin)
    prefix = f"r{report.id}-"
    response = client.post(f"/sop/reports/{report.id}/resolve", data={prefix + "version": "1", prefix + "answer": "好"})
    assert response.status_code == 303 and response.headers["Location"] == "/sop/reports"
    assert client.get(f"/sop/reports/{report.id}").status_code == 200


@pytest.mark.parametrize("role", ["agent", "lead"])
def test_agents_and_leads_cannot_resolve(client, auth, world, role):
    report = service.create_report(world.agent, note="x", scenario=world.scenario)
    auth.login(world[role])
    prefix = f"r{report.id}-"
    assert client.post(f"/sop/reports/{report.id}/resolve",
                       data={prefix + "version": "1", prefix + "answer": "好"}).status_code == 403
    assert client.get(f"/sop/reports/{report.id}").status_code == 403
    assert db.session.get(SopReport, report.id).status == ReportStatus.OPEN


def test_unknown_report_is_404(client, auth, world):
    auth.login(world.trainer)
    assert client.get("/sop/reports/999").status_code == 404
    assert client.post("/sop/reports/999/resolve", data={}).status_code == 404
    assert db.session.query(SopVersion).filter_by(status=VersionStatus.PUBLISHED).count() == 2
