"""Records for the required-reading tests: scenarios and published versions written directly
with the models (no sop-core service), and a small company of two teams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kdcs.extensions import db
from kdcs.models.sop import SopAcknowledgement, SopScenario, SopVersion, VersionStatus
from tests import factories
from tests.worlds import World

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 Beijing time, a Monday


def make_scenario(title: str = "破损理赔", kind: str = "claim", archived: bool = False) -> SopScenario:
    scenario = SopScenario(title=title, kind=kind, tags=[], categories=[], is_archived=archived)
    db.session.add(scenario)
    db.session.commit()
    return scenario


def publish(scenario: SopScenario, *, required: bool = True, teams=(), published_at: datetime = T0,
            due_at: datetime | None = None, minor: bool = False, script: str = "您好，{客户称呼}。") -> SopVersion:
    """The next published version of ``scenario`` (as sop-core's approve would leave it)."""
    from kdcs.sop.reading import service

    number = 1 + max((v.number or 0 for v in scenario.versions), default=0)
    version = SopVersion(
        scenario_id=scenario.id, number=number, status=VersionStatus.PUBLISHED, title=scenario.title,
        script=script, steps=[], published_at=published_at, required_reading=required,
        reading_team_ids=[t.id for t in teams], reading_due_at=due_at, minor_edit=minor,
    )
    db.session.add(version)
    db.session.flush()
    scenario.current_version_id = version.id
    service.on_published(version)
    db.session.commit()
    return version


def acknowledge(user, version, at: datetime) -> SopAcknowledgement:
    ack = SopAcknowledgement(user_id=user.id, version_id=version.id, acknowledged_at=at)
    db.session.add(ack)
    db.session.commit()
    return ack


def make_reading_world() -> World:
    """Teams 一组 (lead_a, agent_a, agent_b) and 二组 (lead_b, agent_c); trainer and admin;
    all accounts created a week before T0."""
    from kdcs.models import User

    one = factories.make_team("一组")
    two = factories.make_team("二组")
    lead_a = factories.make_user("lead", username="lead_a", team=one, display_name="王丽")
    lead_b = factories.make_user("lead", username="lead_b", team=two, display_name="陈刚")
    one.lead_id, two.lead_id = lead_a.id, lead_b.id
    world = World(
        one=one, two=two, lead_a=lead_a, lead_b=lead_b,
        agent_a=factories.make_user("agent", username="agent_a", team=one, display_name="张伟"),
        agent_b=factories.make_user("agent", username="agent_b", team=one, display_name="李娜"),
        agent_c=factories.make_user("agent", username="agent_c", team=two, display_name="郑洋"),
        trainer=factories.make_user("trainer", username="trainer_a", display_name="刘芳"),
        admin=factories.make_user("admin", username="admin_a", display_name="系统管理员"),
    )
    for user in db.session.scalars(db.select(User)):
        user.created_at = T0 - timedelta(days=7)
    db.session.commit()
    return world
