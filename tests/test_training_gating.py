"""The going-live gate (上岗) in outlets, tickets (single, bulk, import) and leave substitutes: the
service functions refuse an uncertified agent with a Chinese reason naming the missing course,
and the choosers do not offer them. Worlds without a published 上岗必修 course are unaffected."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kdcs.extensions import db
from kdcs.leave import service as leave_service
from kdcs.models import Ticket
from kdcs.outlets import service as outlets
from kdcs.service_errors import ValidationError
from kdcs.tickets import service as tickets
from kdcs.training.certification import gate
from tests import factories
from tests.test_leave_service import make_leave_world, next_monday
from tests.test_tickets_import import SAMPLE_XLS, job_from, map_form, upload
from tests.training_cert_data import certify, make_course

COURSE = "品牌规则与条款"


@pytest.fixture
def course():
    return make_course(COURSE)


def test_outlet_primary_agent_refused_with_course_name(users, course):
    outlet = factories.make_outlet()
    with pytest.raises(ValidationError) as error:
        outlets.assign_primary_agent(users.admin, outlet, users.agent.id)
    message = error.value.errors["agent_id"]
    assert COURSE in message and "上岗" in message
    assert users.agent not in outlets.assignable_agents()
    certify(users.agent, course, users.trainer)
    assert users.agent in outlets.assignable_agents()
    outlets.assign_primary_agent(users.admin, outlet, users.agent.id)
    assert outlet.primary_agent_id == users.agent.id


def test_without_required_course_everything_works(users):
    make_course(COURSE, required=False)
    outlet = factories.make_outlet()
    outlets.assign_primary_agent(users.admin, outlet, users.agent.id)
    assert users.agent in outlets.assignable_agents()
    assert users.agent in tickets.assignable_users(users.lead)


def test_outlet_form_chooser_does_not_offer_uncertified(client, auth, users, course):
    outlet = factories.make_outlet()
    auth.login(users.admin)
    page = client.get(f"/outlets/{outlet.id}").get_data(as_text=True)
    assert f'value="{users.agent.id}"' not in page


def test_ticket_assign_single_and_bulk_refused(users, course):
    outlet = factories.make_outlet(agent=users.lead)  # any outlet in the lead's scope
    ticket = factories.make_ticket(outlet, assignee=users.lead)
    with pytest.raises(ValidationError) as error:
        tickets.assign(users.lead, ticket.id, users.agent.id, version=ticket.version)
    assert COURSE in error.value.errors["assignee_id"]
    results = tickets.bulk_apply(users.lead, [ticket.id], "assign", assignee_id=users.agent.id)
    assert not results[0].changed and COURSE in results[0].message
    assert users.agent not in tickets.assignable_users(users.lead)
    assert users.lead in tickets.assignable_users(users.lead)  # leads are not gated
    certify(users.agent, course, users.trainer)
    assert users.agent in tickets.assignable_users(users.lead)
    tickets.assign(users.lead, ticket.id, users.agent.id, version=db.session.get(Ticket, ticket.id).version)


def test_ticket_detail_chooser_does_not_offer_uncertified(client, auth, users, course):
    outlet = factories.make_outlet(agent=users.lead)
    ticket = factories.make_ticket(outlet, assignee=users.lead)
    auth.login(users.admin)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert f"（{users.agent.username}）" not in page


def test_new_ticket_of_an_uncertified_agents_outlet_waits_unassigned(users, course):
    from kdcs.tickets.reference import seed_reference_data

    seed_reference_data(calendar=False)
    outlet = factories.make_outlet(agent=users.agent)
    ctx = tickets.CreateContext.for_actor(users.admin)
    assert ctx.may_receive(users.agent) is False
    certify(users.agent, course, users.trainer)
    assert tickets.CreateContext.for_actor(users.admin).may_receive(users.agent) is True
    assert outlet.primary_agent_id == users.agent.id


def test_import_leaves_uncertified_agents_tickets_unassigned(client, auth, sto_world):
    make_course(COURSE)
    auth.login(sto_world["lead"])
    job = job_from(upload(client, sto_world["brand"], SAMPLE_XLS, "进港投诉明细.xls"))
    client.post(f"/tickets/import/{job.id}/map", data=map_form(job))
    assert client.post(f"/tickets/import/{job.id}/commit").status_code == 303
    imported = db.session.scalars(select(Ticket)).all()
    assert imported and all(t.assignee_id is None for t in imported)


def test_substitute_refused_and_not_offered():
    world = make_leave_world()
    course = make_course(COURSE)
    trainer = factories.make_user("trainer")
    start = next_monday(5)
    checks = leave_service.substitute_checks(world.agent3, world.agent4, *_window(start))
    certified = next(c for c in checks if c.code == "certified")
    assert certified.ok is False and COURSE in certified.message
    assert leave_service.blocking(checks)
    assert world.agent4 not in leave_service.substitute_candidates(world.agent3)
    certify(world.agent4, course, trainer)
    checks = leave_service.substitute_checks(world.agent3, world.agent4, *_window(start))
    assert next(c for c in checks if c.code == "certified").ok is True
    assert world.agent4 in leave_service.substitute_candidates(world.agent3)


def test_refusal_reason_names_course_and_part(users, course):
    reason = gate.refusal_reason(users.agent)
    assert COURSE in reason and "测验" in reason


def _window(start):
    from datetime import UTC, datetime
    at = datetime(start.year, start.month, start.day, 1, tzinfo=UTC)
    return at, at + timedelta(days=1)


def test_queue_filter_still_lists_uncertified_holders(users, course):
    assert users.agent not in tickets.assignable_users(users.lead)
    assert users.agent in tickets.assignable_users(users.lead, certified_only=False)
