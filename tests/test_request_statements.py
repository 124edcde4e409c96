"""How many SQL statements the hot requests run (bench/load.py's mix: the presence poll and the
bell are half of an agent's requests, the ticket page the heaviest common page). Pinned so a
change that adds a query per request shows up here, not only in the benchmark; a change that
removes one lowers the figure here."""

from __future__ import annotations

from tests.sql_statements import statements

HX = {"HX-Request": "true"}


def _count(client, url, headers=None):
    client.get(url, headers=headers or {})  # first request of a kind warms caches (templates, statements)
    with statements() as seen:
        response = client.get(url, headers=headers or {})
    assert response.status_code == 200, response.status_code
    return len(seen), "\n\n".join(seen)


def test_presence_poll_runs_six_statements(client, auth, ticket_world):
    """The user, the coverage lookup, the ticket's version in scope, who else is here, what others
    did lately, the heartbeat's upsert (no ORM ticket, no prune of old rows on a poll)."""
    auth.login(ticket_world["agent"])
    ticket = ticket_world["mine"]
    count, sql = _count(client, f"/tickets/{ticket.id}/presence?version={ticket.version}", HX)
    assert count == 6, sql
    assert "DELETE" not in sql


def test_bell_runs_two_statements(client, auth, ticket_world):
    """The user (the few columns a poll needs, kdcs/poll_user.py) and the unread count."""
    auth.login(ticket_world["agent"])
    count, sql = _count(client, "/notifications/bell", HX)
    assert count == 2, sql
    assert "password_hash" not in sql


def test_ticket_page_statements(client, auth, ticket_world):
    """The page (15: the ticket is not read again after the presence heartbeat's commit) and the
    htmx body (11); a lead's (15 and 12)."""
    auth.login(ticket_world["agent"])
    ticket = ticket_world["mine"]
    count, sql = _count(client, f"/tickets/{ticket.id}")
    assert count == 15, sql
    assert sql.count("FROM tickets") == 1, sql
    count, sql = _count(client, f"/tickets/{ticket.id}", HX)
    assert count == 11, sql
    # A lead's page also lists whom the ticket may go to: one prebuilt statement with the going-live
    # gate in its SQL (was 17 and 14, with "is training required" asked apart); the assignee (the
    # agent, not the viewer) comes with the ticket (was a lazy load).
    auth.logout()
    auth.login(ticket_world["lead"])
    count, sql = _count(client, f"/tickets/{ticket.id}")
    assert count == 15, sql
    assert sql.count("FROM tickets") == 1, sql
    count, sql = _count(client, f"/tickets/{ticket.id}", HX)
    assert count == 12, sql
    from kdcs.extensions import db

    ticket.created_by_id = ticket_world["admin"].id  # entered by hand by someone else: named on the page
    db.session.commit()
    count, sql = _count(client, f"/tickets/{ticket.id}")
    assert count == 15, sql


def test_presence_poll_keeps_the_ticket_scope(client, auth, ticket_world):
    """The poll's prebuilt scope statements answer like the ticket page: the agent's own ticket,
    not another team's; the lead's team's ticket; the admin's any."""
    poll = "/tickets/{}/presence"
    auth.login(ticket_world["agent"])
    assert client.get(poll.format(ticket_world["mine"].id), headers=HX).status_code == 200
    assert client.get(poll.format(ticket_world["far"].id), headers=HX).status_code == 404
    auth.logout()
    auth.login(ticket_world["lead"])
    assert client.get(poll.format(ticket_world["team_ticket"].id), headers=HX).status_code == 200
    assert client.get(poll.format(ticket_world["far"].id), headers=HX).status_code == 404
    auth.logout()
    auth.login(ticket_world["admin"])
    assert client.get(poll.format(ticket_world["far"].id), headers=HX).status_code == 200


def test_missing_reasons_of_a_team_at_once_match_one_by_one():
    """The lead's home asks ``missing_reasons_many`` for every agent not live (a few statements
    instead of ~20 per agent); its lines are ``missing_reasons``' for each agent: nothing done,
    quiz failed, quiz passed with a failed or missing sign-off, everything done, two courses."""
    from kdcs.training.certification import service
    from tests import factories
    from tests.training_cert_data import certify, make_course, sign_off, take_quiz

    team = factories.make_team("一组")
    agents = [factories.make_user("agent", username=f"batch{i}", team=team) for i in range(6)]
    trainer = factories.make_user("trainer", username="batchtrainer")
    rules = make_course(items=2)
    comms = make_course("沟通技巧与共情话术", questions=0, items=1)
    take_quiz(agents[1], rules, False)
    take_quiz(agents[2], rules, True)
    take_quiz(agents[3], rules, True)
    sign_off(trainer, agents[3], rules, passed=False)
    certify(agents[4], rules, trainer)
    sign_off(trainer, agents[4], comms)
    sign_off(trainer, agents[5], comms)
    expected = {agent.id: service.missing_reasons(agent.id) for agent in agents}
    assert any(len(lines) == 2 for lines in expected.values()) and [] in expected.values()
    with statements() as seen:
        assert service.missing_reasons_many([agent.id for agent in agents]) == expected
    assert len(seen) <= 6, "\n\n".join(seen)
    with statements() as seen:  # within the request, asked again for one agent (a badge): no statement
        assert service.missing_reasons(agents[0].id) == expected[agents[0].id]
    assert seen == []



def test_lead_home_statements_do_not_grow_with_the_team(client, auth, users):
    """The lead's home: a fixed number of statements whatever the team's size (per-agent figures from
    the counters and two statements on the tickets, badges and not-live reasons for the team at once;
    it ran a certification lookup per agent and row and group-bys over every team ticket: 92 at 33 agents)."""
    from tests import factories
    from tests.training_cert_data import make_course

    make_course(items=2)
    counted = []
    for size in (2, 6):
        for n in range(size):
            factories.make_outlet(agent=factories.make_user("agent", username=f"pin{size}_{n}", team=users.team))
        auth.login(users.lead)
        count, sql = _count(client, "/")
        counted.append(count)
        auth.logout()
    assert counted == [23, 23], (counted, sql)
