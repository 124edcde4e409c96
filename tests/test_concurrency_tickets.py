"""No wrong answers for ticket writes under concurrency (issue 13).

* A write that committed is answered as a success, whatever happens to the ticket in the next
  millisecond: a lead's reassignment landing between the commit and the response (simulated
  by running it right after the write's commit, in another thread and session) gives "已保存；
  该工单已转给 X，不在你的队列中", never 404 / 记录不存在.
* A double submit (double click, retry after a timeout) stores notes, replies, fines and
  evidence once: the form's idempotency key answers the first result; another user's key is
  just a new key for them; two submits of one form at the same moment through a real server
  store one row.
"""

from __future__ import annotations

import io
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kdcs.extensions import db
from kdcs.models import EventKind, Ticket, TicketEvent, TicketReply, User, utcnow
from kdcs.models.idempotency import IdempotencyKey
from kdcs.models.ticket import TicketAttachment
from kdcs.tickets import idempotency, service
from kdcs.tickets import tasks as ticket_tasks
from tests import factories
from tests.html import parse
from tests.live import Browser, live_server, run_together

MOVED = "已保存；该工单已转给 李娜，不在你的队列中。"


@pytest.fixture
def borrowed(ticket_world):
    """The teammate's ticket, assigned to agent_a for now: reassigning it back to the teammate (李娜)
    takes it out of agent_a's queue (agent_a is not the primary agent of its outlet)."""
    ticket = ticket_world.team_ticket
    ticket.assignee_id = ticket_world.agent.id
    db.session.commit()
    return ticket


def _toasts(response) -> list[str]:
    return [t["message"] for t in json.loads(response.headers.get("HX-Trigger", "{}")).get("toast", [])]


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _notes(ticket_id: int) -> int:
    return _count(TicketEvent, TicketEvent.ticket_id == ticket_id, TicketEvent.kind == EventKind.NOTE)


@pytest.fixture
def reassigned_after_commit(app, monkeypatch, ticket_world):
    """Arm: the next commit of a ticket write is followed, before the response is built, by the
    lead reassigning ``ticket_id`` to the teammate in another request (thread, session)."""
    armed: dict = {}
    original = service._commit

    def lead_reassigns(ticket_id: int) -> None:
        with app.app_context():
            lead = db.session.get(User, ticket_world.lead.id)
            service.assign(lead, ticket_id, ticket_world.teammate.id, version=None, note="调整分工")

    def commit_then_race() -> None:
        original()
        ticket_id = armed.pop("ticket_id", None)
        if ticket_id is not None:
            racer = threading.Thread(target=lead_reassigns, args=(ticket_id,))
            racer.start()
            racer.join()

    monkeypatch.setattr(service, "_commit", commit_then_race)

    def arm(ticket_id: int) -> None:
        armed["ticket_id"] = ticket_id
    return arm


def _write(kind: str, ticket: Ticket, key: str = "") -> tuple[str, dict]:
    """URL and form data of one detail-page write."""
    if kind == "note":
        return f"/tickets/{ticket.id}/note", {"note-body": "客户来电催件", "note-key": key}
    if kind == "status":
        return f"/tickets/{ticket.id}/status", {"status-version": ticket.version, "status-to_status": "in_progress"}
    if kind == "reply":
        return f"/tickets/{ticket.id}/replies", {
            "reply-version": ticket.version, "reply-channel": "phone", "reply-body": "已联系网点派送",
            "reply-set_status": "", "reply-key": key}
    if kind == "fine":
        return f"/tickets/{ticket.id}/fine", {"fine-version": ticket.version, "fine-amount": "50",
                                              "fine-bearer": "company", "fine-agent_share": "0", "fine-key": key}
    raise AssertionError(kind)


SAVED_TOASTS = {"note": "备注已添加。", "status": "状态已改为", "reply": "回复已记录。"}


def _stored(kind: str, ticket_id: int) -> int:
    if kind == "note":
        return _notes(ticket_id)
    if kind == "reply":
        return _count(TicketReply, TicketReply.ticket_id == ticket_id)
    if kind == "fine":
        return _count(TicketEvent, TicketEvent.ticket_id == ticket_id, TicketEvent.kind == EventKind.FINE)
    if kind == "status":
        return _count(TicketEvent, TicketEvent.ticket_id == ticket_id, TicketEvent.kind == EventKind.STATUS)
    raise AssertionError(kind)


# --------------------------------------------------------------------------- saved, then reassigned


@pytest.mark.parametrize("kind", ["note", "status", "reply"])
def test_a_write_reassigned_away_right_after_its_commit_is_answered_as_saved(
        client, auth, ticket_world, borrowed, reassigned_after_commit, kind):
    auth.login(ticket_world.agent)
    assert client.get(f"/tickets/{borrowed.id}").status_code == 200
    url, data = _write(kind, borrowed, key=idempotency.new_key())
    reassigned_after_commit(borrowed.id)
    response = client.htmx("post", url, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:300]
    assert "记录不存在" not in html
    assert _toasts(response) == [MOVED]
    page = parse(response)
    assert SAVED_TOASTS[kind] in page.one("div", cls="ticket-moved").text and MOVED in html
    assert 'id="presence"' in html and 'hx-swap-oob="true"' in html  # the gone ticket's presence poll stops
    assert "tickets-changed" in response.headers["HX-Trigger"]
    assert _stored(kind, borrowed.id) == 1
    assert db.session.get(Ticket, borrowed.id).assignee_id == ticket_world.teammate.id  # the race did happen
    assert service.get_visible_ticket(db.session.get(User, ticket_world.agent.id), borrowed.id) is None


def test_without_javascript_the_saved_note_goes_to_the_queue_with_the_notice(
        client, auth, ticket_world, borrowed, reassigned_after_commit):
    auth.login(ticket_world.agent)
    url, data = _write("note", borrowed, key=idempotency.new_key())
    reassigned_after_commit(borrowed.id)
    response = client.post(url, data=data)
    assert response.status_code == 303 and response.headers["Location"].endswith("/tickets/")
    queue = client.get("/tickets/").get_data(as_text=True)
    assert "备注已添加。" in queue and MOVED in queue
    assert _notes(borrowed.id) == 1


def test_an_upload_reassigned_away_right_after_its_commit_is_answered_as_saved(
        client, auth, ticket_world, borrowed, monkeypatch, app):
    from tests.test_ticket_attachments import png_bytes

    def lead_reassigns() -> None:
        with app.app_context():
            lead = db.session.get(User, ticket_world.lead.id)
            service.assign(lead, borrowed.id, ticket_world.teammate.id, version=None)

    from kdcs.tickets.attachments import service as attachments

    real_upload = attachments.upload

    def upload_then_race(*args, **kwargs):
        result = real_upload(*args, **kwargs)
        racer = threading.Thread(target=lead_reassigns)
        racer.start()
        racer.join()
        return result

    monkeypatch.setattr(attachments, "upload", upload_then_race)
    auth.login(ticket_world.agent)
    response = client.htmx("post", f"/tickets/{borrowed.id}/attachments", data={
        "key": idempotency.new_key(), "files": (io.BytesIO(png_bytes()), "现场.png")},
        content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert _toasts(response) == [MOVED] and "已添加 1 个文件。" in response.get_data(as_text=True)
    assert _count(TicketAttachment, TicketAttachment.ticket_id == borrowed.id) == 1


def test_still_in_scope_the_answer_is_the_refreshed_ticket(client, auth, ticket_world):
    t = ticket_world.mine
    auth.login(ticket_world.agent)
    url, data = _write("note", t, key=idempotency.new_key())
    response = client.htmx("post", url, data=data)
    assert response.status_code == 200 and _toasts(response) == ["备注已添加。"]
    assert parse(response).one("ol", id="ticket-timeline") is not None


# --------------------------------------------------------------------------- double submits


@pytest.mark.parametrize("kind", ["note", "reply", "fine"])
def test_the_same_key_twice_stores_once_and_answers_success_both_times(client, auth, ticket_world, kind):
    t = ticket_world.mine
    auth.login(ticket_world.lead if kind == "fine" else ticket_world.agent)
    url, data = _write(kind, t, key=idempotency.new_key())
    first = client.htmx("post", url, data=data)
    again = client.htmx("post", url, data=data)  # the same form again: a double click or a retry
    assert first.status_code == again.status_code == 200, again.get_data(as_text=True)[:300]
    assert _toasts(first) == _toasts(again) and len(_toasts(first)) == 1
    assert "conflict" not in again.get_data(as_text=True)
    assert _stored(kind, t.id) == 1
    assert _count(IdempotencyKey) == 1


@pytest.mark.parametrize("kind", ["note", "reply", "fine"])
def test_different_keys_store_two(client, auth, ticket_world, kind):
    t = ticket_world.mine
    auth.login(ticket_world.lead if kind == "fine" else ticket_world.agent)
    for _ in range(2):
        db.session.expire_all()
        url, data = _write(kind, db.session.get(Ticket, t.id), key=idempotency.new_key())
        assert client.htmx("post", url, data=data).status_code == 200
    assert _stored(kind, t.id) == 2


def test_a_key_without_a_key_field_still_saves_each_time(client, auth, ticket_world):
    t = ticket_world.mine
    auth.login(ticket_world.agent)
    for _ in range(2):
        assert client.htmx("post", f"/tickets/{t.id}/note", data={"note-body": "无钥匙"}).status_code == 200
    assert _notes(t.id) == 2


def test_another_users_key_is_not_honoured_as_theirs(app, ticket_world):
    t = ticket_world.mine
    key = idempotency.new_key()
    agent_note = service.add_note(ticket_world.agent, t.id, "组员的备注", idempotency_key=key)
    lead_note = service.add_note(ticket_world.lead, t.id, "组长的备注", idempotency_key=key)
    assert lead_note.id != agent_note.id and lead_note.actor_id == ticket_world.lead.id
    assert lead_note.body == "组长的备注"
    assert _notes(t.id) == 2
    # A key of one action is not an answer for another (a reply form's key sent with a note).
    reply = service.record_reply(ticket_world.agent, t.id, version=None, channel="phone", body="回复",
                                 idempotency_key=key)
    assert isinstance(reply, TicketReply) and _count(TicketReply) == 1


def test_an_upload_submitted_twice_is_stored_once(client, auth, ticket_world):
    from tests.test_ticket_attachments import png_bytes

    t = ticket_world.mine
    auth.login(ticket_world.agent)
    key = idempotency.new_key()
    answers = []
    for _ in range(2):
        response = client.htmx("post", f"/tickets/{t.id}/attachments", data={
            "key": key, "files": [(io.BytesIO(png_bytes()), "a.png"), (io.BytesIO(png_bytes((1, 2, 3))), "b.png")]},
            content_type="multipart/form-data")
        assert response.status_code == 200
        answers.append(_toasts(response))
    assert answers[0] == answers[1] == ["已添加 2 个文件。"]
    assert _count(TicketAttachment, TicketAttachment.ticket_id == t.id) == 2


def test_a_retry_after_the_ticket_moved_away_is_the_first_success_not_a_404(
        client, auth, ticket_world, borrowed):
    auth.login(ticket_world.agent)
    url, data = _write("note", borrowed, key=idempotency.new_key())
    assert client.htmx("post", url, data=data).status_code == 200
    service.assign(ticket_world.lead, borrowed.id, ticket_world.teammate.id, version=None)
    retry = client.htmx("post", url, data=data)  # the answer was lost (timeout): the browser resends
    assert retry.status_code == 200 and _toasts(retry) == [MOVED]
    assert _notes(borrowed.id) == 1
    other = client.htmx("post", url, data=dict(data, **{"note-key": idempotency.new_key()}))
    assert other.status_code == 404  # a new note on a ticket no longer in scope is refused


def test_the_detail_forms_carry_keys_and_disable_their_button_in_flight(client, auth, ticket_world):
    t = ticket_world.mine
    auth.login(ticket_world.lead)
    page = parse(client.get(f"/tickets/{t.id}"))
    keys = [page.one("input", id=f"{name}-key").get("value") for name in ("note", "reply", "fine")]
    assert all(len(k) == 32 for k in keys) and len(set(keys)) == 3
    again = parse(client.get(f"/tickets/{t.id}"))
    assert again.one("input", id="note-key").get("value") not in keys  # a new key per rendered form
    forms = [f for f in page.find_all("form") if (f.get("hx-post") or "").startswith(f"/tickets/{t.id}/")]
    assert forms and all(f.get("hx-disabled-elt") == "find button[type=submit]" for f in forms)
    box = parse(client.htmx("get", f"/tickets/{t.id}/attachments"))
    upload = box.one("form", id="evidence-upload")
    assert upload.get("hx-disabled-elt") == "find button[type=submit]" and len(upload.one("input", id="key").get("value")) == 32


def test_two_submits_of_one_form_at_the_same_moment_store_one_note(app, ticket_world):
    ticket_id = ticket_world.mine.id
    key = idempotency.new_key()
    with live_server(app) as address:
        tabs = [Browser(address) for _ in range(4)]  # one browser resending: each has the same session
        assert tabs[0].login("agent_a", factories.PASSWORD)[0] == 303
        for tab in tabs[1:]:
            tab.cookies = dict(tabs[0].cookies)
        answers = run_together(4, lambda i: tabs[i].request(
            "POST", f"/tickets/{ticket_id}/note", {"note-body": "同一次提交", "note-key": key},
            headers={"HX-Request": "true"}))
    statuses = [a if isinstance(a, Exception) else a[0] for a in answers]
    assert statuses == [200] * 4
    assert _notes(ticket_id) == 1 and _count(IdempotencyKey) == 1


# --------------------------------------------------------------------------- purge


def test_old_keys_are_purged_idempotently(ticket_world):
    t = ticket_world.mine
    service.add_note(ticket_world.agent, t.id, "旧的", idempotency_key="old-key")
    service.add_note(ticket_world.agent, t.id, "新的", idempotency_key="new-key")
    old = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "old-key"))
    old.created_at = utcnow() - timedelta(days=2)
    db.session.commit()
    assert ticket_tasks.purge_idempotency_keys.call_local() == 1
    assert ticket_tasks.purge_idempotency_keys.call_local() == 0
    assert [k.key for k in db.session.scalars(select(IdempotencyKey))] == ["new-key"]
    assert _notes(t.id) == 2  # the writes stay; only their keys go


def test_notes_racing_real_reassignments_are_never_answered_wrongly(app, ticket_world, borrowed):
    """A real race through a live server: the agent writes notes while the lead hands the ticket
    back and forth. Every note is answered either 200 (stored exactly once: the ticket, or the
    'moved' notice) or 404 (it was not in the agent's queue when written: nothing stored)."""
    ticket_id, lead_id = borrowed.id, ticket_world.lead.id
    agents = [ticket_world.agent.id, ticket_world.teammate.id]
    stop = threading.Event()

    def lead_keeps_reassigning() -> int:
        moves = 0
        with app.app_context():
            while not stop.is_set() and moves < 400:
                lead = db.session.get(User, lead_id)
                ticket = db.session.get(Ticket, ticket_id)
                target = agents[1] if ticket.assignee_id == agents[0] else agents[0]
                service.assign(lead, ticket_id, target, version=None)
                db.session.expire_all()
                moves += 1
                stop.wait(0.005)
        return moves

    answers: dict[str, int | str] = {}
    with live_server(app) as address:
        agent = Browser(address)
        assert agent.login("agent_a", factories.PASSWORD)[0] == 303
        racer = threading.Thread(target=lead_keeps_reassigning)
        racer.start()
        try:
            for i in range(15):
                body = f"并发备注{i}"
                status, html, _headers = agent.request("POST", f"/tickets/{ticket_id}/note", {
                    "note-body": body, "note-key": idempotency.new_key()}, headers={"HX-Request": "true"})
                answers[body] = status
                assert status in (200, 404), (status, html[:300])
                if status == 200:
                    assert "ticket-moved" in html or "ticket-timeline" in html
                    answers[body] = "moved" if "ticket-moved" in html else 200
        finally:
            stop.set()
            racer.join()
    stored = dict(db.session.execute(
        select(TicketEvent.body, func.count()).where(TicketEvent.ticket_id == ticket_id,
                                                     TicketEvent.kind == EventKind.NOTE)
        .group_by(TicketEvent.body)).all())
    for body, status in answers.items():
        assert stored.get(body, 0) == (0 if status == 404 else 1), (body, status)
