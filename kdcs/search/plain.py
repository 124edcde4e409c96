"""Markdown to the plain text that is indexed and shown in snippets.

Only the words a reader sees: list markers, emphasis, heading marks and link
targets go; each block becomes one line. Raw HTML tags are dropped, the text
between them is kept.
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark")


def markdown_text(source: str) -> str:
    """The visible text of a Markdown document, one line per block."""
    if not source:
        return ""
    lines: list[str] = []
    for token in _parser().parse(source):
        if token.type == "inline":
            parts = []
            for child in token.children or ():
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append("\n")
            line = "".join(parts).strip()
            if line:
                lines.append(line)
        elif token.type in ("fence", "code_block"):
            if token.content.strip():
                lines.append(token.content.strip())
    return "\n".join(lines)
