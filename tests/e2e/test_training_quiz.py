"""Quiz in Chromium: a trainer downloads the template and imports four questions from .xlsx (preview,
then confirm), sets the quiz; an agent fails the quiz (answers saved by htmx as they click), is told
to wait ("请于 HH:MM 后再试"), and after the wait passes. Screenshots in test-artifacts/e2e/quiz-*.png."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from .conftest import ARTIFACTS, login

pytestmark = pytest.mark.e2e

FOUR = [
    ("单选", "投诉工单的首次回复时限从什么时候开始计算？", "品牌系统登记时间", "客服打开工单的时间", "网点处理完的时间", "", "", "", "A",
     "时限从登记时间起算。", "时效"),
    ("多选", "破损件理赔一般需要哪些材料？", "外包装照片", "内物破损照片", "客户身份证照片", "价值凭证", "", "", "ABD",
     "身份证不是理赔材料。", "破损，理赔"),
    ("判断", "客户拒收的包裹可以不联系发件人直接退回。", "", "", "", "", "", "", "错误", "要先联系发件人确认。", "拒收"),
    ("单选", "客户情绪激动时，第一句话最好说什么？", "请您冷静一点", "非常理解您着急的心情，我马上帮您查", "这不是我们的问题", "", "", "",
     "B", "先共情，再行动。", "共情"),
]
def _four_questions_xlsx() -> bytes:
    from tests.quiz_data import questions_xlsx

    return questions_xlsx(FOUR)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"quiz-{name}.png"))


@pytest.fixture
def quiz_course(e2e_app, request):
    """A published course with an empty bank (not 上岗必修) and an agent of its own for this test
    (username ``quiz_e2e`` plus the test's position); returns (course id, username)."""
    from sqlalchemy import select

    from kdcs.extensions import db
    from kdcs.models import Team, User
    from kdcs.training.courses import service as courses

    with e2e_app.test_request_context("/"):
        trainer = db.session.scalar(select(User).where(User.username == "trainer1"))
        suffix = request.node.name[-8:]
        course = courses.create_course(trainer, title=f"浏览器测验：投诉处理基础 {suffix}", summary="e2e", kind="special",
                                       required_for_live=False)
        lesson = courses.add_lesson(trainer, course, title="时效与共情")
        courses.update_lesson(trainer, lesson, version=lesson.version, title="时效与共情", body="先共情，再行动。",
                              sop_scenario_id=None)
        courses.publish_course(trainer, course.id, course.version)
        username = "quiz_e2e" if "fails" in request.node.name else "quiz_e2e_time"
        agent = User(username=username, display_name="测验学员", role="agent",
                     team_id=db.session.scalar(select(Team.id).where(Team.name == "一组")))
        agent.set_password("demo1234")
        db.session.add(agent)
        db.session.commit()
        return course.id, username


def _attempt(e2e_app, attempt_id):
    from kdcs.extensions import db
    from kdcs.models.training import QuizAttempt, TrainingQuestion

    with e2e_app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        questions = {item["id"]: db.session.get(TrainingQuestion, item["id"]) for item in attempt.questions}
        return {qid: (list(q.correct), [o["key"] for o in q.options], q.kind) for qid, q in questions.items()}


def _answer(page, answers: dict) -> None:
    """Click each question's options; wait for htmx's 已保存 mark of that question."""
    for qid, keys in answers.items():
        for key in keys:
            page.locator(f'#q-{qid} input[value="{key}"]').check()
            page.locator(f"#status-{qid}").filter(has_text="已保存").wait_for()


def _submit(page) -> None:
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="交卷", exact=True).click()
    page.wait_for_url(re.compile(r"/training/quiz/\d+$"))


def test_trainer_imports_agent_fails_waits_and_passes(page, base_url, e2e_app, quiz_course):
    course_id, agent = quiz_course
    # --- The trainer: template, import preview, confirm, settings.
    login(page, "trainer1")
    page.goto(f"/training/courses/{course_id}/questions/import")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载导入模板").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    page.set_input_files("input[name=file]", files=[{
        "name": "四道题.xlsx", "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": _four_questions_xlsx()}])
    page.get_by_role("button", name="上传并预览").click()
    page.get_by_role("button", name="确认导入 4 道题").wait_for()
    assert page.locator("#import-preview tbody tr").count() == 4
    _shot(page, "1-import-preview")
    page.get_by_role("button", name="确认导入 4 道题").click()
    page.wait_for_url(re.compile(rf"/training/courses/{course_id}/questions$"))
    assert page.locator("tr[id^=question-]").count() == 4
    assert "已导入 4 道题" in page.content()
    _shot(page, "2-bank")
    page.goto(f"/training/courses/{course_id}/quiz/settings")
    page.fill("input[name=quiz_size]", "4")
    page.fill("input[name=retry_wait_minutes]", "30")
    page.select_option("select[name=review_policy]", "full")
    page.get_by_role("button", name="保存", exact=True).click()
    page.locator(".toast, .alert-success").filter(has_text="测验设置已保存").first.wait_for()
    page.context.clear_cookies()

    # --- The agent fails.
    login(page, agent)
    page.goto(f"/training/courses/{course_id}")
    page.get_by_role("button", name="开始测验").click()
    page.wait_for_url(re.compile(r"/training/quiz/\d+$"))
    attempt_id = int(page.url.rsplit("/", 1)[1])
    truth = _attempt(e2e_app, attempt_id)
    html = page.content()
    assert "correct" not in html.lower() and "正确答案" not in html  # nothing to read in the source
    assert page.locator(".quiz-question").count() == 4
    wrong = {qid: [next(k for k in keys if k not in correct)] for qid, (correct, keys, _kind) in truth.items()}
    _answer(page, wrong)
    assert page.locator("#quiz-progress").inner_text() == "已答 4 / 4"
    _shot(page, "3-attempt")
    _submit(page)
    assert page.get_by_text("未通过").first.is_visible()
    reason = page.locator("[data-quiz-reason]").inner_text()
    assert re.search(r"请于 (?:\d\d-\d\d )?\d\d:\d\d 后再试", reason), reason
    assert page.get_by_role("button", name="再考一次").count() == 0
    assert page.locator(".quiz-question.is-wrong").count() == 4  # the review shows which were wrong
    _shot(page, "4-failed-wait")

    # --- The wait passes (the failed attempt is moved 31 minutes into the past), the agent passes.
    from kdcs.extensions import db
    from kdcs.models.training import QuizAttempt

    with e2e_app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        attempt.submitted_at = attempt.submitted_at - timedelta(minutes=31)
        attempt.started_at = attempt.started_at - timedelta(minutes=31)
        db.session.commit()
    page.goto(f"/training/courses/{course_id}/quiz")
    page.get_by_role("button", name="再考一次").click()
    page.wait_for_url(re.compile(r"/training/quiz/\d+$"))
    second_id = int(page.url.rsplit("/", 1)[1])
    assert second_id != attempt_id
    truth = _attempt(e2e_app, second_id)
    _answer(page, {qid: correct for qid, (correct, _keys, _kind) in truth.items()})
    _submit(page)
    assert page.get_by_text("已通过").first.is_visible()
    assert "得分 100%" in page.content()
    assert page.locator(".quiz-question .badge-ok", has_text="正确答案").count() >= 4  # full review after submitting
    _shot(page, "5-passed")
    page.goto(f"/training/courses/{course_id}/quiz")
    rows = page.locator("#attempt-history tbody tr")
    assert rows.count() == 2 and "已通过" in rows.nth(0).inner_text() and "未通过" in rows.nth(1).inner_text()
    _shot(page, "6-history")


def test_time_runs_out_in_the_browser(page, e2e_app, quiz_course):
    """The countdown runs; when the server's deadline has passed the page loads the attempt again,
    which the server has scored with the answer saved in time (a later click is not saved)."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from kdcs.extensions import db
    from kdcs.models import User
    from kdcs.models.training import QuizAttempt, TrainingCourse
    from kdcs.training.quiz import service
    from tests.quiz_data import questions_xlsx

    course_id, agent = quiz_course
    with e2e_app.test_request_context("/"):
        trainer = db.session.scalar(select(User).where(User.username == "trainer1"))
        course = db.session.get(TrainingCourse, course_id)
        from kdcs.training.quiz import excel

        service.import_questions(trainer, course, excel.read_plan(questions_xlsx(FOUR)).drafts)
        course.quiz_size, course.time_limit_minutes = 4, 1
        db.session.commit()
    login(page, agent)
    page.goto(f"/training/courses/{course_id}/quiz")
    page.get_by_role("button", name="开始测验").click()
    page.wait_for_url(re.compile(r"/training/quiz/\d+$"))
    attempt_id = int(page.url.rsplit("/", 1)[1])
    assert re.search(r"剩余 \d+秒|剩余 \d+分\d+秒", page.locator(".countdown").inner_text())
    truth = _attempt(e2e_app, attempt_id)
    first, *_rest = truth.items()
    _answer(page, {first[0]: first[1][0]})  # one right answer, saved in time
    with e2e_app.app_context():  # the deadline comes closer: 2 seconds from now
        attempt = db.session.get(QuizAttempt, attempt_id)
        attempt.deadline_at = datetime.now(UTC) + timedelta(seconds=2)
        db.session.commit()
    page.reload()
    page.wait_for_selector(".quiz-result", timeout=20_000)  # quiz.js loads the attempt after the deadline
    assert "已超时" in page.content()
    with e2e_app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert attempt.timed_out and attempt.correct_count == 1
    _shot(page, "7-timed-out")
