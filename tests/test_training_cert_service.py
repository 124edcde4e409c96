"""Certification rules (kdcs/training/certification/service.py and gate.py): passing a course,
going live, no training means everyone is live, recertification flags then lapses, expiry,
reset archives, sign-off rights."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kdcs.extensions import db
from kdcs.models import AuditLog
from kdcs.models.training import (
    AgentCertification,
    CertificationState,
    PracticalSignoff,
    QuizAttempt,
)
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import ValidationError
from kdcs.training.certification import gate, service
from tests import factories
from tests.training_cert_data import certify, make_course, sign_off, take_quiz


@pytest.fixture
def people():
    team = factories.make_team("一组")
    other = factories.make_team("二组")
    return {
        "agent": factories.make_user("agent", username="agentx", team=team, display_name="小王"),
        "agent2": factories.make_user("agent", username="agenty", team=other, display_name="小李"),
        "lead": factories.make_user("lead", username="leadx", team=team),
        "trainer": factories.make_user("trainer", username="trainerx"),
    }


def test_no_required_course_means_everyone_is_certified(people):
    make_course(required=False)
    assert gate.is_certified(people["agent"])
    assert gate.refusal_reason(people["agent"]) is None
    assert gate.certified_ids([people["agent"].id]) == {people["agent"].id}


def test_pass_quiz_and_practical_certifies(people):
    agent, trainer = people["agent"], people["trainer"]
    course = make_course()
    reason = gate.refusal_reason(agent)
    assert reason and "品牌规则与条款" in reason
    assert service.course_status(agent.id, course) == service.NOT_STARTED
    take_quiz(agent, course, False)
    assert service.course_status(agent.id, course) == service.FAILED
    take_quiz(agent, course, True)
    assert service.course_status(agent.id, course) == service.IN_PROGRESS
    assert "情景模拟1" in gate.refusal_reason(agent)
    assert not gate.is_certified(agent)
    sign_off(trainer, agent, course)
    assert service.course_status(agent.id, course) == service.PASSED
    cert = db.session.get(AgentCertification, agent.id)
    assert cert.state == CertificationState.CERTIFIED and cert.certified_at is not None
    assert gate.refusal_reason(agent) is None
    assert gate.certified_ids([agent.id, people["agent2"].id]) == {agent.id}
    signoff = db.session.query(PracticalSignoff).one()
    assert signoff.checklist == [{"text": "开场白规范", "ok": True}, {"text": "核实运单号", "ok": True}]


def test_failed_signoff_does_not_certify(people):
    agent, trainer = people["agent"], people["trainer"]
    course = make_course()
    take_quiz(agent, course, True)
    sign_off(trainer, agent, course, passed=False)
    assert not gate.is_certified(agent)


def test_required_change_flags_then_lapses(people):
    agent, trainer = people["agent"], people["trainer"]
    course = make_course()
    certify(agent, course, trainer)
    course.revision = 2
    service.on_course_published(course, True, trainer)
    db.session.commit()
    cert = db.session.get(AgentCertification, agent.id)
    assert cert.state == CertificationState.FLAGGED
    assert cert.flagged_until == service._today() + timedelta(days=14)
    assert gate.is_certified(agent)
    assert service.course_status(agent.id, course) == service.RECERT_DUE
    # the due day passes: the gate refuses at once, the periodic lapse records it
    later = service._today() + timedelta(days=15)
    assert not gate.is_certified(agent, today=later)
    from datetime import UTC, datetime
    service.lapse_due(now=datetime.now(UTC) + timedelta(days=15))
    db.session.commit()
    assert db.session.get(AgentCertification, agent.id).state == CertificationState.LAPSED
    # re-passing the new revision certifies again
    certify(agent, course, trainer)
    assert db.session.get(AgentCertification, agent.id).state == CertificationState.CERTIFIED


def test_new_required_course_flags_live_agents_only(people):
    agent, agent2, trainer = people["agent"], people["agent2"], people["trainer"]
    first = make_course()
    certify(agent, first, trainer)
    second = make_course("沟通技巧与共情话术")
    service.on_course_published(second, False, trainer)
    db.session.commit()
    assert db.session.get(AgentCertification, agent.id).state == CertificationState.FLAGGED
    assert gate.is_certified(agent)
    assert not gate.is_certified(agent2)
    assert "沟通技巧与共情话术" in gate.refusal_reason(agent2)


def test_expiry_lapses(people):
    agent, trainer = people["agent"], people["trainer"]
    course = make_course(valid_days=30)
    certify(agent, course, trainer)
    from datetime import UTC, datetime
    assert service.lapse_due(now=datetime.now(UTC) + timedelta(days=32)) == [agent.id]
    db.session.commit()
    assert db.session.get(AgentCertification, agent.id).state == CertificationState.LAPSED


def test_reset_archives_and_uncertifies(people):
    agent, trainer = people["agent"], people["trainer"]
    course = make_course()
    certify(agent, course, trainer)
    with pytest.raises(ValidationError):
        service.reset_attempts(trainer, agent.id, course.id, "")
    with pytest.raises(PermissionDenied):
        service.reset_attempts(people["lead"], agent.id, course.id, "重考")
    assert service.reset_attempts(trainer, agent.id, course.id, "作弊嫌疑，重考") == 2
    assert db.session.query(QuizAttempt).filter_by(is_archived=True).count() == 1
    assert db.session.query(PracticalSignoff).filter_by(is_archived=True).count() == 1
    assert not gate.is_certified(agent)
    assert db.session.query(AuditLog).filter_by(action="training.reset").count() == 1


def test_lead_signs_off_own_team_only(people):
    course = make_course()
    sign_off(people["lead"], people["agent"], course)
    with pytest.raises(PermissionDenied):
        sign_off(people["lead"], people["agent2"], course)
    with pytest.raises(PermissionDenied):
        sign_off(people["agent"], people["agent"], course)


def test_reminders_are_sent_once_and_lapse(people):
    from datetime import UTC, datetime

    from kdcs.models import Notification
    from kdcs.models.training import TrainingAssignment
    from kdcs.training.certification import reminders

    agent, trainer, lead = people["agent"], people["trainer"], people["lead"]
    lead.team.lead_id = lead.id
    db.session.commit()
    course = make_course()
    certify(agent, course, trainer)
    course.revision = 2
    service.on_course_published(course, True, trainer)
    db.session.add(TrainingAssignment(user_id=people["agent2"].id, course_id=course.id,
                                      due_on=service._today() - timedelta(days=1)))
    db.session.commit()
    before = db.session.query(Notification).count()
    soon = datetime.now(UTC) + timedelta(days=12)
    counts = reminders.send_reminders(soon)
    assert counts["recert_soon"] == 1 and counts["assignment_overdue"] == 1
    assert reminders.send_reminders(soon)["recert_soon"] == 0  # once
    late = datetime.now(UTC) + timedelta(days=15)
    counts = reminders.send_reminders(late)
    assert counts["lapsed"] == 1 and counts["recert_missed"] == 1
    assert reminders.send_reminders(late) == {k: 0 for k in counts}
    assert db.session.get(AgentCertification, agent.id).state == CertificationState.LAPSED
    lead_notes = db.session.query(Notification).filter_by(user_id=lead.id).all()
    assert any("复训" in n.title or "re-pass" in n.title.lower() for n in lead_notes)
    assert db.session.query(Notification).count() - before == 4  # soon, overdue (agent2), missed (agent + lead)


def test_expiry_reminder_then_expired(people):
    from datetime import UTC, datetime

    from kdcs.training.certification import reminders

    agent, trainer = people["agent"], people["trainer"]
    course = make_course(valid_days=30)
    certify(agent, course, trainer)
    assert reminders.send_reminders(datetime.now(UTC) + timedelta(days=20))["expiry_soon"] == 1
    counts = reminders.send_reminders(datetime.now(UTC) + timedelta(days=31))
    assert counts["expired"] == 1 and counts["lapsed"] == 1


def test_a_required_course_without_quiz_or_items_is_not_passed_by_itself(people):
    make_course("只读课程", questions=0, items=0)
    service.recompute(people["agent"].id)
    db.session.commit()
    assert not gate.is_certified(people["agent"]) and "只读课程" in gate.refusal_reason(people["agent"])


def test_expired_pass_is_renewed_only_by_a_new_pass(people):
    agent, trainer = people["agent"], people["trainer"]
    course = make_course(valid_days=30)
    certify(agent, course, trainer)
    result = service.result_for(agent.id, course.id)
    result.expires_on = service._today() - timedelta(days=1)  # the pass ran out yesterday
    db.session.commit()
    assert service.lapse_due() == [agent.id]
    service.recompute(agent.id)  # old attempts do not renew it
    db.session.commit()
    assert db.session.get(AgentCertification, agent.id).state == CertificationState.LAPSED
    take_quiz(agent, course, True)  # a new pass (the sign-off stands): live again, valid 30 days from now
    assert service.result_for(agent.id, course.id).expires_on == service._today() + timedelta(days=30)
    assert db.session.get(AgentCertification, agent.id).state == CertificationState.CERTIFIED
