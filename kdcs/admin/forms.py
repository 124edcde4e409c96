from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..request_args import id_or_zero

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{2,32}$"


def role_choices():
    from ..filters import role_label

    return [(r, role_label(r)) for r in ("agent", "trainer", "lead", "admin")]


class UserCreateForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(_l("Enter a username.")),
            Regexp(USERNAME_PATTERN, message=_l("2–32 letters, digits, dot, dash or underscore.")),
        ],
    )
    display_name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=64)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    team_id = SelectField(_l("Team"), coerce=id_or_zero, validators=[Optional()])
    phone = StringField(_l("Phone"), validators=[Optional(), Regexp(r"^[0-9+\- ]{5,20}$", message=_l("Enter a valid phone number."))])
    start_date = DateField(_l("Start date"), validators=[Optional()])  # 入职日期: the 30-day training plan counts from it
    password = PasswordField(_l("Initial password"), validators=[DataRequired(_l("Enter an initial password."))])


class UserEditForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=64)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    team_id = SelectField(_l("Team"), coerce=id_or_zero, validators=[Optional()])
    phone = StringField(_l("Phone"), validators=[Optional(), Regexp(r"^[0-9+\- ]{5,20}$", message=_l("Enter a valid phone number."))])
    start_date = DateField(_l("Start date"), validators=[Optional()])  # 入职日期: the 30-day training plan counts from it


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter a new password."))])
