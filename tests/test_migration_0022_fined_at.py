"""Migration 0022_fined_at dates every existing fine by its first fine event; a correction's later
event does not move it. On an app of its own (as tests/test_migration_0013_rates.py): migrated to
head, filled through the factories, taken down to 0021 (the column goes) and up again (backfilled)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from kdcs import create_app
from kdcs.extensions import db
from kdcs.models import EventKind, Ticket, TicketEvent
from tests import factories
from tests.test_migration_0013_rates import _database_url


def test_existing_fines_take_their_first_fine_event(tmp_path):
    from flask_migrate import downgrade, upgrade

    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True, "SECRET_KEY": "m22",
                      "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path)})
    first, correction = datetime(2026, 11, 10, 2, 0, tzinfo=UTC), datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    with app.app_context():
        upgrade()
        outlet = factories.make_outlet(agent=factories.make_user("agent"))
        fined, corrected, clean = (factories.make_ticket(outlet) for _ in range(3))
        for ticket in (fined, corrected):
            ticket.fine_amount, ticket.fine_bearer = Decimal("50.00"), "company"
            db.session.add(TicketEvent(ticket_id=ticket.id, kind=EventKind.FINE, at=first, to_value="50"))
        db.session.add(TicketEvent(ticket_id=corrected.id, kind=EventKind.FINE, at=correction, to_value="30"))
        db.session.commit()
        ids = (fined.id, corrected.id, clean.id)
        db.session.remove()
        downgrade(revision="0021_reply_agent")
        upgrade()
        found = dict(db.session.execute(sa.select(Ticket.id, Ticket.fined_at).where(Ticket.id.in_(ids))).all())
        assert found == {fined.id: first, corrected.id: first, clean.id: None}
        db.session.remove()
        db.engine.dispose()
