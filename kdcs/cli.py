"""Command-line tools: seed-demo, create-user, backup, restore, compile-translations."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from urllib.parse import urlsplit

import click
from flask import current_app
from sqlalchemy import select

from .extensions import db


def init_app(app) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(compile_translations_command)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only when the database has no users yet.")
def seed_demo_command(if_empty):
    """Load the demo company (idempotent)."""
    from .demo import DEMO_PASSWORD, seed_demo
    from .models import User

    if if_empty and db.session.scalar(select(User.id).limit(1)) is not None:
        click.echo("数据库已有数据，跳过演示数据。")
    else:
        created = seed_demo()
        click.echo("演示数据: " + ", ".join(f"{k} +{v}" for k, v in created.items()))
    if db.session.scalar(select(User.id).where(User.username == "agent1")) is not None:
        click.echo(f"演示账号 (密码均为 {DEMO_PASSWORD}，仅供演示):")
        click.echo("  admin 管理员 | lead1 lead2 组长 | trainer1 trainer2 培训师 | agent1 … agent12 客服")


@click.command("create-user")
@click.argument("username")
@click.option("--name", "display_name", prompt="姓名", help="Display name")
@click.option("--role", type=click.Choice(["agent", "trainer", "lead", "admin"]), default="agent", show_default=True)
@click.password_option("--password", prompt="密码", confirmation_prompt="再次输入密码")
def create_user_command(username, display_name, role, password):
    """Create a user; weak passwords are rejected."""
    from .auth.service import password_problems
    from .models import User

    problems = password_problems(password, username)
    if problems:
        raise click.ClickException("密码太弱: " + " ".join(problems))
    if db.session.scalar(select(User.id).where(User.username.ilike(username))):
        raise click.ClickException(f"用户名 {username} 已存在")
    user = User(username=username, display_name=display_name, role=role)
    user.set_password(password)
    db.session.add(user)
    from .auditing import record

    db.session.flush()
    record(None, "user.create", "user", user.id, summary=f"{username} {display_name} (CLI)")
    db.session.commit()
    click.echo(f"已创建用户 {username} ({role})")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=True, writable=True), required=False)
def backup_command(path):
    """Consistent copy of a live SQLite database; prints the pg_dump command for PostgreSQL."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    if url.startswith("sqlite"):
        source = db.engine.url.database
        if not path:
            os.makedirs(current_app.config["KDCS_BACKUP_DIR"], exist_ok=True)
            path = os.path.join(current_app.config["KDCS_BACKUP_DIR"], f"kdcs-{stamp}.sqlite3")
        elif os.path.isdir(path):
            path = os.path.join(path, f"kdcs-{stamp}.sqlite3")
        if os.path.exists(path):
            raise click.ClickException(f"{path} 已存在，不会覆盖")
        _sqlite_copy(source, path)  # online backup API: safe while the app is writing
        check = sqlite3.connect(path)
        try:
            result = check.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            check.close()
        if result != "ok":
            raise click.ClickException(f"备份校验失败: {result}")
        click.echo(f"已备份到 {path}")
        return
    options, name = _pg_parts(url)
    target = path or f"kdcs-{stamp}.dump"
    click.echo("PostgreSQL 请用 pg_dump 备份 (密码可用 PGPASSWORD 环境变量提供):")
    click.echo(f"pg_dump {options}-Fc -f {target} {name}")


def _pg_parts(url: str) -> tuple[str, str]:
    """(connection options for pg_dump/pg_restore, database name) from a PostgreSQL URL."""
    parts = urlsplit(url.replace("+psycopg", ""))
    options = "".join([f"-h {parts.hostname} " if parts.hostname else "",
                       f"-p {parts.port} " if parts.port else "",
                       f"-U {parts.username} " if parts.username else ""])
    return options, parts.path.lstrip("/")


def _sqlite_check(path: str) -> dict:
    """Open a SQLite file read-only and check it: integrity, a KDCS schema, its migration, row counts."""
    try:
        con = sqlite3.connect(f"file:{os.path.abspath(path)}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise click.ClickException(f"{path} 无法打开: {exc}") from exc
    try:
        result = con.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise click.ClickException(f"{path} 校验失败 (integrity_check): {result}")
        tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"alembic_version", "users", "tickets"} <= tables:
            raise click.ClickException(f"{path} 不是 KDCS 数据库 (缺少 alembic_version / users / tickets 表)")
        revision = con.execute("SELECT version_num FROM alembic_version").fetchone()
        counts = {table: con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                  for table in ("users", "tickets", "ticket_events")}
    except sqlite3.DatabaseError as exc:  # "file is not a database", a truncated file
        raise click.ClickException(f"{path} 不是可用的 SQLite 数据库: {exc}") from exc
    finally:
        con.close()
    return {"revision": revision[0] if revision else None, "counts": counts}


def _migration_scripts():
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    return ScriptDirectory.from_config(config)


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--yes", is_flag=True, help="Replace without asking (scripts).")
def restore_command(path, yes):
    """Replace the SQLite database with a backup: checked first, the current database kept as a copy.

    Stop the web servers and the worker first. PostgreSQL: prints the pg_restore commands.
    """
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite"):
        options, name = _pg_parts(url)
        click.echo("PostgreSQL 请用 pg_restore 恢复到一个新数据库 (停掉网站和任务进程后):")
        click.echo(f"createdb {options}{name}_restored")
        click.echo(f"pg_restore {options}--no-owner --exit-on-error -d {name}_restored {path}")
        click.echo(f"然后把 KDCS_DATABASE_URL 指向 {name}_restored (或改名), 再运行 flask --app kdcs db upgrade")
        raise click.ClickException("restore 只直接恢复 SQLite 数据库")
    target = db.engine.url.database
    if os.path.abspath(path) == os.path.abspath(target):
        raise click.ClickException("备份文件就是当前数据库")
    backup = _sqlite_check(path)
    scripts = _migration_scripts()
    known = {script.revision for script in scripts.walk_revisions()}
    if backup["revision"] not in known:
        raise click.ClickException(f"备份的数据库版本 {backup['revision']} 不在本程序的迁移中 (来自更新的版本?)")
    counts = backup["counts"]
    click.echo(f"备份 {path}: 校验通过, 版本 {backup['revision']}, 用户 {counts['users']}, "
               f"工单 {counts['tickets']}, 工单记录 {counts['ticket_events']}")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    keep = None
    if os.path.exists(target) and os.path.getsize(target) > 0:
        os.makedirs(current_app.config["KDCS_BACKUP_DIR"], exist_ok=True)
        keep = os.path.join(current_app.config["KDCS_BACKUP_DIR"], f"kdcs-before-restore-{stamp}.sqlite3")
    question = f"用这个备份替换 {target}?" + (f" 当前数据库先另存为 {keep}。" if keep else "")
    if not yes and not click.confirm(question + " (请先停止网站和任务进程)", default=False):
        raise click.ClickException("已取消, 数据库未改动")
    db.session.remove()
    db.engine.dispose()  # this process's pooled connections
    if keep:
        _sqlite_copy(target, keep)
        click.echo(f"当前数据库已另存为 {keep}")
    # The online backup API writes the pages under SQLite's own locks (WAL included),
    # so no connection is left reading a file that was swapped under it.
    _sqlite_copy(path, target)
    check = sqlite3.connect(target)
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if result != "ok":
        raise click.ClickException(f"恢复后的数据库校验失败: {result}" + (f" (原数据库在 {keep})" if keep else ""))
    click.echo(f"已恢复 {target}")
    if backup["revision"] != scripts.get_current_head():
        click.echo("备份来自较早的版本: 请运行 flask --app kdcs db upgrade")


def _sqlite_copy(source: str, destination: str) -> None:
    """Copy a SQLite database page by page with the online backup API (consistent while written)."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(destination)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


@click.command("compile-translations")
def compile_translations_command():
    """Compile the .po catalogs to .mo."""
    from .i18n import compile_catalogs

    written = compile_catalogs(force=True)
    click.echo(f"compiled {len(written)} catalogs")
