"""Benchmark data: N tickets for the demo company, bulk-inserted; and brand export files to import.

Fast on purpose: rows are plain tuples written with ``executemany`` on the raw
SQLite connection in chunks (no ORM objects), deadlines are drawn around "now"
the way a live queue looks (most tickets closed, a quarter open with a pending
deadline, some overdue).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from openpyxl import Workbook

WAYBILL = {
    "ZTO": lambda r: f"7{r.randint(3, 8)}{r.randint(10**11, 10**12 - 1)}",
    "YTO": lambda r: f"YT{r.randint(10**12, 10**13 - 1)}",
    "YUNDA": lambda r: f"{r.choice('34')}{r.randint(10**13, 10**14 - 1)}",
    "STO": lambda r: f"77{r.randint(10**11, 10**12 - 1)}",
    "JT": lambda r: f"JT{r.randint(10**12, 10**13 - 1)}",
}
CHUNK = 20_000


def _fmt(moment: datetime | None) -> str | None:
    """The way UTCDateTime stores times on SQLite (naive UTC, ISO with a space)."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def add_outlets(db, brand_rows, agents, extra: int, seed: int = 7) -> None:
    """More outlets than the 40 of the demo (a provider serves hundreds)."""
    from decimal import Decimal

    from kdcs.models import Outlet

    rng = random.Random(seed)
    for n in range(extra):
        brand_id, code = brand_rows[n % len(brand_rows)]
        db.session.add(Outlet(code=f"{code}B{n:05d}", name=f"{code} 基准网点{n:05d}", brand_id=brand_id,
                              region="浙江省杭州市", rate_per_parcel=Decimal("0.0250"),
                              primary_agent_id=rng.choice(agents)))
    db.session.commit()


def ticket_inputs(db, extra_outlets: int) -> tuple[list, dict[str, list[int]], dict[str, int]]:
    """Add ``extra_outlets`` outlets (five brands, the agents there are), then return what
    ``generate_tickets`` needs: (outlet_id, brand_id, brand_code, primary_agent_id) of every outlet,
    reason ids by category, and the default deadline rule of each category."""
    from sqlalchemy import select

    from kdcs.models import Brand, DeadlineRule, Outlet, Role, TicketReason, User

    agents = list(db.session.scalars(select(User.id).where(User.role == Role.AGENT)))
    brand_rows = list(db.session.execute(select(Brand.id, Brand.code).where(Brand.code.in_(
        ["ZTO", "YTO", "YUNDA", "STO", "JT"]))).all())
    add_outlets(db, brand_rows, agents, extra_outlets)
    outlets = [(o.id, o.brand_id, o.brand.code, o.primary_agent_id) for o in db.session.scalars(select(Outlet))]
    reasons: dict[str, list[int]] = {}
    for reason in db.session.scalars(select(TicketReason)):
        reasons.setdefault(reason.category, []).append(reason.id)
    rules = {r.category: r.id for r in db.session.scalars(select(DeadlineRule).where(DeadlineRule.reason_id.is_(None)))}
    return outlets, reasons, rules


def generate_tickets(connection, n: int, outlets: list[tuple[int, int, str, int | None]],
                     reasons: dict[str, list[int]], rules: dict[str, int], seed: int = 1) -> None:
    """Insert ``n`` tickets (and one "created" event each) with executemany in chunks.

    outlets: (outlet_id, brand_id, brand_code, primary_agent_id).
    """
    rng = random.Random(seed)
    now = datetime.now(UTC)
    categories = ["problem"] * 45 + ["message"] * 25 + ["work_order"] * 22 + ["arbitration"] * 8
    ticket_sql = (
        "INSERT INTO tickets (outlet_id, brand_id, direction, category, reason_id, waybill_no, registered_at, "
        "customer_name, customer_phone, description, priority, assignee_id, status, reply_due_at, resolve_due_at, "
        "deadline_rule_id, due_at, queue_state, first_replied_at, resolved_at, closed_at, source, created_at, "
        "updated_at, version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    cursor = connection.cursor()
    first_id = (cursor.execute("SELECT COALESCE(MAX(id), 0) FROM tickets").fetchone()[0]) + 1
    seen: set[tuple] = set()
    made = 0
    while made < n:
        rows = []
        for _ in range(min(CHUNK, n - made)):
            outlet_id, brand_id, brand_code, agent_id = outlets[rng.randrange(len(outlets))]
            category = rng.choice(categories)
            reason_id = rng.choice(reasons[category])
            waybill = WAYBILL.get(brand_code, WAYBILL["ZTO"])(rng)
            key = (waybill, outlet_id, category, reason_id)
            if key in seen:
                continue
            seen.add(key)
            roll = rng.random()
            registered = now - timedelta(minutes=rng.randint(10, 365 * 24 * 60))
            reply_due = registered + timedelta(hours=24)
            resolve_due = registered + timedelta(hours=72)
            first_reply = resolved = closed = None
            if roll < 0.72:  # closed
                status, queue_state, due = "closed", 2, None
                first_reply = registered + timedelta(hours=2)
                resolved = closed = registered + timedelta(hours=20)
            elif roll < 0.97:  # open with a pending deadline, around now (some overdue)
                registered = now - timedelta(minutes=rng.randint(5, 4 * 24 * 60))
                reply_due = registered + timedelta(hours=24)
                resolve_due = registered + timedelta(hours=72)
                status = "to_file" if category == "arbitration" else rng.choice(["new", "in_progress", "awaiting_feedback"])
                queue_state, due = 0, reply_due
            else:  # open, nothing pending
                status = "judged" if category == "arbitration" else "replied"
                queue_state, due = 1, None
                first_reply = resolved = registered + timedelta(hours=3)
            rows.append((
                outlet_id, brand_id, rng.choice(["inbound", "outbound"]), category, reason_id, waybill,
                _fmt(registered), "王建华", f"138{rng.randint(10**7, 10**8 - 1)}", "客户反映快件未派送，请尽快处理。",
                "urgent" if rng.random() < 0.03 else "normal", agent_id, status, _fmt(reply_due), _fmt(resolve_due),
                rules.get(category), _fmt(due), queue_state, _fmt(first_reply), _fmt(resolved), _fmt(closed),
                "demo", _fmt(registered), _fmt(registered), 1,
            ))
        cursor.executemany(ticket_sql, rows)
        made += len(rows)
    connection.commit()
    last_id = cursor.execute("SELECT MAX(id) FROM tickets").fetchone()[0]
    # One "created" event per ticket, in one statement.
    cursor.execute(
        "INSERT INTO ticket_events (ticket_id, at, actor_id, kind, from_value, to_value, body) "
        "SELECT id, registered_at, NULL, 'created', NULL, status, '' FROM tickets WHERE id BETWEEN ? AND ?",
        (first_id, last_id))
    connection.commit()


def write_import_file(path: str, rows: int, outlets: list[tuple[str, str]], reasons: list[str],
                      seed: int = 5) -> None:
    """A brand export of ``rows`` tickets (title row, one header row), shared strings like Excel's."""
    rng = random.Random(seed)
    wb = Workbook()
    ws = wb.active
    ws.title = "进港投诉明细"
    ws.append(["申通快递 进港投诉明细（基准测试）"])
    ws.append(["统计日期", "运单编号", "投诉类型", "工单类型", "工单内容", "投诉人", "联系电话", "是否加急",
               "网点编码", "网点名称", "进港出港", "工单创建时间"])
    base = datetime.now() - timedelta(days=2)
    for n in range(rows):
        code, name = outlets[n % len(outlets)]
        created = base + timedelta(seconds=n * 3)
        ws.append([created.strftime("%Y-%m-%d"), f"43{rng.randint(10**13, 10**14 - 1)}", "派送延误",
                   reasons[n % len(reasons)], "客户催件，请尽快派送。", "李秀英", f"139{rng.randint(10**7, 10**8 - 1)}",
                   "是" if n % 40 == 0 else "否", code, name, "进港",
                   created if n % 2 else created.strftime("%Y/%m/%d %H:%M:%S")])
    wb.save(path)
