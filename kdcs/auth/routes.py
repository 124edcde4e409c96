from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..permissions import Permission, require
from . import bp
from .forms import ChangePasswordForm, LoginForm
from .service import AuthError, ThrottleLimits, authenticate, change_own_password


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative //evil."""
    if not target:
        return None
    target = target.strip().replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _limits() -> ThrottleLimits:
    config = current_app.config
    return ThrottleLimits(
        per_user=config["KDCS_LOGIN_MAX_FAILURES_PER_USER"],
        per_address=config["KDCS_LOGIN_MAX_FAILURES_PER_ADDRESS"],
        window=timedelta(minutes=config["KDCS_LOGIN_WINDOW_MINUTES"]),
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in by 工号 and password; throttled per user and per address; a safe ``next`` only."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    error = None
    status = 200
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data, request.remote_addr or "-", _limits())
        except AuthError as exc:
            error = exc.message
            status = 401
        else:
            login_user(user)
            return redirect(safe_next(form.next.data) or url_for("dashboard.home"), code=303)
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out (POST only, CSRF-protected)."""
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@require(Permission.CHANGE_OWN_PASSWORD)
def change_password():
    """Change one's own password (strength checked; other sessions end)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_own_password(current_user, form.current_password.data, form.new_password.data)
        except AuthError as exc:
            form.new_password.errors = [*form.new_password.errors, exc.message]
        else:
            login_user(current_user._get_current_object())  # the session token rotated
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("dashboard.home"), code=303)
    return render_template("auth/change_password.html", form=form)
