"""The queue's 缺举证 filter (and the agent home's figure) asks about each ticket's own attachments."""

from __future__ import annotations

from sqlalchemy import func, select

from kdcs.extensions import db
from kdcs.models import Ticket, utcnow
from kdcs.tickets import queue
from kdcs.tickets.attachments import checklist
from tests import factories


def test_missing_evidence_is_per_ticket(ticket_world):
    from kdcs.models.ticket import EvidenceItem, TicketAttachment

    w = ticket_world
    damaged = factories.make_reason("arbitration", "破损")
    checklist.seed_evidence_items()
    items = list(db.session.scalars(select(EvidenceItem).where(EvidenceItem.reason_id == damaged.id)))
    complete = factories.make_ticket(w["own"], category="arbitration", reason=damaged, waybill_no="75121488720001",
                                     assignee=w["agent"])
    missing = factories.make_ticket(w["own"], category="arbitration", reason=damaged, waybill_no="75121488720002",
                                    assignee=w["agent"])
    for n, item in enumerate(items):  # every item filed on ``complete`` only
        db.session.add(TicketAttachment(ticket_id=complete.id, stored_name=f"{n:064x}.png", original_name="x.png",
                                        content_type="image/png", size=1, evidence_item_id=item.id,
                                        uploaded_by_id=w["agent"].id, uploaded_at=utcnow()))
    db.session.commit()
    now = utcnow()
    f = queue.QueueFilter(scope="all", evidence="missing", status="all")
    found = set(db.session.scalars(
        queue.apply_filters(queue.scoped_query(w["admin"], "all", now), f, now).with_only_columns(Ticket.id)))
    assert missing.id in found and complete.id not in found
    sql = str(queue.apply_filters(queue.scoped_query(w["admin"], "all", now), f, now).with_only_columns(
        func.count()).compile())
    assert "FROM ticket_attachments, tickets" not in sql


def test_checklist_clause_is_per_ticket_too(ticket_world):
    from kdcs.models.ticket import EvidenceItem, TicketAttachment

    w = ticket_world
    damaged = factories.make_reason("arbitration", "破损")
    checklist.seed_evidence_items()
    items = list(db.session.scalars(select(EvidenceItem).where(EvidenceItem.reason_id == damaged.id)))
    complete = factories.make_ticket(w["own"], category="arbitration", reason=damaged, waybill_no="75121488720011")
    missing = factories.make_ticket(w["own"], category="arbitration", reason=damaged, waybill_no="75121488720012")
    for n, item in enumerate(items):
        db.session.add(TicketAttachment(ticket_id=complete.id, stored_name=f"{n + 100:064x}.png",
                                        original_name="x.png", content_type="image/png", size=1,
                                        evidence_item_id=item.id, uploaded_at=utcnow()))
    db.session.commit()
    found = set(db.session.scalars(select(Ticket.id).where(checklist.missing_evidence_clause())))
    assert missing.id in found and complete.id not in found
