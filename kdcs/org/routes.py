"""Teams and brands administration: thin views over ``service``.

Both lists use the inline-edit kit (``kdcs/crud.py``) and one page template
(``org/list.html``): rows, inline edits with version locking, the 409
conflict form, activate/deactivate and the create form. Every form posts and
redirects without JavaScript; with htmx the same URLs answer with the block
that changed.
"""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..crud import InlineEdit, get_or_404
from ..extensions import db
from ..htmx import render
from ..models import Brand, Team
from ..permissions import Permission, has_permission, require
from ..views import active_filter
from . import bp, service
from .forms import BrandForm, TeamForm

LIST = "org/list.html"


# --------------------------------------------------------------------------- teams


def _lead_choices(team: Team | None = None) -> list[tuple[int, str]]:
    choices = [(0, _("No lead"))]
    for user in service.lead_candidates(current_user, team):
        label = f"{user.display_name}（{user.username}）"
        if not user.is_active_account:
            label += " · " + _("deactivated")
        elif user.role != "lead":
            label += " · " + _("not a lead")
        choices.append((user.id, label))
    return choices


def _prepare_team_form(form, team: Team | None) -> None:
    form.lead_id.choices = _lead_choices(team)


def _load_team_form(form, team: Team) -> None:
    form.lead_id.data = team.lead_id or 0


def _list_page(kit: InlineEdit, search, create_form):
    """The teams or brands page (or its table for htmx) with the toolbar's search applied."""
    q = request.args.get("q", "").strip()
    active = active_filter(request.args)
    return render(LIST, block="entity_table", rows=search(current_user, q, active), q=q, active=active,
                  create_form=create_form, kit=kit, **kit.extra_context)


def _teams_page(create_form):
    return _list_page(TEAMS, service.search_teams, create_form)


TEAMS = InlineEdit(
    name="team", model=Team, template=LIST, list_endpoint="org.teams", edit_form=TeamForm,
    row_block="entity_row", create_block="entity_create",
    describe=lambda team: _("team %(name)s", name=team.name),
    row_context=lambda team: {"row": service.team_row(current_user, team)}, extra_context={"kind": "team"},
    prepare_form=_prepare_team_form, load_form=_load_team_form,
    field_kwargs={"lead_id": {"hint": _l("Only active users with the team lead role can lead a team.")}},
    save=lambda team, form, version: service.update_team(
        current_user, team, version=version, name=form.name.data, lead_id=form.lead_id.data or None),
    saved_url=lambda team: url_for("org.team_detail", team_id=team.id),
    set_active=lambda team, active: service.set_team_active(current_user, team, active),
    create_form=TeamForm, page=_teams_page,
    create=lambda form: service.create_team(current_user, name=form.name.data, lead_id=form.lead_id.data or None),
)
TEAMS.register(bp, "/teams", Permission.MANAGE_TEAMS)


@bp.route("/teams")
@require(Permission.MANAGE_TEAMS)
def teams():
    """The teams list with its active search and the create form."""
    form = TeamForm(formdata=None)
    _prepare_team_form(form, None)
    return _teams_page(form)


@bp.route("/teams/<int:team_id>")
@require(Permission.MANAGE_TEAMS)
def team_detail(team_id: int):
    """One team: its numbers, members and (for auditors) its recent audit entries."""
    team = get_or_404(Team, team_id)
    audit = []
    if has_permission(current_user, Permission.VIEW_AUDIT):
        from ..admin.service import AuditFilter, audit_query

        audit = db.session.scalars(
            audit_query(current_user, AuditFilter(entity_type="team", entity_id=team.id)).limit(20)
        ).all()
    return render_template(
        "org/team_detail.html", team=team, row=service.team_row(current_user, team),
        members=service.team_members(current_user, team), audit=audit, kit=TEAMS,
    )


# --------------------------------------------------------------------------- brands


def _brands_page(create_form):
    return _list_page(BRANDS, service.search_brands, create_form)


BRANDS = InlineEdit(
    name="brand", model=Brand, template=LIST, list_endpoint="org.brands", edit_form=BrandForm,
    row_block="entity_row", create_block="entity_create",
    describe=lambda brand: _("brand %(name)s", name=brand.name),
    row_context=lambda brand: {"row": service.brand_row(current_user, brand)}, extra_context={"kind": "brand"},
    save=lambda brand, form, version: service.update_brand(
        current_user, brand, version=version, code=form.code.data, name=form.name.data),
    set_active=lambda brand, active: service.set_brand_active(current_user, brand, active),
    create_form=BrandForm, page=_brands_page,
    create=lambda form: service.create_brand(current_user, code=form.code.data, name=form.name.data),
)
BRANDS.register(bp, "/brands", Permission.MANAGE_BRANDS)


@bp.route("/brands")
@require(Permission.MANAGE_BRANDS)
def brands():
    """The brands list with its active search and the create form."""
    return _brands_page(BrandForm(formdata=None))
