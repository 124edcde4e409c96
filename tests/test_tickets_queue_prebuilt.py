"""The queue's prebuilt statements (queue.page_of, queue.scope_counts) are the statements the
general path builds (queue_query + fetch_page, counts.counted): the same SQL — so the same plans
— and the same rows and figures, for every role, tab and filter shape."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from kdcs.extensions import db
from kdcs.models import utcnow
from kdcs.tickets import counts, queue
from tests import factories

FILTERS = [
    {}, {"category": "problem"}, {"window": "overdue"}, {"window": "hour"}, {"window": "today"},
    {"sort": "registered"}, {"sort": "updated"}, {"sort": "priority", "status": "all"}, {"page": 2},
    {"direction": "inbound"}, {"status": "in_progress"}, {"status": "closed"}, {"assignee_id": 0},
    {"since": date(2026, 1, 1), "until": date(2030, 1, 1)}, {"q": "7701"}, {"q": "ZZ9"},
    {"q": "ZTO1234567890"}, {"category": "work_order", "direction": "outbound", "sort": "updated"},
]


def _sql(statement) -> str:
    text = str(statement.compile(dialect=db.engine.dialect))
    text = re.sub(r"%\(\w+\)s", "?", text)  # PostgreSQL names its parameters
    return re.sub(r"__\[POSTCOMPILE_\w+\]", "__[POSTCOMPILE]", text)


@contextmanager
def _statements():
    """The SQL run inside the block, parameters named alike (their names differ, not their places)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(re.sub(r"%\(\w+\)s", "?", statement))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def covering(monkeypatch):
    """Pretend the user covers the given outlets (the coverage lookup is tested elsewhere)."""
    from kdcs.leave import coverage

    covered: list[int] = []
    real = coverage.covered_outlet_ids
    monkeypatch.setattr(coverage, "covered_outlet_ids", lambda user, at=None: list(covered) or real(user, at))
    return covered


def test_prebuilt_statements_are_the_general_ones(app, ticket_world, covering):
    w = ticket_world
    for outlet in (w["mine"].outlet, w["team_ticket"].outlet, w["far"].outlet):
        for i in range(3):
            factories.make_ticket(outlet, registered_at=utcnow() - timedelta(hours=i * 7),
                                  waybill_no=f"ZTO12345678{outlet.id % 10}{i}")
    db.session.commit()
    checked = 0
    for cover in ([], [w["far"].outlet_id]):
        covering[:] = cover
        for user in (w["agent"], w["lead"], w["admin"]):
            for scope in queue.allowed_scopes(user):
                for values in FILTERS:
                    f = queue.QueueFilter(scope=scope, **values)
                    now = utcnow()
                    with app.test_request_context("/tickets/"):
                        shape = queue.scope_shape(user, scope, now)
                        filters = queue.filter_shape(f, now)
                        assert shape is not None and filters is not None, (user.username, scope, values)
                        general = queue.page_statement(queue.queue_query(user, f, now), f.page)
                        prebuilt = queue._page_statement(shape[0], filters[0], f.sort)
                        assert _sql(prebuilt) == _sql(general), (user.username, scope, values)
                        fast = queue.page_of(user, f, now)
                        slow = queue.fetch_page(queue.queue_query(user, f, now), f.page)
                        assert [tuple(r) for r in fast.items] == [tuple(r) for r in slow.items]
                        assert fast.has_next == slow.has_next
                        checked += 1
                    with app.test_request_context("/tickets/"):
                        assert queue.scope_counts(user, scope, now) == queue.scope_counts_on_tickets(user, scope, now)
                        with _statements() as fast_sql:
                            fast = counts.counted_prebuilt(*queue.scope_shape(user, scope, now), now)
                        with _statements() as slow_sql:
                            slow = counts.counted(queue.scoped_query(user, scope, now), now)
                        assert fast == slow
                        assert fast_sql == slow_sql and len(fast_sql) == 2
    assert checked > 100


def test_rare_shapes_take_the_general_path(users):
    now = utcnow()
    assert queue.filter_shape(queue.QueueFilter(q="张三"), now) is None
    assert queue.filter_shape(queue.QueueFilter(q="YT"), now) is None  # letters: names and descriptions too
    assert queue.filter_shape(queue.QueueFilter(fined="month"), now) is None
    assert queue.scope_shape(users["trainer"], "mine", now) is None
    assert queue.scope_shape(users["agent"], "all", now) is None  # a tab the agent may not open


def test_filter_url_is_url_for(app):
    """QueueFilter.url (the count, pager and address-bar links) writes what url_for writes."""
    from flask import url_for

    with app.test_request_context("/tickets/"):
        base = url_for("tickets.index")
        for f in (queue.QueueFilter(), queue.QueueFilter(scope="team", q="张 三&x=1/?#", category="problem", page=3),
                  queue.QueueFilter(scope="all", status="all", since=date(2026, 1, 2), assignee_id=0, sort="priority",
                                    q="a+b 'c' \"d\" ~!$()*,;:@")):
            for changes in ({}, {"page": 1}, {"category": "message", "page": 1}, {"window": "overdue", "page": 2}):
                assert f.url(base, **changes) == url_for("tickets.index", **f.args(**changes))
