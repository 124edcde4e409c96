"""我的培训 after the demo walk: an agent who is not live owns the 上岗必修 courses they have not passed
(even unassigned); a course whose lessons are read and quiz passed waits for the trainer's sign-off
and is not the next step; training audit rows read in Chinese with names; /admin/users shows 入职日期
and the going-live state (one query for the page)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import event, select

from kdcs.auditing import describe_entries
from kdcs.extensions import db
from kdcs.models import AuditLog
from kdcs.models.training import TrainingQuestion
from kdcs.training.certification.demo import certify_agent
from kdcs.training.courses import service as courses
from kdcs.training.my import service as my
from kdcs.training.programmes import service as programmes
from kdcs.workcalendar import SHANGHAI
from tests import factories
from tests.training_cert_data import take_quiz
from tests.training_world import make_course


def today() -> date:
    return datetime.now(SHANGHAI).date()


def body(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def add_quiz_and_item(trainer, course):
    db.session.add(TrainingQuestion(course_id=course.id, text="题一", options=[{"key": "a", "text": "是"}],
                                    correct=["a"]))
    db.session.commit()
    courses.save_practical_item(trainer, course, kind="supervised", title="实战带教：跟岗处理真实工单", days=5,
                                checklist="开场白规范\n核实运单号")


# --------------------------------------------------------------------------- not live: required courses are mine

def test_an_agent_who_is_not_live_owns_the_required_courses(client, auth, users):
    rules = make_course(users.trainer, title="品牌规则与条款")
    systems = make_course(users.trainer, title="品牌系统操作与收发派签", lessons=("收发派签",))
    optional = make_course(users.trainer, title="季度提升：仲裁举证", required=False)
    overview = my.overview(users.agent, today())  # no assignment, no programme
    mine = [row["course"].id for row in overview["rows"]]
    assert mine == [rules.id, systems.id]
    assert all(row["unassigned_required"] and row["due_on"] is None for row in overview["rows"])
    assert [c.id for c in overview["others"]] == [optional.id]
    assert overview["next"]["course"].id == rules.id
    auth.login(users.agent)
    page = body(client.get("/training/"))
    mine_html = page.split('id="mine-h"')[1].split("</section>")[0]
    assert rules.title in mine_html and systems.title in mine_html and "上岗必修" in mine_html
    assert "暂无指派给您的课程" not in page and "通过后方可上岗" in mine_html
    assert optional.title not in mine_html


def test_a_live_agent_sees_only_assigned_courses(users):
    add_quiz_and_item(users.trainer, make_course(users.trainer, title="品牌规则与条款"))
    with factories_request():
        certify_agent(users.agent, signer=users.trainer)
    assert my.overview(users.agent, today())["rows"] == []


def factories_request():
    from flask import current_app

    return current_app.test_request_context("/")


# --------------------------------------------------------------------------- waiting for the trainer

def test_a_course_waiting_for_the_sign_off_is_not_the_next_step(client, auth, users):
    rules = make_course(users.trainer, title="品牌规则与条款")
    systems = make_course(users.trainer, title="品牌系统操作与收发派签", lessons=("收发派签", "系统操作"))
    for course in (rules, systems):
        add_quiz_and_item(users.trainer, course)
    programmes.assign_course(users.trainer, rules, user_ids=[users.agent.id], due_on=today())
    programmes.assign_course(users.trainer, systems, user_ids=[users.agent.id], due_on=today() + timedelta(days=7))
    for lesson in rules.lessons:
        courses.mark_lesson_done(users.agent, lesson)
    take_quiz(users.agent, rules, True)
    overview = my.overview(users.agent, today())
    rows = {row["course"].id: row for row in overview["rows"]}
    assert rows[rules.id]["awaiting_signoff"] and not rows[rules.id]["finished"]
    assert not rows[systems.id]["awaiting_signoff"]
    assert overview["next"]["course"].id == systems.id
    assert overview["next_lesson"].id == systems.lessons[0].id
    auth.login(users.agent)
    page = body(client.get("/training/"))
    up_next = page.split('id="next-h"')[1].split("</section>")[0]
    assert systems.title in up_next and rules.title not in up_next
    assert "待培训师签核" in page.split('id="mine-h"')[1]


def test_lessons_read_but_quiz_not_passed_is_still_work_for_the_agent(users):
    rules = make_course(users.trainer, title="品牌规则与条款")
    add_quiz_and_item(users.trainer, rules)
    programmes.assign_course(users.trainer, rules, user_ids=[users.agent.id], due_on=today())
    for lesson in rules.lessons:
        courses.mark_lesson_done(users.agent, lesson)
    overview = my.overview(users.agent, today())
    assert not overview["rows"][0]["awaiting_signoff"] and overview["next"]["course"].id == rules.id


def test_overview_without_other_courses_is_the_same_but_the_others(users):
    """The home page asks ``overview(..., others=False)``: everything else as the full overview."""
    rules = make_course(users.trainer, title="品牌规则与条款")
    add_quiz_and_item(users.trainer, rules)
    make_course(users.trainer, title="沟通技巧", required=False)
    programmes.assign_course(users.trainer, rules, user_ids=[users.agent.id], due_on=today())
    full = my.overview(users.agent, today())
    short = my.overview(users.agent, today(), others=False)
    assert full["others"] and short["others"] == []
    assert {k: v for k, v in full.items() if k != "others"} == {k: v for k, v in short.items() if k != "others"}


# --------------------------------------------------------------------------- audit in words

@pytest.fixture
def zh(app):
    with app.test_request_context("/"), force_locale("zh_CN"):
        yield


def audit_text(action: str) -> str:
    entries = db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()
    assert entries, action
    return "\n".join(f"{row.action} | {row.record} | " + "; ".join(str(c) for c in row.changes)
                     for row in describe_entries(entries))


def test_training_audit_rows_read_in_chinese_with_names(users, zh):
    course = make_course(users.trainer, title="品牌规则与条款", publish=False)
    courses.publish_course(users.trainer, course.id, course.version)
    item = courses.save_practical_item(users.trainer, course, kind="supervised", title="跟岗带教", days=5)
    courses.save_practical_item(users.trainer, course, item, version=item.version, kind="supervised",
                                title="跟岗带教", days=7)
    lesson = course.lessons[0]
    courses.update_lesson(users.trainer, lesson, version=lesson.version, title="新标题", body="新的正文")
    courses.delete_lesson(users.trainer, course.lessons[-1])
    courses.remove_practical_item(users.trainer, item)
    programmes.assign_course(users.trainer, course, user_ids=[users.agent.id], team_ids=[users.team.id],
                             due_on=date(2026, 12, 20))
    programme = programmes.create_programme(users.trainer, title="新人30天计划", is_default=True)
    programmes.add_item(users.trainer, programme, day_offset=3, course_id=course.id)
    programmes.enroll(users.trainer, programme, user_id=users.agent.id, start_date=date(2026, 10, 17))
    courses.archive_course(users.trainer, course.id, course.version)

    enroll = audit_text("training.enroll")
    assert "培训计划已指派" in enroll and users.agent.display_name in enroll
    assert "入职日期：2026-10-17" in enroll and "课程：品牌规则与条款" in enroll
    assign = audit_text("training.assign")
    assert users.agent.display_name in assign and users.team.name in assign and "截止日期：2026-12-20" in assign
    assert "课程状态：草稿 → 已发布" not in audit_text("training.course_publish")  # after only
    assert "课程状态：已发布" in audit_text("training.course_publish")
    assert "课程状态：已发布 → 已归档" in audit_text("training.course_archive")
    assert "带教天数：5 → 7" in audit_text("training.practical_update")
    assert "实操类型：实战带教" in audit_text("training.practical_add")
    update = audit_text("training.lesson_update")
    assert "课时：新标题" in update and "原课时标题：" in update and "课时正文已修改：是" in update
    assert "已删除课时" in audit_text("training.lesson_delete")
    assert "已移除实操项" in audit_text("training.practical_remove")
    everything = "\n".join(audit_text(a) for a in ("training.enroll", "training.assign", "training.course_publish",
                                                   "training.practical_update", "training.lesson_update"))
    for raw in ("user", "start date", "courses", "[", "published", "supervised", "True", "_"):
        assert raw not in everything, raw


def test_assign_and_enroll_read_on_the_audit_page(client, auth, users):
    course = make_course(users.trainer, title="品牌规则与条款")
    programmes.assign_course(users.trainer, course, user_ids=[users.agent.id], due_on=None)
    auth.login(users.admin)
    page = body(client.get("/admin/audit"))
    row = page.split(course.title)[1].split("</tr>")[0]
    assert "客服" in row and users.agent.display_name in row and "user ids" not in row and "[" not in row


# --------------------------------------------------------------------------- /admin/users

def test_admin_users_list_has_start_date_and_going_live(client, auth, users):
    course = make_course(users.trainer, title="品牌规则与条款")
    add_quiz_and_item(users.trainer, course)
    users.agent.start_date = date(2026, 10, 17)
    live = factories.make_user("agent", username="agent_live")
    db.session.commit()
    with factories_request():
        certify_agent(live, signer=users.trainer)
    auth.login(users.admin)
    page = body(client.get("/admin/users"))
    assert "入职日期" in page and "上岗状态" in page
    row = page.split(f'id="user-{users.agent.id}"')[1].split("</tr>")[0]
    assert "2026-10-17" in row and "未上岗" in row
    row = page.split(f'id="user-{live.id}"')[1].split("</tr>")[0]
    assert "已上岗" in row
    row = page.split(f'id="user-{users.trainer.id}"')[1].split("</tr>")[0]
    assert "上岗" not in row  # not an agent


def test_admin_users_going_live_costs_the_same_for_more_agents(client, auth, users):
    make_course(users.trainer, title="品牌规则与条款")
    auth.login(users.admin)

    def statements() -> int:
        seen: list[str] = []

        def before(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            body(client.htmx("get", "/admin/users?role=agent"))
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
        return len(seen)

    few = statements()
    for n in range(6):
        factories.make_user("agent", username=f"extra{n}")
    db.session.commit()
    assert statements() == few
