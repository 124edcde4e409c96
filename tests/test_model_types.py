"""UTCDateTime reads SQLite's stored text into aware UTC datetimes, the same as the general path."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from kdcs.models.types import UTCDateTime


def _general(value):
    """What the TypeDecorator's composed processor (impl parse, then process_result_value) gives."""
    dialect = sqlite.dialect()
    general = sa.types.TypeDecorator.result_processor(UTCDateTime().dialect_impl(dialect), dialect, None)
    return general(value)


@pytest.mark.parametrize("stored", [
    "2026-12-02 03:53:11.123456",
    "2026-12-02 03:53:11",
    "2026-02-28 23:59:59.000001",
    "2026-12-02",
])
def test_sqlite_text_reads_as_the_general_path_does(stored):
    fast = UTCDateTime()._cached_result_processor(sqlite.dialect(), None)  # as a query calls it
    value = fast(stored)
    assert value == _general(stored)
    assert value.tzinfo is not None and value.utcoffset().total_seconds() == 0


def test_none_stays_none():
    fast = UTCDateTime()._cached_result_processor(sqlite.dialect(), None)  # as a query calls it
    assert fast(None) is None


def test_round_trip_through_a_sqlite_database():
    engine = sa.create_engine("sqlite://")
    table = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", UTCDateTime()))
    table.metadata.create_all(engine)
    at = datetime(2026, 12, 2, 3, 53, 11, 123456, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(table.insert(), [{"id": 1, "at": at}, {"id": 2, "at": None}])
        connection.execute(sa.text("INSERT INTO t (id, at) VALUES (3, '2026-12-02 03:53:11')"))
        rows = dict(connection.execute(sa.select(table.c.id, table.c.at)).all())
    assert rows[1] == at and rows[1].tzinfo is not None
    assert rows[2] is None
    assert rows[3] == datetime(2026, 12, 2, 3, 53, 11, tzinfo=UTC)
