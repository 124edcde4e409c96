"""CPU per request type inside one process (no gunicorn, no sockets): where a request's time goes.

    .venv/bin/python bench/inprocess.py                       # CPU ms per request type, 30 requests each
    .venv/bin/python bench/inprocess.py --repeat 100 --only "agent: detail"
    .venv/bin/python bench/inprocess.py --profile "agent: detail"   # + cProfile's top functions
    .venv/bin/python bench/inprocess.py --calls                # + function calls per request

The same database and the same actions as ``bench/load.py`` (its Actor drives a Flask test
client instead of a socket), so a figure here is that request type's own CPU cost without
the server, the client or the other requests around it. Use it to find and check a lever;
``bench/load.py`` stays the measure of the whole.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import Actor, Response, Stats, Writes, fresh_database, load_data, session_plan  # noqa: E402


class ClientSession:
    """``bench.load.Session``'s interface over a Flask test client."""

    def __init__(self, client, stats: Stats):
        self.client, self.stats, self.csrf = client, stats, ""

    def request(self, kind, method, path, form=None, htmx=False, headers=None, expected=(200, 303),
                moved_ok=False) -> Response:
        sent = {}
        if htmx:
            sent["HX-Request"] = "true"
            sent["HX-Current-URL"] = "http://127.0.0.1/tickets/"
        if method == "POST" and self.csrf:
            sent["X-CSRFToken"] = self.csrf
        sent.update(headers or {})
        started = time.perf_counter()
        data = urllib.parse.urlencode(form) if form is not None else None
        r = self.client.open(path, method=method, data=data, headers=sent,
                             content_type="application/x-www-form-urlencoded" if data is not None else None)
        body = r.get_data(as_text=True)
        self.stats.add(kind, (time.perf_counter() - started) * 1000, r.status_code, expected, f"{method} {path}",
                       moved_ok=moved_ok)
        return Response(r.status_code, {k.lower(): v for k, v in r.headers.items()}, body)

    def take_csrf(self, body: str) -> None:
        import re

        match = re.search(r'"X-CSRFToken": "([^"]+)"', body)
        if match:
            self.csrf = match.group(1)

    def close(self) -> None:
        pass

    def login(self, username: str) -> bool:
        import re

        page = self.client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page)
        r = self.client.post("/login", data={"username": username, "password": "demo1234",
                                             "csrf_token": token.group(1) if token else ""})
        if r.status_code != 303:
            return False
        self.take_csrf(self.client.get("/").get_data(as_text=True))
        return True


def print_statements(kind: str, run) -> None:
    """The SQL statements one request of ``kind`` runs, numbered (after the warm-up requests), each
    with the time from the driver's execute to the end of the fetch that followed (on SQLite that is
    the statement's CPU in the server's process)."""
    from sqlalchemy import event

    from kdcs.extensions import db
    from wsgi import app

    seen: list[str] = []
    started: list[float] = []
    took: list[float] = []

    def on_execute(_conn, _cursor, statement, _parameters, _context, _executemany):
        if len(took) < len(started):  # the previous statement's fetch ended when this one began
            took.append(time.perf_counter() - started[-1])
        seen.append(" ".join(statement.split()))
        started.append(time.perf_counter())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    if started and len(took) < len(started):
        took.append(time.perf_counter() - started[-1])  # the last one: up to the end of the request
    print(f"--- {kind}: {len(seen)} statements (ms: from its execute to the next one's, the last to the end)")
    for n, (statement, seconds) in enumerate(zip(seen, took, strict=True), 1):
        print(f"{n:>3}. {seconds * 1000:6.2f}  {statement[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--only", action="append", default=[], help='e.g. "agent: detail" (repeatable)')
    parser.add_argument("--profile", help='cProfile this type, e.g. "agent: detail"')
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--dump", type=Path, help="also write the --profile stats here (pstats file)")
    parser.add_argument("--sql", action="store_true", help="print the SQL statements of one request of each type run")
    parser.add_argument("--agent", default="agent1",
                        help="the agent whose pages are run (bagent01…: not live yet, the new-hire home and training)")
    parser.add_argument("--calls", action="store_true",
                        help="also count Python and C function calls per request (the same on every run of the"
                             " same code and --repeat: compare two versions on a machine whose speed varies)")
    args = parser.parse_args()
    url, instance = fresh_database(None, args.tickets)
    data = load_data(url, instance, session_plan(16))
    os.environ.update({"KDCS_DATABASE_URL": url, "KDCS_INSTANCE_PATH": str(instance), "KDCS_ENV": "production",
                       "KDCS_SECRET_KEY": "inprocess-bench", "KDCS_TASKS_IMMEDIATE": "1",
                       "KDCS_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000"})
    from wsgi import app

    only = set(args.only) | ({args.profile} if args.profile else set())
    writes = Writes()
    print(f"{'type':<28} {'requests':>8} {'CPU ms':>8}" + (f" {'calls':>8}" if args.calls else ""))
    calls = [0]

    def count_calls(_frame, event, _arg):
        if event in ("call", "c_call"):
            calls[0] += 1

    for username, role in ((args.agent, "agent"), ("lead1", "lead"), ("admin", "admin")):
        stats = Stats()
        session = ClientSession(app.test_client(), stats)
        session.login(username)
        actor = Actor(session, username, role, writes, random.Random(7), data["waybills"].get(username, []),
                      data["outlets"], "inproc")
        actor.queue_page()
        actor.detail()
        for action in actor.actions:
            kind = f"{role}: {action}"
            if only and kind not in only:
                continue
            for _ in range(3):  # warm: caches, compiled templates and statements
                getattr(actor, action)()
            if args.sql:
                print_statements(kind, getattr(actor, action))
            profiler = cProfile.Profile() if kind == args.profile else None
            before = stats.total
            cpu0 = time.process_time()
            if profiler:
                profiler.enable()
            for _ in range(args.repeat):
                getattr(actor, action)()
            if profiler:
                profiler.disable()
            cpu = time.process_time() - cpu0
            n = stats.total - before
            counted = ""
            if args.calls:  # as many requests again, counted (the actor's seeded choices: the same each run)
                before, calls[0] = stats.total, 0
                sys.setprofile(count_calls)
                for _ in range(args.repeat):
                    getattr(actor, action)()
                sys.setprofile(None)
                counted = f" {calls[0] / max(1, stats.total - before):>8.0f}"
            print(f"{kind:<28} {n:>8} {cpu / max(1, n) * 1000:>8.2f}{counted}", flush=True)
            if profiler:
                if args.dump:
                    profiler.dump_stats(args.dump)
                pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
    for sample in stats.error_samples[:5]:
        print("error:", sample)


if __name__ == "__main__":
    main()
