"""The labour cost form. The service repeats every rule (month, amount, note); this carries the
input so a message appears beside its field."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField


class LabourCostForm(FlaskForm):
    month = StringField(_l("From month"), render_kw={"type": "month", "required": True})
    amount = StringField(_l("Monthly labour cost (yuan)"),
                         render_kw={"inputmode": "decimal", "placeholder": "6500", "autocomplete": "off"})
    note = StringField(_l("Note"), render_kw={"maxlength": 200, "autocomplete": "off"})
    back = HiddenField()  # "list": the month's table; otherwise the person's page


class PastedCostsForm(FlaskForm):
    month = StringField(_l("From month"), render_kw={"type": "month", "required": True})
    text = TextAreaField(_l("工号 and monthly cost, one person a line"),
                         render_kw={"rows": 6, "spellcheck": "false", "placeholder": "agent1\t6500\nagent2\t5800"})
    note = StringField(_l("Note"), render_kw={"maxlength": 200, "autocomplete": "off"})
