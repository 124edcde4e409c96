"""Proof files (病假条 ...) of a leave request: uploaded by the requester on the request's page,
at request time or after the fact, stored by ``kdcs.storage`` (content checked, EXIF stripped,
named by content hash) and served to those who may see the request (``service.can_view``).

An upload marks the proof received (the file is the proof; the lead sees it on the page and
may still reject the request), writes a history row and an audit entry, and tells the
approver (or the team lead before the request is sent) that a proof arrived. The lead's
"mark the proof received" button stays for proofs handed in on paper.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from .. import storage
from ..auditing import record
from ..extensions import db
from ..models import User
from ..models.leave import LeaveEvent, LeaveProof, LeaveRequest, LeaveStatus
from ..notifications.service import notify
from ..permissions import Permission, ensure
from ..service_errors import NotFound, ValidationError
from . import service

PROOF_KINDS = frozenset({"jpeg", "png", "webp", "pdf"})
MAX_PROOFS = 10
CLOSED = (LeaveStatus.CANCELLED, LeaveStatus.REJECTED)


def proofs(leave: LeaveRequest) -> list[LeaveProof]:
    """The request's proof files, oldest first."""
    return list(db.session.scalars(select(LeaveProof).where(LeaveProof.request_id == leave.id)
                                   .order_by(LeaveProof.id)))


def may_upload(actor: User, leave: LeaveRequest) -> bool:
    """Only the requester uploads, while the type needs a proof and the request is not cancelled or rejected."""
    return actor.id == leave.user_id and bool(leave.proof_status) and leave.status not in CLOSED


def upload(actor: User, leave: LeaveRequest, file_storage) -> LeaveProof:
    """Store one proof file for the request and mark the proof received; ValidationError({"file": 中文}) refuses it."""
    ensure(actor, Permission.REQUEST_LEAVE)
    if not service.can_view(actor, leave):
        raise NotFound()
    if not may_upload(actor, leave):
        raise ValidationError({"file": _("Only the requester can upload a proof, and only for a type that needs "
                                         "one, while the request is not cancelled or rejected.")})
    if file_storage is None or not getattr(file_storage, "filename", ""):
        raise ValidationError({"file": _("Choose a file to upload.")})
    if len(leave.proofs) >= MAX_PROOFS:
        raise ValidationError({"file": _("At most %(n)d proof files per request.", n=MAX_PROOFS)})
    stored = storage.save_upload(file_storage, kinds=PROOF_KINDS)
    proof = LeaveProof(stored_name=stored.stored_name, original_name=stored.original_name,
                       content_type=stored.content_type, size=stored.size, uploaded_by_id=actor.id)
    leave.proofs.append(proof)
    before = leave.proof_status
    leave.proof_status = service.PROOF_RECEIVED
    leave.history.append(LeaveEvent(actor_id=actor.id, from_status=leave.status, to_status=leave.status,
                                    note=_("Proof uploaded: %(name)s", name=stored.original_name)[:service.NOTE_MAX]))
    service.flush_or_conflict(leave)
    record(actor, "leave.proof_upload", "leave_request", leave.id,
           summary=f"{leave.user.display_name} {leave.leave_type.name} {stored.original_name}",
           before={"proof_status": before}, after={"proof_status": service.PROOF_RECEIVED,
                                                    "proof_file": stored.original_name})
    team = leave.user.team
    recipient = leave.approver_id or (team.lead_id if team else None)
    if recipient and recipient != actor.id:
        notify(recipient, "leave", _("A proof arrived"), service._summary(leave), service._link(leave))
    return proof


def get_proof(actor: User, leave_id: int, proof_id: int) -> LeaveProof:
    """A proof file of a request the actor may see; otherwise ``NotFound``."""
    leave = service.get_request(actor, leave_id)
    proof = db.session.get(LeaveProof, proof_id)
    if proof is None or proof.request_id != leave.id:
        raise NotFound()
    return proof
