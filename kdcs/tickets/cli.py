"""``flask --app kdcs tickets ...``: reference data and demo tickets."""

from __future__ import annotations

import click

from . import bp


@bp.cli.command("seed-reference")
@click.option("--no-calendar", is_flag=True, help="Skip the work calendar (chinesecalendar).")
def seed_reference_command(no_calendar):
    """Load reasons, default deadline rules, canned replies and the work calendar (idempotent)."""
    from .reference import seed_reference_data

    created = seed_reference_data(calendar=not no_calendar)
    click.echo("工单基础数据: " + ", ".join(f"{k} +{v}" for k, v in created.items()))


@bp.cli.command("seed-calendar")
def seed_calendar_command():
    """Refresh the work calendar from the installed chinesecalendar (admin edits are kept)."""
    from ..extensions import db
    from ..workcalendar import package_years, seed_calendar

    counts = seed_calendar()
    db.session.commit()
    first, last = package_years()
    click.echo(f"工作日历 {first}–{last}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@bp.cli.command("seed-demo")
def seed_demo_tickets_command():
    """Demo tickets for the demo outlets (run after `flask seed-demo`; idempotent)."""
    from .demo import seed_demo_tickets

    created = seed_demo_tickets()
    click.echo("演示工单: " + ", ".join(f"{k} +{v}" for k, v in created.items()))


@bp.cli.command("rebuild-counts")
def rebuild_counts_command():
    """Recount the open-ticket counters of the queue's tab counts from the tickets (after a restore)."""
    from ..extensions import db
    from .counts import rebuild

    rows = rebuild()
    db.session.commit()
    click.echo(f"工单计数已重建: {rows} 行")


@bp.cli.command("fold-counts")
def fold_counts_command():
    """Merge the counter deltas now (the worker does it every 10 minutes)."""
    from ..extensions import db
    from .counts import fold

    rows = fold()
    db.session.commit()
    click.echo(f"工单计数已合并: {rows} 行")
