"""Forms of the ticket settings pages. The service repeats every rule that matters
(duplicates, categories, limits); these give early, field-level messages.

Time limits are entered as hours + minutes and stored as whole minutes. Edit
forms carry no version field: the inline-edit kit (``kdcs/crud.py``) posts and
checks the version itself.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ...models.ticket import CountingMode
from ...request_args import id_or_none, id_or_zero
from ..deadlines import DEFAULT_WINDOW
from .service import (
    CALENDAR_NAME_MAX,
    CANNED_BODY_MAX,
    CANNED_TITLE_MAX,
    MAX_DEADLINE_MINUTES,
    REASON_NAME_MAX,
    RULE_NOTE_MAX,
)

MAX_HOURS = MAX_DEADLINE_MINUTES // 60




def _hours(label):
    return IntegerField(label, default=0, validators=[
        Optional(), NumberRange(min=0, max=MAX_HOURS, message=_l("0 to %(n)d hours.", n=MAX_HOURS)),
    ], render_kw={"min": 0, "max": MAX_HOURS, "inputmode": "numeric"})


def _mins(label):
    return IntegerField(label, default=0, validators=[
        Optional(), NumberRange(min=0, max=59, message=_l("0 to 59 minutes.")),
    ], render_kw={"min": 0, "max": 59, "inputmode": "numeric"})


class RuleForm(FlaskForm):
    """A deadline rule: scope (brand, category, reason), reply/resolve times, counting mode, window."""
    # Choices are set by the view; the service checks that the ids exist.
    brand_id = SelectField(_l("Brand"), coerce=id_or_zero, validate_choice=False)
    category = SelectField(_l("Category"), validators=[DataRequired(_l("Choose a category."))])
    reason_id = SelectField(_l("Reason"), coerce=id_or_zero, validate_choice=False)
    reply_hours = _hours(_l("Reply within: hours"))
    reply_mins = _mins(_l("Reply within: minutes"))
    resolve_hours = _hours(_l("Resolve within: hours"))
    resolve_mins = _mins(_l("Resolve within: minutes"))
    mode = SelectField(_l("Counting"), default=CountingMode.CLOCK.value)
    service_start = TimeField(_l("Service hours from"), default=DEFAULT_WINDOW[0], validators=[Optional()],
                              render_kw={"step": 60})
    service_end = TimeField(_l("Service hours until"), default=DEFAULT_WINDOW[1], validators=[Optional()],
                            render_kw={"step": 60})
    note = StringField(_l("Note"), validators=[Length(max=RULE_NOTE_MAX, message=_l("At most %(max)d characters."))])

    @property
    def reply_minutes(self) -> int:
        """Reply time in minutes (hours and minutes fields combined)."""
        return (self.reply_hours.data or 0) * 60 + (self.reply_mins.data or 0)

    @property
    def resolve_minutes(self) -> int:
        """Resolve time in minutes (hours and minutes fields combined)."""
        return (self.resolve_hours.data or 0) * 60 + (self.resolve_mins.data or 0)

    def set_minutes(self, reply: int, resolve: int) -> None:
        """Fill the hours and minutes fields from minute totals."""
        self.reply_hours.data, self.reply_mins.data = divmod(reply or 0, 60)
        self.resolve_hours.data, self.resolve_mins.data = divmod(resolve or 0, 60)


class ReasonForm(FlaskForm):
    """A new reason in a category's list."""
    category = SelectField(_l("Category"), validators=[DataRequired(_l("Choose a category."))])
    name = StringField(_l("Reason"), validators=[
        DataRequired(_l("Enter a reason.")),
        Length(max=REASON_NAME_MAX, message=_l("At most %(max)d characters.")),
    ])


class ReasonRenameForm(FlaskForm):
    """A reason's new name (its category stays)."""
    name = StringField(_l("Reason"), validators=[
        DataRequired(_l("Enter a reason.")),
        Length(max=REASON_NAME_MAX, message=_l("At most %(max)d characters.")),
    ])


class CannedReplyForm(FlaskForm):
    """A canned reply: category (empty for all), title, text."""
    # "" = every category
    category = SelectField(_l("Category"), validate_choice=True)
    reason_id = SelectField(_l("Reason"), coerce=id_or_none, validate_choice=False)  # None: every reason
    title = StringField(_l("Title"), validators=[
        DataRequired(_l("Enter a title.")),
        Length(max=CANNED_TITLE_MAX, message=_l("At most %(max)d characters.")),
    ])
    body = TextAreaField(_l("Text"), validators=[
        DataRequired(_l("Enter the text of the reply.")),
        Length(max=CANNED_BODY_MAX, message=_l("At most %(max)d characters.")),
    ], render_kw={"rows": 3})


class CalendarDayForm(FlaskForm):
    """One calendar day: working day or day off, and its holiday name (the view checks the posted version)."""
    is_workday = RadioField(_l("This day is"), choices=[("1", _l("a working day")), ("0", _l("a day off"))],
                            validators=[InputRequired(_l("Choose working day or day off."))])
    name = StringField(_l("Holiday name"), validators=[
        Length(max=CALENDAR_NAME_MAX, message=_l("At most %(max)d characters.")),
    ])


class CalendarLoadForm(FlaskForm):
    """The year to load from chinesecalendar."""
    year = IntegerField(_l("Year"), validators=[InputRequired(_l("Enter a year.")),
                                                NumberRange(min=2000, max=2100, message=_l("Enter a year such as 2026."))])
