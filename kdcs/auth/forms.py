from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter your username.")), Length(max=32)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(_l("Enter a new password.")), Length(max=128)]
    )
    confirm_password = PasswordField(
        _l("Repeat new password"),
        validators=[EqualTo("new_password", _l("The two passwords do not match."))],
    )


class EmptyForm(FlaskForm):
    """CSRF-only form for buttons that change state (logout, deactivate ...)."""
