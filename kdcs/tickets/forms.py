"""Ticket forms. The rules (allowed transitions, who may be assigned, money,
waybill format, outlet scope) live in ``service``; these forms only carry the
fields, the labels and the ticket ``version`` every write sends back.

The detail page shows several forms at once, so each has a prefix (``status-``,
``assign-`` ...) to keep field names and element ids apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
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
    follow_up = SelectField(_l("Follow up"), validate_choice=False)  # the service checks the choice

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = choices("channel")
        self.follow_up.choices = follow_up_choices()


def follow_up_choices() -> list[tuple[str, str]]:
    """The reply form's 跟进 choices: none, or a time the reply promised (followups.rules.REPLY_PRESETS);
    translated once per catalog (every ticket page and write answer shows them)."""
    from .labels import kept_text

    return kept_text(("reply_follow_up_choices",), _follow_up_choices)


def _follow_up_choices() -> list[tuple[str, str]]:
    from .followups.rules import REPLY_PRESET_LABELS

    return [(code, str(label)) for code, label in REPLY_PRESET_LABELS.items()]


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


# --------------------------------------------------------------------------- display
# The ticket page shows six forms at once. Building them as WTForms forms and rendering their
# widgets was a fifth of the page's CPU, so a form that is only displayed is a ``FormView`` of
# ``Control``s rendered by the plain macros of templates/tickets/_controls.html (the same HTML:
# names, ids, values, flags). A refused POST re-renders the WTForms form the user sent, seen
# through ``FormView.of`` (its data and errors); WTForms still validates every POST.


CONTROLS = "tickets/_controls.html"


def controls():
    """The macros of tickets/_controls.html as ``c`` for the ticket page and the evidence box: the
    template's module, made once per loaded template. An ``{% import %}`` in a block costs a set
    difference over every Jinja global on each render (jinja2 ``_get_default_module``)."""
    from flask import current_app

    return current_app.jinja_env.get_template(CONTROLS).module


@dataclass
class Control:
    """One control of a displayed form: what the macros need to render it as WTForms would."""

    id: str
    name: str
    label: str = ""
    value: str = ""
    errors: list = dataclass_field(default_factory=list)
    # select: (value, label, selected) as WTForms' iter_choices gives them
    choices: list[tuple[str, str, bool]] = dataclass_field(default_factory=list)
    maxlength: int | None = None


class FormView:
    """A displayed form: ``prefix``, its controls as attributes, ``errors`` (field name -> messages);
    ``csrf``: the request's CSRF token when the page looked it up once for all its forms (else the
    macro asks ``csrf_token()``)."""

    csrf: str | None = None

    def __init__(self, prefix: str, controls: dict[str, Control], errors: dict | None = None):
        self.prefix = prefix
        self.errors = errors or {}
        self.__dict__.update(controls)

    @classmethod
    def of(cls, form) -> FormView:
        """A WTForms form (a refused POST, as the user sent it) seen as a ``FormView``."""
        controls = {}
        for name, f in form._fields.items():
            control = Control(f.id, f.name, str(f.label.text), errors=list(f.errors),
                              maxlength=getattr(f.flags, "maxlength", None))
            if hasattr(f, "iter_choices"):
                control.choices = [(str(value), str(label), bool(selected))
                                   for value, label, selected, *_ in f.iter_choices()]
            else:
                value = f._value()
                control.value = "" if value is None else str(value)
            controls[name] = control
        return cls(form._prefix.rstrip("-"), controls, form.errors)


def _maxlength(unbound) -> int | None:
    for validator in unbound.kwargs.get("validators") or []:
        if isinstance(validator, Length) and validator.max is not None and validator.max >= 0:
            return validator.max
    return None


def _label(form_class, name: str, unbound) -> str:
    """The field's label in the request's language (kept per catalog: the same few on every page)."""
    from .labels import kept_text

    return kept_text(("form_label", form_class.__name__, name), _declared_label, unbound)


def _declared_label(unbound) -> str:
    label = unbound.args[0] if unbound.args else unbound.kwargs.get("label", "")
    return str(label) if label else ""


def _static(form_class, prefix: str, name: str) -> tuple[str, str, int | None]:
    """(id and name, label, maxlength) of a field as declared: kept per catalog with the labels."""
    from .labels import kept_text

    return kept_text(("control", form_class, prefix, name), _declared, form_class, prefix, name)


def _declared(form_class, prefix: str, name: str) -> tuple[str, str, int | None]:
    unbound = getattr(form_class, name)
    return (f"{prefix}-{name}", _label(form_class, name, unbound), _maxlength(unbound))


def _control(form_class, prefix: str, name: str, value="", choices=None, data=None, coerce=str) -> Control:
    """A fresh control of ``form_class``'s field ``name`` (label and maxlength from its declaration);
    a select's options marked selected as WTForms marks them (``coerce(value) == data``)."""
    ident, label, maxlength = _static(form_class, prefix, name)
    control = Control(ident, ident, label, "" if value is None else str(value), maxlength=maxlength)
    if choices is not None:
        control.choices = [(str(v), str(text), coerce(v) == data) for v, text in choices]
    return control


def note_view(version: str, key: str) -> FormView:
    """The note box as a fresh page shows it."""
    p = "note"
    return FormView(p, {"version": _control(NoteForm, p, "version", version), "key": _control(NoteForm, p, "key", key),
                        "body": _control(NoteForm, p, "body")})


def status_view(version: str, transitions: list[tuple[str, str]]) -> FormView:
    p = "status"
    return FormView(p, {"version": _control(StatusForm, p, "version", version),
                        "to_status": _control(StatusForm, p, "to_status", choices=transitions),
                        "note": _control(StatusForm, p, "note")})


def assign_view(version: str, assignees: list[tuple]) -> FormView:
    p = "assign"
    return FormView(p, {"version": _control(AssignForm, p, "version", version),
                        "assignee_id": _control(AssignForm, p, "assignee_id", choices=assignees, coerce=id_or_none),
                        "note": _control(AssignForm, p, "note")})


def reply_view(version: str, key: str, corrects: list[tuple], set_status: list[tuple]) -> FormView:
    p = "reply"
    return FormView(p, {"version": _control(ReplyForm, p, "version", version), "key": _control(ReplyForm, p, "key", key),
                        "channel": _control(ReplyForm, p, "channel", choices=choices("channel")),
                        "body": _control(ReplyForm, p, "body"),
                        "sent_at": _control(ReplyForm, p, "sent_at"),
                        "corrects_id": _control(ReplyForm, p, "corrects_id", choices=corrects, coerce=id_or_none),
                        "set_status": _control(ReplyForm, p, "set_status", choices=set_status),
                        "follow_up": _control(ReplyForm, p, "follow_up", choices=follow_up_choices())})


def fine_view(version: str, key: str, amount: str = "", bearer: str | None = None, agent_share: str = "") -> FormView:
    p = "fine"
    return FormView(p, {"version": _control(FineForm, p, "version", version), "key": _control(FineForm, p, "key", key),
                        "amount": _control(FineForm, p, "amount", amount),
                        "bearer": _control(FineForm, p, "bearer", choices=choices("fine_bearer"), data=bearer),
                        "agent_share": _control(FineForm, p, "agent_share", agent_share),
                        "note": _control(FineForm, p, "note")})


def reopen_view(version: str) -> FormView:
    p = "reopen"
    return FormView(p, {"version": _control(ReopenForm, p, "version", version), "reason": _control(ReopenForm, p, "reason")})
