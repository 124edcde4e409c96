"""The SOP library page /sop/: full page and htmx results block, filters, highlights, empty states."""

from __future__ import annotations

import pytest

from kdcs.extensions import db
from tests import factories
from tests.html import parse
from tests.sop_corpus import add_scenarios
from tests.test_sop_search import make_scenario


@pytest.fixture
def agent(auth):
    user = factories.make_user("agent")
    auth.login(user)
    return user


def _titles(response) -> list[str]:
    return [a.text_content().strip() for a in parse(response).cssselect(".sop-hit-title")]


def _hits(response):
    return parse(response).find_all("a", cls="sop-hit-title")


def test_full_page_searches_and_highlights(client, agent):
    a = make_scenario("破损理赔", script="外包装破损先拍照。")
    make_scenario("催件话术", tags=("催件",), script="说明派送进度。")
    response = client.get("/sop/?q=破损")
    assert response.status_code == 200
    page = parse(response)
    form = page.one("form", id="sop-search")
    assert form.one("input", id="sop-q").get("value") == "破损"
    assert form.get("hx-push-url") == "true" and form.get("hx-target") == "#sop-results"
    [hit] = _hits(response)
    assert hit.get("href") == f"/sop/{a.id}"
    assert "<mark>破损</mark>理赔" in response.get_data(as_text=True)
    assert page.one("p", cls="sop-hit-snippet").text == "外包装破损先拍照。 核实外包装 赔偿200元以内自行决定。"
    assert "1" in page.one("p", cls="sop-summary").text


def test_htmx_request_gets_the_results_block_only(client, agent):
    make_scenario("拒收处理", tags=("拒收",), script="客户拒收后登记问题件。")
    response = client.htmx("get", "/sop/?q=拒收")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and 'id="sop-search"' not in body
    assert [h.text for h in _hits(response)] == ["拒收处理"]
    assert "<mark>拒收</mark>" in body


def test_kind_and_tag_filters_keep_the_query(client, agent):
    claim = make_scenario("破损理赔", kind="claim", tags=("破损", "理赔"))
    make_scenario("破损投诉", kind="complaint", tags=("破损", "投诉"), script="快件破损。")
    response = client.get("/sop/?q=破损&kind=claim")
    page = parse(response)
    assert [h.get("href") for h in _hits(response)] == [f"/sop/{claim.id}"]
    hidden = page.one("input", name="kind")
    assert hidden.get("value") == "claim" and hidden.get("form") == "sop-search"
    current = page.one("nav", cls="sop-kinds").find("a", aria_current="page")
    assert current.text.startswith("理赔")
    tag_links = {a.text.split()[0].rstrip("0123456789"): a.get("href")
                 for a in page.one("nav", cls="sop-tags").find_all("a")}
    assert tag_links["理赔"] == "/sop/?q=%E7%A0%B4%E6%8D%9F&kind=claim&tag=%E7%90%86%E8%B5%94"
    # a chosen tag's link removes it
    response = client.get("/sop/?tag=投诉")
    chosen = parse(response).one("nav", cls="sop-tags").one("a", aria_current="true")
    assert chosen.get("href") == "/sop/"
    assert [h.text for h in _hits(response)] == ["破损投诉"]


def test_kind_counts_follow_the_tag(client, agent):
    make_scenario("破损理赔", kind="claim", tags=("破损",))
    make_scenario("延误致歉", kind="complaint", tags=("延误",))
    make_scenario("破损投诉", kind="complaint", tags=("破损",))
    kinds = parse(client.get("/sop/?tag=破损")).one("nav", cls="sop-kinds")
    assert [a.text for a in kinds.find_all("a")] == ["全部 2", "投诉 1", "理赔 1"]


def test_unknown_kind_and_bad_page_are_ignored(client, agent):
    make_scenario("破损理赔")
    response = client.get("/sop/?kind=nope&page=abc")
    assert response.status_code == 200 and [h.text for h in _hits(response)] == ["破损理赔"]
    assert parse(response).find("input", name="kind") is None


def test_pager_keeps_the_query_and_a_page_past_the_end_shows_the_last(client, agent):
    add_scenarios(db, 45, seed=3)
    response = client.get("/sop/?q=客&page=2")
    page = parse(response)
    pager = page.one("nav", cls="pager")
    links = {a.text: a.get("href") for a in pager.find_all("a")}
    assert links["上一页"] == "/sop/?q=%E5%AE%A2&page=1"
    assert len(_hits(response)) == 20
    last = client.get("/sop/?q=客&page=99")
    assert "第 3 / 3 页" in parse(last).one("nav", cls="pager").text
    assert len(_hits(last)) == 5


def test_archived_and_unpublished_are_not_listed(client, agent):
    archived = make_scenario("改地址")
    archived.is_archived = True
    from kdcs.sop.search import reindex_scenario

    reindex_scenario(archived)
    db.session.commit()
    make_scenario("拦截件", published=False)
    response = client.get("/sop/")
    assert _hits(response) == []


def test_empty_states(client, auth):
    agent = factories.make_user("agent")
    trainer = factories.make_user("trainer")
    auth.login(agent)
    page = parse(client.get("/sop/"))
    assert page.one("div", cls="sop-empty").text.startswith("还没有发布任何话术")
    assert page.find("a", href="/sop/new") is None
    make_scenario("破损理赔", kind="claim", tags=("破损",))
    empty = parse(client.get("/sop/?q=不存在")).one("div", cls="sop-empty")
    assert "没有话术包含“不存在”" in empty.text
    empty = parse(client.get("/sop/?q=不存在&kind=claim")).one("div", cls="sop-empty")
    assert "这个分类或标签下没有话术包含“不存在”" in empty.text
    assert empty.find("a").get("href") == "/sop/?q=%E4%B8%8D%E5%AD%98%E5%9C%A8"
    empty = parse(client.get("/sop/?kind=suggestion")).one("div", cls="sop-empty")
    assert "这个分类或标签下还没有已发布的话术" in empty.text
    auth.logout()
    auth.login(trainer)
    page = parse(client.get("/sop/?kind=suggestion"))
    assert page.find("a", href="/sop/new") is not None


def test_query_is_escaped_everywhere(client, agent):
    make_scenario("破损理赔")
    body = client.get('/sop/?q=<script>alert(1)</script>').get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_anonymous_is_sent_to_login(client):
    response = client.get("/sop/?q=破损")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_reindex_command_rebuilds_the_index(runner):
    from kdcs.sop.search import INDEX

    a = make_scenario("破损理赔")
    make_scenario("草稿", published=False)
    INDEX.clear()
    db.session.commit()
    result = runner.invoke(args=["sop", "reindex"])
    assert result.exit_code == 0, result.output
    assert "indexed 1 scenarios" in result.output
    db.session.expire_all()
    assert INDEX.doc_ids() == {a.id}
