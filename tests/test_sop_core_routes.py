"""SOP pages (kdcs/sop/routes.py): scenario and version pages, the editor with its live preview,
steps buttons, stale saves, review (approve / return), diff, restore, archive, the review setting."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models.sop import SopScenario, SopVersion, VersionStatus
from kdcs.sop import service as svc
from tests import factories
from tests.html import parse


def section_html(body: str, part: str) -> str:
    """The raw HTML of one part of a version's content (script, steps, authority)."""
    match = re.search(rf'<section class="sop-part {part}">.*?</section>', body, re.S)
    assert match, part
    return match.group(0)


def with_attr(root, name: str):
    return [el for el in root.iter() if name in el.attrs]

SCRIPT = "您好{客户称呼}，您的快件{运单号}外包装**破损**，我们已登记。"


@pytest.fixture
def w(users):
    users["trainer2"] = factories.make_user("trainer", username="trainer_b", display_name="周敏")
    users["reason"] = factories.make_reason("problem", "破损")
    return users


def form_data(**overrides) -> dict:
    data = {"title": "破损理赔", "kind": "claim", "tags": "破损、理赔", "categories": ["problem"],
            "script": SCRIPT, "step_text": ["响应客户", "核实物流"], "step_limit": ["5", "30"],
            "step_unit": ["min", "min"], "max_compensation": "200", "authority": "可直接登记补发",
            "escalation": "超过上限找组长", "change_note": ""}
    data.update(overrides)
    return data


def make(w, publish=False, script=SCRIPT) -> SopScenario:
    scenario = svc.create_scenario(w.trainer, title="破损理赔", kind="claim", tags="破损", categories=["problem"],
                                   reason_ids=[w.reason.id], script=script,
                                   steps=[{"text": "响应客户", "limit_minutes": 5},
                                          {"text": "给出方案", "limit_minutes": 120}],
                                   max_compensation="200", authority="可直接登记补发", escalation="")
    if publish:
        draft = svc.open_draft(scenario)
        svc.submit_for_review(w.trainer, draft)
        svc.approve(w.trainer2, draft)
    return scenario


def marked(page, side: str, tag: str) -> list[str]:
    """The words marked removed (old side, <del>) or added (new side, <ins>) in a comparison."""
    return [m.text for td in page.find_all("td", cls=side) for m in td.find_all(tag)]


# --------------------------------------------------------------------------- new scenario and the editor


def test_new_page_has_the_editor_with_the_live_preview(client, auth, w):
    auth.login(w.trainer)
    response = client.get("/sop/new")
    assert response.status_code == 200
    page = parse(response)
    form = page.one("form", id="draft-form")
    assert form.get("action") == "/sop/new" and form.get("hx-post") == "/sop/preview"
    assert form.get("hx-trigger").startswith("input changed delay:400ms") and form.get("hx-sync") == "this:replace"
    assert form.get("hx-target") == "#sop-preview"
    assert page.find(id="sop-preview") is not None
    assert form.find("button", name="action", value="submit") is not None


def test_create_and_send_for_review(client, auth, w):
    auth.login(w.trainer)
    response = client.post("/sop/new", data=form_data(action="submit"))
    assert response.status_code == 303
    scenario = db.session.scalar(select(SopScenario))
    assert response.headers["Location"] == f"/sop/{scenario.id}/edit"
    draft = svc.open_draft(scenario)
    assert draft.status == VersionStatus.IN_REVIEW
    assert draft.steps == [{"text": "响应客户", "limit_minutes": 5}, {"text": "核实物流", "limit_minutes": 30}]
    assert scenario.categories == ["problem"] and scenario.tags == ["破损", "理赔"]


def test_create_with_errors_shows_them_beside_the_fields(client, auth, w):
    auth.login(w.trainer)
    response = client.post("/sop/new", data=form_data(title="", max_compensation="很多"))
    assert response.status_code == 200
    page = parse(response)
    errors = [f for f in page.find_all("div", cls="has-error") if f.find("input", id="title")]
    assert errors and errors[0].find(cls="field-error").text == "请输入标题。"
    money = [f for f in page.find_all("div", cls="has-error") if f.find("input", id="max_compensation")]
    assert money
    assert db.session.scalar(select(SopScenario)) is None


def test_step_buttons_return_the_steps_block_and_refresh_the_preview(client, auth, w):
    auth.login(w.trainer)
    response = client.htmx("post", "/sop/new", data=form_data(step_op="up:1"))
    assert response.status_code == 200
    assert response.headers["HX-Trigger-After-Settle"] == "sop-steps-changed"
    body = response.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="sop-steps">')
    values = [i.get("value") for i in parse(response).find_all("input", name="step_text")]
    assert values == ["核实物流", "响应客户"]
    added = client.htmx("post", "/sop/new", data=form_data(step_op="add"))
    assert len(parse(added).find_all("input", name="step_text")) == 3
    removed = client.htmx("post", "/sop/new", data=form_data(step_op="remove:0"))
    assert [i.get("value") for i in parse(removed).find_all("input", name="step_text")] == ["核实物流"]
    assert db.session.scalar(select(SopScenario)) is None  # nothing saved by a step button


def test_step_buttons_without_js_rerender_the_whole_editor(client, auth, w):
    auth.login(w.trainer)
    response = client.post("/sop/new", data=form_data(step_op="down:0"))
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)
    page = parse(response)
    assert [i.get("value") for i in page.find_all("input", name="step_text")] == ["核实物流", "响应客户"]
    assert page.one("textarea", id="script").text == SCRIPT  # what was typed stays


def test_preview_renders_like_the_published_page(client, auth, w):
    scenario = make(w, publish=True)
    auth.login(w.trainer)
    preview = client.htmx("post", "/sop/preview", data=form_data(
        title="破损理赔", script=SCRIPT, step_text=["响应客户", "给出方案"], step_limit=["5", "2"],
        step_unit=["min", "h"], authority="可直接登记补发", escalation=""))
    assert preview.status_code == 200
    body = preview.get_data(as_text=True)
    assert "<html" not in body
    published = client.get(f"/sop/{scenario.id}").get_data(as_text=True)
    for part in ("sop-part-script", "sop-part-steps", "sop-part-authority"):
        assert section_html(body, part) == section_html(published, part), part
    assert '<span class="blank">{客户称呼}</span>' in body and "<strong>破损</strong>" in body
    assert "2 小时" in body and "200.00" in body


def test_preview_without_htmx_goes_to_a_page(client, auth, w):
    auth.login(w.trainer)
    assert client.post("/sop/preview", data=form_data()).status_code == 303


def test_preview_is_sanitized(client, auth, w):
    auth.login(w.trainer)
    body = client.htmx("post", "/sop/preview", data=form_data(
        script="<script>alert(1)</script>[x](javascript:alert(1))<img src=x onerror=alert(1)>")).get_data(as_text=True)
    assert "<script" not in body and "<img" not in body and 'href="javascript' not in body


def test_edit_saves_with_the_loaded_version(client, auth, w):
    scenario = make(w)
    draft = svc.open_draft(scenario)
    auth.login(w.trainer)
    page = parse(client.get(f"/sop/{scenario.id}/edit"))
    assert page.one("form", id="draft-form").one("input", name="version").get("value") == str(draft.version)
    assert [i.get("value") for i in page.find_all("input", name="step_limit")] == ["5", "2"]
    chosen = [o.get("value") for sel in page.find_all("select", name="step_unit") for o in sel.find_all("option")
              if "selected" in o.attrs]
    assert chosen == ["min", "h"]
    response = client.post(f"/sop/{scenario.id}/edit", data=form_data(version=str(draft.version), script="新的话术"))
    assert response.status_code == 303 and response.headers["Location"] == f"/sop/{scenario.id}/edit"
    assert db.session.get(SopVersion, draft.id).script == "新的话术"


def test_stale_save_is_a_409_that_keeps_what_was_typed(client, auth, w):
    scenario = make(w)
    draft = svc.open_draft(scenario)
    loaded = draft.version
    svc.save_draft(w.trainer2, draft, version_no=loaded, script="别人先保存的话术")
    auth.login(w.trainer)
    response = client.post(f"/sop/{scenario.id}/edit", data=form_data(version=str(loaded), script="我输入的话术"))
    assert response.status_code == 409
    page = parse(response)
    assert page.one(cls="conflict-box").get("data-status") == "409"
    assert "别人先保存的话术" in page.one(cls="conflict-box").text
    assert page.one("textarea", id="script").text == "我输入的话术"
    fresh = page.one("form", id="draft-form").one("input", name="version").get("value")
    assert fresh == str(db.session.get(SopVersion, draft.id).version)
    assert db.session.get(SopVersion, draft.id).script == "别人先保存的话术"
    again = client.post(f"/sop/{scenario.id}/edit", data=form_data(version=fresh, script="我输入的话术"))
    assert again.status_code == 303 and db.session.get(SopVersion, draft.id).script == "我输入的话术"


def test_missing_version_is_a_409(client, auth, w):
    scenario = make(w)
    auth.login(w.trainer)
    assert client.post(f"/sop/{scenario.id}/edit", data=form_data()).status_code == 409


def test_in_review_draft_shows_a_locked_editor_and_can_be_withdrawn(client, auth, w):
    scenario = make(w)
    draft = svc.open_draft(scenario)
    svc.submit_for_review(w.trainer, draft)
    auth.login(w.trainer)
    page = parse(client.get(f"/sop/{scenario.id}/edit"))
    assert page.find("form", id="draft-form") is None  # nothing to type into while it is reviewed
    assert "外包装" in page.one("section", cls="sop-body").text
    response = client.post(f"/sop/{scenario.id}/withdraw", data={"version": str(draft.version)})
    assert response.status_code == 303
    assert db.session.get(SopVersion, draft.id).status == VersionStatus.DRAFT


def test_edit_without_a_draft_offers_to_start_one(client, auth, w):
    scenario = make(w, publish=True)
    auth.login(w.trainer)
    page = parse(client.get(f"/sop/{scenario.id}/edit"))
    assert page.find("form", action=f"/sop/{scenario.id}/draft") is not None
    response = client.post(f"/sop/{scenario.id}/draft")
    assert response.status_code == 303 and response.headers["Location"] == f"/sop/{scenario.id}/edit"
    draft = svc.open_draft(scenario)
    assert draft.based_on_id == scenario.current_version_id


# --------------------------------------------------------------------------- pages agents read


def test_scenario_page_shows_script_steps_limits_authority_and_the_copy_button(client, auth, w):
    scenario = make(w, publish=True)
    auth.login(w.agent)
    response = client.get(f"/sop/{scenario.id}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    page = parse(response)
    assert '<span class="blank">{客户称呼}</span>' in section_html(body, "sop-part-script")
    steps = [li.text for li in page.one("ol", cls="sop-steps").find_all("li")]
    assert steps == ["响应客户 5 分钟内", "给出方案 2 小时内"]
    assert "200.00" in page.one("section", cls="sop-part-authority").text
    (button,) = with_attr(page, "data-sop-copy")
    assert button.get("data-copied") and button.get("data-copy-failed")
    assert button.get("data-sop-copy") == ".sop-copy-source"
    source = page.one("textarea", cls="sop-copy-source")
    assert source.text == "您好{客户称呼}，您的快件{运单号}外包装破损，我们已登记。"  # plain text, no **
    assert any(el.get("src", "").endswith("js/sop.js") for el in page.find_all("script"))
    assert page.find("form", action=f"/sop/{scenario.id}/draft") is None  # agents do not edit


def test_agents_do_not_see_unpublished_scenarios_or_drafts(client, auth, w):
    scenario = make(w)
    auth.login(w.agent)
    assert client.get(f"/sop/{scenario.id}").status_code == 404
    published = make(w, publish=True)
    svc.start_draft(w.trainer, published)
    assert client.get(f"/sop/{published.id}/diff?a=1&b=draft").status_code == 403


def test_version_pages_and_the_word_level_diff(client, auth, w):
    scenario = make(w, publish=True, script="客户反映包裹破损，请先致歉。")
    draft = svc.start_draft(w.trainer, scenario)
    svc.save_draft(w.trainer, draft, version_no=draft.version, script="客户反映包裹损坏，请先致歉。",
                   change_note="用词")
    svc.submit_for_review(w.trainer, draft)
    svc.approve(w.trainer2, draft)
    auth.login(w.agent)
    old = client.get(f"/sop/{scenario.id}/versions/1")
    assert old.status_code == 200 and "这是旧版本" in old.get_data(as_text=True)
    assert client.get(f"/sop/{scenario.id}/versions/9").status_code == 404
    response = client.get(f"/sop/{scenario.id}/diff?a=1&b=2")
    assert response.status_code == 200
    page = parse(response)
    assert marked(page, "old", "del") == ["破损"] and marked(page, "new", "ins") == ["损坏"]
    default = parse(client.get(f"/sop/{scenario.id}/diff"))  # previous against current
    assert marked(default, "new", "ins") == ["损坏"]
    fragment = client.htmx("get", f"/sop/{scenario.id}/diff?a=2&b=1")
    assert "<html" not in fragment.get_data(as_text=True)
    assert marked(parse(fragment), "old", "del") == ["损坏"]


def test_restore_an_old_version_from_its_page(client, auth, w):
    scenario = make(w, publish=True)
    draft = svc.start_draft(w.trainer, scenario)
    svc.save_draft(w.trainer, draft, version_no=draft.version, script="第二版", change_note="改写")
    svc.submit_for_review(w.trainer, draft)
    svc.approve(w.trainer2, draft)
    auth.login(w.trainer)
    response = client.post(f"/sop/{scenario.id}/versions/1/restore")
    assert response.status_code == 303 and response.headers["Location"] == f"/sop/{scenario.id}/edit"
    assert svc.open_draft(scenario).script == SCRIPT


def test_archive_and_bring_back(client, auth, w):
    scenario = make(w, publish=True)
    auth.login(w.trainer2)
    response = client.post(f"/sop/{scenario.id}/archive", data={"archived": "1", "version": str(scenario.version)})
    assert response.status_code == 303
    db.session.refresh(scenario)
    assert scenario.is_archived
    assert "已归档" in client.get(f"/sop/{scenario.id}").get_data(as_text=True)
    assert client.post(f"/sop/{scenario.id}/archive", data={"archived": "maybe"}).status_code == 400
    client.post(f"/sop/{scenario.id}/archive", data={"archived": "0", "version": str(scenario.version)})
    db.session.refresh(scenario)
    assert not scenario.is_archived


# --------------------------------------------------------------------------- review


def test_review_page_lists_drafts_and_hides_the_forms_from_their_author(client, auth, w):
    scenario = make(w)
    svc.submit_for_review(w.trainer, svc.open_draft(scenario))
    auth.login(w.trainer)
    page = parse(client.get("/sop/review"))
    card = page.one(id=f"review-{scenario.id}")
    assert card.find("form", action=f"/sop/{scenario.id}/approve") is None
    auth.logout()
    auth.login(w.trainer2)
    card = parse(client.get("/sop/review")).one(id=f"review-{scenario.id}")
    approve_form = card.one("form", action=f"/sop/{scenario.id}/approve")
    assert card.find("form", action=f"/sop/{scenario.id}/return") is not None
    due = approve_form.one("input", type="datetime-local")
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d$", due.get("value"))


def test_approve_as_required_reading_for_a_team(client, auth, w):
    scenario = make(w)
    draft = svc.open_draft(scenario)
    svc.submit_for_review(w.trainer, draft)
    auth.login(w.trainer2)
    prefix = f"a{draft.id}-"
    response = client.post(f"/sop/{scenario.id}/approve", data={
        prefix + "version": str(draft.version), prefix + "required_reading": "y", prefix + "team_ids": [str(w.team.id)],
        prefix + "due_at": "", prefix + "comment": "好"})
    assert response.status_code == 303 and response.headers["Location"] == "/sop/review"
    version = db.session.get(SopVersion, draft.id)
    assert version.status == VersionStatus.PUBLISHED and version.number == 1
    assert version.required_reading and version.reading_team_ids == [w.team.id] and version.reading_due_at
    assert version.review_comment == "好"


def test_approving_ones_own_draft_by_post_is_refused(client, auth, w):
    scenario = make(w)
    draft = svc.open_draft(scenario)
    svc.submit_for_review(w.trainer, draft)
    auth.login(w.trainer)
    response = client.post(f"/sop/{scenario.id}/approve", data={f"a{draft.id}-version": str(draft.version)})
    assert response.status_code == 200
    assert db.session.get(SopVersion, draft.id).status == VersionStatus.IN_REVIEW


def test_approving_a_draft_that_changed_since_is_a_409(client, auth, w):
    scenario = make(w)
    draft = svc.open_draft(scenario)
    svc.submit_for_review(w.trainer, draft)
    auth.login(w.trainer2)
    response = client.post(f"/sop/{scenario.id}/approve", data={f"a{draft.id}-version": "1"})
    assert response.status_code == 409
    assert db.session.get(SopVersion, draft.id).status == VersionStatus.IN_REVIEW


def test_return_with_a_comment(client, auth, w):
    scenario = make(w)
    draft = svc.open_draft(scenario)
    svc.submit_for_review(w.trainer, draft)
    auth.login(w.trainer2)
    empty = client.post(f"/sop/{scenario.id}/return", data={f"r{draft.id}-version": str(draft.version)})
    assert empty.status_code == 200 and db.session.get(SopVersion, draft.id).status == VersionStatus.IN_REVIEW
    response = client.post(f"/sop/{scenario.id}/return", data={
        f"r{draft.id}-version": str(draft.version), f"r{draft.id}-comment": "请补充拍照要求"})
    assert response.status_code == 303
    assert db.session.get(SopVersion, draft.id).status == VersionStatus.RETURNED
    auth.logout()
    auth.login(w.trainer)
    assert "请补充拍照要求" in client.get(f"/sop/{scenario.id}/edit").get_data(as_text=True)


def test_admin_turns_review_off_and_editors_publish_from_the_editor(client, auth, w):
    auth.login(w.admin)
    assert client.post("/sop/review/setting", data={"required": "0"}).status_code == 303
    assert client.post("/sop/review/setting", data={"required": "x"}).status_code == 400
    assert not svc.review_required()
    auth.logout()
    auth.login(w.trainer)
    page = parse(client.get("/sop/new"))
    assert page.find("button", name="action", value="publish") is not None
    assert page.find("input", name="required_reading") is not None
    response = client.post("/sop/new", data=form_data(action="publish", required_reading="y"))
    scenario = db.session.scalar(select(SopScenario))
    assert response.status_code == 303 and response.headers["Location"] == f"/sop/{scenario.id}"
    assert scenario.current_version.number == 1 and scenario.current_version.required_reading


def test_a_tampered_step_button_is_a_400(client, auth, w):
    auth.login(w.trainer)
    assert client.post("/sop/new", data=form_data(step_op="up:x")).status_code == 400
    assert client.htmx("post", "/sop/new", data=form_data(step_op="sideways:1")).status_code == 400


def test_saving_a_draft_published_meanwhile_is_a_409_that_shows_the_typed_script(client, auth, w):
    scenario = make(w)
    draft = svc.open_draft(scenario)
    loaded = draft.version
    svc.submit_for_review(w.trainer, draft)
    svc.approve(w.trainer2, draft)
    auth.login(w.trainer)
    response = client.post(f"/sop/{scenario.id}/edit", data=form_data(version=str(loaded), script="我刚写的话术"))
    assert response.status_code == 409
    page = parse(response)
    assert page.one("textarea", id="lost-script").text == "我刚写的话术"
    assert page.find("form", action=f"/sop/{scenario.id}/draft") is not None


def test_the_review_badge_counts_drafts_the_reviewer_may_approve(client, auth, w):
    scenario = make(w)
    svc.submit_for_review(w.trainer, svc.open_draft(scenario))
    assert svc.review_count(w.trainer) == 0 and svc.review_count(w.trainer2) == 1
    assert svc.review_count(w.agent) == 0
    auth.login(w.trainer2)
    nav = parse(client.get("/sop/review")).one("a", href="/sop/review")
    assert nav.find(cls="nav-badge").text.startswith("1")


def test_buttons_without_the_version_they_were_shown_at_are_409(client, auth, w):
    scenario = make(w, publish=True)
    draft = svc.start_draft(w.trainer, scenario)
    auth.login(w.trainer2)
    assert client.post(f"/sop/{scenario.id}/discard").status_code == 409
    assert client.post(f"/sop/{scenario.id}/discard", data={"version": "99"}).status_code == 409
    assert client.post(f"/sop/{scenario.id}/archive", data={"archived": "1"}).status_code == 409
    assert svc.open_draft(scenario).id == draft.id and not scenario.is_archived
    assert client.post(f"/sop/{scenario.id}/discard", data={"version": str(draft.version)}).status_code == 303
    assert svc.open_draft(scenario) is None
