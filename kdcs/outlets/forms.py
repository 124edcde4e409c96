"""Outlet forms. Field rules that need the database (unique code, brand, agent) live in the service."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


def _int_or_none(value):
    if value in (None, "", "0", 0, "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class _OutletFields(FlaskForm):
    name = StringField(_l("Outlet name"), validators=[DataRequired(_l("Enter the outlet name.")), Length(max=64)])
    brand_id = SelectField(_l("Brand"), coerce=_int_or_none, validate_choice=False)
    region = StringField(_l("Region"), validators=[Optional(), Length(max=64)])
    contact_name = StringField(_l("Contact"), validators=[Optional(), Length(max=32)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=32)])
    # Text, never a float: the service parses it into an exact Decimal.
    rate_per_parcel = StringField(_l("Rate (¥/parcel)"), validators=[DataRequired(_l("Enter the rate per parcel."))])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=500)])


class OutletCreateForm(_OutletFields):
    code = StringField(_l("Outlet code"), validators=[DataRequired(_l("Enter the outlet code.")), Length(max=32)])
    primary_agent_id = SelectField(_l("Primary agent"), coerce=_int_or_none, validate_choice=False)


class OutletEditForm(_OutletFields):
    version = HiddenField(validators=[DataRequired()])


class AssignForm(FlaskForm):
    agent_id = SelectField(_l("Primary agent"), coerce=_int_or_none, validate_choice=False)
    version = HiddenField()


class ImportUploadForm(FlaskForm):
    file = FileField(_l("Excel file (.xlsx)"))


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
