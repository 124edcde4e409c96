"""ticket counters for fast tab counts

Revision ID: 0016_ticket_counts
Revises: 0015_idempotency_keys
Create Date: 2026-12-01 03:00:00

``ticket_counts`` (see kdcs/models/ticket_counts.py): signed deltas of the open
tickets per outlet, assignee, category and deadline hour, appended by triggers on
``tickets`` in the same transaction as every change, and filled here from the
tickets as they are (one GROUP BY; past hours folded into slot 0).
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

import kdcs.models.types  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0016_ticket_counts'
down_revision = '0015_idempotency_keys'
branch_labels = None
depends_on = None

# The hour of a ticket's pending deadline, -1 without one (the same rule as kdcs/tickets/counts.py).
SQLITE_SLOT = ("CASE WHEN {t}.queue_state = 0 AND {t}.due_at IS NOT NULL"
               " THEN CAST(strftime('%s', {t}.due_at) AS INTEGER) / 3600 ELSE -1 END")
PG_SLOT = ("CASE WHEN {t}.queue_state = 0 AND {t}.due_at IS NOT NULL"
           " THEN floor(extract(epoch FROM {t}.due_at) / 3600)::integer ELSE -1 END")
KEY_CHANGED = ("OLD.outlet_id IS NOT NEW.outlet_id OR OLD.assignee_id IS NOT NEW.assignee_id"
               " OR OLD.category IS NOT NEW.category OR ({old}) IS NOT ({new})"
               " OR (OLD.queue_state < 2) IS NOT (NEW.queue_state < 2)")

SQLITE_TRIGGERS = [
    """CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets WHEN NEW.queue_state < 2
    BEGIN
      INSERT INTO ticket_counts (outlet_id, assignee_id, category, slot, n)
      VALUES (NEW.outlet_id, NEW.assignee_id, NEW.category, {new}, 1);
    END""",
    """CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets WHEN OLD.queue_state < 2
    BEGIN
      INSERT INTO ticket_counts (outlet_id, assignee_id, category, slot, n)
      VALUES (OLD.outlet_id, OLD.assignee_id, OLD.category, {old}, -1);
    END""",
    """CREATE TRIGGER ticket_counts_update AFTER UPDATE OF outlet_id, assignee_id, category, queue_state, due_at
    ON tickets WHEN (OLD.queue_state < 2 OR NEW.queue_state < 2) AND ({changed})
    BEGIN
      INSERT INTO ticket_counts (outlet_id, assignee_id, category, slot, n)
      SELECT OLD.outlet_id, OLD.assignee_id, OLD.category, {old}, -1 WHERE OLD.queue_state < 2;
      INSERT INTO ticket_counts (outlet_id, assignee_id, category, slot, n)
      SELECT NEW.outlet_id, NEW.assignee_id, NEW.category, {new}, 1 WHERE NEW.queue_state < 2;
    END""",
]

PG_FUNCTION = """CREATE FUNCTION ticket_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.queue_state < 2 THEN
    INSERT INTO ticket_counts (outlet_id, assignee_id, category, slot, n)
    VALUES (OLD.outlet_id, OLD.assignee_id, OLD.category, {old}, -1);
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.queue_state < 2 THEN
    INSERT INTO ticket_counts (outlet_id, assignee_id, category, slot, n)
    VALUES (NEW.outlet_id, NEW.assignee_id, NEW.category, {new}, 1);
  END IF;
  RETURN NULL;
END $$"""

PG_TRIGGERS = [
    "CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets FOR EACH ROW WHEN (NEW.queue_state < 2)"
    " EXECUTE FUNCTION ticket_counts_track()",
    "CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets FOR EACH ROW WHEN (OLD.queue_state < 2)"
    " EXECUTE FUNCTION ticket_counts_track()",
    "CREATE TRIGGER ticket_counts_update AFTER UPDATE OF outlet_id, assignee_id, category, queue_state, due_at"
    " ON tickets FOR EACH ROW WHEN ((OLD.queue_state < 2 OR NEW.queue_state < 2) AND ({changed}))"
    " EXECUTE FUNCTION ticket_counts_track()",
]


def upgrade():
    op.create_table('ticket_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_counts'))
    )
    with op.batch_alter_table('ticket_counts', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_counts_assignee', ['assignee_id', 'outlet_id', 'category', 'slot', 'n'],
                              unique=False)
        batch_op.create_index('ix_ticket_counts_outlet', ['outlet_id', 'assignee_id', 'category', 'slot', 'n'],
                              unique=False)

    # The queue index also covers what the counts read of the current hour's deadlines
    # (scope columns and category): no table row is read for them.
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_queue')
        batch_op.create_index('ix_tickets_queue', ['queue_state', 'due_at', 'id', 'assignee_id', 'outlet_id', 'category'],
                              unique=False)

    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    slot = PG_SLOT if postgres else SQLITE_SLOT
    old, new = slot.format(t="OLD"), slot.format(t="NEW")
    changed = KEY_CHANGED.format(old=old, new=new)
    if postgres:
        op.execute(PG_FUNCTION.format(old=old, new=new))
        for statement in PG_TRIGGERS:
            op.execute(statement.format(changed=changed.replace(" IS NOT ", " IS DISTINCT FROM ")))
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement.format(old=old, new=new, changed=changed))
    # The counters of the tickets already there; hours already past folded into slot 0.
    hour = int(datetime.now(UTC).timestamp()) // 3600
    ticket_slot = slot.format(t="tickets")
    bind.execute(sa.text(
        "INSERT INTO ticket_counts (outlet_id, assignee_id, category, slot, n)"
        f" SELECT outlet_id, assignee_id, category, s, count(*) FROM (SELECT outlet_id, assignee_id, category,"
        f" CASE WHEN {ticket_slot} BETWEEN 0 AND :hour - 1 THEN 0 ELSE {ticket_slot} END AS s"
        " FROM tickets WHERE queue_state < 2) AS open_tickets GROUP BY outlet_id, assignee_id, category, s"),
        {"hour": hour})


def downgrade():
    bind = op.get_bind()
    for name in ("ticket_counts_insert", "ticket_counts_delete", "ticket_counts_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON tickets" if bind.dialect.name == "postgresql" else ""))
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ticket_counts_track()")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_queue')
        batch_op.create_index('ix_tickets_queue', ['queue_state', 'due_at'], unique=False)
    with op.batch_alter_table('ticket_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_counts_outlet')
        batch_op.drop_index('ix_ticket_counts_assignee')
    op.drop_table('ticket_counts')
