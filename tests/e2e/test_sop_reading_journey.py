"""Required reading in a real browser (issue 10, "Browser tests", the reading part).

agent1 sees the banner of an unread required version, opens the scenario from it and
acknowledges ("我已阅读并理解"): the box confirms by htmx and the banner drops the version
without a reload. The trainer then sees agent1's acknowledgement in the matrix.

The test publishes its own required version (unique title) in the e2e app, so it does
not depend on the demo content.
"""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.e2e


def _publish_required(e2e_app, title: str) -> int:
    """A scenario with a published version that is required reading for everyone (now, 72 hours)."""
    from kdcs.extensions import db
    from kdcs.models import utcnow
    from kdcs.models.sop import SopScenario, SopVersion, VersionStatus
    from kdcs.sop.reading import service

    with e2e_app.app_context():
        scenario = SopScenario(title=title, kind="claim", tags=["破损"], categories=[])
        db.session.add(scenario)
        db.session.flush()
        version = SopVersion(
            scenario_id=scenario.id, number=1, status=VersionStatus.PUBLISHED, title=title,
            script="您好{客户称呼}，您的快件{运单号}破损一事我们已登记，{时限}内给您答复。",
            steps=[{"text": "5 分钟内响应", "limit_minutes": 5}], published_at=utcnow(),
            required_reading=True, change_note="破损件须拍照留证",
        )
        db.session.add(version)
        db.session.flush()
        scenario.current_version_id = version.id
        service.on_published(version)
        try:
            from kdcs.sop.search import reindex_scenario

            reindex_scenario(scenario)
        except Exception:  # noqa: BLE001 - the index is not what this test is about
            pass
        db.session.commit()
        return scenario.id


def test_agent_acknowledges_from_the_banner_and_the_trainer_sees_it(e2e_app, browser, base_url, login_as, page):
    title = f"必读浏览器测试{secrets.token_hex(3)}"
    scenario_id = _publish_required(e2e_app, title)

    login_as("agent1")
    banner = page.get_by_test_id("sop-reading-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(title)
    expect(banner).to_contain_text("北京时间")

    banner.get_by_role("link", name=title).click()
    page.wait_for_url(f"**/sop/{scenario_id}")
    page.evaluate("window.__kdcsNoReload = true")
    box = page.get_by_test_id("sop-acknowledge")
    expect(box).to_be_visible()
    box.get_by_role("button", name="我已阅读并理解").click()
    expect(box).to_contain_text("你已于")
    # The banner refreshes by htmx (sop-reading-changed): the version is gone, without a reload.
    expect(page.locator("#sop-reading-banner")).not_to_contain_text(title)
    assert page.evaluate("window.__kdcsNoReload") is True
    assert page.js_errors == []

    page.goto("/sop/reading/mine")
    expect(page.get_by_test_id("reading-history")).to_contain_text(title)
    expect(page.get_by_test_id("reading-to-read")).not_to_contain_text(title)

    from kdcs.extensions import db
    from kdcs.models import User
    from kdcs.models.sop import SopAcknowledgement

    with e2e_app.app_context():
        agent = db.session.scalar(select(User).where(User.username == "agent1"))
        assert db.session.scalar(select(SopAcknowledgement).where(SopAcknowledgement.user_id == agent.id)) is not None

    trainer = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=base_url)
    try:
        trainer_page = trainer.new_page()
        from tests.e2e.conftest import login

        login(trainer_page, "trainer1")
        trainer_page.goto("/sop/reading")
        matrix = trainer_page.get_by_test_id("reading-matrix")
        row = matrix.locator("tr", has_text=title)
        expect(row).to_be_visible()
        headers = matrix.locator("thead th")
        names = [text.strip() for text in headers.all_inner_texts()]
        column = next(i for i, text in enumerate(names) if "agent1" in text.split())
        expect(row.locator("> *").nth(column)).to_contain_text("✓")
        trainer_page.select_option("#reading-team", label="一组")
        expect(trainer_page).to_have_url(re.compile(r"/sop/reading\?team=\d+"))
        expect(matrix.locator("tr", has_text=title)).to_be_visible()
    finally:
        trainer.close()
