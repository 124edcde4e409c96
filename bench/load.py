"""Load benchmark (issue 13): KDCS under gunicorn, many sessions at once, over real HTTP.

    .venv/bin/python bench/load.py                      # SQLite, 60 sessions, ~4 minutes
    .venv/bin/python bench/load.py --quick              # ~1 minute: shorter phases, 30 sessions
    .venv/bin/python bench/load.py postgresql://postgres@127.0.0.1:55453/kdcs_load   # PostgreSQL
    .venv/bin/python bench/load.py --profile            # + py-spy of the workers at saturation

1. A fresh database: SQLite in bench/out/ (copied from a template built once per
   ticket count: schema from the migrations, the demo company, reference data,
   200 outlets, 50 more agents, N tickets), or the PostgreSQL database of the URL
   (its ``public`` schema is dropped and rebuilt the same way).
2. gunicorn (``--workers 2 --threads 4``, the issue's setting) serves ``wsgi:app``
   on 127.0.0.1 with that database.
3. Phase "think": N sessions (agents, the two leads, an admin) log in, then each
   loops over a realistic mix (queue page and fragments, the refresh after a
   change, waybill search, detail page, presence poll, bell, notes, status
   changes, replies, bulk assignment, outlet edit, SOP search, leave pages) with
   a think time between requests (exponential, mean ``--think`` s).
4. Phase "saturation": the same mix without think time from
   ``--saturation-sessions`` sessions (enough to keep 8 server threads busy).
5. Ceiling: a bare Flask page on the same gunicorn settings, same client.
6. Prints p50/p95/p99, count, errors and 409s per request type, throughput
   (and as a share of the ceiling), server CPU per request (utime+stime of the
   gunicorn processes from /proc over the requests served), then checks in the
   database that every acknowledged write (2xx/303) is stored exactly once and
   none that was refused is stored.
7. Samples each worker's resident memory (RSS) every 15 s and prints the first,
   largest and last sample of each phase (a soak: ``--skip types,saturation,ceiling
   --think-seconds 900``).

Only 127.0.0.1 is contacted; every loop is bounded by a deadline and a request count.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
EXTRA_AGENTS = 50
EXTRA_OUTLETS = 160
MAX_REQUESTS_PER_SESSION = 20_000  # a hard bound besides the deadline
_MARKERS = __import__("itertools").count(1)  # every write's text is unique in the run
SOP_WORDS = ["破损", "催件", "拒收", "理赔", "延误", "改地址", "拦截", "投诉"]


# --------------------------------------------------------------------------- the ceiling


def ceiling():
    """A bare Flask app with one constant page (``gunicorn 'bench.load:ceiling()'``)."""
    from flask import Flask

    app = Flask("ceiling")
    page = "<!doctype html><title>ceiling</title>" + "<p>constant page</p>" * 100

    @app.get("/")
    def index():
        return page

    from kdcs.gc_tuning import tune_for_serving

    tune_for_serving()  # the same process settings as wsgi.py
    return app


# --------------------------------------------------------------------------- database


def _app(url: str, instance: Path):
    os.environ.setdefault("KDCS_ENV", "bench")
    from kdcs import create_app

    return create_app({"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                       "KDCS_UPLOAD_DIR": str(instance / "uploads")})


class _QmarkConnection:
    """A psycopg connection that takes the sqlite3 ``?`` placeholders bench/datagen.py writes."""

    def __init__(self, connection):
        self.connection = connection

    def cursor(self):
        outer = self

        class Cursor:
            def __init__(self):
                self.cursor = outer.connection.cursor()

            def execute(self, sql, params=()):
                self.cursor.execute(sql.replace("?", "%s"), params)
                return self

            def executemany(self, sql, rows):
                self.cursor.executemany(sql.replace("?", "%s"), rows)
                return self

            def fetchone(self):
                return self.cursor.fetchone()

        return Cursor()

    def execute(self, sql, params=()):
        return self.cursor().execute(sql, params)

    def commit(self):
        self.connection.commit()

    def close(self):
        self.connection.close()


def seed(url: str, instance: Path, n_tickets: int) -> None:
    """Schema, the demo company, reference data, more outlets and agents, ``n_tickets`` tickets."""
    from bench import datagen

    app = _app(url, instance)
    with app.app_context():
        from flask_migrate import upgrade
        from sqlalchemy import select

        from kdcs.demo import seed_demo
        from kdcs.extensions import db
        from kdcs.models import Role, Team, User
        from kdcs.tickets.reference import seed_reference_data

        upgrade()
        seed_demo()
        seed_reference_data(calendar=True)
        teams = list(db.session.scalars(select(Team).order_by(Team.id)))
        template = db.session.scalar(select(User).where(User.username == "agent1"))
        for i in range(1, EXTRA_AGENTS + 1):  # same password as the demo: no 50 slow hashes
            db.session.add(User(username=f"bagent{i:02d}", display_name=f"压测{i:02d}", role=Role.AGENT,
                                team_id=teams[i % len(teams)].id, password_hash=template.password_hash))
        db.session.commit()
        outlets, reasons, rules = datagen.ticket_inputs(db, EXTRA_OUTLETS)
        db.session.remove()
        db.engine.dispose()
    if url.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        datagen.generate_tickets(connection, n_tickets, outlets, reasons, rules)
        connection.execute("ANALYZE")
        connection.commit()
        connection.close()
    else:
        import psycopg

        raw = psycopg.connect(_libpq(url))
        raw.execute("SET TIME ZONE 'UTC'")
        datagen.generate_tickets(_QmarkConnection(raw), n_tickets, outlets, reasons, rules)
        raw.execute("ANALYZE")
        raw.commit()
        raw.close()
    _recount(url, instance)


def _recount(url: str, instance: Path) -> None:
    """Counters kept by the app (if any) rebuilt after the raw bulk insert of the tickets."""
    app = _app(url, instance)
    with app.app_context():
        try:
            from kdcs.tickets import counts
        except ImportError:
            return
        from kdcs.extensions import db

        counts.rebuild()
        db.session.commit()
        db.engine.dispose()


def _libpq(url: str) -> str:
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def server_python() -> str:
    """The interpreter gunicorn runs on (.venv's): its version and the executable the venv was
    built from. The figures depend on it: a distribution's build with PGO and LTO (Debian's
    /usr/bin/python3.11) needs ~15 % less CPU a request than a plain source build (pyenv's default)."""
    found = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c",
                            "import platform, sys; print(platform.python_version(), sys._base_executable)"],
                           capture_output=True, text=True, check=False)
    return found.stdout.strip() or "unknown"


def fresh_database(url: str | None, n_tickets: int) -> tuple[str, Path]:
    """The URL of a freshly seeded database and its instance folder."""
    OUT.mkdir(parents=True, exist_ok=True)
    instance = OUT / "load_instance"
    shutil.rmtree(instance, ignore_errors=True)
    instance.mkdir(parents=True)
    if url:
        import psycopg

        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            conn.execute("CREATE SCHEMA public")
        started = time.perf_counter()
        seed(url, instance, n_tickets)
        print(f"seeded PostgreSQL with {n_tickets:,} tickets in {time.perf_counter() - started:.0f} s", flush=True)
        return url, instance
    import hashlib

    # keyed by the migrations' text: a template built before a migration changed is not reused
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted((ROOT / "migrations" / "versions").glob("*.py"))))
    for old in OUT.glob(f"load_{n_tickets}.*.template.sqlite3"):
        if digest.hexdigest()[:10] not in old.name:
            old.unlink()
    template = OUT / f"load_{n_tickets}.{digest.hexdigest()[:10]}.template.sqlite3"
    if not template.exists():
        building = OUT / f"load_{n_tickets}.building.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)
        started = time.perf_counter()
        seed(f"sqlite:///{building}", instance, n_tickets)
        building.rename(template)
        for suffix in ("-wal", "-shm"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)
        print(f"built {template.name} in {time.perf_counter() - started:.0f} s", flush=True)
    db_path = OUT / "load_run.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, db_path)
    return f"sqlite:///{db_path}", instance


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """gunicorn on 127.0.0.1 with the issue's settings; CPU time of its processes from /proc."""

    def __init__(self, app_spec: str, env: dict[str, str], workers: int, threads: int, log: Path):
        self.port = free_port()
        self.log = log
        self.process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(workers), "--threads", str(threads),
             "--bind", f"{HOST}:{self.port}", "--keep-alive", "30", "--timeout", "60", "--log-level", "warning",
             app_spec],
            cwd=ROOT, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {log.read_text()[-3000:]}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        self._wait_until_idle()  # the workers booted (each compiles every template first: wsgi.py)

    def _wait_until_idle(self, seconds: float = 60) -> None:
        deadline, last = time.monotonic() + seconds, self.cpu_seconds()
        time.sleep(1.0)
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.cpu_seconds()
            if now - last < 0.05:
                return
            last = now

    def pids(self) -> list[int]:
        pids = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.append(int(entry.name))
        return pids

    def cpu_seconds(self) -> float:
        return sum(self.cpu_split())

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each worker (the master's children), MB, from /proc."""
        sizes = []
        for pid in self.pids()[1:]:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return sorted(sizes)

    def cpu_split(self) -> tuple[float, float]:
        """(user, system) CPU seconds of gunicorn and its workers."""
        ticks = os.sysconf("SC_CLK_TCK")
        user = system = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            user, system = user + int(fields[11]), system + int(fields[12])  # utime, stime (fields 14, 15)
        return user / ticks, system / ticks

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --------------------------------------------------------------------------- client


@dataclass
class Stats:
    """Latencies and outcomes per request type (thread-safe)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    errors: dict[str, int] = field(default_factory=collections.Counter)
    conflicts: dict[str, int] = field(default_factory=collections.Counter)
    moved: dict[str, int] = field(default_factory=collections.Counter)  # 404: a lead moved the ticket away
    error_samples: list[str] = field(default_factory=list)

    def add(self, kind: str, ms: float, status: int, expected=(200, 303), detail: str = "", moved_ok=False) -> None:
        with self.lock:
            self.times[kind].append(ms)
            if status == 409:
                self.conflicts[kind] += 1
            elif status == 404 and moved_ok:
                self.moved[kind] += 1
            elif status not in expected:
                self.errors[kind] += 1
                if len(self.error_samples) < 20:
                    self.error_samples.append(f"{kind}: HTTP {status} {detail}")

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.times.values())


@dataclass
class Writes:
    """Every write the client sent and what the server answered (checked in the database later)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    notes: dict[str, bool] = field(default_factory=dict)  # marker -> acknowledged
    replies: dict[str, bool] = field(default_factory=dict)
    statuses: dict[str, bool] = field(default_factory=dict)
    bulk: dict[str, int] = field(default_factory=dict)  # marker -> tickets reported changed (-1: no answer)
    outlets: dict[int, str] = field(default_factory=dict)  # outlet id -> last acknowledged notes
    outlet_pending: dict[int, set] = field(default_factory=lambda: collections.defaultdict(set))
    moved: list[tuple[str, int]] = field(default_factory=list)  # (username, ticket) answered 404

    def record(self, kind: str, marker: str, ok) -> None:
        with self.lock:
            getattr(self, kind)[marker] = ok


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: str):
        self.status, self.headers, self.body = status, headers, body

    @property
    def acknowledged(self) -> bool:
        """A write the server says it did: a 303, or 200 with the ``tickets-changed`` event
        (a 200 without it is the form again with its errors)."""
        return self.status == 303 or (self.status == 200 and "tickets-changed" in self.headers.get("hx-trigger", ""))


class Session:
    """One browser: a keep-alive connection, the session cookie, the CSRF token."""

    def __init__(self, port: int, stats: Stats):
        self.port, self.stats = port, stats
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.conn: http.client.HTTPConnection | None = None

    def request(self, kind: str, method: str, path: str, form: list[tuple[str, str]] | None = None,
                htmx: bool = False, headers: dict | None = None, expected=(200, 303), moved_ok=False) -> Response:
        """``moved_ok``: a 404 is a ticket that was moved out of this user's queue (counted apart,
        and checked against the database afterwards), not an error."""
        body = urllib.parse.urlencode(form) if form is not None else None
        sent = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Accept-Encoding": "identity"}
        if htmx:
            sent["HX-Request"] = "true"
            sent["HX-Current-URL"] = f"http://{HOST}:{self.port}/tickets/"
        if method == "POST":
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            if self.csrf:
                sent["X-CSRFToken"] = self.csrf
        sent.update(headers or {})
        started = time.perf_counter()
        try:
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=sent)
                raw = self.conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server had just closed: a GET is sent again on a
                # new one, as browsers do; a POST is not (it might have been received).
                if not reused or method != "GET":
                    raise
                self.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
                self.conn.request(method, path, body=body, headers=sent)
                raw = self.conn.getresponse()
            data = raw.read().decode("utf-8", "replace")
            status = raw.status
            got = {k.lower(): v for k, v in raw.getheaders()}
            for name, value in raw.getheaders():
                if name.lower() == "set-cookie":
                    pair = value.split(";", 1)[0]
                    key, _, val = pair.partition("=")
                    self.cookies[key.strip()] = val.strip()
            if got.get("connection", "").lower() == "close":
                self.close()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            self.stats.add(kind, (time.perf_counter() - started) * 1000, 0, expected, repr(exc))
            return Response(0, {}, "")
        self.stats.add(kind, (time.perf_counter() - started) * 1000, status, expected,
                       f"{method} {path} {data[:200]!r}", moved_ok=moved_ok)
        return Response(status, got, data)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def login(self, username: str) -> bool:
        page = self.request("login page", "GET", "/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.body) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page.body)
        form = [("username", username), ("password", "demo1234"), ("csrf_token", token.group(1) if token else "")]
        response = self.request("login", "POST", "/login", form)
        if response.status != 303:
            return False
        home = self.request("home", "GET", "/")
        self.take_csrf(home.body)
        return True

    def take_csrf(self, body: str) -> None:
        match = re.search(r'"X-CSRFToken": "([^"]+)"', body)
        if match:
            self.csrf = match.group(1)


TICKET_LINK = re.compile(r'<tr id="ticket-(\d+)"')
ROW_VERSION = re.compile(r'name="v(\d+)" value="(\d+)"')


def _select_options(body: str, name: str) -> list[str]:
    match = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', body, re.S)
    return re.findall(r'<option[^>]*value="([^"]*)"', match.group(1)) if match else []


def _input_value(body: str, name: str) -> str | None:
    for tag in re.findall(r"<input[^>]*>", body):
        if f'name="{name}"' in tag:
            value = re.search(r'value="([^"]*)"', tag)
            return value.group(1) if value else ""
    return None


def _form_fields(body: str) -> list[tuple[str, str]]:
    """Name/value pairs a browser would post from the first form in ``body`` (inputs, selects, textareas)."""
    import html

    match = re.search(r"<form\b.*?</form>", body, re.S)
    text = match.group(0) if match else body
    fields = []
    for tag in re.findall(r"<input[^>]*>", text):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or re.search(r'type="(checkbox|radio|submit|button|file)"', tag):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields.append((name.group(1), html.unescape(value.group(1)) if value else ""))
    for name, inner in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', text, re.S):
        chosen = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', inner) or re.search(
            r'<option[^>]*value="([^"]*)"', inner)
        fields.append((name, html.unescape(chosen.group(1)) if chosen else ""))
    for name, inner in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', text, re.S):
        fields.append((name, html.unescape(inner.lstrip("\n"))))
    return fields


class Actor:
    """What one person does: a weighted mix of the pages and actions of their role."""

    def __init__(self, session: Session, username: str, role: str, writes: Writes, rng: random.Random,
                 waybills: list[str], outlet_ids: list[int], run: str):
        self.s, self.username, self.role, self.writes, self.rng = session, username, role, writes, rng
        self.waybills, self.outlet_ids, self.run = waybills, outlet_ids, run
        self.tickets: list[int] = []
        self.versions: dict[int, int] = {}
        self.assignees: list[str] = []
        self.current: int | None = None
        self.current_version: int | None = None
        self.detail_body = ""
        self.seq = 0
        mixes = {
            # per minute of an agent's work: ~6 presence polls (every 10 s on an open ticket),
            # ~2 bell polls (every 30 s), a few pages and fragments, a write now and then
            "agent": {"queue_page": 3, "queue_fragment": 8, "search": 4, "detail": 8, "presence": 36, "bell": 14,
                      "note": 4, "status": 3, "reply": 3, "sop_search": 2, "leave": 1, "home": 1},
            "lead": {"queue_page": 5, "queue_fragment": 10, "search": 2, "detail": 6, "presence": 24, "bell": 14,
                     "note": 2, "bulk_assign": 4, "leave": 2, "home": 2, "sop_search": 1, "quality": 1},
            "admin": {"queue_page": 4, "queue_fragment": 6, "detail": 4, "presence": 12, "bell": 14,
                      "outlet_edit": 6, "home": 2, "sop_search": 1},
        }[role]
        self.actions, self.weights = list(mixes), list(mixes.values())

    def marker(self, kind: str) -> str:
        return f"压测 {self.run} {self.username} {kind} {next(_MARKERS)}"

    def step(self) -> None:
        action = self.rng.choices(self.actions, self.weights)[0]
        if action in ("detail", "presence", "note", "status", "reply") and not self.tickets:
            action = "queue_page"
        if action in ("presence", "note", "status", "reply") and self.current is None:
            action = "detail"
        getattr(self, action)()

    # reads
    def queue_page(self) -> None:
        r = self.s.request("queue page (full)", "GET", "/tickets/")
        self.s.take_csrf(r.body)
        self._take_rows(r.body)
        if self.role == "lead":
            self.assignees = [v for v in _select_options(r.body, "assignee_id") if v]

    def _take_rows(self, body: str) -> None:
        ids = [int(i) for i in TICKET_LINK.findall(body)]
        if ids:
            self.tickets = ids
        self.versions.update({int(i): int(v) for i, v in ROW_VERSION.findall(body)})

    def queue_fragment(self) -> None:
        choice = self.rng.choice([
            "category=problem", "category=message", "category=work_order", "window=overdue", "window=today",
            "sort=registered", "page=2", "direction=inbound", "status=in_progress", ""])
        scope = {"agent": "mine", "lead": "team", "admin": "all"}[self.role]
        r = self.s.request("queue fragment (filter)", "GET", f"/tickets/?scope={scope}&{choice}", htmx=True)
        self._take_rows(r.body)

    def queue_refresh(self) -> None:
        """What htmx asks after a change: the table with the tab counts."""
        self.s.request("queue refresh (with counts)", "GET", "/tickets/?counts=1", htmx=True,
                       headers={"HX-Trigger": "ticket-table"})

    def search(self) -> None:
        waybill = self.rng.choice(self.waybills) if self.waybills else "7701"
        q = waybill if self.rng.random() < 0.5 else waybill[:6]
        self.s.request("waybill search", "GET", f"/tickets/?q={urllib.parse.quote(q)}", htmx=True)

    def detail(self) -> None:
        ticket_id = self.rng.choice(self.tickets)
        r = self.s.request("ticket detail (full)", "GET", f"/tickets/{ticket_id}", moved_ok=True)
        if r.status == 404:
            self._moved(ticket_id)
        if r.status == 200:
            self.s.take_csrf(r.body)
            self._take_detail(ticket_id, r.body)
        else:
            self.current = None

    def _take_detail(self, ticket_id: int, body: str) -> None:
        version = _input_value(body, "status-version")
        self.current = ticket_id
        self.current_version = int(version) if version and version.isdigit() else None
        self.detail_body = body

    def presence(self) -> None:
        r = self.s.request("presence poll", "GET",
                           f"/tickets/{self.current}/presence?version={self.current_version or 0}",
                           htmx=True, moved_ok=True)
        if r.status == 404:
            self._moved(self.current)

    def _moved(self, ticket_id: int) -> None:
        """A lead's bulk assignment moved the ticket out of this agent's queue: forget it."""
        with self.writes.lock:
            self.writes.moved.append((self.username, ticket_id))
        if ticket_id in self.tickets:
            self.tickets.remove(ticket_id)
        if self.current == ticket_id:
            self.current = None

    def bell(self) -> None:
        self.s.request("bell poll", "GET", "/notifications/bell", htmx=True)

    def sop_search(self) -> None:
        q = urllib.parse.quote(self.rng.choice(SOP_WORDS))
        self.s.request("SOP search", "GET", f"/sop/?q={q}", htmx=True)

    def leave(self) -> None:
        path = self.rng.choice(["/leave/", "/leave/calendar"])
        self.s.request("leave pages", "GET", path)

    def home(self) -> None:
        self.s.request("home page", "GET", "/")

    def quality(self) -> None:
        """A lead's 质检 sheet: the team's week with its reviews (a lead opens it a few times a day)."""
        self.s.request("quality sheet", "GET", "/quality/")

    # writes
    def _after_write(self, ticket_id: int, r: Response) -> None:
        """The answer is the ticket's new body (the detail page has no queue table to refresh), or
        for a note on an unchanged ticket only its timeline line and a fresh note box (retargeted
        to ``#act-note``): the page stays, and so does its version (the box carries it);
        a 404 is a ticket a lead moved out of this agent's queue before the write (nothing stored)."""
        if r.status == 404:
            self._moved(ticket_id)
        elif r.status == 200 and r.headers.get("hx-retarget") == "#act-note":
            version = _input_value(r.body, "note-version")
            if version and version.isdigit():
                self.current_version = int(version)
        elif r.status in (200, 409) and r.body:
            self._take_detail(ticket_id, r.body)

    def note(self) -> None:
        marker = self.marker("note")
        ticket_id = self.current
        r = self.s.request("write: note", "POST", f"/tickets/{ticket_id}/note", [
            ("note-body", marker), ("note-version", str(self.current_version or "")),
            ("note-key", uuid.uuid4().hex)], htmx=True, moved_ok=True)
        self.writes.record("notes", marker, r.acknowledged)
        self._after_write(ticket_id, r)

    def status(self) -> None:
        options = [o for o in _select_options(self.detail_body, "status-to_status") if o and o != "closed"]
        if not options:
            return self.note()
        marker = self.marker("status")
        ticket_id = self.current
        r = self.s.request("write: status change", "POST", f"/tickets/{ticket_id}/status", [
            ("status-to_status", self.rng.choice(options)), ("status-note", marker),
            ("status-version", str(self.current_version or ""))], htmx=True, expected=(200, 303), moved_ok=True)
        self.writes.record("statuses", marker, r.acknowledged)
        self._after_write(ticket_id, r)

    def reply(self) -> None:
        channels = [c for c in _select_options(self.detail_body, "reply-channel") if c]
        if not channels:
            return self.note()
        marker = self.marker("reply")
        ticket_id = self.current
        r = self.s.request("write: reply", "POST", f"/tickets/{ticket_id}/replies", [
            ("reply-channel", channels[0]), ("reply-body", marker), ("reply-corrects_id", "0"),
            ("reply-set_status", ""), ("reply-key", uuid.uuid4().hex),
            ("reply-version", str(self.current_version or ""))], htmx=True, moved_ok=True)
        self.writes.record("replies", marker, r.acknowledged)
        self._after_write(ticket_id, r)

    def bulk_assign(self) -> None:
        if not self.assignees or not self.tickets:
            return self.queue_page()
        chosen = self.rng.sample(self.tickets, min(3, len(self.tickets)))
        marker = self.marker("bulk")
        form = [("action", "assign"), ("assignee_id", self.rng.choice(self.assignees)), ("note", marker),
                ("csrf_token", self.s.csrf)]
        for ticket_id in chosen:
            form.append(("ids", str(ticket_id)))
            if ticket_id in self.versions:
                form.append((f"v{ticket_id}", str(self.versions[ticket_id])))
        r = self.s.request("write: bulk assign", "POST", "/tickets/bulk", form, htmx=True)
        changed = r.body.count('<li class="ok">') if r.status == 200 else -1
        self.writes.record("bulk", marker, changed)
        if r.status == 200:
            self.queue_refresh()

    def outlet_edit(self) -> None:
        outlet_id = self.rng.choice(self.outlet_ids)
        r = self.s.request("outlet edit form", "GET", f"/admin/outlets/{outlet_id}/edit", htmx=True)
        if r.status != 200:
            return
        fields = [(k, v) for k, v in _form_fields(r.body) if k != "notes"]
        marker = self.marker("outlet")
        fields.append(("notes", marker))
        with self.writes.lock:
            self.writes.outlet_pending[outlet_id].add(marker)
        saved = self.s.request("write: outlet edit", "POST", f"/admin/outlets/{outlet_id}/edit", fields, htmx=True)
        if saved.status == 303 or (saved.status == 200 and "toast" in saved.headers.get("hx-trigger", "")):
            with self.writes.lock:
                self.writes.outlets[outlet_id] = marker


def run_sessions(port: int, plan: list[tuple[str, str]], stats: Stats, writes: Writes, seconds: float,
                 think: float, data: dict, run: str, seed: int, on_start=None) -> None:
    """Log every session in (not counted), then let each run its mix until the deadline;
    ``on_start()`` is called when the mix starts."""
    barrier = threading.Barrier(len(plan) + 1)
    deadline = [0.0]

    def worker(index: int, username: str, role: str) -> None:
        rng = random.Random(seed * 1000 + index)
        session = Session(port, Stats())
        ok = session.login(username)
        actor = Actor(session, username, role, writes, rng, data["waybills"].get(username, []),
                      data["outlets"], run)
        if ok:
            actor.queue_page()
        session.stats = stats
        try:
            barrier.wait(timeout=300)
        except threading.BrokenBarrierError:
            return
        if not ok:
            return
        if think:
            time.sleep(rng.uniform(0, think))  # no synchronized first wave
        for _ in range(MAX_REQUESTS_PER_SESSION):
            if time.monotonic() >= deadline[0]:
                break
            actor.step()
            if think:
                time.sleep(min(rng.expovariate(1 / think), think * 5))
        session.close()

    threads = [threading.Thread(target=worker, args=(i, u, r), daemon=True) for i, (u, r) in enumerate(plan)]
    for t in threads:
        t.start()
    barrier.wait(timeout=300)
    if on_start:
        on_start()
    deadline[0] = time.monotonic() + seconds
    for t in threads:
        t.join(timeout=seconds + 120)


def cpu_by_type(server: Server, writes: Writes, data: dict, run: str, repeat: int) -> dict:
    """One session at a time, each action ``repeat`` times in a row: server CPU per request of each type."""
    result: dict[str, dict] = {}
    for username, role in (("agent1", "agent"), ("lead1", "lead"), ("admin", "admin")):
        session = Session(server.port, Stats())
        session.login(username)
        actor = Actor(session, username, role, writes, random.Random(7), data["waybills"].get(username, []),
                      data["outlets"], run)
        actor.queue_page()
        actor.detail()
        for action in actor.actions:
            stats = Stats()
            session.stats = stats
            cpu0 = server.cpu_seconds()
            for _ in range(repeat):
                getattr(actor, action)()
                if action in ("note", "status", "reply"):
                    actor.detail()  # a fresh version for the next write (counted with it)
            cpu = server.cpu_seconds() - cpu0
            result[f"{role}: {action}"] = {"requests": stats.total, "cpu_ms": cpu / max(1, stats.total) * 1000,
                                           "p50": percentile([t for v in stats.times.values() for t in v], 50)}
        session.close()
    print(f"\nserver CPU per request by type (one session at a time, {repeat}× each; a write is counted"
          " with the detail page opened before the next one)")
    print(f"{'type':<30} {'requests':>8} {'CPU ms':>8} {'p50 ms':>8}")
    for kind, row in result.items():
        print(f"{kind:<30} {row['requests']:>8} {row['cpu_ms']:>8.2f} {row['p50']:>8.1f}")
    return result


def run_ceiling(port: int, stats: Stats, seconds: float, concurrency: int) -> None:
    deadline = time.monotonic() + seconds

    def worker() -> None:
        session = Session(port, stats)
        for _ in range(200_000):
            if time.monotonic() >= deadline:
                break
            session.request("bare Flask page", "GET", "/")
        session.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)


# --------------------------------------------------------------------------- checks and report


def session_plan(n: int) -> list[tuple[str, str]]:
    """n sessions: one admin, three per lead, the rest agents (demo agents, then bench agents)."""
    plan = [("admin", "admin")]
    leads = [("lead1", "lead"), ("lead2", "lead")]
    plan += [leads[i % 2] for i in range(min(6, max(0, n - 1)))]
    agents = [f"agent{i}" for i in range(1, 13)] + [f"bagent{i:02d}" for i in range(1, EXTRA_AGENTS + 1)]
    i = 0
    while len(plan) < n:
        plan.append((agents[i % len(agents)], "agent"))
        i += 1
    return plan[:n]


def load_data(url: str, instance: Path, plan) -> dict:
    """Waybills of each agent's own tickets (for searches) and the outlet ids (for the admin's edits)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    waybills: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for username, role in plan:
            if role != "agent" or username in waybills:
                continue
            waybills[username] = [w for (w,) in conn.execute(text(
                "SELECT t.waybill_no FROM tickets t JOIN outlets o ON o.id = t.outlet_id JOIN users u"
                " ON u.id = o.primary_agent_id WHERE u.username = :u ORDER BY t.id DESC LIMIT 50"), {"u": username})]
        outlets = [i for (i,) in conn.execute(text("SELECT id FROM outlets ORDER BY id LIMIT 40"))]
    engine.dispose()
    return {"waybills": waybills, "outlets": outlets}


def verify_writes(url: str, writes: Writes) -> dict:
    """Every acknowledged write stored exactly once; nothing stored for a refused one."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    problems: list[str] = []
    checked = collections.Counter()
    with engine.connect() as conn:
        def counts(sql: str) -> dict[str, int]:
            return collections.Counter(body for (body,) in conn.execute(text(sql), {"p": "压测 %"}))

        notes = counts("SELECT body FROM ticket_events WHERE kind = 'note' AND body LIKE :p")
        replies = counts("SELECT body FROM ticket_replies WHERE body LIKE :p")
        statuses = counts("SELECT body FROM ticket_events WHERE kind = 'status' AND body LIKE :p")
        assigns = collections.Counter()
        per_ticket = collections.Counter()
        for ticket_id, body in conn.execute(text(
                "SELECT ticket_id, body FROM ticket_events WHERE kind = 'assign' AND body LIKE :p"), {"p": "压测 %"}):
            assigns[body] += 1
            per_ticket[(ticket_id, body)] += 1
        outlet_notes = dict(conn.execute(text("SELECT id, notes FROM outlets")).all())
        reassigned = {ticket_id for (ticket_id,) in conn.execute(text(
            "SELECT DISTINCT ticket_id FROM ticket_events WHERE kind = 'assign' AND body LIKE :p"), {"p": "压测 %"})}
    engine.dispose()
    for username, ticket_id in writes.moved:  # a 404 is only right for a ticket a lead moved away
        checked["404 after a move"] += 1
        if ticket_id not in reassigned:
            problems.append(f"{username} got 404 for ticket {ticket_id}, which nobody reassigned")
    for kind, sent, stored in (("note", writes.notes, notes), ("reply", writes.replies, replies),
                               ("status change", writes.statuses, statuses)):
        for marker, acked in sent.items():
            n = stored.get(marker, 0)
            checked[kind] += 1
            if acked and n != 1:
                problems.append(f"{kind} acknowledged, stored {n}×: {marker}")
            elif not acked and n > 1:
                problems.append(f"{kind} refused, stored {n}×: {marker}")
    for marker, changed in writes.bulk.items():
        checked["bulk assign"] += 1
        if changed >= 0 and assigns.get(marker, 0) != changed:
            problems.append(f"bulk assign reported {changed} changed, stored {assigns.get(marker, 0)}: {marker}")
    problems += [f"bulk assign stored {n}× on ticket {t}: {m}" for (t, m), n in per_ticket.items() if n > 1]
    for outlet_id, marker in writes.outlets.items():
        checked["outlet edit"] += 1
        if outlet_notes.get(outlet_id) != marker and outlet_notes.get(outlet_id) not in writes.outlet_pending[outlet_id]:
            problems.append(f"outlet {outlet_id}: last acknowledged edit {marker!r}, stored {outlet_notes.get(outlet_id)!r}")
    return {"checked": dict(checked), "problems": problems}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))] if ordered else 0.0


def table(title: str, stats: Stats, seconds: float, cpu: float | None) -> dict:
    print(f"\n{title}")
    print(f"{'request type':<30} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6} {'409':>5}"
          f" {'moved':>5}")
    rows = {}
    for kind in sorted(stats.times):
        values = stats.times[kind]
        row = {"count": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
               "p99": percentile(values, 99), "errors": stats.errors.get(kind, 0), "conflicts": stats.conflicts.get(kind, 0),
               "moved": stats.moved.get(kind, 0)}
        rows[kind] = row
        print(f"{kind:<30} {row['count']:>6} {row['p50']:>8.1f} {row['p95']:>8.1f} {row['p99']:>8.1f} "
              f"{row['errors']:>6} {row['conflicts']:>5} {row['moved']:>5}")
    total = stats.total
    summary = {"requests": total, "seconds": seconds, "rps": total / seconds if seconds else 0,
               "errors": sum(stats.errors.values()), "conflicts": sum(stats.conflicts.values()),
               "moved": sum(stats.moved.values()), "types": rows}
    if cpu is not None and total:
        summary["cpu_ms_per_request"] = cpu / total * 1000
    print(f"{'all':<30} {total:>6}   {summary['rps']:.1f} req/s"
          + (f", server CPU {summary['cpu_ms_per_request']:.2f} ms/request" if "cpu_ms_per_request" in summary else "")
          + f", errors {summary['errors']}, 409 {summary['conflicts']}, 404 after a lead moved the ticket"
            f" {summary['moved']}")
    for sample in stats.error_samples[:5]:
        print("  e.g.", sample[:300])
    return summary


def profile_workers(server: Server, seconds: float, out: Path) -> list[subprocess.Popen]:
    """py-spy (dev extra ``bench``) on each worker during the saturation phase, GIL-holding samples only."""
    spy = ROOT / ".venv" / "bin" / "py-spy"
    if not spy.exists():
        print("py-spy not installed (.venv/bin/pip install -e '.[bench]'): no profile", flush=True)
        return []
    procs = []
    for old in out.parent.glob(out.stem + ".*.txt"):
        old.unlink()
    for pid in server.pids()[1:]:
        procs.append(subprocess.Popen([str(spy), "record", "--pid", str(pid), "--duration", str(int(seconds)),
                                       "--rate", "200", "--gil", "--nonblocking", "--format", "raw",
                                       "--output", str(out.with_suffix(f".{pid}.txt"))],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


def summarize_profile(out: Path, top: int = 25) -> None:
    """Self and total share of the sampled frames (collapsed stacks from py-spy's raw format)."""
    own, total, samples = collections.Counter(), collections.Counter(), 0
    for path in out.parent.glob(out.name.replace(".txt", "") + ".*.txt"):
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            samples += n
            frames = [re.sub(r" \((.*?):\d+\)$", r" (\1)", f) for f in stack.split(";")]
            frames = [f.replace(str(ROOT) + "/", "").replace(".venv/lib/python3.11/site-packages/", "") for f in frames]
            if frames:
                own[frames[-1]] += n
            for f in set(frames):
                total[f] += n
            for pkg, label in (("sqlalchemy/", "[sqlalchemy]"), ("jinja2/", "[jinja2]"), ("markupsafe", "[markupsafe]"),
                               ("werkzeug/", "[werkzeug]"), ("flask", "[flask*]"), ("kdcs/", "[kdcs]"),
                               ("wtforms", "[wtforms]"), ("babel", "[babel]")):
                if any(pkg in f for f in frames[-1:]):
                    own[label] += n
    if not samples:
        print("no profile samples")
        return
    print(f"\nprofile: {samples} samples with the GIL held (both workers); self time by package (leaf frame):")
    for label, n in sorted(((k, v) for k, v in own.items() if k.startswith("[")), key=lambda kv: -kv[1]):
        print(f"  {n / samples:6.1%}  {label}")
    print("top functions by self time:")
    for name, n in [(k, v) for k, v in own.most_common() if not k.startswith("[")][:top]:
        print(f"  {n / samples:6.1%}  {name}")
    print("top functions by total time:")
    for name, n in [(k, v) for k, v in total.most_common() if not k.startswith("[")][:top]:
        print(f"  {n / samples:6.1%}  {name}")


class MemoryWatch:
    """Samples the workers' resident memory every ``every`` seconds while the benchmark runs (the
    GC thresholds are raised for speed: memory must level off, not grow with the requests served)."""

    def __init__(self, server: Server, every: float = 15):
        self.server, self.every, self.phase = server, every, "start"
        self.samples: list[tuple[float, str, list[float]]] = []
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.every):
                return

    def sample(self) -> None:
        rss = self.server.worker_rss_mb()
        if rss:
            self.samples.append((time.monotonic() - self._started, self.phase, rss))

    def stop(self) -> dict:
        """Stop sampling; print and return the first, largest and last sample of each phase."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()
        report: dict[str, dict] = {}
        print("\nworker memory (RSS, MB, each worker), sampled every "
              f"{self.every:.0f} s: first / largest / last of each phase")
        for phase in dict.fromkeys(phase for _t, phase, _rss in self.samples):
            rows = [(t, rss) for t, p, rss in self.samples if p == phase]
            first, last = rows[0][1], rows[-1][1]
            peak = max(rows, key=lambda row: sum(row[1]))[1]
            report[phase] = {"first": first, "peak": peak, "last": last, "samples": len(rows),
                             "seconds": rows[-1][0] - rows[0][0]}
            show = lambda values: " + ".join(f"{v:.0f}" for v in values)  # noqa: E731
            print(f"  {phase:<11} {show(first):>11} / {show(peak):>11} / {show(last):>11}"
                  f"   ({len(rows)} samples over {rows[-1][0] - rows[0][0]:.0f} s)")
        return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", nargs="?", help="PostgreSQL URL (its public schema is rebuilt); default SQLite")
    parser.add_argument("--sessions", type=int, default=60)
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--think", type=float, default=2.0, help="mean think time between requests (s)")
    parser.add_argument("--think-seconds", type=float, default=90)
    parser.add_argument("--saturation-sessions", type=int, default=16)
    parser.add_argument("--saturation-seconds", type=float, default=45)
    parser.add_argument("--ceiling-seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="short phases, 30 sessions (about a minute)")
    parser.add_argument("--profile", action="store_true", help="py-spy the workers during saturation")
    parser.add_argument("--skip", default="", help="comma list of phases to skip: types,think,saturation,ceiling")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    if args.database and not args.database.startswith("postgresql"):
        parser.error("the database argument is a postgresql:// URL (SQLite is the default)")
    if args.database and urllib.parse.urlsplit(args.database).hostname not in (HOST, "localhost"):
        parser.error("only a database on 127.0.0.1")
    if args.quick:
        args.sessions = min(args.sessions, 30)
        args.think_seconds, args.saturation_seconds, args.ceiling_seconds = 25, 15, 8
    skip = set(filter(None, args.skip.split(",")))
    url, instance = fresh_database(args.database, args.tickets)
    plan = session_plan(args.sessions)
    data = load_data(url, instance, plan)
    env = {"KDCS_DATABASE_URL": url, "KDCS_INSTANCE_PATH": str(instance), "KDCS_ENV": "production",
           "KDCS_SECRET_KEY": secrets.token_hex(32), "KDCS_TASKS_IMMEDIATE": "1",
           "KDCS_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000"}
    run = uuid.uuid4().hex[:6]
    report = {"database": "postgresql" if args.database else "sqlite", "sessions": args.sessions,
              "tickets": args.tickets, "workers": args.workers, "threads": args.threads,
              "python": server_python()}
    print(f"server: gunicorn --workers {args.workers} --threads {args.threads} on Python {report['python']}",
          flush=True)
    writes = Writes()
    server = Server("wsgi:app", env, args.workers, args.threads, OUT / "load_gunicorn.log")
    memory = MemoryWatch(server, every=5 if args.quick else 15)
    try:
        if "types" not in skip:
            memory.phase = "types"
            report["types"] = cpu_by_type(server, writes, data, run, 10 if args.quick else 30)
        if "think" not in skip:
            memory.phase = "think"
            stats = Stats()
            print(f"phase think: {args.sessions} sessions, think time {args.think} s, {args.think_seconds:.0f} s", flush=True)
            mark = {}

            def on_start():
                mark["cpu"], mark["t"] = server.cpu_seconds(), time.monotonic()

            run_sessions(server.port, plan, stats, writes, args.think_seconds, args.think, data, run, seed=1,
                         on_start=on_start)
            report["think"] = table(f"with think time ({args.sessions} sessions, {report['database']})", stats,
                                    time.monotonic() - mark["t"], server.cpu_seconds() - mark["cpu"])
        if "saturation" not in skip:
            memory.phase = "saturation"
            stats = Stats()
            sat_plan = session_plan(args.saturation_sessions)
            print(f"\nphase saturation: {len(sat_plan)} sessions, no think time, {args.saturation_seconds:.0f} s", flush=True)
            # logins are not part of the mix: count CPU and requests from the first request of the mix on
            run_stats = Stats()
            login_stats = Stats()
            plan_sessions = []
            for i, (username, role) in enumerate(sat_plan):
                session = Session(server.port, login_stats)
                session.login(username)
                actor = Actor(session, username, role, writes, random.Random(2000 + i),
                              data["waybills"].get(username, []), data["outlets"], run)
                actor.queue_page()
                session.stats = run_stats
                plan_sessions.append(actor)
            spies = profile_workers(server, args.saturation_seconds, OUT / "load_profile.txt") if args.profile else []
            split_start = server.cpu_split()
            cpu_start = sum(split_start)
            started = time.monotonic()
            deadline = started + args.saturation_seconds

            def loop(actor: Actor) -> None:
                for _ in range(MAX_REQUESTS_PER_SESSION):
                    if time.monotonic() >= deadline:
                        break
                    actor.step()
                actor.s.close()

            threads = [threading.Thread(target=loop, args=(a,), daemon=True) for a in plan_sessions]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=args.saturation_seconds + 120)
            elapsed = time.monotonic() - started
            report["saturation"] = table(f"saturation ({len(sat_plan)} sessions, no think time, {report['database']})",
                                         run_stats, elapsed, server.cpu_seconds() - cpu_start)
            user, system = (end - start for end, start in zip(server.cpu_split(), split_start, strict=True))
            if run_stats.total:
                report["saturation"]["cpu_user_ms"] = user / run_stats.total * 1000
                report["saturation"]["cpu_system_ms"] = system / run_stats.total * 1000
                print(f"server CPU per request: user {report['saturation']['cpu_user_ms']:.2f} ms,"
                      f" system {report['saturation']['cpu_system_ms']:.2f} ms")
            for spy in spies:
                spy.wait(timeout=60)
            if spies:
                summarize_profile(OUT / "load_profile.txt")
    finally:
        report["memory"] = memory.stop()
        server.stop()
    if "ceiling" not in skip:
        ceiling_server = Server("bench.load:ceiling()", {}, args.workers, args.threads, OUT / "load_ceiling.log")
        try:
            stats = Stats()
            cpu0, t0 = ceiling_server.cpu_seconds(), time.monotonic()
            run_ceiling(ceiling_server.port, stats, args.ceiling_seconds, args.saturation_sessions)
            report["ceiling"] = table("ceiling: bare Flask page, same gunicorn settings", stats,
                                      time.monotonic() - t0, ceiling_server.cpu_seconds() - cpu0)
        finally:
            ceiling_server.stop()
        if "saturation" in report and report["ceiling"]["rps"]:
            report["saturation"]["share_of_ceiling"] = report["saturation"]["rps"] / report["ceiling"]["rps"]
            print(f"\nsaturation throughput: {report['saturation']['rps']:.0f} req/s = "
                  f"{report['saturation']['share_of_ceiling']:.1%} of the bare-Flask ceiling "
                  f"({report['ceiling']['rps']:.0f} req/s)")
    verified = verify_writes(url, writes)
    report["writes"] = verified
    print(f"\nwrites checked in the database: {verified['checked']}; problems: {len(verified['problems'])}")
    for problem in verified["problems"][:20]:
        print("  ", problem)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
