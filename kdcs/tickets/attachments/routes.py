"""Evidence attachment views on the ``tickets`` blueprint: the box on the ticket page, upload,
view / thumbnail (served by ``kdcs.storage`` with nosniff and a sandbox), remove, purge.

Every view looks the ticket up in the user's scope first: another team's ticket is a 404.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ... import storage
from ...htmx import fragment_only, render_fragment, wants_fragment
from ...permissions import Permission, has_permission, require
from ...service_errors import ValidationError
from .. import bp
from ..forms import FormView, controls
from ..routes import saved_but_moved
from ..service import get_visible_ticket
from . import checklist
from . import service as svc
from .forms import RemoveForm, UploadForm, upload_view

BOX = "tickets/_attachments.html"


def evidence_context(ticket, upload_form=None, errors=None) -> dict:
    """What the evidence box shows: live and removed attachments, the checklist, the forms."""
    attachments, removed = svc.attachments_and_removed(ticket)
    lines = checklist.checklist(ticket, live=attachments)
    item_choices = [("", _("Not filed under an item"))] + [(str(line.item.id), line.item.name) for line in lines]
    missing = [line.item for line in lines if not line.done]
    if upload_form is not None:  # a refused upload: the user's form, as sent
        upload_form.evidence_item_id.choices = item_choices
        upload_form.key.data = uuid.uuid4().hex
        form = FormView.of(upload_form)
    else:  # displayed only: plain controls (tickets/_controls.html), no WTForms form built
        # a paste goes under the first missing item unless changed
        form = upload_view(uuid.uuid4().hex, item_choices, missing[0].id if missing else None)
    return {
        "ticket": ticket,
        "c": controls(),  # the form macros (tickets/_controls.html)
        "attachments": attachments,
        "removed": removed,
        "checklist": lines,
        "missing": missing,
        "upload_form": form,
        "upload_errors": errors or [],
        "can_work_evidence": has_permission(current_user, Permission.WORK_TICKETS),
        "can_purge": svc.can_purge(current_user),
        "max_mb": f"{storage.max_upload_mb():g}",
        "max_files": svc.max_per_ticket(),
    }


@bp.app_context_processor
def evidence_helpers() -> dict:
    """``ticket_evidence(ticket)`` for the include on the ticket page."""
    return {"ticket_evidence": evidence_context}


def _ticket_or_404(ticket_id: int):
    ticket = get_visible_ticket(current_user, ticket_id)
    if ticket is None:
        abort(404)
    return ticket


def _box(ticket, status: int = 200, toast=None, **kwargs):
    return render_fragment(BOX, "evidence_box", status=status, toast=toast, events="evidence-changed",
                           **evidence_context(ticket, **kwargs))


def _back(ticket_id: int):
    return redirect(url_for("tickets.detail", ticket_id=ticket_id) + "#evidence", code=303)


@bp.route("/<int:ticket_id>/attachments")
@require(Permission.VIEW_TICKETS)
@fragment_only("tickets.detail")
def attachments(ticket_id: int):
    """The evidence box of a ticket (htmx)."""
    return _box(_ticket_or_404(ticket_id))


@bp.route("/<int:ticket_id>/attachments", methods=["POST"])
@require(Permission.WORK_TICKETS)
def upload_attachments(ticket_id: int):
    """Attach one or more files (or a pasted screenshot) to the ticket; refused files are named.

    The form's key makes a second submit of it (double click, retry) answer what the first
    stored; a saved upload on a ticket that has since left the user's queue is still a success."""
    form = UploadForm()
    form.evidence_item_id.choices = []
    errors: list[str] = []
    saved = []
    if not form.validate_on_submit():
        _ticket_or_404(ticket_id)
        errors = [e for field_errors in form.errors.values() for e in field_errors] or [
            _("The form expired; reload the page and try again.")]
    else:
        try:  # the service looks the ticket up in the user's scope (404), unless this form was stored already
            result = svc.upload(current_user, ticket_id, request.files.getlist(form.files.name),
                                evidence_item_id=form.evidence_item_id.data, key=form.key.data)
        except ValidationError as exc:
            errors = list(exc.errors.values())
        else:
            errors, saved = result.errors, result.saved
    message = _("%(n)s file(s) attached.", n=len(saved)) if saved else None
    ticket = get_visible_ticket(current_user, ticket_id)
    if ticket is None:
        if saved:
            return saved_but_moved(ticket_id, message)
        abort(404)
    if not wants_fragment():
        if message:
            flash(message, "success")
        for error in errors:
            flash(error, "danger")
        return _back(ticket.id)
    status = 200 if saved or not errors else 422
    toast = (message, "success") if message else None
    return _box(ticket, status=status, toast=toast, errors=errors)


def _served(ticket_id: int, attachment_id: int):
    attachment = svc.get_attachment(current_user, ticket_id, attachment_id)
    if not storage.exists(attachment.stored_name):
        abort(404)
    return attachment


@bp.route("/<int:ticket_id>/attachments/<int:attachment_id>")
@require(Permission.VIEW_TICKETS)
def attachment_file(ticket_id: int, attachment_id: int):
    """The file itself (images and PDFs open in the tab; ``?download=1`` or others download)."""
    attachment = _served(ticket_id, attachment_id)
    return storage.serve(attachment.stored_name, attachment.content_type, attachment.original_name,
                         inline=request.args.get("download") != "1")


@bp.route("/<int:ticket_id>/attachments/<int:attachment_id>/thumb")
@require(Permission.VIEW_TICKETS)
def attachment_thumb(ticket_id: int, attachment_id: int):
    """A small JPEG of an image attachment."""
    attachment = _served(ticket_id, attachment_id)
    response = storage.serve_thumbnail(attachment.stored_name) if attachment.width else None
    if response is None:
        abort(404)
    return response


@bp.route("/<int:ticket_id>/attachments/<int:attachment_id>/remove", methods=["POST"])
@require(Permission.WORK_TICKETS)
def remove_attachment(ticket_id: int, attachment_id: int):
    """Hide an attachment with a reason (the file is kept; who and why are recorded)."""
    ticket = _ticket_or_404(ticket_id)
    form = RemoveForm()
    errors: list[str] = []
    if not form.validate_on_submit():
        errors = [e for field_errors in form.errors.values() for e in field_errors] or [
            _("The form expired; reload the page and try again.")]
    else:
        try:
            svc.remove(current_user, ticket.id, attachment_id, form.reason.data)
        except ValidationError as exc:
            errors = list(exc.errors.values())
        else:
            if get_visible_ticket(current_user, ticket.id) is None:  # reassigned away a moment later
                return saved_but_moved(ticket.id, _("Attachment removed; the file is kept."))
    if not wants_fragment():
        flash(errors[0] if errors else _("Attachment removed; the file is kept."), "danger" if errors else "success")
        return _back(ticket.id)
    if errors:
        return _box(ticket, status=422, errors=errors)
    return _box(ticket, toast=(_("Attachment removed; the file is kept."), "success"))


@bp.route("/<int:ticket_id>/attachments/<int:attachment_id>/purge", methods=["POST"])
@require(Permission.VIEW_ALL_TICKETS)
def purge_attachment(ticket_id: int, attachment_id: int):
    """Admins: delete the stored file of a removed attachment for good."""
    ticket = _ticket_or_404(ticket_id)
    if not svc.can_purge(current_user):
        abort(403)
    errors: list[str] = []
    try:
        svc.purge(current_user, ticket.id, attachment_id)
    except ValidationError as exc:
        errors = list(exc.errors.values())
    if not wants_fragment():
        flash(errors[0] if errors else _("The file was purged."), "danger" if errors else "success")
        return _back(ticket.id)
    if errors:
        return _box(ticket, status=422, errors=errors)
    return _box(ticket, toast=(_("The file was purged."), "success"))


from . import settings_routes  # noqa: E402,F401  (the checklist tab of the ticket settings)
