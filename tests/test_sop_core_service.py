"""SOP scenarios and versions (kdcs/sop/service.py): drafts, review, publishing, restore, archive."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kdcs.extensions import db
from kdcs.models import Notification, utcnow
from kdcs.models.audit import AuditLog
from kdcs.models.sop import SopScenario, SopVersion, VersionStatus
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import StaleEdit, ValidationError
from kdcs.sop import service as svc
from tests import factories

SCRIPT = "您好{客户称呼}，您的快件{运单号}外包装破损，我们已登记，{时限}前给您答复。"


@pytest.fixture
def w(users):
    users["trainer2"] = factories.make_user("trainer", username="trainer_b", display_name="周敏")
    return users


@pytest.fixture
def calls(monkeypatch):
    """The contract calls on publish (search index, required reading), recorded."""
    seen = {"reindex": [], "published": []}
    monkeypatch.setattr("kdcs.sop.search.reindex_scenario", lambda s: seen["reindex"].append(s.id))
    monkeypatch.setattr("kdcs.sop.reading.service.on_published", lambda v: seen["published"].append(v.id))
    return seen


def new_scenario(author, title="破损理赔", script=SCRIPT, **extra):
    fields = {"kind": "claim", "tags": "破损、理赔", "categories": ["problem"], "reason_ids": [], "script": script,
              "steps": [{"text": "响应客户", "limit_minutes": 5}, {"text": "核实物流", "limit_minutes": 30}],
              "max_compensation": "200", "authority": "可直接登记补发", "escalation": "超过上限找组长"}
    fields.update(extra)
    return svc.create_scenario(author, title=title, **fields)


def publish(author, reviewer, scenario, **reading) -> SopVersion:
    draft = svc.open_draft(scenario)
    svc.submit_for_review(author, draft)
    return svc.approve(reviewer, draft, **reading)


def notifications(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


# --------------------------------------------------------------------------- creating and saving


def test_create_scenario_makes_the_first_draft_and_audits_both(w):
    scenario = new_scenario(w.trainer)
    draft = svc.open_draft(scenario)
    assert draft.status == VersionStatus.DRAFT and draft.number is None and draft.author_id == w.trainer.id
    assert scenario.tags == ["破损", "理赔"] and scenario.categories == ["problem"]
    assert draft.steps == [{"text": "响应客户", "limit_minutes": 5}, {"text": "核实物流", "limit_minutes": 30}]
    assert draft.max_compensation == "200.00"
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"sop.scenario_create", "sop.draft_start"} <= actions


@pytest.mark.parametrize("bad,field", [
    ({"title": ""}, "title"), ({"title": "长" * 101}, "title"), ({"kind": "nonsense"}, "kind"),
    ({"categories": ["nope"]}, "categories"), ({"reason_ids": [999999]}, "reason_ids"),
    ({"tags": "a b c d e f g h i j k"}, "tags"), ({"max_compensation": "abc"}, "max_compensation"),
    ({"max_compensation": "-5"}, "max_compensation"),
    ({"steps": [{"text": "", "limit_minutes": 5}]}, "steps"),
    ({"steps": [{"text": "核实", "limit_minutes": -1}]}, "steps"),
])
def test_create_refuses_bad_input_with_the_field(w, bad, field):
    with pytest.raises(ValidationError) as exc:
        new_scenario(w.trainer, **bad)
    assert field in exc.value.errors
    db.session.rollback()
    assert db.session.scalar(select(func.count(SopScenario.id))) == 0


def test_agents_and_leads_cannot_edit(w):
    for user in (w.agent, w.lead):
        with pytest.raises(PermissionDenied):
            new_scenario(user)


def test_save_draft_with_a_stale_version_is_refused(w):
    scenario = new_scenario(w.trainer)
    draft = svc.open_draft(scenario)
    loaded = draft.version
    svc.save_draft(w.trainer, draft, version_no=loaded, script="第一次保存")
    with pytest.raises(StaleEdit):
        svc.save_draft(w.trainer2, draft, version_no=loaded, script="过期的保存")
    db.session.rollback()
    assert db.session.get(SopVersion, draft.id).script == "第一次保存"


def test_save_draft_changes_the_scenario_classification_and_audits_it(w):
    reason = factories.make_reason("problem", "破损")
    scenario = new_scenario(w.trainer)
    draft = svc.open_draft(scenario)
    svc.save_draft(w.trainer, draft, version_no=draft.version, title="破损理赔（新）", kind="complaint",
                   tags="破损", categories=[], reason_ids=[reason.id], script=SCRIPT)
    db.session.refresh(scenario)
    assert scenario.kind == "complaint" and [r.id for r in scenario.reasons] == [reason.id]
    assert scenario.title == "破损理赔（新）"  # never published: known by its draft's title
    assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "sop.scenario_update")) == 1


# --------------------------------------------------------------------------- review


def test_submit_needs_a_script_and_notifies_the_other_reviewers(w):
    scenario = new_scenario(w.trainer, script="")
    draft = svc.open_draft(scenario)
    with pytest.raises(ValidationError) as exc:
        svc.submit_for_review(w.trainer, draft)
    assert "script" in exc.value.errors
    db.session.rollback()
    svc.save_draft(w.trainer, draft, version_no=draft.version, script=SCRIPT)
    svc.submit_for_review(w.trainer, draft)
    assert draft.status == VersionStatus.IN_REVIEW and draft.submitted_at is not None
    assert [n.link for n in notifications(w.trainer2)] == ["/sop/review"]
    assert len(notifications(w.admin)) == 1
    assert notifications(w.trainer) == [] and notifications(w.agent) == []


def test_nobody_approves_their_own_draft(w, calls):
    scenario = new_scenario(w.trainer)
    draft = svc.open_draft(scenario)
    svc.submit_for_review(w.trainer, draft)
    with pytest.raises(ValidationError) as exc:
        svc.approve(w.trainer, draft)
    assert "status" in exc.value.errors
    db.session.rollback()
    assert db.session.get(SopVersion, draft.id).status == VersionStatus.IN_REVIEW
    assert calls["published"] == []


def test_a_trainer_who_edited_someone_elses_draft_may_not_approve_it(w, calls):
    scenario = new_scenario(w.trainer)
    draft = svc.open_draft(scenario)
    svc.save_draft(w.trainer2, draft, version_no=draft.version, script=SCRIPT + "（补充）")
    svc.submit_for_review(w.trainer, draft)
    assert not svc.may_approve(w.trainer2, draft)
    with pytest.raises(ValidationError):
        svc.approve(w.trainer2, draft)
    db.session.rollback()
    assert svc.may_approve(w.admin, draft)
    svc.approve(w.admin, draft)
    assert draft.status == VersionStatus.PUBLISHED


def test_approve_publishes_the_next_number_and_calls_the_contracts(w, calls):
    scenario = new_scenario(w.trainer)
    first = publish(w.trainer, w.trainer2, scenario)
    assert first.number == 1 and first.status == VersionStatus.PUBLISHED and first.reviewer_id == w.trainer2.id
    assert scenario.current_version_id == first.id
    assert calls == {"reindex": [scenario.id], "published": [first.id]}
    assert [n.link for n in notifications(w.trainer) if n.kind == "sop_published"] == [f"/sop/{scenario.id}"]

    draft = svc.start_draft(w.trainer2, scenario)
    assert draft.based_on_id == first.id and draft.script == first.script and draft.steps == first.steps
    with pytest.raises(ValidationError) as exc:  # a new version says what changed
        svc.submit_for_review(w.trainer2, draft)
    assert "change_note" in exc.value.errors
    db.session.rollback()
    svc.save_draft(w.trainer2, draft, version_no=draft.version, script=SCRIPT.replace("破损", "损坏"),
                   change_note="用词统一")
    second = publish(w.trainer2, w.trainer, scenario)
    assert second.number == 2 and scenario.current_version_id == second.id


def test_approve_as_required_reading_for_teams_with_the_72_hour_default(w, calls):
    scenario = new_scenario(w.trainer)
    before = utcnow()
    version = publish(w.trainer, w.trainer2, scenario, required_reading=True, team_ids=[w.team.id])
    assert version.required_reading and version.reading_team_ids == [w.team.id] and not version.minor_edit
    assert before + timedelta(hours=72) <= version.reading_due_at <= utcnow() + timedelta(hours=72)


def test_approve_refuses_a_past_deadline_and_unknown_teams(w, calls):
    scenario = new_scenario(w.trainer)
    draft = svc.open_draft(scenario)
    svc.submit_for_review(w.trainer, draft)
    with pytest.raises(ValidationError) as exc:
        svc.approve(w.trainer2, draft, required_reading=True, due_at=utcnow() - timedelta(hours=1))
    assert "due_at" in exc.value.errors
    db.session.rollback()
    with pytest.raises(ValidationError) as exc:
        svc.approve(w.trainer2, draft, required_reading=True, team_ids=[999999])
    assert "team_ids" in exc.value.errors


def test_minor_edit_is_stored_for_the_reading_contract(w, calls):
    scenario = new_scenario(w.trainer)
    publish(w.trainer, w.trainer2, scenario, required_reading=True)
    draft = svc.start_draft(w.trainer, scenario)
    svc.save_draft(w.trainer, draft, version_no=draft.version, change_note="错别字")
    version = publish(w.trainer, w.trainer2, scenario, minor_edit=True)
    assert version.minor_edit and not version.required_reading


def test_return_needs_a_comment_and_notifies_the_author(w):
    scenario = new_scenario(w.trainer)
    draft = svc.open_draft(scenario)
    svc.submit_for_review(w.trainer, draft)
    with pytest.raises(ValidationError) as exc:
        svc.return_draft(w.trainer2, draft, "  ")
    assert "comment" in exc.value.errors
    db.session.rollback()
    with pytest.raises(ValidationError):
        svc.return_draft(w.trainer, draft, "自己退回")
    db.session.rollback()
    svc.return_draft(w.trainer2, draft, "请补充拍照要求")
    assert draft.status == VersionStatus.RETURNED and draft.review_comment == "请补充拍照要求"
    returned = [n for n in notifications(w.trainer) if n.kind == "sop_returned"]
    assert returned and returned[0].body == "请补充拍照要求" and returned[0].link == f"/sop/{scenario.id}/edit"
    svc.save_draft(w.trainer, draft, version_no=draft.version, script=SCRIPT + "请拍照。")
    svc.submit_for_review(w.trainer, draft)
    assert draft.status == VersionStatus.IN_REVIEW


def test_in_review_drafts_and_published_versions_do_not_change(w, calls):
    scenario = new_scenario(w.trainer)
    draft = svc.open_draft(scenario)
    svc.submit_for_review(w.trainer, draft)
    with pytest.raises(ValidationError):
        svc.save_draft(w.trainer, draft, version_no=draft.version, script="改")
    db.session.rollback()
    svc.withdraw(w.trainer, draft)
    assert draft.status == VersionStatus.DRAFT
    svc.submit_for_review(w.trainer, draft)
    published = svc.approve(w.trainer2, draft)
    with pytest.raises(ValidationError):
        svc.save_draft(w.trainer, published, version_no=published.version, script="改已发布")
    db.session.rollback()
    assert db.session.get(SopVersion, published.id).script == SCRIPT


def test_one_open_draft_per_scenario(w, calls):
    scenario = new_scenario(w.trainer)
    publish(w.trainer, w.trainer2, scenario)
    draft = svc.start_draft(w.trainer, scenario)
    assert svc.start_draft(w.trainer2, scenario).id == draft.id
    assert db.session.scalar(select(func.count(SopVersion.id)).where(
        SopVersion.scenario_id == scenario.id, SopVersion.status.in_(svc.OPEN))) == 1


# --------------------------------------------------------------------------- review off, restore, archive


def test_review_off_lets_editors_publish_directly(w, calls):
    scenario = new_scenario(w.trainer)
    draft = svc.open_draft(scenario)
    with pytest.raises(ValidationError):
        svc.publish_directly(w.trainer, draft)
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        svc.set_review_required(w.trainer, False)
    svc.set_review_required(w.admin, False)
    assert not svc.review_required()
    version = svc.publish_directly(w.trainer, draft, required_reading=True)
    assert version.number == 1 and version.reviewer_id is None and version.required_reading
    assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "setting.update")) == 1


def test_review_off_allows_approving_ones_own_draft(w, calls):
    svc.set_review_required(w.admin, False)
    scenario = new_scenario(w.trainer)
    draft = svc.open_draft(scenario)
    svc.submit_for_review(w.trainer, draft)
    assert svc.approve(w.trainer, draft).number == 1


def test_restore_an_old_version_as_a_new_draft(w, calls):
    scenario = new_scenario(w.trainer)
    first = publish(w.trainer, w.trainer2, scenario)
    draft = svc.start_draft(w.trainer, scenario)
    svc.save_draft(w.trainer, draft, version_no=draft.version, script="新写法", change_note="改写")
    publish(w.trainer, w.trainer2, scenario)
    restored = svc.restore_as_draft(w.trainer, scenario, first)
    assert restored.script == SCRIPT and restored.based_on_id == first.id and "1" in restored.change_note
    with pytest.raises(ValidationError):  # the open draft must be finished first
        svc.restore_as_draft(w.trainer, scenario, first)
    db.session.rollback()
    third = publish(w.trainer, w.trainer2, scenario)
    assert third.number == 3 and third.script == SCRIPT


def test_archive_hides_from_tickets_and_stops_editing(w, calls):
    reason = factories.make_reason("problem", "破损")
    scenario = new_scenario(w.trainer, reason_ids=[reason.id])
    publish(w.trainer, w.trainer2, scenario)
    ticket = type("T", (), {"category": "problem", "reason_id": reason.id})()
    assert [s.id for s in svc.current_scenarios_for_ticket(ticket)] == [scenario.id]
    with pytest.raises(PermissionDenied):
        svc.archive(w.agent, scenario)
    svc.archive(w.trainer2, scenario)
    assert scenario.is_archived and calls["reindex"][-1] == scenario.id
    assert svc.current_scenarios_for_ticket(ticket) == []
    with pytest.raises(ValidationError):
        svc.start_draft(w.trainer, scenario)
    db.session.rollback()
    svc.archive(w.trainer2, scenario, False)
    assert not scenario.is_archived
    assert [a for a in db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)) if "archive" in a] == [
        "sop.archive", "sop.unarchive"]


def test_scenarios_for_a_ticket_reason_first_then_category(w, calls):
    damaged = factories.make_reason("problem", "破损")
    other = factories.make_reason("problem", "地址不详")
    by_category = new_scenario(w.trainer, title="问题件通用", categories=["problem"])
    by_reason = new_scenario(w.trainer, title="破损理赔", categories=[], reason_ids=[damaged.id])
    unrelated = new_scenario(w.trainer, title="留言回复", categories=["message"])
    unpublished = new_scenario(w.trainer, title="未发布", categories=["problem"])
    for scenario in (by_category, by_reason, unrelated):
        publish(w.trainer, w.trainer2, scenario)
    ticket = type("T", (), {"category": "problem", "reason_id": damaged.id})()
    assert [s.id for s in svc.current_scenarios_for_ticket(ticket)] == [by_reason.id, by_category.id]
    ticket.reason_id = other.id
    assert [s.id for s in svc.current_scenarios_for_ticket(ticket)] == [by_category.id]
    assert unpublished.id not in [s.id for s in svc.current_scenarios_for_ticket(ticket)]
    # A scenario naming reasons of the category applies to those reasons only.
    narrowed = new_scenario(w.trainer, title="破损专用", categories=["problem"], reason_ids=[damaged.id])
    publish(w.trainer, w.trainer2, narrowed)
    assert narrowed.id not in [s.id for s in svc.current_scenarios_for_ticket(ticket)]
    ticket.reason_id = damaged.id
    assert narrowed.id in [s.id for s in svc.current_scenarios_for_ticket(ticket)]


def test_discarding_the_first_draft_removes_the_scenario(w, calls):
    scenario = new_scenario(w.trainer)
    scenario_id = scenario.id
    assert svc.discard_draft(w.trainer, svc.open_draft(scenario)) is None
    assert db.session.get(SopScenario, scenario_id) is None
    kept = new_scenario(w.trainer)
    publish(w.trainer, w.trainer2, kept)
    draft = svc.start_draft(w.trainer, kept)
    assert svc.discard_draft(w.trainer, draft).id == kept.id
    assert svc.open_draft(kept) is None and kept.current_version is not None


# --------------------------------------------------------------------------- comparing


def test_diff_marks_a_changed_two_character_word_as_one_change(w, calls):
    scenario = new_scenario(w.trainer, script="客户反映包裹破损，请先致歉。")
    publish(w.trainer, w.trainer2, scenario)
    draft = svc.start_draft(w.trainer, scenario)
    svc.save_draft(w.trainer, draft, version_no=draft.version, script="客户反映包裹损坏，请先致歉。",
                   change_note="用词")
    sections = {s.label: s for s in svc.diff_versions(scenario.current_version, draft)}
    script = sections["话术"]
    assert script.changed and not sections["标题"].changed
    (row,) = script.rows
    assert row.left == [("equal", "客户反映包裹"), ("delete", "破损"), ("equal", "，请先致歉。")]
    assert row.right == [("equal", "客户反映包裹"), ("insert", "损坏"), ("equal", "，请先致歉。")]
