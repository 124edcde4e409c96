"""One search index table per use, on SQLite (FTS5) and PostgreSQL (tsvector + GIN).

The table ``search_<name>`` holds one row per document: ``doc_id`` (the owner's
id; deleting the owner deletes the row), ``ref_id`` (e.g. the version indexed),
``kind``, ``tags`` (stored as ``"\\n破损\\n理赔\\n"`` so one tag is found with a
plain ``instr``/``strpos``), ``sort_key`` (newest first when browsing), ``title``
and ``body`` (the original text, for highlights). The tokens come from
``kdcs.search.text``; each dialect stores them its own way:

* SQLite: ``title_tokens``/``body_tokens`` columns (tokens joined by spaces) and
  an external-content FTS5 table ``search_<name>_fts`` over them (``ascii``
  tokenizer: our tokens pass through unchanged; ``prefix='1'`` for one-character
  queries), kept in step by triggers.
* PostgreSQL: ``tsv`` (title then body, with positions, GIN index) and
  ``title_tsv`` (for ranking), written as tsvector literals — no text-search
  parser or configuration is involved, so the lexemes are exactly our tokens.
  PostgreSQL keeps at most 256 positions per lexeme and none past 16383; a
  document beyond that also stores its ``folded`` text and is checked with
  ``strpos`` instead of positions, so it is still found exactly.

A query word is a phrase of its character pairs (a one-character word: the
tokens starting with it); every word must match (in the title or the body).
Ranking, the same on both databases: more query words in the title first, then
shorter titles, then newer documents, then ``doc_id``.

The tables are created by migrations (see ``migrations/versions/0007_sop_search.py``)
and are not part of the models' metadata (``is_search_table``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import text as sql

from ..extensions import db
from .text import fold, query_words, tokens

TABLE_PREFIX = "search_"
PG_MAX_POSITIONS_PER_LEXEME = 256
PG_MAX_POSITION = 16383


def is_search_table(name: str | None) -> bool:
    """Whether a table belongs to a search index (created by migrations, not modelled)."""
    return bool(name) and name.startswith(TABLE_PREFIX)


def tags_key(tags: Iterable[str]) -> str:
    """The stored form of a tag list: each tag between line breaks."""
    cleaned = [t.replace("\n", " ").strip() for t in tags if t and t.strip()]
    return "\n" + "\n".join(cleaned) + "\n" if cleaned else ""


def tags_from_key(key: str | None) -> list[str]:
    return [t for t in (key or "").split("\n") if t]


@dataclass
class Hit:
    doc_id: int
    ref_id: int | None
    kind: str
    tags: list[str]
    title: str
    body: str
    sort_key: int
    title_hits: int = 0


@dataclass
class Result:
    query_words: list[str]
    total: int
    hits: list[Hit] = field(default_factory=list)


# --------------------------------------------------------------------------- query text per dialect

def _fts5_phrase(word: str) -> str:
    if len(word) == 1:
        return f'"{word}"*'
    return '"' + " ".join(word[i:i + 2] for i in range(len(word) - 1)) + '"'


def _tsquery_phrase(word: str) -> str:
    if len(word) == 1:
        return f"'{word}':*"
    return " <-> ".join(f"'{word[i:i + 2]}'" for i in range(len(word) - 1))


def _tsquery_all_tokens(word: str) -> str:
    if len(word) == 1:
        return f"'{word}':*"
    return " & ".join(f"'{word[i:i + 2]}'" for i in range(len(word) - 1))


def _tsvector(parts: Sequence[list[str]]) -> tuple[str, bool]:
    """A tsvector literal of token lists (a gap between parts) and whether it overflowed."""
    positions: dict[str, list[int]] = {}
    position = 1
    for part in parts:
        for token in part:
            positions.setdefault(token, []).append(position)
            position += 1
        position += 1
    overflow = position - 1 > PG_MAX_POSITION or any(
        len(p) > PG_MAX_POSITIONS_PER_LEXEME for p in positions.values())
    literal = " ".join(
        f"'{token}':" + ",".join(str(min(p, PG_MAX_POSITION)) for p in found[:PG_MAX_POSITIONS_PER_LEXEME])
        for token, found in positions.items()
    )
    return literal, overflow


# --------------------------------------------------------------------------- the index

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


class SearchIndex:
    """The search table of one use (``SearchIndex("sop")`` → table ``search_sop``)."""

    def __init__(self, name: str):
        if not _NAME.match(name):
            raise ValueError(f"bad index name {name!r}")
        self.name = name
        self.table = TABLE_PREFIX + name
        self.fts = self.table + "_fts"

    @staticmethod
    def _dialect() -> str:
        return db.session.get_bind().dialect.name

    # ----------------------------------------------------------------- writing

    def delete(self, doc_id: int) -> None:
        """Remove a document from the index (nothing if it is not there)."""
        db.session.execute(sql(f"DELETE FROM {self.table} WHERE doc_id = :id"), {"id": doc_id})

    def put(self, doc_id: int, *, title: str, body: str, kind: str = "", tags: Iterable[str] = (),
            ref_id: int | None = None, sort_key: int = 0) -> None:
        """Index (or re-index) one document, in the session's transaction."""
        self.delete(doc_id)
        title_tokens, body_tokens = tokens(title), tokens(body)
        values = {"doc_id": doc_id, "ref_id": ref_id, "kind": kind or "", "tags": tags_key(tags),
                  "sort_key": int(sort_key), "title": title, "body": body}
        if self._dialect() == "postgresql":
            tsv, overflow = _tsvector([title_tokens, body_tokens])
            values.update(tsv=tsv, title_tsv=_tsvector([title_tokens])[0],
                          folded=fold(title + "\n" + body) if overflow else None)
            db.session.execute(sql(
                f"INSERT INTO {self.table} (doc_id, ref_id, kind, sort_key, tags, title, body, folded, tsv, title_tsv)"
                " VALUES (:doc_id, :ref_id, :kind, :sort_key, :tags, :title, :body, :folded,"
                " CAST(:tsv AS tsvector), CAST(:title_tsv AS tsvector))"), values)
        else:
            values.update(title_tokens=" ".join(title_tokens), body_tokens=" ".join(body_tokens))
            db.session.execute(sql(
                f"INSERT INTO {self.table} (doc_id, ref_id, kind, sort_key, tags, title, body, title_tokens, body_tokens)"
                " VALUES (:doc_id, :ref_id, :kind, :sort_key, :tags, :title, :body, :title_tokens, :body_tokens)"),
                values)

    def clear(self) -> None:
        """Remove every document (before a full rebuild)."""
        db.session.execute(sql(f"DELETE FROM {self.table}"))

    # ----------------------------------------------------------------- reading

    def _filters(self, kind: str | None, tag: str | None, params: dict) -> str:
        clauses = []
        if kind:
            clauses.append("d.kind = :kind")
            params["kind"] = kind
        if tag:
            function = "strpos" if self._dialect() == "postgresql" else "instr"
            clauses.append(f"{function}(d.tags, :tag) > 0")
            params["tag"] = tags_key([tag])
        return "".join(" AND " + c for c in clauses)

    def _match(self, words: list[str], params: dict) -> tuple[str, str]:
        """(WHERE condition, title-hits expression) for the query words, per dialect."""
        if self._dialect() == "postgresql":
            params["q_all"] = " & ".join(f"({_tsquery_all_tokens(w)})" for w in words)
            params["q_phrase"] = " & ".join(f"({_tsquery_phrase(w)})" for w in words)
            exact = []
            for i, word in enumerate(words):
                params[f"w{i}"] = word
                exact.append(f"strpos(d.folded, :w{i}) > 0")
            condition = (
                "d.tsv @@ CAST(:q_all AS tsquery) AND CASE WHEN d.folded IS NULL"
                " THEN d.tsv @@ CAST(:q_phrase AS tsquery) ELSE " + " AND ".join(exact) + " END"
            )
            title_hits = []
            for i, word in enumerate(words):
                params[f"t{i}"] = _tsquery_phrase(word)
                title_hits.append(f"CASE WHEN d.title_tsv @@ CAST(:t{i} AS tsquery) THEN 1 ELSE 0 END")
        else:
            params["q"] = " AND ".join(_fts5_phrase(w) for w in words)
            condition = f"d.doc_id IN (SELECT rowid FROM {self.fts} WHERE {self.fts} MATCH :q)"
            title_hits = []
            for i, word in enumerate(words):
                params[f"t{i}"] = "title_tokens : " + _fts5_phrase(word)
                title_hits.append(
                    f"CASE WHEN d.doc_id IN (SELECT rowid FROM {self.fts} WHERE {self.fts} MATCH :t{i})"
                    " THEN 1 ELSE 0 END")
        return condition, " + ".join(title_hits)

    def search(self, query: str, *, kind: str | None = None, tag: str | None = None,
               limit: int = 20, offset: int = 0) -> Result:
        """The documents containing every word of ``query``, best first (see module doc)."""
        words = query_words(query)
        if not words:
            return self.browse(kind=kind, tag=tag, limit=limit, offset=offset)
        params: dict = {"limit": limit, "offset": offset}
        condition, title_hits = self._match(words, params)
        filters = self._filters(kind, tag, params)
        statement = (
            f"WITH hits AS (SELECT d.doc_id, {title_hits} AS title_hits,"
            " length(d.title) AS title_length, d.sort_key FROM "
            f"{self.table} d WHERE {condition}{filters}), "
            "ranked AS (SELECT doc_id, title_hits, CASE WHEN title_hits > 0 THEN title_length ELSE 0 END AS shortness,"
            " sort_key, count(*) OVER () AS total FROM hits"
            " ORDER BY title_hits DESC, shortness, sort_key DESC, doc_id LIMIT :limit OFFSET :offset) "
            "SELECT d.doc_id, d.ref_id, d.kind, d.tags, d.title, d.body, d.sort_key, r.title_hits, r.total"
            f" FROM ranked r JOIN {self.table} d ON d.doc_id = r.doc_id"
            " ORDER BY r.title_hits DESC, r.shortness, r.sort_key DESC, r.doc_id"
        )
        rows = db.session.execute(sql(statement), params).all()
        total = rows[0].total if rows else (self._count(condition, filters, params) if offset else 0)
        return Result(words, total, [self._hit(row, row.title_hits) for row in rows])

    def browse(self, *, kind: str | None = None, tag: str | None = None, limit: int = 20,
               offset: int = 0) -> Result:
        """Every document (filtered by kind and tag), newest first."""
        params: dict = {"limit": limit, "offset": offset}
        filters = self._filters(kind, tag, params)
        rows = db.session.execute(sql(
            f"SELECT d.doc_id, d.ref_id, d.kind, d.tags, d.title, d.body, d.sort_key, count(*) OVER () AS total"
            f" FROM {self.table} d WHERE 1 = 1{filters}"
            " ORDER BY d.sort_key DESC, d.doc_id DESC LIMIT :limit OFFSET :offset"), params).all()
        total = rows[0].total if rows else (self._count("1 = 1", filters, params) if offset else 0)
        return Result([], total, [self._hit(row, 0) for row in rows])

    def _count(self, condition: str, filters: str, params: dict) -> int:
        return db.session.execute(
            sql(f"SELECT count(*) FROM {self.table} d WHERE {condition}{filters}"), params).scalar_one()

    @staticmethod
    def _hit(row, title_hits: int) -> Hit:
        return Hit(row.doc_id, row.ref_id, row.kind, tags_from_key(row.tags), row.title, row.body,
                   row.sort_key, int(title_hits or 0))

    def kinds(self, *, tag: str | None = None) -> dict[str, int]:
        """Documents per kind (within a tag)."""
        params: dict = {}
        filters = self._filters(None, tag, params)
        rows = db.session.execute(sql(
            f"SELECT d.kind, count(*) AS n FROM {self.table} d WHERE 1 = 1{filters} GROUP BY d.kind"), params)
        return {row.kind: row.n for row in rows}

    def tags(self, *, kind: str | None = None) -> Counter:
        """Documents per tag (within a kind)."""
        params: dict = {}
        filters = self._filters(kind, None, params)
        counter: Counter = Counter()
        for (key,) in db.session.execute(sql(
                f"SELECT d.tags FROM {self.table} d WHERE d.tags <> ''{filters}"), params):
            counter.update(set(tags_from_key(key)))
        return counter

    def doc_ids(self) -> set[int]:
        """Every indexed doc_id (tests, rebuild checks)."""
        return set(db.session.execute(sql(f"SELECT doc_id FROM {self.table}")).scalars())


def alembic_include_name(name, type_, parent_names) -> bool:
    """Alembic ``include_name`` hook: leave the search tables (and FTS5's shadow tables) out of comparisons."""
    return not (type_ == "table" and is_search_table(name))
