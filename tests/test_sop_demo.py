"""The demo SOP handbook: enough scenarios, linked to real reasons, versions numbered right,
a draft waiting for another trainer, required reading agent1 has not read; idempotent."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kdcs.demo import seed_demo
from kdcs.extensions import db
from kdcs.models import Ticket, TicketReason, User
from kdcs.models.sop import SopAcknowledgement, SopScenario, SopVersion, VersionStatus
from kdcs.sop import demo, panel

pytestmark = pytest.mark.slow  # seeds the whole demo company


@pytest.fixture
def seeded():
    """The whole demo company (seeding takes a few seconds: the checks share two tests)."""
    seed_demo()


def test_the_handbook(seeded):
    scenarios = db.session.scalars(select(SopScenario)).all()
    assert len(scenarios) == len(demo.SCENARIOS) >= 20
    titles = " ".join(s.title for s in scenarios)
    for topic in ("催件", "查件", "投诉安抚", "破损理赔", "遗失理赔", "拒收", "改地址", "延误致歉", "虚假签收投诉",
                  "拦截件", "保价咨询", "偏远地区派送", "仲裁举证（延误）", "仲裁举证（遗失）", "仲裁举证（破损）",
                  "网点沟通", "快递员沟通", "升级主管"):
        assert topic in titles, topic
    for scenario in scenarios:
        published = sorted((v for v in scenario.versions if v.status == VersionStatus.PUBLISHED), key=lambda v: v.number)
        assert [v.number for v in published] == list(range(1, len(published) + 1)), scenario.title
        assert scenario.current_version_id == published[-1].id, scenario.title
        assert scenario.reasons or scenario.categories, scenario.title
        for version in published:
            assert version.steps and all(s["limit_minutes"] for s in version.steps), scenario.title
            assert version.authority and version.reviewer_id != version.author_id, scenario.title
    assert sum(1 for s in scenarios if s.current_version.number >= 2) >= 5
    assert any(s.current_version.number == 3 for s in scenarios)
    _links_use_the_reference_reason_names()
    _lost_parcel_rule()
    _draft_waits_for_another_trainer()
    _required_reading_agent1_has_not_read()
    _every_demo_ticket_of_a_linked_reason_gets_a_panel()
    _reports_in_the_inbox()


def _reports_in_the_inbox():
    from kdcs.models.sop import SopReport

    reports = db.session.scalars(select(SopReport)).all()
    assert sorted(r.status for r in reports) == ["open", "open", "open", "resolved"]
    assert all(r.ticket_id for r in reports)
    resolved = next(r for r in reports if r.status == "resolved")
    assert db.session.get(SopVersion, resolved.resolved_version_id).number == 3


def _links_use_the_reference_reason_names():
    names = {(r.category, r.name) for r in db.session.scalars(select(TicketReason))}
    for spec in demo.SCENARIOS:
        for link in spec.get("links", []):
            assert link in names, (spec["title"], link)


def _lost_parcel_rule():
    lost = db.session.scalar(select(SopScenario).where(SopScenario.title == "遗失理赔")).current_version
    assert "运费 3 倍" in lost.script and "保价" in lost.script
    assert [s["limit_minutes"] for s in lost.steps] == [5, 30, 120]


def _draft_waits_for_another_trainer():
    draft = db.session.scalar(select(SopVersion).where(SopVersion.status == VersionStatus.IN_REVIEW))
    assert draft.number is None and draft.author.username == "trainer1" and draft.submitted_at is not None
    assert db.session.scalar(select(User).where(User.username == "trainer2")).role == "trainer"


def _required_reading_agent1_has_not_read():
    required = db.session.scalars(select(SopVersion).where(SopVersion.required_reading.is_(True))).all()
    assert len(required) == 1 and required[0].reading_due_at is not None
    agent1 = db.session.scalar(select(User).where(User.username == "agent1"))
    acks = db.session.scalars(select(SopAcknowledgement.user_id).where(
        SopAcknowledgement.version_id == required[0].id)).all()
    assert acks and agent1.id not in acks


def _every_demo_ticket_of_a_linked_reason_gets_a_panel():
    ticket = db.session.scalars(select(Ticket).join(TicketReason).where(TicketReason.name == "破损")).first()
    assert ticket is not None, "the demo has 破损 tickets"
    agent = ticket.assignee
    items = panel.for_ticket(ticket, agent).items
    assert items and items[0].match == "reason" and "破损" in items[0].version.title


def test_idempotent(seeded):
    before = db.session.scalar(select(func.count(SopVersion.id)))
    assert demo.seed_demo_scenarios() == {"sop_scenarios": 0, "sop_versions": 0}
    assert db.session.scalar(select(func.count(SopVersion.id))) == before
