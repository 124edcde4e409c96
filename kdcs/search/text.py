"""Text to search tokens: character folding, words, overlapping character pairs.

Every function here is pure and the same on every database, so the index built
on SQLite and the one built on PostgreSQL hold exactly the same tokens.

* ``fold`` maps one character to one character (so offsets in the folded text
  are offsets in the original): full-width ASCII (Ｊ１) to ASCII, then lower case.
* A *word* is a maximal run of letters, digits and marks (Unicode categories L,
  N, M): Chinese, ASCII, digits alike. Spaces, punctuation (，。、（）{}*-) and
  symbols (¥ ℃ %) separate words.
* A word's *tokens* are its overlapping character pairs plus its last
  character alone: 破损件 → 破损 损件 件, JT12 → jt t1 12 2. So each character of
  the text starts exactly one token, which makes a one-character query a prefix
  search (破 → tokens starting with 破), and a longer word is found exactly where
  its pairs stand next to each other (a phrase): substring matching, also inside
  waybill numbers and across the ASCII/Chinese border (JT快递 → jt t快 快递 递).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

MAX_QUERY_CHARS = 100
MAX_QUERY_WORDS = 8


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    code = ord(char)
    if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII
        char = chr(code - 0xFEE0)
    elif code == 0x3000:  # ideographic space
        return " "
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char


def fold(text: str) -> str:
    """The text as searched: same length, full-width ASCII made ASCII, lower case."""
    if text.isascii():
        return text.lower()
    return "".join(map(_fold_char, text))


@lru_cache(maxsize=4096)
def _is_word_char(char: str) -> bool:
    if char.isascii():
        return char.isalnum()
    return unicodedata.category(char)[0] in "LNM"


def word_spans(folded: str) -> list[tuple[int, int]]:
    """(start, end) of every word of an already folded text."""
    spans = []
    start = None
    for i, char in enumerate(folded):
        if _is_word_char(char):
            if start is None:
                start = i
        elif start is not None:
            spans.append((start, i))
            start = None
    if start is not None:
        spans.append((start, len(folded)))
    return spans


def words(text: str) -> list[str]:
    """The folded words of a text, in order."""
    folded = fold(text)
    return [folded[a:b] for a, b in word_spans(folded)]


def word_tokens(word: str) -> list[str]:
    """A folded word's tokens: overlapping pairs, then its last character alone."""
    return [word[i:i + 2] for i in range(len(word) - 1)] + [word[-1:]] if word else []


def tokens(text: str) -> list[str]:
    """Every token of a text, in order (what the index stores for it)."""
    out: list[str] = []
    for word in words(text):
        out.extend(word_tokens(word))
    return out


def grams(text: str, longest: int = 4) -> set[str]:
    """Every distinct piece of 1 to ``longest`` characters of the text's words.

    PostgreSQL's index holds these (no positions): a query word of up to
    ``longest`` characters is then one exact lookup, and a longer one the pieces
    it is made of plus a check of the text.
    """
    found: set[str] = set()
    for word in words(text):
        size = len(word)
        for i in range(size):
            for k in range(1, min(longest, size - i) + 1):
                found.add(word[i:i + k])
    return found


def query_words(query: str) -> list[str]:
    """The distinct folded words of a search query, at most MAX_QUERY_WORDS.

    A word contained in another query word adds nothing (破损 in 破损件) and is
    dropped, so the highlights and the ranking count each need once.
    """
    found: list[str] = []
    for word in words((query or "")[:MAX_QUERY_CHARS]):
        if word not in found:
            found.append(word)
    kept = [w for w in found if not any(w != other and w in other for other in found)]
    return kept[:MAX_QUERY_WORDS]


def matches(text: str, query: str) -> bool:
    """The reference meaning of a match: the folded text contains every query word."""
    folded = fold(text)
    wanted = query_words(query)
    return bool(wanted) and all(word in folded for word in wanted)
