"""The queue's tab counts from the open-ticket counters (``ticket_counts``), not from the tickets.

A lead's team at a million tickets has ~140k open ones: counting them on every
refresh took 1.2 s. The counters (kdcs/models/ticket_counts.py, kept by triggers
in the same transaction as every ticket change) answer the same figures by summing
a few thousand rows:

* open per category: the sum of the scope's counter rows;
* overdue: the rows of every hour before the current one (slot ``0 <= slot < h``),
  plus the scope's tickets due in the current hour before ``now`` (counted exactly);
* due within the hour: the scope's tickets due in ``[now, now + 1 h)`` (exactly).

The exact part reads at most two hours of pending deadlines, through the same
``(assignee_id|outlet_id, queue_state, due_at)`` indexes as the queue.

The scope is the queue's own (``queue.scoped_query``): its condition is rewritten
onto the counter table (``tickets.assignee_id`` → ``ticket_counts.assignee_id``,
``tickets.outlet_id`` → ``ticket_counts.outlet_id``). A scope that names any other
ticket column cannot be answered from the counters and is counted on the tickets.

``fold()`` merges the deltas (the periodic task ``fold_ticket_counts``) and
``rebuild()`` recounts everything (``flask --app kdcs tickets rebuild-counts``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Column,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import BooleanClauseList

from ..extensions import db
from ..models import QueueState, Ticket
from ..models.ticket_counts import TicketCount

# The slot of a row of ``tickets`` in SQL (the triggers of migration 0016 use the same expressions).
SLOT_SQL = {
    "sqlite": ("CASE WHEN tickets.queue_state = 0 AND tickets.due_at IS NOT NULL"
               " THEN CAST(strftime('%s', tickets.due_at) AS INTEGER) / 3600 ELSE -1 END"),
    "postgresql": ("CASE WHEN tickets.queue_state = 0 AND tickets.due_at IS NOT NULL"
                   " THEN floor(extract(epoch FROM tickets.due_at) / 3600)::integer ELSE -1 END"),
}
NO_DEADLINE = -1  # open, nothing pending (waiting for feedback, judged)
PAST = 0  # folded: due in an hour before the last fold
_TICKETS = Ticket.__table__
_COUNTS = TicketCount.__table__


class NotCountable(Exception):
    """The scope names a ticket column the counters do not keep."""


def hour_of(moment: datetime) -> int:
    """Hours since 1970-01-01 UTC (the counters' ``slot`` of a deadline)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) // 3600


def slot_of(queue_state: int, due_at: datetime | None) -> int:
    """The slot a ticket counts in (the triggers' rule, in Python)."""
    if queue_state == QueueState.ACTIVE and due_at is not None:
        return hour_of(due_at)
    return NO_DEADLINE


def _on_counters(clause):
    """``clause`` (over ``tickets``) rewritten over ``ticket_counts``; NotCountable if it cannot be."""

    def replace(element):
        if isinstance(element, Column) and element.table is _TICKETS:
            if element.name in ("assignee_id", "outlet_id"):
                return _COUNTS.c[element.name]
            raise NotCountable(element.name)
        return None

    return visitors.replacement_traverse(clause, {}, replace)


def _scope_rows(condition):
    """The counter rows of a scope as a subquery of (category, slot, n).

    A scope is usually "assignee in … OR outlet in … [OR outlet in covered]": one
    branch per term, each without the rows of the earlier ones (``UNION ALL`` of
    disjoint parts, so nothing counts twice), each read from a covering index;
    an ``OR`` over the whole table would fetch every matching row from the table.
    """
    columns = (TicketCount.category, TicketCount.slot, TicketCount.n)
    terms = list(condition.clauses) if (isinstance(condition, BooleanClauseList)
                                       and condition.operator is operators.or_) else []
    if len(terms) < 2:
        query = select(*columns)
        return (query.where(condition) if condition is not None else query).subquery("scope_counts")
    parts = [select(*columns).where(term if not i else and_(term, not_(func.coalesce(or_(*terms[:i]), False))))
             for i, term in enumerate(terms)]
    return union_all(*parts).subquery("scope_counts")


def counted(scope_query, now: datetime) -> dict[str, dict[str, int]]:
    """``{category: {"open", "overdue", "due_soon"}}`` of the open tickets ``scope_query`` selects.

    Raises NotCountable when its condition names a ticket column other than the
    assignee or the outlet (then the caller counts the tickets themselves).
    """
    where = scope_query.whereclause
    condition = _on_counters(where) if where is not None else None
    hour = hour_of(now)
    hour_start = datetime.fromtimestamp(hour * 3600, UTC)
    rows = _scope_rows(condition)
    past = and_(rows.c.slot >= 0, rows.c.slot < hour)
    summed = select(rows.c.category, func.sum(rows.c.n),
                    func.sum(case((past, rows.c.n), else_=0))).group_by(rows.c.category)
    result: dict[str, dict[str, int]] = defaultdict(lambda: {"open": 0, "overdue": 0, "due_soon": 0})
    for category, total, late in db.session.execute(summed):
        result[category]["open"] += int(total or 0)
        result[category]["overdue"] += int(late or 0)
    # The current hour's deadlines, exactly: before now → overdue, the next hour → due soon.
    # Grouped by ``category || ''``: by the bare column SQLite walks the category index for the
    # GROUP BY order and reads every table row of the window (12 ms for an agent at 1M) instead
    # of the queue index, which covers the window's scope columns and category.
    soon_end = now + timedelta(hours=1)
    key = Ticket.category.op("||")(literal_column("''"))
    exact = (
        scope_query.where(Ticket.queue_state == QueueState.ACTIVE, Ticket.due_at >= hour_start,
                          Ticket.due_at < soon_end)
        .with_only_columns(key, func.sum(case((Ticket.due_at < now, 1), else_=0)),
                           func.sum(case((Ticket.due_at >= now, 1), else_=0)))
        .group_by(key).order_by(None)
    )
    for category, late, soon in db.session.execute(exact):
        result[category]["overdue"] += int(late or 0)
        result[category]["due_soon"] += int(soon or 0)
    return {category: figures for category, figures in result.items() if figures["open"]}


_PREBUILT: dict[tuple, tuple] = {}


def _prebuilt_statements(scope_key: tuple) -> tuple:
    """``counted``'s two statements for a tab's shape (``queue.scope_shape``), built once per
    process with every value a parameter: the counters' sums and the current hour's deadlines."""
    statements = _PREBUILT.get(scope_key)
    if statements is None:
        from .queue import _scope_condition

        where = _scope_condition(scope_key)
        rows = _scope_rows(_on_counters(where) if where is not None else None)
        past = and_(rows.c.slot >= 0, rows.c.slot < bindparam("hour"))
        summed = select(rows.c.category, func.sum(rows.c.n),
                        func.sum(case((past, rows.c.n), else_=0))).group_by(rows.c.category)
        key = _TICKETS.c.category.op("||")(literal_column("''"))
        exact = (
            select(key, func.sum(case((_TICKETS.c.due_at < bindparam("now"), 1), else_=0)),
                   func.sum(case((_TICKETS.c.due_at >= bindparam("now"), 1), else_=0)))
            .select_from(_TICKETS)
            .where(*([where] if where is not None else []), _TICKETS.c.queue_state == QueueState.ACTIVE,
                   _TICKETS.c.due_at >= bindparam("hour_start"), _TICKETS.c.due_at < bindparam("soon_end"))
            .group_by(key)
        )
        statements = _PREBUILT[scope_key] = (summed, exact)
    return statements


def counted_prebuilt(scope_key: tuple, params: dict, now: datetime) -> dict[str, dict[str, int]]:
    """``counted`` for a tab of a known shape, from prebuilt statements (same SQL, same figures).
    Raises NotCountable like ``counted``."""
    from .queue import run

    summed, exact = _prebuilt_statements(scope_key)
    hour = hour_of(now)
    params = {**params, "hour": hour, "now": now, "hour_start": datetime.fromtimestamp(hour * 3600, UTC),
              "soon_end": now + timedelta(hours=1)}
    result: dict[str, dict[str, int]] = defaultdict(lambda: {"open": 0, "overdue": 0, "due_soon": 0})
    for category, total, late in run(summed, params):
        result[category]["open"] += int(total or 0)
        result[category]["overdue"] += int(late or 0)
    for category, late, soon in run(exact, params):
        result[category]["overdue"] += int(late or 0)
        result[category]["due_soon"] += int(soon or 0)
    return {category: figures for category, figures in result.items() if figures["open"]}


def _fold_rows(rows, hour: int) -> list[dict]:
    totals: dict[tuple, int] = defaultdict(int)
    for outlet_id, assignee_id, category, slot, n in rows:
        if 0 <= slot < hour:
            slot = PAST
        totals[(outlet_id, assignee_id, category, slot)] += n
    return [{"outlet_id": o, "assignee_id": a, "category": c, "slot": s, "n": n}
            for (o, a, c, s), n in totals.items() if n]


def fold(now: datetime | None = None) -> int:
    """Merge the deltas: one row per key and slot, past hours into slot 0, zero rows gone.

    One DELETE … RETURNING takes exactly the rows it merges (a delta a concurrent
    transaction appends meanwhile stays as it is), then the sums go back in: the
    totals never change, whoever reads before or after the commit. Returns the rows left.
    """
    hour = hour_of(now or datetime.now(UTC))
    taken = db.session.execute(delete(TicketCount).returning(
        TicketCount.outlet_id, TicketCount.assignee_id, TicketCount.category, TicketCount.slot, TicketCount.n)).all()
    rows = _fold_rows(taken, hour)
    if rows:
        db.session.execute(insert(TicketCount), rows)
    return len(rows)


def fresh_rows(now: datetime | None = None) -> list[dict]:
    """The counters as they should be, counted from the tickets (what ``rebuild`` writes)."""
    hour = hour_of(now or datetime.now(UTC))
    slot = literal_column(SLOT_SQL[db.engine.dialect.name])
    rows = db.session.execute(
        select(Ticket.outlet_id, Ticket.assignee_id, Ticket.category, slot, func.count())
        .where(Ticket.queue_state < QueueState.CLOSED)
        .group_by(Ticket.outlet_id, Ticket.assignee_id, Ticket.category, slot))
    return _fold_rows(((o, a, c, int(s), int(n)) for o, a, c, s, n in rows), hour)


def rebuild(now: datetime | None = None) -> int:
    """Recount every counter from the tickets (after a restore, or if they were ever doubted).

    On SQLite the write lock is taken first, on PostgreSQL the tickets table is locked
    against writes (reads go on), so no ticket changes between the count and the swap.
    Returns the rows written. The caller commits.
    """
    if db.engine.dialect.name == "postgresql":
        db.session.execute(db.text("LOCK TABLE tickets IN SHARE MODE"))
    else:
        db.session.execute(delete(TicketCount).where(TicketCount.id < 0))  # takes SQLite's write lock now
    rows = fresh_rows(now)
    db.session.execute(delete(TicketCount))
    if rows:
        db.session.execute(insert(TicketCount), rows)
    return len(rows)


def current(now: datetime | None = None) -> list[dict]:
    """The counters as stored, folded (for comparing with ``fresh_rows``)."""
    hour = hour_of(now or datetime.now(UTC))
    taken = db.session.execute(select(TicketCount.outlet_id, TicketCount.assignee_id, TicketCount.category,
                                      TicketCount.slot, TicketCount.n)).all()
    return _fold_rows(taken, hour)
