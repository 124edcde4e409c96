"""Training pages (kdcs/training/courses, programmes, my): full pages and htmx fragments, the editor's
live preview, reorder, publish, files with safe headers, mark done once, programmes, assignments,
我的培训, and 入职日期 on the admin user form."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from kdcs.extensions import db
from kdcs.models.training import (
    CourseStatus,
    LessonProgress,
    ProgrammeEnrollment,
    TrainingAssignment,
    TrainingCourse,
    TrainingLesson,
)
from kdcs.training.courses import service as svc
from kdcs.training.programmes import service as programmes
from kdcs.workcalendar import SHANGHAI
from tests.training_world import PDF, make_course


def body(response) -> str:
    return response.get_data(as_text=True)


def beijing_today() -> date:
    from datetime import datetime

    return datetime.now(SHANGHAI).date()


@pytest.fixture
def course(users):
    return make_course(users.trainer)


# --------------------------------------------------------------------------- list and course page

def test_course_list_page_and_fragment(client, auth, users, course):
    make_course(users.trainer, title="仲裁举证专项", required=False, publish=False)
    auth.login(users.agent)
    page = body(client.get("/training/courses"))
    assert "<html" in page and "品牌规则与条款" in page and "仲裁举证专项" not in page  # drafts hidden
    auth.logout()
    auth.login(users.trainer)
    fragment = body(client.htmx("get", "/training/courses?required=0"))
    assert "<html" not in fragment and "仲裁举证专项" in fragment and "品牌规则与条款" not in fragment
    assert "草稿" in fragment


def test_create_course_then_edit(client, auth, users):
    auth.login(users.trainer)
    response = client.post("/training/courses/new", data={"title": "", "kind": "onboarding"})
    assert response.status_code == 200 and "请输入标题" in body(response)
    response = client.post("/training/courses/new", data={"title": "沟通技巧与共情话术", "summary": "共情三步",
                                                          "kind": "onboarding", "required_for_live": "y"})
    assert response.status_code == 303
    created = db.session.scalar(select(TrainingCourse))
    assert response.headers["Location"].endswith(f"/training/courses/{created.id}/edit")
    assert created.required_for_live and created.status == CourseStatus.DRAFT
    page = body(client.get(f"/training/courses/{created.id}/edit"))
    assert "课时" in page and "实操项" in page
    # A stale save keeps what was typed and says so (409).
    response = client.post(f"/training/courses/{created.id}/edit",
                           data={"title": "新标题", "kind": "special", "version": str(created.version + 5)})
    assert response.status_code == 409 and "新标题" in body(response)
    # how long a pass lasts: a bad number is a Chinese message beside the field, nothing saved
    db.session.refresh(created)
    response = client.post(f"/training/courses/{created.id}/edit", data={
        "title": created.title, "kind": "onboarding", "required_for_live": "y", "recert_days": "abc",
        "valid_days": "365", "version": str(created.version)})
    assert response.status_code == 200 and "请填写 1 到 365 之间的整数天数" in body(response)
    db.session.refresh(created)
    assert created.valid_days is None
    response = client.post(f"/training/courses/{created.id}/edit", data={
        "title": created.title, "kind": "onboarding", "required_for_live": "y", "recert_days": "21",
        "valid_days": "365", "version": str(created.version)})
    assert response.status_code == 303
    db.session.refresh(created)
    assert (created.recert_days, created.valid_days) == (21, 365)


def test_course_page_warns_when_a_required_course_cannot_be_passed(client, auth, users):
    from tests.training_world import make_course

    lessons_only = make_course(users.trainer, title="只有课时的必修课", publish=False, required=True)
    optional = make_course(users.trainer, title="只有课时的选修课", publish=False, required=False)
    auth.login(users.trainer)
    assert 'data-testid="unpassable"' in body(client.get(f"/training/courses/{lessons_only.id}"))
    assert 'data-testid="unpassable"' not in body(client.get(f"/training/courses/{optional.id}"))
    svc.save_practical_item(users.trainer, lessons_only, kind="supervised", title="跟岗带教", days=3)
    assert 'data-testid="unpassable"' not in body(client.get(f"/training/courses/{lessons_only.id}"))


def test_course_page_shows_structure_and_progress_for_trainers(client, auth, users, course):
    svc.mark_lesson_done(users.agent, course.lessons[0])
    auth.login(users.trainer)
    page = body(client.get(f"/training/courses/{course.id}"))
    assert "客服学习进度" in page and users.agent.display_name in page and "1/2" in page
    assert "重新发布" in page
    auth.logout()
    auth.login(users.agent)
    page = body(client.get(f"/training/courses/{course.id}"))
    assert "客服学习进度" not in page and "重新发布" not in page
    assert "已完成 1 / 2 课" in page


# --------------------------------------------------------------------------- lessons: editor, order, preview

def test_add_lesson_edit_and_preview(client, auth, users, course):
    auth.login(users.trainer)
    response = client.post(f"/training/courses/{course.id}/lessons", data={"title": "进港与出港"})
    assert response.status_code == 303
    lesson = db.session.scalar(select(TrainingLesson).where(TrainingLesson.title == "进港与出港"))
    assert lesson.position == 3
    page = body(client.get(f"/training/lessons/{lesson.id}/edit"))
    assert 'hx-post="/training/lessons/preview"' in page and "lesson-preview" in page
    preview = client.htmx("post", "/training/lessons/preview",
                          data={"title": "进港", "body": "**到件扫描** {客户称呼}<script>alert(1)</script>"})
    html = body(preview)
    assert "<strong>到件扫描</strong>" in html and 'class="blank"' in html and "<script>" not in html
    assert "<html" not in html
    assert client.post("/training/lessons/preview", data={"body": "x"}).status_code == 303  # fragment only
    response = client.post(f"/training/lessons/{lesson.id}/edit",
                           data={"title": "进港与出港", "body": "## 进港\n到件后 24 小时内派送。", "sop_scenario_id": "",
                                 "version": str(lesson.version)})
    assert response.status_code == 303
    db.session.refresh(lesson)
    assert "到件后" in lesson.body
    stale = client.post(f"/training/lessons/{lesson.id}/edit",
                        data={"title": "进港", "body": "我打的字", "sop_scenario_id": "", "version": "1"})
    assert stale.status_code == 409 and "我打的字" in body(stale)


def test_move_lessons_by_htmx(client, auth, users, course):
    first, second = sorted(course.lessons, key=lambda x: x.position)
    auth.login(users.trainer)
    response = client.htmx("post", f"/training/lessons/{second.id}/move", data={"direction": "up"})
    html = body(response)
    assert response.status_code == 200 and "<html" not in html
    assert html.index(second.title) < html.index(first.title)
    # Without JavaScript: the same move, then back to the editor.
    response = client.post(f"/training/lessons/{second.id}/move", data={"direction": "down"})
    assert response.status_code == 303
    assert [x.id for x in sorted(db.session.get(TrainingCourse, course.id).lessons,
                                 key=lambda x: x.position)] == [first.id, second.id]
    assert client.post(f"/training/lessons/{second.id}/move", data={"direction": "left"}).status_code == 400
    for tampered in ("-1", "abc", "１", "9" * 30, ""):
        assert client.post(f"/training/lessons/{second.id}/move", data={"position": tampered}).status_code == 400
    html = body(client.htmx("post", f"/training/lessons/{second.id}/move", data={"position": "1"}))  # drag and drop
    assert html.index(second.title) < html.index(first.title)


def test_delete_lesson(client, auth, users, course):
    lesson = course.lessons[0]
    svc.mark_lesson_done(users.agent, lesson)
    auth.login(users.trainer)
    assert client.post(f"/training/lessons/{lesson.id}/delete").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 0
    assert len(db.session.get(TrainingCourse, course.id).lessons) == 1


# --------------------------------------------------------------------------- publish and archive

def test_publish_draft_then_required_change(client, auth, users):
    draft = make_course(users.trainer, publish=False)
    auth.login(users.trainer)
    response = client.post(f"/training/courses/{draft.id}/publish",
                           data={"version": str(draft.version), "required_change": "0"}, follow_redirects=True)
    assert "课程已发布（第 1 版）" in body(response)
    db.session.refresh(draft)
    response = client.post(f"/training/courses/{draft.id}/publish",
                           data={"version": str(draft.version), "required_change": "1", "note": ""},
                           follow_redirects=True)
    assert "请说明变更内容" in body(response)
    db.session.refresh(draft)
    assert draft.revision == 1
    response = client.post(f"/training/courses/{draft.id}/publish",
                           data={"version": str(draft.version), "required_change": "1", "note": "罚款标准调整"},
                           follow_redirects=True)
    db.session.refresh(draft)
    assert draft.revision == 2 and "罚款标准调整" in body(response)


def test_archive_hides_the_course_from_agents(client, auth, users, course):
    auth.login(users.trainer)
    response = client.post(f"/training/courses/{course.id}/archive", data={"version": str(course.version)})
    assert response.status_code == 303
    auth.logout()
    auth.login(users.agent)
    assert client.get(f"/training/courses/{course.id}").status_code == 404
    assert client.get(f"/training/lessons/{course.lessons[0].id}").status_code == 404


# --------------------------------------------------------------------------- reading and progress

def test_open_and_mark_done_once(client, auth, users, course):
    lesson = sorted(course.lessons, key=lambda x: x.position)[0]
    auth.login(users.agent)
    page = body(client.get(f"/training/lessons/{lesson.id}"))
    assert "我已学完本课" in page and "<h2>" in page  # the Markdown body
    client.get(f"/training/lessons/{lesson.id}")
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 1
    response = client.htmx("post", f"/training/lessons/{lesson.id}/done")
    html = body(response)
    assert response.status_code == 200 and "<html" not in html and "已完成" in html and "1 / 2" in html
    assert "toast" in response.headers.get("HX-Trigger", "")
    done_at = db.session.scalar(select(LessonProgress.completed_at))
    client.htmx("post", f"/training/lessons/{lesson.id}/done")
    response = client.post(f"/training/lessons/{lesson.id}/done")  # without JS: on to the next lesson
    assert response.status_code == 303 and "/training/lessons/" in response.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 1
    assert db.session.scalar(select(LessonProgress.completed_at)) == done_at
    assert svc.course_progress(users.agent.id, course) == (1, 2)


def test_lesson_shows_the_embedded_sop_version(client, auth, users):
    from kdcs.sop import service as sop

    scenario = sop.create_scenario(users.trainer, title="投诉安抚", kind="complaint", tags="", categories=[],
                                   reason_ids=[], script="{客户称呼}您好，非常抱歉！")
    draft = sop.open_draft(scenario)
    sop.submit_for_review(users.trainer, draft)
    sop.approve(users.admin, draft)
    course = make_course(users.trainer, scenario=scenario)
    auth.login(users.agent)
    page = body(client.get(f"/training/lessons/{sorted(course.lessons, key=lambda x: x.position)[0].id}"))
    assert "SOP 场景：投诉安抚" in page and "非常抱歉" in page and "当前第 1 版" in page


# --------------------------------------------------------------------------- files

def test_lesson_files_upload_serve_and_scope(client, auth, users, course):
    lesson = course.lessons[0]
    auth.login(users.trainer)
    response = client.post(f"/training/lessons/{lesson.id}/files", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(PDF), "时效表.pdf")}, follow_redirects=True)
    assert "已添加 时效表.pdf" in body(response)
    response = client.post(f"/training/lessons/{lesson.id}/files", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(b"<svg onload=alert(1)>"), "图.svg")}, follow_redirects=True)
    assert "只能上传" in body(response)
    stored = db.session.get(TrainingLesson, lesson.id).attachments
    assert len(stored) == 1
    auth.logout()
    auth.login(users.agent)
    served = client.get(f"/training/files/{stored[0].id}")
    assert served.status_code == 200 and served.data == PDF
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.headers["Content-Type"] == "application/pdf"
    assert "Content-Disposition" in served.headers
    draft = make_course(users.trainer, title="草稿", publish=False)
    hidden = svc.add_file(users.trainer, draft.lessons[0], __import__("tests.training_world").training_world.pdf_upload())
    assert client.get(f"/training/files/{hidden.id}").status_code == 404
    assert client.post(f"/training/files/{stored[0].id}/delete").status_code == 403


# --------------------------------------------------------------------------- practical items

def test_practical_items_by_htmx(client, auth, users, course):
    auth.login(users.trainer)
    response = client.htmx("post", f"/training/courses/{course.id}/practical",
                           data={"kind": "supervised", "title": "跟岗带教", "days": "45"})
    html = body(response)
    assert response.status_code == 200 and "<html" not in html and "请输入 1–30 天" in html
    response = client.htmx("post", f"/training/courses/{course.id}/practical",
                           data={"kind": "supervised", "title": "跟岗带教", "days": "5",
                                 "checklist": "独立首次回复\n备注规范"})
    html = body(response)
    assert "跟岗带教" in html and "5 天" in html and "独立首次回复" in html
    item = svc.active_practical_items(db.session.get(TrainingCourse, course.id))[0]
    page = body(client.get(f"/training/practical/{item.id}/edit"))
    assert "独立首次回复" in page
    response = client.post(f"/training/practical/{item.id}/edit",
                           data={"kind": "supervised", "title": "跟岗带教（7天）", "days": "7", "checklist": "",
                                 "version": str(item.version)})
    assert response.status_code == 303
    response = client.htmx("post", f"/training/practical/{item.id}/remove")
    assert response.status_code == 200 and "暂无实操项" in body(response)


# --------------------------------------------------------------------------- programmes and assignments

def test_programme_plan_enrolment_and_my_training(client, auth, users, course):
    svc.save_practical_item(users.trainer, course, kind="supervised", title="跟岗带教", days=5)
    auth.login(users.trainer)
    response = client.post("/training/programmes", data={"title": "新人30天计划", "is_default": "y"})
    assert response.status_code == 303
    programme = programmes.default_programme()
    html = body(client.htmx("post", f"/training/programmes/{programme.id}/items",
                            data={"day_offset": "3", "item": f"c:{course.id}", "note": "第一周"}))
    assert "<html" not in html and "第3天" in html and course.title in html
    item = course.practical_items[0]
    client.htmx("post", f"/training/programmes/{programme.id}/items", data={"day_offset": "2", "item": f"p:{item.id}"})
    html = body(client.htmx("post", f"/training/programmes/{programme.id}/items", data={"day_offset": "5", "item": ""}))
    assert "请选择一门已发布课程或一个实操项" in html
    start = beijing_today() - timedelta(days=4)  # day 5: the course (day 3) and the item (day 2) are overdue
    response = client.post(f"/training/programmes/{programme.id}/enroll",
                           data={"user_id": str(users.agent.id), "start_date": start.isoformat()})
    assert response.status_code == 303
    assert db.session.scalar(select(TrainingAssignment.due_on)) == start + timedelta(days=2)
    auth.logout()
    auth.login(users.agent)
    page = body(client.get("/training/"))
    assert "第5天" in page and "已逾期" in page and course.title in page and "跟岗带教" in page
    assert "继续学习" in page


def test_assign_course_page(client, auth, users, course):
    auth.login(users.trainer)
    page = body(client.get(f"/training/courses/{course.id}/assign"))
    assert users.agent.display_name in page
    response = client.post(f"/training/courses/{course.id}/assign", data={})
    assert response.status_code == 200 and "请选择客服或小组" in body(response)
    due = beijing_today() + timedelta(days=7)
    response = client.post(f"/training/courses/{course.id}/assign",
                           data={"team_ids": [str(users.team.id)], "due_on": due.isoformat()}, follow_redirects=True)
    assert "已指派给 1 名客服" in body(response)
    auth.logout()
    auth.login(users.agent)
    page = body(client.get("/training/"))
    assert course.title in page and f"{due.isoformat()} 截止" in page


def test_my_training_for_trainers_lists_courses(client, auth, users, course):
    auth.login(users.trainer)
    page = body(client.get("/training/"))
    assert "新建课程" in page and course.title in page and "培训计划" in page
    auth.logout()
    auth.login(users.lead)
    page = body(client.get("/training/"))
    assert course.title in page and "新建课程" not in page


def test_admin_user_form_has_the_start_date(client, auth, users, course):
    programme = programmes.create_programme(users.admin, title="新人30天计划", is_default=True)
    programmes.add_item(users.admin, programme, day_offset=3, course_id=course.id)
    auth.login(users.admin)
    assert "入职日期" in body(client.get("/admin/users/new"))
    response = client.post("/admin/users/new", data={
        "username": "newbie1", "display_name": "新同学", "role": "agent", "team_id": str(users.team.id),
        "password": "Kd-2026-strong!", "start_date": "2027-01-04"})
    assert response.status_code == 303
    enrolled = db.session.scalar(select(ProgrammeEnrollment))
    assert enrolled.start_date == date(2027, 1, 4) and enrolled.user.username == "newbie1"
    assert "2027-01-04" in body(client.get(f"/admin/users/{enrolled.user_id}"))


def test_course_page_says_lessons_changed_since_publishing(client, auth, users, course):
    auth.login(users.trainer)
    assert "后课时有修改" not in body(client.get(f"/training/courses/{course.id}"))
    lesson = course.lessons[0]
    svc.update_lesson(users.trainer, lesson, version=lesson.version, title=lesson.title, body="新的时效表")
    assert svc.changed_since_publish(course)
    assert "后课时有修改" in body(client.get(f"/training/courses/{course.id}"))
    svc.publish_course(users.trainer, course.id, course.version, required_change=False)
    assert not svc.changed_since_publish(course)


def test_my_training_lists_what_is_due_today(client, auth, users, course):
    programme = programmes.create_programme(users.trainer, title="新人30天计划", is_default=True)
    programmes.add_item(users.trainer, programme, day_offset=3, course_id=course.id)
    programmes.enroll(users.trainer, programme, user_id=users.agent.id, start_date=beijing_today() - timedelta(days=2))
    auth.login(users.agent)
    page = body(client.get("/training/"))
    assert "第3天" in page and "今日待办" in page and "今日到期" in page and "已逾期" not in page.split("今日待办")[1]
