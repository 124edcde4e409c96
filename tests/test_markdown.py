"""The one Markdown pipeline (kdcs/markdown.py): what trainers write renders, nothing escapes the page."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from kdcs.markdown import ALLOWED_TAGS, blanks_in, markdown_text, render_markdown
from tests.xss_payloads import PAYLOADS

SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:", "/", "#")


class Collector(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def tags_of(html: str):
    parser = Collector()
    parser.feed(html)
    parser.close()
    return parser.tags


def assert_inert(html: str, where: str) -> None:
    """Only allowed tags; no event handler, style or unknown attribute; links only to safe schemes."""
    for tag, attrs in tags_of(html):
        assert tag in ALLOWED_TAGS, f"{where}: <{tag}> in {html!r}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"{where}: {name}= in {html!r}"
            assert name in {"href", "title", "rel", "start", "class"}, f"{where}: {name}= in {html!r}"
            if name == "href":
                assert value and value.strip().lower().startswith(SAFE_SCHEMES), f"{where}: href={value!r}"
            if name == "class":
                assert value == "blank", f"{where}: class={value!r}"
            if name == "rel":
                assert value == "noopener noreferrer"
        if tag == "a":
            assert attrs.get("rel") == "noopener noreferrer", f"{where}: a link without rel in {html!r}"


def test_there_are_at_least_30_payloads():
    assert len(PAYLOADS) >= 30


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_renders_inert(payload):
    html = str(render_markdown(payload))
    assert_inert(html, payload)
    lowered = html.lower()
    for bad in ("<script", "<iframe", "<svg", "<img", "<style", "<form", "<object", "<embed", "<link", "<meta",
                "<base", "<input", "<math", "javascript:", "vbscript:", "data:text"):
        if bad.startswith("<"):
            assert bad not in lowered, f"{payload!r} → {html!r}"
        else:  # may appear as text, never inside a tag
            for _tag, attrs in tags_of(html):
                assert all(bad not in (v or "").lower() for v in attrs.values()), f"{payload!r} → {html!r}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_in_the_middle_of_a_script_renders_inert(payload):
    html = str(render_markdown(f"您好{{客户称呼}}，\n\n{payload}\n\n- 第一步 **核实**\n- [说明](https://kdcs.example/sop)"))
    assert_inert(html, payload)
    assert '<span class="blank">{客户称呼}</span>' in html


def test_markdown_renders_what_trainers_use():
    html = str(render_markdown(
        "## 开场\n\n您好{客户称呼}，**非常抱歉**给您带来不便。\n第二行\n\n1. 先致歉\n2. 再核实\n\n"
        "> 注意语气\n\n- 可以补发\n\n| 时效 | 要求 |\n|---|---|\n| 5 分钟 | 响应 |\n\n~~旧规定~~ `代码`"))
    assert "<h2>开场</h2>" in html and "<strong>非常抱歉</strong>" in html and "<br" in html
    assert "<ol>" in html and "<blockquote>" in html and "<table>" in html and "<s>旧规定</s>" in html
    assert '<span class="blank">{客户称呼}</span>' in html
    assert isinstance(render_markdown("x"), Markup) and render_markdown("") == "" and render_markdown(None) == ""


def test_links_keep_safe_targets_and_get_rel():
    html = str(render_markdown("[规则](https://kdcs.example/rules) [内部](/sop/1) [邮件](mailto:px@kdcs.example)"))
    assert html.count('rel="noopener noreferrer"') == 3
    assert 'href="https://kdcs.example/rules"' in html and 'href="/sop/1"' in html


def test_raw_html_is_shown_as_text():
    assert "&lt;b&gt;粗&lt;/b&gt;" in str(render_markdown("<b>粗</b>"))


def test_blanks_are_listed_once_in_order():
    assert blanks_in("{客户称呼}您好，{运单号}……{客户称呼}") == ["客户称呼", "运单号"]
    assert blanks_in("{ 空格 }{}") == []


def test_plain_text_for_copying():
    text = markdown_text("## 开场\n\n您好{客户称呼}，**运单** {运单号}。\n第二行\n\n1. 先道歉\n2. 再核实\n\n[链接](https://a.example)")
    assert text == "开场\n\n您好{客户称呼}，运单 {运单号}。\n第二行\n\n1. 先道歉\n2. 再核实\n\n链接"
    assert markdown_text("<script>alert(1)</script>") == "<script>alert(1)</script>"  # text, never markup
