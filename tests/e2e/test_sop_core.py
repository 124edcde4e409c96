"""SOP scenarios in a real browser (issue 10, "Browser tests", the editing and review part).

trainer1 writes a new scenario in the editor: the live preview (rendered on the server by the
published page's own template) follows the typing and the step buttons; the draft goes to
review; trainer2 approves it as required reading for 二组 (not agent1's team, so the reading
journey's banner stays as it expects). A second version changes one word; the comparison marks
that word, not characters. The script is copied with one click (and shown selected for Ctrl+C
where the clipboard is refused). A draft made of known XSS payloads runs no script in the
preview or on the published page.
"""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, VIEWPORT, login
from tests.xss_payloads import PAYLOADS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def trainer2(e2e_app):
    """A second trainer to review trainer1's drafts (the demo has one; created if missing)."""
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from kdcs.extensions import db
    from kdcs.models import User

    with e2e_app.app_context():
        if db.session.scalar(select(User).where(User.username == "trainer2")) is None:
            user = User(username="trainer2", display_name="高洁", role="trainer", is_active_account=True)
            user.password_hash = generate_password_hash(DEMO_PASSWORD, method="scrypt:1024:8:1")
            db.session.add(user)
            db.session.commit()
    return "trainer2"


@pytest.fixture
def second_page(browser, base_url):
    """Another browser (its own cookies) for the second person in a journey."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


def scenario_id_of(page) -> int:
    return int(page.url.rstrip("/").split("/sop/")[1].split("/")[0])


def approve(page, scenario_id: int, *, required_for: str | None = None) -> None:
    """On /sop/review: approve the scenario's draft (as required reading for one team if asked)."""
    page.goto("/sop/review")
    card = page.locator(f"#review-{scenario_id}")
    expect(card).to_be_visible()
    form = card.locator("form[action$='/approve']")
    if required_for:
        form.get_by_label("设为必读").check()
        form.get_by_label(required_for, exact=True).check()
        expect(form.locator("input[type=datetime-local]")).not_to_have_value("")
    with page.expect_navigation():
        form.get_by_role("button", name="批准并发布").click()
    expect(page.locator(".flashes")).to_contain_text("已发布")


def test_trainer_writes_with_the_preview_and_another_trainer_approves_as_required_reading(
        page, second_page, login_as, trainer2, e2e_app):
    title = f"外包装破损补偿{secrets.token_hex(2)}"
    login_as("trainer1")
    page.goto("/sop/new")
    page.get_by_label("标题").fill(title)
    page.get_by_label("类型").select_option(label="理赔")
    page.get_by_label("标签").fill("破损、补偿")
    page.locator("#script").fill("您好{客户称呼}，您的快件{运单号}外包装**破损**，非常抱歉。\n\n请提供外包装照片。")

    preview = page.locator("#sop-preview")
    # The server renders the preview as the trainer types: Markdown and the blanks.
    expect(preview.locator("strong")).to_have_text("破损")
    expect(preview.locator("span.blank")).to_have_text(["{客户称呼}", "{运单号}"])
    expect(preview.locator(".sop-preview-title")).to_have_text(title)

    page.locator("#step-text-1").fill("核实物流轨迹")
    page.locator("#step-limit-1").fill("30")
    expect(preview.locator("ol.sop-steps li")).to_have_text(["核实物流轨迹 30 分钟内"])
    page.get_by_role("button", name="+ 添加步骤").click()
    expect(page.locator("input[name=step_text]")).to_have_count(2)
    page.locator("#step-text-2").fill("响应客户")
    page.locator("#step-limit-2").fill("5")
    page.get_by_role("button", name="上移第 2 步").click()
    expect(page.locator("input[name=step_text]").nth(0)).to_have_value("响应客户")
    expect(preview.locator("ol.sop-steps li")).to_have_text(["响应客户 5 分钟内", "核实物流轨迹 30 分钟内"])

    page.get_by_label("客服可自行决定的赔付上限（元）").fill("200")
    expect(preview).to_contain_text("200.00 元以内")
    page.get_by_label("问题件", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="保存并送审").click()
    expect(page.locator(".sop-editor-status")).to_contain_text("待审核")
    scenario_id = scenario_id_of(page)

    # trainer1 cannot approve their own draft.
    page.goto("/sop/review")
    expect(page.locator(f"#review-{scenario_id}")).to_contain_text("需由其他培训师或管理员审核")
    expect(page.locator(f"#review-{scenario_id} form[action$='/approve']")).to_have_count(0)

    login(second_page, trainer2)
    expect(second_page.locator(".nav-badge").first).to_be_visible()
    approve(second_page, scenario_id, required_for="二组")
    second_page.goto(f"/sop/{scenario_id}")
    head = second_page.locator(".sop-head")
    expect(head).to_contain_text("当前版本：第 1 版")
    expect(head).to_contain_text("必读")
    expect(second_page.locator("ol.sop-steps li")).to_have_text(["响应客户 5 分钟内", "核实物流轨迹 30 分钟内"])

    from kdcs.extensions import db
    from kdcs.models.sop import SopScenario

    with e2e_app.app_context():
        version = db.session.get(SopScenario, scenario_id).current_version
        assert version.required_reading and version.reading_due_at is not None
        assert len(version.reading_team_ids) == 1

    # A second version changes one two-character word; the comparison marks that word.
    second_page.get_by_role("button", name="编辑（新建草稿）").click()
    second_page.wait_for_url(f"**/sop/{scenario_id}/edit")
    script = second_page.locator("#script")
    script.fill(script.input_value().replace("破损", "损坏"))
    second_page.get_by_label("变更说明").fill("用词统一为损坏")
    with second_page.expect_navigation():
        second_page.get_by_role("button", name="保存并送审").click()
    approve(page, scenario_id)
    page.goto(f"/sop/{scenario_id}")
    page.get_by_role("link", name="查看改动").click()
    page.wait_for_url(f"**/sop/{scenario_id}/diff?a=1&b=2")
    expect(page.locator("td.old del")).to_have_text(["破损"])
    expect(page.locator("td.new ins")).to_have_text(["损坏"])

    # Archived, it leaves the library and the ticket panels (the other browser tests share this server).
    second_page.goto(f"/sop/{scenario_id}")
    second_page.once("dialog", lambda dialog: dialog.accept())
    with second_page.expect_navigation():
        second_page.get_by_role("button", name="归档").click()
    expect(second_page.locator(".sop-head")).to_contain_text("已归档")
    assert page.js_errors == [] and second_page.js_errors == []


def test_copy_the_script_with_confirmation_and_the_fallback(page, login_as, e2e_app):
    from sqlalchemy import select

    from kdcs.extensions import db
    from kdcs.models.sop import SopScenario

    with e2e_app.app_context():  # 破损理赔 in the demo handbook
        scenario_id = db.session.scalar(select(SopScenario.id).where(SopScenario.title == "破损理赔"))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login_as("agent1")
    page.goto(f"/sop/{scenario_id}")
    page.get_by_role("button", name="复制话术").click()
    expect(page.locator("[data-sop-copy-status]")).to_have_text("✓ 话术已复制。")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "{客户称呼}" in copied and "**" not in copied

    # The clipboard refused (and the old copy command too): the text appears, selected, for Ctrl+C.
    page.evaluate("""() => {
        navigator.clipboard.writeText = () => Promise.reject(new Error('denied'));
        document.execCommand = () => false;
    }""")
    page.get_by_role("button", name="复制话术").click()
    source = page.locator("textarea.sop-copy-source")
    expect(source).to_be_visible()
    expect(page.locator("[data-sop-copy-status]")).to_contain_text("Ctrl+C")
    selected = page.evaluate("() => { const t = document.querySelector('textarea.sop-copy-source');"
                             " return t.value.substring(t.selectionStart, t.selectionEnd); }")
    assert selected == source.input_value() and "{客户称呼}" in selected
    assert page.js_errors == []


def _assert_inert(container) -> None:
    """No element that could run or load anything inside the rendered Markdown."""
    found = container.evaluate("""(root) => {
        const bad = [];
        root.querySelectorAll('*').forEach((el) => {
            if (['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'FORM', 'INPUT', 'STYLE', 'LINK', 'META', 'BASE', 'IMG',
                 'SVG', 'MATH', 'VIDEO', 'TEMPLATE'].includes(el.tagName.toUpperCase())) bad.push(el.tagName);
            for (const attr of el.attributes) {
                if (attr.name.startsWith('on') || attr.name === 'style' || attr.name === 'srcdoc') bad.push(attr.name);
                if (['href', 'src', 'action'].includes(attr.name) && /^\\s*(javascript|data|vbscript):/i.test(attr.value))
                    bad.push(attr.value);
            }
        });
        return bad;
    }""")
    assert found == []


def _archive(e2e_app, scenario_id: int) -> None:
    from sqlalchemy import select

    from kdcs.extensions import db
    from kdcs.models import User
    from kdcs.models.sop import SopScenario
    from kdcs.sop import service

    with e2e_app.test_request_context("/"):
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        service.archive(admin, db.session.get(SopScenario, scenario_id))


def test_xss_payloads_run_nowhere(page, second_page, login_as, trainer2, e2e_app):
    dialogs: list[str] = []
    for p in (page, second_page):
        p.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login_as("trainer1")
    page.goto("/sop/new")
    title = f"XSS 测试{secrets.token_hex(2)}"
    page.get_by_label("标题").fill(title)
    page.locator("#script").fill("开场白：您好{客户称呼}。\n\n" + "\n\n".join(PAYLOADS) + "\n\n结束语：感谢配合。")
    page.get_by_label("权限边界", exact=True).fill("\n\n".join(PAYLOADS[:12]))
    page.get_by_label("以下情况升级给组长").fill("\n\n".join(PAYLOADS[12:30]))
    preview = page.locator("#sop-preview")
    expect(preview).to_contain_text("结束语：感谢配合。")
    expect(preview).to_contain_text("<script>alert(1)</script>")  # shown as text
    page.wait_for_timeout(500)
    _assert_inert(preview)
    with page.expect_navigation():
        page.get_by_role("button", name="保存并送审").click()
    scenario_id = scenario_id_of(page)

    login(second_page, trainer2)
    second_page.goto(f"/sop/{scenario_id}/draft")
    _assert_inert(second_page.locator(".sop-body"))
    approve(second_page, scenario_id)
    second_page.goto(f"/sop/{scenario_id}")
    body = second_page.locator(".sop-body")
    expect(body).to_contain_text("结束语：感谢配合。")
    second_page.wait_for_timeout(500)
    _assert_inert(body)
    for link in body.locator("a").all():
        assert link.get_attribute("rel") == "noopener noreferrer"
    assert dialogs == []
    assert second_page.evaluate("typeof window.__xss") == "undefined"
    _archive(e2e_app, scenario_id)  # out of the library the other browser tests search
    assert page.js_errors == [] and second_page.js_errors == []
