"""The whole going-live journey in Chromium (issue 11): a trainer builds a 上岗必修 course with two
lessons, imports four questions from .xlsx, adds a practical item, publishes and assigns it to a
team; the outlet page does not offer the new agent and the service refuses them naming the missing
course; the agent reads the lessons, fails the quiz, waits (the wait is moved into the past in the
database), passes; the trainer signs off the practical item on the agent's training record; the
agent is certified (上岗, with the date) and is made an outlet's primary agent.
Screenshots in test-artifacts/e2e/cert-*.png."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from .conftest import ARTIFACTS, login
from .test_training_quiz import _answer, _attempt, _four_questions_xlsx, _submit

pytestmark = pytest.mark.e2e

TITLE = "浏览器上岗课：投诉处理实战"
AGENT = "cert_e2e"


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"cert-{name}.png"))


@pytest.fixture
def new_agent(e2e_app):
    """A new agent of 二组 for this journey (not live: no course passed yet)."""
    from sqlalchemy import select

    from kdcs.extensions import db
    from kdcs.models import Team, User

    with e2e_app.app_context():
        agent = User(username=AGENT, display_name="上岗学员", role="agent",
                     team_id=db.session.scalar(select(Team.id).where(Team.name == "二组")))
        agent.set_password("demo1234")
        db.session.add(agent)
        db.session.commit()
        return agent.id


def _pass_demo_courses(e2e_app, agent_id: int) -> None:
    """Server side: the agent passes the three demo 上岗必修 courses (through the services), so the
    journey's course is the only one missing."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from kdcs.extensions import db
    from kdcs.models import User
    from kdcs.models.training import TrainingCourse
    from kdcs.training.certification.demo import _pass_course

    with e2e_app.test_request_context("/"):
        agent = db.session.get(User, agent_id)
        trainer = db.session.scalar(select(User).where(User.username == "trainer1"))
        for title in ("品牌规则与条款", "品牌系统操作与收发派签", "沟通技巧与共情话术"):
            course = db.session.scalar(select(TrainingCourse).where(TrainingCourse.title == title))
            _pass_course(agent, course, trainer, 1, datetime.now(UTC) - timedelta(hours=3))


def _add_lesson(page, title: str, body: str) -> None:
    page.fill("#course-lessons input[name=title]", title)
    with page.expect_navigation():
        page.click("#course-lessons button:has-text('添加课时')")
    page.fill("textarea[name=body]", body)
    with page.expect_navigation():
        page.click("button:has-text('保存本课')")
    page.get_by_text("课时已保存").wait_for()


def _free_outlet(e2e_app) -> int:
    from sqlalchemy import select

    from kdcs.extensions import db
    from kdcs.models import Outlet

    with e2e_app.app_context():
        return db.session.scalar(select(Outlet.id).order_by(Outlet.id.desc()))


def test_trainer_builds_agent_passes_and_goes_live(page, e2e_app, new_agent):
    # --- The trainer builds the course.
    login(page, "trainer1")
    page.goto("/training/courses/new")
    page.fill("input[name=title]", TITLE)
    page.fill("textarea[name=summary]", "投诉件的时效、共情话术和留痕。")
    page.check("input[name=required_for_live]")
    with page.expect_navigation():
        page.click("button:has-text('创建课程')")
    edit_url = page.url
    course_id = int(re.search(r"/training/courses/(\d+)/edit$", edit_url).group(1))
    _add_lesson(page, "投诉件的时效", "## 时效\n\n投诉件 **2 小时**内首次回复。")
    page.goto(edit_url)
    _add_lesson(page, "共情再行动", "先说“非常理解您着急的心情”，再给出**处理时限**。")
    page.goto(edit_url)
    page.click("#course-practical summary")
    page.select_option("#course-practical select[name=kind]", "supervised")
    page.fill("#course-practical input[name=title]", "跟岗带教：投诉件")
    page.fill("#course-practical input[name=days]", "3")
    page.fill("#course-practical textarea[name=checklist]", "开场白规范\n核实运单号\n给出处理时限")
    page.click("#course-practical button:has-text('添加')")
    page.locator("#course-practical [data-testid=practical-row]").filter(has_text="跟岗带教：投诉件").wait_for()

    # Four questions from .xlsx, a small quiz with a 30-minute wait.
    page.goto(f"/training/courses/{course_id}/questions/import")
    page.set_input_files("input[name=file]", files=[{
        "name": "四道题.xlsx", "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": _four_questions_xlsx()}])
    page.get_by_role("button", name="上传并预览").click()
    page.get_by_role("button", name="确认导入 4 道题").click()
    page.wait_for_url(re.compile(rf"/training/courses/{course_id}/questions$"))
    page.goto(f"/training/courses/{course_id}/quiz/settings")
    page.fill("input[name=quiz_size]", "4")
    page.fill("input[name=retry_wait_minutes]", "30")
    page.get_by_role("button", name="保存", exact=True).click()
    page.locator(".toast, .alert-success").filter(has_text="测验设置已保存").first.wait_for()

    # Publish, assign to 二组.
    page.goto(f"/training/courses/{course_id}")
    with page.expect_navigation():
        page.click(".publish-box button:has-text('发布')")
    page.get_by_text("课程已发布（第 1 版）").wait_for()
    page.goto(f"/training/courses/{course_id}/assign")
    page.locator(".team-choices").get_by_label("二组").check()
    with page.expect_navigation():
        page.locator(".training-form button[type=submit]").click()
    _shot(page, "1-course-trainer")
    page.context.clear_cookies()

    # The agent passed the three demo courses earlier: only this course is missing now.
    _pass_demo_courses(e2e_app, new_agent)

    # --- Before: the outlet page does not offer the agent, and the service refuses naming the course.
    outlet_id = _free_outlet(e2e_app)
    login(page, "admin")
    page.goto(f"/outlets/{outlet_id}")
    options = page.locator("#assignment select[name=agent_id] option").all_inner_texts()
    assert not any(AGENT in text for text in options)
    token = page.locator("#assignment input[name=csrf_token]").get_attribute("value")
    version = page.locator("#assignment input[name=version]").get_attribute("value")
    refused = page.request.post(f"/outlets/{outlet_id}/assign", form={
        "csrf_token": token, "version": version, "agent_id": str(new_agent)})
    text = refused.text()
    assert "上岗" in text and TITLE in text, text[:2000]
    page.context.clear_cookies()

    # --- The agent reads both lessons, fails, waits, passes.
    login(page, AGENT)
    page.goto("/training/")
    page.click(f"text={TITLE}")
    page.wait_for_load_state("load")
    course_url = page.url
    for n in range(2):
        page.goto(course_url)
        page.click(f".lesson-list a >> nth={n}")
        page.wait_for_load_state("load")
        page.click("[data-testid=mark-done]")
        page.locator("#lesson-done .badge-ok").wait_for()
    page.goto(course_url)
    page.get_by_role("button", name="开始测验").click()
    page.wait_for_url(re.compile(r"/training/quiz/\d+$"))
    first = int(page.url.rsplit("/", 1)[1])
    truth = _attempt(e2e_app, first)
    _answer(page, {qid: [next(k for k in keys if k not in correct)] for qid, (correct, keys, _k) in truth.items()})
    _submit(page)
    assert re.search(r"请于 (?:\d\d-\d\d )?\d\d:\d\d 后再试", page.locator("[data-quiz-reason]").inner_text())

    from kdcs.extensions import db
    from kdcs.models.training import QuizAttempt

    with e2e_app.app_context():
        attempt = db.session.get(QuizAttempt, first)
        attempt.submitted_at -= timedelta(minutes=31)
        attempt.started_at -= timedelta(minutes=31)
        db.session.commit()
    page.goto(f"/training/courses/{course_id}/quiz")
    page.get_by_role("button", name="再考一次").click()
    page.wait_for_url(re.compile(r"/training/quiz/\d+$"))
    truth = _attempt(e2e_app, int(page.url.rsplit("/", 1)[1]))
    _answer(page, {qid: correct for qid, (correct, _keys, _k) in truth.items()})
    _submit(page)
    assert page.get_by_text("已通过").first.is_visible()
    page.goto(course_url)
    box = page.locator(".cert-box")
    assert "未签核" in box.inner_text()  # the practical item still waits
    _shot(page, "2-agent-waits-signoff")
    page.context.clear_cookies()

    # --- The trainer signs off the practical item from the matrix.
    login(page, "trainer1")
    page.goto(f"/training/matrix?course={course_id}")
    row = page.locator("[data-testid=training-matrix] tbody tr").filter(has_text="上岗学员")
    assert "学习中" in row.inner_text()
    assert "跟岗带教：投诉件" in page.locator("[data-testid=not-live]").inner_text()
    _shot(page, "3-matrix")
    row.get_by_role("link", name="上岗学员").click()
    page.wait_for_load_state("load")
    page.locator(f"#course-{course_id} a:has-text('签核')").click()
    page.wait_for_load_state("load")
    page.uncheck("input[name=ticked][value='2']")
    page.fill("input[name=score]", "93")
    page.fill("textarea[name=comment]", "跟岗三天，回复及时，时限说明还可以更具体。")
    _shot(page, "4-signoff-form")
    with page.expect_navigation():
        page.get_by_role("button", name="保存签核").click()
    page.get_by_text("已保存签核").first.wait_for()
    assert "已上岗" in page.locator("[data-testid=cert-badge]").inner_text()
    _shot(page, "5-person-live")
    assert not page.js_errors
    page.context.clear_cookies()

    # --- The agent sees the sign-off; then the admin makes them the outlet's primary agent.
    login(page, AGENT)
    page.goto(course_url)
    box = page.locator(".cert-box").inner_text()
    assert "已通过" in box and "93" in box and "时限说明还可以更具体" in box
    page.goto("/training/")
    assert "已上岗" in page.locator("[data-testid=cert-mine]").inner_text()
    page.context.clear_cookies()

    login(page, "admin")
    page.goto(f"/outlets/{outlet_id}")
    page.select_option("#assignment select[name=agent_id]", str(new_agent))
    page.locator("#assignment button[type=submit]").click()
    page.locator(".toast, .alert-success").filter(has_text="上岗学员").first.wait_for()  # the answer came back

    from kdcs.models import Outlet

    with e2e_app.app_context():
        assert db.session.get(Outlet, outlet_id).primary_agent_id == new_agent
    assert not page.js_errors
