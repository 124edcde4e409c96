"""Ticket settings pages: deadline rules (with a 试算 box), the work calendar,
reason lists and canned replies. Thin views over ``settings.service``.

Rules, reasons and canned replies are lists on the inline-edit kit
(``kdcs/crud.py``): the row, the edit with its version, the 409 conflict form
(what is stored now beside what the user typed, ready to resubmit), activate /
deactivate, and for rules and canned replies the create form. The calendar's
day editor is keyed by a date and may create the day's row, so it has its own
view with the kit's rules: the posted version (0 when the day had no row) must
be the stored one, otherwise a 409 with the kit's conflict box.

Every form posts and redirects (303) without JavaScript; with htmx the same
URLs answer with the block of the page that changed (a row, a table, the
calendar).
"""

from __future__ import annotations

from datetime import date, datetime

from flask import abort, after_this_request, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ...crud import InlineEdit, display_value, get_or_404, parse_version
from ...htmx import render, render_fragment, wants_fragment, with_events
from ...models.ticket import CannedReply, CountingMode, DeadlineRule, TicketReason
from ...outlets.service import all_brands
from ...permissions import Permission, has_permission, require
from ...request_args import day_or_none
from ...service_errors import StaleEdit, ValidationError
from ...views import active_filter, apply_errors, redirect_back
from ...workcalendar import SHANGHAI
from .. import bp
from ..deadlines import DEFAULT_WINDOW
from ..labels import CATEGORY_LABELS, label
from . import service as svc
from .forms import (
    CalendarDayForm,
    CalendarLoadForm,
    CannedReplyForm,
    ReasonForm,
    ReasonRenameForm,
    RuleForm,
)

RULES_PAGE = "tickets/settings/rules.html"
CALENDAR_PAGE = "tickets/settings/calendar.html"
REASONS_PAGE = "tickets/settings/reasons.html"
CANNED_PAGE = "tickets/settings/canned_replies.html"

WEEKDAYS = [_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun")]


# --------------------------------------------------------------------------- shared helpers


def settings_tabs(user) -> list[dict]:
    """The tabs over the settings pages the user may open."""
    tabs = []
    if has_permission(user, Permission.MANAGE_DEADLINE_RULES):
        tabs += [
            {"key": "rules", "label": _("Deadline rules"), "url": url_for("tickets.rules")},
            {"key": "calendar", "label": _("Work calendar"), "url": url_for("tickets.calendar")},
            {"key": "reasons", "label": _("Reasons"), "url": url_for("tickets.reasons")},
            {"key": "evidence", "label": _("Evidence checklists"), "url": url_for("tickets.evidence_items")},
        ]
    if has_permission(user, Permission.MANAGE_CANNED_REPLIES):
        tabs.append({"key": "canned", "label": _("Canned replies"), "url": url_for("tickets.canned_replies")})
    return tabs


def _category_label(code: str | None) -> str:
    return label("category", code) if code else _("All categories")


def _categories() -> list[tuple[str, str]]:
    return [(code, str(text)) for code, text in CATEGORY_LABELS.items()]


def _mode_text(rule) -> str:
    if rule.mode == CountingMode.SERVICE_HOURS:
        start = rule.service_start.strftime("%H:%M") if rule.service_start else "08:00"
        end = rule.service_end.strftime("%H:%M") if rule.service_end else "20:00"
        return _("Service hours %(a)s–%(b)s on working days", a=start, b=end)
    return _("Clock time")


def _weekday(day: date) -> str:
    return str(WEEKDAYS[day.weekday()])


def _fmt_local(value: datetime | None) -> str:
    """2026-11-24（周二）10:00 in Shanghai time."""
    if value is None:
        return ""
    local = value.astimezone(SHANGHAI)
    return f"{local:%Y-%m-%d}（{_weekday(local)}）{local:%H:%M}"


def _fmt_day(day: date) -> str:
    return f"{day:%Y-%m-%d}（{_weekday(day)}）"


# Names every settings template (and each of its blocks) uses; only callables, so the
# kits can carry them (``extra_context``) and the words are translated per request.
HELPERS = {
    "category_label": _category_label,
    "categories": _categories,
    "fmt_minutes": svc.format_minutes,
    "mode_text": _mode_text,
    "weekday": _weekday,
    "fmt_local": _fmt_local,
    "CountingMode": CountingMode,
    "settings_tabs": settings_tabs,
}


# --------------------------------------------------------------------------- deadline rules


def _brand_choices() -> list[tuple[int, str]]:
    return [(0, _("Any brand"))] + [
        (b.id, f"{b.name}（{b.code}）" + ("" if b.is_active else " · " + _("inactive"))) for b in all_brands()
    ]


def _prepare_rule_form(form, _rule=None) -> None:
    """Choices of a rule form; ``form.reason_groups`` lays the reasons out by category."""
    groups = svc.reasons_by_category()
    form.brand_id.choices = _brand_choices()
    form.category.choices = _categories()
    form.reason_id.choices = [(0, _("Any reason"))] + [(r.id, r.name) for rs in groups.values() for r in rs]
    form.reason_groups = [(_category_label(code), reasons) for code, reasons in groups.items() if reasons]
    form.mode.choices = [(CountingMode.CLOCK.value, _("Clock time (every minute counts)")),
                         (CountingMode.SERVICE_HOURS.value, _("Service hours, working days only"))]


def _load_rule_form(form, rule: DeadlineRule) -> None:
    form.brand_id.data = rule.brand_id or 0
    form.reason_id.data = rule.reason_id or 0
    form.set_minutes(rule.reply_minutes, rule.resolve_minutes)
    if rule.mode != CountingMode.SERVICE_HOURS or not rule.service_start:
        form.service_start.data, form.service_end.data = DEFAULT_WINDOW


def _rule_stored(rule: DeadlineRule) -> list[tuple[str, str]]:
    """A rule as stored now, in the words of the list (the conflict box)."""
    return [
        (_("Brand"), rule.brand.name if rule.brand else _("Any brand")),
        (_("Category"), _category_label(rule.category)),
        (_("Reason"), rule.reason.name if rule.reason else _("Any reason")),
        (_("Reply within"), svc.format_minutes(rule.reply_minutes, rule.mode)),
        (_("Resolve within"), svc.format_minutes(rule.resolve_minutes, rule.mode)),
        (_("Counting"), _mode_text(rule)),
        (_("Note"), rule.note or "—"),
    ]


def _rule_values(form) -> dict:
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


def _rules_page(create_form=None, preview: dict | None = None, block: str = "rule_table"):
    """The rules page (or its ``block`` for htmx): filtered list, create form, 试算 box."""
    category = request.args.get("category", "")
    category = category if category in svc.CATEGORY_CODES else ""
    brand = request.args.get("brand", type=int)
    active = active_filter(request.args)
    q = request.args.get("q", "").strip()
    if create_form is None:
        create_form = RuleForm(formdata=None)
        _prepare_rule_form(create_form)
    rules = svc.list_rules(current_user, category=category, brand_id=brand, active=active, q=q)
    return render(RULES_PAGE, block=block, rules=rules, q=q, f_category=category, f_brand=brand, f_active=active,
                  brands=_brand_choices()[1:], create_form=create_form, kit=RULES, active_tab="rules",
                  **(preview or _preview_context()), **HELPERS)


RULES = InlineEdit(
    name="rule", model=DeadlineRule, template=RULES_PAGE, list_endpoint="tickets.rules", edit_form=RuleForm,
    describe=lambda rule: _("rule %(s)s", s=svc.rule_summary(rule)),
    row_context=lambda rule: {"rule": rule}, extra_context=HELPERS, colspan=9,
    prepare_form=_prepare_rule_form, load_form=_load_rule_form, fields_template="tickets/settings/_rule_fields.html",
    stored=_rule_stored, error_aliases={"reply_minutes": "reply_hours", "resolve_minutes": "resolve_hours"},
    save=lambda rule, form, version: svc.update_rule(current_user, rule, version=version, **_rule_values(form)),
    set_active=lambda rule, active: svc.set_rule_active(current_user, rule, active),
    create_form=RuleForm, page=_rules_page,
    create=lambda form: svc.create_rule(current_user, **_rule_values(form)),
)
RULES.register(bp, "/rules", Permission.MANAGE_DEADLINE_RULES)


@bp.route("/rules")
@require(Permission.MANAGE_DEADLINE_RULES)
def rules():
    """The deadline rules: filters, the list with inline edit, the create form and the 试算 box."""
    return _rules_page()


@bp.route("/rules/preview")
@require(Permission.MANAGE_DEADLINE_RULES)
def rule_preview():
    """试算: due times of a rule from a start time, with the work calendar as kept."""
    context = _preview_context(request.args.get("rule_id", type=int) or 0, request.args.get("start", "").strip())
    return _rules_page(preview=context, block="preview_box")


# --------------------------------------------------------------------------- work calendar


class DayEditor:
    """What the kit's conflict box (``_crud/macros.html``) needs to name a calendar day."""

    @staticmethod
    def describe(day: date) -> str:
        """12月24日（周四）: short enough for the side panel, without a hyphen to break at."""
        return _("%(month)d/%(day)d (%(weekday)s)", month=day.month, day=day.day, weekday=_weekday(day))


def _month_arg(year: int | None, month: int | None) -> tuple[int, int]:
    today = datetime.now(SHANGHAI).date()
    year = year if year and 1900 <= year <= 2200 else today.year
    month = month if month and 1 <= month <= 12 else (today.month if year == today.year else 1)
    return year, month


def _parse_day(text: str | None) -> date | None:
    return day_or_none(text)


def _stored_day_form(day: date) -> CalendarDayForm:
    """The day editor filled with the day as stored now (or as the weekday rule says)."""
    is_workday, name, _version = svc.day_state(current_user, day)
    return CalendarDayForm(formdata=None, is_workday="1" if is_workday else "0", name=name)


def _calendar_context(year: int, month: int, selected: date | None = None, day_form=None,
                      conflict: bool = False, load_form=None) -> dict:
    selected_row = svc.calendar_day(current_user, selected) if selected else None
    if selected and day_form is None:
        day_form = _stored_day_form(selected)
    prev_month = (year - 1, 12) if month == 1 else (year, month - 1)
    next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    if load_form is None:
        load_form = CalendarLoadForm(formdata=None, year=year)
    stored = [(f.label.text, display_value(f)) for f in _stored_day_form(selected)
              if f.type != "CSRFTokenField"] if conflict else []
    return {
        "year": year, "month": month, "weeks": svc.month_grid(current_user, year, month),
        "runs": svc.year_runs(current_user, year),
        "selected": selected, "selected_row": selected_row, "day_form": day_form,
        "day_version": selected_row.version if selected_row is not None else 0,
        "day_conflict": conflict, "stored": stored, "day_editor": DayEditor,
        "prev_month": prev_month, "next_month": next_month, "today": datetime.now(SHANGHAI).date(),
        "load_form": load_form, "package_years": svc.package_years(), "active_tab": "calendar",
        "weekday_names": [str(w) for w in WEEKDAYS],
        **HELPERS,
    }


@bp.route("/calendar")
@require(Permission.MANAGE_DEADLINE_RULES)
def calendar():
    """The work calendar month view (optionally with a day selected)."""
    selected = _parse_day(request.args.get("day"))
    year, month = _month_arg(request.args.get("year", type=int), request.args.get("month", type=int))
    if selected and "year" not in request.args:
        year, month = selected.year, selected.month
    return render(CALENDAR_PAGE, block="calendar_body", **_calendar_context(year, month, selected))


def _day_editor_response(day: date, form, conflict: bool = False):
    """The calendar with the day's editor holding ``form``; 409 with the stored state on a conflict."""
    context = _calendar_context(day.year, day.month, day, day_form=form, conflict=conflict)
    return render(CALENDAR_PAGE, block="calendar_body", status=409 if conflict else 200, **context)


@bp.route("/calendar/<day_text>", methods=["GET", "POST"])
@require(Permission.MANAGE_DEADLINE_RULES)
def calendar_day(day_text: str):
    """One day of the work calendar: GET its editor (htmx), POST working day or day off with the version seen."""
    day = _parse_day(day_text)
    if day is None:
        abort(404)
    if request.method == "GET":
        if not wants_fragment():
            return redirect(url_for("tickets.calendar", day=day.isoformat()), code=303)
        return render_fragment(CALENDAR_PAGE, "day_editor", **_calendar_context(day.year, day.month, day))
    form = CalendarDayForm()
    version = parse_version(request.form.get("version"))
    if version is None or version != svc.day_state(current_user, day)[2]:  # missing, malformed or stale
        return _day_editor_response(day, form, conflict=True)
    if form.validate_on_submit():
        try:
            svc.set_day(current_user, day, is_workday=form.is_workday.data == "1", name=form.name.data or "",
                        version=version)
        except StaleEdit:
            return _day_editor_response(day, form, conflict=True)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            message = _("%(d)s saved as %(kind)s.", d=_fmt_day(day),
                        kind=_("a working day") if form.is_workday.data == "1" else _("a day off"))
            if wants_fragment():
                return render_fragment(CALENDAR_PAGE, "calendar_body", toast=message,
                                       **_calendar_context(day.year, day.month, day))
            flash(message, "success")
            return redirect(url_for("tickets.calendar", year=day.year, month=day.month, day=day.isoformat()), code=303)
    return _day_editor_response(day, form)


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
            apply_errors(form, exc.errors)
        else:
            message = _("%(y)d loaded from chinesecalendar: %(c)d days added, %(u)d updated, %(k)d edited by hand kept.",
                        y=year, c=counts["created"], u=counts["updated"], k=counts["kept"])
            if wants_fragment():
                y, m = _month_arg(year, month)
                return render_fragment(CALENDAR_PAGE, "calendar_body", toast=message, **_calendar_context(y, m))
            flash(message, "success")
            return redirect(url_for("tickets.calendar", year=year, month=month or 1), code=303)
    year = form.year.data if isinstance(form.year.data, int) else None
    y, m = _month_arg(year, month)
    return render(CALENDAR_PAGE, block="calendar_body", **_calendar_context(y, m, load_form=form))


def _posted_direction() -> str:
    """The up/down button's value; anything else is a tampered form (400), like ``posted_active``."""
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400)
    return direction


# --------------------------------------------------------------------------- reasons


def _reason_category(value: str | None) -> str:
    return value if value in svc.CATEGORY_CODES else svc.CATEGORY_CODES[0]


def _reasons_context(category: str, create_form=None) -> dict:
    grouped = svc.reasons_by_category(current_user)
    reasons = grouped.get(category, [])
    if create_form is None:
        create_form = ReasonForm(formdata=None, category=category)
        create_form.category.choices = _categories()
    return {
        "category": category, "reasons": reasons, "counts": {c: len(rs) for c, rs in grouped.items()},
        "usage": svc.reason_usage([r.id for r in reasons]), "create_form": create_form, "kit": REASONS,
        "active_tab": "reasons", **HELPERS,
    }


def _reason_row_context(reason: TicketReason) -> dict:
    index, count = svc.reason_position(reason)
    return {"reason": reason, "loop": {"index": index, "first": index == 1, "last": index == count},
            "usage": svc.reason_usage([reason.id]), "category": reason.category}


REASONS = InlineEdit(
    name="reason", model=TicketReason, template=REASONS_PAGE, list_endpoint="tickets.reasons",
    edit_form=ReasonRenameForm, describe=lambda reason: _("reason %(name)s", name=reason.name),
    row_context=_reason_row_context, extra_context=HELPERS, colspan=6,
    save=lambda reason, form, version: svc.rename_reason(current_user, reason, name=form.name.data, version=version),
    saved_url=lambda reason: url_for("tickets.reasons", category=reason.category),
    set_active=lambda reason, active: svc.set_reason_active(current_user, reason, active),
)
REASONS.register(bp, "/reason-lists", Permission.MANAGE_DEADLINE_RULES)


@bp.route("/reason-lists")
@require(Permission.MANAGE_DEADLINE_RULES)
def reasons():
    """The reason lists page, one category at a time."""
    category = _reason_category(request.args.get("category"))
    return render(REASONS_PAGE, block="reason_panel", **_reasons_context(category))


def _reason_panel_or_back(category: str):
    """After a change (its message flashed): the category's panel for htmx, else a 303 back to it."""
    if wants_fragment():
        return render_fragment(REASONS_PAGE, "reason_panel", **_reasons_context(category))
    return redirect(url_for("tickets.reasons", category=category), code=303)


@bp.route("/reason-lists/new", methods=["POST"])
@require(Permission.MANAGE_DEADLINE_RULES)
def reason_create():
    """Add a reason at the end of its category's list; the panel comes back with it (counts change too)."""
    form = ReasonForm()
    form.category.choices = _categories()
    if form.validate_on_submit():
        try:
            reason = svc.create_reason(current_user, category=form.category.data, name=form.name.data)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("Reason %(name)s added to %(cat)s.", name=reason.name, cat=label("category", reason.category)),
                  "success")
            return _reason_panel_or_back(reason.category)
    category = _reason_category(form.category.data)
    return render(REASONS_PAGE, block="reason_panel", **_reasons_context(category, create_form=form))


@bp.route("/reason-lists/<int:reason_id>/move", methods=["POST"])
@require(Permission.MANAGE_DEADLINE_RULES)
def reason_move(reason_id: int):
    """Move a reason up or down its list (a direction other than up/down is a 400)."""
    reason = get_or_404(TicketReason, reason_id)
    svc.move_reason(current_user, reason, _posted_direction())
    return _reason_panel_or_back(reason.category)


@bp.route("/reason-lists/<int:reason_id>/delete", methods=["POST"])
@require(Permission.MANAGE_DEADLINE_RULES)
def reason_delete(reason_id: int):
    """Delete a reason no ticket or rule uses (a used one can only be deactivated)."""
    reason = get_or_404(TicketReason, reason_id)
    category, name = reason.category, reason.name
    try:
        svc.delete_reason(current_user, reason)
    except ValidationError as exc:
        flash(next(iter(exc.errors.values())), "danger")
    else:
        flash(_("Reason %(name)s deleted.", name=name), "success")
    return _reason_panel_or_back(category)


# --------------------------------------------------------------------------- canned replies


def _prepare_canned_form(form, _reply=None) -> None:
    form.category.choices = [("", _("All categories (shared)"))] + _categories()
    form.reason_id.choices = [("", _("Every reason"))] + [
        (r.id, f"{CATEGORY_LABELS.get(category, category)} · {r.name}")
        for category, reasons in svc.reasons_by_category(include_inactive=False).items() for r in reasons]


def _load_canned_form(form, reply: CannedReply) -> None:
    form.category.data = reply.category or ""
    form.reason_id.data = reply.reason_id


def _canned_values(form) -> dict:
    return {"category": form.category.data or None, "title": form.title.data, "body": form.body.data,
            "reason_id": form.reason_id.data}


def _save_canned(reply: CannedReply, form, version: int) -> None:
    """Save a reply; one moved to another category's group changes place, so the table reloads."""
    category = reply.category
    svc.update_canned(current_user, reply, version=version, **_canned_values(form))
    if reply.category != category:
        after_this_request(lambda response: with_events(response, "canneds-changed"))


def _canned_filters() -> dict:
    category = request.values.get("category", "")
    return {
        "f_category": category if category == "all" or category in svc.CATEGORY_CODES else "",
        "q": request.values.get("q", "").strip(),
        "f_active": active_filter(),
    }


def _canned_page(create_form=None):
    """The canned replies page (the table alone for htmx), filtered as the search form says."""
    filters = _canned_filters()
    if create_form is None:
        create_form = CannedReplyForm(formdata=None)
        _prepare_canned_form(create_form)
    replies = svc.list_canned(current_user, category=filters["f_category"], q=filters["q"], active=filters["f_active"])
    return render(CANNED_PAGE, block="canned_table", replies=replies, groups=svc.canned_positions(),
                  create_form=create_form, kit=CANNED, active_tab="canned", **filters, **HELPERS)


CANNED = InlineEdit(
    name="canned", model=CannedReply, template=CANNED_PAGE, list_endpoint="tickets.canned_replies",
    edit_form=CannedReplyForm,
    describe=lambda reply: _("canned reply %(t)s", t=reply.title),
    row_context=lambda reply: {"reply": reply, "groups": svc.canned_positions()}, extra_context=HELPERS, colspan=6,
    prepare_form=_prepare_canned_form, load_form=_load_canned_form,
    fields_template="tickets/settings/_canned_fields.html", save=_save_canned,
    set_active=lambda reply, active: svc.set_canned_active(current_user, reply, active),
    create_form=CannedReplyForm, page=_canned_page,
    create=lambda form: svc.create_canned(current_user, **_canned_values(form)),
)
CANNED.register(bp, "/canned-replies", Permission.MANAGE_CANNED_REPLIES)


@bp.route("/canned-replies")
@require(Permission.MANAGE_CANNED_REPLIES)
def canned_replies():
    """The canned replies: search and filters, the list with inline edit and ordering, the create form."""
    return _canned_page()


@bp.route("/canned-replies/<int:canned_id>/move", methods=["POST"])
@require(Permission.MANAGE_CANNED_REPLIES)
def canned_move(canned_id: int):
    """Move a canned reply up or down its group (htmx: the table, still filtered)."""
    reply = get_or_404(CannedReply, canned_id)
    svc.move_canned(current_user, reply, _posted_direction())
    if wants_fragment():
        return _canned_page()
    return redirect_back(url_for("tickets.canned_replies"))
