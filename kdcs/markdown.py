"""The one Markdown pipeline: markdown-it-py renders, nh3 sanitizes (SOP scripts, later lessons).

Trainers write Markdown; agents read the result. Whatever a trainer types, the
output stays inside the page: raw HTML is not parsed (markdown-it ``html=False``
shows it as text), links must be http(s), mailto or tel (markdown-it refuses
``javascript:``, ``vbscript:``, ``file:`` and ``data:``; nh3 checks again), no
images (they would fetch from other hosts), and nh3 keeps only the tags and
attributes listed below — no script, event handler, iframe, form, style, svg.
Every link gets ``rel="noopener noreferrer"``.

Blanks such as ``{客户称呼}`` are shown as ``<span class="blank">{客户称呼}</span>``
so trainers and agents see what the ticket panel fills in.

The live preview and the published page both call ``render_markdown``: what the
trainer sees is what agents get.
"""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

MAX_SOURCE = 50_000  # characters rendered; a longer text is cut (the forms refuse it earlier)

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "span",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_CLASSES = {"span": {"blank"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# Removed with everything inside them (the rest of the unknown tags keep their text).
CLEAN_CONTENT_TAGS = frozenset({
    "script", "style", "iframe", "object", "embed", "noscript", "template", "textarea", "select",
    "svg", "math", "title", "xmp", "noembed", "noframes", "frameset", "frame", "applet",
})

# A blank: {客户称呼}, {运单号} — a short name without braces, spaces or markup characters.
BLANK_RE = re.compile(r"\{([^{}\s<>\"'`]{1,20})\}")

_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(CLEAN_CONTENT_TAGS),
    attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    link_rel="noopener noreferrer",
    allowed_classes={tag: set(classes) for tag, classes in ALLOWED_CLASSES.items()},
    strip_comments=True,
)


def _blank_rule(state, silent: bool) -> bool:
    """Inline rule: ``{name}`` becomes a ``blank`` token (``{`` ends markdown-it's text runs)."""
    if state.src[state.pos] != "{":
        return False
    match = BLANK_RE.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        token = state.push("sop_blank", "span", 0)
        token.content = match.group(1)
    state.pos = match.end()
    return True


def _render_blank(_renderer, tokens, idx, _options, _env) -> str:
    return f'<span class="blank">{{{escape(tokens[idx].content)}}}</span>'


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "breaks": True})
    md.enable(["table", "strikethrough"])
    md.disable(["image"])
    md.inline.ruler.before("text", "sop_blank", _blank_rule)
    md.add_render_rule("sop_blank", _render_blank)
    return md


_md = _build()


def render_markdown(text: str | None) -> Markup:
    """Markdown → sanitized HTML, safe to put in any page (the one pipeline: previews and pages)."""
    if not text:
        return Markup("")
    return _render(text[:MAX_SOURCE])


@lru_cache(maxsize=512)
def _render(text: str) -> Markup:
    # A pure function of the text: the ticket page's SOP panel renders the same published
    # scripts on every load, so the last few hundred are kept per process.
    return Markup(_cleaner.clean(_md.render(text)))


def blanks_in(text: str | None) -> list[str]:
    """The blank names a text uses, in order, each once: ``["客户称呼", "运单号"]``."""
    return list(dict.fromkeys(BLANK_RE.findall(text or "")))


def _inline_text(children) -> str:
    parts = []
    for child in children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "sop_blank":
            parts.append("{" + child.content + "}")
    return "".join(parts)


def markdown_text(text: str | None) -> str:
    """The plain text a reader sees (what "copy the script" puts on the clipboard): no ** or #,
    list items as "- " / "1. ", paragraphs separated by a blank line, blanks kept as {名称}."""
    if not text:
        return ""
    out: list[str] = []
    lists: list[int | None] = []  # the open lists: None for bullets, else the next number
    for token in _md.parse(text[:MAX_SOURCE]):
        kind = token.type
        if kind == "bullet_list_open":
            lists.append(None)
        elif kind == "ordered_list_open":
            lists.append(int(token.attrGet("start") or 1))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                out.append("\n")
        elif kind == "list_item_open":
            indent = "  " * (len(lists) - 1)
            if lists[-1] is None:
                out.append(f"{indent}- ")
            else:
                out.append(f"{indent}{lists[-1]}. ")
                lists[-1] += 1
        elif kind == "inline":
            out.append(_inline_text(token.children))
        elif kind in ("paragraph_close", "heading_close"):
            out.append("\n" if token.hidden or lists else "\n\n")
        elif kind in ("fence", "code_block"):
            out.append(token.content + "\n")
        elif kind == "hr":
            out.append("\n")
        elif kind in ("th_close", "td_close"):
            out.append("\t")
        elif kind == "tr_close":
            out.append("\n")
    lines = [line.rstrip("\t ") for line in "".join(out).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
