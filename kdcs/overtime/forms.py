"""The overtime page's form. The service repeats every rule (day, hours, outlet, reason); this
parses the input so a message appears beside its field."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from ..request_args import id_or_zero


class RecordForm(FlaskForm):
    outlet_id = SelectField(_l("Outlet"), coerce=id_or_zero, validate_choice=False)
    work_date = StringField(_l("Day worked"), render_kw={"type": "date"})
    hours = StringField(_l("Hours"), render_kw={"inputmode": "decimal", "placeholder": "2.5"})
    note = TextAreaField(_l("Reason"), render_kw={"maxlength": 200, "rows": 2})
