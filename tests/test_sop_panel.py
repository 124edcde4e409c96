"""The SOP panel on a ticket's page: which scenarios, filled scripts, and the timeline record."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kdcs.extensions import db
from kdcs.models import Ticket, TicketEvent
from kdcs.models.sop import SopVersion, VersionStatus
from kdcs.sop import panel
from kdcs.sop.panel import plain_text, record_use, scenarios_for_ticket
from tests import factories
from tests.html import parse
from tests.sop_tickets_data import make_scenario
from tests.worlds import World


@pytest.fixture
def damage(ticket_world):
    """ticket_world plus reason 破损 (problem), a 破损 ticket of the agent and scenarios around it."""
    w = ticket_world
    reason = factories.make_reason("problem", "破损")
    ticket = factories.make_ticket(w.own, reason=reason, waybill_no="75129999000001", customer_name="张先生")
    by_reason = make_scenario("破损理赔", reasons=[reason],
                              scripts=["旧版：{客户称呼}您好。", "第二版", panel_script()], draft="草稿：不应显示")
    whole = make_scenario("问题件通用安抚", scripts=["{客户称呼}您好，问题件已登记。"])
    other_reason = factories.make_reason("problem", "拒收")
    make_scenario("拒收处理", reasons=[other_reason], scripts=["拒收"])
    make_scenario("工单催件", categories=["work_order"], scripts=["催件"])
    make_scenario("已归档", reasons=[reason], archived=True)
    return World(w, reason=reason, ticket=ticket, by_reason=by_reason, whole=whole)


def panel_script():
    return ("{客户称呼}您好，我是{品牌}客服{客服}。您的快件 {运单号} 破损，我们已联系 **{网点}** 核实，"
            "{时限}前答复。\n\n1. 拍照\n2. 核实{保价金额}")


def test_reason_matches_first_then_whole_category_no_archived_no_drafts(damage):
    found = scenarios_for_ticket(damage.ticket)
    assert [(s.title, m) for s, m in found] == [("破损理赔", "reason"), ("问题件通用安抚", "category")]
    # A scenario that names reasons of a category applies to those reasons only.
    other = factories.make_ticket(damage.own, reason=damage.address, waybill_no="75129999000002")
    assert [s.title for s, _m in scenarios_for_ticket(other)] == ["问题件通用安抚"]
    # The panel reads the same rule in one statement: the same scenarios, matches and versions.
    for ticket in (damage.ticket, other):
        assert [(i.scenario.id, i.match, i.version.id) for i in panel.for_ticket(ticket, damage.agent).items] == [
            (s.id, m, s.current_version_id) for s, m in scenarios_for_ticket(ticket)]


def test_panel_fills_the_current_version_and_marks_missing(damage):
    p = panel.for_ticket(damage.ticket, damage.agent)
    item = p.items[0]
    assert item.version.number == 3 and item.version.status == VersionStatus.PUBLISHED
    assert item.text.startswith(f"张先生您好，我是{damage.own.brand.name}客服{damage.agent.display_name}。")
    assert "75129999000001" in item.text and damage.own.name in item.text and "**" not in item.text
    assert "1. 拍照\n2. 核实【待填写：保价金额】" in item.text
    assert item.missing == ["保价金额"]
    html = str(item.html)
    assert '<mark class="blank blank-missing">【待填写：保价金额】</mark>' in html
    assert f"<strong><span class=\"blank blank-filled\" title=\"网点\">{damage.own.name}</span></strong>" in html
    assert "{" not in html


def test_values_are_escaped_in_the_html(damage):
    damage.own.name = '<img src=x onerror=alert(1)>网点'
    db.session.commit()
    html = str(panel.for_ticket(damage.ticket, damage.agent).items[0].html)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;网点" in html


def test_trainer_without_ticket_work_and_unknown_role(damage):
    assert panel.for_ticket(damage.ticket, damage.trainer).can_use is False
    assert panel.for_ticket(damage.ticket, damage.lead).can_use is True


def test_plain_text_keeps_lists_and_paragraphs():
    assert plain_text("# 标题\n\n**您好**，*请*稍候。\n第二行\n\n- 一\n- 二\n\n3. 三\n4. 四") == \
        "标题\n\n您好，请稍候。\n第二行\n\n· 一\n· 二\n3. 三\n4. 四"


def test_record_use_once_per_window(damage):
    version = damage.by_reason.current_version
    first = record_use(damage.agent, damage.ticket, version.id, "insert")
    again = record_use(damage.agent, damage.ticket, version.id, "copy")
    assert again.id == first.id
    other_version = damage.whole.current_version
    assert record_use(damage.agent, damage.ticket, other_version.id, "copy").id != first.id
    first.at = first.at - timedelta(minutes=11)
    db.session.commit()
    assert record_use(damage.agent, damage.ticket, version.id, "insert").id != first.id
    events = db.session.query(TicketEvent).filter_by(ticket_id=damage.ticket.id, kind="sop").all()
    assert len(events) == 3
    assert damage.ticket.version == 1  # the ticket itself did not change (no 409 for a colleague)


def test_record_use_refuses_drafts_and_non_workers(damage):
    from kdcs.permissions import PermissionDenied
    from kdcs.service_errors import NotFound

    draft = db.session.query(SopVersion).filter_by(status=VersionStatus.DRAFT).one()
    with pytest.raises(NotFound):
        record_use(damage.agent, damage.ticket, draft.id)
    with pytest.raises(PermissionDenied):
        record_use(damage.trainer, damage.ticket, damage.by_reason.current_version_id)


def test_timeline_says_which_version(damage):
    from kdcs.auditing import describe_event

    event = record_use(damage.agent, damage.ticket, damage.by_reason.current_version_id)
    assert describe_event(event).body == "查看并使用了话术《破损理赔》第 3 版"


def test_open_at_reply_records_published_versions_of_the_authors_reply(damage):
    from kdcs.tickets import service as tickets_service

    reply = tickets_service.record_reply(damage.agent, damage.ticket.id, version=None, channel="phone",
                                         body="已登记破损", idempotency_key=None)
    draft = db.session.query(SopVersion).filter_by(status=VersionStatus.DRAFT).one()
    wanted = str(damage.by_reason.current_version_id)
    raw = [wanted, wanted, "abc", "", "99999", str(draft.id), "１２", str(damage.whole.current_version_id)]
    events = panel.record_open_at_reply(damage.agent, reply, raw)
    assert [(e.to_value, e.from_value) for e in events] == [
        (wanted, "reply"), (str(damage.whole.current_version_id), "reply")]
    # a repeat within the window (a double submit) adds nothing; someone else's reply records nothing
    assert [e.id for e in panel.record_open_at_reply(damage.agent, reply, [wanted])] == [events[0].id]
    assert panel.record_open_at_reply(damage.lead, reply, [wanted]) == []
    assert panel.record_open_at_reply(damage.agent, reply, []) == []
    assert db.session.query(TicketEvent).filter_by(ticket_id=damage.ticket.id, kind="sop").count() == 2


# --------------------------------------------------------------------------- routes

def test_ticket_page_shows_the_panel(client, auth, damage):
    auth.login(damage.agent)
    page = parse(client.get(f"/tickets/{damage.ticket.id}"))
    panel_el = page.one(id="sop-panel")
    titles = [el.text for el in panel_el.find_all(cls="sop-item-title")]
    assert titles == ["破损理赔", "问题件通用安抚"]
    text = "".join(panel_el.find(cls="sop-text").children)
    assert text.startswith("张先生您好") and "草稿" not in panel_el.text
    assert "保价金额" in panel_el.find(cls="sop-missing").text
    assert panel_el.find("mark").text == "【待填写：保价金额】"
    insert = panel_el.find_all("button", cls="btn-primary")[0]
    assert insert.get("data-sop-insert") == "#reply-body"  # the reply box while the ticket is open
    assert insert.get("hx-post") == f"/sop/panel/{damage.ticket.id}/used"
    assert insert.get("hx-trigger") == "sop-used"
    assert page.one(id="note-body").tag == "textarea"
    assert page.one(id="ticket-timeline").tag == "ol"


def test_trainer_sees_no_panel_lead_sees_it(client, auth, damage):
    auth.login(damage.lead)
    page = parse(client.get(f"/tickets/{damage.ticket.id}"))
    assert page.find(id="sop-panel") is not None


def test_ticket_fragment_keeps_the_panel(client, auth, damage):
    """The ticket body a write answers keeps the panel; a note answers only its line and the note
    box (tickets/_note_added.html), so the panel on the page stays as it is."""
    auth.login(damage.agent)
    ticket = damage.ticket
    response = client.htmx("post", f"/tickets/{ticket.id}/status",
                           data={"status-to_status": "in_progress", "status-version": ticket.version})
    assert 'id="sop-panel"' in response.get_data(as_text=True)
    db.session.expire_all()
    response = client.htmx("post", f"/tickets/{ticket.id}/note",
                           data={"note-body": "已联系网点", "note-version": db.session.get(Ticket, ticket.id).version})
    assert response.headers["HX-Retarget"] == "#act-note"
    assert 'id="sop-panel"' not in response.get_data(as_text=True)


def test_record_route_answers_the_timeline_line_then_204(client, auth, damage):
    auth.login(damage.agent)
    url = f"/sop/panel/{damage.ticket.id}/used"
    version = damage.by_reason.current_version
    response = client.htmx("post", url, data={"version_id": str(version.id), "action": "insert"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'hx-swap-oob="afterbegin:#ticket-timeline"' in body
    assert "查看并使用了话术《破损理赔》第 3 版" in body and "话术" in body
    assert client.htmx("post", url, data={"version_id": str(version.id), "action": "copy"}).status_code == 204
    page = client.get(f"/tickets/{damage.ticket.id}").get_data(as_text=True)
    assert page.count("查看并使用了话术《破损理赔》第 3 版") == 1
    # without JavaScript: back to the ticket
    assert client.post(url, data={"version_id": str(damage.whole.current_version_id)}).status_code == 303


@pytest.mark.parametrize("data, status", [
    ({}, 400), ({"version_id": "abc"}, 400), ({"version_id": "99999"}, 404),
    ({"version_id": "1", "action": "delete"}, 400),
])
def test_record_route_bad_input(client, auth, damage, data, status):
    auth.login(damage.agent)
    assert client.htmx("post", f"/sop/panel/{damage.ticket.id}/used", data=data).status_code == status


def test_record_route_scope(client, auth, damage):
    auth.login(damage.agent)
    version_id = str(damage.by_reason.current_version_id)
    assert client.htmx("post", f"/sop/panel/{damage.far.id}/used", data={"version_id": version_id}).status_code == 404
    draft = db.session.query(SopVersion).filter_by(status=VersionStatus.DRAFT).one()
    assert client.htmx("post", f"/sop/panel/{damage.ticket.id}/used",
                       data={"version_id": str(draft.id)}).status_code == 404
    assert db.session.query(TicketEvent).filter_by(kind="sop").count() == 0


def test_no_scenario_for_the_ticket(client, auth, ticket_world):
    auth.login(ticket_world.agent)
    panel_el = parse(client.get(f"/tickets/{ticket_world.mine.id}")).one(id="sop-panel")
    assert panel_el.find(cls="sop-none") is not None
    assert panel_el.find(cls="sop-report-missing").find("form").get("hx-post") == "/sop/reports"


def test_the_agent_blank_is_the_person_using_the_panel(damage):
    lead_text = panel.for_ticket(damage.ticket, damage.lead).items[0].text
    assert f"客服{damage.lead.display_name}" in lead_text and damage.agent.display_name not in lead_text


def test_reply_with_open_scenarios_answers_with_their_lines(client, auth, damage):
    """The reply's own answer shows the lines: no second request races the re-render."""
    auth.login(damage.agent)
    version_id = str(damage.by_reason.current_version_id)
    data = {"reply-body": "您好，已为您登记破损。", "reply-channel": "phone", "reply-version": "1",
            "sop_open": [version_id, "not-a-number"]}
    response = client.htmx("post", f"/tickets/{damage.ticket.id}/replies", data=data)
    assert response.status_code == 200
    timeline = parse(response).one(id="ticket-timeline")
    assert "查看并使用了话术《破损理赔》第 3 版" in timeline.text
    assert db.session.query(TicketEvent).filter_by(kind="sop", from_value="reply").count() == 1
    # a reply that is refused (empty text) records no script use
    refused = client.htmx("post", f"/tickets/{damage.ticket.id}/replies",
                          data={**data, "reply-body": "", "reply-version": str(damage.ticket.version),
                                "sop_open": [str(damage.whole.current_version_id)]})
    assert refused.status_code == 200 and "ev-sop" in refused.get_data(as_text=True)
    assert db.session.query(TicketEvent).filter_by(kind="sop").count() == 1


def test_step_limits_in_each_requests_language(client, auth, damage):
    """A step's time limit is kept per catalog (panel._steps): each request gets its own language."""
    version = db.session.get(SopVersion, damage.by_reason.current_version_id)
    version.steps = [{"text": "核实破损照片", "limit_minutes": 30}, {"text": "回电客户", "limit_minutes": 120},
                     {"text": "无时限", "limit_minutes": None}]
    db.session.commit()
    auth.login(damage.agent)
    for lang, thirty, two_hours in (("", "30 分钟", "2 小时"), ("en", "30 minutes", "2 hours"),
                                    ("", "30 分钟", "2 小时")):
        page = parse(client.get(f"/tickets/{damage.ticket.id}?lang={lang}").get_data(as_text=True))
        steps = " ".join(ol.text for ol in page.find_all("ol", cls="sop-steps"))
        assert thirty in steps and two_hours in steps, (lang, steps)
    assert ("30 minutes" in steps) is False
