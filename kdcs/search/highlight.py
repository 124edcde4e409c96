"""Highlights computed in Python on the original text (never by the database).

``fold`` keeps offsets, so a match found in the folded text marks the same
characters of the original. Output is ``Markup``: every piece of text is
escaped, only our own ``<mark>`` tags are not.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from .text import fold

ELLIPSIS = "…"


def match_spans(text: str, query_words: list[str]) -> list[tuple[int, int]]:
    """Sorted, merged (start, end) spans of every occurrence of every query word."""
    folded = fold(text)
    spans = []
    for word in query_words:
        if not word:
            continue
        start = folded.find(word)
        while start >= 0:
            spans.append((start, start + len(word)))
            start = folded.find(word, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _marked(text: str, spans: list[tuple[int, int]], offset: int = 0, end: int | None = None) -> Markup:
    end = len(text) if end is None else end
    out = []
    position = offset
    for start, stop in spans:
        if stop <= offset or start >= end:
            continue
        start, stop = max(start, offset), min(stop, end)
        out.append(escape(text[position:start]))
        out.append(Markup("<mark>") + escape(text[start:stop]) + Markup("</mark>"))
        position = stop
    out.append(escape(text[position:end]))
    return Markup("").join(out)


def highlight(text: str, query_words: list[str]) -> Markup:
    """The whole text, escaped, with every match of a query word in <mark>."""
    return _marked(text, match_spans(text, query_words))


def _flatten(text: str) -> str:
    # Line breaks and tabs read as spaces in a one-line snippet (same length).
    return text.replace("\r", " ").replace("\n", " ").replace("\t", " ")


def _keep_placeholders(text: str, start: int, end: int, reach: int = 12) -> tuple[int, int]:
    """Move the cuts so a short ``{placeholder}`` (e.g. {客户称呼}) is never split."""
    opened = text.rfind("{", start, end)
    if opened != -1 and text.find("}", opened, end) == -1:
        closed = text.find("}", end, end + reach)
        end = closed + 1 if closed != -1 else opened
    closed = text.find("}", start, end)
    if closed != -1 and text.rfind("{", start, closed) == -1:
        opened = text.rfind("{", max(0, start - reach), start)
        start = opened if opened != -1 else closed + 1
    return start, max(start, end)


def snippet(text: str, query_words: list[str], width: int = 90, before: int = 24) -> Markup:
    """A window of about ``width`` characters around the first match, matches marked.

    Without a match (e.g. only the title matched) it is the start of the text.
    Cut ends get an ellipsis; the window never cuts through a match.
    """
    flat = _flatten(text)
    spans = match_spans(flat, query_words)
    if spans:
        first_start = spans[0][0]
        start = max(0, first_start - before)
        end = min(len(flat), start + width)
        if end - start < width:  # near the end: show more before
            start = max(0, end - width)
        # Do not cut a match in two at either edge.
        for a, b in spans:
            if a < start < b:
                start = a
            if a < end < b:
                end = b
    else:
        start, end = 0, min(len(flat), width)
    start, end = _keep_placeholders(flat, start, end)
    # Skip the blanks a cut leaves at the edges.
    while start < end and flat[start] == " ":
        start += 1
    while end > start and flat[end - 1] == " ":
        end -= 1
    body = _marked(flat, spans, start, end)
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(flat.rstrip()) else ""
    return Markup(prefix) + body + Markup(suffix)
