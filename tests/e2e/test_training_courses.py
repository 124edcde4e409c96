"""Courses in Chromium: a trainer builds a course with two lessons (the live preview renders the Markdown as
it is typed), moves the second lesson up (htmx button, then drag and drop), publishes; an agent finds it on 我的培训, reads the first
lesson and marks it done (htmx, counted once). Screenshots in test-artifacts/e2e/training-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS, login

pytestmark = pytest.mark.e2e

TITLE = "浏览器课程：网点沟通基础"


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"training-{name}.png"))


def _add_lesson(page, title: str, body: str) -> None:
    """From the course editor: add a lesson, write its Markdown (the preview follows), save."""
    page.fill("#course-lessons input[name=title]", title)
    with page.expect_navigation():
        page.click("#course-lessons button:has-text('添加课时')")
    page.fill("textarea[name=body]", body)
    page.locator("#lesson-preview strong").first.wait_for()  # rendered by the server as typed
    with page.expect_navigation():
        page.click("button:has-text('保存本课')")
    page.get_by_text("课时已保存").wait_for()


def test_trainer_builds_and_publishes_agent_marks_done(page, e2e_app):
    login(page, "trainer1")
    page.goto("/training/courses/new")
    page.fill("input[name=title]", TITLE)
    page.fill("textarea[name=summary]", "与网点、快递员沟通要快、准、留痕。")
    page.select_option("select[name=kind]", "special")
    with page.expect_navigation():
        page.click("button:has-text('创建课程')")
    assert re.search(r"/training/courses/\d+/edit$", page.url)
    edit_url = page.url

    _add_lesson(page, "先说清楚再挂电话", "## 沟通三要素\n\n一次说清**运单号**、问题和要的结果。")
    page.goto(edit_url)
    _add_lesson(page, "留痕：写进备注", "电话后写备注：**时间**、对象、结果。\n\n<script>alert(1)</script>")
    page.goto(edit_url)
    rows = page.locator("[data-testid=lesson-row] .lesson-title")
    assert rows.all_inner_texts() == ["先说清楚再挂电话", "留痕：写进备注"]

    # Move the second lesson up: htmx swaps the list in place.
    page.get_by_role("button", name="上移「留痕：写进备注」").click()
    expect(rows.first).to_have_text("留痕：写进备注")
    assert rows.all_inner_texts() == ["留痕：写进备注", "先说清楚再挂电话"]
    assert page.url == edit_url  # no navigation
    # Drag and drop does the same: the second row onto the first.
    page.locator("[data-testid=lesson-row]").nth(1).drag_to(page.locator("[data-testid=lesson-row]").nth(0))
    expect(rows.first).to_have_text("先说清楚再挂电话")
    page.locator("[data-testid=lesson-row]").nth(1).drag_to(page.locator("[data-testid=lesson-row]").nth(0))
    expect(rows.first).to_have_text("留痕：写进备注")
    _shot(page, "editor")

    page.click("text=查看课程页")
    page.wait_for_load_state("load")
    with page.expect_navigation():
        page.click(".publish-box button:has-text('发布')")
    page.get_by_text("课程已发布（第 1 版）").wait_for()
    course_url = page.url
    _shot(page, "course-trainer")
    assert not page.js_errors

    # The agent.
    page.context.clear_cookies()
    login(page, "agent2")
    page.goto("/training/")
    page.click(f"text={TITLE}")
    page.wait_for_load_state("load")
    assert page.url == course_url
    page.click(".lesson-list a >> nth=0")
    page.wait_for_load_state("load")
    assert page.locator(".lesson-title-h").inner_text() == "留痕：写进备注"
    assert page.locator("[data-testid=lesson-body] strong").inner_text() == "时间"
    assert page.locator("[data-testid=lesson-body] script").count() == 0
    lesson_url = page.url
    page.click("[data-testid=mark-done]")
    page.locator("#lesson-done .badge-ok").wait_for()
    assert page.url == lesson_url
    assert "已完成 1 / 2 课" in page.locator("#lesson-done").inner_text()
    _shot(page, "lesson-agent")
    page.reload()
    assert page.locator("[data-testid=mark-done]").count() == 0
    page.goto(course_url)
    assert "已完成 1 / 2 课" in page.locator(".course-progress").inner_text()
    assert not page.js_errors

    from sqlalchemy import func, select

    from kdcs.extensions import db
    from kdcs.models import User
    from kdcs.models.training import LessonProgress

    with e2e_app.app_context():
        agent = db.session.scalar(select(User).where(User.username == "agent2"))
        done = db.session.scalar(select(func.count()).select_from(LessonProgress).where(
            LessonProgress.user_id == agent.id, LessonProgress.completed_at.is_not(None)))
        assert done >= 1
