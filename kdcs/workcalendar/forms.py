"""The form of the notice page: the year, the pasted notice, date ranges, the replace confirmation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional

NOTICE_MAX_CHARS = 20000
RANGE_ROWS = 4


class RangeForm(Form):
    """One date range typed by hand: days off or make-up workdays, with a name. Dates are parsed by the view."""
    kind = SelectField(_l("Kind"), choices=[("off", _l("Days off")), ("work", _l("Make-up workdays"))], default="off",
                       validate_choice=False)
    start = StringField(_l("From"))
    end = StringField(_l("To"))
    name = StringField(_l("Holiday name"), validators=[Optional(), Length(max=32, message=_l("At most %(max)d characters."))])


class NoticeForm(FlaskForm):
    """Paste the State Council's notice and/or type date ranges; preview, then save."""
    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(min=2000, max=2100,
                                                message=_l("Enter a year such as 2027."))])
    text = TextAreaField(_l("Text of the notice"), validators=[Length(max=NOTICE_MAX_CHARS,
                         message=_l("The text may have at most %(max)d characters."))])
    ranges = FieldList(FormField(RangeForm), min_entries=RANGE_ROWS, max_entries=RANGE_ROWS)
    replace = BooleanField(_l("Replace the days this year has now"))
    expected = HiddenField()
