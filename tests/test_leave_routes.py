"""Leave pages (kdcs/leave/routes.py): the request form with its handover, the candidate checks
fragment, the handover page actions, the inbox updating a row in place, 409s, print, types admin."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kdcs.extensions import db
from kdcs.leave import rules, service
from kdcs.models import LeaveRequest, LeaveStatus
from tests.test_leave_service import accepted, make_leave_world, next_monday, request


@pytest.fixture
def leave_world():
    """See tests/test_leave_service.py."""
    return make_leave_world()

S = LeaveStatus


def test_request_form_lists_outlets_and_submits(client, auth, leave_world):
    w = leave_world
    auth.login(w.agent3)
    page = client.get("/leave/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "中通良渚网点" in html and "中通北干网点" in html and "年假" in html
    start = next_monday(7)
    data = {"type_id": w.types["annual"].id, "start_date": start.isoformat(), "start_part": "full",
            "end_date": (start + timedelta(days=1)).isoformat(), "end_part": "full", "reason": "回老家",
            "substitute_id": w.agent4.id, "action": "submit",
            f"promises_{w.outlet.id}": "周三回电给网点"}
    response = client.post("/leave/new", data=data)
    assert response.status_code == 303
    leave = db.session.query(LeaveRequest).one()
    assert leave.status == S.SUBMITTED
    assert {h.substitute_id for h in leave.handover} == {w.agent4.id}
    assert leave.handover[0].pending_promises == "周三回电给网点"


def test_one_day_ahead_refused_with_a_chinese_message(client, auth, leave_world):
    w = leave_world
    auth.login(w.agent3)
    tomorrow = rules.beijing_today() + timedelta(days=1)
    response = client.post("/leave/new", data={
        "type_id": w.types["annual"].id, "start_date": tomorrow.isoformat(), "start_part": "full",
        "end_date": tomorrow.isoformat(), "end_part": "full", "substitute_id": w.agent4.id, "action": "submit"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "年假须至少提前 2 天申请" in html
    assert db.session.query(LeaveRequest).count() == 0


def test_candidate_fragment_shows_checks_and_load(client, auth, leave_world):
    w = leave_world
    auth.login(w.agent3)
    start = next_monday(7)
    response = client.htmx("get", f"/leave/candidate?target=all&substitute_id={w.far.id}"
                                  f"&start_date={start}&end_date={start}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "客服九" in html and "check-warn" in html
    assert client.get("/leave/candidate").status_code == 303  # fragment only


def test_substitute_accepts_on_the_handover_page(client, auth, leave_world):
    w = leave_world
    leave = request(w)
    auth.login(w.agent4)
    page = client.get(f"/leave/{leave.id}").get_data(as_text=True)
    assert "答应周三回电" in page
    response = client.htmx("post", f"/leave/{leave.id}/answer", data={"answer": "accept", "version": leave.version})
    assert response.status_code == 200
    assert db.session.get(LeaveRequest, leave.id).status == S.SUBSTITUTE_ACCEPTED


def test_inbox_approves_in_place_and_a_replay_is_409(client, auth, leave_world):
    w = leave_world
    leave = accepted(w)
    version = leave.version
    auth.login(w.lead)
    inbox = client.get("/leave/").get_data(as_text=True)
    assert f'id="inbox-{leave.id}"' in inbox and "客服四" in inbox
    response = client.htmx("post", f"/leave/{leave.id}/decide",
                           data={"decision": "approve", "version": version, "from": "inbox", "note": ""})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="inbox-{leave.id}"' in html and "已批准" in html
    replay = client.htmx("post", f"/leave/{leave.id}/decide",
                         data={"decision": "reject", "version": version, "from": "inbox", "note": "不行"})
    assert replay.status_code == 409
    assert "组长一" in replay.get_data(as_text=True)
    assert db.session.get(LeaveRequest, leave.id).status == S.APPROVED


def test_lead_cannot_approve_own_leave_page(client, auth, leave_world):
    w = leave_world
    leave = request(w, w.lead, substitute=False)
    auth.login(w.lead)
    page = client.get(f"/leave/{leave.id}").get_data(as_text=True)
    assert 'value="approve"' not in page
    response = client.post(f"/leave/{leave.id}/decide", data={"decision": "approve", "version": leave.version})
    assert response.status_code == 422
    assert db.session.get(LeaveRequest, leave.id).status == S.SUBSTITUTE_ACCEPTED


def test_other_agent_cannot_see_a_request(client, auth, leave_world):
    w = leave_world
    leave = request(w)
    auth.login(w.far)
    assert client.get(f"/leave/{leave.id}").status_code == 404
    assert client.get(f"/leave/{leave.id}/print").status_code == 404


def test_print_view(client, auth, leave_world):
    w = leave_world
    leave = request(w)
    auth.login(w.agent3)
    html = client.get(f"/leave/{leave.id}/print").get_data(as_text=True)
    assert "交接单" in html and "中通良渚网点" in html and "print_sheet.css" in html


def test_types_admin_page_and_inline_edit(client, auth, leave_world):
    w = leave_world
    auth.login(w.admin)
    page = client.get("/leave/types").get_data(as_text=True)
    assert "年假" in page and "产假" in page
    annual = w.types["annual"]
    response = client.htmx("post", f"/leave/types/{annual.id}/edit", data={
        "version": annual.version, "name": "年假", "notice_days": 3, "min_days": "0.5", "max_days": "",
        "half_days_allowed": "y", "yearly_allowance_days": "7"})
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.refresh(annual)
    assert annual.notice_days == 3 and str(annual.yearly_allowance_days) == "7.0"
    stale = client.htmx("post", f"/leave/types/{annual.id}/edit", data={"version": 1, "name": "年假", "notice_days": 2})
    assert stale.status_code == 409


def test_agent_my_leave_shows_balance(client, auth, leave_world):
    w = leave_world
    request(w)
    auth.login(w.agent3)
    html = client.get("/leave/").get_data(as_text=True)
    assert "年假" in html and "已提交" in html
    assert service.balances(w.agent3)[0].allowance == 5


def test_seed_types_command(runner):
    result = runner.invoke(args=["leave", "seed-types"])
    assert "leave types added: 8" in result.output
    assert "leave types added: 0" in runner.invoke(args=["leave", "seed-types"]).output


def test_inbox_refusal_keeps_the_row_and_says_why(client, auth, leave_world):
    w = leave_world
    tomorrow = rules.beijing_today() + timedelta(days=1)
    leave = accepted(w, type_code="sick", start=tomorrow, end=tomorrow + timedelta(days=3))
    auth.login(w.lead)
    response = client.htmx("post", f"/leave/{leave.id}/decide",
                           data={"decision": "approve", "version": leave.version, "from": "inbox", "note": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="inbox-{leave.id}"' in html and "未满提前天数" in html and 'name="short_notice_override"' in html
    response = client.htmx("post", f"/leave/{leave.id}/decide",
                           data={"decision": "approve", "version": leave.version, "from": "inbox",
                                 "note": "发烧", "short_notice_override": "y"})
    assert response.status_code == 200 and "已批准" in response.get_data(as_text=True)


def test_cancel_after_an_approval_it_did_not_see_is_a_409_saying_so(client, auth, leave_world):
    w = leave_world
    leave = accepted(w)
    seen = leave.version  # the agent's page was loaded before the lead approved
    service.decide(w.lead, leave, approve=True, note="同意", version=seen)
    db.session.commit()
    auth.login(w.agent3)
    response = client.htmx("post", f"/leave/{leave.id}/cancel", data={"version": seen, "note": "不休了"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "已批准" in html and "组长一" in html and "未生效" in html
    assert db.session.get(LeaveRequest, leave.id).status == S.APPROVED


def test_declined_handover_is_changed_and_submitted_again(client, auth, leave_world):
    w = leave_world
    leave = request(w)
    service.substitute_answer(w.agent4, leave, False, "那周我也请假")
    db.session.commit()
    auth.login(w.agent3)
    page = client.get(f"/leave/{leave.id}/edit").get_data(as_text=True)
    assert "那周我也请假" in page
    data = {"type_id": leave.type_id, "start_date": leave.start_date.isoformat(), "start_part": "full",
            "end_date": leave.end_date.isoformat(), "end_part": "full", "reason": "家里有事",
            "substitute_id": w.agent4.id, "action": "submit", "version": leave.version}
    assert client.post(f"/leave/{leave.id}/edit", data=data).status_code == 303
    leave = db.session.get(LeaveRequest, leave.id)
    assert leave.status == S.SUBMITTED and all(h.substitute_answer is None for h in leave.handover)
