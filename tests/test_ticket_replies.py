"""Replies (回复记录): many per ticket, the earliest is the first reply (the reply deadline is met or
missed by it), never edited (a correction is a new reply), back-dated within registration..now,
an optional status change in the same step; the reply box on the ticket page; §6 fixes of the page."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kdcs.extensions import db
from kdcs.models import AuditLog, Ticket, TicketReply, utcnow
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import StaleEdit, ValidationError
from kdcs.tickets import service
from kdcs.tickets.service import TicketNotFound
from tests import factories as f
from tests.html import parse


def _ticket(desk_world, **fields):
    fields.setdefault("registered_at", utcnow() - timedelta(days=2))
    return f.make_ticket(desk_world["outlet"], category="work_order", reason=desk_world["reason"], **fields)


def _reply(actor, t, **kw):
    t = db.session.get(Ticket, t.id)
    kw.setdefault("channel", "brand_system")
    kw.setdefault("body", "已联系网点核实，请耐心等待。")
    return service.record_reply(actor, t.id, version=t.version, **kw)


# -- service -------------------------------------------------------------------

def test_many_replies_the_earliest_is_the_first_and_decides_the_deadline(desk_world):
    agent = desk_world["agent"]
    t = _ticket(desk_world)  # reply due 2 h after registration (2 days ago): missed unless back-dated
    registered = t.registered_at
    late = _reply(agent, t, sent_at=registered + timedelta(hours=5))
    t = db.session.get(Ticket, t.id)
    assert t.first_replied_at == late.sent_at and service.reply_met_deadline(t) is False
    assert t.status == "in_progress"  # a new ticket is being worked once a reply is recorded
    _reply(agent, t, channel="phone", body="电话回访客户")  # now: later, changes nothing
    t = db.session.get(Ticket, t.id)
    assert t.first_replied_at == late.sent_at
    # a reply recorded afterwards but sent earlier (back-dated) is the first reply: the deadline was met
    early = _reply(agent, t, channel="wechat", body="微信已回复", sent_at=registered + timedelta(minutes=30))
    t = db.session.get(Ticket, t.id)
    assert t.first_replied_at == early.sent_at and service.reply_met_deadline(t) is True
    assert [r.channel for r in service.replies(t)] == ["wechat", "brand_system", "phone"]
    assert t.due_at == t.resolve_due_at  # the reply deadline is no longer pending
    kinds = [e.kind for e in service.timeline(t)]
    assert kinds.count("reply") == 3 and "note" not in kinds
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "ticket.reply")).all()
    assert len(audit) == 3 and all(a.entity_id == t.id for a in audit)


def test_reply_time_between_registration_and_now(desk_world):
    t = _ticket(desk_world)
    for when in (t.registered_at - timedelta(minutes=1), datetime.now(UTC) + timedelta(hours=1)):
        with pytest.raises(ValidationError) as err:
            _reply(desk_world["agent"], t, sent_at=when)
        assert err.value.errors == {"sent_at": "回复时间应在登记时间与当前时间之间。"}
    with pytest.raises(ValidationError) as err:
        _reply(desk_world["agent"], t, sent_at=datetime(2026, 1, 1, 9, 0))  # naive: not a valid time
    assert "sent_at" in err.value.errors
    assert db.session.scalar(select(func.count()).select_from(TicketReply)) == 0


def test_reply_needs_text_channel_and_no_unfilled_blank(desk_world):
    t = _ticket(desk_world)
    with pytest.raises(ValidationError) as err:
        _reply(desk_world["agent"], t, body="  ", channel="pigeon")
    assert set(err.value.errors) == {"body", "channel"}
    with pytest.raises(ValidationError) as err:
        _reply(desk_world["agent"], t, body="您好，取件码【待填写：取件码】，网点【待填写：网点】。")
    assert err.value.errors["body"] == "请先补全标有【待填写】的内容：取件码、网点。"
    with pytest.raises(ValidationError):
        _reply(desk_world["agent"], t, body="字" * 4001)


def test_a_correction_is_a_new_reply_pointing_at_the_corrected_one(desk_world):
    agent = desk_world["agent"]
    t = _ticket(desk_world)
    wrong = _reply(agent, t, body="预计明天送达")
    fixed = _reply(agent, t, body="更正：预计后天送达", corrects_id=wrong.id)
    assert fixed.corrects_id == wrong.id
    db.session.refresh(wrong)
    assert wrong.body == "预计明天送达"  # the record stays as it was
    other = _ticket(desk_world)
    with pytest.raises(ValidationError) as err:
        _reply(agent, other, corrects_id=wrong.id)  # a reply of another ticket
    assert "corrects_id" in err.value.errors
    assert not hasattr(service, "update_reply") and not hasattr(service, "delete_reply")


def test_reply_and_set_status_in_one_step(desk_world):
    agent = desk_world["agent"]
    t = _ticket(desk_world)
    assert service.reply_status_choices(t) == ["replied", "awaiting_feedback"]
    _reply(agent, t, set_status="awaiting_feedback")
    t = db.session.get(Ticket, t.id)
    assert t.status == "awaiting_feedback" and t.first_replied_at is not None
    _reply(agent, t, set_status="replied", body="已处理完毕")
    t = db.session.get(Ticket, t.id)
    assert t.status == "replied" and t.resolved_at is not None
    with pytest.raises(ValidationError) as err:  # replied → replied is not a move
        _reply(agent, t, set_status="replied")
    assert "set_status" in err.value.errors
    arbitration = f.make_ticket(desk_world["outlet"], category="arbitration")
    assert service.reply_status_choices(arbitration) == []
    with pytest.raises(ValidationError):
        _reply(agent, arbitration, set_status="replied")
    _reply(agent, arbitration)  # a reply alone is fine on arbitration: its status stays
    assert db.session.get(Ticket, arbitration.id).status == "filed"


def test_closed_stale_scope_and_permission(desk_world, users):
    agent = desk_world["agent"]
    closed = _ticket(desk_world, status="closed")
    with pytest.raises(ValidationError):
        _reply(agent, closed)
    t = _ticket(desk_world)
    with pytest.raises(StaleEdit):
        service.record_reply(agent, t.id, version=t.version + 1, channel="phone", body="x")
    stranger = f.make_user("agent", username="agent_far")
    with pytest.raises(TicketNotFound):
        _reply(stranger, t)
    with pytest.raises(PermissionDenied):
        _reply(users["trainer"], t)


def test_a_double_submit_stores_the_reply_once(desk_world):
    agent = desk_world["agent"]
    t = _ticket(desk_world)
    first = _reply(agent, t, idempotency_key="k-1")
    again = service.record_reply(agent, t.id, version=t.version, channel="brand_system", body="重复提交",
                                 idempotency_key="k-1")  # the old version: still the stored reply, no 409
    assert again.id == first.id
    assert db.session.scalar(select(func.count()).select_from(TicketReply)) == 1


def test_fine_borne_by_the_agent_is_the_whole_amount(desk_world):
    t = _ticket(desk_world)
    t = service.record_fine(desk_world["lead"], t.id, version=t.version, amount="80", bearer="agent",
                            agent_share="10")
    assert t.fine_agent_share == Decimal("80.00")


# -- routes --------------------------------------------------------------------

def test_reply_box_stays_after_the_first_reply(client, auth, users, ticket_world):
    t = ticket_world["mine"]
    auth.login(users["agent"])
    page = parse(client.get(f"/tickets/{t.id}"))
    form = page.one("form", cls="reply-form")
    assert form.get("hx-post") == f"/tickets/{t.id}/replies" and form.get("hx-target") == "#ticket-body"
    options = [o.get("value") for o in page.one("select", id="reply-channel").find_all("option")]
    assert options == ["brand_system", "phone", "sms", "wechat", "outlet", "other"]
    key = page.one("input", id="reply-key").get("value")
    for n, body in enumerate(["第一次回复", "第二次回复"], start=1):
        t = db.session.get(Ticket, t.id)
        response = client.htmx("post", f"/tickets/{t.id}/replies", data={
            "reply-version": t.version, "reply-channel": "brand_system", "reply-body": body,
            "reply-key": f"{key}-{n}", "reply-set_status": ""})
        assert response.status_code == 200
        assert json.loads(response.headers["HX-Trigger"])["toast"][0]["message"] == "回复已记录。"
        body_html = parse(response)
        assert body_html.one("form", cls="reply-form") is not None  # still there after the first reply
        assert [li.get("data-reply-id") is not None for li in body_html.find_all("li", cls="reply-item")] == [True] * n
    assert "首次回复" in body_html.one("ol", id="reply-list").text
    timeline = body_html.one("ol", id="ticket-timeline").text
    assert "第一次回复" in timeline and "对外回复" in timeline and "渠道：品牌系统" in timeline


def test_reply_without_js_redirects_and_errors_keep_the_text(client, auth, users, ticket_world):
    t = ticket_world["mine"]
    auth.login(users["agent"])
    response = client.post(f"/tickets/{t.id}/replies", data={
        "reply-version": t.version, "reply-channel": "phone", "reply-body": "已致电", "reply-set_status": "awaiting_feedback"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/tickets/{t.id}")
    db.session.refresh(t)
    assert t.status == "awaiting_feedback"
    response = client.htmx("post", f"/tickets/{t.id}/replies", data={
        "reply-version": t.version, "reply-channel": "phone", "reply-body": "取件码【待填写：取件码】"})
    assert response.status_code == 200
    page = parse(response)
    assert "请先补全标有【待填写】的内容：取件码。" in page.one("form", cls="reply-form").text
    assert page.one("textarea", id="reply-body").text == "取件码【待填写：取件码】"
    response = client.htmx("post", f"/tickets/{t.id}/replies", data={
        "reply-version": t.version - 1, "reply-channel": "phone", "reply-body": "过期"})
    assert response.status_code == 409


def test_closed_ticket_has_no_reply_box_but_lists_replies(client, auth, users, ticket_world):
    t = ticket_world["mine"]
    service.record_reply(users["agent"], t.id, version=t.version, channel="sms", body="短信已发")
    t = db.session.get(Ticket, t.id)
    t.status = "closed"
    service.refresh_derived(t)
    db.session.commit()
    auth.login(users["lead"])
    page = parse(client.get(f"/tickets/{t.id}"))
    assert page.find("form", cls="reply-form") is None
    assert "短信已发" in page.one("ol", id="reply-list").text


def test_detail_page_fixes(client, auth, users, ticket_world):
    t = ticket_world["mine"]
    auth.login(users["lead"])
    page = parse(client.get(f"/tickets/{t.id}"))
    first = page.one("select", id="assign-assignee_id").find_all("option")[0]
    assert first.get("value") == "" and first.text == "请选择"
    response = client.htmx("post", f"/tickets/{t.id}/assign", data={"assign-version": t.version, "assign-assignee_id": ""})
    assert "请选择接手工单的人。" in parse(response).one("section", id="act-assign").text
    assert "客服承担：全额由客服承担" in page.one("section", id="act-fine").text
    if t.deadline_rule:
        assert "分钟内回复" not in page.text


def test_waybill_search_finds_closed_tickets_and_says_so(client, auth, users, ticket_world):
    t = ticket_world["mine"]
    t.status = "closed"
    service.refresh_derived(t)
    db.session.commit()
    auth.login(users["agent"])
    page = parse(client.get(f"/tickets/?q={t.waybill_no}"))
    assert page.find("tr", id=f"ticket-{t.id}") is not None
    assert f"{t.waybill_no} 已结案" in page.one("div", cls="waybill-closed").text
    page = parse(client.get(f"/tickets/?q={t.waybill_no[:8]}"))  # a prefix too
    assert page.find("tr", id=f"ticket-{t.id}") is not None
    page = parse(client.get("/tickets/"))  # the default view still hides closed tickets
    assert page.find("tr", id=f"ticket-{t.id}") is None


# -- canned replies by reason (settings) ---------------------------------------

def test_canned_reply_for_one_reason(client, auth, users):
    from kdcs.models import CannedReply
    from kdcs.tickets.settings import service as settings

    damaged = f.make_reason("problem", "破损")
    late = f.make_reason("arbitration", "延误")
    db.session.commit()
    reply = settings.create_canned(users["admin"], category=None, title="破损致歉", body="{客户称呼}您好", reason_id=damaged.id)
    assert (reply.category, reply.reason_id) == ("problem", damaged.id)  # a reason's reply is of its category
    with pytest.raises(ValidationError) as err:
        settings.create_canned(users["admin"], category="problem", title="错配", body="x", reason_id=late.id)
    assert "reason_id" in err.value.errors
    settings.update_canned(users["admin"], reply, version=reply.version, category="problem", title="破损致歉",
                           body="{客户称呼}您好", reason_id=None)
    assert db.session.get(CannedReply, reply.id).reason_id is None
    auth.login(users["admin"])
    page = parse(client.get("/tickets/canned-replies"))
    labels_ = [o.text for o in page.one("select", id="canned-new-reason_id").find_all("option")] if page.find(
        "select", id="canned-new-reason_id") else [o.text for o in page.find_all("select", name="reason_id")[0].find_all("option")]
    assert labels_[0] == "所有原因" and "问题件 · 破损" in labels_ and "仲裁 · 延误" in labels_


def test_queue_reason_filter_is_grouped_by_category_without_duplicates(client, auth, users):
    from kdcs.tickets.reference import seed_reference_data

    seed_reference_data(calendar=False)
    auth.login(users["admin"])
    select_ = parse(client.get("/tickets/?scope=all")).one("select", id="f-reason")
    groups = select_.find_all("optgroup")
    assert [g.get("label") for g in groups] == ["问题件", "留言", "工单", "仲裁"][:len(groups)] and len(groups) >= 3
    for group in groups:
        names = [o.text for o in group.find_all("option")]
        assert len(names) == len(set(names)), group.get("label")
    narrowed = parse(client.get("/tickets/?scope=all&category=arbitration")).one("select", id="f-reason")
    assert [g.get("label") for g in narrowed.find_all("optgroup")] == ["仲裁"]
    assert sorted(o.text for o in narrowed.find_all("option")[1:]) == sorted(["延误", "遗失", "破损", "虚假签收", "内件短少", "错派"])
