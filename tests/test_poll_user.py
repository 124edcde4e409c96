"""The polls (bell, presence) see a PollUser: a few columns instead of the ORM user, the same
checks on the session (active account, current token), the full user when asked for more."""

from __future__ import annotations

from kdcs.extensions import db
from kdcs.models import User
from kdcs.poll_user import PollUser, load_poll_user

HX = {"HX-Request": "true"}


def _user(user_id: int) -> User:
    return db.session.get(User, user_id)


def test_polls_answer_for_an_active_session(client, auth, ticket_world):
    auth.login(ticket_world["agent"])
    ticket = ticket_world["mine"]
    assert client.get("/notifications/bell", headers=HX).status_code == 200
    response = client.get(f"/tickets/{ticket.id}/presence?version={ticket.version}", headers=HX)
    assert response.status_code == 200


def test_a_deactivated_account_is_logged_out_by_the_next_poll(client, auth, ticket_world):
    agent = ticket_world["agent"]
    auth.login(agent)
    ticket_id, version = ticket_world["mine"].id, ticket_world["mine"].version
    db.session.execute(db.update(User).where(User.id == agent.id).values(is_active_account=False))
    db.session.commit()
    for url in ("/notifications/bell", f"/tickets/{ticket_id}/presence?version={version}"):
        response = client.get(url, headers=HX)
        assert response.headers.get("HX-Redirect", "").startswith("/login"), url


def test_a_rotated_session_token_ends_the_session_on_a_poll(client, auth, ticket_world):
    agent = ticket_world["agent"]
    auth.login(agent)
    db.session.execute(db.update(User).where(User.id == agent.id).values(session_token="rotated"))
    db.session.commit()
    response = client.get("/notifications/bell", headers=HX)
    assert response.headers.get("HX-Redirect", "").startswith("/login")


def test_poll_user_reads_columns_and_loads_the_full_user_only_when_asked(ticket_world):
    agent = _user(ticket_world["agent"].id)
    token = agent.session_token
    db.session.expunge_all()
    poll = load_poll_user(agent.id, token, "10.0.0.9")
    assert isinstance(poll, PollUser)
    assert (poll.id, poll.role, poll.team_id, poll.is_active, poll.get_id()) == (
        agent.id, agent.role, agent.team_id, True, f"{agent.id}:{token}")
    assert "_user" not in poll.__dict__ or poll.__dict__["_user"] is None
    assert poll.username == agent.username  # not a column it read: the full user, loaded once
    full = poll.__dict__["_user"]
    assert isinstance(full, User) and full.acting_from == "10.0.0.9"
    assert poll == full and hash(poll) == hash(load_poll_user(agent.id, token, None))
    assert load_poll_user(agent.id, "wrong", None) is None
    assert load_poll_user(10**9, token, None) is None
