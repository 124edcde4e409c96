"""Forms of the programme and assignment pages (the service checks the rules)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes; unknown values are left for the service to refuse."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:
        return None


class ProgrammeForm(FlaskForm):
    """A programme's title, description, default and active flags."""

    title = StringField(_l("Title"), render_kw={"maxlength": 100, "autocomplete": "off"})
    description = TextAreaField(_l("Notes"), render_kw={"rows": 2})
    is_default = BooleanField(_l("Default: new agents with a start date follow it"))
    is_active = BooleanField(_l("In use"), default=True)
    version = HiddenField()


class ItemForm(FlaskForm):
    """One step of the plan: a course or a practical item on 第 N 天."""

    day_offset = SelectField(_l("Plan day"), choices=[(str(n), str(n)) for n in range(1, 31)])
    item = SelectField(_l("Course or practical item"), choices=[], validate_choice=False)
    note = StringField(_l("Note"), render_kw={"maxlength": 200})


class EnrollForm(FlaskForm):
    """Put an agent on the programme from a start date."""

    user_id = SelectField(_l("Agent"), choices=[], validate_choice=False)
    start_date = DateField(_l("Start date"), validators=[Optional()])


class AssignForm(FlaskForm):
    """Assign a course to agents and/or whole teams with a due date."""

    user_ids = SelectMultipleField(_l("Agents"), choices=[], validate_choice=False, render_kw={"size": 8})
    team_ids = CheckboxesField(_l("Whole teams"), choices=[])
    due_on = DateField(_l("Due date"), validators=[Optional()])
