"""The schema comes only from migrations: models and migrations must agree."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kdcs.extensions import db
from kdcs.search.index import alembic_include_name


def test_models_match_migrations(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "render_as_batch": True,
            # search index tables are created by migrations only, per dialect (kdcs/search)
            "include_name": alembic_include_name,
        })
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations disagree; run `flask db migrate`: {diff}"


def test_single_migration_head(app):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", app.extensions["migrate"].directory)
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"
