"""Outlet forms. Field rules that need the database (unique code, brand, agent) live in the service."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..request_args import id_or_none

_MAX = _l("At most %(max)d characters.")


class _OutletFields(FlaskForm):
    # Required/format rules are checked by the service, so every problem shows at once.
    name = StringField(_l("Outlet name"), validators=[Length(max=64, message=_MAX)])
    brand_id = SelectField(_l("Brand"), coerce=id_or_none, validate_choice=False)
    region = StringField(_l("Region"), validators=[Optional(), Length(max=64, message=_MAX)])
    contact_name = StringField(_l("Contact"), validators=[Optional(), Length(max=32, message=_MAX)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=32, message=_MAX)])
    # Text, never a float: the service parses it into an exact Decimal.
    rate_per_parcel = StringField(_l("Rate (¥/parcel)"))
    overtime_rate = StringField(_l("Overtime rate (¥/hour)"))  # empty: none agreed
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=500, message=_MAX)])


class OutletCreateForm(_OutletFields):
    code = StringField(_l("Outlet code"), validators=[Length(max=32, message=_MAX)])
    primary_agent_id = SelectField(_l("Primary agent"), coerce=id_or_none, validate_choice=False)


class OutletEditForm(_OutletFields):
    version = HiddenField()  # missing or old -> the service raises StaleEdit (409)


class AssignForm(FlaskForm):
    agent_id = SelectField(_l("Primary agent"), coerce=id_or_none, validate_choice=False)
    version = HiddenField()


class ImportUploadForm(FlaskForm):
    file = FileField(_l("Excel file (.xlsx)"))


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


class RateForm(FlaskForm):
    """A rate from a chosen month on; a past month is a correction (ticked, with a note)."""
    month = StringField(_l("From month"))  # 2027-01 (input type=month); parsed by the service's parse_month
    rate = StringField(_l("Rate (¥/parcel)"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200, message=_MAX)])
    correction = BooleanField(_l("This corrects months already billed"))
    version = HiddenField()
