"""The labour cost form. The service repeats every rule (month, amount, note); this carries the
input so a message appears beside its field."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField


class LabourCostForm(FlaskForm):
    month = StringField(_l("From month"), render_kw={"type": "month", "required": True})
    amount = StringField(_l("Monthly labour cost (yuan)"),
                         render_kw={"inputmode": "decimal", "placeholder": "6500", "autocomplete": "off"})
    note = StringField(_l("Note"), render_kw={"maxlength": 200, "autocomplete": "off"})
    back = HiddenField()  # "list": the month's table; otherwise the person's page
