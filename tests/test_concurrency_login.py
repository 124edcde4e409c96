"""Logging in never conflicts (issue 13): with another login of the same user, nor with an
admin's edit form of that user. Threads against a real server, not the test client."""

from __future__ import annotations

from kdcs.auth.service import record_login
from kdcs.extensions import db
from kdcs.models import LoginAttempt, User
from tests import factories
from tests.live import Browser, live_server, run_together

LOGINS = 8


def test_simultaneous_logins_of_one_user_all_succeed(app, users):
    agent_id, version = users.agent.id, users.agent.version
    with live_server(app) as address:
        for round_ in range(3):  # fresh browsers each round (a logged-in one is sent home)
            browsers = [Browser(address) for _ in range(LOGINS)]
            results = run_together(LOGINS, lambda i, b=browsers: b[i].login("agent_a", factories.PASSWORD))
            statuses = [r if isinstance(r, Exception) else r[0] for r in results]
            assert statuses == [303] * LOGINS, (round_, statuses)
        # Every browser is logged in: its home page answers 200, not the login page.
        homes = run_together(LOGINS, lambda i: browsers[i].request("GET", "/")[0])
        assert homes == [200] * LOGINS
    db.session.expire_all()
    agent = db.session.get(User, agent_id)
    assert agent.last_login_at is not None
    assert agent.version == version  # bookkeeping is not an edit
    assert db.session.query(LoginAttempt).filter_by(username="agent_a", succeeded=True).count() == 3 * LOGINS


def test_admin_edit_form_saves_after_the_user_logged_in(app, client, auth, users):
    agent = users.agent
    auth.login(users.admin)
    form = client.htmx("get", f"/admin/users/{agent.id}/edit")
    assert form.status_code == 200
    seen_version = agent.version
    with live_server(app) as address:  # the agent logs in while the admin's form is open
        assert Browser(address).login("agent_a", factories.PASSWORD)[0] == 303
    response = client.htmx("post", f"/admin/users/{agent.id}/edit", data={
        "display_name": "改过的名字", "role": "agent", "team_id": "0", "phone": "", "version": str(seen_version),
    })
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    db.session.expire_all()
    assert db.session.get(User, agent.id).display_name == "改过的名字"


def test_record_login_keeps_the_version_and_the_object_in_step(users):
    agent = users.agent
    version = agent.version
    record_login(agent)
    db.session.commit()
    assert agent.last_login_at is not None and agent.version == version
    db.session.expire_all()
    assert db.session.get(User, agent.id).version == version
