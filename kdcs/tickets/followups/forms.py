"""The follow-up forms: a new promise on the ticket page, and closing one (done with its outcome, or cancelled)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import DateTimeLocalField
from wtforms.validators import Length, Optional

from ..forms import DATETIME_LOCAL, FormView, _control
from . import rules
from .service import PARTY_LABELS

PREFIX = "follow_up"


class FollowUpForm(FlaskForm):
    """跟进: to whom, what, by when (Beijing wall time); its key stores a double submit once."""

    key = HiddenField()
    party = SelectField(_l("Promised to"), validate_choice=False)
    promise = TextAreaField(_l("What you promised"),
                            validators=[Length(max=rules.PROMISE_MAX, message=_l("At most %(max)d characters."))])
    due_at = DateTimeLocalField(_l("By when"), format=DATETIME_LOCAL, validators=[Optional()])


class CloseForm(FlaskForm):
    """Closing a follow-up: what came of it (optional), and where the form was (the ticket or 我的跟进)."""

    outcome = StringField(_l("Outcome"), validators=[Length(max=rules.OUTCOME_MAX,
                                                            message=_l("At most %(max)d characters."))])
    origin = HiddenField()


def party_choices() -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in PARTY_LABELS.items()]


def follow_up_view(key: str, form: FollowUpForm | None = None) -> FormView:
    """The new-follow-up form as the ticket page shows it: fresh, or the user's refused form as sent."""
    if form is not None:
        form.party.choices = party_choices()
        return FormView.of(form)
    p = PREFIX
    return FormView(p, {"key": _control(FollowUpForm, p, "key", key),
                        "party": _control(FollowUpForm, p, "party", choices=party_choices(), data="customer"),
                        "promise": _control(FollowUpForm, p, "promise"),
                        "due_at": _control(FollowUpForm, p, "due_at")})
