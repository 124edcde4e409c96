"""Teams and brands administration: thin views over ``service``.

Every form posts and redirects without JavaScript; with htmx the same URLs
answer with the block of the page that changed (a row, the create form).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..htmx import render, render_fragment, trigger, wants_fragment
from ..models import Brand, Team
from ..permissions import Permission, has_permission, require
from ..service_errors import StaleEdit, ValidationError
from ..views import active_filter, apply_errors, posted_active, redirect_back
from . import bp, service
from .forms import BrandEditForm, BrandForm, TeamEditForm, TeamForm

TEAMS = "org/teams.html"
BRANDS = "org/brands.html"


def _conflict_row(template: str, block: str, **context):
    """A stale inline edit: the row says what happened, with a way to reload it (409)."""
    db.session.rollback()
    return render_fragment(template, block, **context), 409


# --------------------------------------------------------------------------- teams


def _get_team_or_404(team_id: int) -> Team:
    team = db.session.get(Team, team_id)
    if team is None:
        abort(404)
    return team


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


def _team_form(cls=TeamForm, team: Team | None = None, **kwargs):
    form = cls(**kwargs)
    form.lead_id.choices = _lead_choices(team)
    return form


def _teams_page(create_form: TeamForm, status: int = 200):
    q = request.args.get("q", "").strip()
    active = active_filter(request.args)
    rows = service.search_teams(current_user, q, active)
    return render(TEAMS, block="team_table", rows=rows, q=q, active=active, create_form=create_form), status


@bp.route("/teams")
@require(Permission.MANAGE_TEAMS)
def teams():
    return _teams_page(_team_form(formdata=None))


@bp.route("/teams/new", methods=["POST"])
@require(Permission.MANAGE_TEAMS)
def team_create():
    form = _team_form()
    if form.validate_on_submit():
        try:
            team = service.create_team(current_user, name=form.name.data, lead_id=form.lead_id.data or None)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("Team %(name)s created.", name=team.name), "success")
            if wants_fragment():
                response = render_fragment(TEAMS, "team_create", create_form=_team_form(formdata=None))
                return trigger(_as_response(response), "teams-changed")
            return redirect(url_for("org.teams"), code=303)
    if wants_fragment():
        return render_fragment(TEAMS, "team_create", create_form=form)
    return _teams_page(form)


@bp.route("/teams/<int:team_id>")
@require(Permission.MANAGE_TEAMS)
def team_detail(team_id: int):
    team = _get_team_or_404(team_id)
    audit = []
    if has_permission(current_user, Permission.VIEW_AUDIT):
        from ..admin.service import AuditFilter, audit_query

        audit = db.session.scalars(
            audit_query(current_user, AuditFilter(entity_type="team", entity_id=team.id)).limit(20)
        ).all()
    return render_template(
        "org/team_detail.html", team=team, row=service.team_row(current_user, team),
        members=service.team_members(current_user, team), audit=audit,
    )


@bp.route("/teams/<int:team_id>/row")
@require(Permission.MANAGE_TEAMS)
def team_row(team_id: int):
    """The plain row: Cancel in the inline edit, Reload after a conflict."""
    team = _get_team_or_404(team_id)
    if not wants_fragment():
        return redirect(url_for("org.teams"), code=303)
    return render_fragment(TEAMS, "team_row", row=service.team_row(current_user, team))


@bp.route("/teams/<int:team_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_TEAMS)
def team_edit(team_id: int):
    team = _get_team_or_404(team_id)
    if request.method == "GET":
        form = _team_form(TeamEditForm, team, formdata=None, obj=team)
        form.lead_id.data = team.lead_id or 0
        form.version.data = str(team.version)
    else:
        form = _team_form(TeamEditForm, team)
        if form.validate_on_submit():
            try:
                service.update_team(current_user, team, version=int(form.version.data),
                                    name=form.name.data, lead_id=form.lead_id.data or None)
            except StaleEdit:
                if wants_fragment():
                    return _conflict_row(TEAMS, "team_conflict_row", team=team)
                raise
            except ValidationError as exc:
                db.session.rollback()
                apply_errors(form, exc.errors)
            else:
                flash(_("Team %(name)s saved.", name=team.name), "success")
                if wants_fragment():
                    return render_fragment(TEAMS, "team_row", row=service.team_row(current_user, team))
                return redirect(url_for("org.team_detail", team_id=team.id), code=303)
    if wants_fragment():
        return render_fragment(TEAMS, "team_edit_row", team=team, form=form)
    return render_template("org/team_edit.html", team=team, form=form)


@bp.route("/teams/<int:team_id>/active", methods=["POST"])
@require(Permission.MANAGE_TEAMS)
def team_set_active(team_id: int):
    team = _get_team_or_404(team_id)
    active = posted_active()
    try:
        service.set_team_active(current_user, team, active)
    except ValidationError as exc:
        flash(next(iter(exc.errors.values())), "danger")
    else:
        flash(_("Team %(name)s activated.", name=team.name) if active
              else _("Team %(name)s deactivated.", name=team.name), "success")
    if wants_fragment():
        return render_fragment(TEAMS, "team_row", row=service.team_row(current_user, team))
    return redirect_back(url_for("org.teams"))


# --------------------------------------------------------------------------- brands


def _get_brand_or_404(brand_id: int) -> Brand:
    brand = db.session.get(Brand, brand_id)
    if brand is None:
        abort(404)
    return brand


def _brands_page(create_form: BrandForm, status: int = 200):
    q = request.args.get("q", "").strip()
    active = active_filter(request.args)
    rows = service.search_brands(current_user, q, active)
    return render(BRANDS, block="brand_table", rows=rows, q=q, active=active, create_form=create_form), status


@bp.route("/brands")
@require(Permission.MANAGE_BRANDS)
def brands():
    return _brands_page(BrandForm(formdata=None))


@bp.route("/brands/new", methods=["POST"])
@require(Permission.MANAGE_BRANDS)
def brand_create():
    form = BrandForm()
    if form.validate_on_submit():
        try:
            brand = service.create_brand(current_user, code=form.code.data, name=form.name.data)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("Brand %(name)s created.", name=brand.name), "success")
            if wants_fragment():
                response = render_fragment(BRANDS, "brand_create", create_form=BrandForm(formdata=None))
                return trigger(_as_response(response), "brands-changed")
            return redirect(url_for("org.brands"), code=303)
    if wants_fragment():
        return render_fragment(BRANDS, "brand_create", create_form=form)
    return _brands_page(form)


@bp.route("/brands/<int:brand_id>/row")
@require(Permission.MANAGE_BRANDS)
def brand_row(brand_id: int):
    brand = _get_brand_or_404(brand_id)
    if not wants_fragment():
        return redirect(url_for("org.brands"), code=303)
    return render_fragment(BRANDS, "brand_row", row=service.brand_row(current_user, brand))


@bp.route("/brands/<int:brand_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_BRANDS)
def brand_edit(brand_id: int):
    brand = _get_brand_or_404(brand_id)
    if request.method == "GET":
        form = BrandEditForm(formdata=None, obj=brand)
        form.version.data = str(brand.version)
    else:
        form = BrandEditForm()
        if form.validate_on_submit():
            try:
                service.update_brand(current_user, brand, version=int(form.version.data),
                                     code=form.code.data, name=form.name.data)
            except StaleEdit:
                if wants_fragment():
                    return _conflict_row(BRANDS, "brand_conflict_row", brand=brand)
                raise
            except ValidationError as exc:
                db.session.rollback()
                apply_errors(form, exc.errors)
            else:
                flash(_("Brand %(name)s saved.", name=brand.name), "success")
                if wants_fragment():
                    return render_fragment(BRANDS, "brand_row", row=service.brand_row(current_user, brand))
                return redirect(url_for("org.brands"), code=303)
    if wants_fragment():
        return render_fragment(BRANDS, "brand_edit_row", brand=brand, form=form)
    return render_template("org/brand_edit.html", brand=brand, form=form)


@bp.route("/brands/<int:brand_id>/active", methods=["POST"])
@require(Permission.MANAGE_BRANDS)
def brand_set_active(brand_id: int):
    brand = _get_brand_or_404(brand_id)
    active = posted_active()
    try:
        service.set_brand_active(current_user, brand, active)
    except ValidationError as exc:
        flash(next(iter(exc.errors.values())), "danger")
    else:
        flash(_("Brand %(name)s activated.", name=brand.name) if active
              else _("Brand %(name)s deactivated.", name=brand.name), "success")
    if wants_fragment():
        return render_fragment(BRANDS, "brand_row", row=service.brand_row(current_user, brand))
    return redirect_back(url_for("org.brands"))


def _as_response(body: str):
    from flask import make_response

    return make_response(body)
