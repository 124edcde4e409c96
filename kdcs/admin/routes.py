from __future__ import annotations

from datetime import datetime, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..crud import InlineEdit, get_or_404
from ..extensions import db
from ..filters import SHANGHAI
from ..htmx import render
from ..models import Team, User
from ..org.memberships import team_history
from ..permissions import Permission, require
from ..service_errors import ValidationError
from ..views import active_filter, apply_errors
from . import bp, service
from .forms import ResetPasswordForm, UserCreateForm, UserEditForm, role_choices


def _team_choices():
    teams = db.session.scalars(select(Team).order_by(Team.name)).all()
    return [(0, _("No team"))] + [(t.id, t.name) for t in teams]


@bp.route("/users")
@require(Permission.MANAGE_USERS)
def users():
    """The users list: search by 工号 or name, filter by role, team and status."""
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    team_id = request.args.get("team", type=int)
    active = active_filter(request.args)
    page = request.args.get("page", 1, type=int)
    query = service.search_users(current_user, q, role, team_id, active)
    pagination = db.paginate(query, page=page, per_page=50, error_out=False)
    return render(
        "admin/users.html", block="user_table", pagination=pagination, q=q, role=role,
        team_id=team_id, active=active, teams=_team_choices(), roles=role_choices(), kit=USERS,
        going_live=service.going_live_badges(pagination.items),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@require(Permission.MANAGE_USERS)
def user_new():
    """Create a user; a weak password or a taken 工号 comes back beside its field."""
    form = UserCreateForm()
    _prepare_user_form(form)
    if form.validate_on_submit():
        try:
            user = service.create_user(
                current_user, username=form.username.data, display_name=form.display_name.data,
                role=form.role.data, password=form.password.data, team_id=form.team_id.data or None,
                phone=form.phone.data, start_date=form.start_date.data,
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
    """One user: their outlets, teams over time, password reset and recent audit entries."""
    user = get_or_404(User, user_id)
    return render_template(
        "admin/user_detail.html", user=user, outlets=service.outlets_of(user), teams=team_history(user),
        reset_form=ResetPasswordForm(), audit=db.session.scalars(
            service.audit_query(current_user, service.AuditFilter(entity_type="user", entity_id=user.id)).limit(20)
        ).all(),
    )


def _prepare_user_form(form, _user=None) -> None:
    form.role.choices = role_choices()
    form.team_id.choices = _team_choices()


def _load_user_form(form, user: User) -> None:
    form.team_id.data = user.team_id or 0


USERS = InlineEdit(
    name="user", model=User, template="admin/users.html", list_endpoint="admin.users", edit_form=UserEditForm,
    describe=lambda user: _("user %(u)s", u=user.username),
    row_context=lambda user: {"user": user, "going_live": service.going_live_badges([user])}, colspan=10,
    lead_cells=lambda user: [user.username],
    prepare_form=_prepare_user_form, load_form=_load_user_form,
    save=lambda user, form, version: service.update_user(
        current_user, user, version=version, display_name=form.display_name.data, role=form.role.data,
        team_id=form.team_id.data or None, phone=form.phone.data, start_date=form.start_date.data),
    saved_url=lambda user: url_for("admin.user_detail", user_id=user.id),
    set_active=lambda user, active: service.set_user_active(current_user, user, active),
)
USERS.register(bp, "/users", Permission.MANAGE_USERS)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@require(Permission.MANAGE_USERS)
def user_reset_password(user_id: int):
    """Set a new password; the user's open sessions end."""
    user = get_or_404(User, user_id)
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
    """The audit log with its filters; a malformed date is a message, not an error."""
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
    actors = service.audit_actors()
    return render(
        "admin/audit.html", block="audit_table", pagination=pagination, f=audit_filter,
        since_text=since_text, until_text=until_text, date_error=date_error,
        actions=service.audit_actions(), entity_types=service.audit_entity_types(), actors=actors,
    )
