"""Ticket forms. The rules (allowed transitions, who may be assigned, money,
waybill format, outlet scope) live in ``service``; these forms only carry the
fields, the labels and the ticket ``version`` every write sends back.

The detail page shows several forms at once, so each has a prefix (``status-``,
``assign-`` ...) to keep field names and element ids apart.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import DateTimeLocalField
from wtforms.validators import Length, Optional

from ..filters import SHANGHAI
from ..request_args import id_or_none
from .labels import choices

_MAX = _l("At most %(max)d characters.")
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"




def as_shanghai(value: datetime | None) -> datetime | None:
    """A naive datetime-local value is Shanghai wall time; make it aware."""
    if value is None:
        return None
    return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value


class _Versioned(FlaskForm):
    version = HiddenField()  # the version the user saw; an old one -> StaleEdit (409)


class _Keyed(_Versioned):
    key = HiddenField()  # idempotency key, new for each rendered form: a double submit stores once


class NoteForm(_Keyed):
    body = TextAreaField(_l("Internal note"), validators=[Length(max=2000, message=_MAX)])


class StatusForm(_Versioned):
    to_status = SelectField(_l("New status"), validate_choice=False)
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000, message=_MAX)])


class AssignForm(_Versioned):
    assignee_id = SelectField(_l("Assign to"), coerce=id_or_none, validate_choice=False)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000, message=_MAX)])


class ReplyForm(_Keyed):
    """A reply given (回复记录): the box stays on the ticket page after the first one."""

    channel = SelectField(_l("Channel"), validate_choice=False)
    body = TextAreaField(_l("What was replied"), validators=[Length(max=4000, message=_MAX)])
    sent_at = DateTimeLocalField(_l("Sent at"), format=DATETIME_LOCAL, validators=[Optional()])
    corrects_id = SelectField(_l("Corrects"), coerce=id_or_none, validate_choice=False)
    set_status = SelectField(_l("Then set the status to"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = choices("channel")


class FineForm(_Keyed):
    # Text, never a float: the service parses exact Decimals.
    amount = StringField(_l("Fine (¥)"))
    bearer = SelectField(_l("Borne by"), validate_choice=False)
    agent_share = StringField(_l("Agent's share (¥)"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000, message=_MAX)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bearer.choices = choices("fine_bearer")


class ReopenForm(_Versioned):
    reason = TextAreaField(_l("Why reopen"), validators=[Length(max=2000, message=_MAX)])


class TicketCreateForm(FlaskForm):
    outlet_id = SelectField(_l("Outlet"), coerce=id_or_none, validate_choice=False)
    direction = SelectField(_l("Direction"), validate_choice=False)
    category = SelectField(_l("Category"), validate_choice=False)
    reason_id = SelectField(_l("Reason"), coerce=id_or_none, validate_choice=False)
    waybill_no = StringField(_l("Waybill number"))
    registered_at = DateTimeLocalField(_l("Registered in the brand system"), format=DATETIME_LOCAL,
                                       validators=[Optional()])
    customer_name = StringField(_l("Customer name"), validators=[Optional(), Length(max=32, message=_MAX)])
    customer_phone = StringField(_l("Customer phone"), validators=[Optional(), Length(max=32, message=_MAX)])
    priority = SelectField(_l("Priority"), validate_choice=False)
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000, message=_MAX)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.direction.choices = choices("direction")
        self.category.choices = choices("category")
        self.priority.choices = choices("priority")


class BulkForm(FlaskForm):
    action = SelectField(_l("Bulk action"), validate_choice=False)  # service.BULK_ACTIONS
    assignee_id = SelectField(_l("Assignee"), coerce=id_or_none, validate_choice=False)
    to_status = SelectField(_l("Status"), validate_choice=False)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000, message=_MAX)])
