"""Forms of the SOP editor and the review page. The service checks every rule that
matters (lengths, kinds, reasons, teams, deadlines); these carry the values and CSRF.

Steps are a list the editor adds to, removes from and reorders, so they are not a
WTForms field: ``steps_from_form`` reads the repeated ``step_text`` / ``step_limit``
/ ``step_unit`` inputs and ``apply_step_op`` carries out an add/remove/up/down button.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..request_args import bounded_int, id_or_none
from ..tickets.labels import CATEGORY_LABELS
from ..workcalendar import SHANGHAI
from .labels import KIND_LABELS

# unit → minutes
UNITS = {"min": 1, "h": 60, "d": 1440}
UNIT_LABELS = {"min": _l("minutes"), "h": _l("hours"), "d": _l("days")}


def _int_or_none(value):
    try:
        return bounded_int(value)
    except (TypeError, ValueError):
        return None


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes; unknown values are left for the service to refuse."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:
        return None


class DraftForm(FlaskForm):
    """A draft: the scenario's classification and the version's content."""

    title = StringField(_l("Title"), render_kw={"maxlength": 100, "autocomplete": "off"})
    kind = SelectField(_l("Kind"), choices=[(k.value, v) for k, v in KIND_LABELS.items()])
    tags = StringField(_l("Tags"), render_kw={"autocomplete": "off"})
    categories = CheckboxesField(_l("Ticket categories"), choices=[(k.value, v) for k, v in CATEGORY_LABELS.items()])
    reason_ids = CheckboxesField(_l("Ticket reasons"), coerce=id_or_none)  # choices: the view
    script = TextAreaField(_l("Script"), render_kw={"rows": 14})
    max_compensation = StringField(_l("Compensation an agent may decide alone (yuan)"),
                                   render_kw={"inputmode": "decimal", "autocomplete": "off"})
    authority = TextAreaField(_l("Authority"), render_kw={"rows": 4})
    escalation = TextAreaField(_l("Escalate to the lead when"), render_kw={"rows": 3})
    change_note = TextAreaField(_l("Change note"), render_kw={"rows": 2, "maxlength": 500})
    version = HiddenField()

    def content(self, steps: list[dict]) -> dict:
        """The fields as the service takes them."""
        return {
            "title": self.title.data, "kind": self.kind.data, "tags": self.tags.data,
            "categories": self.categories.data or [], "reason_ids": [r for r in self.reason_ids.data or [] if r],
            "script": self.script.data, "steps": steps, "authority": self.authority.data,
            "escalation": self.escalation.data, "max_compensation": self.max_compensation.data,
            "change_note": self.change_note.data,
        }


class _ReadingFields:
    """How a version is published: required reading for all agents or chosen teams, by when; minor edit."""

    required_reading = BooleanField(_l("Required reading (必读)"))
    team_ids = CheckboxesField(_l("Only for these teams (none chosen: every agent)"), coerce=id_or_none)
    due_at = DateTimeLocalField(_l("Read by"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    minor_edit = BooleanField(_l("Minor edit: no new acknowledgement"))

    def reading(self) -> dict:
        """The options as ``approve`` / ``publish_directly`` take them (``due_at`` in UTC)."""
        due = self.due_at.data
        if isinstance(due, datetime) and due.tzinfo is None:
            due = due.replace(tzinfo=SHANGHAI)
        return {"required_reading": bool(self.required_reading.data),
                "team_ids": [t for t in self.team_ids.data or [] if t],
                "due_at": due, "minor_edit": bool(self.minor_edit.data)}


class PublishForm(_ReadingFields, FlaskForm):
    """The publishing options inside the draft form (which carries the CSRF token) when review is off."""

    class Meta:
        csrf = False


class ApproveForm(_ReadingFields, FlaskForm):
    """Approve a draft in review, with the publishing options and an optional comment."""

    comment = TextAreaField(_l("Comment (optional)"), render_kw={"rows": 2, "maxlength": 1000})
    version = HiddenField()


class ReturnForm(FlaskForm):
    """Return a draft with what should change."""

    comment = TextAreaField(_l("What should change"), render_kw={"rows": 3, "maxlength": 1000})
    version = HiddenField()


def steps_from_form(formdata) -> list[dict]:
    """The editor's step rows: [{"text", "limit_minutes", "amount", "unit"}] in page order."""
    texts = formdata.getlist("step_text")
    amounts = formdata.getlist("step_limit")
    units = formdata.getlist("step_unit")
    steps = []
    for index, text in enumerate(texts):
        raw = amounts[index].strip() if index < len(amounts) else ""
        unit = units[index] if index < len(units) and units[index] in UNITS else "min"
        amount = _int_or_none(raw)
        if raw and (amount is None or amount <= 0):
            minutes = -1  # the service refuses it with the step's number
        else:
            minutes = amount * UNITS[unit] if amount else None
        steps.append({"text": text, "limit_minutes": minutes, "amount": raw, "unit": unit})
    return steps


def step_rows(steps: list[dict]) -> list[dict]:
    """Stored steps as editor rows (a limit shown in the largest whole unit)."""
    rows = []
    for step in steps or []:
        if "amount" in step:
            rows.append(step)
            continue
        minutes = step.get("limit_minutes")
        unit, amount = "min", ""
        if minutes:
            unit = "d" if minutes % 1440 == 0 else "h" if minutes % 60 == 0 else "min"
            amount = str(minutes // UNITS[unit])
        rows.append({"text": step.get("text", ""), "limit_minutes": minutes, "amount": amount, "unit": unit})
    return rows


def apply_step_op(steps: list[dict], op: str) -> list[dict]:
    """Carry out a step button: "add", "remove:<i>", "up:<i>", "down:<i>" (0-based)."""
    steps = list(steps)
    verb, _sep, raw = (op or "").partition(":")
    index = _int_or_none(raw)
    if verb == "add":
        steps.append({"text": "", "limit_minutes": None, "amount": "", "unit": "min"})
    elif index is not None and 0 <= index < len(steps):
        if verb == "remove":
            steps.pop(index)
        elif verb == "up" and index > 0:
            steps[index - 1], steps[index] = steps[index], steps[index - 1]
        elif verb == "down" and index < len(steps) - 1:
            steps[index + 1], steps[index] = steps[index], steps[index + 1]
    return steps


def service_steps(steps: list[dict]) -> list[dict]:
    """Editor rows as the service takes them."""
    return [{"text": s.get("text", ""), "limit_minutes": s.get("limit_minutes")} for s in steps]
