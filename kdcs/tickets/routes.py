"""The agents' ticket screens: the queue, the detail page and its actions,
manual creation with inline validation, and bulk actions.

Thin views: parse, call ``queue`` (reads) or ``service`` (writes), render.
Every write answers the htmx fragment it changed (with a toast and the
``tickets-changed`` event) or, without JavaScript, a 303 redirect.
"""

from __future__ import annotations

import weakref
from datetime import datetime

from flask import Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..filters import SHANGHAI
from ..htmx import fragment_only, render, render_fragment, retarget, wants_fragment
from ..leave.coverage import covered_owners
from ..models import Role, Ticket, TicketReason, TicketStatus
from ..permissions import Permission, has_permission, require
from ..quality import service as quality_service
from ..request_args import id_or_none
from ..service_errors import NotFound, StaleEdit, ValidationError
from ..sop import panel as sop_panel
from ..views import apply_errors
from . import bp, idempotency, labels, presence, queue, service, timeline_view
from .followups import service as follow_up_service
from .followups.routes import card_context
from .forms import (
    AssignForm,
    BulkForm,
    FineForm,
    FormView,
    NoteForm,
    ReopenForm,
    ReplyForm,
    StatusForm,
    TicketCreateForm,
    as_shanghai,
    assign_view,
    controls,
    fine_view,
    follow_up_choices,
    note_view,
    reopen_view,
    reply_view,
    status_view,
)
from .settings.service import format_minutes

# --------------------------------------------------------------------------- helpers


def _version(form) -> int | None:
    """The version the form carried; a missing one counts as stale (never a blind overwrite)."""
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        return -1


def _ticket_or_404(ticket_id: int) -> Ticket:
    ticket = service.get_page_ticket(current_user, ticket_id)
    if ticket is None:
        abort(404)
    return ticket


def _reasons_by_category(category: str | None = None) -> dict[str, list[TicketReason]]:
    """{category: reasons}, the categories in their usual order (问题件, 留言, 工单, 仲裁): one optgroup each."""
    grouped: dict[str, list[TicketReason]] = {code: [] for code in labels.CATEGORY_LABELS if not category or code == category}
    for reason in service.reasons_for(category):
        grouped.setdefault(reason.category, []).append(reason)
    return {code: reasons for code, reasons in grouped.items() if reasons}


def _canned_groups(ticket: Ticket, user) -> list[dict]:
    """Canned replies for the reply box, blanks filled from the ticket (and ``user``, the agent): its
    reason's first, then its category's, then the general ones; each item says which blanks stayed unfilled."""
    from ..blanks import fill_blanks, ticket_blank_values

    values = ticket_blank_values(ticket, user)
    groups = {
        "reason": {"title": ticket.reason.name if ticket.reason else "", "items": []},
        "category": {"title": labels.label("category", ticket.category), "items": []},
        "other": {"title": _("Other reasons of this category"), "items": []},
        "general": {"title": _("General"), "items": []},
    }
    for canned in service.canned_rows(ticket.category):
        if canned.reason_id is not None and canned.reason_id == ticket.reason_id:
            key = "reason"
        elif canned.reason_id is not None:
            key = "other"
        elif canned.category:
            key = "category"
        else:
            key = "general"
        text, missing = fill_blanks(canned.body, values)
        groups[key]["items"].append({"id": canned.id, "title": canned.title, "text": text, "missing": missing})
    return [dict(group, key=key) for key, group in groups.items() if group["items"]]


@bp.context_processor
def ticket_template_helpers() -> dict:
    """Labels and deadline helpers for every ticket template (and its fragments)."""
    return {
        "labels": labels,
        "scope_labels": queue.SCOPES,
        "window_labels": queue.WINDOWS,
        "sort_labels": queue.SORTS,
        "deadline_state": service.deadline_state,
        "deadline_kind": queue.deadline_kind,
        "remaining_text": queue.remaining_text,
        "ago": queue.ago,
        "searches_waybill": queue.searches_waybill,
        "fmt_minutes": format_minutes,
    }


# --------------------------------------------------------------------------- queue


@bp.route("/")
@require(Permission.VIEW_TICKETS)
def index():
    """The queue: tabs, filters and search in the URL; ``#ticket-table`` for htmx."""
    f = queue.parse_filter(request.args, current_user)
    now = queue.now_utc()
    fragment = wants_fragment()
    page = queue.page_of(current_user, f, now)
    can_bulk = has_permission(current_user, Permission.BULK_TICKETS)
    context = {
        "f": f,
        "now": now,
        "page": page,
        "rows": (rows := queue.table_rows(page.items, now, _detail_prefix(), covered_owners(current_user, now),
                                          follow_up_service.marks_for([item[0] for item in page.items]))),
        "rows_html": queue.rows_html(rows, can_bulk),
        "counts": queue.scope_counts(current_user, f.scope, now) if _wants_counts(fragment) else None,
        "scopes": queue.allowed_scopes(current_user),
        "can_bulk": can_bulk,
        "queue_labels": queue.page_labels(),
    }
    if not fragment:
        context.update(_queue_choices(f, can_bulk))
    _remember_filter(f)
    response = render("tickets/index.html", block="ticket_table", **context)
    if fragment:
        # The canonical URL (no empty parameters) in the address bar; a refresh
        # after a change replaces the entry instead of adding one.
        header = "HX-Replace-Url" if request.headers.get("HX-Trigger") == "ticket-table" else "HX-Push-Url"
        response.headers[header] = f.url(url_for("tickets.index"))
    return response


QUEUE_FILTER_KEY = "queue_filter"  # the session's copy of the queue view 下一张 and 返回工单队列 follow


def _remember_filter(f) -> None:
    """Keep the queue's view (filters and sort, not the page) for 下一张: the session changes, and the
    cookie is sent again, only when the view does."""
    args = queue.remembered_args(f, current_user)
    if session.get(QUEUE_FILTER_KEY, "") != args:
        if args:
            session[QUEUE_FILTER_KEY] = args
        else:
            session.pop(QUEUE_FILTER_KEY, None)


def _queue_url(args: str | None = None) -> str:
    """The queue as the user last filtered it (its default view when they did not); ``args``: the kept
    view when the caller has read it already."""
    args = session.get(QUEUE_FILTER_KEY, "") if args is None else args
    return url_for("tickets.index") + (f"?{args}" if args else "")


def _wants_counts(fragment: bool) -> bool:
    """The tab's counts depend on the scope only, not on the filters: they are counted
    for a full page (tabs are full pages) and for the table's refresh after a change
    (``?counts=1``, see index.html); a filter, sort or page fragment leaves them out
    and the numbers on screen stay (``hx-preserve``)."""
    return not fragment or request.args.get("counts") == "1"


def _detail_prefix() -> str:
    """"/tickets/": the detail URL without its id (one ``url_for`` per page, not per row)."""
    return url_for("tickets.detail", ticket_id=0)[:-1]


def _queue_choices(f: queue.QueueFilter, can_bulk: bool) -> dict:
    """Options of the filter form and the bulk bar (full page only): Core rows from one prebuilt
    statement (``queue.queue_options``), texts escaped (the template places the options without
    autoescape); the assignee list is read once for both the filter and the bulk bar (its certified part)."""
    can_assign_filter = has_permission(current_user, Permission.VIEW_TEAM_TICKETS)
    options = queue.queue_options(current_user, f.category or None, assignees=can_assign_filter or can_bulk)
    return {
        "outlets": options.outlets,
        "brands": options.brands,
        "reasons": options.reasons,
        "assignees": options.assignees if can_assign_filter else [],
        "bulk_assignees": options.certified if can_bulk else [],
        "bulk_statuses": [s for s in labels.STATUS_LABELS if s != TicketStatus.CLOSED],
    }


@bp.route("/reasons")
@require(Permission.VIEW_TICKETS)
@fragment_only("tickets.new")
def reason_options():
    """<option>s of a category's reasons (the create form's reason select follows the category)."""
    category = request.args.get("category") or ""
    if category not in labels.CATEGORY_LABELS:
        category = ""
    return render_fragment("tickets/new.html", "reason_options",
                           reasons=service.reasons_for(category) if category else [], selected=None)


# --------------------------------------------------------------------------- bulk


@bp.route("/bulk", methods=["POST"])
@require(Permission.BULK_TICKETS)
def bulk():
    """Assign / change status / close the checked rows; each row follows the single-change rules."""
    form = BulkForm()
    ids = request.form.getlist("ids")
    versions = {}
    for raw in ids:
        value = request.form.get(f"v{raw}")
        if raw.isdigit() and value and value.isdigit():
            versions[int(raw)] = int(value)
    error = None
    results = []
    if not form.validate_on_submit():
        error = next(iter(form.errors.values()))[0] if form.errors else _("The form has expired.")
    else:
        action = form.action.data
        try:
            results = service.bulk_apply(
                current_user, ids, action, versions=versions,
                assignee_id=id_or_none(request.form.get("assignee_id")),
                to_status=request.form.get("to_status") or None, note=form.note.data or "",
            )
        except ValidationError as exc:
            error = " ".join(str(m) for m in exc.errors.values())
    # only tickets the user may see: a guessed id shows as "#id", never its waybill
    waybills = queue.visible_waybills(current_user, [r.ticket_id for r in results])
    changed = sum(1 for r in results if r.changed)
    if error:
        flash(error, "danger")
    elif results:
        level = "success" if changed == len(results) else "warning"
        flash(_("%(n)d of %(total)d tickets changed.", n=changed, total=len(results)), level)
    context = {"results": results, "waybills": waybills, "error": error, "changed": changed,
               "detail_prefix": _detail_prefix(), "back": _safe_back(request.form.get("back"))}
    return render("tickets/bulk_result.html", block="bulk_result", events="tickets-changed" if changed else None,
                  **context)


def _safe_back(value: str | None) -> str:
    """A queue URL to go back to: only our own path, never another site."""
    if value and value.startswith("/tickets/") and not value.startswith("//"):
        return value
    return url_for("tickets.index")


# --------------------------------------------------------------------------- create


def _create_form() -> TicketCreateForm:
    form = TicketCreateForm()
    form.outlet_id.choices = [(0, _("Choose an outlet"))] + service.outlet_choices(current_user, active_only=True)
    category = form.category.data or labels.choices("category")[0][0]
    form.reason_id.choices = [(0, _("Choose a reason"))] + [(r.id, r.name) for r in service.reasons_for(category)]
    return form


def _check_new(form: TicketCreateForm) -> dict[str, str]:
    """The service's verdict on the form as it stands (writes nothing)."""
    ctx = service.CreateContext.for_actor(current_user)
    _cleaned, errors = service.validate_new_ticket(
        ctx, outlet_id=form.outlet_id.data, direction=form.direction.data, category=form.category.data,
        reason_id=form.reason_id.data, waybill_no=form.waybill_no.data,
        registered_at=as_shanghai(form.registered_at.data), customer_name=form.customer_name.data,
        customer_phone=form.customer_phone.data, description=form.description.data,
        priority=form.priority.data,
    )
    if form.registered_at.raw_data and form.registered_at.raw_data[0] and form.registered_at.data is None:
        errors["registered_at"] = _("Enter the date and time it was registered.")
    return errors


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.WORK_TICKETS)
def new():
    """Create a ticket by hand; success -> 303 to its page, errors -> the form again (200)."""
    form = _create_form()
    if request.method == "GET":
        form.registered_at.data = datetime.now(SHANGHAI).replace(second=0, microsecond=0, tzinfo=None)
    elif form.validate_on_submit():
        try:
            ticket = service.create_ticket(
                current_user, outlet_id=form.outlet_id.data, direction=form.direction.data,
                category=form.category.data, reason_id=form.reason_id.data, waybill_no=form.waybill_no.data,
                registered_at=as_shanghai(form.registered_at.data), customer_name=form.customer_name.data,
                customer_phone=form.customer_phone.data, description=form.description.data,
                priority=form.priority.data,
            )
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        else:
            flash(_("Ticket %(w)s created.", w=ticket.waybill_no), "success")
            return redirect(url_for("tickets.detail", ticket_id=ticket.id), code=303)
    # The form itself posts without htmx (a 303 to the new page is a real navigation);
    # htmx only checks single fields as they change (``new_check``).
    return render_template("tickets/new.html", form=form)


@bp.route("/new/check", methods=["POST"])
@require(Permission.WORK_TICKETS)
@fragment_only("tickets.new")
def new_check():
    """Inline validation: the message of one field of the create form (htmx, on change/blur)."""
    form = _create_form()
    name = request.args.get("field", "")
    if name not in form._fields or name == "csrf_token":
        abort(400)
    form.validate()  # format errors of the fields themselves
    errors = _check_new(form)
    messages = list(form[name].errors) if form[name].errors and form[name].raw_data else []
    if name in errors and (form[name].raw_data and form[name].raw_data[0] not in ("", "0")):
        messages.append(errors[name])
    hint = None
    brand = service.waybill_brand_hint(form.outlet_id.data, form.waybill_no.data) if (
        name == "waybill_no" and not messages) else None
    if brand:
        hint = _("Unusual for %(brand)s waybills; check it (formats change, so it is allowed).", brand=brand)
    return render_fragment("tickets/new.html", "field_message", name=name, messages=messages, hint=hint)


# --------------------------------------------------------------------------- detail


_COUNTDOWN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _countdown_formats() -> dict[str, str]:
    """``queue.countdown_formats()`` kept per catalog (one per language): the page's two countdowns
    asked Flask-Babel for its five texts each."""
    from ..i18n import kept_per_catalog

    return kept_per_catalog(_COUNTDOWN, "formats", queue.countdown_formats)


_MINUTES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _kept_minutes(minutes, mode=None) -> str:
    """``format_minutes`` (the deadline rule's "2 小时") kept per catalog for whole minutes."""
    from ..i18n import kept_per_catalog

    args = (minutes,) if mode is None else (minutes, mode)
    if type(minutes) is not int:
        return format_minutes(*args)
    return kept_per_catalog(_MINUTES, args, format_minutes, *args, limit=1000)


def _detail_context(ticket: Ticket, kept: frozenset[str] = frozenset(), **forms) -> dict:
    """Everything the detail page and its ``ticket_body`` fragment show.

    ``forms``: a refused POST's WTForms form (``note_form`` ...) shown again as the user sent it;
    the other forms are displayed fresh as ``FormView``s (no WTForms form built for display).
    ``kept``: sections a write's answer leaves as the page shows them ("evidence", "sop"): an
    empty element with their id and ``hx-preserve``, nothing read for them.
    """
    user = current_user._get_current_object()  # the proxy once, not on each of a few dozen uses below
    version = str(ticket.version)
    transitions = service.allowed_transitions(ticket)
    status_choices = [(s, labels.label("status", s)) for s in transitions]
    if user.role not in (Role.LEAD, Role.ADMIN) and ticket.assignee_id == user.id:
        assignees = []  # anyone else may only take a ticket themselves: it is theirs already
    else:
        assignees = service.assignable_rows(user)
    assignee_choices = [(u.id, f"{u.display_name}（{u.username}）") for u in assignees if u.id != ticket.assignee_id]
    if assignee_choices:  # no preselected agent: the lead picks one on purpose
        assignee_choices.insert(0, ("", _("Please choose")))
    ticket_replies = service.reply_rows(ticket.id)
    corrects_choices = [(0, _("— (a new reply)"))] + [
        (r.id, f"{r.sent_at.astimezone(SHANGHAI):%m-%d %H:%M} {labels.label('channel', r.channel)}：{r.body[:24]}")
        for r in ticket_replies]
    set_status_choices = [("", _("Keep “%(s)s”", s=labels.label("status", ticket.status)))] + [
        (s, labels.label("status", s)) for s in service.reply_status_choices(ticket)]

    def shown(name: str, fresh, **choices):
        """The user's refused form as they sent it (with this page's choices and version), or ``fresh()``."""
        form = forms.get(name)
        if form is None:
            return fresh()
        for field_name, options in choices.items():
            getattr(form, field_name).choices = options
        form.version.data = version
        if hasattr(form, "key") and not form.key.data:  # a form shown again keeps its own key
            form.key.data = idempotency.new_key()
        return FormView.of(form)

    can_fine = service.can_decide_fines(user)
    fine = {}
    if can_fine and ticket.fine_amount is not None:
        fine = {"amount": f"{ticket.fine_amount:.2f}", "bearer": ticket.fine_bearer,
                "agent_share": f"{ticket.fine_agent_share or 0:.2f}"}
    built = {
        "note_form": shown("note_form", lambda: note_view(version, idempotency.new_key())),
        "status_form": shown("status_form", lambda: status_view(version, status_choices), to_status=status_choices),
        "assign_form": shown("assign_form", lambda: assign_view(version, assignee_choices),
                             assignee_id=assignee_choices),
        "reply_form": shown("reply_form", lambda: reply_view(version, idempotency.new_key(), corrects_choices,
                                                             set_status_choices),
                            corrects_id=corrects_choices, set_status=set_status_choices,
                            follow_up=follow_up_choices()),
        # only shown to who may decide fines (the page asks ``can_fine``)
        "fine_form": shown("fine_form", lambda: fine_view(version, idempotency.new_key(), **fine)) if can_fine else None,
        "reopen_form": shown("reopen_form", lambda: reopen_view(version)),
    }
    token = generate_csrf()  # the request's one token (what csrf_token() gives), once for the six forms
    for view in built.values():
        if view is not None:
            view.csrf = token
    can_work = has_permission(user, Permission.WORK_TICKETS)
    now = queue.now_utc()
    follow_up = card_context(ticket.id, forms.get("follow_up_form"), now) if can_work else {}
    timeline_rows = service.timeline_rows(ticket.id)
    sop_panel.remember_timeline_versions(timeline_rows)  # the versions its SOP lines name, at once
    kept_view = session.get(QUEUE_FILTER_KEY, "")
    return {
        "ticket": ticket,
        "queue_url": _queue_url(kept_view),
        "queue_filtered": bool(kept_view),
        "L": labels.kept(),
        "c": controls(),  # the form macros (tickets/_controls.html)
        # not "events": render() takes HX-Trigger events
        "timeline": timeline_view.lines(timeline_rows),
        "now": now,
        "countdown": _countdown_formats(),  # for remaining_text
        "fmt_minutes": _kept_minutes,
        "can_work": can_work,
        "can_fine": can_fine,
        "note_required_for": sorted(s for s in transitions if service.note_required(ticket.status, s)),
        "canned": _canned_groups(ticket, user),
        "replies": ticket_replies,
        "scorable": quality_service.scorable_replies(user, ticket_replies),  # 质检 links (leads and admins)
        "reply_met": service.reply_met_deadline(ticket),
        # the SOP scripts beside the ticket (kept: the page's panel stays, with what the agent opened)
        "sop_panel": None if "sop" in kept else sop_panel.for_ticket(ticket, user),
        "keep_sop": "sop" in kept and has_permission(user, Permission.VIEW_SOP),
        "keep_evidence": "evidence" in kept,
        "recent": queue.recent_changes_by_others(ticket, user),
        "open_tab": forms.get("open_tab", ""),
        **built,
        **follow_up,  # the 跟进 card (tickets/followups/_card.html)
    }


@bp.route("/<int:ticket_id>")
@require(Permission.VIEW_TICKETS)
def detail(ticket_id: int):
    """The ticket page: deadlines, timeline and actions; ``ticket_body`` for htmx."""
    ticket = _ticket_or_404(ticket_id)
    response = render(
        "tickets/detail.html", block="ticket_body", **_detail_context(ticket),
        viewers=presence.other_viewers(current_user, ticket.id),
    )
    if not wants_fragment():
        # After rendering: its commit expires the ticket and the user, which the page would load again.
        presence.touch(current_user, ticket.id)
    return response


@bp.route("/next", defaults={"ticket_id": 0})
@bp.route("/<int:ticket_id>/next")
@require(Permission.VIEW_TICKETS)
def next_ticket(ticket_id: int):
    """下一张: on to the next ticket of the user's queue as they last filtered and sorted it (else
    nearest deadline first) without going back to the queue; after the last, the first again; the
    queue itself when nothing else is there. ``/tickets/next`` (从最紧急的开始) starts at the top of
    the view its arguments give (``from=queue``: the queue page's current view; none: the default)."""
    user = current_user._get_current_object()
    if not ticket_id and request.args.get("from") != "queue":
        # A start from elsewhere (the home page): the view its arguments name, none the default, is the
        # one 下一张 follows from here. From the queue page: the view it shows now, already remembered.
        _remember_filter(queue.parse_filter(request.args, user))
    text = session.get(QUEUE_FILTER_KEY, "")
    f = queue.filter_from_query(text, user)
    found = queue.next_ticket_id(user, ticket_id, f=f)
    if found is None:
        if f is None:
            flash(_("No other open ticket in your queue."), "info")
        else:
            flash(_("No other ticket in your queue as you filtered it."), "info")
        return redirect(_queue_url(text), code=303)
    return redirect(url_for("tickets.detail", ticket_id=found), code=303)


@bp.route("/<int:ticket_id>/presence")
@require(Permission.VIEW_TICKETS)
@fragment_only("tickets.detail")
def presence_banner(ticket_id: int):
    """Collision warning (polled every 10 s): who else has the ticket open, did it change since
    this page loaded, and by whom? Polling also keeps this user's own presence fresh."""
    # One prebuilt statement and no ORM ticket (the user is the other): a third of an agent's requests.
    user = current_user._get_current_object()  # the user itself: poll reads it a few times
    state = presence.poll(user, ticket_id)
    if state is None:
        abort(404)
    loaded = request.args.get("version", type=int)
    changed = loaded is not None and loaded != state.version
    response = render_fragment(
        "tickets/detail.html", "presence_banner", ticket={"id": ticket_id}, changed=changed,
        viewers=state.viewers, recent=state.recent,
    )
    if state.heartbeat_due:  # every other poll: a fresh heartbeat is left as it is
        # Last: its commit expires the user, which the banner would load again.
        presence.touch(user, ticket_id)
    return response


def _kept_sections(opened_or_closed: bool) -> frozenset[str]:
    """What a stored write's answer leaves on the page as it is (``hx-preserve``): the evidence box
    (only its own upload and removal change it) and the SOP panel, unless the write opened or
    closed the ticket (the panel inserts into the reply box of an open ticket, else into the note).
    Their reads and rendering were a quarter of every status change's and reply's answer."""
    return frozenset(("evidence",)) if opened_or_closed else frozenset(("evidence", "sop"))


def _action_response(ticket_id: int, ok: bool, message: str | None = None, status: int = 200,
                     opens_or_closes=None, **forms):
    """After a write: the refreshed ``ticket_body`` (htmx) or a 303 to the page (no JS).

    A stored write's body keeps the page's evidence box and SOP panel (``_kept_sections``;
    ``opens_or_closes(ticket)`` says whether this write opened or closed it). A refused write
    re-renders the whole body (or the page) with the user's form as typed: 200 with its errors,
    or 409 with a conflict notice when the ticket changed meanwhile.
    """
    if ok:
        if not wants_fragment():
            if presence.visible_version(current_user, ticket_id) is None:  # reassigned away since
                return saved_but_moved(ticket_id, message)
            flash(message, "success")
            return redirect(url_for("tickets.detail", ticket_id=ticket_id), code=303)
        # Read once, as stored now (the write may have kept its objects loaded after its commit).
        ticket = service.get_page_ticket(current_user, ticket_id, fresh=True)
        if ticket is None:  # saved, then reassigned out of this user's scope a moment later
            return saved_but_moved(ticket_id, message)
        kept = _kept_sections(bool(opens_or_closes and opens_or_closes(ticket)))
        return render_fragment("tickets/detail.html", "ticket_body", toast=message, events="tickets-changed",
                               **_detail_context(ticket, kept=kept))
    ticket = _ticket_or_404(ticket_id)
    return render("tickets/detail.html", block="ticket_body", status=status,
                  conflict=status == 409, **_detail_context(ticket, **forms))


def note_added(ticket_id: int, event, seen_version: int | None, message: str) -> Response:
    """The answer to a stored note: only what changed when the page shows the ticket as stored.

    A note changes neither the ticket nor its version. If the version the note form carried is
    still the ticket's (one cheap lookup, which also re-checks the scope after the commit),
    htmx gets a fresh note box for ``#act-note`` and the note's timeline line on top of the
    timeline (out of band); every other form on the page keeps its version, rightly. Otherwise
    (the ticket changed since the page loaded) the whole body as stored now, as every write
    answers; a ticket that has left the user's queue is answered as saved (never a 404).
    """
    if not wants_fragment():
        return _action_response(ticket_id, True, message)
    version = presence.visible_version(current_user, ticket_id)
    if version is None:  # saved, then reassigned out of this user's scope a moment later
        return saved_but_moved(ticket_id, message)
    if version != seen_version:
        return _action_response(ticket_id, True, message)
    response = render(
        "tickets/_note_added.html", toast=message, events="tickets-changed", ticket={"id": ticket_id},
        note_form=note_view(str(version), idempotency.new_key()),
        line=timeline_view.line_of(event, current_user.display_name))
    return retarget(response, "#act-note")


def saved_but_moved(ticket_id: int, message: str | None) -> Response:
    """The answer to a write that committed on a ticket which has since left the user's queue
    (a lead reassigned it a moment later): a success saying where it went, never a 404 for what
    was just saved. htmx: a notice in place of the ticket (its presence poll stops); without
    JavaScript: a 303 to the queue with the notice."""
    notice = service.moved_notice(ticket_id)
    if not wants_fragment():
        if message:
            flash(message, "success")
        flash(notice, "info")
        return redirect(url_for("tickets.index"), code=303)
    return render_fragment("tickets/_moved.html", "ticket_moved", toast=(notice, "info"), events="tickets-changed",
                           message=message, notice=notice)


def _ticket_action(ticket_id: int, form, tab: str, action, success, aliases: dict[str, str] | None = None,
                   answer=None, keep_loaded: bool = False, opens_or_closes=None):
    """The one shape of every detail-page action: validate, call the service, answer.

    ``action(form)`` calls the service; ``success(result)`` is the toast; ``answer(result,
    message)``, when given, answers a success (else the refreshed body). A stale
    version keeps what the user typed (409); nothing typed is thrown away. The service looks
    the ticket up in the user's scope (404 when outside it), except for a repeated submit of a
    form it already stored (idempotency key): that is answered as the success it was.
    ``keep_loaded``: the write's commit keeps the session's objects loaded (its success and
    its answer read nothing stale: the answer reads the ticket again). ``opens_or_closes(ticket)``:
    whether the stored write opened or closed the ticket (its answer then renders the SOP panel).
    """
    if form.validate_on_submit():
        try:
            if keep_loaded:
                with service.kept_after_commit():
                    result = action(form)
            else:
                result = action(form)
        except StaleEdit:
            return _action_response(ticket_id, False, status=409, open_tab=tab, **{f"{tab}_form": form})
        except ValidationError as exc:
            apply_errors(form, exc.errors, aliases)
        else:
            if answer is not None:
                return answer(result, success(result))
            return _action_response(ticket_id, True, success(result), opens_or_closes=opens_or_closes)
    return _action_response(ticket_id, False, open_tab=tab, **{f"{tab}_form": form})


@bp.route("/<int:ticket_id>/note", methods=["POST"])
@require(Permission.WORK_TICKETS)
def add_note(ticket_id: int):
    """Add an internal note (colleagues only); htmx gets the note's line and a fresh box (``note_added``)."""
    form = NoteForm(prefix="note")
    return _ticket_action(
        ticket_id, form, "note",
        lambda form: service.add_note(current_user, ticket_id, form.body.data, idempotency_key=form.key.data),
        lambda _result: _("Note added."),
        answer=lambda event, message: note_added(ticket_id, event, _version(form), message), keep_loaded=True)


@bp.route("/<int:ticket_id>/status", methods=["POST"])
@require(Permission.WORK_TICKETS)
def change_status(ticket_id: int):
    """Move the ticket along its state machine (some moves need a note)."""
    return _ticket_action(
        ticket_id, StatusForm(prefix="status"), "status",
        lambda form: service.change_status(current_user, ticket_id, form.to_status.data or "",
                                           version=_version(form), note=form.note.data or ""),
        lambda ticket: _("Status changed to %(s)s.", s=labels.label("status", ticket.status)),
        {"status": "to_status"}, keep_loaded=True, opens_or_closes=lambda ticket: not ticket.is_open)


@bp.route("/<int:ticket_id>/assign", methods=["POST"])
@require(Permission.WORK_TICKETS)
def reassign(ticket_id: int):
    """Hand the ticket to another agent (leads and admins; the new assignee is notified)."""
    return _ticket_action(
        ticket_id, AssignForm(prefix="assign"), "assign",
        lambda form: service.assign(current_user, ticket_id, form.assignee_id.data,
                                    version=_version(form), note=form.note.data or ""),
        lambda ticket: _("Assigned to %(u)s.", u=ticket.assignee.display_name))


@bp.route("/<int:ticket_id>/replies", methods=["POST"])
@require(Permission.WORK_TICKETS)
def reply(ticket_id: int):
    """Record a reply (channel, text, when sent; optionally set 已回复 / 待反馈): the earliest one is the first reply."""
    followed: list[str] = []  # the toast's second half: the follow-up made, or why it was not

    def record(form):
        channel, body = form.channel.data or "", form.body.data or ""
        # 跟进 with the reply: checked first (a follow-up that cannot be made stores no reply either)
        due_at = follow_up_service.due_for_reply(ticket_id, form.follow_up.data or "", body)
        stored = service.record_reply(current_user, ticket_id, version=_version(form),
                                      channel=channel, body=body,
                                      sent_at=as_shanghai(form.sent_at.data), corrects_id=form.corrects_id.data,
                                      set_status=form.set_status.data or None,
                                      idempotency_key=form.key.data or None)
        # The SOP scenarios open beside the reply (sop_panel.js adds them): their timeline lines
        # are written before the answer is rendered, so it shows them.
        sop_panel.record_open_at_reply(current_user, stored, request.form.getlist("sop_open"))
        if due_at is not None:
            try:
                follow_up_service.add_for_reply(current_user, ticket_id, channel=channel, body=body, due_at=due_at,
                                                reply_key=form.key.data or None)
                followed.append(_("follow-up at %(t)s", t=follow_up_service.beijing(due_at)))
            except ValidationError as exc:  # a colleague filled the ticket's follow-ups a moment before
                followed.append(_("no follow-up: %(why)s", why=next(iter(exc.errors.values()))))
            except NotFound:  # reassigned out of this user's queue a moment after the reply: it stays saved
                followed.append(_("no follow-up: the ticket has left your queue"))
        return stored

    def recorded(_result) -> str:
        if followed:
            return _("Reply recorded; %(follow_up)s.", follow_up=followed[0])
        return _("Reply recorded.")

    return _ticket_action(ticket_id, ReplyForm(prefix="reply"), "reply", record, recorded, keep_loaded=True)


@bp.route("/<int:ticket_id>/fine", methods=["POST"])
@require(Permission.WORK_TICKETS)
def fine(ticket_id: int):
    """Record a brand fine and who bears it (leads and admins only)."""
    if not service.can_decide_fines(current_user):
        abort(403)
    return _ticket_action(
        ticket_id, FineForm(prefix="fine"), "fine",
        lambda form: service.record_fine(current_user, ticket_id, version=_version(form),
                                         amount=form.amount.data, bearer=form.bearer.data or "",
                                         agent_share=form.agent_share.data, note=form.note.data or "",
                                         idempotency_key=form.key.data),
        lambda _result: _("Fine recorded."),
        {"fine_amount": "amount", "fine_bearer": "bearer", "fine_agent_share": "agent_share"})


@bp.route("/<int:ticket_id>/reopen", methods=["POST"])
@require(Permission.WORK_TICKETS)
def reopen(ticket_id: int):
    """Reopen a resolved or closed ticket with a reason (a fresh resolve deadline)."""
    return _ticket_action(
        ticket_id, ReopenForm(prefix="reopen"), "reopen",
        lambda form: service.reopen(current_user, ticket_id, version=_version(form),
                                    reason=form.reason.data or ""),
        lambda _result: _("Ticket reopened."),
        {"status": "reason"}, opens_or_closes=lambda _ticket: True)
