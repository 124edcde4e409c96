"""The evidence checklists in the ticket settings (tab 证据清单): items per reason of 仲裁 and
问题件 on the inline-edit kit (rename with its version, deactivate, create)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user

from ...crud import InlineEdit
from ...htmx import render
from ...models.ticket import EvidenceItem
from ...permissions import Permission, require
from .. import bp
from ..labels import CATEGORY_LABELS
from ..settings.routes import settings_tabs
from . import checklist
from .forms import EvidenceItemCreateForm, EvidenceItemForm

PAGE = "tickets/settings/evidence.html"
HELPERS = {"category_labels": CATEGORY_LABELS, "settings_tabs": settings_tabs}


def _reason_choices() -> list[tuple[str, str]]:
    return [("", _("Choose a reason"))] + [
        (str(r.id), f"{CATEGORY_LABELS.get(r.category, r.category)} · {r.name}")
        for r in checklist.reasons_with_checklists()]


def _prepare(form, _item=None) -> None:
    if hasattr(form, "reason_id"):
        form.reason_id.choices = _reason_choices()


def _groups() -> list[tuple]:
    """(reason, its items incl. inactive) for every reason that may carry a checklist (the items of
    all reasons in one statement)."""
    reasons = checklist.reasons_with_checklists()
    items = checklist.items_by_reason([reason.id for reason in reasons], include_inactive=True)
    return [(reason, items[reason.id]) for reason in reasons]


def _page(create_form=None):
    """The checklists page (the table alone for htmx)."""
    if create_form is None:
        create_form = EvidenceItemCreateForm(formdata=None)
        _prepare(create_form)
    return render(PAGE, block="evidence_item_table", groups=_groups(), create_form=create_form, kit=EVIDENCE,
                  active_tab="evidence", **HELPERS)


EVIDENCE = InlineEdit(
    name="evidence_item", model=EvidenceItem, template=PAGE, list_endpoint="tickets.evidence_items",
    edit_form=EvidenceItemForm,
    describe=lambda item: _("evidence item %(name)s", name=item.name),
    row_context=lambda item: {"item": item}, colspan=3, prepare_form=_prepare,
    save=lambda item, form, version: checklist.update_item(current_user, item, version=version,
                                                           name=form.name.data),
    set_active=lambda item, active: checklist.set_item_active(current_user, item, active),
    create_form=EvidenceItemCreateForm, page=_page,
    create=lambda form: checklist.create_item(current_user, form.reason_id.data, form.name.data),
    extra_context=HELPERS,
)
EVIDENCE.register(bp, "/evidence-items", Permission.MANAGE_DEADLINE_RULES)


@bp.route("/evidence-items")
@require(Permission.MANAGE_DEADLINE_RULES)
def evidence_items():
    """The evidence checklist of each reason: rename, deactivate, add items."""
    return _page()
