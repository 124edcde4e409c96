"""Ticket queue benchmark (issue 4, "Speed"): not a timed test, a table of figures.

    .venv/bin/python bench/tickets.py                 # 10k, 200k and 1M tickets
    .venv/bin/python bench/tickets.py 10000 200000    # chosen sizes
    .venv/bin/python bench/tickets.py --no-import 10000

For each N: a fresh SQLite file in bench/out/ (schema from the migrations,
demo company + reference data, 200 outlets, N tickets bulk-inserted), then
through the Flask test client with an htmx header, as the real pages are
asked for: p50/p95 of the queue fragment (50 rows) for the default filter and
two others, a waybill search, the ticket detail page; SQL statements per page
(a ``before_cursor_execute`` listener); and a 50,000-row import (upload →
check → one-transaction commit, the same functions the Huey tasks run) in a
subprocess, with its time and peak memory (tracemalloc peak of the import and
the process's max RSS). Targets: queue fragment p50 ≤ 25 ms at 1M and within
1.5× of its 10k figure; statements per page independent of the rows shown;
50k import ≤ 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

SIZES = [10_000, 200_000, 1_000_000]
REPEAT = 25
EXTRA_OUTLETS = 160


def make_app(db_path: Path, instance: Path):
    os.environ.setdefault("KDCS_ENV", "bench")
    os.environ["KDCS_TASKS_IMMEDIATE"] = "1"
    from kdcs import create_app

    app = create_app({
        "INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench", "KDCS_UPLOAD_DIR": str(instance / "uploads"),
        "KDCS_TASKS_IMMEDIATE": True, "KDCS_IMPORT_MAX_MB": 50,
    })
    return app


def build_database(n: int) -> Path:
    """bench/out/tickets_<n>.sqlite3 with the schema, the demo company and n tickets (reused if present)."""
    from bench import datagen

    db_path = OUT / f"tickets_{n}.sqlite3"
    if db_path.exists():  # reused: bring its schema up to date, as a deployment's `flask db upgrade` does
        app = make_app(db_path, OUT / f"instance_{n}")
        started = time.perf_counter()
        with app.app_context():
            from flask_migrate import upgrade

            from kdcs.extensions import db

            upgrade()
            db.engine.dispose()
        print(f"  reused {db_path.name} (migrations checked in {time.perf_counter() - started:.1f} s)", flush=True)
        return db_path
    tmp = OUT / f"tickets_{n}.building.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    instance = OUT / f"instance_{n}"
    app = make_app(tmp, instance)
    started = time.perf_counter()
    with app.app_context():
        from flask_migrate import upgrade

        from kdcs.demo import seed_demo
        from kdcs.extensions import db
        from kdcs.tickets.reference import seed_reference_data

        upgrade()
        seed_demo()
        seed_reference_data(calendar=True)
        outlets, reasons, rules = datagen.ticket_inputs(db, EXTRA_OUTLETS)
        db.session.remove()
        db.engine.dispose()
    connection = sqlite3.connect(tmp)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    datagen.generate_tickets(connection, n, outlets, reasons, rules)
    connection.close()
    tmp.rename(db_path)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    print(f"  generated {n:,} tickets in {time.perf_counter() - started:.1f} s", flush=True)
    return db_path


def ensure_statistics(db_path: Path) -> float:
    """ANALYZE once (what a running installation gets from ``PRAGMA optimize``); returns seconds.

    Without sqlite_stat1 the planner picks the scope's OR-indexes over the
    queue index and sorts every open ticket of the scope (see README figures).
    """
    connection = sqlite3.connect(db_path)
    try:
        has_stats = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone() is not None
        if has_stats and connection.execute("SELECT 1 FROM sqlite_stat1 LIMIT 1").fetchone():
            return 0.0
        started = time.perf_counter()
        connection.execute("ANALYZE")
        connection.commit()
        return time.perf_counter() - started
    finally:
        connection.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def measure_pages(n: int, db_path: Path) -> dict:
    """p50/p95 (ms) and SQL statements of each page, through the test client."""
    from sqlalchemy import event, select

    app = make_app(db_path, OUT / f"instance_{n}")
    results: dict[str, dict] = {}
    with app.app_context():
        from kdcs.extensions import db
        from kdcs.models import Brand, Ticket, User

        agent = db.session.scalar(select(User).where(User.username == "agent1"))
        lead = db.session.scalar(select(User).where(User.username == "lead1"))
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        sto = db.session.scalar(select(Brand.id).where(Brand.code == "STO"))
        from kdcs.tickets.service import visible_tickets_query

        # an open ticket of the agent's, so the (open-tickets) search finds a row
        sample = db.session.scalar(visible_tickets_query(agent).where(Ticket.queue_state < 2)
                                   .order_by(Ticket.id.desc()).limit(1))
        waybill, ticket_id = sample.waybill_no, sample.id
        db.session.remove()

    statements: list[str] = []
    with app.app_context():
        from kdcs.extensions import db

        engine = db.engine

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    cases = [
        ("queue: default (agent, mine)", agent, "/tickets/", True),
        ("queue: problem parcels, overdue", agent, "/tickets/?category=problem&window=overdue", True),
        ("queue: lead team, STO, inbound", lead, f"/tickets/?scope=team&brand={sto}&direction=inbound", True),
        ("queue: admin all", admin, "/tickets/?scope=all", True),
        # not fragments of a filter change: what the tab counts cost where they are still counted
        ("queue: refresh after change (agent)", agent, "/tickets/?counts=1", True),
        ("queue: refresh after change (lead)", lead, "/tickets/?scope=team&counts=1", True),
        ("queue: full page (agent)", agent, "/tickets/", False),
        ("waybill search (exact)", agent, f"/tickets/?q={waybill}", True),
        ("waybill search (prefix)", admin, f"/tickets/?scope=all&q={waybill[:8]}", True),
        ("ticket detail page", agent, f"/tickets/{ticket_id}", False),
    ]
    for label, user, url, htmx in cases:
        client = app.test_client()
        with client:
            response = client.post("/login", data={"username": user.username, "password": "demo1234"})
            assert response.status_code == 303, response.status_code
            headers = {"HX-Request": "true"} if htmx else {}
            for _ in range(3):  # warm up caches and the connection pool
                client.get(url, headers=headers)
            times, cpu, counts, status, size = [], [], [], 0, 0
            for _ in range(REPEAT):
                statements.clear()
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get(url, headers=headers)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
                counts.append(len(statements))
                status, size = response.status_code, len(response.data)
            rows = response.get_data(as_text=True).count('<tr id="ticket-')
        results[label] = {"p50": percentile(times, 50), "p95": percentile(times, 95),
                          "cpu_p50": percentile(cpu, 50), "sql": max(counts),
                          "sql_min": min(counts), "status": status, "rows": rows, "bytes": size}
    event.remove(engine, "before_cursor_execute", on_execute)
    return results


IMPORT_CHILD = r"""
import json, os, resource, sys, time, tracemalloc
sys.path.insert(0, {root!r})
from bench.tickets import make_app
from pathlib import Path
app = make_app(Path({db!r}), Path({instance!r}))
with app.app_context():
    from sqlalchemy import select, func
    from kdcs.extensions import db
    from kdcs.models import User, Brand, ImportJob, ImportStatus, Ticket
    from kdcs.tickets.imports import service as importing
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    brand = db.session.scalar(select(Brand).where(Brand.code == "STO"))
    before = db.session.scalar(select(func.count()).select_from(Ticket))
    trace = {trace!r}
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with open({path!r}, "rb") as handle:
        job = importing.accept_upload(admin, brand.id, "bench.xlsx", handle)
    job.status = ImportStatus.VALIDATING
    db.session.commit()
    job_id = job.id
    importing.run_validation(job_id)
    db.session.remove()
    checked = time.perf_counter()
    job = db.session.get(ImportJob, job_id)
    assert job.status == ImportStatus.VALIDATED, job.message
    job.status = ImportStatus.COMMITTING
    db.session.commit()
    importing.run_commit(job_id)
    db.session.remove()
    done = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    job = db.session.get(ImportJob, job_id)
    after = db.session.scalar(select(func.count()).select_from(Ticket))
    print(json.dumps({{"status": job.status, "rows": job.processed_rows, "inserted": job.inserted_rows,
        "errors": job.error_rows, "check_s": checked - started, "commit_s": done - checked,
        "total_s": done - started, "tracemalloc_peak_mb": peak / 2**20,
        "cpu_s": resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(resource.RUSAGE_SELF).ru_stime,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "added": after - before}}))
"""


def measure_import(n: int, db_path: Path, rows: int, trace: bool) -> dict:
    """A ``rows``-row import into a copy of the N-ticket database, in a subprocess."""
    from bench import datagen

    copy = OUT / f"import_{n}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(db_path, copy)
    instance = OUT / f"instance_import_{n}"
    file_path = OUT / f"import_{rows}.xlsx"
    if not file_path.exists():
        connection = sqlite3.connect(db_path)
        outlets = connection.execute(
            "SELECT o.code, o.name FROM outlets o JOIN brands b ON b.id = o.brand_id WHERE b.code = 'STO'").fetchall()
        connection.close()
        datagen.write_import_file(str(file_path), rows, outlets, ["催件", "查件", "投诉", "改地址", "拦截"])
    code = IMPORT_CHILD.format(root=str(ROOT), db=str(copy), instance=str(instance), path=str(file_path), trace=trace)
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-3000:])
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=SIZES)
    parser.add_argument("--no-import", action="store_true")
    parser.add_argument("--import-rows", type=int, default=50_000)
    parser.add_argument("--no-analyze", action="store_true", help="measure without sqlite_stat1 (no ANALYZE)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    report = {}
    for n in args.sizes:
        print(f"N = {n:,}", flush=True)
        db_path = build_database(n)
        if not args.no_analyze:
            took = ensure_statistics(db_path)
            if took:
                print(f"  ANALYZE: {took:.1f} s", flush=True)
        pages = measure_pages(n, db_path)
        imports = {}
        if not args.no_import:
            imports["timed"] = measure_import(n, db_path, args.import_rows, trace=False)
            if n == min(args.sizes):  # memory must not grow with the file: traced, full and 5× smaller
                imports["memory"] = measure_import(n, db_path, args.import_rows, trace=True)
                imports["memory_small"] = measure_import(n, db_path, args.import_rows // 5, trace=True)
        report[n] = {"pages": pages, "import": imports}
        print_table(n, pages, imports, report)
    (OUT / ("results-noanalyze.json" if args.no_analyze else "results.json")).write_text(json.dumps(report, indent=2, ensure_ascii=False))


def print_table(n: int, pages: dict, imports: dict, report: dict) -> None:
    base = report.get(min(report))["pages"]
    print(f"\n{'page (N=' + format(n, ',') + ')':<36} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'×10k p50':>9} {'SQL':>5} {'rows':>5}")
    for label, r in pages.items():
        ratio = r["p50"] / base[label]["p50"] if label in base and base[label]["p50"] else 1.0
        sql = f"{r['sql']}" if r["sql"] == r["sql_min"] else f"{r['sql_min']}-{r['sql']}"
        print(f"{label:<36} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['cpu_p50']:>8.1f} {ratio:>8.2f}× {sql:>5} {r['rows']:>5}"
              + ("" if r["status"] == 200 else f"  (HTTP {r['status']})"))
    for key, r in imports.items():
        print(f"import {r['rows']:,} rows ({key}): {r['total_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU (check {r['check_s']:.1f} s, commit "
              f"{r['commit_s']:.1f} s), {r['inserted']:,} inserted, tracemalloc peak {r['tracemalloc_peak_mb']:.1f} MB, "
              f"max RSS {r['maxrss_mb']:.0f} MB")
    print(flush=True)


if __name__ == "__main__":
    main()
