"""The evidence checklist of a reason: what an arbitration or damage case should carry.

Seeded for 仲裁 延误 / 遗失 / 破损 and the damage reasons of 问题件; admins edit the items per
reason on the ticket settings page (inline-edit kit). A ticket's checklist is ticked by the
attachments filed under an item (``TicketAttachment.evidence_item_id``, not removed).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select

from ...auditing import record, record_active_change
from ...extensions import db
from ...models import Category, Ticket, TicketReason
from ...models.ticket import EvidenceItem, TicketAttachment
from ...permissions import Permission, ensure
from ...service_errors import StaleEdit, ValidationError

A, P = Category.ARBITRATION, Category.PROBLEM

DEFAULT_ITEMS: dict[tuple[str, str], list[str]] = {
    (A, "延误"): ["物流轨迹截图"],
    (A, "遗失"): ["发货凭证", "价值证明"],
    (A, "破损"): ["外包装照片", "内件照片", "称重照片"],
    (P, "破损"): ["外包装照片", "内件照片", "称重照片"],
    (P, "外包装破损/内件短少"): ["外包装照片", "内件照片", "称重照片"],
}


def seed_evidence_items() -> int:
    """The default checklists; a reason that already has items (an admin's) is left alone. Flushes."""
    reasons = {(r.category, r.name): r for r in db.session.scalars(select(TicketReason))}
    has_items = set(db.session.scalars(select(EvidenceItem.reason_id).distinct()))
    created = 0
    for key, names in DEFAULT_ITEMS.items():
        reason = reasons.get(key)
        if reason is None or reason.id in has_items:
            continue
        for order, name in enumerate(names, start=1):
            db.session.add(EvidenceItem(reason_id=reason.id, name=name, sort_order=order * 10))
            created += 1
    db.session.flush()
    return created


_ACTIVE_ITEMS = []  # the statement of items_for(reason_id) (active only), built once per process


def items_for(reason_id: int, include_inactive: bool = False) -> list[EvidenceItem]:
    """A reason's checklist items in order."""
    if not include_inactive:  # the ticket page's question, asked on every load
        if not _ACTIVE_ITEMS:
            _ACTIVE_ITEMS.append(select(EvidenceItem).where(
                EvidenceItem.reason_id == bindparam("reason_id"), EvidenceItem.is_active.is_(True))
                .order_by(EvidenceItem.sort_order, EvidenceItem.id))
        return list(db.session.scalars(_ACTIVE_ITEMS[0], {"reason_id": reason_id}))
    return list(db.session.scalars(select(EvidenceItem).where(EvidenceItem.reason_id == reason_id)
                                   .order_by(EvidenceItem.sort_order, EvidenceItem.id)))


def items_by_reason(reason_ids: list[int], include_inactive: bool = False) -> dict[int, list[EvidenceItem]]:
    """{reason id: its checklist items in order} for many reasons in one statement (``items_for``
    of each, for the settings page that lists every reason's checklist); a reason without items maps to []."""
    grouped: dict[int, list[EvidenceItem]] = {reason_id: [] for reason_id in reason_ids}
    if not reason_ids:
        return grouped
    query = select(EvidenceItem).where(EvidenceItem.reason_id.in_(reason_ids))
    if not include_inactive:
        query = query.where(EvidenceItem.is_active.is_(True))
    for item in db.session.scalars(query.order_by(EvidenceItem.sort_order, EvidenceItem.id)):
        grouped[item.reason_id].append(item)
    return grouped


@dataclass(frozen=True)
class ChecklistLine:
    item: EvidenceItem
    count: int  # attachments filed under it (not removed)

    @property
    def done(self) -> bool:
        return self.count > 0


def checklist(ticket: Ticket, live: list | None = None) -> list[ChecklistLine]:
    """The ticket's checklist: each active item of its reason and how many attachments cover it.

    ``live``: the ticket's live attachments when the caller has them already (counted here, no query).
    """
    items = items_for(ticket.reason_id)
    if not items:
        return []
    if live is not None:
        counts = Counter(a.evidence_item_id for a in live if a.removed_at is None)
        return [ChecklistLine(item, counts.get(item.id, 0)) for item in items]
    counts = dict(db.session.execute(
        select(TicketAttachment.evidence_item_id, func.count())
        .where(TicketAttachment.ticket_id == ticket.id, TicketAttachment.removed_at.is_(None),
               TicketAttachment.evidence_item_id.in_([i.id for i in items]))
        .group_by(TicketAttachment.evidence_item_id)).all())
    return [ChecklistLine(item, counts.get(item.id, 0)) for item in items]


def missing_items(ticket: Ticket) -> list[EvidenceItem]:
    """The checklist items the ticket still misses."""
    return [line.item for line in checklist(ticket) if not line.done]


def missing_evidence_clause(tickets=None):
    """SQL, the 缺举证材料 rule: the ticket's reason has an active item no live attachment of the
    ticket covers. ``tickets``: the outer query's ticket columns (``Ticket`` by default, or the
    table ``Ticket.__table__`` of a Core statement).

    Correlated two levels up (the ticket) and one up (the item): without correlate_except the
    innermost SELECT took ``tickets`` into its own FROM, asking whether *any* ticket had the item
    filed (a wrong answer, and a scan of all tickets per item)."""
    tickets = Ticket if tickets is None else tickets.c
    covered = (select(TicketAttachment.id)
               .where(TicketAttachment.ticket_id == tickets.id, TicketAttachment.removed_at.is_(None),
                      TicketAttachment.evidence_item_id == EvidenceItem.id)
               .correlate_except(TicketAttachment))
    return (select(EvidenceItem.id)
            .where(EvidenceItem.reason_id == tickets.reason_id, EvidenceItem.is_active.is_(True), ~covered.exists())
            .exists())


# ----------------------------------------------------------------------------- admin editing


def reasons_with_checklists() -> list[TicketReason]:
    """Every active reason of 仲裁 and 问题件 (the cases that carry evidence), by category and order."""
    return list(db.session.scalars(
        select(TicketReason).where(TicketReason.category.in_([A, P]), TicketReason.is_active.is_(True))
        .order_by(TicketReason.category, TicketReason.sort_order, TicketReason.id)))


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Name the evidence item.")})
    if len(name) > 64:
        raise ValidationError({"name": _("The name may have at most 64 characters.")})
    return name


def _check_unique(reason_id: int, name: str, item_id: int | None = None) -> None:
    query = select(EvidenceItem.id).where(EvidenceItem.reason_id == reason_id, EvidenceItem.name == name)
    if item_id is not None:
        query = query.where(EvidenceItem.id != item_id)
    if db.session.scalar(query) is not None:
        raise ValidationError({"name": _("This reason already has the item %(name)s.", name=name)})


def create_item(actor, reason_id: int | None, name: str) -> EvidenceItem:
    """Add an item at the end of a reason's checklist. Commits."""
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    reason = db.session.get(TicketReason, reason_id) if reason_id else None
    if reason is None:
        raise ValidationError({"reason_id": _("Choose a reason.")})
    name = _clean_name(name)
    _check_unique(reason.id, name)
    last = db.session.scalar(select(func.max(EvidenceItem.sort_order)).where(EvidenceItem.reason_id == reason.id))
    item = EvidenceItem(reason_id=reason.id, name=name, sort_order=(last or 0) + 10)
    db.session.add(item)
    db.session.flush()
    record(actor, "evidence_item.create", "evidence_item", item.id, summary=f"{reason.name}: {name}",
           after={"name": name, "reason_id": reason.id})
    db.session.commit()
    return item


def update_item(actor, item: EvidenceItem, *, version: int, name: str) -> EvidenceItem:
    """Rename an item (optimistic lock on ``version``). Commits."""
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    if version != item.version:
        raise StaleEdit()
    name = _clean_name(name)
    _check_unique(item.reason_id, name, item.id)
    before = {"name": item.name}
    item.name = name
    record(actor, "evidence_item.update", "evidence_item", item.id, summary=f"{item.reason.name}: {name}",
           before=before, after={"name": name})
    db.session.commit()
    return item


def set_item_active(actor, item: EvidenceItem, active: bool) -> EvidenceItem:
    """Take an item off the checklist (or back on); attachments filed under it keep it. Commits."""
    ensure(actor, Permission.MANAGE_DEADLINE_RULES)
    if record_active_change(actor, item, active, "evidence_item", f"{item.reason.name}: {item.name}"):
        db.session.commit()
    return item
