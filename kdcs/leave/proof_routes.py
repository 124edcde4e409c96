"""Proof files on the ``leave`` blueprint: the requester uploads (JPEG/PNG/WebP/PDF) on the
request's page; whoever may see the request opens the file, served by ``kdcs.storage`` with
nosniff, a sandbox CSP and Content-Disposition. Anyone else gets a 404."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import FileField

from .. import storage
from ..extensions import db
from ..permissions import Permission, require
from ..service_errors import NotFound, ValidationError
from . import bp, proofs, service


class ProofForm(FlaskForm):
    file = FileField(_l("Proof file"))


@bp.app_context_processor
def proof_helpers() -> dict:
    """``leave_proof_box(leave)`` for the proof part of the request's page."""
    def leave_proof_box(leave) -> dict:
        return {"files": proofs.proofs(leave), "may_upload": proofs.may_upload(current_user, leave),
                "proof_form": ProofForm(formdata=None), "max_mb": f"{storage.max_upload_mb():g}"}
    return {"leave_proof_box": leave_proof_box}


def _back(leave_id: int):
    return redirect(url_for("leave.detail", leave_id=leave_id) + "#leave-proof", code=303)


@bp.route("/<int:leave_id>/proofs", methods=["POST"])
@require(Permission.REQUEST_LEAVE)
def upload_proof(leave_id: int):
    """Upload a proof file (病假条 ...) for one's own request; a refused file is named in Chinese."""
    try:
        leave = service.get_request(current_user, leave_id)
    except NotFound:
        abort(404)
    form = ProofForm()
    if not form.validate_on_submit():
        flash(_("The form expired; reload the page and try again."), "danger")
        return _back(leave.id)
    try:
        proof = proofs.upload(current_user, leave, request.files.get(form.file.name))
    except NotFound:
        abort(404)
    except service.LeaveConflict as exc:
        flash(str(exc), "danger")
        return _back(leave_id)
    except ValidationError as exc:  # refused before anything was added to the session
        for message in exc.errors.values():
            flash(message, "danger")
        return _back(leave_id)
    db.session.commit()
    flash(_("Proof uploaded: %(name)s", name=proof.original_name), "success")
    return _back(leave_id)


@bp.route("/<int:leave_id>/proofs/<int:proof_id>")
@require()
def proof_file(leave_id: int, proof_id: int):
    """The proof file itself (images and PDFs open in the tab; ``?download=1`` downloads)."""
    try:
        proof = proofs.get_proof(current_user, leave_id, proof_id)
    except NotFound:
        abort(404)
    if not storage.exists(proof.stored_name):
        abort(404)
    return storage.serve(proof.stored_name, proof.content_type, proof.original_name,
                         inline=request.args.get("download") != "1")
