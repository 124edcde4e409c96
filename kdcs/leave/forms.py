"""Forms of the leave pages. The service repeats every rule (dates, notice, substitutes);
these parse the input and give early, field-level messages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..request_args import id_or_zero

PART_START = [("full", _l("Full day")), ("pm", _l("From the afternoon"))]
PART_END = [("full", _l("Full day")), ("am", _l("Until noon"))]


class RequestForm(FlaskForm):
    type_id = SelectField(_l("Leave type"), coerce=id_or_zero, validate_choice=False)
    start_date = DateField(_l("First day"), validators=[InputRequired(_l("Enter the first day."))],
                           render_kw={"type": "date"})
    start_part = SelectField(_l("Starts"), choices=PART_START, validate_choice=False)
    end_date = DateField(_l("Last day"), validators=[InputRequired(_l("Enter the last day."))],
                         render_kw={"type": "date"})
    end_part = SelectField(_l("Ends"), choices=PART_END, validate_choice=False)
    reason = TextAreaField(_l("Reason"), validators=[Length(max=500, message=_l("At most %(max)d characters."))])
    substitute_id = SelectField(_l("Substitute for all outlets"), coerce=id_or_zero, validate_choice=False)
    proof_later = BooleanField(_l("I will hand in the proof after the leave (where the type allows it)"))


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Length(max=500, message=_l("At most %(max)d characters."))])


class DecisionForm(NoteForm):
    short_notice_override = BooleanField(_l("Allow the short notice"))
    balance_override = BooleanField(_l("Allow beyond the balance"))
    team_override = BooleanField(_l("Allow a substitute from another team"))


class StaffingForm(FlaskForm):
    min_agents = IntegerField(_l("Minimum agents at work"), validators=[
        InputRequired(_l("Enter a number from 0 to 999.")),
        NumberRange(min=0, max=999, message=_l("Enter a number from 0 to 999."))])


class FallbackForm(FlaskForm):
    user_id = SelectField(_l("Fallback approver"), coerce=id_or_zero, validate_choice=False)


def _days(label):
    return DecimalField(label, places=1, validators=[Optional(), NumberRange(
        min=0, max=366, message=_l("Enter whole or half days from 0 to 366."))])


class LeaveTypeForm(FlaskForm):
    name = StringField(_l("Type name"), validators=[DataRequired(_l("Enter the type's name.")),
                                                Length(max=32, message=_l("At most %(max)d characters."))])
    notice_days = IntegerField(_l("Notice (days)"), default=2, validators=[
        InputRequired(_l("Enter a number of days from 0 to 365.")),
        NumberRange(min=0, max=365, message=_l("Enter a number of days from 0 to 365."))])
    short_notice_allowed = BooleanField(_l("Short notice with the lead's override"))
    min_days = _days(_l("Minimum (working days)"))
    max_days = _days(_l("Maximum (working days)"))
    half_days_allowed = BooleanField(_l("Half days"), default=True)
    proof_required = BooleanField(_l("Proof required"))
    proof_after_allowed = BooleanField(_l("Proof may follow"))
    yearly_allowance_days = _days(_l("Yearly allowance (days)"))

    def values(self) -> dict:
        """The fields as service keyword arguments."""
        return {name: self[name].data for name in (
            "name", "notice_days", "short_notice_allowed", "min_days", "max_days", "half_days_allowed",
            "proof_required", "proof_after_allowed", "yearly_allowance_days")}
