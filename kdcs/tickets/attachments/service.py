"""Evidence attachments of a ticket: upload (several files, pasted screenshots), removal with a
reason (hidden, the file kept, who and why recorded), admin purge, and the download check.

Who: anyone who may work the ticket uploads and removes (``WORK_TICKETS`` and the ticket in
their scope); anyone who may see the ticket views its files; only an admin purges a removed
attachment. A ticket outside the actor's scope is "not found" (404), never "forbidden".
Limits: ``KDCS_ATTACHMENT_MAX_MB`` a file (10), ``KDCS_ATTACHMENTS_PER_TICKET`` (30) live files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from ... import storage
from ...auditing import record
from ...extensions import db
from ...models import Role, Ticket, User, utcnow
from ...models.ticket import EvidenceItem, TicketAttachment
from ...permissions import Permission, PermissionDenied, ensure, has_permission
from ...service_errors import NotFound, ValidationError
from .. import idempotency
from ..service import get_visible_ticket


def max_per_ticket() -> int:
    """How many live attachments a ticket may have (``KDCS_ATTACHMENTS_PER_TICKET``, default 30)."""
    value = (current_app.config.get("KDCS_ATTACHMENTS_PER_TICKET")
             or os.environ.get("KDCS_ATTACHMENTS_PER_TICKET") or 30)
    return int(value)


def can_purge(user: User) -> bool:
    """Only admins purge (delete the stored file of a removed attachment)."""
    return has_permission(user, Permission.VIEW_ALL_TICKETS) and getattr(user, "role", None) == Role.ADMIN


def _ticket(actor, ticket_id: int, permission: Permission) -> Ticket:
    ensure(actor, permission)
    ticket = get_visible_ticket(actor, ticket_id)
    if ticket is None:
        raise NotFound()
    return ticket


def attachments(ticket: Ticket, *, removed: bool = False) -> list[TicketAttachment]:
    """The ticket's live attachments (or its removed, not purged ones), oldest first."""
    query = select(TicketAttachment).where(TicketAttachment.ticket_id == ticket.id)
    if removed:
        query = query.where(TicketAttachment.removed_at.is_not(None))
    else:
        query = query.where(TicketAttachment.removed_at.is_(None))
    return list(db.session.scalars(query.order_by(TicketAttachment.uploaded_at, TicketAttachment.id)))


_STATEMENTS: dict[str, object] = {}


def _all_of_ticket():
    """A ticket's attachments, oldest first, with who uploaded and who removed each (the list names
    them: no user lookup per attachment): built once per process (the ticket page asks on every load)."""
    statement = _STATEMENTS.get("all_of_ticket")
    if statement is None:
        statement = _STATEMENTS["all_of_ticket"] = (
            select(TicketAttachment)
            .options(joinedload(TicketAttachment.uploaded_by), joinedload(TicketAttachment.removed_by))
            .where(TicketAttachment.ticket_id == bindparam("ticket_id"))
            .order_by(TicketAttachment.uploaded_at, TicketAttachment.id))
    return statement


def attachments_and_removed(ticket: Ticket) -> tuple[list[TicketAttachment], list[TicketAttachment]]:
    """``attachments(ticket)`` and ``attachments(ticket, removed=True)`` in one query."""
    rows = list(db.session.scalars(_all_of_ticket(), {"ticket_id": ticket.id}))
    return [a for a in rows if a.removed_at is None], [a for a in rows if a.removed_at is not None]


def live_count(ticket_id: int) -> int:
    """Attachments not removed (what the per-ticket limit counts)."""
    return db.session.scalar(select(func.count()).select_from(TicketAttachment).where(
        TicketAttachment.ticket_id == ticket_id, TicketAttachment.removed_at.is_(None))) or 0


@dataclass
class UploadResult:
    saved: list[TicketAttachment] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one Chinese line per refused file


def upload(actor, ticket_id: int, files, *, evidence_item_id: int | None = None,
           key: str | None = None) -> UploadResult:
    """Store each file (content-checked, metadata stripped) on the ticket; refused ones are listed,
    the others kept. ``key`` (from the page) makes a resubmitted upload by the same user answer
    what the first one stored, even if the ticket has left their queue since. Commits."""
    ensure(actor, Permission.WORK_TICKETS)
    key = idempotency.clean(key)
    done = idempotency.earlier(actor, idempotency.ATTACHMENT, key)
    if done is not None:
        return UploadResult(saved=_stored(done.ids))
    ticket = _ticket(actor, ticket_id, Permission.WORK_TICKETS)
    files = [f for f in files if f is not None and (getattr(f, "filename", "") or "")]
    if not files:
        raise ValidationError({"file": _("Choose or paste a file first.")})
    item = None
    if evidence_item_id:
        item = db.session.get(EvidenceItem, evidence_item_id)
        if item is None or item.reason_id != ticket.reason_id or not item.is_active:
            raise ValidationError({"evidence_item_id": _("That evidence item is not on this ticket's checklist.")})
    result = UploadResult()
    room = max_per_ticket() - live_count(ticket.id)
    for upload_file in files:
        if room <= 0:
            result.errors.append(_("%(name)s was not added: a ticket may have at most %(n)s attachments.",
                                   name=upload_file.filename, n=max_per_ticket()))
            continue
        try:
            stored = storage.save_upload(upload_file)
        except ValidationError as exc:
            result.errors.append(exc.errors["file"])
            continue
        attachment = TicketAttachment(
            ticket_id=ticket.id, stored_name=stored.stored_name, original_name=stored.original_name,
            content_type=stored.content_type, size=stored.size, width=stored.width, height=stored.height,
            evidence_item_id=item.id if item else None, uploaded_by_id=actor.id, uploaded_at=utcnow())
        db.session.add(attachment)
        db.session.flush()
        record(actor, "ticket.attachment_add", "ticket", ticket.id,
               summary=f"{ticket.waybill_no} {stored.original_name}"[:200],
               after={"attachment_id": attachment.id, "file": stored.original_name,
                      "evidence_item": item.name if item else None})
        result.saved.append(attachment)
        room -= 1
    if result.saved and not idempotency.claim(actor, idempotency.ATTACHMENT, key, ticket.id,
                                              [a.id for a in result.saved]):
        db.session.rollback()  # the same form was submitted twice at once: the other one stored it
        done = idempotency.earlier(actor, idempotency.ATTACHMENT, key)
        return UploadResult(saved=_stored(done.ids) if done else [])
    db.session.commit()
    return result


def _stored(ids: list[int]) -> list[TicketAttachment]:
    """The attachments an earlier submit of the same form stored, in order."""
    found = {a.id: a for a in db.session.scalars(select(TicketAttachment).where(TicketAttachment.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def get_attachment(actor, ticket_id: int, attachment_id: int) -> TicketAttachment:
    """An attachment of a ticket the actor may see, still stored; else NotFound (404)."""
    ticket = _ticket(actor, ticket_id, Permission.VIEW_TICKETS)
    attachment = db.session.get(TicketAttachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket.id or attachment.purged_at is not None:
        raise NotFound()
    return attachment


def remove(actor, ticket_id: int, attachment_id: int, reason: str) -> TicketAttachment:
    """Hide an attachment with a reason; the file is kept and who/why is recorded. Commits."""
    ensure(actor, Permission.WORK_TICKETS)
    attachment = get_attachment(actor, ticket_id, attachment_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the attachment is removed.")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("The reason may have at most 200 characters.")})
    if attachment.removed_at is not None:
        raise ValidationError({"reason": _("This attachment was already removed.")})
    attachment.removed_at = utcnow()
    attachment.removed_by_id = actor.id
    attachment.remove_reason = reason
    record(actor, "ticket.attachment_remove", "ticket", ticket_id,
           summary=f"{attachment.ticket.waybill_no} {attachment.original_name}: {reason}"[:200],
           after={"attachment_id": attachment.id, "file": attachment.original_name, "reason": reason})
    db.session.commit()
    return attachment


def purge(actor, ticket_id: int, attachment_id: int) -> TicketAttachment:
    """Admins only: delete the stored file of a removed attachment (the row and its history stay).
    A file another attachment still uses (same content) stays on disk. Commits."""
    if not can_purge(actor):
        raise PermissionDenied(Permission.VIEW_ALL_TICKETS)
    attachment = get_attachment(actor, ticket_id, attachment_id)
    if attachment.removed_at is None:
        raise ValidationError({"reason": _("Remove the attachment before purging it.")})
    attachment.purged_at = utcnow()
    db.session.flush()
    still_used = db.session.scalar(select(func.count()).select_from(TicketAttachment).where(
        TicketAttachment.stored_name == attachment.stored_name, TicketAttachment.purged_at.is_(None)))
    record(actor, "ticket.attachment_purge", "ticket", ticket_id,
           summary=f"{attachment.ticket.waybill_no} {attachment.original_name}"[:200],
           after={"attachment_id": attachment.id, "file": attachment.original_name})
    db.session.commit()
    if not still_used:
        storage.delete(attachment.stored_name)
    return attachment
