"""Command-line tools: seed-demo, create-user, backup, compile-translations."""

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
        src = sqlite3.connect(source)
        dst = sqlite3.connect(path)
        try:
            with dst:
                src.backup(dst)  # online backup API: safe while the app is writing
        finally:
            dst.close()
            src.close()
        check = sqlite3.connect(path)
        try:
            result = check.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            check.close()
        if result != "ok":
            raise click.ClickException(f"备份校验失败: {result}")
        click.echo(f"已备份到 {path}")
        return
    parts = urlsplit(url.replace("+psycopg", ""))
    target = path or f"kdcs-{stamp}.dump"
    user = f"-U {parts.username} " if parts.username else ""
    host = f"-h {parts.hostname} " if parts.hostname else ""
    port = f"-p {parts.port} " if parts.port else ""
    click.echo("PostgreSQL 请用 pg_dump 备份 (密码可用 PGPASSWORD 环境变量提供):")
    click.echo(f"pg_dump {host}{port}{user}-Fc -f {target} {parts.path.lstrip('/')}")


@click.command("compile-translations")
def compile_translations_command():
    """Compile the .po catalogs to .mo."""
    from .i18n import compile_catalogs

    written = compile_catalogs(force=True)
    click.echo(f"compiled {len(written)} catalogs")
