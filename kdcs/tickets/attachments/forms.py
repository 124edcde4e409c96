"""The evidence forms: upload (several files or a pasted screenshot) and remove with a reason."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, SelectField, StringField
from wtforms.validators import Length

from ...request_args import id_or_none


class UploadForm(FlaskForm):
    files = MultipleFileField(_l("Files"))
    evidence_item_id = SelectField(_l("Evidence item"), coerce=id_or_none, validate_choice=False)
    key = HiddenField()  # one per page load: a resubmitted upload is not stored twice


class RemoveForm(FlaskForm):
    reason = StringField(_l("Why remove it?"), validators=[Length(max=200, message=_l("At most %(max)d characters."))])


class EvidenceItemForm(FlaskForm):
    """An item of a reason's evidence checklist (edit: the name)."""

    name = StringField(_l("Item"), validators=[Length(max=64, message=_l("At most %(max)d characters."))])


class EvidenceItemCreateForm(EvidenceItemForm):
    """A new item: the reason it belongs to and its name."""

    reason_id = SelectField(_l("Reason"), coerce=id_or_none, validate_choice=False)


def upload_view(key: str, item_choices: list[tuple[str, str]], item_id: int | None):
    """The upload form as a fresh page shows it (a ``FormView`` for tickets/_controls.html)."""
    from ..forms import Control, FormView

    return FormView("", {
        "key": Control("key", "key", value=key),
        "evidence_item_id": Control("evidence_item_id", "evidence_item_id", str(UploadForm.evidence_item_id.args[0]),
                                    choices=[(v, text, id_or_none(v) == item_id) for v, text in item_choices]),
        "files": Control("files", "files", str(UploadForm.files.args[0])),
    })
