"""Forms of the course pages. The service checks every rule that matters (lengths, kinds, scenarios,
days); these carry the values and CSRF."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField

from ...models.training import PracticalKind
from .labels import KIND_LABELS, PRACTICAL_LABELS


class CourseForm(FlaskForm):
    """A course's title, summary, kind, 上岗必修 flag and how long a pass lasts."""

    title = StringField(_l("Title"), render_kw={"maxlength": 100, "autocomplete": "off"})
    summary = TextAreaField(_l("Course summary"), render_kw={"rows": 3})
    kind = SelectField(_l("Type"), choices=[(k.value, v) for k, v in KIND_LABELS.items()])
    required_for_live = BooleanField(_l("Required to go live"))
    recert_days = StringField(_l("Re-pass within (days)"), default="14",
                              render_kw={"inputmode": "numeric", "maxlength": 4, "autocomplete": "off"})
    valid_days = StringField(_l("A pass is valid for (days)"),
                             render_kw={"inputmode": "numeric", "maxlength": 5, "autocomplete": "off"})
    version = HiddenField()


class PublishForm(FlaskForm):
    """Publish (again): a required change makes agents who passed re-pass; its note says why."""

    version = HiddenField()
    required_change = SelectField(_l("Kind of change"), validate_choice=False, default="0", choices=[
        ("0", _l("A minor change (wording, typo): nobody needs to re-pass")),
        ("1", _l("A required change: agents who passed must re-pass")),
    ])
    note = TextAreaField(_l("Change note"), render_kw={"rows": 2, "maxlength": 500})


class LessonAddForm(FlaskForm):
    """A new lesson's title."""

    title = StringField(_l("Lesson title"), render_kw={"maxlength": 100, "autocomplete": "off"})


class LessonForm(FlaskForm):
    """A lesson: title, Markdown body, an embedded SOP scenario."""

    title = StringField(_l("Title"), render_kw={"maxlength": 100, "autocomplete": "off"})
    body = TextAreaField(_l("Content (Markdown)"), render_kw={"rows": 18})
    sop_scenario_id = SelectField(_l("Embedded SOP scenario"), choices=[], validate_choice=False)
    version = HiddenField()


class FileForm(FlaskForm):
    """One file for a lesson."""

    file = FileField(_l("File"))


class PracticalForm(FlaskForm):
    """A practical item: 情景模拟 of an SOP scenario, or 实战带教 for N days, with a checklist."""

    kind = SelectField(_l("Type"), choices=[(k.value, v) for k, v in PRACTICAL_LABELS.items()],
                       default=PracticalKind.ROLE_PLAY.value)
    title = StringField(_l("Title"), render_kw={"maxlength": 100, "autocomplete": "off"})
    sop_scenario_id = SelectField(_l("SOP scenario (role play)"), choices=[], validate_choice=False)
    days = StringField(_l("Days (supervised work)"), render_kw={"inputmode": "numeric", "size": 4})
    checklist = TextAreaField(_l("Checklist (one item a line)"), render_kw={"rows": 4})
    pass_score = StringField(_l("Pass score (0–100, optional)"), render_kw={"inputmode": "numeric", "size": 4})
    description = TextAreaField(_l("Notes"), render_kw={"rows": 2})
    version = HiddenField()
