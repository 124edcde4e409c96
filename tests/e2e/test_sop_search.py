"""The SOP library in a real browser: search as you type, the URL keeps the query, back works.

agent1 types 破损 into /sop/: the results update without a reload (htmx), every hit has 破损
marked, the address bar says ?q=破损; a kind tab narrows it and keeps the query; the back
button returns to the unfiltered search and then to the empty library, each time with the
search box and the results that belong to that address. While an input method composes
(pinyin letters), nothing is searched; the composed word is.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def _query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_agent_searches_as_they_type_and_the_back_button_restores_it(login_as, page):
    login_as("agent1")
    page.goto("/sop/")
    hits = page.locator("ol.sop-hits > li")
    expect(hits.first).to_be_visible()
    browse_count = hits.count()
    box = page.locator("#sop-q")

    box.fill("破损")
    page.wait_for_function("() => location.search.includes('q=')")
    assert _query(page) == {"q": ["破损"]}
    expect(page.locator(".sop-summary")).to_contain_text("破损")
    expect(page.locator("#sop-status")).to_contain_text("包含“破损”")  # what a screen reader hears
    titles = page.locator("ol.sop-hits .sop-hit-title")
    expect(titles.first).to_be_visible()
    found = hits.count()
    assert 0 < found
    for i in range(found):  # every hit shows 破损 marked, in its title or its snippet
        expect(hits.nth(i).locator("mark").first).to_have_text("破损")
    assert page.locator("mark", has_text="破损").count() >= found

    # a kind tab narrows the search and keeps the query
    tab = page.locator("nav.sop-kinds a", has_text="理赔")
    tab.click()
    page.wait_for_function("() => location.search.includes('kind=claim')")
    assert _query(page) == {"q": ["破损"], "kind": ["claim"]}
    expect(page.locator("nav.sop-kinds a[aria-current=page]")).to_contain_text("理赔")
    expect(page.locator("input[name=kind][form=sop-search]")).to_have_value("claim")
    narrowed = hits.count()
    assert 0 < narrowed <= found

    # typing again keeps the kind
    box.fill("破损 照片")
    page.wait_for_function("() => new URLSearchParams(location.search).get('q') === '破损 照片'")
    assert _query(page)["kind"] == ["claim"]

    page.go_back()
    page.wait_for_function("() => !location.search.includes('照片')")
    assert _query(page) == {"q": ["破损"], "kind": ["claim"]}
    page.go_back()
    page.wait_for_function("() => !location.search.includes('kind')")
    expect(page.locator("#sop-q")).to_have_value("破损")
    expect(hits).to_have_count(found)
    page.go_back()
    page.wait_for_function("() => location.search === ''")
    expect(page.locator("#sop-q")).to_have_value("")
    expect(hits).to_have_count(browse_count)
    assert page.js_errors == []


def test_nothing_is_searched_while_an_input_method_composes(login_as, page):
    login_as("agent1")
    page.goto("/sop/")
    searches: list[str] = []
    page.on("request", lambda r: searches.append(r.url) if "/sop/?" in r.url else None)
    page.evaluate("""() => {
        const box = document.getElementById('sop-q');
        box.focus();
        box.dispatchEvent(new CompositionEvent('compositionstart', {bubbles: true}));
        box.value = 'posun';
        box.dispatchEvent(new InputEvent('input', {bubbles: true, isComposing: true}));
    }""")
    page.wait_for_timeout(800)
    assert searches == []
    page.evaluate("""() => {
        const box = document.getElementById('sop-q');
        box.value = '破损';
        box.dispatchEvent(new InputEvent('input', {bubbles: true, isComposing: true}));
        box.dispatchEvent(new CompositionEvent('compositionend', {bubbles: true, data: '破损'}));
    }""")
    page.wait_for_function("() => location.search.includes('q=')")
    assert _query(page) == {"q": ["破损"]}
    assert len(searches) == 1
    expect(page.locator("ol.sop-hits mark").first).to_have_text("破损")


def test_the_pager_swaps_the_results_and_goes_back_to_the_top(login_as, page):
    login_as("agent1")
    page.goto("/sop/")
    pager = page.locator("nav.pager")
    pager.scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 0
    first_title = page.locator(".sop-hit-title").first.inner_text()
    pager.locator("a").last.click()
    page.wait_for_function("() => location.search.includes('page=2')")
    expect(page.locator(".sop-hit-title").first).not_to_have_text(first_title)
    page.wait_for_function("() => window.scrollY === 0")
