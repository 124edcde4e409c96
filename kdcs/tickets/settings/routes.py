"""Ticket settings pages: deadline rules (with a 试算 box), the work calendar,
reason lists and canned replies. Thin views over ``settings.service``.

Every form posts and redirects (303) without JavaScript; with htmx the same
URLs answer with the block of the page that changed (a row, a table, the
calendar). Stale inline edits answer 409 with a row that says so.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import abort, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...htmx import render, render_fragment, trigger, wants_fragment
from ...models import Brand
from ...models.ticket import CannedReply, CountingMode, DeadlineRule, TicketReason
from ...permissions import Permission, has_permission, require
from ...service_errors import StaleEdit, ValidationError
from ...views import active_filter, apply_errors, posted_active, redirect_back
from ...workcalendar import SHANGHAI
from .. import bp
from ..labels import CATEGORY_LABELS, label
from . import service as svc
from .forms import (
    CalendarDayForm,
    CalendarLoadForm,
    CannedReplyEditForm,
    CannedReplyForm,
    ReasonForm,
    ReasonRenameForm,
    RuleEditForm,
    RuleForm,
)

RULES = "tickets/settings/rules.html"
CALENDAR = "tickets/settings/calendar.html"
REASONS = "tickets/settings/reasons.html"
CANNED = "tickets/settings/canned_replies.html"
RULE_EDIT = "tickets/settings/rule_edit.html"

WEEKDAYS = [_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun")]


# --------------------------------------------------------------------------- shared helpers


def _helpers() -> dict:
    """Names every settings template (and each of its blocks) uses."""
    return {
        "category_label": lambda code: label("category", code) if code else _("All categories"),
        "categories": [(code, str(text)) for code, text in CATEGORY_LABELS.items()],
        "fmt_minutes": svc.format_minutes,
        "mode_text": _mode_text,
        "weekday": lambda d: str(WEEKDAYS[d.weekday()]),
        "fmt_local": _fmt_local,
        "CountingMode": CountingMode,
        "settings_tabs": settings_tabs,
    }


def _mode_text(rule) -> str:
    if rule.mode == CountingMode.SERVICE_HOURS:
        start = rule.service_start.strftime("%H:%M") if rule.service_start else "08:00"
        end = rule.service_end.strftime("%H:%M") if rule.service_end else "20:00"
        return _("Service hours %(a)s–%(b)s on working days", a=start, b=end)
    return _("Clock time")


def _fmt_local(value: datetime | None) -> str:
    """2026-11-24（周二）10:00 in Shanghai time."""
    if value is None:
        return ""
    local = value.astimezone(SHANGHAI)
    return f"{local:%Y-%m-%d}（{WEEKDAYS[local.weekday()]}）{local:%H:%M}"


def _get_or_404(model, object_id: int):
    row = db.session.get(model, object_id)
    if row is None:
        abort(404)
    return row


def _version(form) -> int:
    return int(form.version.data)


# --------------------------------------------------------------------------- deadline rules


def _brand_choices() -> list[tuple[int, str]]:
    brands = db.session.scalars(select(Brand).order_by(Brand.code)).all()
    return [(0, _("Any brand"))] + [
        (b.id, f"{b.name}（{b.code}）" + ("" if b.is_active else " · " + _("inactive"))) for b in brands
    ]


def _rule_form(cls=RuleForm, **kwargs):
    form = cls(**kwargs)
    form.brand_id.choices = _brand_choices()
    form.category.choices = [(code, str(text)) for code, text in CATEGORY_LABELS.items()]
    form.reason_id.choices = [(0, _("Any reason"))] + [
        (r.id, r.name) for group in svc.reasons_by_category().values() for r in group
    ]
    form.mode.choices = [(CountingMode.CLOCK.value, _("Clock time (every minute counts)")),
                         (CountingMode.SERVICE_HOURS.value, _("Service hours, working days only"))]
    return form


def _new_rule_form():
    form = _rule_form(formdata=None)
    form.mode.data = CountingMode.CLOCK.value
    form.service_start.data, form.service_end.data = svc.deadlines.DEFAULT_WINDOW
    return form


def _rule_kwargs(form) -> dict:
    return {
        "brand_id": form.brand_id.data or None,
        "category": form.category.data,
        "reason_id": form.reason_id.data or None,
        "reply_minutes": form.reply_minutes,
        "resolve_minutes": form.resolve_minutes,
        "mode": form.mode.data,
        "service_start": form.service_start.data,
        "service_end": form.service_end.data,
        "note": form.note.data or "",
    }


def _rule_errors(form, errors: dict[str, str]) -> None:
    """Service errors on minutes belong to the hours inputs."""
    mapped = {}
    for key, message in errors.items():
        mapped[{"reply_minutes": "reply_hours", "resolve_minutes": "resolve_hours"}.get(key, key)] = message
    apply_errors(form, mapped)


def _preview_context(rule_id: int | None = None, start_text: str | None = None) -> dict:
    """The 试算 box: chosen rule, start (default: now), and the result or an error."""
    rules = svc.list_rules(current_user)
    now = datetime.now(SHANGHAI).replace(second=0, microsecond=0)
    context = {"preview_rules": rules, "preview_rule_id": rule_id, "preview_start": start_text or f"{now:%Y-%m-%dT%H:%M}",
               "preview": None, "preview_error": None, "preview_calendar_missing": None}
    if rule_id is None:
        return context
    rule = next((r for r in rules if r.id == rule_id), None)
    if rule is None:
        context["preview_error"] = _("Choose a rule.")
        return context
    try:
        start = datetime.strptime(context["preview_start"], "%Y-%m-%dT%H:%M").replace(tzinfo=SHANGHAI)
    except ValueError:
        context["preview_error"] = _("Enter a start time such as 2026-10-01 09:30.")
        return context
    try:
        context["preview"] = svc.preview_rule(current_user, rule, start)
    except ValidationError as exc:
        context["preview_error"] = next(iter(exc.errors.values()))
    if rule.mode == CountingMode.SERVICE_HOURS and not svc.year_exceptions(current_user, start.year):
        context["preview_calendar_missing"] = start.year
    return context


def _rules_page(create_form=None, status: int = 200, preview: dict | None = None):
    category = request.args.get("category", "")
    brand = request.args.get("brand", type=int)
    active = active_filter(request.args)
    rules = svc.list_rules(current_user, category=category if category in svc.CATEGORY_CODES else "",
                           brand_id=brand, active=active)
    context = preview or _preview_context()
    return render(RULES, block="rule_table", rules=rules, f_category=category, f_brand=brand, f_active=active,
                  brands=_brand_choices(), create_form=create_form or _new_rule_form(),
                  reason_groups=svc.reasons_by_category(), active_tab="rules", **context, **_helpers()), status


@bp.route("/rules")
@require(Permission.MANAGE_DEADLINE_RULES)
def rules():
    """The deadline rules page (list and create form)."""
    return _rules_page()


@bp.route("/rules/new", methods=["POST"])
@require(Permission.MANAGE_DEADLINE_RULES)
def rule_create():
    """Create a deadline rule; with htmx, a fresh create form and a rules-changed event."""
    form = _rule_form()
    if form.validate_on_submit():
        try:
            rule = svc.create_rule(current_user, **_rule_kwargs(form))
        except ValidationError as exc:
            db.session.rollback()
            _rule_errors(form, exc.errors)
        else:
            flash(_("Rule created: %(s)s.", s=svc.rule_summary(rule)), "success")
            if wants_fragment():
                response = make_response(render_fragment(
                    RULES, "rule_create", create_form=_new_rule_form(), reason_groups=svc.reasons_by_category(),
                    **_helpers()))
                return trigger(response, "rules-changed")
            return redirect(url_for("tickets.rules"), code=303)
    if wants_fragment():
        return render_fragment(RULES, "rule_create", create_form=form, reason_groups=svc.reasons_by_category(),
                               **_helpers())
    return _rules_page(form)


@bp.route("/rules/<int:rule_id>/row")
@require(Permission.MANAGE_DEADLINE_RULES)
def rule_row(rule_id: int):
    """The plain row: Cancel in the inline edit, Reload after a conflict."""
    rule = _get_or_404(DeadlineRule, rule_id)
    if not wants_fragment():
        return redirect(url_for("tickets.rules"), code=303)
    return render_fragment(RULES, "rule_row", rule=rule, **_helpers())


@bp.route("/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_DEADLINE_RULES)
def rule_edit(rule_id: int):
    """Inline edit of a rule (GET the form row, POST save; 409 row on a stale version)."""
    rule = _get_or_404(DeadlineRule, rule_id)
    status = 200
    if request.method == "GET":
        form = _rule_form(RuleEditForm, formdata=None, obj=rule)
        form.brand_id.data = rule.brand_id or 0
        form.reason_id.data = rule.reason_id or 0
        form.set_minutes(rule.reply_minutes, rule.resolve_minutes)
        if rule.mode != CountingMode.SERVICE_HOURS or not rule.service_start:
            form.service_start.data, form.service_end.data = svc.deadlines.DEFAULT_WINDOW
        form.version.data = str(rule.version)
    else:
        form = _rule_form(RuleEditForm)
        if form.validate_on_submit():
            try:
                svc.update_rule(current_user, rule, version=_version(form), **_rule_kwargs(form))
            except StaleEdit:
                db.session.rollback()
                if wants_fragment():
                    return render_fragment(RULES, "rule_conflict_row", rule=rule, **_helpers()), 409
                raise
            except ValidationError as exc:
                db.session.rollback()
                _rule_errors(form, exc.errors)
            else:
                flash(_("Rule saved: %(s)s. Existing tickets keep their deadlines.", s=svc.rule_summary(rule)), "success")
                if wants_fragment():
                    return render_fragment(RULES, "rule_row", rule=rule, **_helpers())
                return redirect(url_for("tickets.rules"), code=303)
    if wants_fragment():
        return render_fragment(RULES, "rule_edit_row", rule=rule, form=form,
                               reason_groups=svc.reasons_by_category(), **_helpers()), status
    return render(RULE_EDIT, rule=rule, form=form,
                  reason_groups=svc.reasons_by_category(), active_tab="rules", **_helpers()), status


@bp.route("/rules/<int:rule_id>/active", methods=["POST"])
@require(Permission.MANAGE_DEADLINE_RULES)
def rule_set_active(rule_id: int):
    """Activate or deactivate a rule."""
    rule = _get_or_404(DeadlineRule, rule_id)
    active = posted_active()
    svc.set_rule_active(current_user, rule, active)
    flash(_("Rule activated: %(s)s.", s=svc.rule_summary(rule)) if active
          else _("Rule deactivated: %(s)s.", s=svc.rule_summary(rule)), "success")
    if wants_fragment():
        return render_fragment(RULES, "rule_row", rule=rule, **_helpers())
    return redirect_back(url_for("tickets.rules"))


@bp.route("/rules/preview")
@require(Permission.MANAGE_DEADLINE_RULES)
def rule_preview():
    """试算: due times of a rule from a start time, with the work calendar as kept."""
    context = _preview_context(request.args.get("rule_id", type=int) or 0, request.args.get("start", "").strip())
    if wants_fragment():
        return render_fragment(RULES, "preview_box", **context, **_helpers())
    return _rules_page(preview=context)


# --------------------------------------------------------------------------- work calendar


def _month_arg(year: int | None, month: int | None) -> tuple[int, int]:
    today = datetime.now(SHANGHAI).date()
    year = year if year and 1900 <= year <= 2200 else today.year
    month = month if month and 1 <= month <= 12 else (today.month if year == today.year else 1)
    return year, month


def _parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _runs(rows) -> list[dict]:
    """Consecutive days with the same status and name, e.g. 国庆节 10-01 – 10-08 (8 days)."""
    runs: list[dict] = []
    for row in rows:
        last = runs[-1] if runs else None
        if (last and last["is_workday"] == row.is_workday and last["name"] == row.name
                and last["end"] + timedelta(days=1) == row.day):
            last["end"] = row.day
            last["days"] += 1
            last["admin"] = last["admin"] or row.source != "chinesecalendar"
        else:
            runs.append({"start": row.day, "end": row.day, "days": 1, "is_workday": row.is_workday,
                         "name": row.name, "admin": row.source != "chinesecalendar"})
    return runs


def _day_form(day: date, row, formdata=None):
    form = CalendarDayForm(formdata=formdata)
    if formdata is None:
        is_workday = row.is_workday if row is not None else day.weekday() < 5
        form.is_workday.data = "1" if is_workday else "0"
        form.name.data = row.name if row is not None else ""
        form.version.data = str(row.version) if row is not None else ""
    return form


def _calendar_context(year: int, month: int, selected: date | None = None, day_form=None,
                      day_conflict: bool = False, load_form=None) -> dict:
    selected_row = svc.calendar_day(current_user, selected) if selected else None
    if selected and day_form is None:
        day_form = _day_form(selected, selected_row)
    prev_month = (year - 1, 12) if month == 1 else (year, month - 1)
    next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    if load_form is None:
        load_form = CalendarLoadForm(formdata=None, year=year)
    return {
        "year": year, "month": month, "weeks": svc.month_grid(current_user, year, month),
        "runs": _runs(svc.year_exceptions(current_user, year)),
        "selected": selected, "selected_row": selected_row, "day_form": day_form, "day_conflict": day_conflict,
        "prev_month": prev_month, "next_month": next_month, "today": datetime.now(SHANGHAI).date(),
        "load_form": load_form, "package_years": svc.package_years(), "active_tab": "calendar",
        "weekday_names": [str(w) for w in WEEKDAYS],
        **_helpers(),
    }


@bp.route("/calendar")
@require(Permission.MANAGE_DEADLINE_RULES)
def calendar():
    """The work calendar month view (optionally with a day selected)."""
    selected = _parse_day(request.args.get("day"))
    year, month = _month_arg(request.args.get("year", type=int), request.args.get("month", type=int))
    if selected and "year" not in request.args:
        year, month = selected.year, selected.month
    return render(CALENDAR, block="calendar_body", **_calendar_context(year, month, selected))


@bp.route("/calendar/<day_text>", methods=["GET", "POST"])
@require(Permission.MANAGE_DEADLINE_RULES)
def calendar_day(day_text: str):
    """One day of the work calendar: GET its editor, POST working day or day off."""
    day = _parse_day(day_text)
    if day is None:
        abort(404)
    if request.method == "GET":
        if wants_fragment():
            context = _calendar_context(day.year, day.month, day)
            return render_fragment(CALENDAR, "day_editor", **context)
        return redirect(url_for("tickets.calendar", day=day.isoformat()), code=303)
    row = svc.calendar_day(current_user, day)
    form = _day_form(day, row, formdata=request.form)
    status = 200
    if form.validate_on_submit():
        version = int(form.version.data) if form.version.data else None
        try:
            svc.set_day(current_user, day, is_workday=form.is_workday.data == "1", name=form.name.data or "",
                        version=version)
        except StaleEdit:
            db.session.rollback()
            if not wants_fragment():
                raise
            context = _calendar_context(day.year, day.month, day, day_conflict=True)
            return render_fragment(CALENDAR, "calendar_body", **context), 409
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors)
        else:
            flash(_("%(d)s saved as %(kind)s.", d=_fmt_day(day),
                    kind=_("a working day") if form.is_workday.data == "1" else _("a day off")), "success")
            if wants_fragment():
                return render_fragment(CALENDAR, "calendar_body", **_calendar_context(day.year, day.month, day))
            return redirect(url_for("tickets.calendar", year=day.year, month=day.month, day=day.isoformat()), code=303)
    context = _calendar_context(day.year, day.month, day, day_form=form)
    if wants_fragment():
        return render_fragment(CALENDAR, "calendar_body", **context), status
    return render(CALENDAR, **context), status


def _fmt_day(day: date) -> str:
    return f"{day:%Y-%m-%d}（{WEEKDAYS[day.weekday()]}）"


@bp.route("/calendar/load", methods=["POST"])
@require(Permission.MANAGE_DEADLINE_RULES)
def calendar_load():
    """Load a year's holidays and make-up workdays from chinesecalendar (edits by hand kept)."""
    form = CalendarLoadForm()
    month = request.form.get("month", type=int)
    if form.validate_on_submit():
        year = form.year.data
        try:
            counts = svc.load_year(current_user, year)
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors)
        else:
            flash(_("%(y)d loaded from chinesecalendar: %(c)d days added, %(u)d updated, %(k)d edited by hand kept.",
                    y=year, c=counts["created"], u=counts["updated"], k=counts["kept"]), "success")
            if wants_fragment():
                y, m = _month_arg(year, month if month else None)
                return render_fragment(CALENDAR, "calendar_body", **_calendar_context(y, m))
            return redirect(url_for("tickets.calendar", year=year, month=month or 1), code=303)
    year = form.year.data if isinstance(form.year.data, int) else None
    y, m = _month_arg(year, month)
    context = _calendar_context(y, m, load_form=form)
    if wants_fragment():
        return render_fragment(CALENDAR, "calendar_body", **context)
    return render(CALENDAR, **context)


# --------------------------------------------------------------------------- reasons


def _reason_category(value: str | None) -> str:
    return value if value in svc.CATEGORY_CODES else svc.CATEGORY_CODES[0]


def _reason_form(category: str, formdata=None) -> ReasonForm:
    form = ReasonForm(formdata=formdata) if formdata is not None else ReasonForm(formdata=None, category=category)
    form.category.choices = [(code, str(text)) for code, text in CATEGORY_LABELS.items()]
    return form


def _reasons_context(category: str, create_form=None) -> dict:
    grouped = svc.reasons_by_category(current_user)
    reasons = grouped.get(category, [])
    return {
        "category": category, "reasons": reasons, "counts": {c: len(rs) for c, rs in grouped.items()},
        "usage": svc.reason_usage([r.id for r in reasons]),
        "create_form": create_form or _reason_form(category), "active_tab": "reasons", **_helpers(),
    }


@bp.route("/reason-lists")
@require(Permission.MANAGE_DEADLINE_RULES)
def reasons():
    """The reason lists page, one category at a time."""
    category = _reason_category(request.args.get("category"))
    return render(REASONS, block="reason_panel", **_reasons_context(category))


def _reason_panel_or_back(category: str):
    if wants_fragment():
        return render_fragment(REASONS, "reason_panel", **_reasons_context(category))
    return redirect(url_for("tickets.reasons", category=category), code=303)


@bp.route("/reason-lists/new", methods=["POST"])
@require(Permission.MANAGE_DEADLINE_RULES)
def reason_create():
    """Add a reason to a category's list."""
    form = _reason_form("", formdata=request.form)
    category = _reason_category(form.category.data)
    if form.validate_on_submit():
        try:
            reason = svc.create_reason(current_user, category=form.category.data, name=form.name.data)
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors)
        else:
            flash(_("Reason %(name)s added to %(cat)s.", name=reason.name, cat=label("category", reason.category)),
                  "success")
            return _reason_panel_or_back(reason.category)
    return render(REASONS, block="reason_panel", **_reasons_context(category, create_form=form))


@bp.route("/reason-lists/<int:reason_id>/row")
@require(Permission.MANAGE_DEADLINE_RULES)
def reason_row(reason_id: int):
    """The plain reason row (Cancel in the inline edit, Reload after a conflict)."""
    reason = _get_or_404(TicketReason, reason_id)
    if not wants_fragment():
        return redirect(url_for("tickets.reasons", category=reason.category), code=303)
    return _render_reason_row(reason)


def _render_reason_row(reason, status: int = 200):
    grouped = svc.reasons_by_category()
    siblings = grouped.get(reason.category, [])
    position = next((i for i, r in enumerate(siblings) if r.id == reason.id), 0)
    return render_fragment(REASONS, "reason_row", reason=reason, loop={"first": position == 0,
                           "last": position == len(siblings) - 1, "index": position + 1},
                           usage=svc.reason_usage([reason.id]), category=reason.category, **_helpers()), status


@bp.route("/reason-lists/<int:reason_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_DEADLINE_RULES)
def reason_edit(reason_id: int):
    """Inline rename of a reason (409 row on a stale version)."""
    reason = _get_or_404(TicketReason, reason_id)
    if request.method == "GET":
        form = ReasonRenameForm(formdata=None, obj=reason)
        form.version.data = str(reason.version)
    else:
        form = ReasonRenameForm()
        if form.validate_on_submit():
            try:
                svc.rename_reason(current_user, reason, name=form.name.data, version=_version(form))
            except StaleEdit:
                db.session.rollback()
                if wants_fragment():
                    return render_fragment(REASONS, "reason_conflict_row", reason=reason, **_helpers()), 409
                raise
            except ValidationError as exc:
                db.session.rollback()
                apply_errors(form, exc.errors)
            else:
                flash(_("Reason renamed to %(name)s.", name=reason.name), "success")
                if wants_fragment():
                    return _render_reason_row(reason)
                return redirect(url_for("tickets.reasons", category=reason.category), code=303)
    if wants_fragment():
        return render_fragment(REASONS, "reason_edit_row", reason=reason, form=form, **_helpers())
    return render("tickets/settings/reason_edit.html", reason=reason, form=form, active_tab="reasons", **_helpers())


@bp.route("/reason-lists/<int:reason_id>/move", methods=["POST"])
@require(Permission.MANAGE_DEADLINE_RULES)
def reason_move(reason_id: int):
    """Move a reason up or down its list."""
    reason = _get_or_404(TicketReason, reason_id)
    try:
        svc.move_reason(current_user, reason, request.form.get("direction", ""))
    except ValidationError as exc:
        db.session.rollback()
        flash(next(iter(exc.errors.values())), "danger")
    return _reason_panel_or_back(reason.category)


@bp.route("/reason-lists/<int:reason_id>/active", methods=["POST"])
@require(Permission.MANAGE_DEADLINE_RULES)
def reason_set_active(reason_id: int):
    """Activate or deactivate a reason."""
    reason = _get_or_404(TicketReason, reason_id)
    active = posted_active()
    svc.set_reason_active(current_user, reason, active)
    flash(_("Reason %(name)s activated.", name=reason.name) if active
          else _("Reason %(name)s deactivated: it is no longer offered for new tickets.", name=reason.name), "success")
    if wants_fragment():
        return _render_reason_row(reason)
    return redirect(url_for("tickets.reasons", category=reason.category), code=303)


@bp.route("/reason-lists/<int:reason_id>/delete", methods=["POST"])
@require(Permission.MANAGE_DEADLINE_RULES)
def reason_delete(reason_id: int):
    """Delete a reason no ticket or rule uses."""
    reason = _get_or_404(TicketReason, reason_id)
    category, name = reason.category, reason.name
    try:
        svc.delete_reason(current_user, reason)
    except ValidationError as exc:
        db.session.rollback()
        flash(next(iter(exc.errors.values())), "danger")
    else:
        flash(_("Reason %(name)s deleted.", name=name), "success")
    return _reason_panel_or_back(category)


# --------------------------------------------------------------------------- canned replies


def _canned_category_choices() -> list[tuple[str, str]]:
    return [("", _("All categories (shared)"))] + [(code, str(text)) for code, text in CATEGORY_LABELS.items()]


def _canned_form(cls=CannedReplyForm, **kwargs):
    form = cls(**kwargs)
    form.category.choices = _canned_category_choices()
    return form


def _canned_filters() -> dict:
    category = request.values.get("category", "")
    return {
        "f_category": category if category == "all" or category in svc.CATEGORY_CODES else "",
        "q": request.values.get("q", "").strip(),
        "f_active": active_filter(),
    }


def _canned_context(create_form=None) -> dict:
    filters = _canned_filters()
    replies = svc.list_canned(current_user, category=filters["f_category"], q=filters["q"], active=filters["f_active"])
    return {"replies": replies, "groups": _canned_positions(), "create_form": create_form or _canned_form(formdata=None),
            "active_tab": "canned", **filters, **_helpers()}


def _canned_positions() -> dict[int, tuple[bool, bool]]:
    """{reply id: (first in its group, last in its group)} for the up/down buttons."""
    rows = db.session.execute(select(CannedReply.id, CannedReply.category)
                              .order_by(CannedReply.sort_order, CannedReply.id)).all()
    groups: dict = {}
    for reply_id, category in rows:
        groups.setdefault(category, []).append(reply_id)
    positions = {}
    for ids in groups.values():
        for i, reply_id in enumerate(ids):
            positions[reply_id] = (i == 0, i == len(ids) - 1)
    return positions


@bp.route("/canned-replies")
@require(Permission.MANAGE_CANNED_REPLIES)
def canned_replies():
    """The canned replies page."""
    return render(CANNED, block="canned_table", **_canned_context())


@bp.route("/canned-replies/new", methods=["POST"])
@require(Permission.MANAGE_CANNED_REPLIES)
def canned_create():
    """Add a canned reply."""
    form = _canned_form()
    if form.validate_on_submit():
        try:
            reply = svc.create_canned(current_user, category=form.category.data or None, title=form.title.data,
                                      body=form.body.data)
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors)
        else:
            flash(_("Canned reply %(t)s created.", t=reply.title), "success")
            if wants_fragment():
                response = make_response(render_fragment(CANNED, "canned_create", create_form=_canned_form(formdata=None),
                                                         **_helpers()))
                return trigger(response, "canned-changed")
            return redirect(url_for("tickets.canned_replies"), code=303)
    if wants_fragment():
        return render_fragment(CANNED, "canned_create", create_form=form, **_helpers())
    return render(CANNED, **_canned_context(create_form=form))


def _render_canned_row(reply, status: int = 200):
    return render_fragment(CANNED, "canned_row", reply=reply, groups=_canned_positions(), **_helpers()), status


@bp.route("/canned-replies/<int:reply_id>/row")
@require(Permission.MANAGE_CANNED_REPLIES)
def canned_row(reply_id: int):
    """The plain canned-reply row (Cancel in the inline edit, Reload after a conflict)."""
    reply = _get_or_404(CannedReply, reply_id)
    if not wants_fragment():
        return redirect(url_for("tickets.canned_replies"), code=303)
    return _render_canned_row(reply)


@bp.route("/canned-replies/<int:reply_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_CANNED_REPLIES)
def canned_edit(reply_id: int):
    """Inline edit of a canned reply (409 row on a stale version)."""
    reply = _get_or_404(CannedReply, reply_id)
    if request.method == "GET":
        form = _canned_form(CannedReplyEditForm, formdata=None, obj=reply)
        form.category.data = reply.category or ""
        form.version.data = str(reply.version)
    else:
        form = _canned_form(CannedReplyEditForm)
        if form.validate_on_submit():
            try:
                svc.update_canned(current_user, reply, version=_version(form), category=form.category.data or None,
                                  title=form.title.data, body=form.body.data)
            except StaleEdit:
                db.session.rollback()
                if wants_fragment():
                    return render_fragment(CANNED, "canned_conflict_row", reply=reply, **_helpers()), 409
                raise
            except ValidationError as exc:
                db.session.rollback()
                apply_errors(form, exc.errors)
            else:
                flash(_("Canned reply %(t)s saved.", t=reply.title), "success")
                if wants_fragment():
                    return trigger(make_response(_render_canned_row(reply)), "canned-changed")
                return redirect(url_for("tickets.canned_replies"), code=303)
    if wants_fragment():
        return render_fragment(CANNED, "canned_edit_row", reply=reply, form=form, **_helpers())
    return render("tickets/settings/canned_edit.html", reply=reply, form=form, active_tab="canned", **_helpers())


@bp.route("/canned-replies/<int:reply_id>/move", methods=["POST"])
@require(Permission.MANAGE_CANNED_REPLIES)
def canned_move(reply_id: int):
    """Move a canned reply up or down its group."""
    reply = _get_or_404(CannedReply, reply_id)
    try:
        svc.move_canned(current_user, reply, request.form.get("direction", ""))
    except ValidationError as exc:
        db.session.rollback()
        flash(next(iter(exc.errors.values())), "danger")
    if wants_fragment():
        return render_fragment(CANNED, "canned_table", **_canned_context())
    return redirect_back(url_for("tickets.canned_replies"))


@bp.route("/canned-replies/<int:reply_id>/active", methods=["POST"])
@require(Permission.MANAGE_CANNED_REPLIES)
def canned_set_active(reply_id: int):
    """Activate or deactivate a canned reply."""
    reply = _get_or_404(CannedReply, reply_id)
    active = posted_active()
    svc.set_canned_active(current_user, reply, active)
    flash(_("Canned reply %(t)s activated.", t=reply.title) if active
          else _("Canned reply %(t)s deactivated: agents no longer see it.", t=reply.title), "success")
    if wants_fragment():
        return _render_canned_row(reply)
    return redirect_back(url_for("tickets.canned_replies"))


def settings_tabs(user) -> list[dict]:
    """The tabs over the settings pages the user may open."""
    tabs = []
    if has_permission(user, Permission.MANAGE_DEADLINE_RULES):
        tabs += [
            {"key": "rules", "label": _("Deadline rules"), "url": url_for("tickets.rules")},
            {"key": "calendar", "label": _("Work calendar"), "url": url_for("tickets.calendar")},
            {"key": "reasons", "label": _("Reasons"), "url": url_for("tickets.reasons")},
        ]
    if has_permission(user, Permission.MANAGE_CANNED_REPLIES):
        tabs.append({"key": "canned", "label": _("Canned replies"), "url": url_for("tickets.canned_replies")})
    return tabs
