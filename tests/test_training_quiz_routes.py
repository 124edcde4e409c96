"""Quiz pages through HTTP: bank (full page and htmx row), question form, Excel template / import /
export, settings, statistics, start / answer (htmx fragment) / submit, the course box."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from kdcs.extensions import db
from kdcs.models.training import QuizAttempt, TrainingQuestion
from tests.html import parse
from tests.quiz_data import (
    add_question,
    make_bank,
    make_course,
    questions_xlsx,
    right_answers,
    wrong_answers,
)

HX = {"HX-Request": "true"}


@pytest.fixture
def course(users):
    course = make_course(quiz_size=4, retry_wait_minutes=30)
    make_bank(course, 6)
    return course


def _login(auth, user):
    auth.login(user)


FOUR = [
    ("单选", "投诉首次回复时限从何时起算？", "登记时间", "打开时间", "", "", "", "", "A", "以登记时间为准", "时效"),
    ("多选", "破损理赔需要哪些材料？", "外包装照片", "内物照片", "身份证", "价值凭证", "", "", "ABD", "", "破损，理赔"),
    ("判断", "已签收的包裹不能理赔。", "", "", "", "", "", "", "错误", "签收后仍可按规则理赔", "理赔"),
    ("单选", "+86 开头的手机号属于哪里？", "美国", "英国", "中国", "", "", "", "c", "", ""),
]


def _count(course) -> int:
    return db.session.scalar(select(func.count()).select_from(TrainingQuestion)
                             .where(TrainingQuestion.course_id == course.id))


# --------------------------------------------------------------------------- bank


def test_bank_page_and_filters(client, auth, users, course):
    _login(auth, users.trainer)
    page = client.get(f"/training/courses/{course.id}/questions")
    assert page.status_code == 200
    assert page.text.count('<tr id="question-') == 6
    assert "单选题0" in page.text and "题库" in page.text
    fragment = client.get(f"/training/courses/{course.id}/questions?tag=时效", headers=HX)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "单选题0" in fragment.text and "单选题1" not in fragment.text


def test_agents_cannot_see_the_bank(client, auth, users, course):
    _login(auth, users.agent)
    assert client.get(f"/training/courses/{course.id}/questions").status_code == 403


def test_add_edit_and_deactivate_a_question(client, auth, users, course):
    _login(auth, users.trainer)
    form = {"kind": "multiple", "text": "哪些是共情话术？", "option0": "理解您的心情", "option1": "规定如此",
            "option2": "给您添麻烦了", "correct": ["0", "2"], "explanation": "承认感受", "tags": "共情，开场"}
    response = client.post(f"/training/courses/{course.id}/questions/new", data=form)
    assert response.status_code == 303
    question = db.session.scalar(select(TrainingQuestion).where(TrainingQuestion.text == "哪些是共情话术？"))
    assert question.tags == ["共情", "开场"] and len(question.correct) == 2
    assert [o["text"] for o in question.options] == ["理解您的心情", "规定如此", "给您添麻烦了"]
    # A bad edit shows the Chinese message; a good one saves; a stale one is a 409 with the stored text.
    edit = f"/training/questions/{question.id}/edit"
    bad = client.post(edit, data={**form, "correct": ["0"], "version": str(question.version)})
    assert bad.status_code == 200 and "多选题至少要有两个正确选项" in bad.text
    ok = client.post(edit, data={**form, "text": "哪些属于共情话术？", "version": str(question.version)})
    assert ok.status_code == 303
    stale = client.post(edit, data={**form, "text": "旧页面", "version": "1"})
    assert stale.status_code == 409 and "哪些属于共情话术？" in stale.text and "旧页面" in stale.text
    # Deactivate from the row (htmx: the row comes back) and without JS (back to the bank).
    row = client.post(f"/training/questions/{question.id}/active", data={"active": "0"}, headers=HX)
    assert row.status_code == 200 and f'id="question-{question.id}"' in row.text and "<html" not in row.text
    db.session.refresh(question)
    assert question.is_active is False
    plain = client.post(f"/training/questions/{question.id}/active", data={"active": "1"})
    assert plain.status_code == 303


def test_true_false_without_options_gets_the_two_words(client, auth, users, course):
    _login(auth, users.trainer)
    response = client.post(f"/training/courses/{course.id}/questions/new",
                           data={"kind": "true_false", "text": "拒收件可以直接退回。", "correct": ["1"]})
    assert response.status_code == 303
    question = db.session.scalar(select(TrainingQuestion).where(TrainingQuestion.text == "拒收件可以直接退回。"))
    assert [o["text"] for o in question.options] == ["正确", "错误"]
    assert question.correct == [question.options[1]["key"]]


# --------------------------------------------------------------------------- Excel


def test_template_has_a_help_sheet_and_imports_cleanly(client, auth, users, course):
    _login(auth, users.trainer)
    response = client.get(f"/training/courses/{course.id}/questions/template.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["题库", "说明"]
    before = _count(course)
    preview = client.post(f"/training/courses/{course.id}/questions/import",
                          data={"file": (io.BytesIO(response.data), "模板.xlsx")}, content_type="multipart/form-data")
    assert preview.status_code == 200 and "确认导入 3 道题" in preview.text
    assert _count(course) == before


def test_import_preview_then_confirm(client, auth, users, course):
    _login(auth, users.trainer)
    before = _count(course)
    preview = client.post(f"/training/courses/{course.id}/questions/import",
                          data={"file": (io.BytesIO(questions_xlsx(FOUR)), "四题.xlsx")}, content_type="multipart/form-data")
    assert preview.status_code == 200 and "确认导入 4 道题" in preview.text
    assert _count(course) == before  # nothing written by the preview
    token = parse(preview).one("input", name="token").get("value")
    done = client.post(f"/training/courses/{course.id}/questions/import/confirm", data={"token": token})
    assert done.status_code == 303
    assert _count(course) == before + 4
    tf = db.session.scalar(select(TrainingQuestion).where(TrainingQuestion.text == "已签收的包裹不能理赔。"))
    assert tf.kind == "true_false" and tf.correct == [tf.options[1]["key"]]
    # The token is spent: a second confirm writes nothing.
    again = client.post(f"/training/courses/{course.id}/questions/import/confirm", data={"token": token})
    assert again.status_code == 303 and _count(course) == before + 4


def test_import_with_a_bad_row_writes_nothing(client, auth, users, course):
    _login(auth, users.trainer)
    rows = [*FOUR[:2], ("多选", "只有一个正确答案的多选", "甲", "乙", "丙", "", "", "", "A", "", ""),
            ("问答", "题型不对", "甲", "乙", "", "", "", "", "A", "", ""),
            ("单选", "答案字母越界", "甲", "乙", "", "", "", "", "D", "", ""),
            ("单选", "投诉首次回复时限从何时起算？", "甲", "乙", "", "", "", "", "A", "", "")]
    before = _count(course)
    preview = client.post(f"/training/courses/{course.id}/questions/import",
                          data={"file": (io.BytesIO(questions_xlsx(rows)), "坏.xlsx")}, content_type="multipart/form-data")
    assert preview.status_code == 200
    text = preview.text
    assert "本次不会导入任何数据" in text and "确认导入" not in text
    assert "多选题至少要有两个正确选项" in text and "题型必须是" in text and "对应的选项是空的" in text
    assert "与第 2 行的题目重复" in text
    assert _count(course) == before
    # A made-up token is refused too.
    forged = client.post(f"/training/courses/{course.id}/questions/import/confirm", data={"token": "x" * 32})
    assert forged.status_code == 303 and _count(course) == before


@pytest.mark.parametrize("data, message", [
    (b"", "文件是空的"),
    (b"\xd0\xcf\x11\xe0" + b"\0" * 100, "旧版 .xls"),
    (b"<html><script>alert(1)</script></html>", "不是 Excel .xlsx 文件"),
    (None, "不是 Excel .xlsx 文件"),  # a zip that is not a workbook
])
def test_files_are_checked_by_content(client, auth, users, course, data, message):
    if data is None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("hello.txt", "hi")
        data = out.getvalue()
    _login(auth, users.trainer)
    response = client.post(f"/training/courses/{course.id}/questions/import",
                           data={"file": (io.BytesIO(data), "题库.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 200 and message in response.text


def test_export_writes_user_text_as_text(client, auth, users, course):
    add_question(course, "=HYPERLINK(\"http://evil.example\",\"点我\")", ["+1", "-1", "@SUM(A1)"], [0], tags=["=危险"])
    _login(auth, users.trainer)
    response = client.get(f"/training/courses/{course.id}/questions/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    sheet = book["题库"]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    assert cells and all(c.data_type == "s" for c in cells)
    assert sheet.cell(1, 1).value == "题型"
    # Export → import round trip.
    preview = client.post(f"/training/courses/{course.id}/questions/import",
                          data={"file": (io.BytesIO(response.data), "导出.xlsx")}, content_type="multipart/form-data")
    assert "确认导入 7 道题" in preview.text


# --------------------------------------------------------------------------- settings and statistics


def test_settings_form(client, auth, users, course):
    _login(auth, users.trainer)
    url = f"/training/courses/{course.id}/quiz/settings"
    page = client.get(url)
    assert page.status_code == 200 and 'value="90"' in page.text
    version = parse(page).one("input", name="version").get("value")
    bad = client.post(url, data={"quiz_size": "0", "quiz_per_tag": "破损", "pass_percent": "abc", "time_limit_minutes": "",
                                 "max_attempts": "", "retry_wait_minutes": "0", "review_policy": "full", "version": version})
    assert bad.status_code == 200 and "请填写整数" in bad.text and "标签:题数" in bad.text
    ok = client.post(url, data={"quiz_size": "5", "quiz_per_tag": "破损:2，时效:1", "pass_percent": "80",
                                "time_limit_minutes": "15", "max_attempts": "3", "retry_wait_minutes": "60",
                                "review_policy": "full", "version": version})
    assert ok.status_code == 303
    db.session.refresh(course)
    assert (course.quiz_size, course.quiz_per_tag, course.pass_percent, course.time_limit_minutes, course.max_attempts,
            course.retry_wait_minutes, course.review_policy) == (5, {"破损": 2, "时效": 1}, 80, 15, 3, 60, "full")
    stale = client.post(url, data={"quiz_size": "6", "pass_percent": "90", "retry_wait_minutes": "0",
                                   "review_policy": "full", "version": version})
    assert stale.status_code == 409


def test_stats_page_lists_worst_first(client, auth, users, course):
    from kdcs.training.quiz import service

    attempt = service.start_attempt(users.agent, course.id)
    answers = right_answers(attempt)
    worst = next(iter(answers))
    answers[worst] = wrong_answers(attempt)[worst]
    service.submit_attempt(users.agent, attempt.id, answers)
    _login(auth, users.trainer)
    page = client.get(f"/training/courses/{course.id}/quiz/stats")
    assert page.status_code == 200
    table = page.text.split('id="question-stats"')[1]
    first_link = re.search(r'href="/training/questions/(\d+)/edit"', table.split("<tbody>")[1])
    assert first_link.group(1) == worst


# --------------------------------------------------------------------------- taking the quiz


def test_take_fail_wait_and_see_the_reason(client, auth, users, course):
    _login(auth, users.agent)
    home = client.get(f"/training/courses/{course.id}/quiz")
    assert home.status_code == 200 and "开始测验" in home.text
    start = client.post(f"/training/courses/{course.id}/quiz/start")
    assert start.status_code == 303
    attempt = db.session.scalar(select(QuizAttempt))
    assert start.headers["Location"].endswith(f"/training/quiz/{attempt.id}")
    page = client.get(f"/training/quiz/{attempt.id}")
    assert page.status_code == 200 and page.text.count('class="card quiz-question"') == 4
    # Save one answer through htmx: the saved mark comes back (a fragment).
    item = attempt.questions[0]
    saved = client.post(f"/training/quiz/{attempt.id}/answer",
                        data={"question": str(item["id"]), f"answer-{item['id']}": item["options"][0]}, headers=HX)
    assert saved.status_code == 200 and "已保存" in saved.text and "<html" not in saved.text
    db.session.refresh(attempt)
    assert attempt.answers == {str(item["id"]): [item["options"][0]]}
    # A htmx start answers HX-Redirect (the attempt in progress).
    again = client.post(f"/training/courses/{course.id}/quiz/start", headers=HX)
    assert again.status_code == 204 and again.headers["HX-Redirect"].endswith(f"/training/quiz/{attempt.id}")
    # Submit wrong answers: not passed, the wait is shown in Chinese.
    form = {f"answer-{qid}": keys for qid, keys in wrong_answers(attempt).items()}
    done = client.post(f"/training/quiz/{attempt.id}/submit", data=form)
    assert done.status_code == 303
    result = client.get(f"/training/quiz/{attempt.id}")
    assert "未通过" in result.text and re.search(r"请于 (?:\d\d-\d\d )?\d\d:\d\d 后再试", result.text)
    refused = client.post(f"/training/courses/{course.id}/quiz/start")
    assert refused.status_code == 303
    assert re.search(r"请于 (?:\d\d-\d\d )?\d\d:\d\d 后再试", client.get(refused.headers["Location"]).text)
    history = client.get(f"/training/courses/{course.id}/quiz")
    assert "attempt-history" in history.text and "未通过" in history.text


def test_answer_without_javascript_saves_everything_posted(client, auth, users, course):
    from kdcs.training.quiz import service

    attempt = service.start_attempt(users.agent, course.id)
    _login(auth, users.agent)
    right = right_answers(attempt)
    form = {f"answer-{qid}": keys for qid, keys in right.items()}
    form["answered"] = list(right)
    response = client.post(f"/training/quiz/{attempt.id}/answer", data=form)
    assert response.status_code == 303
    db.session.refresh(attempt)
    assert attempt.answers == right and attempt.submitted_at is None


def test_course_box_for_agents_and_trainers(app, users, course):
    from flask import render_template
    from flask_login import login_user

    with app.test_request_context("/"):
        login_user(users.agent)
        html = render_template("training/quiz/_course_box.html", course=course)
        assert "开始测验" in html and "/questions" not in html
    with app.test_request_context("/"):
        login_user(users.trainer)
        html = render_template("training/quiz/_course_box.html", course=course)
        assert f"/training/courses/{course.id}/questions" in html and "测验设置" in html
    with app.test_request_context("/"):
        login_user(users.agent)
        html = render_template("training/quiz/_my_box.html", courses=[course])
        assert "未开始" in html


def test_bank_changes_are_audited_in_chinese(client, auth, users, course):
    _login(auth, users.trainer)
    client.post(f"/training/courses/{course.id}/questions/new",
                data={"kind": "single", "text": "审计题", "option0": "甲", "option1": "乙", "correct": ["1"]})
    client.post("/logout")
    _login(auth, users.admin)
    page = client.get("/admin/audit")
    assert page.status_code == 200 and "新增题目" in page.text
