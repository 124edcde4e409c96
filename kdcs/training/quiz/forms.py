"""Question bank and quiz settings forms. Rules that need more than one field live in the service."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from ...models.training import QuestionKind, ReviewPolicy
from .service import MAX_OPTIONS

_MAX = _l("At most %(max)d characters.")
KIND_CHOICES = [(QuestionKind.SINGLE.value, _l("Single choice")), (QuestionKind.MULTIPLE.value, _l("Multiple choice")),
                (QuestionKind.TRUE_FALSE.value, _l("True or false"))]
REVIEW_CHOICES = [(ReviewPolicy.SCORE.value, _l("Score only")),
                  (ReviewPolicy.WRONG.value, _l("Which questions were wrong")),
                  (ReviewPolicy.FULL.value, _l("Right answers and explanations"))]


class QuestionForm(FlaskForm):
    """One question: kind, text, up to six options (blank ones dropped), the correct ones, explanation, tags."""

    kind = SelectField(_l("Question kind"), choices=KIND_CHOICES, validate_choice=False)
    text = TextAreaField(_l("Question"), validators=[Length(max=2000, message=_MAX)])
    correct = SelectMultipleField(_l("Correct options"), choices=[(str(i), str(i)) for i in range(MAX_OPTIONS)],
                                  validate_choice=False)
    explanation = TextAreaField(_l("Explanation"), validators=[Optional(), Length(max=2000, message=_MAX)])
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=200, message=_MAX)])
    version = HiddenField()


for _index in range(MAX_OPTIONS):
    setattr(QuestionForm, f"option{_index}", StringField(_l("Option %(letter)s", letter="ABCDEF"[_index]),
                                                         validators=[Optional(), Length(max=300, message=_MAX)]))


class SettingsForm(FlaskForm):
    """A course's quiz settings; numbers are parsed by the view, ranges checked by the service."""

    quiz_size = StringField(_l("Questions per attempt"))
    quiz_per_tag = StringField(_l("Questions per tag (optional)"), validators=[Optional(), Length(max=500, message=_MAX)])
    pass_percent = StringField(_l("Pass mark (%)"))
    time_limit_minutes = StringField(_l("Time limit (minutes, empty: none)"))
    max_attempts = StringField(_l("Attempts allowed (empty: unlimited)"))
    retry_wait_minutes = StringField(_l("Wait after a failed attempt (minutes)"))
    review_policy = SelectField(_l("After submitting, agents see"), choices=REVIEW_CHOICES, validate_choice=False)
    version = HiddenField()


class ImportUploadForm(FlaskForm):
    file = FileField(_l("Excel file (.xlsx)"))


class ImportConfirmForm(FlaskForm):
    token = HiddenField()
