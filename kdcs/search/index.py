"""One search index per use, on SQLite (FTS5) and PostgreSQL (tsvector + GIN).

Two tables per index ``<name>``:

* ``search_<name>`` — one narrow row per document, all that filtering and
  ranking read: ``doc_id`` (the owner's id; deleting the owner deletes the
  rows), ``ref_id`` (e.g. the version indexed), ``kind``, ``tags`` (stored as
  ``"\\n破损\\n理赔\\n"`` so one tag is found with ``instr``/``strpos``),
  ``sort_key`` (newest first when browsing), ``title`` and ``title_folded``;
* ``search_<name>_text`` — the ``body`` (original text, for snippets) and what
  each database searches:

  - SQLite: ``tokens`` — the character pairs of ``kdcs.search.text.tokens``
    joined by spaces — and an external-content FTS5 table ``search_<name>_fts``
    over it (``ascii`` tokenizer: our tokens pass through unchanged;
    ``prefix='1'`` for one-character queries), kept in step by triggers. A query
    word is the phrase of its pairs (FTS5 positions), a one-character word the
    tokens starting with it.
  - PostgreSQL: ``tsv``, a tsvector of every 1- to 4-character piece of the
    words (``kdcs.search.text.grams``, no positions; GIN index) written as a
    literal — no text-search parser or configuration is involved, so the
    lexemes are exactly our pieces — and ``folded``, the folded text. A query
    word of up to 4 characters is one exact lexeme (the GIN index answers
    without rechecking a row); a longer one is its 4-character pieces, then
    ``strpos`` on ``folded`` for the candidates. Measured: a phrase of pairs
    with positions costs PostgreSQL a detoast of every candidate's tsvector
    (~70 ms for 5,000 candidates); exact lexemes cost ~2 ms. The lookup runs in
    the function ``search_<name>_match`` declared with ``enable_seqscan = off``:
    a common word (客, 客户) otherwise gets a sequential scan that detoasts
    every row.

Every word must match (in the title or the body). A word never spans the title
and the body, nor two words of the text. Ranking, the same on both databases:
more query words in the title first, then shorter titles, then newer
documents, then ``doc_id``. The body indexed is at most ``MAX_BODY_CHARS``
characters (a tsvector holds at most 1 MB).

The tables are created by migrations (see ``migrations/versions/0007_sop_search.py``)
and are not part of the models' metadata (``is_search_table``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import text as sql

from ..extensions import db
from .text import fold, grams, query_words, tokens

TABLE_PREFIX = "search_"
MAX_BODY_CHARS = 16_000
PG_EXACT_CHARS = 4  # longest piece in PostgreSQL's tsvector


def is_search_table(name: str | None) -> bool:
    """Whether a table belongs to a search index (created by migrations, not modelled)."""
    return bool(name) and name.startswith(TABLE_PREFIX)


def alembic_include_name(name, type_, parent_names) -> bool:
    """Alembic ``include_name`` hook: leave the search tables (and FTS5's shadow tables) out of comparisons."""
    return not (type_ == "table" and is_search_table(name))


def tags_key(tags: Iterable[str]) -> str:
    """The stored form of a tag list: each tag between line breaks."""
    cleaned = [t.replace("\n", " ").strip() for t in tags if t and t.strip()]
    return "\n" + "\n".join(cleaned) + "\n" if cleaned else ""


def tags_from_key(key: str | None) -> list[str]:
    """The tag list of a stored ``tags_key``."""
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


def _pg_lexemes(word: str) -> list[str]:
    if len(word) <= PG_EXACT_CHARS:
        return [word]
    return [word[i:i + PG_EXACT_CHARS] for i in range(len(word) - PG_EXACT_CHARS + 1)]


def _pg_tsvector(text: str) -> str:
    # Our pieces hold no quote or backslash (those are separators), so quoting is enough.
    return " ".join(f"'{piece}'" for piece in sorted(grams(text, PG_EXACT_CHARS)))


# --------------------------------------------------------------------------- the index

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


class SearchIndex:
    """The search tables of one use (``SearchIndex("sop")`` → ``search_sop``, ``search_sop_text``)."""

    def __init__(self, name: str):
        if not _NAME.match(name):
            raise ValueError(f"bad index name {name!r}")
        self.name = name
        self.table = TABLE_PREFIX + name
        self.text_table = self.table + "_text"
        self.fts = self.table + "_fts"
        self.pg_match = self.table + "_match"

    @staticmethod
    def _dialect() -> str:
        return db.session.get_bind().dialect.name

    # ----------------------------------------------------------------- writing

    def delete(self, doc_id: int) -> None:
        """Remove a document from the index (nothing if it is not there)."""
        db.session.execute(sql(f"DELETE FROM {self.text_table} WHERE doc_id = :id"), {"id": doc_id})
        db.session.execute(sql(f"DELETE FROM {self.table} WHERE doc_id = :id"), {"id": doc_id})

    def put(self, doc_id: int, *, title: str, body: str, kind: str = "", tags: Iterable[str] = (),
            ref_id: int | None = None, sort_key: int = 0, keywords: str = "") -> None:
        """Index (or re-index) one document, in the session's transaction.

        ``keywords`` (e.g. the tags, which the result list shows anyway) are searched
        like the body but not stored with it, so snippets never show them.
        """
        self.delete(doc_id)
        body = body[:MAX_BODY_CHARS]
        db.session.execute(sql(
            f"INSERT INTO {self.table} (doc_id, ref_id, kind, sort_key, tags, title, title_folded)"
            " VALUES (:doc_id, :ref_id, :kind, :sort_key, :tags, :title, :title_folded)"),
            {"doc_id": doc_id, "ref_id": ref_id, "kind": kind or "", "sort_key": int(sort_key),
             "tags": tags_key(tags), "title": title, "title_folded": fold(title)})
        whole = title + "\n" + body + ("\n" + keywords if keywords else "")
        if self._dialect() == "postgresql":
            db.session.execute(sql(
                f"INSERT INTO {self.text_table} (doc_id, body, folded, tsv)"
                " VALUES (:doc_id, :body, :folded, CAST(:tsv AS tsvector))"),
                {"doc_id": doc_id, "body": body, "folded": fold(whole), "tsv": _pg_tsvector(whole)})
        else:
            db.session.execute(sql(
                f"INSERT INTO {self.text_table} (doc_id, body, tokens) VALUES (:doc_id, :body, :tokens)"),
                {"doc_id": doc_id, "body": body, "tokens": " ".join(tokens(whole))})

    def clear(self) -> None:
        """Remove every document (before a full rebuild)."""
        db.session.execute(sql(f"DELETE FROM {self.text_table}"))
        db.session.execute(sql(f"DELETE FROM {self.table}"))

    # ----------------------------------------------------------------- reading

    def _instr(self) -> str:
        return "strpos" if self._dialect() == "postgresql" else "instr"

    def _filters(self, kind: str | None, tag: str | None, params: dict) -> str:
        clauses = []
        if kind:
            clauses.append("d.kind = :kind")
            params["kind"] = kind
        if tag:
            clauses.append(f"{self._instr()}(d.tags, :tag) > 0")
            params["tag"] = tags_key([tag])
        return "".join(" AND " + c for c in clauses)

    def _match(self, words: list[str], params: dict) -> tuple[str, str]:
        """(WHERE condition on ``d``, title-hits expression) for the query words, per dialect."""
        for i, word in enumerate(words):
            params[f"w{i}"] = word
        title_hits = " + ".join(
            f"CASE WHEN {self._instr()}(d.title_folded, :w{i}) > 0 THEN 1 ELSE 0 END" for i in range(len(words)))
        if self._dialect() == "postgresql":
            lexemes = sorted({lexeme for word in words for lexeme in _pg_lexemes(word)})
            params["q"] = " & ".join(f"'{lexeme}'" for lexeme in lexemes)
            params["needles"] = [word for word in words if len(word) > PG_EXACT_CHARS]
            condition = (f"d.doc_id IN (SELECT m FROM {self.pg_match}(CAST(:q AS tsquery), CAST(:needles AS text[])) AS m)")
        else:
            params["q"] = " AND ".join(_fts5_phrase(w) for w in words)
            condition = f"d.doc_id IN (SELECT rowid FROM {self.fts} WHERE {self.fts} MATCH :q)"
        return condition, title_hits

    def search(self, query: str, *, kind: str | None = None, tag: str | None = None,
               limit: int = 20, offset: int = 0) -> Result:
        """The documents containing every word of ``query``, best first (see module doc)."""
        words = query_words(query)
        if not words:
            return self.browse(kind=kind, tag=tag, limit=limit, offset=offset)
        params: dict = {"limit": limit, "offset": offset}
        condition, title_hits = self._match(words, params)
        filters = self._filters(kind, tag, params)
        # PostgreSQL counts in the same pass (a window over the matches); SQLite's
        # window costs more than asking FTS5 again, so it counts separately.
        postgres = self._dialect() == "postgresql"
        window = ", count(*) OVER () AS total" if postgres else ""
        statement = (
            f"WITH hits AS (SELECT d.doc_id, d.sort_key, {title_hits} AS title_hits, length(d.title) AS title_length"
            f" FROM {self.table} d WHERE {condition}{filters}), "
            "ranked AS (SELECT doc_id, sort_key, title_hits,"
            f" CASE WHEN title_hits > 0 THEN title_length ELSE 0 END AS shortness{window}"
            " FROM hits ORDER BY title_hits DESC, shortness, sort_key DESC, doc_id LIMIT :limit OFFSET :offset) "
            f"SELECT d.doc_id, d.ref_id, d.kind, d.tags, d.title, d.sort_key, b.body, r.title_hits{', r.total' if postgres else ''}"
            f" FROM ranked r JOIN {self.table} d ON d.doc_id = r.doc_id"
            f" JOIN {self.text_table} b ON b.doc_id = r.doc_id"
            " ORDER BY r.title_hits DESC, r.shortness, r.sort_key DESC, r.doc_id"
        )
        rows = db.session.execute(sql(statement), params).all()
        if rows and len(rows) < limit or not rows and not offset:
            total = offset + len(rows)
        elif rows and postgres:
            total = rows[0].total
        elif not filters and not postgres:
            total = db.session.execute(
                sql(f"SELECT count(*) FROM {self.fts} WHERE {self.fts} MATCH :q"), params).scalar_one()
        else:
            total = self._count(condition, filters, params)
        return Result(words, total, [self._hit(row, row.title_hits) for row in rows])

    def browse(self, *, kind: str | None = None, tag: str | None = None, limit: int = 20,
               offset: int = 0) -> Result:
        """Every document (filtered by kind and tag), newest first."""
        params: dict = {"limit": limit, "offset": offset}
        filters = self._filters(kind, tag, params)
        rows = db.session.execute(sql(
            "WITH ranked AS (SELECT d.doc_id, d.sort_key"
            f" FROM {self.table} d WHERE 1 = 1{filters}"
            " ORDER BY d.sort_key DESC, d.doc_id DESC LIMIT :limit OFFSET :offset) "
            "SELECT d.doc_id, d.ref_id, d.kind, d.tags, d.title, d.sort_key, b.body"
            f" FROM ranked r JOIN {self.table} d ON d.doc_id = r.doc_id"
            f" JOIN {self.text_table} b ON b.doc_id = r.doc_id"
            " ORDER BY r.sort_key DESC, r.doc_id DESC"), params).all()
        if rows and len(rows) < limit or not rows and not offset:
            total = offset + len(rows)
        else:
            total = self._count("1 = 1", filters, params)
        return Result([], total, [self._hit(row, 0) for row in rows])

    def _count(self, condition: str, filters: str, params: dict) -> int:
        return db.session.execute(
            sql(f"SELECT count(*) FROM {self.table} d WHERE {condition}{filters}"), params).scalar_one()

    @staticmethod
    def _hit(row, title_hits: int) -> Hit:
        return Hit(row.doc_id, row.ref_id, row.kind, tags_from_key(row.tags), row.title, row.body,
                   int(row.sort_key), int(title_hits or 0))

    def _facet_where(self, query: str, kind: str | None, tag: str | None, params: dict) -> str:
        words = query_words(query)
        condition = self._match(words, params)[0] if words else "1 = 1"
        return condition + self._filters(kind, tag, params)

    def kinds(self, *, tag: str | None = None, query: str = "") -> dict[str, int]:
        """Documents per kind (within a tag, among those matching ``query``)."""
        params: dict = {}
        where = self._facet_where(query, None, tag, params)
        rows = db.session.execute(sql(
            f"SELECT d.kind, count(*) AS n FROM {self.table} d WHERE {where} GROUP BY d.kind"), params)
        return {row.kind: row.n for row in rows}

    def tags(self, *, kind: str | None = None, query: str = "") -> Counter:
        """Documents per tag (within a kind, among those matching ``query``)."""
        params: dict = {}
        where = self._facet_where(query, kind, None, params)
        counter: Counter = Counter()
        for (key,) in db.session.execute(sql(
                f"SELECT d.tags FROM {self.table} d WHERE d.tags <> '' AND {where}"), params):
            counter.update(set(tags_from_key(key)))
        return counter

    def doc_ids(self) -> set[int]:
        """Every indexed doc_id (tests, rebuild checks)."""
        return set(db.session.execute(sql(f"SELECT doc_id FROM {self.table}")).scalars())
