"""The quality pages' forms. The points per criterion are one field per active criterion
(``c-<id>``), read by the service, which repeats every rule."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..request_args import id_or_zero


class ReviewForm(FlaskForm):
    fatal = BooleanField(_l("Fatal error (the score is 0)"))
    comment = TextAreaField(_l("Feedback to the agent"), render_kw={"rows": 4, "maxlength": 1000})


class CriterionForm(FlaskForm):
    name = StringField(_l("Criterion"), validators=[Length(max=40, message=_l("At most %(max)d characters."))])
    points = IntegerField(_l("Points"), validators=[
        InputRequired(_l("Enter a whole number from 1 to 100.")),
        NumberRange(min=1, max=100, message=_l("Enter a whole number from 1 to 100."))])
    hint = StringField(_l("What earns the points"), validators=[
        Optional(), Length(max=200, message=_l("At most %(max)d characters."))])

    def values(self) -> dict:
        """The fields as service keyword arguments."""
        return {"name": self.name.data or "", "points": self.points.data, "hint": self.hint.data or ""}


class SettingsForm(FlaskForm):
    pass_score = StringField(_l("Pass line (points)"), render_kw={"inputmode": "numeric", "size": 4})
    weekly_target = StringField(_l("Replies to score per agent and week"), render_kw={"inputmode": "numeric", "size": 4})


class AppealForm(FlaskForm):
    appeal_reason = TextAreaField(_l("Why the score is wrong"), render_kw={"rows": 3, "maxlength": 500})


class AppealDecisionForm(FlaskForm):
    fatal = BooleanField(_l("Fatal error (the score is 0)"))
    appeal_note = TextAreaField(_l("Decision and reason"), render_kw={"rows": 3, "maxlength": 500})


class RefresherForm(FlaskForm):
    course_id = SelectField(_l("Course"), coerce=id_or_zero, validate_choice=False)
    due_on = StringField(_l("Due on"), render_kw={"type": "date"})
