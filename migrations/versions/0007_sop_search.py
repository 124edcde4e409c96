"""sop search index

The Chinese search index of SOP scenarios (kdcs/search, kdcs/sop/search.py): one
row per scenario with its current published version's text and tokens. Not part
of the models' metadata (kdcs.search.is_search_table): FTS5 on SQLite,
tsvector + GIN on PostgreSQL. Rows are written by the application
(reindex_scenario); deleting a scenario deletes its row.

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

COMMON = """
    doc_id INTEGER NOT NULL,
    ref_id INTEGER,
    kind VARCHAR(32) NOT NULL DEFAULT '',
    sort_key BIGINT NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    body TEXT NOT NULL,
"""
KEYS = """
    CONSTRAINT pk_search_sop PRIMARY KEY (doc_id),
    CONSTRAINT fk_search_sop_doc_id_sop_scenarios FOREIGN KEY (doc_id)
        REFERENCES sop_scenarios (id) ON DELETE CASCADE
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE search_sop (" + COMMON
            + "    folded TEXT,\n    tsv TSVECTOR NOT NULL,\n    title_tsv TSVECTOR NOT NULL,\n" + KEYS + ")"
        )
        op.execute("CREATE INDEX ix_search_sop_tsv ON search_sop USING gin (tsv)")
    else:
        op.execute(
            "CREATE TABLE search_sop (" + COMMON
            + "    title_tokens TEXT NOT NULL,\n    body_tokens TEXT NOT NULL,\n" + KEYS + ")"
        )
        # External content: the FTS5 index reads the token columns of search_sop;
        # the 'ascii' tokenizer splits on spaces and keeps every non-ASCII
        # character, so the stored tokens are indexed exactly as written.
        op.execute(
            "CREATE VIRTUAL TABLE search_sop_fts USING fts5(title_tokens, body_tokens,"
            " content='search_sop', content_rowid='doc_id', tokenize='ascii', prefix='1')"
        )
        op.execute(
            "CREATE TRIGGER search_sop_ai AFTER INSERT ON search_sop BEGIN"
            " INSERT INTO search_sop_fts (rowid, title_tokens, body_tokens)"
            " VALUES (new.doc_id, new.title_tokens, new.body_tokens); END"
        )
        op.execute(
            "CREATE TRIGGER search_sop_ad AFTER DELETE ON search_sop BEGIN"
            " INSERT INTO search_sop_fts (search_sop_fts, rowid, title_tokens, body_tokens)"
            " VALUES ('delete', old.doc_id, old.title_tokens, old.body_tokens); END"
        )
        op.execute(
            "CREATE TRIGGER search_sop_au AFTER UPDATE ON search_sop BEGIN"
            " INSERT INTO search_sop_fts (search_sop_fts, rowid, title_tokens, body_tokens)"
            " VALUES ('delete', old.doc_id, old.title_tokens, old.body_tokens);"
            " INSERT INTO search_sop_fts (rowid, title_tokens, body_tokens)"
            " VALUES (new.doc_id, new.title_tokens, new.body_tokens); END"
        )
    op.execute("CREATE INDEX ix_search_sop_sort ON search_sop (sort_key, doc_id)")
    op.execute("CREATE INDEX ix_search_sop_kind ON search_sop (kind, sort_key)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        for trigger in ("search_sop_ai", "search_sop_ad", "search_sop_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_sop_fts")
    op.execute("DROP TABLE IF EXISTS search_sop")
