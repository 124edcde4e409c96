"""A backup that has been restored: SQLite (``flask backup`` while another thread writes, then
``flask restore`` into a fresh instance) and PostgreSQL (``pg_dump -Fc`` then ``pg_restore`` into a
fresh database, when the suite runs on PostgreSQL).

Consistency, not just "a file came out": the writer adds a timeline event *and* bumps its ticket's
version in one transaction, numbered. The restored database must be the source as it was after
exactly the first k of those transactions, for some k: undoing the writes after k in the source
makes the two equal, row counts of every table and a checksum of the tickets and their events.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, func, insert, select, text

from kdcs import create_app
from kdcs.extensions import db
from kdcs.models import Ticket, TicketEvent, utcnow
from tests import factories, worlds

PG_BIN = Path(os.environ.get("KDCS_PG_BIN", "/usr/lib/postgresql/15/bin"))
WRITER_NOTE = "并发写入 #"
# Plain SQL: the ORM's onupdate would stamp updated_at, which the undo below could not take back.
BUMP = text("UPDATE tickets SET version = version + :by WHERE id = :id")


def _sqlite_app(folder: Path):
    """An app of its own on a SQLite file in ``folder`` (whatever database the suite runs on)."""
    folder.mkdir(parents=True, exist_ok=True)
    return create_app({"INSTANCE_PATH": str(folder), "TESTING": True, "SECRET_KEY": "restore-test",
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kdcs.sqlite3'}",
                       "KDCS_UPLOAD_DIR": str(folder / "uploads")})


def _fill(tickets: int = 12) -> None:
    """Users, outlets and tickets, each ticket with a couple of timeline lines."""
    users = worlds.make_users()
    outlet = factories.make_outlet(agent=users.agent, code="ZTO000001")
    for i in range(tickets):
        ticket = factories.make_ticket(outlet, waybill_no=f"75120000{i:04d}")
        db.session.add_all([TicketEvent(ticket_id=ticket.id, actor_id=users.agent.id, kind="note", body=f"第 {i} 张的备注"),
                            TicketEvent(ticket_id=ticket.id, actor_id=users.lead.id, kind="assign", to_value="agent_a")])
    db.session.commit()


def _checksum(connection) -> str:
    """SHA-256 over every row of tickets and ticket_events in id order (the same driver on both sides)."""
    digest = hashlib.sha256()
    for table in ("tickets", "ticket_events"):
        for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY id")):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _counts(connection, tables) -> dict[str, int]:
    return {t: connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}


def _tables() -> list[str]:
    return [t.name for t in db.metadata.sorted_tables] + ["alembic_version"]


class Writer(threading.Thread):
    """Adds numbered timeline events, each with its ticket's version bump, one transaction each."""

    def __init__(self, engine, ticket_ids: list[int]):
        super().__init__(daemon=True)
        self.engine, self.ticket_ids = engine, ticket_ids
        self.done = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set() and self.done < 20_000:
                n = self.done + 1
                ticket_id = self.ticket_ids[n % len(self.ticket_ids)]
                with self.engine.begin() as connection:
                    connection.execute(insert(TicketEvent).values(ticket_id=ticket_id, kind="note", at=utcnow(),
                                                                  body=f"{WRITER_NOTE}{n}"))
                    connection.execute(BUMP, {"id": ticket_id, "by": 1})
                self.done = n
                time.sleep(0.002)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while self.done < count and self.error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.error is None, self.error
        assert self.done >= count, f"the writer managed only {self.done} writes"


def _writes_in(connection) -> list[int]:
    bodies = connection.execute(select(TicketEvent.body).where(TicketEvent.body.startswith(WRITER_NOTE))).scalars()
    return sorted(int(b.removeprefix(WRITER_NOTE)) for b in bodies)


def _undo_writes_after(connection, k: int) -> None:
    """Take back the writer's transactions numbered above ``k`` (the source as it was after k)."""
    rows = connection.execute(select(TicketEvent.id, TicketEvent.ticket_id, TicketEvent.body)
                              .where(TicketEvent.body.startswith(WRITER_NOTE))).all()
    for event_id, ticket_id, body in rows:
        if int(body.removeprefix(WRITER_NOTE)) > k:
            connection.execute(delete(TicketEvent).where(TicketEvent.id == event_id))
            connection.execute(BUMP, {"id": ticket_id, "by": -1})


def test_backup_of_a_live_sqlite_database_restores_into_a_fresh_instance(tmp_path):
    source_app = _sqlite_app(tmp_path / "live")
    with source_app.app_context():
        from flask_migrate import upgrade

        upgrade()
        _fill()
        ticket_ids = list(db.session.scalars(select(Ticket.id)))
        writer = Writer(db.engine, ticket_ids)
        writer.start()
        try:
            writer.wait_for(30)
            before = writer.done
            backup = tmp_path / "kdcs-live.sqlite3"
            result = source_app.test_cli_runner().invoke(args=["backup", str(backup)])
            assert result.exit_code == 0, result.output
            after = writer.done
            writer.wait_for(after + 30)  # still writing after the backup
        finally:
            writer.stop.set()
            writer.join(10)
        assert writer.error is None, writer.error

        fresh_app = _sqlite_app(tmp_path / "fresh")  # a new instance folder: no database yet
        target = tmp_path / "fresh" / "kdcs.sqlite3"
        assert not target.exists()
        with fresh_app.app_context():
            result = fresh_app.test_cli_runner().invoke(args=["restore", str(backup), "--yes"])
        assert result.exit_code == 0, result.output
        assert "校验通过" in result.output and "已恢复" in result.output

        restored_engine = create_engine(f"sqlite:///{target}")
        try:
            with restored_engine.connect() as restored:
                assert restored.execute(text("PRAGMA integrity_check")).scalar() == "ok"
                writes = _writes_in(restored)
                k = len(writes)
                # A snapshot: exactly the first k writes, taken between the backup's start and end.
                assert writes == list(range(1, k + 1))
                assert before <= k <= after
                restored_counts = _counts(restored, _tables())
                restored_sum = _checksum(restored)
                versions = dict(restored.execute(select(Ticket.id, Ticket.version)).all())
        finally:
            restored_engine.dispose()
        # Every writer event came with its ticket's version bump: no torn transaction.
        initial = {t: 1 for t in ticket_ids}
        for n in range(1, k + 1):
            initial[ticket_ids[n % len(ticket_ids)]] += 1
        assert versions == initial

        with db.engine.begin() as connection:
            assert len(_writes_in(connection)) == writer.done > k  # the source went on
            _undo_writes_after(connection, k)
        with db.engine.connect() as connection:
            assert _counts(connection, _tables()) == restored_counts
            assert _checksum(connection) == restored_sum
        assert restored_counts["tickets"] == 12 and restored_counts["ticket_events"] == 24 + k
        db.session.remove()
        db.engine.dispose()


def test_restore_checks_the_file_asks_and_keeps_the_current_database(tmp_path):
    app = _sqlite_app(tmp_path / "site")
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        _fill(tickets=3)
        runner = app.test_cli_runner()
        backup = tmp_path / "three.sqlite3"
        assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
        factories.make_ticket(db.session.get(Ticket, 1).outlet, waybill_no="751299999999")  # written after the backup
        db.session.remove()

        garbage = tmp_path / "garbage.sqlite3"
        garbage.write_bytes(b"not a database at all" * 100)
        result = runner.invoke(args=["restore", str(garbage), "--yes"])
        assert result.exit_code != 0 and "不是可用的 SQLite 数据库" in result.output

        truncated = tmp_path / "truncated.sqlite3"
        truncated.write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])
        result = runner.invoke(args=["restore", str(truncated), "--yes"])
        assert result.exit_code != 0 and ("校验失败" in result.output or "不是" in result.output), result.output

        other = tmp_path / "other.sqlite3"
        sqlite3.connect(other).execute("CREATE TABLE notes (id INTEGER)").connection.close()
        result = runner.invoke(args=["restore", str(other), "--yes"])
        assert result.exit_code != 0 and "不是 KDCS 数据库" in result.output

        result = runner.invoke(args=["restore", str(backup)], input="n\n")
        assert result.exit_code != 0 and "已取消" in result.output
        assert db.session.scalar(select(func.count(Ticket.id))) == 4  # untouched
        db.session.remove()

        result = runner.invoke(args=["restore", str(backup)], input="y\n")
        assert result.exit_code == 0, result.output
        assert db.session.scalar(select(func.count(Ticket.id))) == 3
        kept = list((tmp_path / "site" / "backups").glob("kdcs-before-restore-*.sqlite3"))
        assert len(kept) == 1 and "另存为" in result.output
        with sqlite3.connect(kept[0]) as copy:
            assert copy.execute("SELECT count(*) FROM tickets").fetchone()[0] == 4
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_a_backup_from_a_newer_version(tmp_path):
    app = _sqlite_app(tmp_path / "site")
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        backup = tmp_path / "newer.sqlite3"
        assert app.test_cli_runner().invoke(args=["backup", str(backup)]).exit_code == 0
        with sqlite3.connect(backup) as connection:
            connection.execute("UPDATE alembic_version SET version_num = '0999_from_the_future'")
        result = app.test_cli_runner().invoke(args=["restore", str(backup), "--yes"])
        assert result.exit_code != 0 and "0999_from_the_future" in result.output
        db.engine.dispose()


def test_restore_prints_pg_restore_for_postgres(app, monkeypatch, tmp_path):
    from kdcs.cli import restore_command

    dump = tmp_path / "kdcs.dump"
    dump.write_bytes(b"PGDMP")
    monkeypatch.setitem(app.config, "SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://kdcs@db.local:5433/kdcs")
    result = app.test_cli_runner().invoke(restore_command, [str(dump)])
    assert result.exit_code != 0
    assert "createdb -h db.local -p 5433 -U kdcs kdcs_restored" in result.output
    assert f"pg_restore -h db.local -p 5433 -U kdcs --no-owner --exit-on-error -d kdcs_restored {dump}" in result.output


# --------------------------------------------------------------------------- PostgreSQL

def test_postgresql_dump_restores_into_a_fresh_database(app, tmp_path):
    """pg_dump -Fc of the test database, pg_restore into a new database: the same rows."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("runs on PostgreSQL (KDCS_TEST_DATABASE_URL), as in CI's postgresql stage")
    for tool in ("pg_dump", "pg_restore"):
        assert (PG_BIN / tool).exists(), f"{PG_BIN / tool} is missing"
    _fill()
    url = db.engine.url
    connection_args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    dump = tmp_path / "kdcs.dump"
    subprocess.run([PG_BIN / "pg_dump", *connection_args, "-Fc", "-f", dump, url.database], env=env, check=True)

    fresh = f"kdcs_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{fresh}"'))
        subprocess.run([PG_BIN / "pg_restore", *connection_args, "--no-owner", "--exit-on-error", "-d", fresh, dump],
                       env=env, check=True)
        restored_engine = create_engine(url.set(database=fresh))  # the same options (xdist's schema)
        try:
            with restored_engine.connect() as restored, db.engine.connect() as source:
                tables = _tables()
                assert _counts(restored, tables) == _counts(source, tables)
                assert _counts(restored, ["tickets", "ticket_events"]) == {"tickets": 12, "ticket_events": 24}
                assert _checksum(restored) == _checksum(source)
                assert restored.execute(text("SELECT version_num FROM alembic_version")).scalar() == \
                    source.execute(text("SELECT version_num FROM alembic_version")).scalar()
        finally:
            restored_engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)'))
        admin.dispose()
