"""The presence poll's one read statement (kdcs/tickets/presence.poll) and its heartbeat, written
only when the stored one is HEARTBEAT_REFRESH old: the same answers as the separate lookups, the
same scope as the ticket page (covering included), and no viewer dropping out between polls."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select, update

from kdcs.extensions import db
from kdcs.models import utcnow
from kdcs.models.leave import LeaveStatus
from kdcs.models.presence import TicketPresence
from kdcs.tickets import presence, queue, service
from tests.conftest import AuthActions
from tests.leave_data import make_leave
from tests.sql_statements import statements

HX = {"HX-Request": "true"}
TEMPLATE = Path(__file__).resolve().parent.parent / "kdcs" / "templates" / "tickets" / "detail.html"


def _seen_at(ticket_id: int, user_id: int):
    db.session.expire_all()
    return db.session.scalar(select(TicketPresence.seen_at).where(
        TicketPresence.ticket_id == ticket_id, TicketPresence.user_id == user_id))


def _set_seen_at(ticket_id: int, user_id: int, at) -> None:
    db.session.execute(update(TicketPresence).where(TicketPresence.ticket_id == ticket_id,
                                                    TicketPresence.user_id == user_id).values(seen_at=at))
    db.session.commit()


def test_the_window_outlasts_two_poll_intervals_and_a_lost_poll():
    """Polls every N s (the template); a heartbeat is rewritten at the first poll at least
    HEARTBEAT_REFRESH after the last write, so the stored one gets up to ~2 N old (3 N with one
    poll lost): the window is longer, so a viewer with the page open never drops out."""
    interval = int(re.search(r'presence_banner.*?hx-trigger="every (\d+)s"', TEMPLATE.read_text(), re.S).group(1))
    poll_every = timedelta(seconds=interval)
    assert presence.HEARTBEAT_REFRESH > poll_every  # else every poll writes: nothing saved
    assert presence.HEARTBEAT_REFRESH <= 2 * poll_every
    assert presence.PRESENCE_WINDOW > 3 * poll_every


def test_the_heartbeat_is_written_when_missing_or_stale_and_left_alone_when_fresh(client, auth, users, ticket_world):
    t, agent = ticket_world["mine"], users["agent"]
    auth.login(agent)
    url = f"/tickets/{t.id}/presence?version={t.version}"
    with statements() as seen:
        assert client.get(url, headers=HX).status_code == 200
    assert any(s.lstrip().upper().startswith("INSERT") for s in seen)  # no row yet: written
    first = _seen_at(t.id, agent.id)
    assert first is not None and utcnow() - first < timedelta(seconds=5)

    fresh = utcnow() - presence.HEARTBEAT_REFRESH + timedelta(seconds=3)
    _set_seen_at(t.id, agent.id, fresh)
    with statements() as seen:
        assert client.get(url, headers=HX).status_code == 200
    assert not any(s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for s in seen), seen
    assert _seen_at(t.id, agent.id) == fresh  # left as it was

    stale = utcnow() - presence.HEARTBEAT_REFRESH - timedelta(seconds=1)
    _set_seen_at(t.id, agent.id, stale)
    assert client.get(url, headers=HX).status_code == 200
    assert utcnow() - _seen_at(t.id, agent.id) < timedelta(seconds=5)  # rewritten


def test_a_viewer_between_heartbeats_stays_in_the_banner(app, users, ticket_world):
    """The lead's heartbeat is as old as it gets between two polls that both skip the write
    (just under HEARTBEAT_REFRESH + one interval): the agent still sees the lead; a heartbeat
    older than the window is someone who left."""
    t = ticket_world["mine"]
    presence.touch(users["lead"], t.id, now=utcnow() - presence.HEARTBEAT_REFRESH - timedelta(seconds=10))
    agent_client = app.test_client()
    AuthActions(agent_client).login(users["agent"])
    html = agent_client.get(f"/tickets/{t.id}/presence", headers=HX).get_data(as_text=True)
    assert "presence-viewers" in html and users["lead"].display_name in html
    _set_seen_at(t.id, users["lead"].id, utcnow() - presence.PRESENCE_WINDOW - timedelta(seconds=1))
    html = agent_client.get(f"/tickets/{t.id}/presence", headers=HX).get_data(as_text=True)
    assert "presence-viewers" not in html


def test_the_poll_answers_like_the_separate_lookups(users, ticket_world):
    """Version, viewers (by name), recent changes (newest first, one per person) and the scope:
    the same as visible_version, other_viewers and recent_changes_by_others, for every role."""
    t, far = ticket_world["mine"], ticket_world["far"]
    service.change_status(users["lead"], t.id, "in_progress", version=t.version)
    presence.touch(users["lead"], t.id)
    presence.touch(ticket_world["teammate"], t.id)
    presence.touch(users["admin"], t.id, now=utcnow() - timedelta(hours=2))  # gone
    for user in (users["agent"], users["lead"], users["admin"], ticket_world["teammate"], ticket_world["stranger"]):
        for ticket_id in (t.id, far.id, 10**9):
            state = presence.poll(user, ticket_id)
            version = presence.visible_version(user, ticket_id)
            if version is None:
                assert state is None, (user.username, ticket_id)
                continue
            assert state.version == version
            assert state.viewers == presence.other_viewers(user, ticket_id)
            assert state.recent == queue.recent_changes_by_others(ticket_id, user)
    agent_state = presence.poll(users["agent"], t.id)
    assert agent_state.viewers == sorted([users["lead"].display_name, ticket_world["teammate"].display_name])
    assert [r.actor for r in agent_state.recent] == [users["lead"].display_name]
    assert presence.poll(users["trainer"], t.id) is None


def test_a_substitute_polls_the_ticket_of_an_outlet_they_cover(client, auth, users, ticket_world):
    """Covering for someone on leave (代班) opens their outlets' tickets to the poll as to the page;
    the leave over, the ticket is out of scope again."""
    far, agent = ticket_world["far"], users["agent"]
    auth.login(agent)
    url = f"/tickets/{far.id}/presence"
    assert client.get(url, headers=HX).status_code == 404
    today = utcnow().date()
    leave = make_leave(ticket_world["stranger"], [ticket_world["other"]], agent, today - timedelta(days=1),
                       today + timedelta(days=1))
    assert client.get(url, headers=HX).status_code == 200
    assert presence.poll(agent, far.id).version == far.version
    for status, expected in ((LeaveStatus.IN_PROGRESS, 200), (LeaveStatus.SUBSTITUTE_ACCEPTED, 404),
                             (LeaveStatus.CANCELLED, 404), (LeaveStatus.RETURNED, 200)):
        leave.status = str(status)
        db.session.commit()
        assert client.get(url, headers=HX).status_code == expected, status
        assert (presence.poll(agent, far.id) is not None) == (presence.visible_version(agent, far.id) is not None)
    leave.returned_at = utcnow() - timedelta(minutes=1)  # came back early
    db.session.commit()
    assert client.get(url, headers=HX).status_code == 404
    leave.status, leave.returned_at = str(LeaveStatus.APPROVED), None
    leave.end_at = utcnow() - timedelta(minutes=1)
    leave.end_date = date.today()
    db.session.commit()
    assert client.get(url, headers=HX).status_code == 404


def test_the_poll_statements_are_built_once_with_nothing_to_expand_per_run(app):
    """No ``IN`` list in the poll's SQL (SQLAlchemy would expand it into the statement again at
    each run): the covering statuses are plain parameters."""
    for name in ("poll_admin", "poll_agent", "poll_lead"):
        statement = presence._statement(name)
        assert presence._statement(name) is statement
        assert "POSTCOMPILE" not in str(statement.compile(dialect=db.engine.dialect)), name


def test_old_heartbeats_are_pruned_by_the_periodic_task_not_by_page_loads(users, ticket_world):
    """A page load only upserts its own heartbeat; the task deletes the rows older than
    PRUNE_AFTER (of every ticket), keeps the recent ones, and finds nothing the second time."""
    from kdcs.tickets import tasks as ticket_tasks

    t, far = ticket_world["mine"], ticket_world["far"]
    old = utcnow() - presence.PRUNE_AFTER - timedelta(minutes=1)
    presence.touch(users["admin"], t.id, now=old)
    presence.touch(users["lead"], far.id, now=old)
    presence.touch(users["agent"], t.id)
    assert _seen_at(t.id, users["admin"].id) is not None  # the agent's touch left the old row alone
    deleted = ticket_tasks.prune_presence.call_local()
    assert deleted >= 2
    assert _seen_at(t.id, users["admin"].id) is None and _seen_at(far.id, users["lead"].id) is None
    assert _seen_at(t.id, users["agent"].id) is not None
    assert ticket_tasks.prune_presence.call_local() == 0
