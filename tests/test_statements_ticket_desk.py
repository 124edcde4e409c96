"""How many SQL statements the ticket desk runs as its users meet it with a lot of data: the
queue (page and htmx fragment, tabs, filters, page 2), a ticket's page (timeline, replies and
corrections, attachments, evidence checklist, canned replies, SOP panel), the presence poll and
the bell, the ticket writes, the bulk actions and the agent's and lead's home. Each test counts
the second request (the first warms caches) with K rows of the growing thing (K = 2) and with 3K
(4 more): the two counts are equal (nothing is read once per row) and pinned."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models import User, utcnow
from kdcs.models.ticket import EvidenceItem, TicketAttachment, TicketEvent, TicketReply
from tests import factories
from tests.sql_statements import statements

HX = {"HX-Request": "true"}
_seq = itertools.count(1)


def _inserts_batched() -> bool:
    """PostgreSQL sends the new rows of one table in a flush as one INSERT (SQLAlchemy's
    "insertmanyvalues"); SQLite one INSERT a row: pins that count INSERTs differ by database."""
    return db.engine.dialect.name == "postgresql"


def _count(client, url: str, headers=None) -> tuple[int, str, str]:
    """(statements of the second request of ``url``, their text, the page's text)."""
    client.get(url, headers=headers or {})
    with statements() as seen:
        response = client.get(url, headers=headers or {})
    assert response.status_code == 200, (url, response.status_code)
    return len(seen), "\n\n".join(seen), response.get_data().decode("utf-8", "replace")


def _counts(client, auth, viewer, url: str | Callable[[], str], add: Callable[[int], None],
            headers=None) -> tuple[list[int], str, str]:
    """The page's statement counts with K rows, then 3K (``add(n)`` adds n rows), the last
    request's statements and the last page's text."""
    counted = []
    for added in (2, 4):
        add(added)
        auth.login(viewer)
        count, sql, body = _count(client, url() if callable(url) else url, headers)
        counted.append(count)
        auth.logout()
    return counted, sql, body


# --------------------------------------------------------------------------- a ticket's page


def _person(w, role="agent"):
    n = next(_seq)
    return factories.make_user(role, username=f"desk{n}", team=w.team, display_name=f"同事{n}号")


def _busy(w, ticket, reason_items=None):
    """``add(n)`` for a ticket's page: n events, replies with a correction each and attachments
    (uploaded by one person, removed by another), each by someone new."""
    def add(n):
        for _ in range(n):
            a, b = _person(w), _person(w, "lead")
            k = next(_seq)
            db.session.add(TicketEvent(ticket_id=ticket.id, actor_id=a.id, kind="note", body=f"备注{k}"))
            db.session.add(TicketEvent(ticket_id=ticket.id, actor_id=b.id, kind="status",
                                       from_value="pending", to_value="in_progress"))
            reply = TicketReply(ticket_id=ticket.id, channel="phone", body=f"回复{k}", sent_at=utcnow(),
                                recorded_by_id=a.id)
            db.session.add(reply)
            db.session.flush()
            db.session.add(TicketReply(ticket_id=ticket.id, channel="phone", body=f"更正{k}",
                                       sent_at=utcnow(), recorded_by_id=b.id, corrects_id=reply.id))
            item = reason_items[k % len(reason_items)] if reason_items else None
            for removed in (False, True):
                db.session.add(TicketAttachment(
                    ticket_id=ticket.id, stored_name=f"{k:064d}{int(removed)}.png"[-68:],
                    original_name=f"照片{k}.png", content_type="image/png", size=100, width=10, height=10,
                    evidence_item_id=item.id if item else None, uploaded_by_id=a.id,
                    removed_at=utcnow() if removed else None, removed_by_id=b.id if removed else None,
                    remove_reason="传错了" if removed else ""))
            db.session.commit()
    return add


def _items(reason, n=3):
    items = [EvidenceItem(reason_id=reason.id, name=f"照片{i}", sort_order=i) for i in range(n)]
    db.session.add_all(items)
    db.session.commit()
    return items


def _scenario(w, reason, n):
    """A published SOP scenario for ``reason`` (the ticket page's panel lists it)."""
    from kdcs.sop import service as sop

    scenario = sop.create_scenario(w.trainer, title=f"场景{n}", kind="claim", tags="", categories=[],
                                   reason_ids=[reason.id], script=f"您好，运单{{运单号}}已登记{n}。",
                                   steps=[{"text": "响应客户", "limit_minutes": 5}])
    first = sop.open_draft(scenario)
    sop.submit_for_review(w.trainer, first)
    sop.approve(w.admin, first)
    return scenario


def _page_world(w, ticket):
    """``add(n)``: a busy ticket, and n more canned replies and SOP scenarios for its reason, each
    used on the ticket (a timeline line naming its version) and a line naming a deleted version."""
    items = _items(w.address)
    busy = _busy(w, ticket, items)

    def add(n):
        busy(n)
        for _ in range(n):
            k = next(_seq)
            factories.make_canned("problem", f"模板{k}")
            db.session.add(factories.make_canned(None, f"通用模板{k}"))
            scenario = _scenario(w, w.address, k)
            add.scenarios.append(k)
            for version_id in (scenario.current_version_id, 900_000 + k):  # a version used, one deleted since
                db.session.add(TicketEvent(ticket_id=ticket.id, actor_id=_person(w).id, kind="sop",
                                           from_value="insert", to_value=str(version_id)))
            db.session.commit()
    add.scenarios = []
    return add


def test_ticket_page_statements(client, auth, ticket_world):
    """A ticket's page with many events, replies, corrections and attachments (uploaded and removed)
    by many people, canned replies, matching SOP scenarios and timeline lines naming SOP versions:
    the agent's page, the lead's page and its htmx body, the admin's page, the evidence box. The attachments come with who uploaded and
    removed each (one joined statement: it was two user lookups per attachment) and the versions
    the timeline names in one statement (it was one lookup per version)."""
    w = ticket_world
    add = _page_world(w, w.mine)
    url = f"/tickets/{w.mine.id}"
    counted, sql, body = _counts(client, auth, w.agent, url, add)
    assert counted == [15, 15], (counted, sql)  # + the 跟进 card
    names = {a.display_name for a in db.session.scalars(select(User).where(User.username.like("desk%")))}
    assert len(names) == 24 and all(name in body for name in names), body  # every author and remover named
    assert body.count("使用了一条已被删除的话术。") == 6, body  # the SOP lines: each version named
    assert all(f"查看并使用了话术《场景{k}》第 1 版" in body for k in add.scenarios), body
    counted, sql, _body = _counts(client, auth, w.lead, url, add)
    assert counted == [16, 16], (counted, sql)  # + the 质检 links beside the replies
    counted, sql, lead_body = _counts(client, auth, w.lead, url, add, HX)
    assert counted == [14, 14], (counted, sql)
    from kdcs.sop.panel import MAX_SCENARIOS

    assert lead_body.count('class="sop-item-title"') == min(MAX_SCENARIOS, len(add.scenarios)), lead_body  # every matching SOP scenario offered
    counted, sql, _body = _counts(client, auth, w.admin, url, add)  # whom it may go to: every team's
    assert counted == [18, 18], (counted, sql)  # + the 质检 links
    counted, sql, box = _counts(client, auth, w.agent, f"/tickets/{w.mine.id}/attachments", add, HX)
    assert counted == [5, 5], (counted, sql)
    people = select(User.display_name).where(User.id.in_(
        select(TicketAttachment.uploaded_by_id).union(select(TicketAttachment.removed_by_id))))
    people = set(db.session.scalars(people))
    assert len(people) == 60 and all(name in box for name in people), box  # every uploader and remover


def test_timeline_sop_versions_named_at_once_match_one_by_one(app, ticket_world):
    """The ticket page names the SOP versions of its timeline at once (``remember_timeline_versions``,
    one statement) and then describes each line from memory: the lines are the ones ``describe_use``
    gives reading each version alone: a current version, an older one of the same scenario, another
    scenario's, a deleted one, a line without a number, and other kinds whose values look like ids."""
    from kdcs.sop import panel
    from kdcs.sop import service as sop
    from kdcs.tickets import service, timeline_view

    w = ticket_world
    first = _scenario(w, w.address, "甲")
    old_version = first.current_version_id
    draft = sop.start_draft(w.trainer, first)
    sop.save_draft(w.trainer, draft, version_no=draft.version, title="场景甲修订", change_note="改")
    sop.submit_for_review(w.trainer, draft)
    sop.approve(w.admin, draft)
    second = _scenario(w, w.address, "乙")
    values = [("sop", str(first.current_version_id)), ("sop", str(old_version)), ("sop", str(second.current_version_id)),
              ("sop", "987654"), ("sop", "x"), ("sop", None), ("sop", str(old_version)),
              ("assign", str(second.current_version_id)), ("note", None)]
    for kind, to_value in values:
        db.session.add(TicketEvent(ticket_id=w.mine.id, actor_id=w.agent.id, kind=kind, from_value="insert",
                                   to_value=to_value, body="备注" if kind == "note" else ""))
    db.session.commit()
    rows = service.timeline_rows(w.mine.id)
    with app.app_context(), app.test_request_context():  # a fresh g: nothing named yet
        expected = [str(line.html) for line in timeline_view.lines(rows)]
    with app.app_context(), app.test_request_context():  # a fresh g: nothing named yet
        with statements() as seen:
            panel.remember_timeline_versions(rows)
            got = [str(line.html) for line in timeline_view.lines(rows)]
    assert got == expected
    assert len(seen) == 1, seen
    assert "场景甲修订" in "".join(got) and "使用了一条已被删除的话术。" in "".join(got), got


def test_sop_lines_of_a_reply_at_once_match_one_by_one(app, ticket_world):
    """The scenarios open at a reply are recorded at once (``record_open_at_reply``: the recent lines
    in one statement, the new ones in one commit) as ``_record`` of each would: a version the agent
    used a moment ago keeps its line, one used long ago or by someone else gets a new one; drafts,
    unknown ids, non-numbers and repeats are left out, in the order sent."""
    from kdcs.sop import panel
    from kdcs.sop import service as sop

    w = ticket_world
    scenarios = [_scenario(w, w.address, f"回复{i}") for i in range(5)]
    ids = [scenario.current_version_id for scenario in scenarios]
    draft = sop.start_draft(w.trainer, scenarios[0]).id
    raw = [str(ids[3]), str(ids[0]), "x", str(ids[1]), str(draft), str(ids[2]), str(ids[3]), "999999", str(ids[4])]

    def ticket_with_uses():
        ticket = factories.make_ticket(w.own, reason=w.address)
        now = utcnow()
        db.session.add_all([
            TicketEvent(ticket_id=ticket.id, actor_id=w.agent.id, kind="sop", from_value="insert",
                        to_value=str(ids[0]), at=now - timedelta(minutes=2)),
            TicketEvent(ticket_id=ticket.id, actor_id=w.agent.id, kind="sop", from_value="copy",
                        to_value=str(ids[1]), at=now - timedelta(hours=1)),
            TicketEvent(ticket_id=ticket.id, actor_id=w.teammate.id, kind="sop", from_value="insert",
                        to_value=str(ids[2]), at=now)])
        reply = TicketReply(ticket_id=ticket.id, channel="phone", body="已回复", sent_at=now, recorded_by_id=w.agent.id)
        db.session.add(reply)
        db.session.commit()
        return ticket.id, reply

    def outcome(ticket_id, events, before):
        lines = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                   .order_by(TicketEvent.at, TicketEvent.id))
        return ([(e.to_value, e.from_value, e.actor_id, e.id in before) for e in events],
                [(e.kind, e.to_value, e.from_value, e.actor_id) for e in lines])

    with app.test_request_context():
        batched_ticket, reply = ticket_with_uses()
        before = set(db.session.scalars(select(TicketEvent.id)))
        assert reply.recorded_by_id and w.agent.role  # loaded: the statements counted are the recording's
        with statements() as seen:
            recorded = panel.record_open_at_reply(w.agent, reply, raw)
        batched = outcome(batched_ticket, recorded, before)
        single_ticket, _reply = ticket_with_uses()
        before = set(db.session.scalars(select(TicketEvent.id)))
        single = outcome(single_ticket, [panel._record(w.agent, single_ticket, version_id, "reply")
                                         for version_id in (ids[3], ids[0], ids[1], ids[2], ids[4])], before)
    assert batched == single, (batched, single)
    assert [kept for *_rest, kept in batched[0]] == [False, True, False, False, False], batched
    inserts = ["INSERT"] if _inserts_batched() else ["INSERT"] * 4  # the four new lines
    assert [s.split()[0] for s in seen] == ["SELECT", "SELECT", *inserts], seen


def test_reply_with_open_scenarios_statements(client, auth, ticket_world):
    """A reply stored with K, then 3K SOP scenarios open in the panel: which of them were used a
    moment ago is read in one statement and the new lines are committed together; what grows is
    the INSERT of each new line (it was a lookup and an INSERT a scenario: 23 at 2, 31 at 6)."""
    from kdcs.models import Ticket
    from kdcs.tickets import idempotency

    w = ticket_world
    versions = [_scenario(w, w.address, k).current_version_id for k in range(6)]
    auth.login(w.agent)
    counted = []
    for n in (2, 6):
        ticket_id = factories.make_ticket(w.own, reason=w.address).id
        client.get(f"/tickets/{ticket_id}")
        version = db.session.get(Ticket, ticket_id).version
        count, sql = _post(client, f"/tickets/{ticket_id}/replies", {
            "reply-channel": "phone", "reply-body": "已联系网点派送", "reply-set_status": "",
            "reply-version": version, "reply-key": idempotency.new_key(), "sop_open": [str(v) for v in versions[:n]]})
        counted.append(count)
        lines = db.session.scalars(select(TicketEvent.to_value).where(TicketEvent.ticket_id == ticket_id,
                                                                      TicketEvent.kind == "sop"))
        assert sorted(lines) == sorted(str(v) for v in versions[:n])
    # + the 跟进 card; the answer keeps the page's evidence box and SOP panel (−3)
    assert counted == ([18, 18] if _inserts_batched() else [20, 24]), (counted, sql)


def _post(client, url, data, multipart=False):
    kwargs = {"content_type": "multipart/form-data"} if multipart else {}
    with statements() as seen:
        response = client.post(url, data=data, headers=HX, **kwargs)
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:2000])
    return len(seen), "\n\n".join(seen)


def _write_counts(client, auth, w, viewer, write):
    """The statements of ``write(ticket)`` on a ticket with K busy rows, then on one with 3K."""
    from kdcs.models import Ticket

    tickets = []
    for n in (2, 6):
        ticket = factories.make_ticket(w.own, reason=w.address)
        _page_world(w, ticket)(n)
        tickets.append(ticket.id)
    auth.login(viewer)
    client.get(f"/tickets/{tickets[0]}")
    counted = []
    for ticket_id in tickets:
        client.get(f"/tickets/{ticket_id}")
        ticket = db.session.get(Ticket, ticket_id)
        count, sql = write(ticket)
        counted.append(count)
    auth.logout()
    return counted, sql


def _live(ticket):
    """One of the ticket's live attachments."""
    return db.session.scalar(select(TicketAttachment).where(
        TicketAttachment.ticket_id == ticket.id, TicketAttachment.removed_at.is_(None)).limit(1))


def _closed(ticket):
    """``ticket``, closed (as if resolved a while ago)."""
    from kdcs.tickets.service import refresh_derived

    ticket.status = "closed"
    ticket.closed_at = ticket.resolved_at = utcnow()
    refresh_derived(ticket)
    db.session.commit()
    return ticket


def test_ticket_write_statements(client, auth, ticket_world):
    """The ticket writes on a busy ticket (K, then 3K events, replies, attachments, canned replies
    and SOP scenarios): a note, a status change, a reply, an assignment, a fine, an upload, a
    removal and a reopen, each as its answer re-renders (the ticket body or the evidence box)."""
    import io

    from kdcs.tickets import idempotency
    from tests.test_ticket_attachments import png_bytes

    w = ticket_world
    writes = {
        "note": (w.agent, lambda t: _post(client, f"/tickets/{t.id}/note", {
            "note-body": "已联系网点", "note-version": t.version, "note-key": idempotency.new_key()})),
        "status": (w.agent, lambda t: _post(client, f"/tickets/{t.id}/status", {
            "status-to_status": "in_progress", "status-version": t.version})),
        "reply": (w.agent, lambda t: _post(client, f"/tickets/{t.id}/replies", {
            "reply-channel": "phone", "reply-body": "已联系网点派送", "reply-set_status": "",
            "reply-version": t.version, "reply-key": idempotency.new_key()})),
        "assign": (w.lead, lambda t: _post(client, f"/tickets/{t.id}/assign", {
            "assign-assignee_id": w.teammate.id, "assign-version": t.version, "assign-note": ""})),
        "fine": (w.lead, lambda t: _post(client, f"/tickets/{t.id}/fine", {
            "fine-amount": "20", "fine-bearer": "outlet", "fine-agent_share": "", "fine-note": "罚款",
            "fine-version": t.version, "fine-key": idempotency.new_key()})),
        "upload": (w.agent, lambda t: _post(client, f"/tickets/{t.id}/attachments", {
            "key": idempotency.new_key(), "files": [(io.BytesIO(png_bytes()), "a.png")]}, multipart=True)),
        "remove": (w.agent, lambda t: _post(client, f"/tickets/{t.id}/attachments/{_live(t).id}/remove", {
            "reason": "传错了"})),
        "reopen": (w.agent, lambda t: _post(client, f"/tickets/{_closed(t).id}/reopen", {
            "reopen-reason": "客户再次来电", "reopen-version": t.version})),
    }
    pinned = {}
    for name, (viewer, write) in writes.items():
        counted, sql = _write_counts(client, auth, w, viewer, write)
        assert counted[0] == counted[1], (name, counted, sql)
        pinned[name] = counted[0]
    batched = _inserts_batched()  # two rows of one table (the reply's timeline lines, the assignment's notices): one INSERT
    # each write that answers the refreshed body reads the 跟进 card too (+1; a note answers only its line);
    # it keeps the page's evidence box and SOP panel (hx-preserve: −3), reopening renders the panel (−2);
    # the lead's writes (assign, fine) read the 质检 links beside the replies (+1)
    assert pinned == {"note": 8, "status": 12, "reply": 15 if batched else 16, "assign": 23 if batched else 24,
                      "fine": 20, "upload": 12, "remove": 12, "reopen": 16}, pinned


# --------------------------------------------------------------------------- the queue


def _queue_world(w):
    """``add(n)``: n more agents of the team, each with an outlet of a new brand and reason, tickets
    on it (one left to the agent, one to a teammate, one unassigned, fined, replied, with evidence),
    tickets of the agent's outlets assigned to them, and an outlet of theirs the agent covers (代班)."""
    from datetime import date

    from tests.leave_data import make_leave

    covered_names = []

    def add(n):
        for _ in range(n):
            k = next(_seq)
            brand = factories.make_brand(f"B{k:03d}", f"品牌{k}")
            reason = factories.make_reason("problem" if k % 2 else "work_order", f"原因{k}")
            other = _person(w)
            outlet = factories.make_outlet(brand=brand, agent=other, name=f"网点{k}")
            covered = factories.make_outlet(brand=brand, agent=other, name=f"代班网点{k}")
            category = reason.category
            factories.make_ticket(outlet, reason=reason, category=category)
            factories.make_ticket(outlet, reason=reason, category=category, assignee=w.teammate)
            factories.make_ticket(outlet, reason=reason, category=category, assignee=None, fine_amount=5)
            factories.make_ticket(w.own, reason=reason, category=category, assignee=other)
            factories.make_ticket(covered, reason=reason, category=category, first_replied_at=utcnow())
            make_leave(other, [covered], w.agent, date.today(), date.today() + timedelta(days=3))
            covered_names.append(covered.name)
    add.covered = covered_names
    return add


QUEUE_PAGES = {  # viewer, URL, htmx
    "agent": ("agent", "/tickets/", False),
    "agent_fragment": ("agent", "/tickets/?scope=mine&category=problem", True),
    "agent_counts": ("agent", "/tickets/?scope=mine&counts=1", True),
    "lead_team": ("lead", "/tickets/?scope=team", False),
    "lead_team_fragment": ("lead", "/tickets/?scope=team&status=all&sort=registered", True),
    "lead_mine": ("lead", "/tickets/?scope=mine", False),
    "admin_all": ("admin", "/tickets/?scope=all", False),
    "admin_all_fragment": ("admin", "/tickets/?scope=all&fined=yes&replied=no", True),
    "admin_page_2": ("admin", "/tickets/?scope=all&page=2", False),
    "agent_page_2": ("agent", "/tickets/?scope=mine&page=2", True),
}


def test_queue_statements(client, auth, ticket_world):
    """The queue (full pages, htmx fragments of a filter, a refresh with counts, page 2) for an agent,
    a lead and an admin, with many rows, outlets, brands, reasons and assignees and outlets the agent
    covers (代班): rows, options, counts and marks are each one statement whatever their number."""
    w = ticket_world
    add = _queue_world(w)
    for _ in range(60):  # a second page for everyone, after the world's rows (later deadlines)
        factories.make_ticket(w.own, reason=w.address, reply_minutes=100_000, resolve_minutes=200_000)
    found = {}
    for name, (viewer, url, htmx) in QUEUE_PAGES.items():
        counted, sql, body = _counts(client, auth, w[viewer], url, add, HX if htmx else None)
        assert counted[0] == counted[1], (name, counted, sql)
        found[name] = counted[0]
        if name == "agent":  # every covered outlet's ticket is on the agent's first page
            assert add.covered and all(outlet in body for outlet in add.covered), body
    # + 1 each with rows: their open follow-ups (跟进 marks), one statement for the 50 (the lead holds none)
    assert found == {"agent": 9, "agent_fragment": 4, "agent_counts": 6, "lead_team": 9, "lead_team_fragment": 4,
                     "lead_mine": 8, "admin_all": 10, "admin_all_fragment": 3, "admin_page_2": 10,
                     "agent_page_2": 4}, found


# --------------------------------------------------------------------------- presence poll and bell


def test_presence_poll_and_bell_statements(client, auth, ticket_world):
    """The presence poll on a ticket many others have open and lately worked on (who is here and
    what they did come in one statement), and the bell with many unread notifications (a count)."""
    from kdcs.models import TicketPresence

    w = ticket_world
    ticket = w.mine

    def add(n):
        for _ in range(n):
            other = _person(w)
            db.session.add(TicketPresence(ticket_id=ticket.id, user_id=other.id, seen_at=utcnow()))
            db.session.add(TicketEvent(ticket_id=ticket.id, actor_id=other.id, kind="note", body="看过"))
            factories.make_notification(w.agent, f"通知{next(_seq)}", link=f"/tickets/{ticket.id}")
            db.session.commit()

    counted, sql, body = _counts(client, auth, w.agent, lambda: f"/tickets/{ticket.id}/presence?version={ticket.version}",
                                 add, HX)
    assert counted == [2, 2], (counted, sql)
    people = {u.display_name for u in db.session.scalars(select(User).where(User.username.like("desk%")))}
    assert len(people) == 6 and all(name in body for name in people), body
    counted, sql, body = _counts(client, auth, w.agent, "/notifications/bell", add, HX)
    assert counted == [1, 1], (counted, sql)
    assert ">12<" in body, body  # 6 + 6 unread


# --------------------------------------------------------------------------- bulk actions


def _bulk_tickets(w, n):
    """n team tickets, each of its own outlet (of its own agent) and assigned to someone else."""
    tickets = []
    for _ in range(n):
        owner = _person(w)
        outlet = factories.make_outlet(brand=w.zto, agent=owner, name=f"批量网点{next(_seq)}")
        tickets.append(factories.make_ticket(outlet, reason=w.address, assignee=_person(w)).id)
    return tickets


def test_bulk_statements(client, auth, ticket_world):
    """A lead's bulk assignment, status change and closing of K, then 3K tickets of many outlets
    and assignees: what each ticket costs is its own write (assign: the ticket in scope, the
    audit row, the update, the event and two notifications; status and close: the first four),
    the batch's outlets and previous assignees come in one statement and whether the assignee
    is on leave is asked once (it was 9 a ticket for an assignment: 23 statements at 2, 59 at 6)."""
    w = ticket_world
    batches = {"assign": {"action": "assign", "assignee_id": w.teammate.id, "note": "调整分工"},
               "status": {"action": "status", "to_status": "in_progress", "note": ""},
               "close": {"action": "close", "note": "已处理完毕"}}
    found = {}
    auth.login(w.lead)
    client.get("/tickets/")  # warms caches
    for name, data in batches.items():
        counted = []
        for n in (2, 6):
            ids = _bulk_tickets(w, n)
            with statements() as seen:
                response = client.post("/tickets/bulk", headers=HX, data={"ids": ids, **data})
            body = response.get_data(as_text=True)
            assert response.status_code == 200 and body.count('<li class="ok">') == n, body
            counted.append(len(seen))
        found[name] = counted
    assign = [17, 37] if _inserts_batched() else [19, 43]  # each ticket's two notices: one INSERT
    assert found == {"assign": assign, "status": [11, 27], "close": [11, 27]}, found


def _assign_outcome(ticket_id: int) -> tuple:
    """What assigning ticket ``ticket_id`` left: its timeline line, audit summary and notices
    (the ticket's own waybill and id written as W and N, to compare two tickets)."""
    from kdcs.models import AuditLog, Notification, Ticket

    ticket = db.session.get(Ticket, ticket_id)

    def plain(text):
        return (text or "").replace(ticket.waybill_no, "W").replace(f"/tickets/{ticket.id}", "/tickets/N")

    event = db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id,
                                                        TicketEvent.kind == "assign"))
    audit = db.session.scalar(select(AuditLog.summary).where(AuditLog.entity_type == "ticket",
                                                             AuditLog.entity_id == ticket_id))
    notes = db.session.scalars(select(Notification).where(Notification.link == f"/tickets/{ticket_id}")
                               .order_by(Notification.id))
    return (ticket.assignee_id, event.from_value, event.to_value, event.body, plain(audit),
            [(n.user_id, plain(n.title), plain(n.body), plain(n.link)) for n in notes])


def test_bulk_assignment_tells_whom_one_by_one_would(client, auth, ticket_world):
    """A bulk assignment (the batch's outlets and previous assignees read at once, the assignee's
    leave asked once) leaves the same timeline lines, audit rows and notices as assigning the same
    tickets one at a time: previous assignees of all kinds (none, the lead, a teammate, an agent on
    leave, inactive), outlets covered or not, to an assignee at work and to one on leave (whose
    substitute is told for the outlets covered)."""
    from datetime import date

    from kdcs.models import Ticket
    from tests.leave_data import make_leave

    w = ticket_world
    away_agent = _person(w)
    substitute = _person(w)
    inactive = _person(w)
    inactive.is_active_account = False
    db.session.commit()
    previous = [None, w.lead, w.teammate, away_agent, inactive, w.agent]
    outlets = [factories.make_outlet(brand=w.zto, agent=owner, name=f"对照网点{i}")
               for i, owner in enumerate((away_agent, away_agent, _person(w)))]  # the first two covered
    make_leave(away_agent, outlets[:2], substitute, date.today(), date.today() + timedelta(days=3))
    auth.login(w.lead)
    for target in (w.teammate, away_agent):
        pairs = []
        for i, before in enumerate(previous):
            if before is target:
                continue
            pair = [factories.make_ticket(outlets[i % 3], reason=w.address, waybill_no=f"DUI{target.id}{i}{side}",
                                          assignee=before) for side in "AB"]
            pairs.append((pair[0].id, pair[1].id))
        response = client.post("/tickets/bulk", headers=HX, data={
            "ids": [a for a, _b in pairs], "action": "assign", "assignee_id": target.id, "note": "调整"})
        assert response.get_data(as_text=True).count('<li class="ok">') == len(pairs)
        for _a, b in pairs:
            ticket = db.session.get(Ticket, b)
            response = client.post(f"/tickets/{b}/assign", headers=HX, data={
                "assign-assignee_id": target.id, "assign-version": ticket.version, "assign-note": "调整"})
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
        outcomes = [(_assign_outcome(a), _assign_outcome(b)) for a, b in pairs]
        assert all(bulk == single for bulk, single in outcomes), outcomes
        told = {user_id for bulk, _single in outcomes for user_id, *_rest in bulk[-1]}
        if target is away_agent:
            assert substitute.id in told and target.id in told, told  # covered outlets and the one not covered
        else:
            assert target.id in told and away_agent.id in told, (told, outcomes)


# --------------------------------------------------------------------------- the homes


def _home_world(w):
    """``add(n)``: n more outlets of the agent (volumes, rates, an old rate entered by someone, tickets
    open, due today, missing evidence, fined, replied), n more agents of the team with outlets and
    tickets (some not certified: a 上岗必修 course is published), n outlets the agent covers (代班),
    and notices."""
    from datetime import date
    from decimal import Decimal

    from kdcs.models import OutletRate
    from tests.leave_data import make_leave

    month = date.today().replace(day=1)

    def add(n):
        for _ in range(n):
            k = next(_seq)
            outlet = factories.make_outlet(brand=w.zto, agent=w.agent, name=f"首页网点{k}")
            factories.make_volume(outlet, month, 100 + k, 50 + k)
            db.session.add(OutletRate(outlet_id=outlet.id, month=month, rate=Decimal("0.0300"),
                                      created_by_id=w.admin.id))
            factories.make_ticket(outlet, reason=w.address)
            factories.make_ticket(outlet, reason=w.address, fine_amount=Decimal("20"), fine_bearer="agent",
                                  fine_agent_share=Decimal("10"))
            factories.make_ticket(outlet, reason=w.address, first_replied_at=utcnow(), reply_minutes=60 * 6)
            mate = _person(w)
            mate_outlet = factories.make_outlet(brand=w.yto, agent=mate, name=f"同事网点{k}")
            factories.make_volume(mate_outlet, month, 10, 5)
            factories.make_ticket(mate_outlet, reason=w.address)
            factories.make_ticket(mate_outlet, reason=w.address, assignee=None)
            covered = factories.make_outlet(brand=w.zto, agent=mate, name=f"首页代班{k}")
            factories.make_ticket(covered, reason=w.address)
            make_leave(mate, [covered], w.agent, date.today(), date.today() + timedelta(days=3))
            factories.make_notification(w.agent, f"首页通知{k}")
            factories.make_notification(w.lead, f"组长通知{k}")
    return add


def test_home_statements(client, auth, ticket_world):
    """The agent's home (figures, notices, the outlet summary with volumes and rates, training) and
    the lead's home (per-agent figures, fines, the team with badges) with many outlets, tickets,
    team members (not certified while a 上岗必修 course is published), covered outlets and notices:
    already flat."""
    from tests.training_cert_data import certify, make_course

    w = ticket_world
    trainer = factories.make_user("trainer", username="home_trainer")
    for course in (make_course(items=2), make_course("沟通技巧与共情话术", questions=0, items=1)):
        certify(w.agent, course, trainer)
    add = _home_world(w)
    counted, sql, body = _counts(client, auth, w.agent, "/", add)
    assert counted == [16, 16], (counted, sql)  # + 跟进 (one prebuilt statement)
    assert body.count("首页网点") == 6 and body.count("首页通知") == 6, body  # every outlet and notice shown
    counted, sql, body = _counts(client, auth, w.lead, "/", add)
    assert counted == [22, 22], (counted, sql)  # + the overtime waiting for the lead, + 跟进 (2), + 质检 disputes
    mates = [u.display_name for u in db.session.scalars(select(User).where(User.username.like("desk%")))]
    assert len(mates) == 12 and all(name in body for name in mates), body  # every team member listed


def test_covered_ticket_statements(client, auth, ticket_world):
    """A ticket of an outlet the agent covers (代班) while more and more colleagues are on leave:
    its page, its htmx body, the presence poll and the queue's 代班 marks cost the same."""
    from datetime import date

    from kdcs.models import Ticket
    from tests.leave_data import make_leave

    w = ticket_world
    tickets = []

    def add(n):
        for _ in range(n):
            owner = _person(w)
            outlets = [factories.make_outlet(brand=w.zto, agent=owner, name=f"休假网点{next(_seq)}") for _ in range(2)]
            tickets.extend(factories.make_ticket(outlet, reason=w.address).id for outlet in outlets)
            make_leave(owner, outlets, w.agent, date.today(), date.today() + timedelta(days=3))

    found = {}
    for name, url, headers in (("page", lambda: f"/tickets/{tickets[0]}", None),
                               ("body", lambda: f"/tickets/{tickets[0]}", HX),
                               ("poll", lambda: f"/tickets/{tickets[0]}/presence?version="
                                                f"{db.session.get(Ticket, tickets[0]).version}", HX),
                               ("queue", "/tickets/?scope=mine", HX)):
        counted, sql, body = _counts(client, auth, w.agent, url, add, headers)
        assert counted[0] == counted[1], (name, counted, sql)
        found[name] = counted[0]
    assert body.count("休假网点") == 2 * len(tickets), body  # each row names its outlet (and its title)
    assert found == {"page": 18, "body": 15, "poll": 2, "queue": 4}, found  # + the 跟进 card, the queue's marks
