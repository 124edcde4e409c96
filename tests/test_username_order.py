"""工号 sort naturally everywhere (agent2 before agent10), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models import User
from kdcs.models.user import username_order, username_sort_key
from tests import factories

NATURAL = ["agent1", "agent2", "agent10"]


@pytest.fixture
def agents(users):
    made = {name: factories.make_user("agent", username=name, team=users["team"], display_name=f"客服{name[5:]}")
            for name in ["agent10", "agent2", "agent1"]}
    return made


def _order_in(html: str, names=NATURAL) -> list[str]:
    """The given usernames in the order they first appear in ``html``."""
    positions = {name: re.search(rf"\b{name}\b", html) for name in names}
    missing = [name for name, match in positions.items() if match is None]
    assert not missing, missing
    return sorted(names, key=lambda name: positions[name].start())


def test_sql_order_and_python_key_agree():
    names = ["agent10", "B2", "agent2", "a10", "agent1", "20", "3", "agent", "Agent3", "b10"]
    for name in names:
        factories.make_user("agent", username=name)
    in_sql = list(db.session.scalars(select(User.username).order_by(*username_order())))
    assert in_sql == sorted(names, key=username_sort_key)
    assert in_sql == ["3", "20", "a10", "agent", "agent1", "agent2", "Agent3", "agent10", "B2", "b10"]


def test_admin_users_list_is_in_natural_order(client, auth, users, agents):
    auth.login(users["admin"])
    html = client.get("/admin/users?q=agent").get_data(as_text=True)
    assert _order_in(html) == NATURAL


def test_audit_actor_filter_is_in_natural_order(client, auth, users, agents):
    auth.login(users["admin"])
    html = client.get("/admin/audit").get_data(as_text=True)
    select_html = html[html.index('id="audit-actor"'):]
    assert _order_in(select_html[:select_html.index("</select>")]) == NATURAL


def test_team_members_and_choice_lists_are_in_natural_order(users, agents):
    from kdcs.org import service as org
    from kdcs.outlets import service as outlets
    from kdcs.tickets import service as tickets

    def names(rows):
        return [name for name in rows if name in NATURAL]

    assert names(m.user.username for m in org.team_members(users["admin"], users["team"])) == NATURAL
    assert names(u.username for u in outlets.assignable_agents()) == NATURAL
    assert names(u.username for u in tickets.assignable_users(users["admin"])) == NATURAL
    for name in NATURAL:
        agents[name].role = "lead"
    db.session.commit()
    assert names(u.username for u in org.lead_candidates(users["admin"])) == NATURAL


def test_home_pages_list_people_in_natural_order(client, users, agents):
    from kdcs.dashboard.service import agents_by_team, team_members

    assert [line.user.username for line in team_members(users["team"].id)] == ["lead_a", *NATURAL, "agent_a"]
    assert [u.username for _team, members in agents_by_team() for u in members] == [*NATURAL, "agent_a"]
