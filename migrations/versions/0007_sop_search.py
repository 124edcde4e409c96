"""sop search index

The Chinese search index of SOP scenarios (kdcs/search, kdcs/sop/search.py): per
scenario, a narrow row for filtering and ranking (search_sop) and its text and
tokens (search_sop_text) from its current published version. Not part of the
models' metadata (kdcs.search.is_search_table): FTS5 on SQLite, tsvector + GIN
on PostgreSQL. Rows are written by the application (reindex_scenario);
deleting a scenario deletes its rows.

Revision ID: 0007_sop_search
Revises: 0006_sop
Create Date: 2026-12-01 10:00:00
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007_sop_search'
down_revision = '0006_sop'
branch_labels = None
depends_on = None

DOCS = """CREATE TABLE search_sop (
    doc_id INTEGER NOT NULL,
    ref_id INTEGER,
    kind VARCHAR(32) NOT NULL DEFAULT '',
    sort_key BIGINT NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    title_folded TEXT NOT NULL,
    CONSTRAINT pk_search_sop PRIMARY KEY (doc_id),
    CONSTRAINT fk_search_sop_doc_id_sop_scenarios FOREIGN KEY (doc_id)
        REFERENCES sop_scenarios (id) ON DELETE CASCADE
)"""

TEXT = """CREATE TABLE search_sop_text (
    doc_id INTEGER NOT NULL,
    body TEXT NOT NULL,
    {columns},
    CONSTRAINT pk_search_sop_text PRIMARY KEY (doc_id),
    CONSTRAINT fk_search_sop_text_doc_id_search_sop FOREIGN KEY (doc_id)
        REFERENCES search_sop (doc_id) ON DELETE CASCADE
)"""


def upgrade():
    op.execute(DOCS)
    op.execute("CREATE INDEX ix_search_sop_sort ON search_sop (sort_key, doc_id)")
    op.execute("CREATE INDEX ix_search_sop_kind ON search_sop (kind, sort_key)")
    if op.get_bind().dialect.name == "postgresql":
        # tsv: every 1- to 4-character piece of the words, no positions, written as a
        # tsvector literal (no parser or configuration involved); folded: the text,
        # checked with strpos for query words longer than 4 characters.
        op.execute(TEXT.format(columns="folded TEXT NOT NULL,\n    tsv TSVECTOR NOT NULL"))
        # fastupdate off: writes are rare (a publish), and a pending list would slow every search
        op.execute("CREATE INDEX ix_search_sop_text_tsv ON search_sop_text USING gin (tsv) WITH (fastupdate = off)")
        # The lookup, with sequential scans off inside it only: for a common word the
        # planner would otherwise scan and detoast every row (~30x slower than the index).
        op.execute("""
            CREATE FUNCTION search_sop_match(q tsquery, needles text[]) RETURNS SETOF integer
            LANGUAGE sql STABLE SET enable_seqscan = off AS $$
                SELECT x.doc_id FROM search_sop_text x
                WHERE x.tsv @@ q
                  AND NOT EXISTS (SELECT 1 FROM unnest(needles) AS n WHERE strpos(x.folded, n) = 0)
            $$
        """)
    else:
        op.execute(TEXT.format(columns="tokens TEXT NOT NULL"))
        # External content: the FTS5 index reads search_sop_text.tokens; the 'ascii'
        # tokenizer splits on spaces and keeps every non-ASCII character, so the
        # stored tokens are indexed exactly as written.
        op.execute(
            "CREATE VIRTUAL TABLE search_sop_fts USING fts5(tokens,"
            " content='search_sop_text', content_rowid='doc_id', tokenize='ascii', prefix='1')"
        )
        op.execute(
            "CREATE TRIGGER search_sop_text_ai AFTER INSERT ON search_sop_text BEGIN"
            " INSERT INTO search_sop_fts (rowid, tokens) VALUES (new.doc_id, new.tokens); END"
        )
        op.execute(
            "CREATE TRIGGER search_sop_text_ad AFTER DELETE ON search_sop_text BEGIN"
            " INSERT INTO search_sop_fts (search_sop_fts, rowid, tokens)"
            " VALUES ('delete', old.doc_id, old.tokens); END"
        )
        op.execute(
            "CREATE TRIGGER search_sop_text_au AFTER UPDATE ON search_sop_text BEGIN"
            " INSERT INTO search_sop_fts (search_sop_fts, rowid, tokens) VALUES ('delete', old.doc_id, old.tokens);"
            " INSERT INTO search_sop_fts (rowid, tokens) VALUES (new.doc_id, new.tokens); END"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS search_sop_match(tsquery, text[])")
    else:
        for trigger in ("search_sop_text_ai", "search_sop_text_ad", "search_sop_text_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_sop_fts")
    op.execute("DROP TABLE IF EXISTS search_sop_text")
    op.execute("DROP TABLE IF EXISTS search_sop")
