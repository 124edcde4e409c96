from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..filters import SHANGHAI
from ..htmx import render, render_fragment
from ..models import Team, User
from ..permissions import Permission, require
from ..service_errors import ValidationError
from ..views import apply_errors, posted_active
from . import bp, service
from .forms import ResetPasswordForm, UserCreateForm, UserEditForm, role_choices


def _team_choices():
    teams = db.session.scalars(select(Team).order_by(Team.name)).all()
    return [(0, _("No team"))] + [(t.id, t.name) for t in teams]


def _get_user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users")
@require(Permission.MANAGE_USERS)
def users():
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    team_id = request.args.get("team", type=int)
    active = request.args.get("active", "")
    page = request.args.get("page", 1, type=int)
    query = service.search_users(current_user, q, role, team_id, active)
    pagination = db.paginate(query, page=page, per_page=50, error_out=False)
    return render(
        "admin/users.html", block="user_table", pagination=pagination, q=q, role=role,
        team_id=team_id, active=active, teams=_team_choices(), roles=role_choices(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@require(Permission.MANAGE_USERS)
def user_new():
    form = UserCreateForm()
    form.role.choices = role_choices()
    form.team_id.choices = _team_choices()
    if form.validate_on_submit():
        try:
            user = service.create_user(
                current_user, username=form.username.data, display_name=form.display_name.data,
                role=form.role.data, password=form.password.data, team_id=form.team_id.data or None,
                phone=form.phone.data,
            )
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("User %(u)s created.", u=user.username), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id), code=303)
    return render("admin/user_new.html", block="user_form", form=form)


@bp.route("/users/<int:user_id>")
@require(Permission.MANAGE_USERS)
def user_detail(user_id: int):
    user = _get_user_or_404(user_id)
    return render_template(
        "admin/user_detail.html", user=user, outlets=service.outlets_of(user),
        reset_form=ResetPasswordForm(), audit=db.session.scalars(
            service.audit_query(current_user, service.AuditFilter(entity_type="user", entity_id=user.id)).limit(20)
        ).all(),
    )


@bp.route("/users/<int:user_id>/row")
@require(Permission.MANAGE_USERS)
def user_row(user_id: int):
    """The plain row (Cancel in inline edit)."""
    return render_fragment("admin/users.html", "user_row", user=_get_user_or_404(user_id))


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_USERS)
def user_edit(user_id: int):
    user = _get_user_or_404(user_id)
    form = UserEditForm(obj=user if request.method == "GET" else None)
    form.role.choices = role_choices()
    form.team_id.choices = _team_choices()
    if request.method == "GET":
        form.team_id.data = user.team_id or 0
        form.version.data = str(user.version)
    elif form.validate_on_submit():
        try:
            service.update_user(
                current_user, user, version=int(form.version.data), display_name=form.display_name.data,
                role=form.role.data, team_id=form.team_id.data or None, phone=form.phone.data,
            )
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("User %(u)s saved.", u=user.username), "success")
            if request.htmx:
                return render_fragment("admin/users.html", "user_row", user=user)
            return redirect(url_for("admin.user_detail", user_id=user.id), code=303)
    if request.htmx:
        return render_fragment("admin/users.html", "user_edit_row", user=user, form=form)
    return render_template("admin/user_edit.html", user=user, form=form)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@require(Permission.MANAGE_USERS)
def user_set_active(user_id: int):
    user = _get_user_or_404(user_id)
    active = posted_active()
    try:
        service.set_user_active(current_user, user, active)
    except ValidationError as exc:
        flash(next(iter(exc.errors.values())), "danger")
    else:
        flash(_("User %(u)s activated.", u=user.username) if active else _("User %(u)s deactivated.", u=user.username), "success")
    if request.htmx:
        return render_fragment("admin/users.html", "user_row", user=user)
    return redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url) else url_for("admin.users"), code=303)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@require(Permission.MANAGE_USERS)
def user_reset_password(user_id: int):
    user = _get_user_or_404(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            service.reset_password(current_user, user, form.password.data)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("Password of %(u)s reset. Their open sessions have ended.", u=user.username), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id), code=303)
    return render_template(
        "admin/user_detail.html", user=user, outlets=service.outlets_of(user), reset_form=form, audit=[]
    ), 200


def _parse_day(value: str | None):
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return None
    return day.replace(tzinfo=SHANGHAI)


@bp.route("/audit")
@require(Permission.VIEW_AUDIT)
def audit():
    since_text, until_text = request.args.get("since", ""), request.args.get("until", "")
    since, until = _parse_day(since_text), _parse_day(until_text)
    date_error = (since_text and not since) or (until_text and not until)
    audit_filter = service.AuditFilter(
        entity_type=request.args.get("entity", ""),
        action=request.args.get("action", ""),
        actor_id=request.args.get("actor", type=int),
        entity_id=request.args.get("entity_id", type=int),
        since=since,
        until=until + timedelta(days=1) if until else None,
        text=request.args.get("q", ""),
    )
    page = request.args.get("page", 1, type=int)
    pagination = db.paginate(service.audit_query(current_user, audit_filter), page=page, per_page=50, error_out=False)
    actors = db.session.scalars(select(User).order_by(User.username)).all()
    return render(
        "admin/audit.html", block="audit_table", pagination=pagination, f=audit_filter,
        since_text=since_text, until_text=until_text, date_error=date_error,
        actions=service.audit_actions(), entity_types=service.audit_entity_types(), actors=actors,
    )
