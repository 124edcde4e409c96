"""Forms of the certification pages: a practical sign-off and a reset. The service checks the
rules (score range, pass score, note required); these carry the values and CSRF."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField


class SignoffForm(FlaskForm):
    """The outcome of one practical item: verdict, score, comment (checklist lines: ``ticked``)."""

    passed = RadioField(_l("Outcome"), choices=[("1", _l("Passed")), ("0", _l("Not passed yet"))], default="1",
                        validate_choice=False)  # anything but "1" is "not passed"
    score = StringField(_l("Score (0-100)"), render_kw={"inputmode": "numeric", "maxlength": 3, "autocomplete": "off"})
    comment = TextAreaField(_l("Comment"), render_kw={"rows": 3, "maxlength": 2000})


class ResetForm(FlaskForm):
    """Archive one agent's attempts and sign-offs of a course, with a note."""

    note = TextAreaField(_l("Why reset"), render_kw={"rows": 2, "maxlength": 500})
