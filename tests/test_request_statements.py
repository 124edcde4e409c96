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


def test_presence_poll_runs_two_statements(client, auth, ticket_world):
    """The user, then one statement for the ticket's version in scope (covering included), who
    else is here, what others did lately and this user's own heartbeat; the heartbeat the first
    poll wrote is fresh, so no upsert (no ORM ticket, no prune of old rows on a poll)."""
    auth.login(ticket_world["agent"])
    ticket = ticket_world["mine"]
    count, sql = _count(client, f"/tickets/{ticket.id}/presence?version={ticket.version}", HX)
    assert count == 2, sql
    assert "DELETE" not in sql and "INSERT" not in sql


def test_bell_runs_one_statement(client, auth, ticket_world):
    """The user (the few columns a poll needs, kdcs/poll_user.py) with the unread count."""
    auth.login(ticket_world["agent"])
    count, sql = _count(client, "/notifications/bell", HX)
    assert count == 1, sql
    assert "password_hash" not in sql


def test_ticket_page_statements(client, auth, ticket_world):
    """The page (14: the ticket is not read again after the presence heartbeat's commit, and old
    heartbeats are pruned by a periodic task, not here; one for the 跟进 card) and the htmx body (11);
    a lead's (14 and 12)."""
    auth.login(ticket_world["agent"])
    ticket = ticket_world["mine"]
    count, sql = _count(client, f"/tickets/{ticket.id}")
    assert count == 14, sql
    assert sql.count("FROM tickets") == 1, sql
    assert "DELETE FROM ticket_presence" not in sql, sql
    count, sql = _count(client, f"/tickets/{ticket.id}", HX)
    assert count == 11, sql
    # A lead's page also lists whom the ticket may go to: one prebuilt statement with the going-live
    # gate in its SQL (was 17 and 14, with "is training required" asked apart); the assignee (the
    # agent, not the viewer) comes with the ticket (was a lazy load).
    auth.logout()
    auth.login(ticket_world["lead"])
    count, sql = _count(client, f"/tickets/{ticket.id}")
    assert count == 14, sql
    assert sql.count("FROM tickets") == 1, sql
    count, sql = _count(client, f"/tickets/{ticket.id}", HX)
    assert count == 12, sql
    from kdcs.extensions import db

    ticket.created_by_id = ticket_world["admin"].id  # entered by hand by someone else: named on the page
    db.session.commit()
    count, sql = _count(client, f"/tickets/{ticket.id}")
    assert count == 14, sql


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


def _reference_missing_reasons(service, user_id):
    """The course-by-course reading (``standing`` per course; ``missing_reasons`` before it became
    ``missing_reasons_many`` of one agent), kept here as the reference."""
    lines = []
    for course in service.required_courses():
        if service.pass_counts(service.result_for(user_id, course.id), course, service._today()) is not None:
            continue
        st = service.standing(user_id, course)
        lines.append(service._missing_line(course, st.quiz_needed and st.quiz_passed_at is None, st.missing_items))
    return lines


def test_missing_reasons_of_a_team_at_once_match_one_by_one():
    """The lead's home asks ``missing_reasons_many`` for every agent not live (a few statements
    instead of ~20 per agent); its lines are the course-by-course reading's for each agent: nothing done,
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
    expected = {agent.id: _reference_missing_reasons(service, agent.id) for agent in agents}
    assert any(len(lines) == 2 for lines in expected.values()) and [] in expected.values()
    with statements() as seen:
        assert service.missing_reasons_many([agent.id for agent in agents]) == expected
    assert len(seen) <= 6, "\n\n".join(seen)
    with statements() as seen:  # within the request, asked again for one agent (a badge): no statement
        assert service.missing_reasons(agents[0].id) == expected[agents[0].id]
    assert seen == []



def test_lead_home_statements_do_not_grow_with_the_team(client, auth, users):
    """The lead's home: a fixed number of statements whatever the team's size (per-agent figures from
    the counters and the tickets in one UNION ALL statement, the month's fines with the unassigned
    count in one, the team's name with the members, the latest month with the outlets, badges and
    not-live reasons for the team at once; it ran a certification lookup per agent and row and
    group-bys over every team ticket: 92 at 33 agents; 23 before the statements were merged)."""
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
    assert counted == [21, 21], (counted, sql)  # + the overtime waiting for the lead, + 跟进 (and its scope), + 质检 disputes


def _statements_of(client, url, headers=None) -> list[str]:
    """The statements of the second request of ``url`` (``_count``'s, as a list)."""
    client.get(url, headers=headers or {})
    with statements() as seen:
        response = client.get(url, headers=headers or {})
    assert response.status_code == 200, response.status_code
    return seen


def test_queue_page_statements(client, auth, ticket_world):
    """The queue's full page: the user, the coverage lookup, the page's rows, the tab's counters and
    the current hour's deadlines, the filter form's options (outlets, brands, reasons and, for a
    lead, the assignees: one UNION ALL statement), the bell, and for an agent the reading banner,
    the rows' open follow-ups (跟进 marks). The htmx fragment of a filter: the user, the coverage
    lookup, the rows, their follow-ups."""
    auth.login(ticket_world["agent"])
    seen = _statements_of(client, "/tickets/")
    assert len(seen) == 9, seen  # (no required SOP version here: the banner's acknowledgements are not read)
    [options] = [statement for statement in seen if "UNION ALL SELECT 2 AS kind" in statement]
    assert "FROM brands" in options and "FROM ticket_reasons" in options and "FROM outlets" in options, options
    seen = _statements_of(client, "/tickets/?scope=mine&category=problem", HX)
    assert len(seen) == 4, seen
    auth.logout()
    auth.login(ticket_world["lead"])
    seen = _statements_of(client, "/tickets/")
    assert len(seen) == 9, seen
    [options] = [statement for statement in seen if "UNION ALL SELECT 2 AS kind" in statement]
    assert "FROM brands" in options and "agent_certifications" in options, options


def test_agent_home_statements(client, auth, ticket_world):
    """A live agent's home: the user, the coverage lookup, the figures from the tab's counters (+ the
    current hour, + one statement for due today and evidence missing), the notices and their count
    (the bell shows that count: no second count), the outlet summary (rows with the latest month as a
    column, volumes, rates), training (the going-live row, the programme, assignments, whether
    training is required, due_for in one statement, ...), the reading banner."""
    from tests import factories
    from tests.training_cert_data import certify, make_course

    trainer = factories.make_user("trainer", username="pin_trainer")
    for course in (make_course(items=2), make_course("沟通技巧与共情话术", questions=0, items=1)):
        certify(ticket_world["agent"], course, trainer)
    auth.login(ticket_world["agent"])
    seen = _statements_of(client, "/")
    assert len(seen) == 16, "\n\n".join(seen)  # + 跟进 (one prebuilt statement)
    assert len([s for s in seen if "count(notifications.id)" in s]) == 1
    assert not [s for s in seen if s.startswith("SELECT max(outlet_volumes.month)")]


def _statements_as_courses_are_added(client, auth, agent, url: str) -> tuple[list[int], list[str]]:
    """The statements of ``url`` for a new agent with one, two, then three 上岗必修 courses."""
    from tests.training_cert_data import make_course

    counted = []
    for title in ("品牌规则与条款", "沟通技巧与共情话术", "品牌系统操作与收发派签"):
        make_course(title, items=1)
        auth.login(agent)
        seen = _statements_of(client, url)
        counted.append(len(seen))
        auth.logout()
    assert counted[0] == counted[1] == counted[2], (counted, "\n\n".join(seen))
    return counted, seen


def test_not_live_agent_home_statements_do_not_grow_with_the_courses(client, auth, ticket_world):
    """A new agent's home lists every 上岗必修 course not passed: their statuses at once
    (``course_statuses``), their lessons in one statement (no bodies), whether only a sign-off waits and the
    not-live reasons at once (``parts_missing``, ``missing_reasons_many``), whatever the number of
    courses (it was 4–7 statements more per course: 43 for three courses here, 55 on the bench)."""
    counted, seen = _statements_as_courses_are_added(client, auth, ticket_world["agent"], "/")
    assert counted[0] == 33, counted  # + 跟进 (1)
    # the lessons come without their Markdown bodies (the home shows titles) and without re-reading the courses
    lessons = [s for s in seen if "FROM training_lessons" in s]
    assert lessons and not any("training_lessons.body" in s for s in lessons), lessons


def test_my_training_statements_do_not_grow_with_the_courses(client, auth, ticket_world):
    """我的培训 (``/training/``) of a new agent: the quiz list reads every course's summary at once
    (``quiz.service.quiz_summaries``: it was two statements more per course)."""
    counted, _seen = _statements_as_courses_are_added(client, auth, ticket_world["agent"], "/training/")
    assert counted[0] == 28, counted


def test_certification_matrix_statements_do_not_grow_with_the_agents(client, auth, users):
    """The trainers' matrix reads every cell's status, the going-live rows and the not-live reasons
    at once: the same number of statements for 2 agents as for 6 (it was ~5 a cell and 2 a row)."""
    from tests import factories
    from tests.training_cert_data import make_course

    make_course(items=1)
    make_course("沟通技巧与共情话术", items=1)
    trainer = factories.make_user("trainer", username="pin_matrix_trainer")
    counted = []
    for size in (2, 6):
        for n in range(size):
            factories.make_user("agent", username=f"matrix{size}_{n}", team=users.team)
        auth.login(trainer)
        counted.append(len(_statements_of(client, "/training/matrix")))
        auth.logout()
    assert counted[0] == counted[1], counted


# --------------------------------------------------------------------------- ticket writes


def _count_post(client, url, data):
    with statements() as seen:
        response = client.post(url, data=data, headers=HX)
    assert response.status_code == 200, response.status_code
    return response, len(seen), "\n\n".join(seen)


def test_ticket_write_statements(client, auth, ticket_world):
    """The detail page's writes: a note (8: the user, its idempotency key, the ticket in scope, the
    event, the audit row, the key stored, then the scope and version again after the commit; its
    answer is its line and a fresh note box, not the ticket body), a status change (at most 13) and
    a reply (at most 16): the ticket is read once after the commit, with the user and what was
    written still loaded (no reload of each)."""
    from kdcs.tickets import idempotency

    auth.login(ticket_world["agent"])
    ticket = ticket_world["mine"]
    ticket_id, version = ticket.id, ticket.version
    client.get(f"/tickets/{ticket_id}")  # warms caches (templates, statements)
    client.post(f"/tickets/{ticket_id}/note", headers=HX,
                data={"note-body": "预热", "note-version": version, "note-key": idempotency.new_key()})
    response, count, sql = _count_post(client, f"/tickets/{ticket_id}/note", {
        "note-body": "已联系网点", "note-version": version, "note-key": idempotency.new_key()})
    assert response.headers.get("HX-Retarget") == "#act-note"
    assert count <= 8, sql
    assert sql.count("FROM tickets") == 2, sql  # in scope before the write, its version after
    _response, count, sql = _count_post(client, f"/tickets/{ticket_id}/status", {
        "status-to_status": "in_progress", "status-version": version})
    assert count <= 14, sql  # + the 跟进 card of the refreshed body
    assert sql.count("FROM users") == 1, sql  # the user is not loaded again after the commit
    _response, count, sql = _count_post(client, f"/tickets/{ticket_id}/replies", {
        "reply-channel": "phone", "reply-body": "已联系网点派送", "reply-set_status": "",
        "reply-version": version + 1, "reply-key": idempotency.new_key()})
    assert count <= 17, sql
    assert sql.count("FROM users") == 1, sql


def test_bulk_assign_checks_the_assignee_once_per_batch(client, auth, ticket_world):
    """A lead's bulk assignment: who takes the tickets is looked up and checked (active, certified)
    once for the batch, and neither the lead nor the assignee is read again after each ticket's
    commit; each further ticket costs at most 8 statements (it cost 13: the lead, the ticket, the
    assignee and its certification, the previous assignee, the audit row, the update, the event,
    the outlet, the leave lookup and two notifications)."""
    from tests import factories

    w = ticket_world
    tickets = [factories.make_ticket(w.own, reason=w.address) for _ in range(6)]
    auth.login(w.lead)
    client.get("/tickets/")
    counted = []
    for batch, target in ((tickets[:2], w.teammate), (tickets[2:], w.teammate)):
        with statements() as seen:
            response = client.post("/tickets/bulk", headers=HX, data={
                "ids": [t.id for t in batch], "action": "assign", "assignee_id": target.id, "note": "调整分工"})
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and body.count('<li class="ok">') == len(batch), body
        sql = "\n\n".join(seen)
        assert sql.count("FROM training_courses") <= 1, sql  # the certification gate, once
        counted.append(len(seen))
    assert counted[1] - counted[0] <= 2 * 8, counted
