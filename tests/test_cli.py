import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from kdcs.demo import DEMO_PASSWORD, seed_demo
from kdcs.extensions import db
from kdcs.models import (
    Brand,
    Outlet,
    OutletVolume,
    Role,
    Team,
    Ticket,
    TicketEvent,
    TicketReply,
    User,
)


@pytest.mark.slow
def test_seed_demo_is_complete_and_idempotent(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "demo1234" in result.output and "agent12" in result.output
    users = {u.username: u for u in db.session.scalars(select(User))}
    assert {"admin", "lead1", "lead2", "trainer1", "trainer2"} <= set(users)
    assert {f"agent{i}" for i in range(1, 13)} <= set(users)
    assert users["agent1"].team.name == "一组" and users["agent7"].team.name == "二组"
    teams = {t.name: t for t in db.session.scalars(select(Team))}
    assert teams["一组"].lead_id == users["lead1"].id and teams["二组"].lead_id == users["lead2"].id
    assert users["admin"].check_password(DEMO_PASSWORD)
    brand_names = set(db.session.scalars(select(Brand.name)))
    assert {"中通", "圆通", "韵达", "申通", "极兔"} <= brand_names
    outlets = db.session.scalars(select(Outlet)).all()
    assert len(outlets) == 40
    assert all(o.primary_agent and o.primary_agent.role == Role.AGENT for o in outlets)
    assert all("0.020" <= str(o.rate_per_parcel) <= "0.030" for o in outlets)
    assert len({o.code for o in outlets}) == 40 and all("网点" in o.name for o in outlets)
    # Nothing happened later than the moment of seeding (whatever the hour in Beijing).
    now = datetime.now(UTC)
    for column in (Ticket.first_replied_at, Ticket.created_at, TicketEvent.at, TicketReply.sent_at):
        assert db.session.scalar(select(func.max(column))) <= now, column
    months = db.session.scalar(select(func.count(func.distinct(OutletVolume.month))))
    assert months >= 3
    counts_before = (db.session.scalar(select(func.count(User.id))), db.session.scalar(select(func.count(OutletVolume.id))))
    assert seed_demo() == {"brands": 0, "teams": 0, "users": 0, "outlets": 0, "volumes": 0,
                           "tickets": 0, "events": 0, "fines": 0, "sop_scenarios": 0, "sop_versions": 0,
                           "leave_types": 0, "team_staffing": 0, "leave_requests": 0,
                           "training_agents": 0, "overtime": 0, "labour_costs": 0, "team_memberships": 0, "follow_ups": 0,
                           "quality_reviews": 0}
    counts_after = (db.session.scalar(select(func.count(User.id))), db.session.scalar(select(func.count(OutletVolume.id))))
    assert counts_before == counts_after


def test_seed_demo_if_empty_skips_a_used_database(runner, users):
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "跳过" in result.output
    assert db.session.scalar(select(func.count(Outlet.id))) == 0


def test_create_user_rejects_weak_password(runner):
    result = runner.invoke(args=["create-user", "boss", "--name", "老板", "--role", "admin"], input="12345678\n12345678\n")
    assert result.exit_code != 0 and "密码太弱" in result.output
    assert db.session.scalar(select(User).where(User.username == "boss")) is None


def test_create_user_ok(runner):
    result = runner.invoke(args=["create-user", "boss", "--name", "老板", "--role", "admin"], input="Lxq2026ok\nLxq2026ok\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "boss"))
    assert user.role == "admin" and user.check_password("Lxq2026ok")


def test_backup_sqlite_is_consistent_copy(runner, app, tmp_path, users):
    if db.engine.dialect.name != "sqlite":
        result = runner.invoke(args=["backup", str(tmp_path / "x.dump")])
        assert result.exit_code == 0 and "pg_dump" in result.output and "-Fc" in result.output
        return
    target = tmp_path / "copy.sqlite3"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    connection = sqlite3.connect(target)
    try:
        names = {row[0] for row in connection.execute("select username from users")}
    finally:
        connection.close()
    assert "agent_a" in names
    again = runner.invoke(args=["backup", str(target)])
    assert again.exit_code != 0 and "不会覆盖" in again.output


def test_backup_prints_pg_dump_for_postgres(app, monkeypatch):
    from kdcs.cli import backup_command

    monkeypatch.setitem(app.config, "SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://kdcs@db.local:5433/kdcs")
    result = app.test_cli_runner().invoke(backup_command, ["/backups/kdcs.dump"])
    assert "pg_dump -h db.local -p 5433 -U kdcs -Fc -f /backups/kdcs.dump kdcs" in result.output
