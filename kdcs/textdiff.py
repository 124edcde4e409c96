"""Side-by-side text comparison, changes highlighted within lines (SOP versions, later lessons).

Lines are paired with difflib (``autojunk=False``: a long script must not lose its
common lines). Within a changed pair, diff-match-patch compares tokens — a run of
ASCII letters/digits (``200``, ``SF1234``) is one token, every other character
(each Chinese character, punctuation) is one — and ``diff_cleanupSemantic``
merges the pieces into readable edits: ``破损`` → ``损坏`` is one change, never
破/损/坏 confetti. The result is data (segments), the template draws it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from diff_match_patch import diff_match_patch

EQUAL, DELETE, INSERT = "equal", "delete", "insert"
_OPS = {0: EQUAL, -1: DELETE, 1: INSERT}
_TOKEN = re.compile(r"[A-Za-z0-9_]+(?:[.:/-][A-Za-z0-9_]+)*|\s+|.", re.DOTALL)

Segment = tuple[str, str]  # (EQUAL | DELETE | INSERT, text)


@dataclass
class Row:
    """One row of the side-by-side table: the old line and the new line (either may be missing)."""

    kind: str  # "equal", "changed", "removed", "added"
    left_no: int | None = None
    right_no: int | None = None
    left: list[Segment] = field(default_factory=list)
    right: list[Segment] = field(default_factory=list)


def _tokens_to_chars(a: str, b: str) -> tuple[str, str, list[str]]:
    """Each distinct token becomes one private character, so the diff works on tokens."""
    table: list[str] = []
    index: dict[str, int] = {}

    def encode(text: str) -> str:
        out = []
        for token in _TOKEN.findall(text):
            if token not in index:
                index[token] = len(table)
                table.append(token)
            out.append(chr(0xF0000 + index[token]))  # Supplementary Private Use Area-A
        return "".join(out)

    return encode(a), encode(b), table


def _absorb_lone_tokens(diffs: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """A single token left equal between two edits joins them (破损 → 损坏: one change, not 破|损|坏).

    diff_cleanupSemantic keeps such a character when it overlaps both edits; for
    Chinese that splits a changed word in two.
    """
    out: list[tuple[int, str]] = []
    deleted, inserted = [], []

    def flush() -> None:
        if deleted:
            out.append((-1, "".join(deleted)))
        if inserted:
            out.append((1, "".join(inserted)))
        deleted.clear()
        inserted.clear()

    for index, (op, text) in enumerate(diffs):
        lone = op == 0 and len(text) == 1 and 0 < index < len(diffs) - 1
        if op == 0 and not lone:
            flush()
            out.append((op, text))
            continue
        if op <= 0:
            deleted.append(text)
        if op >= 0:
            inserted.append(text)
    flush()
    return out


def inline_diff(a: str, b: str) -> list[Segment]:
    """Word-level edits turning ``a`` into ``b``: [(EQUAL|DELETE|INSERT, text), ...]."""
    if a == b:
        return [(EQUAL, a)] if a else []
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 1.0
    chars_a, chars_b, table = _tokens_to_chars(a, b)
    diffs = dmp.diff_main(chars_a, chars_b, False)
    dmp.diff_cleanupSemantic(diffs)
    segments: list[Segment] = []
    for op, chars in _absorb_lone_tokens(diffs):
        text = "".join(table[ord(c) - 0xF0000] for c in chars)
        if segments and segments[-1][0] == _OPS[op]:
            segments[-1] = (_OPS[op], segments[-1][1] + text)
        elif text:
            segments.append((_OPS[op], text))
    return segments


def side_by_side(old: str, new: str) -> list[Row]:
    """The rows of a side-by-side comparison of two texts, line by line."""
    a, b = (old or "").splitlines(), (new or "").splitlines()
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(Row("equal", i + 1, j + 1, [(EQUAL, a[i])], [(EQUAL, b[j])])
                        for i, j in zip(range(i1, i2), range(j1, j2), strict=True))
            continue
        left, right = list(range(i1, i2)), list(range(j1, j2))
        for k in range(max(len(left), len(right))):
            i = left[k] if k < len(left) else None
            j = right[k] if k < len(right) else None
            if i is not None and j is not None:
                segments = inline_diff(a[i], b[j])
                rows.append(Row("changed", i + 1, j + 1,
                                [s for s in segments if s[0] != INSERT],
                                [s for s in segments if s[0] != DELETE]))
            elif i is not None:
                rows.append(Row("removed", i + 1, None, [(DELETE, a[i])], []))
            else:
                rows.append(Row("added", None, j + 1, [], [(INSERT, b[j])]))
    return rows


def changed(rows: list[Row]) -> bool:
    """Whether any row differs."""
    return any(row.kind != "equal" for row in rows)


def around_changes(rows: list[Row], context: int = 1) -> list[Row | None]:
    """The changed rows with ``context`` unchanged lines either side (blank lines in between come
    along and do not count); None where rows were left out."""

    def blank(row: Row) -> bool:
        return row.kind == "equal" and not "".join(text for _op, text in row.left).strip()

    keep: set[int] = set()
    for index, row in enumerate(rows):
        if row.kind == "equal":
            continue
        keep.add(index)
        for step in (-1, 1):
            found, at = 0, index + step
            while 0 <= at < len(rows) and found < context and rows[at].kind == "equal":
                keep.add(at)
                found += 0 if blank(rows[at]) else 1
                at += step
    shown: list[Row | None] = []
    for index, row in enumerate(rows):
        if index in keep:
            shown.append(row)
        elif not shown or shown[-1] is not None:
            shown.append(None)
    return shown
