"""The ticket page's timeline lines are kept per process (kdcs/tickets/timeline_view.py): what a
kept line shows must always be what the event says now."""

from __future__ import annotations

from kdcs.extensions import db
from kdcs.models import TicketEvent, utcnow


def _timeline(client, ticket):
    html = client.get(f"/tickets/{ticket.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    start = html.index('id="ticket-timeline"')
    return html[start:html.index("</ol>", start)]


def test_a_renamed_actor_shows_the_new_name_on_kept_lines(client, auth, users, ticket_world):
    ticket = ticket_world["mine"]
    agent = users["agent"]
    db.session.add(TicketEvent(ticket_id=ticket.id, actor_id=agent.id, kind="note", body="第一条备注", at=utcnow()))
    db.session.commit()
    auth.login(agent)
    first = _timeline(client, ticket)
    assert "第一条备注" in first and agent.display_name in first
    assert _timeline(client, ticket) == first  # the kept lines: the same HTML
    agent.display_name = "改名后的客服"
    db.session.commit()
    assert "改名后的客服" in _timeline(client, ticket)


def test_sop_lines_are_not_kept(client, auth, users, ticket_world):
    """A "sop" line names a script version, which may be deleted later: described on every page."""
    ticket = ticket_world["mine"]
    db.session.add(TicketEvent(ticket_id=ticket.id, actor_id=users["agent"].id, kind="sop", from_value="insert",
                               to_value="999999", body="", at=utcnow()))
    db.session.commit()
    auth.login(users["agent"])
    html = _timeline(client, ticket)
    assert "ev-sop" in html
    from kdcs.tickets import timeline_view

    kept = [key for cache in timeline_view._HTML.values() for key in cache]
    assert kept and all(row[3] != "sop" for _template, row in kept)
