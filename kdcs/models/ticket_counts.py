"""Open-ticket counters for the queue's tab counts (issue 9 part 4: a lead's counts at 1M tickets).

``ticket_counts`` holds signed deltas, never updated in place: each row says "``n`` more
(or fewer) open tickets of this outlet, assignee and category whose pending deadline
falls in hour ``slot``". The sum of the rows of a key is the number of open tickets
with that key. Database triggers on ``tickets`` (migration ``0016_ticket_counts``)
append the rows in the same transaction as every insert, update and delete of a
ticket, whatever wrote it (the service, an import's batched inserts, a bulk change,
a cascade), and nothing is ever locked or updated, so concurrent writers never wait
for each other. ``kdcs.tickets.counts`` reads them and folds them together.

A migration that rebuilds ``tickets`` on SQLite (Alembic's batch mode copies it into a
new table) drops those triggers and must create them again (see 0016's statements);
``tests/test_ticket_counts.py`` checks they exist at the head revision.

``slot``: -1 for an open ticket with no pending deadline (waiting for feedback or a
judgement), else the hour of ``due_at`` (hours since 1970-01-01 UTC); folding moves
every past hour into slot 0 ("overdue since an earlier hour").
"""

from __future__ import annotations

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class TicketCount(db.Model):
    """One delta of the open-ticket counters (no foreign keys: a delta outlives nothing it names)."""

    __tablename__ = "ticket_counts"
    __table_args__ = (
        # Covering: each branch of a scope (assignee in …, outlet in …, minus the earlier
        # branches) reads one index alone (kdcs/tickets/counts.py).
        Index("ix_ticket_counts_assignee", "assignee_id", "outlet_id", "category", "slot", "n"),
        Index("ix_ticket_counts_outlet", "outlet_id", "assignee_id", "category", "slot", "n"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(Integer)
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(16))
    slot: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)
