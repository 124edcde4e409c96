"""``sql_any.in_subquery``: ``IN (SELECT …)`` everywhere, ``= ANY(ARRAY(SELECT …))`` on PostgreSQL,
and the same rows either way on the database the suite runs on."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from kdcs.extensions import db
from kdcs.sql_any import in_subquery

_META = sa.MetaData()
_OWNERS = sa.Table("zz_any_owners", _META, sa.Column("id", sa.Integer, primary_key=True),
                   sa.Column("agent", sa.Integer))
_ITEMS = sa.Table("zz_any_items", _META, sa.Column("id", sa.Integer, primary_key=True),
                  sa.Column("assignee", sa.Integer), sa.Column("owner_id", sa.Integer))


def _condition(in_select):
    owned = sa.select(_OWNERS.c.id).where(_OWNERS.c.agent == sa.bindparam("agent"))
    return sa.or_(_ITEMS.c.assignee == sa.bindparam("agent"), in_select(_ITEMS.c.owner_id, owned))


def _compiled(condition, dialect) -> str:
    return " ".join(str(condition.compile(dialect=dialect)).split())


def test_postgresql_gets_any_array_and_sqlite_the_plain_in():
    condition = _condition(in_subquery)
    assert _compiled(condition, postgresql.dialect()) == (
        "zz_any_items.assignee = %(agent)s::INTEGER OR zz_any_items.owner_id = ANY(ARRAY(SELECT zz_any_owners.id"
        " FROM zz_any_owners WHERE zz_any_owners.agent = %(agent)s::INTEGER))")
    plain = _condition(lambda column, statement: column.in_(statement))
    assert _compiled(condition, sqlite.dialect()) == _compiled(plain, sqlite.dialect())
    assert "= 1" not in _compiled(condition, sqlite.dialect())  # a condition, not a boolean column


def test_the_statement_cache_tells_two_subqueries_apart():
    one = sa.select(sa.func.count()).where(in_subquery(_ITEMS.c.owner_id, sa.select(_OWNERS.c.id)))
    other = sa.select(sa.func.count()).where(in_subquery(_ITEMS.c.assignee, sa.select(_OWNERS.c.agent)))
    assert one._generate_cache_key() != other._generate_cache_key()
    again = sa.select(sa.func.count()).where(in_subquery(_ITEMS.c.owner_id, sa.select(_OWNERS.c.id)))
    assert one._generate_cache_key() == again._generate_cache_key()


def test_same_rows_as_in_on_this_database():
    engine = db.engine
    _META.create_all(engine)
    try:
        with engine.begin() as connection:
            connection.execute(_OWNERS.insert(), [{"id": 1, "agent": 7}, {"id": 2, "agent": 7}, {"id": 3, "agent": 8}])
            connection.execute(_ITEMS.insert(), [
                {"id": 1, "assignee": 7, "owner_id": 3}, {"id": 2, "assignee": None, "owner_id": 1},
                {"id": 3, "assignee": 8, "owner_id": 2}, {"id": 4, "assignee": 8, "owner_id": 3},
                {"id": 5, "assignee": None, "owner_id": None}])
        plain = _condition(lambda column, statement: column.in_(statement))
        with engine.connect() as connection:
            for agent, expected in ((7, [1, 2, 3]), (8, [1, 3, 4]), (9, [])):
                for condition in (_condition(in_subquery), plain):
                    ids = connection.scalars(sa.select(_ITEMS.c.id).where(condition).order_by(_ITEMS.c.id),
                                             {"agent": agent}).all()
                    assert ids == expected, (agent, condition)
    finally:
        _META.drop_all(engine)
