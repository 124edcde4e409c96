"""The notice page: paste the State Council's holiday notice, preview the year, confirm, save.

One URL, ``/work-calendar/notice``: GET shows the empty form (next year);
POST with ``action=preview`` parses the text (``notice.parse_notice``) plus any
date ranges typed by hand and shows the year's days; ``action=save`` saves them
in one transaction (``service.import_year``), replacing the year's days only
when the admin ticked the confirmation. Without JavaScript the form posts and
the page comes back; with htmx only ``#notice-body`` is swapped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import Blueprint, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..htmx import redirect_after_post, render
from ..permissions import Permission, require
from ..request_args import day_or_none
from ..service_errors import StaleEdit, ValidationError
from .counting import SHANGHAI
from .forms import NoticeForm
from .notice import ParsedNotice, notice_year, parse_notice
from .service import check_year_days, import_year, range_days, year_day_count

bp = Blueprint("workcalendar", __name__, url_prefix="/work-calendar")

PAGE = "workcalendar/notice.html"
WEEKDAYS = "一二三四五六日"


@dataclass
class Preview:
    """What the admin confirms: the year's days as runs, the notice's problems, what is there now."""
    year: int
    days: dict[date, tuple[bool, str]]
    notice: ParsedNotice | None
    existing: int
    problems: list[str] = field(default_factory=list)  # block saving
    warnings: list[str] = field(default_factory=list)  # the notice's own, shown beside the days

    @property
    def runs(self) -> list[dict]:
        """Consecutive days of the same kind and name as one line: 10-01 – 10-07 国庆节 (7 days)."""
        runs: list[dict] = []
        for day, (is_workday, name) in sorted(self.days.items()):
            last = runs[-1] if runs else None
            if last and last["is_workday"] == is_workday and last["name"] == name and last["end"] + timedelta(days=1) == day:
                last["end"], last["count"] = day, last["count"] + 1
            else:
                runs.append({"start": day, "end": day, "count": 1, "is_workday": is_workday, "name": name})
        return runs

    @property
    def holidays(self) -> int:
        """How many days off."""
        return sum(1 for flag, _n in self.days.values() if not flag)

    @property
    def workdays(self) -> int:
        """How many make-up workdays."""
        return sum(1 for flag, _n in self.days.values() if flag)


def _fmt_day(day: date, year: int | None = None) -> str:
    """10-01（周四）within the preview's year, 2025-12-31（周三）outside it."""
    shown = f"{day:%m-%d}" if day.year == year else f"{day:%Y-%m-%d}"
    return f"{shown}（周{WEEKDAYS[day.weekday()]}）"


def _parse_date(text: str) -> date | None:
    return day_or_none(text)


def _typed_ranges(form: NoticeForm) -> tuple[dict[date, tuple[bool, str]], bool]:
    """The days of the ranges typed by hand (field errors set on bad rows); (days, all rows fine)."""
    days: dict[date, tuple[bool, str]] = {}
    fine = True
    for entry in form.ranges:
        row = entry.form
        start_text, end_text = (row.start.data or "").strip(), (row.end.data or "").strip()
        if not start_text and not end_text:
            continue
        start = _parse_date(start_text)
        end = _parse_date(end_text) if end_text else start
        if start is None:
            row.start.errors = [_("Enter a date such as 2027-10-01.")]
            fine = False
            continue
        if end is None:
            row.end.errors = [_("Enter a date such as 2027-10-07.")]
            fine = False
            continue
        is_workday = row.kind.data == "work"
        name = (row.name.data or "").strip()[:32] or (_("Make-up workday") if is_workday else _("Holiday"))
        try:
            days.update(range_days(start, end, is_workday=is_workday, name=name))
        except ValueError as exc:
            row.end.errors = [str(exc)]
            fine = False
    return days, fine


def _preview(form: NoticeForm) -> Preview | None:
    """Parse what was posted into a preview (None when there is no year to speak of)."""
    text = form.text.data or ""
    text_year = notice_year(text) if text.strip() else None
    year_note = None
    if text_year and form.year.data and text_year != form.year.data:  # the notice's title wins over the field
        year_note = _("The notice is about %(y)d, not %(f)d: the preview is for %(y)d.", y=text_year, f=form.year.data)
    year = text_year or form.year.data
    typed, _fine = _typed_ranges(form)
    if year is None:
        form.year.errors = [*form.year.errors, _("Enter the year (the notice's title names it).")]
        return None
    form.year.data = year
    parsed = parse_notice(text, year) if text.strip() else None
    days = dict(parsed.days()) if parsed else {}
    days.update(typed)  # a range typed by hand wins over what the parser read
    preview = Preview(year=year, days=dict(sorted(days.items())), notice=parsed, existing=year_day_count(year))
    preview.warnings = ([year_note] if year_note else []) + (parsed.all_problems if parsed else [])
    preview.problems = check_year_days(year, preview.days) if preview.days or text.strip() else []
    return preview


@bp.route("/notice", methods=["GET", "POST"])
@require(Permission.MANAGE_DEADLINE_RULES)
def notice():
    """Enter a year's holidays from the State Council's notice: paste, preview, confirm and save."""
    from ..tickets.settings.routes import settings_tabs

    if request.method == "GET":
        next_year = datetime.now(SHANGHAI).year + 1
        form = NoticeForm(formdata=None, year=request.args.get("year", type=int) or next_year)
    else:
        form = NoticeForm()
    context = {"form": form, "preview": None, "conflict": False, "fmt_day": _fmt_day,
               "settings_tabs": settings_tabs, "active_tab": "calendar"}
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        preview = _preview(form)
        context["preview"] = preview
        ranges_fine = not any(e.form.start.errors or e.form.end.errors for e in form.ranges)
        if preview is not None and not preview.days and ranges_fine:
            form.text.errors = [*form.text.errors, _("Paste the notice or enter a date range.")]
        elif (preview is not None and request.form.get("action") == "save" and ranges_fine
              and not preview.problems):
            try:
                counts = import_year(current_user, preview.year, preview.days, replace=form.replace.data,
                                     expected_existing=_int_or_none(form.expected.data))
            except StaleEdit:
                context["conflict"] = True
                status = 409
            except ValidationError as exc:
                if "replace" in exc.errors:
                    form.replace.errors = [exc.errors["replace"]]
                else:
                    preview.problems = [*preview.problems, *exc.errors.values()]
            else:
                flash(_("%(y)d saved: %(h)d days off and %(w)d make-up workdays.",
                        y=preview.year, h=counts["holidays"], w=counts["workdays"]), "success")
                return redirect_after_post(url_for("tickets.calendar", year=preview.year, month=1))
        if preview is not None:
            form.expected.data = str(preview.existing)
    return render(PAGE, block="notice_body", status=status, **context)


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
