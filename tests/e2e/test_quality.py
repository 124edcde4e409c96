"""质检 in a real browser: lead1 draws one of agent6's replies, takes points off without a reason (told
to give one, the points kept), gives it, and reads the review; agent6 reads it under 我的质检 and disputes
it; lead1 scores it again from 待处理的申诉. trainer1 adds a criterion to the scorecard inline. Uses the
demo company (agent6 has no demo review)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


def test_lead_scores_a_reply_and_the_agent_reads_it(page):
    login(page, "lead1")
    page.locator("nav a", has_text="质检").first.click()
    page.wait_for_url(re.compile(r"/quality/"))
    row = page.locator("tr[data-agent='agent6']")
    if row.locator("[data-testid=draw]").count() == 0:  # early on a Monday: no reply this week yet
        page.locator("a[rel=prev]").click()
        page.wait_for_url(re.compile(r"start="))
    assert row.locator("[data-figure=reviewed]").inner_text().startswith("0 / ")
    row.locator("[data-testid=draw]").click()
    page.wait_for_url(re.compile(r"/quality/replies/\d+/review"))
    reply_text = page.locator("[data-testid=reply-body]").inner_text()
    assert reply_text.strip()
    sop = page.locator("tr", has_text="按SOP处理").locator("input.points")
    assert sop.input_value() == "30"  # full points to start with
    sop.fill("20")
    page.locator("button", has_text="保存评分").click()
    page.wait_for_load_state("load")
    assert "扣分原因" in page.locator(".field-error").first.inner_text()
    sop = page.locator("tr", has_text="按SOP处理").locator("input.points")
    assert sop.input_value() == "20"  # kept
    page.fill("textarea[name=comment]", "没有按SOP先核实物流轨迹就答复了客户。")
    page.locator("button", has_text="保存评分").click()
    page.wait_for_url(re.compile(r"/quality/reviews/\d+"))
    review_url = page.url
    assert page.locator("[data-figure=score]").inner_text() == "90"
    assert "合格" in page.locator("[data-testid=review-result]").inner_text()
    assert page.locator("[data-testid=reply-body]").inner_text() == reply_text
    page.locator("a", has_text="返回质检").click()
    page.wait_for_url(re.compile(r"/quality/\?"))
    assert page.locator("tr[data-agent='agent6'] [data-figure=reviewed]").inner_text().startswith("1 / ")
    assert not page.js_errors

    page.context.clear_cookies()
    login(page, "agent6")
    page.locator("nav a", has_text="我的质检").click()
    page.wait_for_url(re.compile(r"/quality/mine"))
    listed = page.locator("[data-testid=own-reviews] tr", has_text="没有按SOP先核实物流轨迹")
    assert "90" in listed.inner_text() and "王丽" in listed.inner_text()
    listed.locator("a").click()
    page.wait_for_url(review_url)
    assert "没有按SOP先核实物流轨迹" in page.locator("[data-testid=review-comment]").inner_text()
    assert page.locator("[data-testid=draw-next]").count() == 0  # an agent does not draw
    page.fill("textarea[name=appeal_reason]", "我回复前已经查过物流轨迹，只是没有写在回复里。")
    page.locator("button", has_text="提交申诉").click()
    page.wait_for_url(review_url)
    assert page.locator("[data-testid=appeal]").get_attribute("data-state") == "open"
    assert not page.js_errors

    page.context.clear_cookies()
    login(page, "lead1")
    page.goto("/quality/")
    page.locator("[data-testid=open-appeals] a", has_text="吴静").click()
    page.wait_for_url(review_url)
    page.locator("summary", has_text="改分时的各项得分").click()
    page.locator("[data-testid=appeal-decision] tr", has_text="按SOP处理").locator("input.points").fill("30")
    page.fill("textarea[name=appeal_note]", "核实过轨迹记录，补回 10 分。")
    page.locator("button", has_text="按新分数改分").click()
    page.wait_for_url(review_url)
    assert page.locator("[data-figure=score]").inner_text() == "100"
    assert "90 → 100" in page.locator("[data-testid=appeal-outcome]").inner_text()
    assert not page.js_errors


def test_trainer_adds_a_criterion_to_the_scorecard(page):
    login(page, "trainer1")
    page.goto("/quality/criteria")
    page.fill("#criterion-new-name", "结束语")
    page.fill("#criterion-new-points", "0")
    page.locator("button", has_text="添加评分项").click()
    assert "1 到 100" in page.locator("#criterion-create .field-error").first.inner_text(timeout=5000)
    page.fill("#criterion-new-points", "10")
    page.locator("button", has_text="添加评分项").click()
    page.locator("[data-testid=criteria] tr", has_text="结束语").wait_for()
    assert "110" in page.locator("[data-testid=criteria-total]").inner_text()
    assert page.locator("#criterion-new-name").input_value() == ""  # a fresh form for the next one
    assert not page.js_errors


def test_a_reviewer_scores_from_the_keyboard(page):
    """On the score page Ctrl+Enter saves; on the review N draws the same agent's next reply, Q goes back."""
    login(page, "lead1")
    page.goto("/quality/")
    draw = page.locator("tr[data-agent='agent5'] [data-testid=draw]")
    if draw.count() == 0:  # early on a Monday: no reply this week yet
        page.locator("a[rel=prev]").click()
        page.wait_for_url(re.compile(r"start="))
    draw.click()
    page.wait_for_url(re.compile(r"/quality/replies/\d+/review"))
    page.wait_for_load_state("load")
    page.locator("tr", has_text="开场与称呼").locator("input.points").focus()
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/quality/reviews/\d+"))
    assert page.locator("[data-figure=score]").inner_text() == "100"
    page.wait_for_load_state("load")
    page.keyboard.press("n")
    page.wait_for_url(re.compile(r"/quality/replies/\d+/review"))
    page.wait_for_load_state("load")
    page.keyboard.press("q")
    page.wait_for_url(re.compile(r"/quality/\?"))
    assert not page.js_errors
