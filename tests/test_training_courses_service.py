"""Training courses (kdcs/training/courses/service.py) and programmes (kdcs/training/programmes/service.py):
who sees what, publish with a required change, archive, lesson order, progress recorded once, files,
practical items, assignments, programme enrolment and the automatic enrolment of new agents."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from kdcs.admin import service as admin_service
from kdcs.extensions import db
from kdcs.models import AuditLog
from kdcs.models.training import (
    AssignmentSource,
    CourseStatus,
    LessonProgress,
    ProgrammeEnrollment,
    TrainingAssignment,
)
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import NotFound, StaleEdit, ValidationError
from kdcs.training.courses import service as svc
from kdcs.training.programmes import service as programmes
from tests import factories
from tests.training_world import make_course, pdf_upload


@pytest.fixture
def w(users):
    from kdcs.sop import service as sop

    scenario = sop.create_scenario(users.trainer, title="投诉安抚", kind="complaint", tags="", categories=[],
                                   reason_ids=[], script="{客户称呼}您好，非常抱歉给您带来不便！")
    draft = sop.open_draft(scenario)
    sop.submit_for_review(users.trainer, draft)
    sop.approve(users.admin, draft)
    users["scenario"] = scenario
    return users


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


# --------------------------------------------------------------------------- who sees what

def test_agents_see_published_courses_only(w):
    published = make_course(w.trainer)
    draft = make_course(w.trainer, title="草稿课程", publish=False)
    for user in (w.agent, w.lead):
        assert svc.can_view_course(user, published) and not svc.can_view_course(user, draft)
        assert [c.id for c in svc.list_courses(user)] == [published.id]
        with pytest.raises(NotFound):
            svc.get_visible_course(user, draft.id)
        with pytest.raises(NotFound):
            svc.get_visible_lesson(user, draft.lessons[0].id)
    for user in (w.trainer, w.admin):
        assert {c.id for c in svc.list_courses(user)} == {published.id, draft.id}
    svc.archive_course(w.trainer, published.id, published.version)
    assert not svc.can_view_course(w.agent, published)
    with pytest.raises(NotFound):
        svc.get_visible_course(w.agent, "abc")


def test_list_filters(w):
    rules = make_course(w.trainer)
    other = make_course(w.trainer, title="季度提升：仲裁举证", required=False)
    assert [c.id for c in svc.list_courses(w.trainer, required="1")] == [rules.id]
    assert [c.id for c in svc.list_courses(w.trainer, required="0")] == [other.id]
    assert [c.id for c in svc.list_courses(w.trainer, q="仲裁")] == [other.id]
    assert svc.list_courses(w.trainer, kind="special") == []
    assert len(svc.list_courses(w.trainer, status="published")) == 2
    assert svc.list_courses(w.trainer, status="draft") == []


def test_only_editors_write(w):
    with pytest.raises(PermissionDenied):
        svc.create_course(w.agent, title="偷建", kind="onboarding")
    with pytest.raises(PermissionDenied):
        svc.create_course(w.lead, title="偷建", kind="onboarding")
    course = make_course(w.trainer)
    with pytest.raises(PermissionDenied):
        svc.publish_course(w.lead, course.id, course.version)
    with pytest.raises(PermissionDenied):
        programmes.assign_course(w.lead, course, user_ids=[w.agent.id], due_on=None)


# --------------------------------------------------------------------------- publishing

def test_publish_first_then_required_and_minor_changes(w, monkeypatch):
    calls = []
    from kdcs.training.certification import service as certification

    monkeypatch.setattr(certification, "on_course_published",
                        lambda course, required_change, actor: calls.append((course.revision, required_change)))
    course = make_course(w.trainer, publish=False)
    assert course.status == CourseStatus.DRAFT and course.revision == 0
    svc.publish_course(w.trainer, course.id, course.version, required_change=True, note="")  # first: not a change
    assert (course.status, course.revision) == (CourseStatus.PUBLISHED, 1)
    svc.publish_course(w.trainer, course.id, course.version, required_change=False)
    assert course.revision == 1
    with pytest.raises(ValidationError) as err:
        svc.publish_course(w.trainer, course.id, course.version, required_change=True, note="  ")
    assert "note" in err.value.errors
    db.session.rollback()
    svc.publish_course(w.trainer, course.id, course.version, required_change=True, note="罚款标准更新")
    assert (course.revision, course.revision_note) == (2, "罚款标准更新")
    assert calls == [(1, False), (1, False), (2, True)]
    assert audit_actions().count("training.course_publish") == 3


def test_publish_needs_lessons_and_a_current_version(w):
    course = svc.create_course(w.trainer, title="空课程", kind="special")
    with pytest.raises(ValidationError):
        svc.publish_course(w.trainer, course.id, course.version)
    db.session.rollback()
    svc.add_lesson(w.trainer, course, title="第一课")
    with pytest.raises(StaleEdit):
        svc.publish_course(w.trainer, course.id, course.version - 1)
    svc.publish_course(w.trainer, course.id, course.version)
    assert course.status == CourseStatus.PUBLISHED


def test_required_change_flags_agents_who_passed(w):
    """Through T3's real hook: an agent who passed revision 1 of a 上岗必修 course must re-pass."""
    from kdcs.models.training import CourseResult
    from tests.training_cert_data import certify

    course = make_course(w.trainer)
    svc.save_practical_item(w.trainer, course, kind="supervised", title="跟岗", days=3)
    certify(w.agent, course, w.trainer)
    result = db.session.scalar(select(CourseResult).where(CourseResult.user_id == w.agent.id))
    assert result.passed_revision == 1 and result.recert_due_on is None
    svc.publish_course(w.trainer, course.id, course.version, required_change=True, note="新增仲裁时效")
    db.session.refresh(result)
    assert result.recert_due_on is not None


def test_archive(w):
    course = make_course(w.trainer)
    svc.archive_course(w.trainer, course.id, course.version)
    assert course.status == CourseStatus.ARCHIVED
    with pytest.raises(ValidationError):
        svc.archive_course(w.trainer, course.id, course.version)
    db.session.rollback()
    with pytest.raises(ValidationError):
        svc.publish_course(w.trainer, course.id, course.version)
    db.session.rollback()
    with pytest.raises(ValidationError):
        svc.add_lesson(w.trainer, course, title="再加一课")
    assert "training.course_archive" in audit_actions()


def test_update_course_is_locked_and_audited(w):
    course = make_course(w.trainer)
    svc.update_course(w.trainer, course, version=course.version, title="品牌规则（2027版）", summary="",
                      kind="quarterly", required_for_live=False)
    assert (course.title, course.kind, course.required_for_live) == ("品牌规则（2027版）", "quarterly", False)
    with pytest.raises(StaleEdit):
        svc.update_course(w.trainer, course, version=course.version - 1, title="x", summary="", kind="special",
                          required_for_live=False)
    with pytest.raises(ValidationError) as err:
        svc.update_course(w.trainer, course, version=course.version, title="", summary="", kind="zzz",
                          required_for_live=False)
    assert set(err.value.errors) == {"title", "kind"}


def test_course_sets_how_long_a_pass_lasts(w):
    course = make_course(w.trainer)
    assert (course.recert_days, course.valid_days) == (14, None)
    svc.update_course(w.trainer, course, version=course.version, title=course.title, summary="",
                      kind=course.kind, required_for_live=True, recert_days="２１", valid_days="365")
    assert (course.recert_days, course.valid_days) == (21, 365)
    svc.update_course(w.trainer, course, version=course.version, title=course.title, summary="",
                      kind=course.kind, required_for_live=True)  # not given: kept
    assert (course.recert_days, course.valid_days) == (21, 365)
    for recert, valid in (("0", ""), ("abc", ""), ("", ""), ("14", "7"), ("14", "1e3"), ("14", "-30"),
                          ("99999999999999999999", "")):
        with pytest.raises(ValidationError) as err:
            svc.update_course(w.trainer, course, version=course.version, title=course.title, summary="",
                              kind=course.kind, required_for_live=True, recert_days=recert, valid_days=valid)
        assert set(err.value.errors) <= {"recert_days", "valid_days"} and err.value.errors
    svc.update_course(w.trainer, course, version=course.version, title=course.title, summary="",
                      kind=course.kind, required_for_live=True, recert_days="14", valid_days="")
    assert (course.recert_days, course.valid_days) == (14, None)


# --------------------------------------------------------------------------- lessons

def test_lessons_move_up_and_down(w):
    course = make_course(w.trainer, lessons=("一", "二", "三"))
    first, second, third = sorted(course.lessons, key=lambda x: x.position)
    svc.move_lesson(w.trainer, third, "up")
    assert [x.title for x in sorted(course.lessons, key=lambda x: x.position)] == ["一", "三", "二"]
    svc.move_lesson(w.trainer, first, "up")  # already first: nothing moves
    svc.move_lesson(w.trainer, first, "down")
    assert [x.title for x in sorted(course.lessons, key=lambda x: x.position)] == ["三", "一", "二"]
    svc.move_lesson(w.trainer, second, "down")  # already last
    assert [x.title for x in sorted(course.lessons, key=lambda x: x.position)] == ["三", "一", "二"]
    with pytest.raises(ValidationError):
        svc.move_lesson(w.trainer, second, "sideways")


def test_lessons_move_to_a_position(w):
    course = make_course(w.trainer, lessons=("一", "二", "三", "四"))
    four = sorted(course.lessons, key=lambda x: x.position)[3]
    svc.move_lesson_to(w.trainer, four, 2)
    assert [x.title for x in sorted(course.lessons, key=lambda x: x.position)] == ["一", "四", "二", "三"]
    svc.move_lesson_to(w.trainer, four, 99)
    assert [x.title for x in sorted(course.lessons, key=lambda x: x.position)] == ["一", "二", "三", "四"]
    svc.move_lesson_to(w.trainer, four, 0)
    assert [x.position for x in sorted(course.lessons, key=lambda x: x.position)] == [1, 2, 3, 4]
    assert sorted(course.lessons, key=lambda x: x.position)[0].title == "四"


def test_lesson_embeds_the_current_published_version(w):
    from kdcs.sop import service as sop

    course = make_course(w.trainer, scenario=w.scenario)
    lesson = sorted(course.lessons, key=lambda x: x.position)[0]
    assert svc.embedded_version(lesson).number == 1
    draft = sop.start_draft(w.trainer, w.scenario)
    sop.save_draft(w.trainer, draft, version_no=draft.version, script="新话术", change_note="更新")
    sop.submit_for_review(w.trainer, draft)
    sop.approve(w.admin, draft)
    assert svc.embedded_version(lesson).number == 2  # follows the library
    w.scenario.is_archived = True
    db.session.commit()
    assert svc.embedded_version(lesson) is None
    with pytest.raises(ValidationError) as err:
        svc.update_lesson(w.trainer, lesson, version=lesson.version, title="x", body="", sop_scenario_id=w.scenario.id)
    assert "sop_scenario_id" in err.value.errors


def test_progress_is_recorded_once(w):
    course = make_course(w.trainer)
    lesson = course.lessons[0]
    svc.open_lesson(w.agent, lesson)
    svc.open_lesson(w.agent, lesson)
    assert svc.course_progress(w.agent.id, course) == (0, 2)
    first = svc.mark_lesson_done(w.agent, lesson).completed_at
    again = svc.mark_lesson_done(w.agent, lesson).completed_at
    assert first == again
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 1
    assert svc.course_progress(w.agent.id, course) == (1, 2)
    assert svc.progress_by_course(w.agent.id, [course.id]) == {course.id: 1}
    rows = svc.agents_progress(w.trainer, course)
    assert [(r["user"].id, r["done"], r["total"]) for r in rows] == [(w.agent.id, 1, 2)]


def test_agents_cannot_mark_lessons_of_a_draft(w):
    draft = make_course(w.trainer, publish=False)
    with pytest.raises(NotFound):
        svc.mark_lesson_done(w.agent, draft.lessons[0])


# --------------------------------------------------------------------------- files

def test_files_are_checked_by_content_and_limited(w, app):
    course = make_course(w.trainer)
    lesson = course.lessons[0]
    stored = svc.add_file(w.trainer, lesson, pdf_upload())
    assert stored.content_type == "application/pdf"
    mp4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
    video = svc.add_file(w.trainer, lesson, pdf_upload("接单演示.mp4", mp4))
    assert video.content_type == "video/mp4"
    with pytest.raises(ValidationError) as err:
        svc.add_file(w.trainer, lesson, pdf_upload("伪装.pdf", b"<html><script>alert(1)</script>"))
    assert "只能上传" in err.value.errors["file"] or "only" in err.value.errors["file"]
    app.config["KDCS_TRAINING_FILE_MAX_MB"] = 0.1
    try:
        with pytest.raises(ValidationError) as err:
            svc.add_file(w.trainer, lesson, pdf_upload("大文件.pdf", b"%PDF-1.4\n" + b"x" * 200_000))
        assert "0.1 MB" in err.value.errors["file"]
    finally:
        app.config.pop("KDCS_TRAINING_FILE_MAX_MB")
    assert svc.get_visible_file(w.agent, stored.id).id == stored.id
    draft = make_course(w.trainer, title="草稿", publish=False)
    hidden = svc.add_file(w.trainer, draft.lessons[0], pdf_upload())
    with pytest.raises(NotFound):
        svc.get_visible_file(w.agent, hidden.id)


def test_mp4_is_not_ticket_evidence():
    from kdcs import storage

    assert "mp4" not in storage.EVIDENCE_KINDS and "mp4" in svc.TRAINING_KINDS


# --------------------------------------------------------------------------- practical items

def test_practical_items(w):
    course = make_course(w.trainer)
    item = svc.save_practical_item(w.trainer, course, kind="role_play", title="情景模拟：投诉安抚",
                                   sop_scenario_id=w.scenario.id, checklist="开场白规范\n- 先致歉\n\n给出时限")
    assert item.checklist == ["开场白规范", "先致歉", "给出时限"] and item.days is None
    with pytest.raises(ValidationError) as err:
        svc.save_practical_item(w.trainer, course, kind="role_play", title="x")
    assert "sop_scenario_id" in err.value.errors
    with pytest.raises(ValidationError) as err:
        svc.save_practical_item(w.trainer, course, kind="supervised", title="带教", days="40")
    assert "days" in err.value.errors
    db.session.rollback()
    supervised = svc.save_practical_item(w.trainer, course, kind="supervised", title="带教", days="5", pass_score="80")
    assert (supervised.days, supervised.pass_score, supervised.sop_scenario_id) == (5, 80, None)
    with pytest.raises(StaleEdit):
        svc.save_practical_item(w.trainer, course, item, version=item.version + 1, kind="role_play", title="y",
                                sop_scenario_id=w.scenario.id)
    svc.remove_practical_item(w.trainer, supervised)
    assert [p.id for p in svc.active_practical_items(course)] == [item.id]


def test_a_signed_off_item_is_kept_out_of_use(w):
    from kdcs.training.certification import service as certification

    course = make_course(w.trainer)
    item = svc.save_practical_item(w.trainer, course, kind="supervised", title="跟岗", days=3)
    certification.record_signoff(w.trainer, w.agent.id, item.id, passed=True, score=90, ticked=[], comment="好")
    svc.remove_practical_item(w.trainer, item)
    db.session.refresh(item)
    assert item.is_active is False and svc.active_practical_items(course) == []


# --------------------------------------------------------------------------- assignments and programmes

def test_assign_to_agents_and_teams(w):
    course = make_course(w.trainer)
    mate = factories.make_user("agent", username="agent_mate", team=w.team)
    other = factories.make_user("agent", username="agent_x")
    due = date(2026, 12, 31)
    assert programmes.assign_course(w.trainer, course, user_ids=[other.id], team_ids=[w.team.id], due_on=due) == 3
    rows = {a.user_id: a for a in db.session.scalars(select(TrainingAssignment))}
    assert set(rows) == {w.agent.id, mate.id, other.id}
    assert rows[w.agent.id].source == AssignmentSource.TEAM and rows[other.id].source == AssignmentSource.COURSE
    assert all(a.due_on == due for a in rows.values())
    programmes.assign_course(w.trainer, course, user_ids=[w.agent.id], due_on=due + timedelta(days=7))
    assert db.session.scalar(select(func.count()).select_from(TrainingAssignment)) == 3  # one row per agent
    assert [a.course_id for a in svc.assignments_for(w.agent.id)] == [course.id]
    with pytest.raises(ValidationError):
        programmes.assign_course(w.trainer, course, user_ids=[w.trainer.id], due_on=due)  # not an agent
    with pytest.raises(ValidationError):
        programmes.assign_course(w.trainer, course, due_on=due)
    draft = make_course(w.trainer, title="草稿", publish=False)
    with pytest.raises(ValidationError):
        programmes.assign_course(w.trainer, draft, user_ids=[w.agent.id], due_on=due)
    assert "training.assign" in audit_actions()


def _programme(w):
    rules = make_course(w.trainer)
    comms = make_course(w.trainer, title="沟通技巧与共情话术")
    item = svc.save_practical_item(w.trainer, comms, kind="supervised", title="跟岗带教", days=5)
    programme = programmes.create_programme(w.trainer, title="新人30天计划", is_default=True)
    programmes.add_item(w.trainer, programme, day_offset=3, course_id=rules.id)
    programmes.add_item(w.trainer, programme, day_offset=17, course_id=comms.id)
    programmes.add_item(w.trainer, programme, day_offset=30, practical_item_id=item.id)
    return programme, rules, comms


def test_enrolment_gives_due_dates(w):
    programme, rules, comms = _programme(w)
    start = date(2026, 12, 1)
    programmes.enroll(w.trainer, programme, user_id=w.agent.id, start_date=start)
    due = {a.course_id: a.due_on for a in db.session.scalars(select(TrainingAssignment))}
    assert due == {rules.id: date(2026, 12, 3), comms.id: date(2026, 12, 17)}
    # An earlier single assignment keeps its earlier date.
    programmes.assign_course(w.trainer, rules, user_ids=[w.agent.id], due_on=date(2026, 12, 2))
    programmes.enroll(w.trainer, programme, user_id=w.agent.id, start_date=start)
    assert db.session.scalar(select(TrainingAssignment.due_on).where(
        TrainingAssignment.course_id == rules.id)) == date(2026, 12, 2)
    assert db.session.scalar(select(func.count()).select_from(ProgrammeEnrollment)) == 1
    with pytest.raises(ValidationError):
        programmes.enroll(w.trainer, programme, user_id=w.lead.id, start_date=start)
    with pytest.raises(ValidationError):
        programmes.add_item(w.trainer, programme, day_offset=31, course_id=rules.id)
    with pytest.raises(ValidationError):
        programmes.add_item(w.trainer, programme, day_offset=2, course_id=rules.id, practical_item_id=1)


def test_only_one_default_programme(w):
    first = programmes.create_programme(w.trainer, title="计划甲", is_default=True)
    second = programmes.create_programme(w.trainer, title="计划乙", is_default=True)
    db.session.refresh(first)
    assert (first.is_default, second.is_default) == (False, True)
    assert programmes.default_programme().id == second.id
    programmes.update_programme(w.trainer, second, version=second.version, title="计划乙", description="",
                                is_default=True, is_active=False)
    assert programmes.default_programme() is None


def test_new_agent_with_a_start_date_is_enrolled(w):
    programme, rules, _comms = _programme(w)
    start = date(2027, 1, 4)
    user = admin_service.create_user(w.admin, username="newbie", display_name="新人", role="agent",
                                     password="Kd-2026-strong!", team_id=w.team.id, start_date=start)
    enrollment = db.session.scalar(select(ProgrammeEnrollment).where(ProgrammeEnrollment.user_id == user.id))
    assert enrollment.programme_id == programme.id and enrollment.start_date == start
    assert db.session.scalar(select(TrainingAssignment.due_on).where(
        TrainingAssignment.user_id == user.id, TrainingAssignment.course_id == rules.id)) == date(2027, 1, 6)
    # A trainer or an agent without a start date is not; a start date given later enrols once.
    admin_service.create_user(w.admin, username="trainer_new", display_name="培训", role="trainer",
                              password="Kd-2026-strong!", start_date=start)
    later = admin_service.create_user(w.admin, username="later", display_name="后补", role="agent",
                                      password="Kd-2026-strong!")
    assert db.session.scalar(select(func.count()).select_from(ProgrammeEnrollment)) == 1
    admin_service.update_user(w.admin, later, version=later.version, display_name="后补", role="agent",
                              team_id=None, phone=None, start_date=start)
    admin_service.update_user(w.admin, later, version=later.version, display_name="后补二", role="agent",
                              team_id=None, phone=None, start_date=start)
    assert db.session.scalar(select(func.count()).select_from(ProgrammeEnrollment)) == 2
    # update_user without start_date keeps it.
    admin_service.update_user(w.admin, later, version=later.version, display_name="后补三", role="agent",
                              team_id=None, phone=None)
    assert later.start_date == start


def test_a_corrected_start_date_moves_the_plan(w):
    programme, rules, _comms = _programme(w)
    user = admin_service.create_user(w.admin, username="newbie2", display_name="新人", role="agent",
                                     password="Kd-2026-strong!", start_date=date(2027, 1, 4))
    admin_service.update_user(w.admin, user, version=user.version, display_name="新人", role="agent",
                              team_id=None, phone=None, start_date=date(2027, 1, 11))
    enrollment = db.session.scalar(select(ProgrammeEnrollment).where(ProgrammeEnrollment.user_id == user.id))
    assert enrollment.start_date == date(2027, 1, 11)
    assert db.session.scalar(select(TrainingAssignment.due_on).where(
        TrainingAssignment.user_id == user.id, TrainingAssignment.course_id == rules.id)) == date(2027, 1, 13)


def test_trainers_previewing_lessons_are_not_agents_progress(w):
    course = make_course(w.trainer)
    svc.open_lesson(w.trainer, course.lessons[0])
    svc.mark_lesson_done(w.lead, course.lessons[0])
    assert svc.agents_progress(w.trainer, course) == []
