"""Forms of the teams and brands pages. The service repeats every rule that
matters (uniqueness, who may lead); these give early, field-level messages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from ..request_args import id_or_zero
from .service import BRAND_CODE_MAX, BRAND_NAME_MAX, TEAM_NAME_MAX


class TeamForm(FlaskForm):
    name = StringField(_l("Team name"), validators=[
        DataRequired(_l("Enter a team name.")),
        Length(max=TEAM_NAME_MAX, message=_l("At most %(max)d characters.")),
    ])
    # Any id is accepted here; the service decides who may lead (and says why not).
    lead_id = SelectField(_l("Team lead"), coerce=id_or_zero, validate_choice=False)


class BrandForm(FlaskForm):
    code = StringField(_l("Brand code"), validators=[
        DataRequired(_l("Enter a brand code.")),
        Regexp(rf"^\s*[A-Za-z0-9&_-]{{1,{BRAND_CODE_MAX}}}\s*$",
               message=_l("Up to %(n)d letters or digits (& _ - allowed), e.g. ZTO.", n=BRAND_CODE_MAX)),
    ])
    name = StringField(_l("Brand name"), validators=[
        DataRequired(_l("Enter a brand name.")),
        Length(max=BRAND_NAME_MAX, message=_l("At most %(max)d characters.")),
    ])
