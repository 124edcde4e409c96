"""跟进 (kdcs/tickets/followups): the rules, who may record and close what, the reminder, the pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kdcs.extensions import db
from kdcs.filters import SHANGHAI
from kdcs.models import AuditLog, Notification, TicketEvent, TicketFollowUp, utcnow
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import ValidationError
from kdcs.tickets import queue
from kdcs.tickets.followups import rules, service
from kdcs.tickets.service import TicketNotFound
from tests import factories
from tests.html import parse

NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # 14:00 Beijing


# --------------------------------------------------------------------------- rules (no database)

@pytest.mark.parametrize("minutes, ok", [(-6, False), (-4, True), (0, True), (90, True),
                                         (30 * 24 * 60, True), (30 * 24 * 60 + 1, False)])
def test_due_time_rule(app, minutes, ok):
    with app.test_request_context():
        error = rules.due_error(NOW + timedelta(minutes=minutes), NOW)
        assert (error is None) == ok
        assert rules.due_error(None, NOW) == "请填写约定的时间。"
        assert "已过" in rules.due_error(NOW - timedelta(hours=1), NOW)
        assert "30 天" in rules.due_error(NOW + timedelta(days=31), NOW)


def test_promise_rule(app):
    with app.test_request_context():
        assert rules.promise_error("回电") is None
        assert "至少 2 个字" in rules.promise_error("回")
        assert rules.promise_error("字" * 300) is None
        assert "300" in rules.promise_error("字" * 301)


def test_urgency():
    assert rules.urgency(NOW - timedelta(seconds=1), NOW) == "overdue"
    assert rules.urgency(NOW, NOW) == "overdue"
    assert rules.urgency(NOW + timedelta(minutes=60), NOW) == "soon"
    assert rules.urgency(NOW + timedelta(minutes=61), NOW) == "later"


def test_the_reply_forms_presets_round_up_to_five_minutes_and_tomorrow_is_beijing_9():
    assert rules.preset_due("30", NOW) == NOW + timedelta(minutes=30)
    assert rules.preset_due("30", NOW + timedelta(minutes=1, seconds=5)) == NOW + timedelta(minutes=35)
    assert rules.preset_due("60", NOW + timedelta(minutes=4, seconds=59)) == NOW + timedelta(minutes=65)
    assert rules.preset_due("120", NOW + timedelta(seconds=1)) == NOW + timedelta(minutes=125)
    assert rules.preset_due("tomorrow", NOW) == datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # 12-04 09:00 Beijing
    late_evening = datetime(2026, 12, 3, 16, 30, tzinfo=UTC)  # 12-04 00:30 Beijing: tomorrow is the 5th
    assert rules.preset_due("tomorrow", late_evening) == datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    for unknown in ("", "45", "-30", "tomorrow ", "９０"):
        assert rules.preset_due(unknown, NOW) is None


def test_a_reply_becomes_a_promise_on_one_line_to_whom_it_went():
    assert rules.promise_from_reply("  您好，\n30 分钟内\t给您回电  ") == "您好， 30 分钟内 给您回电"
    long = rules.promise_from_reply("字" * 400)
    assert len(long) == rules.PROMISE_MAX and long.endswith("…")
    assert [rules.party_for_channel(c) for c in ("phone", "sms", "wechat", "brand_system", "outlet", "other", "x")] \
        == ["customer", "customer", "customer", "brand", "outlet", "other", "customer"]


def test_when_text(app):
    with app.test_request_context():
        assert service.when_text(NOW + timedelta(minutes=35), NOW) == "还有 35 分钟"
        assert service.when_text(NOW - timedelta(minutes=125), NOW) == "已超时 2 小时 5 分钟"


# --------------------------------------------------------------------------- the service

def _add(w, user=None, ticket=None, minutes=90, promise="回电客户，告知派送时间", party="customer", key=None):
    return service.add(user or w.agent, (ticket or w.mine).id, party=party, promise=promise,
                       due_at=utcnow() + timedelta(minutes=minutes), idempotency_key=key)


def test_an_agent_records_a_promise_on_their_ticket(ticket_world):
    w = ticket_world
    follow_up = _add(w, promise="  回电客户，\n告知派送时间 ")
    assert (follow_up.state, follow_up.party, follow_up.promise, follow_up.created_by_id) == (
        "open", "customer", "回电客户， 告知派送时间", w.agent.id)
    event = db.session.scalars(db.select(TicketEvent).where(TicketEvent.kind == "follow_up")).one()
    assert (event.ticket_id, event.from_value, event.to_value) == (w.mine.id, "customer", "open")
    assert "回电客户" in event.body
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "ticket.follow_up")) is not None
    from kdcs.auditing import action_label

    assert [action_label(a) for a in ("ticket.follow_up", "ticket.follow_up.done", "ticket.follow_up.cancelled")] == [
        "记录跟进", "跟进完成", "跟进取消"]


def test_every_problem_is_said_at_once_and_nothing_is_stored(ticket_world):
    w = ticket_world
    with pytest.raises(ValidationError) as caught:
        service.add(w.agent, w.mine.id, party="boss", promise="回", due_at=utcnow() - timedelta(hours=2))
    assert set(caught.value.errors) == {"party", "promise", "due_at"}
    with pytest.raises(ValidationError) as caught:
        service.add(w.agent, w.mine.id, party="customer", promise="回电", due_at=None)
    assert set(caught.value.errors) == {"due_at"}
    assert db.session.scalar(db.select(db.func.count()).select_from(TicketFollowUp)) == 0


def test_only_on_a_ticket_the_user_may_work(ticket_world):
    w = ticket_world
    with pytest.raises(TicketNotFound):
        _add(w, ticket=w.far)  # another team's ticket
    with pytest.raises(TicketNotFound):
        _add(w, ticket=w.team_ticket)  # a teammate's: agents see their own
    with pytest.raises(PermissionDenied):
        _add(w, user=w.trainer)
    assert _add(w, user=w.lead, ticket=w.team_ticket).created_by_id == w.lead.id
    assert _add(w, user=w.admin, ticket=w.far).created_by_id == w.admin.id


def test_at_most_five_open_on_a_ticket(ticket_world):
    w = ticket_world
    made = [_add(w, minutes=30 + n) for n in range(rules.MAX_OPEN_PER_TICKET)]
    with pytest.raises(ValidationError) as caught:
        _add(w)
    assert "5 条待跟进" in caught.value.errors["promise"]
    service.close(w.agent, made[0].id, done=True)
    assert _add(w).is_open  # a closed one frees its place


def test_a_double_submit_stores_one(ticket_world):
    w = ticket_world
    first = _add(w, key="k-follow-1")
    again = _add(w, key="k-follow-1", promise="别的内容")
    assert again.id == first.id
    assert db.session.scalar(db.select(db.func.count()).select_from(TicketFollowUp)) == 1
    assert _add(w, key="k-follow-2").id != first.id


def test_closing_done_then_again(ticket_world):
    w = ticket_world
    follow_up = _add(w)
    closed, changed = service.close(w.agent, follow_up.id, done=True, outcome=" 已回电，客户同意明天派送 ")
    assert changed and (closed.state, closed.outcome, closed.closed_by_id) == ("done", "已回电，客户同意明天派送", w.agent.id)
    events = db.session.scalars(db.select(TicketEvent).where(TicketEvent.kind == "follow_up")
                                .order_by(TicketEvent.id)).all()
    assert [e.to_value for e in events] == ["open", "done"] and "→ 已回电" in events[-1].body
    again, changed = service.close(w.lead, follow_up.id, done=False)  # a colleague a moment later
    assert not changed and again.state == "done"
    assert db.session.scalar(db.select(db.func.count()).select_from(TicketEvent)
                             .where(TicketEvent.kind == "follow_up")) == 2


def test_cancel_and_scope_of_closing(ticket_world):
    w = ticket_world
    far = _add(w, user=w.admin, ticket=w.far)
    with pytest.raises(service.FollowUpNotFound):
        service.close(w.agent, far.id, done=True)
    with pytest.raises(ValidationError):
        service.close(w.admin, far.id, done=True, outcome="字" * 301)
    closed, changed = service.close(w.admin, far.id, done=False)
    assert changed and closed.state == "cancelled"


def test_board_groups_and_scopes(ticket_world):
    w = ticket_world
    now = utcnow()
    overdue = factories.make_follow_up(w.mine, w.agent, minutes=-30)
    # later today or tomorrow in Beijing, whatever the hour the test runs at
    end_of_today = now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    later = factories.make_follow_up(w.mine, w.agent, minutes=int((end_of_today - now).total_seconds() // 60) + 60)
    mate = factories.make_follow_up(w.team_ticket, w.teammate, minutes=-5)
    factories.make_follow_up(w.far, w.stranger, minutes=-5)
    factories.make_follow_up(w.mine, w.agent, minutes=-60, state="done")
    mine = service.board(w.agent, "team", now)  # an agent asking for the team gets their own
    assert mine.scope == "mine"
    assert [f.id for f in mine.overdue] == [overdue.id] and [f.id for f in mine.later] == [later.id]
    team = service.board(w.lead, "team", now)
    assert {f.id for f in team.overdue} == {overdue.id, mate.id}
    assert service.board(w.lead, "mine", now).total == 0
    assert service.scopes_for(w.agent) == ("mine",) and service.scopes_for(w.lead) == ("mine", "team")
    figures = service.home_figures(w.lead, now)
    assert (figures.overdue, figures.scope) == (2, "team") and figures.upcoming[0].id in {overdue.id, mate.id}


def test_reminder_goes_once_to_whoever_serves_the_ticket(ticket_world):
    w = ticket_world
    due = factories.make_follow_up(w.mine, w.agent, minutes=-1, promise="回电客户")
    factories.make_follow_up(w.mine, w.agent, minutes=30)  # not due yet
    factories.make_follow_up(w.mine, w.agent, minutes=-10, state="cancelled")
    assert service.remind_due() == {"reminded": 1, "escalated": 0}
    notice = db.session.scalars(db.select(Notification).where(Notification.kind == "follow_up")).one()
    assert notice.user_id == w.agent.id and "75121488724296" in notice.title and "回电客户" in notice.body
    assert notice.link == f"/tickets/{w.mine.id}#act-follow-up"
    assert service.remind_due() == {"reminded": 0, "escalated": 0}  # idempotent: stamped
    db.session.refresh(due)
    assert due.reminded_at is not None


def test_an_hour_late_the_lead_is_told_once(ticket_world):
    w = ticket_world
    late = factories.make_follow_up(w.mine, w.agent, minutes=-61, promise="回电客户说明改派")
    factories.make_follow_up(w.mine, w.agent, minutes=-59)  # not an hour yet
    factories.make_follow_up(w.mine, w.agent, minutes=-26 * 60)  # a day late already: on the lists, not news
    factories.make_follow_up(w.mine, w.agent, minutes=-90, state="done")
    assert service.remind_due() == {"reminded": 3, "escalated": 1}
    told = db.session.scalars(db.select(Notification).where(Notification.user_id == w.lead.id)).one()
    assert told.title == "跟进超时未完成：75121488724296"
    assert "张敏" in told.body or w.agent.display_name in told.body
    assert "回电客户说明改派" in told.body and "1 小时 1 分钟" in told.body
    assert service.remind_due() == {"reminded": 0, "escalated": 0}
    db.session.refresh(late)
    assert late.escalated_at is not None


def test_reminder_goes_to_the_substitute_while_the_agent_is_away(ticket_world):
    from tests.leave_data import make_leave

    w = ticket_world
    today = datetime.now(SHANGHAI).date()
    make_leave(w.agent, [w.own], w.teammate, today - timedelta(days=1), today + timedelta(days=1))
    factories.make_follow_up(w.mine, w.agent, minutes=-1)
    assert service.remind_due() == {"reminded": 1, "escalated": 0}
    assert db.session.scalar(db.select(Notification.user_id).where(Notification.kind == "follow_up")) == w.teammate.id
    assert service.board(w.teammate, "mine").total == 1  # the substitute's 我的跟进 has it too


def test_the_task_is_periodic(app):
    from kdcs import tasks
    from kdcs.tickets.tasks import remind_follow_ups

    assert "kdcs.tickets.tasks.remind_follow_ups" in tasks.huey._registry._registry
    assert remind_follow_ups.s().validate_datetime(datetime(2026, 12, 3, 6, 17))  # every minute


def test_a_handover_starts_from_the_open_follow_ups(ticket_world):
    w = ticket_world
    factories.make_follow_up(w.mine, w.agent, minutes=90, party="outlet", promise="催网点确认称重照片")
    factories.make_follow_up(w.mine, w.agent, minutes=90, promise="已办完", state="done")
    text = service.promises_by_outlet(w.agent, [w.own.id, w.other.id])
    assert list(text) == [w.own.id]
    assert text[w.own.id].startswith("75121488724296 ") and "网点：催网点确认称重照片" in text[w.own.id]


# --------------------------------------------------------------------------- the pages

def _hx(client, url, data):
    return client.post(url, data=data, headers={"HX-Request": "true"})


def _toast(response) -> str:
    import json

    return json.loads(response.headers["HX-Trigger"])["toast"][0]["message"]


def test_ticket_page_card_add_and_close(ticket_world, client, auth):
    w = ticket_world
    auth.login(w.agent)
    page = client.get(f"/tickets/{w.mine.id}")
    card = parse(page).one("section", id="act-follow-up")
    assert "暂无待跟进事项" in card.text and "条待跟进：结案前" not in page.get_data(as_text=True)
    due = (utcnow() + timedelta(hours=2)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    response = _hx(client, f"/tickets/{w.mine.id}/follow-ups", {
        "follow_up-promise": "两小时内回电客户", "follow_up-party": "customer", "follow_up-due_at": due,
        "follow_up-key": "page-key-1"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "两小时内回电客户" in body and ("还有 1 小时 59 分钟" in body or "还有 2 小时" in body)
    assert 'hx-swap-oob="afterbegin:#ticket-timeline"' in body and "已记录跟进" in _toast(response)
    follow_up = db.session.scalars(db.select(TicketFollowUp)).one()
    status_box = parse(client.get(f"/tickets/{w.mine.id}")).one("section", id="act-status")
    assert "还有 1 条待跟进：结案前请先完成或取消。" in status_box.text
    response = _hx(client, f"/tickets/follow-ups/{follow_up.id}/done", {"outcome": "已回电", "origin": "ticket"})
    assert response.status_code == 200 and "跟进已完成" in _toast(response)
    assert "两小时内回电客户" in response.get_data(as_text=True)  # the timeline line (out of band)
    assert "暂无待跟进事项" in response.get_data(as_text=True)
    response = _hx(client, f"/tickets/follow-ups/{follow_up.id}/cancel", {"origin": "ticket"})
    assert "该跟进已结束（已完成）" in _toast(response)


def test_bad_input_is_explained_and_kept(ticket_world, client, auth):
    w = ticket_world
    auth.login(w.agent)
    sent = {"follow_up-promise": "记得回电", "follow_up-party": "customer", "follow_up-due_at": "2026-13-45T99:00"}
    fragment = _hx(client, f"/tickets/{w.mine.id}/follow-ups", sent)
    assert fragment.status_code == 200
    text = fragment.get_data(as_text=True)
    assert "请选择日期和时间。" in text and "记得回电" in text and "<html" not in text
    past = (utcnow() - timedelta(days=1)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    page = client.post(f"/tickets/{w.mine.id}/follow-ups", data={**sent, "follow_up-due_at": past})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<html" in text and "该时间已过" in text and "记得回电" in text
    assert db.session.scalar(db.select(db.func.count()).select_from(TicketFollowUp)) == 0


def test_without_javascript_the_add_redirects(ticket_world, client, auth):
    w = ticket_world
    auth.login(w.agent)
    due = (utcnow() + timedelta(hours=3)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/tickets/{w.mine.id}/follow-ups", data={
        "follow_up-promise": "回电客户", "follow_up-party": "courier", "follow_up-due_at": due})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/tickets/{w.mine.id}#act-follow-up")
    assert "已记录跟进" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_board_page_and_fragment(ticket_world, client, auth):
    w = ticket_world
    overdue = factories.make_follow_up(w.mine, w.agent, minutes=-30, promise="回电客户说明改派")
    factories.make_follow_up(w.team_ticket, w.teammate, minutes=-30, promise="队友的承诺")
    auth.login(w.lead)
    page = client.get("/tickets/follow-ups?scope=team")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "团队跟进" in text and "回电客户说明改派" in text and "队友的承诺" in text
    response = _hx(client, f"/tickets/follow-ups/{overdue.id}/done?scope=team", {"origin": "board"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in text
    assert "回电客户说明改派" not in text and "队友的承诺" in text
    auth.logout()
    auth.login(w.agent)
    text = client.get("/tickets/follow-ups?scope=team").get_data(as_text=True)
    assert "我的跟进" in text and "队友的承诺" not in text


def test_homes_show_the_follow_ups(ticket_world, client, auth):
    w = ticket_world
    factories.make_follow_up(w.mine, w.agent, minutes=-30, promise="回电客户说明改派")
    auth.login(w.agent)
    home = parse(client.get("/"))
    card = home.one("section", data_testid="home-follow-ups")
    assert card is not None and "回电客户说明改派" in card.text and "超时 1" in card.text
    auth.logout()
    auth.login(w.lead)
    assert "回电客户说明改派" in client.get("/").get_data(as_text=True)


def test_leave_form_prefills_pending_promises(ticket_world, client, auth):
    w = ticket_world
    factories.make_follow_up(w.mine, w.agent, minutes=90, promise="催网点确认称重照片")
    auth.login(w.agent)
    form = parse(client.get("/leave/new"))
    box = form.one("textarea", name=f"promises_{w.own.id}")
    assert box is not None and "催网点确认称重照片" in box.text


def test_the_queue_marks_rows_with_open_follow_ups(ticket_world, client, auth):
    w = ticket_world
    factories.make_follow_up(w.mine, w.agent, minutes=-10)
    factories.make_follow_up(w.mine, w.agent, minutes=300)
    auth.login(w.agent)
    fragment = client.get("/tickets/?scope=mine", headers={"HX-Request": "true"}).get_data(as_text=True)
    row = parse(fragment).one("tr", id=f"ticket-{w.mine.id}")
    mark = row.one("span", cls="follow-up-mark")
    assert "is-overdue" in mark.classes and mark.text.startswith("跟进 ") and "待跟进 2 条" in mark.get("title")


def test_follow_up_mark_texts():
    from kdcs.tickets.queue import _follow_up_mark

    now = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # 14:00 Beijing
    soon, today = now + timedelta(hours=1), date(2026, 12, 3)
    assert _follow_up_mark(None, now, soon, today) is None
    assert _follow_up_mark((now + timedelta(minutes=30), 1), now, soon, today) == ("14:30", " is-soon", 1)
    assert _follow_up_mark((now - timedelta(minutes=1), 2), now, soon, today) == ("13:59", " is-overdue", 2)
    assert _follow_up_mark((now + timedelta(hours=12), 1), now, soon, today) == ("12-04 02:00", "", 1)


def test_an_agents_prebuilt_list_reads_what_the_general_one_reads(ticket_world):
    """``_agent_mine_statement`` (one statement built once) and ``_list_statement`` (the scope built for
    the request) agree for an agent: what they hold, promised on their outlets, and cover (代班)."""
    from tests.leave_data import make_leave

    w = ticket_world
    today = datetime.now(SHANGHAI).date()
    make_leave(w.stranger, [w.other], w.agent, today - timedelta(days=1), today + timedelta(days=1))  # agent covers
    held_elsewhere = factories.make_ticket(w.team_outlet, reason=w.address, assignee=w.agent)
    on_own_by_other = factories.make_ticket(w.own, reason=w.address, assignee=w.teammate)
    made = [factories.make_follow_up(w.mine, w.agent, minutes=10),
            factories.make_follow_up(held_elsewhere, w.teammate, minutes=20),  # held by the agent
            factories.make_follow_up(on_own_by_other, w.agent, minutes=30),  # promised by them on their outlet
            factories.make_follow_up(on_own_by_other, w.teammate, minutes=40),  # not theirs
            factories.make_follow_up(w.far, w.stranger, minutes=50),  # covered
            factories.make_follow_up(w.team_ticket, w.teammate, minutes=60)]  # not theirs
    now = utcnow()
    general = db.session.execute(service._list_statement(w.agent, "mine", now)
                                 .order_by(TicketFollowUp.due_at, TicketFollowUp.id)).all()
    prebuilt = db.session.execute(service._agent_mine_statement(), {"user_id": w.agent.id, "at": now, "limit": 300}).all()
    assert [tuple(r) for r in prebuilt] == [tuple(r) for r in general]
    assert [r.id for r in prebuilt] == [made[0].id, made[1].id, made[2].id, made[4].id]


def test_a_leads_and_an_admins_prebuilt_board_reads_what_the_general_one_reads(ticket_world):
    """``_scoped_statement`` (the scope a condition on the follow-up's own ticket, built once per shape)
    and ``_list_statement`` (``ticket_id IN (visible tickets)``, built for the request) agree for a lead,
    team and mine (what they promised, hold, or cover: 代班), and for an admin."""
    from tests.leave_data import make_leave

    w = ticket_world
    today = datetime.now(SHANGHAI).date()
    make_leave(w.stranger, [w.other], w.lead, today - timedelta(days=1), today + timedelta(days=1))  # lead covers
    held_by_lead = factories.make_ticket(w.free, reason=w.address, assignee=w.lead)
    made = [factories.make_follow_up(w.mine, w.agent, minutes=10),  # the team's
            factories.make_follow_up(w.team_ticket, w.lead, minutes=20),  # the team's, promised by the lead
            factories.make_follow_up(w.far, w.stranger, minutes=30),  # covered by the lead
            factories.make_follow_up(held_by_lead, w.admin, minutes=40),  # held by the lead
            factories.make_follow_up(factories.make_ticket(w.free, reason=w.address), w.admin, minutes=50)]  # nobody's
    now = utcnow()
    expected = {("lead", "team"): [made[0], made[1], made[2], made[3]], ("lead", "mine"): [made[1], made[2], made[3]],
                ("admin", "team"): made, ("admin", "mine"): [made[3], made[4]]}  # the admin promised those
    for (who, scope), rows in expected.items():
        user = getattr(w, who)
        general = db.session.execute(service._list_statement(user, scope, now)
                                     .order_by(TicketFollowUp.due_at, TicketFollowUp.id)).all()
        key, condition, params = queue.visible_shape(user, now)
        prebuilt = db.session.execute(service._scoped_statement(key, condition, scope == "mine"),
                                      {**params, "limit": 300}).all()
        assert [tuple(r) for r in prebuilt] == [tuple(r) for r in general], (who, scope)
        assert [r.id for r in prebuilt] == [f.id for f in rows], (who, scope)
        assert [line.id for g in ("overdue", "today", "later")
                for line in getattr(service.board(user, scope, now), g)] == [f.id for f in rows], (who, scope)


def _reply(client, ticket, follow_up, body="已联系网点，30 分钟内给您回电", key=None, channel="phone"):
    db.session.refresh(ticket)
    return client.htmx("post", f"/tickets/{ticket.id}/replies", data={
        "reply-channel": channel, "reply-body": body, "reply-set_status": "", "reply-corrects_id": "0",
        "reply-follow_up": follow_up, "reply-version": ticket.version, "reply-key": key or "r" * 32})


def test_a_reply_with_a_follow_up_time_stores_both_once(client, auth, ticket_world):
    """跟进 on the reply form: the reply's text becomes a follow-up to whom it went, at the chosen time;
    a double submit stores each once; the toast and the answered 跟进 card say so."""
    from kdcs.models import TicketReply

    w = ticket_world
    auth.login(w.agent)
    before = utcnow()
    for _ in range(2):  # a double click: the same form key
        answer = _reply(client, w.mine, "30", key="k" * 32)
        assert answer.status_code == 200
    assert "回复已记录；跟进时间" in answer.headers["HX-Trigger"].encode().decode("unicode_escape")
    (follow_up,) = db.session.scalars(select(TicketFollowUp).where(TicketFollowUp.ticket_id == w.mine.id)).all()
    assert follow_up.promise == "已联系网点，30 分钟内给您回电" and follow_up.party == "customer"
    assert follow_up.created_by_id == w.agent.id and follow_up.state == "open"
    assert before + timedelta(minutes=30) <= follow_up.due_at <= utcnow() + timedelta(minutes=35)
    assert len(db.session.scalars(select(TicketReply).where(TicketReply.ticket_id == w.mine.id)).all()) == 1
    assert "已联系网点，30 分钟内给您回电" in parse(answer).one("section", id="act-follow-up").text
    # without a choice: a reply only
    assert _reply(client, w.mine, "", body="已为您催件", key="n" * 32).status_code == 200
    assert db.session.scalar(select(func.count(TicketFollowUp.id)).where(TicketFollowUp.ticket_id == w.mine.id)) == 1


def test_a_follow_up_that_cannot_be_made_stores_no_reply(client, auth, ticket_world):
    """An unknown choice, a one-character reply or a ticket with five open follow-ups is refused beside the
    跟进 choice, in Chinese, with the reply's text kept and nothing stored."""
    from kdcs.models import TicketReply

    w = ticket_world
    auth.login(w.agent)

    def replies():
        return db.session.scalar(select(func.count(TicketReply.id)).where(TicketReply.ticket_id == w.mine.id))

    answer = _reply(client, w.mine, "45")
    assert answer.status_code == 200 and "请从列表中选择跟进时间。" in answer.get_data(as_text=True)
    assert "已联系网点，30 分钟内给您回电" in parse(answer).one("textarea", id="reply-body").text
    assert "至少 2 个字" in _reply(client, w.mine, "60", body="好").get_data(as_text=True)
    for minutes in range(rules.MAX_OPEN_PER_TICKET):
        _add(w, minutes=60 + minutes)
    assert "已有 5 条" in _reply(client, w.mine, "tomorrow").get_data(as_text=True)
    assert replies() == 0


def test_a_reply_stays_saved_when_its_follow_up_cannot_be_made_a_moment_later(client, auth, ticket_world,
                                                                              monkeypatch):
    """Checked before the reply, the follow-up can still fail after it (a lead moved the ticket, a colleague
    filled its follow-ups): the reply is answered as saved, the toast says why there is no follow-up."""
    from kdcs.models import TicketReply
    from kdcs.tickets.service import TicketNotFound

    w = ticket_world
    auth.login(w.agent)

    def moved(*_args, **_kwargs):
        raise TicketNotFound()

    monkeypatch.setattr(service, "add_for_reply", moved)
    answer = _reply(client, w.mine, "60", key="m" * 32)
    assert answer.status_code == 200
    assert "跟进未建立：这张工单已不在您的队列中" in answer.headers["HX-Trigger"].encode().decode("unicode_escape")
    assert db.session.scalar(select(func.count(TicketReply.id)).where(TicketReply.ticket_id == w.mine.id)) == 1
    assert db.session.scalar(select(func.count(TicketFollowUp.id)).where(TicketFollowUp.ticket_id == w.mine.id)) == 0
