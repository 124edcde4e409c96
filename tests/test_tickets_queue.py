"""The queue: scope tabs, filters, search, sorts, pages, counts, through queue.py and the client."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event

from kdcs.extensions import db
from kdcs.models import utcnow
from kdcs.tickets import queue
from tests import factories
from tests.html import parse


def _ago(**kw):
    return utcnow() - timedelta(**kw)


def _ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr id="ticket-(\d+)"', html)]


def test_default_order_is_nearest_deadline_and_hides_closed(client, auth, users, queue_world):
    o = queue_world["outlet"]
    later = factories.make_ticket(o, reason=queue_world["problem"], registered_at=_ago(minutes=10))  # due in 110 min
    overdue = factories.make_ticket(o, reason=queue_world["problem"], registered_at=_ago(hours=5))  # late 3 h
    soon = factories.make_ticket(o, reason=queue_world["problem"], registered_at=_ago(minutes=100))  # due in 20 min
    closed = factories.make_ticket(o, reason=queue_world["problem"], status="closed", closed_at=utcnow(), resolved_at=utcnow())
    replied = factories.make_ticket(o, reason=queue_world["problem"], status="replied", first_replied_at=utcnow(),
                                    resolved_at=utcnow())  # open, nothing pending
    auth.login(users["agent"])
    html = client.get("/tickets/").get_data(as_text=True)
    assert _ids(html) == [overdue.id, soon.id, later.id, replied.id]
    every = _ids(client.get("/tickets/?status=all").get_data(as_text=True))
    assert every[-1] == closed.id and len(every) == 5
    assert _ids(client.get("/tickets/?status=closed").get_data(as_text=True)) == [closed.id]
    # overdue rows stand out, countdowns carry the due time with its offset
    row = re.search(rf'<tr id="ticket-{overdue.id}"[^>]*>', html).group(0)
    assert "row-overdue" in row
    assert re.search(r'class="countdown badge is-overdue" data-due="\d{4}-\d\d-\d\dT[\d:.]+\+00:00"', html)
    assert re.search(r'class="countdown badge is-soon" data-due=', html)


def test_window_filters(client, auth, users, queue_world):
    o = queue_world["outlet"]
    overdue = factories.make_ticket(o, reason=queue_world["problem"], registered_at=_ago(hours=5))
    hour = factories.make_ticket(o, reason=queue_world["problem"], registered_at=_ago(minutes=90))
    far = factories.make_ticket(o, reason=queue_world["problem"], reply_minutes=60 * 24 * 3, resolve_minutes=60 * 24 * 5)
    auth.login(users["agent"])
    assert _ids(client.get("/tickets/?window=overdue").get_data(as_text=True)) == [overdue.id]
    assert _ids(client.get("/tickets/?window=hour").get_data(as_text=True)) == [hour.id]
    today = _ids(client.get("/tickets/?window=today").get_data(as_text=True))
    assert far.id not in today


def test_today_means_the_shanghai_day():
    now = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)  # 01:30 on 3 March in Shanghai
    clause = queue.window_clause("today", now)
    bounds = [c.right.value for c in clause.clauses if hasattr(c, "right") and hasattr(c.right, "value")]
    assert datetime(2026, 3, 2, 16, 0, tzinfo=UTC) in bounds  # 3 March 00:00 +08:00
    assert datetime(2026, 3, 3, 16, 0, tzinfo=UTC) in bounds


def test_waybill_exact_prefix_and_text_search(client, auth, users, queue_world):
    o = queue_world["outlet"]
    a = factories.make_ticket(o, reason=queue_world["problem"], waybill_no="75121488724296", customer_name="王建华")
    b = factories.make_ticket(o, reason=queue_world["problem"], waybill_no="75121488799999", description="客户要求改派到公司")
    c = factories.make_ticket(o, reason=queue_world["problem"], waybill_no="YT6084582426123")
    auth.login(users["agent"])
    search = lambda q: set(_ids(client.get(f"/tickets/?q={q}").get_data(as_text=True)))  # noqa: E731
    assert search("75121488724296") == {a.id}
    assert search("751214887") == {a.id, b.id}
    assert search("yt608") == {c.id}
    assert search("王建") == {a.id}
    assert search("改派") == {b.id}
    assert search("99999999999") == set()
    assert search("%25") == set()  # a literal %, not a wildcard


def test_filters_each_narrow_the_list(client, auth, users, queue_world):
    o, o2 = queue_world["outlet"], queue_world["outlet2"]
    p = factories.make_ticket(o, reason=queue_world["problem"], direction="inbound",
                              registered_at=datetime(2026, 3, 2, 16, 30, tzinfo=UTC))  # 3 Mar 00:30 Shanghai
    w = factories.make_ticket(o2, category="work_order", reason=queue_world["chase"], direction="outbound",
                              registered_at=datetime(2026, 3, 2, 15, 30, tzinfo=UTC))  # 2 Mar 23:30 Shanghai
    auth.login(users["agent"])
    get = lambda qs: set(_ids(client.get(f"/tickets/?{qs}").get_data(as_text=True)))  # noqa: E731
    assert get("category=problem") == {p.id}
    assert get(f"reason={queue_world['chase'].id}") == {w.id}
    assert get("direction=outbound") == {w.id}
    assert get(f"outlet={o2.id}") == {w.id}
    assert get(f"brand={queue_world['yto'].id}") == {w.id}
    assert get("since=2026-03-03&until=2026-03-03") == {p.id}
    assert get("since=2026-03-02&until=2026-03-02") == {w.id}
    assert get("status=new") == {p.id, w.id}
    # bad values are ignored or explained, never a 500
    response = client.get("/tickets/?since=3月&category=nope&page=x&sort=evil&window=soon")
    assert response.status_code == 200
    assert "YYYY-MM-DD" in response.get_data(as_text=True)


def test_assignee_filter_for_leads(client, auth, users, queue_world):
    o = queue_world["outlet"]
    mine = factories.make_ticket(o, reason=queue_world["problem"])
    nobody = factories.make_ticket(o, reason=queue_world["problem"], assignee=None)
    auth.login(users["lead"])
    get = lambda qs: set(_ids(client.get(f"/tickets/?scope=team&{qs}").get_data(as_text=True)))  # noqa: E731
    assert get(f"assignee={users['agent'].id}") == {mine.id}
    assert get("assignee=0") == {nobody.id}
    assert 'id="f-assignee"' in client.get("/tickets/").get_data(as_text=True)


def test_scope_tabs_per_role(client, auth, users, queue_world):
    o = queue_world["outlet"]
    agents_ticket = factories.make_ticket(o, reason=queue_world["problem"])
    leads_own = factories.make_ticket(o, reason=queue_world["problem"], assignee=users["lead"])
    outsider = factories.make_outlet(queue_world["brand"], factories.make_user("agent", username="agent_z"))
    far = factories.make_ticket(outsider, reason=queue_world["problem"])

    auth.login(users["agent"])
    html = client.get("/tickets/").get_data(as_text=True)
    assert set(_ids(html)) == {agents_ticket.id, leads_own.id}  # own outlet's tickets, whoever holds them
    assert "scope=team" not in html and "scope=all" not in html
    # asking for a wider tab falls back to one's own
    assert set(_ids(client.get("/tickets/?scope=all").get_data(as_text=True))) == {agents_ticket.id, leads_own.id}

    auth.logout()
    auth.login(users["lead"])
    assert set(_ids(client.get("/tickets/").get_data(as_text=True))) == {agents_ticket.id, leads_own.id}  # team
    assert set(_ids(client.get("/tickets/?scope=mine").get_data(as_text=True))) == {leads_own.id}
    assert set(_ids(client.get("/tickets/?scope=all").get_data(as_text=True))) == {agents_ticket.id, leads_own.id}

    auth.logout()
    auth.login(users["admin"])
    html = client.get("/tickets/").get_data(as_text=True)
    assert set(_ids(html)) == {agents_ticket.id, leads_own.id, far.id}
    assert set(_ids(client.get("/tickets/?scope=mine").get_data(as_text=True))) == set()


def test_pages_of_fifty_with_next_link_and_no_count(client, auth, users, queue_world, app):
    o = queue_world["outlet"]
    tickets = [factories.make_ticket(o, reason=queue_world["problem"], registered_at=_ago(minutes=i)) for i in range(51)]
    auth.login(users["agent"])
    html = client.get("/tickets/").get_data(as_text=True)
    assert len(_ids(html)) == 50
    assert 'rel="next"' in html and 'rel="prev"' not in html
    html2 = client.get("/tickets/?page=2").get_data(as_text=True)
    assert _ids(html2) == [tickets[0].id]  # the latest registered is due last
    assert 'rel="prev"' in html2 and 'rel="next"' not in html2
    assert 'href="/tickets/?scope=mine&amp;page=1"' not in html2  # page 1 is the plain URL


def test_statements_per_fragment_do_not_grow_with_rows(client, auth, users, queue_world, app):
    o = queue_world["outlet"]
    for i in range(3):
        factories.make_ticket(o, reason=queue_world["problem"], registered_at=_ago(minutes=i))
    auth.login(users["agent"])

    def count_statements(url):
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.htmx("get", url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return statements

    few = count_statements("/tickets/")
    for i in range(40):
        factories.make_ticket(o, reason=queue_world["problem"], registered_at=_ago(minutes=10 + i))
    many = count_statements("/tickets/")
    assert len(many) == len(few)
    assert not any("count(" in s.lower() and "group by" not in s.lower() for s in many)


def test_counts_per_category_and_overdue(client, auth, users, queue_world):
    o = queue_world["outlet"]
    factories.make_ticket(o, reason=queue_world["problem"], registered_at=_ago(hours=5))  # overdue
    factories.make_ticket(o, reason=queue_world["problem"])
    factories.make_ticket(o, category="work_order", reason=queue_world["chase"], registered_at=_ago(minutes=100))  # soon
    factories.make_ticket(o, reason=queue_world["problem"], status="closed", closed_at=utcnow())
    counts = queue.scope_counts(users["agent"], "mine")
    assert counts.by_category["problem"] == {"open": 2, "overdue": 1, "due_soon": 0}
    assert counts.by_category["work_order"] == {"open": 1, "overdue": 0, "due_soon": 1}
    assert (counts.open, counts.overdue, counts.due_soon) == (3, 1, 1)
    auth.login(users["agent"])
    # the counts are those of the whole tab: on the full page, and on the table's refresh after a change
    page = client.get("/tickets/?category=work_order").get_data(as_text=True)
    assert re.search(r'count-value">2<', page) and re.search(r'count-value is-bad">1<', page)
    fragment = client.htmx("get", "/tickets/?category=work_order&counts=1").get_data(as_text=True)
    assert re.search(r'count-value">2<', fragment) and re.search(r'count-value is-bad">1<', fragment)
    assert 'id="qc-problem"' in fragment and "hx-preserve" not in fragment


def test_filter_fragment_keeps_the_counts_on_screen_without_counting(client, auth, users, queue_world):
    """A filter/sort/page fragment does not count the tab again: its number slots ask htmx
    to keep the ones on screen (hx-preserve, same ids); the refresh after a change counts."""
    factories.make_ticket(queue_world["outlet"], reason=queue_world["problem"])
    auth.login(users["agent"])
    page = client.get("/tickets/").get_data(as_text=True)
    assert 'hx-get="/tickets/?counts=1"' in page  # the tickets-changed refresh of #ticket-table
    statements: list[str] = []

    def on_execute(conn, cursor, statement, *args):
        statements.append(statement.lower())

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        fragment = client.htmx("get", "/tickets/?category=problem").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    assert not any("group by" in s for s in statements)
    for code in ("problem", "message", "work_order", "arbitration", "total"):
        assert re.search(rf'id="qc-{code}"[^>]*hx-preserve="true"', fragment), code
    assert "count-value" not in fragment
    assert 'class="count active"' in fragment  # links and the active tab still follow the filters
    assert "category=problem" in re.search(r'<a role="listitem" class="count count-total[^>]*>', fragment).group(0)


def test_phone_is_masked_in_the_list(client, auth, users, queue_world):
    factories.make_ticket(queue_world["outlet"], reason=queue_world["problem"], customer_phone="13812345678")
    auth.login(users["agent"])
    html = client.get("/tickets/").get_data(as_text=True)
    assert "138****5678" in html and "13812345678" not in html


def test_other_sorts(client, auth, users, queue_world):
    o = queue_world["outlet"]
    old = factories.make_ticket(o, reason=queue_world["problem"], registered_at=_ago(hours=5))
    new = factories.make_ticket(o, reason=queue_world["problem"], registered_at=_ago(minutes=5))
    urgent = factories.make_ticket(o, reason=queue_world["problem"], registered_at=_ago(minutes=30), priority="urgent")
    auth.login(users["agent"])
    assert _ids(client.get("/tickets/?sort=registered").get_data(as_text=True)) == [new.id, urgent.id, old.id]
    assert _ids(client.get("/tickets/?sort=priority").get_data(as_text=True))[0] == urgent.id
    assert len(_ids(client.get("/tickets/?sort=updated").get_data(as_text=True))) == 3


def test_filter_round_trip_keeps_everything_in_the_url():
    f = queue.QueueFilter(scope="team", q="YT1", category="problem", reason_id=3, status="all", outlet_id=4,
                          brand_id=5, assignee_id=0, window="today", since=date(2026, 3, 1),
                          until=date(2026, 3, 2), sort="priority", page=3)

    class Args(dict):
        def get(self, key, default=None):
            return super().get(key, default)

    user = type("U", (), {"role": "admin", "team_id": 1, "is_authenticated": True, "is_active": True})()
    assert queue.parse_filter(Args(f.args()), user) == f


def test_the_rows_minute_text_is_what_strftime_writes_in_beijing_time():
    """``_minute_text`` replaced ``strftime`` in the rows for speed: the same text, across midnight,
    a year's end and single digits."""
    from kdcs.filters import SHANGHAI

    for at in (datetime(2026, 12, 31, 16, 5, tzinfo=UTC), datetime(2027, 1, 1, 15, 59, 59, tzinfo=UTC),
               datetime(2026, 3, 4, 0, 0, tzinfo=UTC), datetime(2026, 11, 30, 23, 9, 30, tzinfo=UTC)):
        local = at.astimezone(SHANGHAI)
        assert queue._minute_text(at) == local.strftime("%Y-%m-%d %H:%M")
        assert queue._minute_text(at, year=False) == local.strftime("%m-%d %H:%M")


def test_next_ticket_walks_the_users_queue_in_deadline_order_and_wraps(queue_world):
    """下一张 follows the queue as it first shows (open, nearest deadline first): the one after the
    current, the first after the last, the first when the current one is closed; never a ticket
    outside the user's scope, and None when nothing else is open."""
    w = queue_world
    later = factories.make_ticket(w.outlet, reason=w.problem, reply_minutes=180)
    soonest = factories.make_ticket(w.outlet2, reason=w.problem, reply_minutes=60)
    middle = factories.make_ticket(w.outlet, reason=w.problem, reply_minutes=120)
    closed = factories.make_ticket(w.outlet, reason=w.problem, reply_minutes=30, status="closed")
    elsewhere = factories.make_ticket(factories.make_outlet(w.yto), reason=w.problem, reply_minutes=10)
    agent = w.agent
    assert queue.next_ticket_id(agent, soonest.id) == middle.id
    assert queue.next_ticket_id(agent, middle.id) == later.id
    assert queue.next_ticket_id(agent, later.id) == soonest.id  # after the last: the first again
    assert queue.next_ticket_id(agent, closed.id) == soonest.id  # closed meanwhile: the most urgent
    assert queue.next_ticket_id(agent, elsewhere.id) == soonest.id  # an id outside the scope is no position
    assert elsewhere.id not in {queue.next_ticket_id(agent, t.id) for t in (soonest, middle, later)}
    lone = factories.make_user("agent", username="agent_lone", team=w.team)
    only = factories.make_ticket(factories.make_outlet(w.brand, lone), reason=w.problem)
    assert queue.next_ticket_id(lone, only.id) is None
    assert queue.next_ticket_id(w.lead, soonest.id) == middle.id  # a lead walks the team's queue


def test_next_ticket_link_redirects_or_says_the_queue_is_empty(client, auth, queue_world):
    """The ticket page's 下一张 link: a redirect to the next ticket, or to the queue with a notice."""
    w = queue_world
    first = factories.make_ticket(w.outlet, reason=w.problem, reply_minutes=60)
    second = factories.make_ticket(w.outlet, reason=w.problem, reply_minutes=120)
    auth.login(w.agent)
    page = client.get(f"/tickets/{first.id}").get_data(as_text=True)
    assert f'href="/tickets/{first.id}/next"' in page and "下一张工单" in page
    response = client.get(f"/tickets/{first.id}/next")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/tickets/{second.id}")
    lone = factories.make_user("agent", username="agent_lone2", team=w.team)
    only = factories.make_ticket(factories.make_outlet(w.brand, lone), reason=w.problem)
    auth.logout()
    auth.login(lone)
    response = client.get(f"/tickets/{only.id}/next")
    assert response.status_code == 303 and response.headers["Location"].endswith("/tickets/")
    assert "您的队列中没有其他未结工单。" in client.get("/tickets/").get_data(as_text=True)


def test_start_with_the_most_urgent_opens_the_top_of_the_queue(client, auth, queue_world):
    """从最紧急的开始 on the queue page: /tickets/next opens the ticket with the nearest deadline."""
    w = queue_world
    factories.make_ticket(w.outlet, reason=w.problem, reply_minutes=120)
    urgent = factories.make_ticket(w.outlet2, reason=w.problem, reply_minutes=45)
    auth.login(w.agent)
    assert 'href="/tickets/next?from=queue"' in client.get("/tickets/").get_data(as_text=True)
    assert 'href="/tickets/next"' in client.get("/").get_data(as_text=True)  # the agent's home, open tickets held
    response = client.get("/tickets/next")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/tickets/{urgent.id}")


def test_next_ticket_follows_the_filter_and_sort_the_queue_last_showed(client, auth, queue_world):
    """An agent who filters the queue (留言 only, here by outlet) and opens a ticket goes on within
    that view: 下一张 and 返回工单队列 follow it, the page says so, and a start from home goes back to
    the default view. The kept view is cleaned again on use (a scope the user lost is dropped)."""
    w = queue_world
    first = factories.make_ticket(w.outlet, reason=w.problem, reply_minutes=60)
    other_outlet = factories.make_ticket(w.outlet2, reason=w.problem, reply_minutes=90)
    second = factories.make_ticket(w.outlet, reason=w.problem, reply_minutes=120)
    auth.login(w.agent)
    client.htmx("GET", f"/tickets/?outlet={w.outlet.id}")  # the filter, changed in place (htmx)
    page = parse(client.get(f"/tickets/{first.id}"))
    assert page.one("a", cls="crumbs-next").one(data_testid="next-filtered").text == "(按筛选)"
    back = page.one("p", cls="crumbs").find("a").get("href")
    assert back == f"/tickets/?scope=mine&outlet={w.outlet.id}"
    response = client.get(f"/tickets/{first.id}/next")
    assert response.headers["Location"].endswith(f"/tickets/{second.id}")  # not the other outlet's
    assert client.get(f"/tickets/{second.id}/next").headers["Location"].endswith(f"/tickets/{first.id}")  # wraps
    # From the queue page's button: the view it shows now.
    assert client.get("/tickets/next?from=queue").headers["Location"].endswith(f"/tickets/{first.id}")
    # Sorted the other way: the walk follows.
    client.get(f"/tickets/?outlet={w.outlet.id}&sort=registered")
    assert client.get("/tickets/next?from=queue").headers["Location"].endswith(f"/tickets/{second.id}")
    # From home: the default view again, the kept filter forgotten.
    assert client.get("/tickets/next").headers["Location"].endswith(f"/tickets/{first.id}")
    assert client.get(f"/tickets/{first.id}/next").headers["Location"].endswith(f"/tickets/{other_outlet.id}")
    page = parse(client.get(f"/tickets/{first.id}"))
    assert page.one("a", cls="crumbs-next").find(data_testid="next-filtered") is None
    # A view that holds nothing else: back to it, with a notice.
    client.get(f"/tickets/?outlet={w.outlet2.id}")
    response = client.get(f"/tickets/{other_outlet.id}/next")
    assert response.headers["Location"].endswith(f"/tickets/?scope=mine&outlet={w.outlet2.id}")
    assert "按您的筛选，队列中没有其他工单。" in client.get("/tickets/").get_data(as_text=True)


def test_a_kept_view_is_cleaned_again_when_used(queue_world):
    """The session's view is parsed like a URL: what the user may not use is dropped."""
    w = queue_world
    kept = queue.filter_from_query("scope=all&category=message&page=7&sort=zzz", w.agent)
    assert (kept.scope, kept.category, kept.sort) == (queue.default_scope(w.agent), "message", "deadline")
    assert queue.filter_from_query("", w.agent) is None
    assert queue.remembered_args(queue.QueueFilter(scope=queue.default_scope(w.agent), page=3), w.agent) == ""
