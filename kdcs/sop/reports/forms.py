"""Forms of the reports: the agent's report and the trainer's resolution."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import Length

from ...request_args import id_or_none as int_or_none

_MAX = _l("At most %(max)d characters.")


class ReportForm(FlaskForm):
    """"This SOP is wrong or misses a case": the note, and what it is about (hidden)."""

    note = TextAreaField(_l("What is wrong or missing?"), validators=[Length(max=2000, message=_MAX)])
    scenario_id = HiddenField()
    version_id = HiddenField()
    ticket_id = HiddenField()
    next = HiddenField()


class ResolveForm(FlaskForm):
    """A trainer links the version that fixes the report, answers the reporter, or both."""

    version = HiddenField()
    resolved_version_id = SelectField(_l("Version that fixes it"), coerce=int_or_none, validate_choice=False)
    answer = TextAreaField(_l("Answer to the reporter"), validators=[Length(max=2000, message=_MAX)])
