"""The open-ticket counters behind the queue's tab counts (issue 9 part 4).

Tickets are changed in every way a ticket changes — created by hand, status changes,
a reply, reassignment, bulk assign / status / close, close and reopen, an import's
batched INSERT … SELECT, a ticket deleted, an outlet handed to another agent, coverage
during leave — and after each step the counters must equal a fresh count: key by key
(``counts.current() == counts.fresh_rows()``) and as every user's tab figures
(``scope_counts`` == ``scope_counts_on_tickets``), now and hours later.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, insert, select

from kdcs.extensions import db
from kdcs.models import Ticket, TicketStatus, utcnow
from kdcs.models.ticket_counts import TicketCount
from kdcs.tickets import counts, queue, service
from tests import factories


def _key(row: dict) -> tuple:
    return (row["outlet_id"], -1 if row["assignee_id"] is None else row["assignee_id"], row["category"], row["slot"])


def _check(world, now=None) -> None:
    """Counters == a fresh count, per key and for every user's tabs, now and later (deadlines pass)."""
    db.session.expire_all()
    now = now or utcnow()
    assert sorted(counts.current(now), key=_key) == sorted(counts.fresh_rows(now), key=_key)
    for later in (now, now + timedelta(minutes=50), now + timedelta(hours=3), now + timedelta(days=2)):
        for user in world["people"]:
            for scope in queue.allowed_scopes(user):
                fast = queue.scope_counts(user, scope, later)
                slow = queue.scope_counts_on_tickets(user, scope, later)
                assert (fast.by_category, fast.open, fast.overdue, fast.due_soon) == (
                    slow.by_category, slow.open, slow.overdue, slow.due_soon), (user.username, scope, later)


def _world(users, desk_world):
    mate = factories.make_user("agent", username="agent_mate", team=users["team"], display_name="李娜")
    far_team = factories.make_team("二组")
    far = factories.make_user("agent", username="agent_far", team=far_team, display_name="郑洋")
    mate_outlet = factories.make_outlet(desk_world["brand"], mate, code="ZTO571199")
    far_outlet = factories.make_outlet(desk_world["brand"], far, code="ZTO571198")
    factories.make_rule("problem", reply_minutes=60, resolve_minutes=600)
    return {"people": [users["agent"], mate, far, users["lead"], users["admin"]], "agent": users["agent"],
            "mate": mate, "far": far, "lead": users["lead"], "admin": users["admin"],
            "outlet": desk_world["outlet"], "mate_outlet": mate_outlet, "far_outlet": far_outlet,
            "reason": desk_world["reason"], "problem": factories.make_reason("problem", "地址不详")}


def _create(world, actor, outlet, minutes_ago: int, category="work_order", reason=None) -> Ticket:
    return service.create_ticket(
        actor, outlet_id=outlet.id, direction="inbound", category=category,
        reason_id=(reason or world["reason"]).id, waybill_no=f"7513{next(factories._seq):010d}",
        registered_at=utcnow() - timedelta(minutes=minutes_ago))


def _fresh(ticket: Ticket) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket.id)


def test_counters_follow_every_change(users, desk_world):
    w = _world(users, desk_world)
    admin, lead, agent = w["admin"], w["lead"], w["agent"]
    _check(w)

    # created by hand: due later, due within the hour, overdue, in three outlets and two categories
    a = _create(w, agent, w["outlet"], 10)
    b = _create(w, admin, w["mate_outlet"], 100)
    c = _create(w, admin, w["far_outlet"], 60 * 30)
    d = _create(w, admin, w["outlet"], 200, category="problem", reason=w["problem"])
    assert db.session.scalar(select(func.count()).select_from(TicketCount)) > 0
    _check(w)

    # status changes: to waiting (no pending deadline) and back
    service.change_status(agent, a.id, TicketStatus.AWAITING_FEEDBACK, version=_fresh(a).version, note="等反馈")
    _check(w)
    service.change_status(agent, a.id, TicketStatus.IN_PROGRESS, version=_fresh(a).version, note="继续")
    _check(w)

    # a reply: the reply deadline is met, the resolve deadline becomes the pending one
    service.record_reply(agent, d.id, version=_fresh(d).version, channel="phone", body="已回复客户")
    _check(w)

    # reassignment by the lead, and by the admin to the other team's agent
    service.assign(lead, b.id, agent.id, version=_fresh(b).version)
    _check(w)
    service.assign(admin, a.id, w["far"].id, version=_fresh(a).version)
    _check(w)

    # bulk: assign, status, close
    service.bulk_apply(admin, [a.id, b.id, c.id], "assign", assignee_id=w["mate"].id)
    _check(w)
    service.bulk_apply(admin, [a.id, b.id], "status", to_status=TicketStatus.AWAITING_FEEDBACK, note="批量")
    _check(w)
    service.bulk_apply(admin, [b.id, c.id], "close", note="批量结案")
    _check(w)

    # close and reopen
    service.close_ticket(admin, d.id, version=_fresh(d).version, note="结案")
    _check(w)
    service.reopen(admin, d.id, version=_fresh(d).version, reason="客户再次来电")
    _check(w)
    service.reopen(admin, c.id, version=_fresh(c).version, reason="网点申诉")
    _check(w)

    # an import writes with INSERT … SELECT / executemany, not through the ORM
    template = _fresh(a)
    now = utcnow()
    rows = [{"outlet_id": o.id, "brand_id": template.brand_id, "direction": "inbound", "category": "work_order",
             "reason_id": w["reason"].id, "waybill_no": f"7799{i:010d}", "registered_at": now - timedelta(hours=i),
             "assignee_id": o.primary_agent_id if i % 4 else None, "status": "new", "reply_due_at": now + timedelta(hours=2 - i),
             "resolve_due_at": now + timedelta(hours=20 - i), "due_at": now + timedelta(hours=2 - i),
             "queue_state": 0, "source": "import", "created_at": now, "updated_at": now, "version": 1}
            for i, o in enumerate([w["outlet"], w["mate_outlet"], w["far_outlet"]] * 3)]
    db.session.execute(insert(Ticket), rows)
    db.session.commit()
    _check(w)

    # the outlet goes to another agent (the scope moves, the counters stay): nothing to maintain
    w["outlet"].primary_agent_id = w["mate"].id
    db.session.commit()
    _check(w)

    # a ticket deleted (an outlet purge, a test cleanup)
    db.session.delete(_fresh(b))
    db.session.commit()
    _check(w)

    # folding the deltas changes no figure; neither does a rebuild
    before = len(counts.current())
    counts.fold()
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(TicketCount)) == before
    _check(w)
    counts.fold(utcnow() + timedelta(hours=5))  # a fold hours later moves past hours into slot 0
    db.session.commit()
    _check(w, utcnow() + timedelta(hours=5))
    db.session.execute(TicketCount.__table__.delete())  # lost counters: the command brings them back
    db.session.commit()
    assert counts.rebuild() > 0
    db.session.commit()
    _check(w)


def test_coverage_counts_the_covered_outlets(users, desk_world):
    from tests.leave_data import make_leave

    w = _world(users, desk_world)
    _create(w, w["admin"], w["outlet"], 30)
    _create(w, w["admin"], w["outlet"], 60 * 26)
    today = utcnow().date()
    make_leave(w["agent"], [w["outlet"]], w["mate"], today - timedelta(days=1), today + timedelta(days=1))
    covered = queue.scope_counts(w["mate"], "mine")
    assert covered.open == queue.scope_counts_on_tickets(w["mate"], "mine").open == 2
    _check(w)


def test_rebuild_command(app, users, desk_world):
    w = _world(users, desk_world)
    _create(w, w["admin"], w["outlet"], 30)
    db.session.execute(TicketCount.__table__.delete())
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["tickets", "rebuild-counts"])
    assert result.exit_code == 0, result.output
    assert "1 行" in result.output
    _check(w)
    result = app.test_cli_runner().invoke(args=["tickets", "fold-counts"])
    assert result.exit_code == 0, result.output
    _check(w)


def test_a_scope_on_other_columns_is_counted_on_the_tickets(users, desk_world):
    w = _world(users, desk_world)
    _create(w, w["admin"], w["outlet"], 30)
    query = service.visible_tickets_query(w["admin"]).where(Ticket.brand_id == w["outlet"].brand_id)
    try:
        counts.counted(query, utcnow())
    except counts.NotCountable:
        pass
    else:
        raise AssertionError("a brand condition cannot be answered from the counters")


def test_the_triggers_are_there(app):
    """A migration that rebuilds ``tickets`` (SQLite batch mode copies it to a new table) drops its
    triggers: it must create them again, or the counters silently stop following the tickets."""
    if db.engine.dialect.name == "postgresql":
        names = db.session.scalars(db.text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'tickets'::regclass AND NOT tgisinternal")).all()
    else:
        names = db.session.scalars(db.text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'tickets'")).all()
    assert {"ticket_counts_insert", "ticket_counts_update", "ticket_counts_delete"} <= set(names)
