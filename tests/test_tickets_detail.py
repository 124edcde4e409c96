"""The detail page and its actions: fragments with toasts, versions and 409s, collision
warning, canned replies; manual creation with inline checks; bulk actions."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models import CannedReply, Ticket, TicketEvent, utcnow
from kdcs.tickets import service
from tests import factories
from tests.conftest import AuthActions
from tests.html import parse


def _toasts(response):
    return json.loads(response.headers.get("HX-Trigger", "{}"))


def _events(ticket, kind):
    return db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                        TicketEvent.kind == kind)).all()


def test_detail_shows_all_fields_full_phone_and_timeline(client, auth, users, ticket_world):
    auth.login(users["agent"])
    html = client.get(f"/tickets/{ticket_world['mine'].id}").get_data(as_text=True)
    for text in ("75121488724296", "良渚网点", "中通", "地址不详", "李先生", "13912345678", "收件人电话打不通"):
        assert text in html
    assert 'class="timeline"' in html
    assert 'data-due="' in html  # live countdowns for the pending deadlines


def test_add_note_by_htmx_answers_its_line_and_a_fresh_box_with_a_toast(client, auth, users, ticket_world):
    """A note changes neither the ticket nor its version: htmx gets the note's timeline line (out of
    band, on top of the timeline) and a fresh note box for #act-note, not the whole ticket again."""
    t = ticket_world["mine"]
    auth.login(users["agent"])
    version = t.version
    response = client.htmx("post", f"/tickets/{t.id}/note",
                           data={"note-body": "已联系收件人", "note-version": version, "note-key": "k-first"})
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#act-note" and response.headers["HX-Reswap"] == "innerHTML"
    page = parse(response)
    line = page.one("ol", hx_swap_oob="afterbegin:#ticket-timeline").one("li", cls="ev-note")
    assert "已联系收件人" in line.text and users["agent"].display_name in line.text
    box = page.one("form", hx_post=f"/tickets/{t.id}/note")
    assert box.one("textarea", id="note-body").text == ""  # the box is empty again
    assert box.one("input", id="note-version").get("value") == str(version)
    assert box.one("input", id="note-key").get("value") not in ("", "k-first")  # a new form, a new key
    assert page.find(id="ticket-timeline") is None and page.find(id="act-status") is None  # not the body
    events = _toasts(response)
    assert "tickets-changed" in events and events["toast"][0]["level"] == "success"
    assert [e.body for e in _events(t, "note")] == ["已联系收件人"]
    db.session.expire_all()
    assert db.session.get(Ticket, t.id).version == version
    # The page's versions are still right: a status change from the same page is not a conflict.
    response = client.htmx("post", f"/tickets/{t.id}/status",
                           data={"status-to_status": "in_progress", "status-version": version})
    assert response.status_code == 200 and 'data-status="409"' not in response.get_data(as_text=True)


def test_a_note_on_a_ticket_changed_since_the_page_loaded_answers_the_whole_body(client, auth, users, ticket_world):
    """Someone changed the ticket after this page loaded: the note is stored and the answer is the
    ticket as stored now (with its new version), as before, not just the note's line."""
    t = ticket_world["mine"]
    seen = t.version
    service.change_status(users["lead"], t.id, "in_progress", version=seen)
    auth.login(users["agent"])
    response = client.htmx("post", f"/tickets/{t.id}/note", data={"note-body": "刚看到", "note-version": seen})
    assert response.status_code == 200 and "HX-Retarget" not in response.headers
    page = parse(response)
    assert "刚看到" in page.one("ol", id="ticket-timeline").text
    db.session.expire_all()
    now = db.session.get(Ticket, t.id).version
    assert now != seen and page.one("input", id="status-version").get("value") == str(now)
    assert [e.body for e in _events(t, "note")] == ["刚看到"]


def test_add_note_without_js_redirects_and_empty_note_is_refused(client, auth, users, ticket_world):
    t = ticket_world["mine"]
    auth.login(users["agent"])
    response = client.post(f"/tickets/{t.id}/note", data={"note-body": "无脚本备注"})
    assert response.status_code == 303 and response.headers["Location"] == f"/tickets/{t.id}"
    response = client.htmx("post", f"/tickets/{t.id}/note", data={"note-body": "  "})
    assert response.status_code == 200 and "field-error" in response.get_data(as_text=True)
    assert len(_events(t, "note")) == 1


def test_status_menu_offers_only_allowed_transitions_and_changes(client, auth, users, ticket_world):
    t = ticket_world["mine"]
    auth.login(users["agent"])
    html = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    menu = html[html.index('name="status-to_status"'):html.index("</select>", html.index('name="status-to_status"'))]
    assert 'value="in_progress"' in menu and 'value="new"' not in menu and 'value="filed"' not in menu
    response = client.htmx("post", f"/tickets/{t.id}/status",
                            data={"status-to_status": "in_progress", "status-version": t.version})
    assert response.status_code == 200 and "tickets-changed" in _toasts(response)
    db.session.refresh(t)
    assert t.status == "in_progress"
    # an impossible move is refused beside the field, nothing changes
    response = client.htmx("post", f"/tickets/{t.id}/status",
                           data={"status-to_status": "judged", "status-version": t.version})
    assert response.status_code == 200 and "field-error" in response.get_data(as_text=True)
    db.session.refresh(t)
    assert t.status == "in_progress"


def test_stale_version_is_a_409_fragment_in_chinese(client, auth, users, ticket_world):
    t = ticket_world["mine"]
    auth.login(users["agent"])
    old = t.version
    assert client.htmx("post", f"/tickets/{t.id}/status",
                       data={"status-to_status": "in_progress", "status-version": old}).status_code == 200
    response = client.htmx("post", f"/tickets/{t.id}/status",
                           data={"status-to_status": "replied", "status-version": old})
    assert response.status_code == 409
    alert = parse(response).one("div", cls="alert-danger")
    assert alert.get("data-status") == "409" and alert.text.startswith("您处理期间，其他人修改了这张工单，所以您的操作没有保存。")
    db.session.refresh(t)
    assert t.status == "in_progress"
    # a form without a version never overwrites blindly
    assert client.htmx("post", f"/tickets/{t.id}/status", data={"status-to_status": "replied"}).status_code == 409


def test_first_reply_then_reassign_by_lead(client, auth, users, ticket_world):
    t = ticket_world["mine"]
    mate = ticket_world["teammate"]
    auth.login(users["agent"])
    # an agent may not give the ticket to someone else: no menu
    assert 'name="assign-assignee_id"' not in client.get(f"/tickets/{t.id}").get_data(as_text=True)
    response = client.htmx("post", f"/tickets/{t.id}/replies",
                           data={"reply-version": t.version, "reply-channel": "phone", "reply-body": "已电话联系客户"})
    assert response.status_code == 200
    db.session.refresh(t)
    assert t.first_replied_at is not None and t.status == "in_progress"
    auth.logout()
    auth.login(users["lead"])
    response = client.htmx("post", f"/tickets/{t.id}/assign",
                           data={"assign-assignee_id": mate.id, "assign-version": t.version, "assign-note": "休假交接"})
    assert response.status_code == 200
    db.session.refresh(t)
    assert t.assignee_id == mate.id
    assert _events(t, "assign")[0].body == "休假交接"


def test_fine_by_lead_with_decimal_share_and_validation(client, auth, users, ticket_world):
    t = ticket_world["mine"]
    auth.login(users["lead"])
    response = client.htmx("post", f"/tickets/{t.id}/fine", data={
        "fine-version": t.version, "fine-amount": "50", "fine-bearer": "company", "fine-agent_share": "60"})
    assert response.status_code == 200 and "field-error" in response.get_data(as_text=True)
    response = client.htmx("post", f"/tickets/{t.id}/fine", data={
        "fine-version": t.version, "fine-amount": "200.50", "fine-bearer": "company", "fine-agent_share": "20.05"})
    assert response.status_code == 200
    db.session.refresh(t)
    assert (t.fine_amount, t.fine_bearer, t.fine_agent_share) == (Decimal("200.50"), "company", Decimal("20.05"))
    assert "¥200.50" in response.get_data(as_text=True)


def test_close_and_reopen_with_reason(client, auth, users, ticket_world):
    t = ticket_world["mine"]
    auth.login(users["agent"])
    response = client.htmx("post", f"/tickets/{t.id}/status",
                           data={"status-to_status": "closed", "status-version": t.version})
    assert "field-error" in response.get_data(as_text=True)  # closing without a reply needs a note
    client.htmx("post", f"/tickets/{t.id}/status",
                data={"status-to_status": "closed", "status-version": t.version, "status-note": "客户撤销"})
    db.session.refresh(t)
    assert t.status == "closed"
    html = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert 'id="act-reopen"' in html and 'id="act-status"' not in html
    response = client.htmx("post", f"/tickets/{t.id}/reopen", data={"reopen-version": t.version, "reopen-reason": ""})
    assert "field-error" in response.get_data(as_text=True)
    response = client.htmx("post", f"/tickets/{t.id}/reopen",
                           data={"reopen-version": t.version, "reopen-reason": "客户再次来电"})
    db.session.refresh(t)
    assert t.status == "in_progress" and _events(t, "reopen")[0].body == "客户再次来电"


def test_canned_replies_of_the_category_are_offered(client, auth, users, ticket_world):
    t = ticket_world["mine"]
    db.session.add_all([
        CannedReply(category="problem", title="地址确认", body="您好，请提供详细地址。"),
        CannedReply(category=None, title="通用致歉", body="给您带来不便，非常抱歉。"),
        CannedReply(category="arbitration", title="仲裁举证", body="请上传凭证。"),
        CannedReply(category="problem", title="停用", body="旧话术", is_active=False),
        CannedReply(category="problem", reason_id=t.reason_id, title="本原因", sort_order=9,
                    body="{客户称呼}，运单{运单号}已转{网点}核实，{客服}跟进。{取件码}"),
    ])
    db.session.commit()
    auth.login(users["agent"])
    html = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    page = parse(html)
    chips = [b for b in page.find_all("button") if "data-insert" in b.attrs]
    # into the REPLY box (not the internal note), the ticket's own reason first, then its category, then general
    assert {c.get("data-insert") for c in chips} == {"#reply-body"}
    assert [c.text.strip() for c in chips] == ["本原因", "地址确认", "通用致歉"]
    own = chips[0]
    assert t.customer_name == "李先生"
    assert own.get("data-text") == (f"李先生，运单{t.waybill_no}已转{t.outlet.name}核实，{users['agent'].display_name}跟进。"
                                "【待填写：取件码】")
    assert own.get("data-missing") == "取件码"
    assert "仲裁举证" not in page.text and "旧话术" not in html
    assert page.find(id="reply-body") is not None and page.find("button", data_copy_from="#reply-body") is not None


def test_presence_warns_when_someone_else_changed_the_ticket(client, auth, users, ticket_world):
    t = ticket_world["mine"]
    auth.login(users["agent"])
    loaded = t.version
    quiet = client.htmx("get", f"/tickets/{t.id}/presence?version={loaded}").get_data(as_text=True)
    assert "alert" not in quiet
    # the lead changes it meanwhile
    from kdcs.tickets import service

    service.change_status(users["lead"], t.id, "in_progress", version=loaded)
    warning = client.htmx("get", f"/tickets/{t.id}/presence?version={loaded}").get_data(as_text=True)
    assert "presence-changed" in warning and users["lead"].display_name in warning
    # on reload the page itself says someone just worked on it
    html = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert "presence-recent" in html and users["lead"].display_name in html
    assert 'hx-trigger="every 10s"' in html


def test_presence_names_who_else_has_the_ticket_open(app, users, ticket_world):
    """Two people on the same ticket: each page says the other is there, before anyone writes."""
    t = ticket_world["mine"]
    agent_client, lead_client = app.test_client(), app.test_client()
    AuthActions(agent_client).login(users["agent"])
    AuthActions(lead_client).login(users["lead"])
    first = agent_client.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert "presence-viewers" not in first
    second = lead_client.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert "presence-viewers" in second and users["agent"].display_name in second
    polled = agent_client.htmx("get", f"/tickets/{t.id}/presence?version={t.version}").get_data(as_text=True)
    assert "presence-viewers" in polled and users["lead"].display_name in polled


def test_presence_expires_and_is_per_ticket(users, ticket_world):
    from datetime import timedelta

    from kdcs.models import utcnow
    from kdcs.tickets import presence

    t = ticket_world["mine"]
    presence.touch(users["lead"], t.id, now=utcnow() - timedelta(minutes=2))
    assert presence.other_viewers(users["agent"], t.id) == []
    presence.touch(users["lead"], t.id)
    presence.touch(users["lead"], t.id)  # twice: still one row
    assert presence.other_viewers(users["agent"], t.id) == [users["lead"].display_name]
    assert presence.other_viewers(users["lead"], t.id) == []
    presence.leave(users["lead"], t.id)
    assert presence.other_viewers(users["agent"], t.id) == []


# --------------------------------------------------------------------------- create


def _new_data(ticket_world, **changes):
    data = {"outlet_id": ticket_world["own"].id, "direction": "inbound", "category": "problem", "reason_id": ticket_world["address"].id,
            "waybill_no": "YT6084582426123", "registered_at": "2026-01-05T09:30", "customer_name": "张女士",
            "customer_phone": "13800001111", "priority": "normal", "description": "查无此人"}
    data.update(changes)
    return data


def test_create_ticket_redirects_to_its_page(client, auth, users, ticket_world):
    auth.login(users["agent"])
    response = client.post("/tickets/new", data=_new_data(ticket_world))
    assert response.status_code == 303
    ticket = db.session.scalar(select(Ticket).where(Ticket.waybill_no == "YT6084582426123"))
    assert response.headers["Location"] == f"/tickets/{ticket.id}"
    assert ticket.assignee_id == users["agent"].id and ticket.created_by_id == users["agent"].id
    assert ticket.registered_at.hour == 1  # 09:30 Shanghai = 01:30 UTC
    assert "YT6084582426123" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_create_ticket_errors_are_shown_and_nothing_is_written(client, auth, users, ticket_world):
    inactive = factories.make_outlet(ticket_world["zto"], users["agent"], active=False)
    other = factories.make_reason("work_order", "催件")
    auth.login(users["agent"])
    for changes in ({"waybill_no": "12-34"}, {"outlet_id": inactive.id}, {"reason_id": other.id}, {"outlet_id": 0}):
        response = client.post("/tickets/new", data=_new_data(ticket_world, **changes))
        assert response.status_code == 200 and "field-error" in response.get_data(as_text=True), changes
    assert db.session.scalar(select(Ticket).where(Ticket.waybill_no == "YT6084582426123")) is None


def test_inline_checks_and_reason_options(client, auth, users, ticket_world):
    far = ticket_world["other"]  # another team's outlet
    auth.login(users["agent"])
    check = lambda field, **c: client.htmx("post", f"/tickets/new/check?field={field}",  # noqa: E731
                                           data=_new_data(ticket_world, **c)).get_data(as_text=True)
    assert "field-error" in check("waybill_no", waybill_no="ABC")
    assert "field-error" not in check("waybill_no")
    assert "hint" in check("waybill_no", waybill_no="12345678901")  # not a usual ZTO number: a soft hint
    assert "field-error" in check("outlet_id", outlet_id=far.id)  # not the user's outlet
    other = factories.make_reason("work_order", "催件")
    assert "field-error" in check("reason_id", reason_id=other.id)
    assert client.htmx("post", "/tickets/new/check?field=nope", data={}).status_code == 400
    options = client.htmx("get", "/tickets/reasons?category=work_order").get_data(as_text=True)
    assert "催件" in options and "地址不详" not in options
    # the outlet menu lists only the user's active outlets
    html = client.get("/tickets/new").get_data(as_text=True)
    assert "良渚网点" in html and far.name not in html


# --------------------------------------------------------------------------- bulk


def test_lead_bulk_assigns_and_sees_which_rows_changed(client, auth, users, ticket_world):
    mate = ticket_world["teammate"]
    tickets = [factories.make_ticket(ticket_world["own"], reason=ticket_world["address"]) for _ in range(3)]
    closed = factories.make_ticket(ticket_world["own"], reason=ticket_world["address"], status="closed", closed_at=utcnow())
    auth.login(users["lead"])
    ids = [t.id for t in tickets] + [closed.id]
    data = {"ids": ids, "action": "status", "to_status": "in_progress"}
    data.update({f"v{t.id}": t.version for t in tickets + [closed]})
    response = client.htmx("post", "/tickets/bulk", data=data)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert parse(body).one("div", cls="bulk-result").find("strong").text == "4 张工单中已修改 3 张。"
    assert body.count('class="ok"') == 3 and body.count('class="refused"') == 1
    assert "tickets-changed" in _toasts(response)
    response = client.htmx("post", "/tickets/bulk", data={"ids": [t.id for t in tickets], "action": "assign",
                                                         "assignee_id": mate.id})
    assert response.get_data(as_text=True).count('class="ok"') == 3
    for t in tickets:
        db.session.refresh(t)
        assert t.assignee_id == mate.id and t.status == "in_progress"
    # without JavaScript: a full page with the same list
    response = client.post("/tickets/bulk", data={"ids": [closed.id], "action": "close", "back": "/tickets/?scope=team"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html and 'class="refused"' in html
    assert 'href="/tickets/?scope=team"' in html
    # nothing selected: a clear message, no change
    response = client.htmx("post", "/tickets/bulk", data={"action": "close"})
    assert "alert-danger" in response.get_data(as_text=True)


def test_bulk_on_someone_elses_ticket_reveals_nothing(client, auth, users, ticket_world):
    far = factories.make_ticket(ticket_world["other"], reason=ticket_world["address"], waybill_no="75999999999999")
    auth.login(users["lead"])
    body = client.htmx("post", "/tickets/bulk", data={"ids": [far.id], "action": "close", "note": "x"}).get_data(as_text=True)
    assert "75999999999999" not in body and f"#{far.id}" in body
    db.session.refresh(far)
    assert far.status == "new"


def test_each_form_carries_the_requests_csrf_token(client, auth, users, ticket_world, csrf_on):
    """The page looks its CSRF token up once for its forms (FormView.csrf): every form has the
    request's token (the one the htmx header sends), and a form posted with it is accepted."""
    import re

    ticket = ticket_world["mine"]
    auth.login(users["lead"])  # a lead sees every form: note, status, reassign, reply, fine
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    header = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
    tokens = dict(re.findall(r'id="([a-z]+)-csrf_token" name="[a-z]+-csrf_token" type="hidden" value="([^"]*)"', html))
    assert set(tokens) >= {"note", "status", "assign", "reply", "fine"}, tokens
    assert set(tokens.values()) == {header} and header
    version = re.search(r'id="note-version" name="note-version" type="hidden" value="(\d+)"', html).group(1)
    response = client.post(f"/tickets/{ticket.id}/note", data={
        "note-csrf_token": tokens["note"], "note-version": version, "note-body": "带令牌的备注"})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert [e.body for e in _events(ticket, "note")] == ["带令牌的备注"]


def test_a_stored_writes_answer_keeps_the_pages_evidence_box_and_sop_panel(client, auth, users, ticket_world):
    """A stored write answers the ticket's body with empty ``hx-preserve`` placeholders for the evidence
    box and the SOP panel (htmx keeps the page's own, with what the agent opened or chose there):
    nothing a status change, a reply or a reassignment does changes them. Closing or reopening renders
    the panel (it inserts into the reply box of an open ticket only); a refused write and a GET render all."""
    t = ticket_world["mine"]
    auth.login(users["agent"])

    def sections(response):
        page = parse(response)
        return {name: page.one("section", id=name) for name in ("sop-panel", "evidence")}

    def kept(section):
        return section.get("hx-preserve") == "true" and not section.children

    shown = sections(client.htmx("get", f"/tickets/{t.id}"))
    assert not kept(shown["sop-panel"]) and shown["sop-panel"].find("h2") is not None
    assert not kept(shown["evidence"]) and shown["evidence"].find("h2") is not None

    answer = client.htmx("post", f"/tickets/{t.id}/status", data={"status-to_status": "in_progress",
                                                                 "status-version": t.version})
    assert answer.status_code == 200 and all(kept(s) for s in sections(answer).values())
    db.session.refresh(t)
    answer = client.htmx("post", f"/tickets/{t.id}/replies", data={
        "reply-channel": "phone", "reply-body": "已联系网点派送", "reply-set_status": "", "reply-corrects_id": "0",
        "reply-version": t.version, "reply-key": "k" * 32})
    assert answer.status_code == 200 and "reply-list" in answer.get_data(as_text=True)
    assert all(kept(s) for s in sections(answer).values())

    refused = client.htmx("post", f"/tickets/{t.id}/status", data={"status-to_status": "judged",
                                                                  "status-version": t.version})
    assert "field-error" in refused.get_data(as_text=True)
    assert not any(kept(s) for s in sections(refused).values())

    db.session.refresh(t)
    closed = client.htmx("post", f"/tickets/{t.id}/status", data={
        "status-to_status": "closed", "status-version": t.version, "status-note": "客户确认已签收"})
    db.session.refresh(t)
    assert t.status == "closed", closed.get_data(as_text=True)[:300]
    after_close = sections(closed)
    assert not kept(after_close["sop-panel"]) and kept(after_close["evidence"])
    next_box = parse(closed).one("section", id="act-next")  # where the status box was: on to the next one
    assert "已结案" in next_box.text and next_box.one("a").get("href") == f"/tickets/{t.id}/next"
    reopened = client.htmx("post", f"/tickets/{t.id}/reopen", data={"reopen-reason": "客户再次来电",
                                                                   "reopen-version": t.version})
    db.session.refresh(t)
    assert t.status != "closed"
    assert parse(reopened).find("section", id="act-next") is None
    after_reopen = sections(reopened)
    assert not kept(after_reopen["sop-panel"]) and kept(after_reopen["evidence"])
