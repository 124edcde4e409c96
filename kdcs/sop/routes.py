"""SOP pages: a scenario's current version, old versions, the comparison of two versions,
the draft editor with its live preview, and the review queue. Thin views over ``service``.

The editor is one form that posts and redirects (303) without JavaScript. With htmx
it also posts itself to ``/sop/preview`` as the trainer types (``input changed
delay:400ms``, ``hx-sync="this:replace"``), and the preview comes back rendered by
the same template and Markdown pipeline as the published page. The step buttons
(add, remove, up, down) post the form to the editor with ``step_op``: htmx gets the
steps block back, a browser without JS the whole page; nothing is saved by them.
A stale save (someone saved the draft since the page was loaded) is a 409 with
what is stored now, and the form keeps what was typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from ..crud import discard_changes, parse_version
from ..htmx import fragment_only, redirect_after_post, render, render_fragment, wants_fragment
from ..markdown import blanks_in, markdown_text, render_markdown
from ..models.sop import SopScenario
from ..models.types import utcnow
from ..permissions import Permission, has_permission, require
from ..service_errors import StaleEdit, ValidationError
from ..tickets.labels import CATEGORY_LABELS
from ..views import apply_errors
from ..workcalendar import SHANGHAI
from . import bp
from . import service as svc
from .forms import (
    UNIT_LABELS,
    ApproveForm,
    DraftForm,
    PublishForm,
    ReturnForm,
    apply_step_op,
    service_steps,
    step_rows,
    steps_from_form,
)
from .labels import STATUS_BADGES, format_limit, kind_label, status_label

SCENARIO_PAGE = "sop/scenario.html"
VERSION_PAGE = "sop/version.html"
DIFF_PAGE = "sop/diff.html"
EDIT_PAGE = "sop/edit.html"
REVIEW_PAGE = "sop/review.html"
DRAFT_PAGE = "sop/draft.html"


@bp.app_context_processor
def sop_helpers():
    """Labels and formatters every SOP template (and the ticket panel) uses."""
    return {"sop_kind_label": kind_label, "sop_status_label": status_label, "sop_status_badges": STATUS_BADGES,
            "sop_limit": format_limit, "render_markdown": render_markdown, "markdown_text": markdown_text}


@bp.app_template_global("sop_index_url")
def sop_index_url() -> str:
    """The SOP library (/sop/); the review page while the library is not registered."""
    if "sop.index" in current_app.view_functions:
        return url_for("sop.index")
    return url_for("sop.review")


def _index_url() -> str:
    return sop_index_url()


# --------------------------------------------------------------------------- reading

def _scenario(scenario_id: int) -> SopScenario:
    return svc.get_scenario(current_user, scenario_id)


def _page_context(scenario: SopScenario) -> dict:
    editor = has_permission(current_user, Permission.EDIT_SOP)
    return {
        "scenario": scenario,
        "versions": svc.published_versions(scenario),
        "draft": svc.open_draft(scenario) if editor else None,
        "can_edit": editor,
        "can_review": has_permission(current_user, Permission.REVIEW_SOP),
        "category_labels": CATEGORY_LABELS,
    }


@bp.get("/<int:scenario_id>")
@require(Permission.VIEW_SOP)
def scenario(scenario_id: int):
    """A scenario's current version: script, steps with time limits, authority; copy the script."""
    item = _scenario(scenario_id)
    return render(SCENARIO_PAGE, version=item.current_version, **_page_context(item))


@bp.get("/<int:scenario_id>/versions/<int:number>")
@require(Permission.VIEW_SOP)
def version(scenario_id: int, number: int):
    """One published version of a scenario (old versions stay readable and comparable)."""
    item = _scenario(scenario_id)
    shown = svc.get_published(current_user, item, number)
    return render(VERSION_PAGE, version=shown, **_page_context(item))


@bp.get("/<int:scenario_id>/draft")
@require(Permission.EDIT_SOP)
def draft(scenario_id: int):
    """The open draft as agents would see it once published (for editors and reviewers)."""
    item = _scenario(scenario_id)
    shown = svc.get_draft(current_user, item)
    return render(DRAFT_PAGE, version=shown, may_approve=svc.may_approve(current_user, shown),
                  **_page_context(item))


@bp.get("/<int:scenario_id>/diff")
@require(Permission.VIEW_SOP)
def diff(scenario_id: int):
    """Two versions side by side (``a``, ``b``: numbers, or "draft"), changes marked within lines."""
    item = _scenario(scenario_id)
    context = _page_context(item)
    versions = context["versions"]
    newest = versions[0].number if versions else None
    a_ref = request.args.get("a") or (str(versions[1].number) if len(versions) > 1 else None)
    b_ref = request.args.get("b") or (str(newest) if newest else None)
    if a_ref is None or b_ref is None:
        return render(DIFF_PAGE, old=None, new=None, sections=[], a_ref=a_ref, b_ref=b_ref, **context)
    old = svc.find_version(current_user, item, a_ref)
    new = svc.find_version(current_user, item, b_ref)
    return render(DIFF_PAGE, "diff_body", old=old, new=new, sections=svc.diff_versions(old, new),
                  a_ref=a_ref, b_ref=b_ref, **context)


# --------------------------------------------------------------------------- the editor

@dataclass
class Preview:
    """What the preview renders: a version's content as typed (never stored)."""

    title: str = ""
    script: str = ""
    steps: list = field(default_factory=list)
    authority: str = ""
    escalation: str = ""
    max_compensation: str | None = None


def _reason_choices() -> list[tuple[int, str]]:
    order = {code: n for n, code in enumerate(CATEGORY_LABELS)}  # 问题件, 留言, 工单, 仲裁
    reasons = sorted(svc.reason_choices(), key=lambda r: (order.get(r.category, 99), r.sort_order, r.id))
    return [(r.id, f"{CATEGORY_LABELS.get(r.category, r.category)} · {r.name}") for r in reasons]


def _team_choices() -> list[tuple[int, str]]:
    return [(t.id, t.name) for t in svc.team_choices()]


def _draft_form(formdata=None, version=None) -> DraftForm:
    form = DraftForm(formdata=formdata) if formdata is not None else DraftForm(formdata=None)
    form.reason_ids.choices = _reason_choices()
    if formdata is None and version is not None:
        scenario = version.scenario
        form.title.data = version.title
        form.kind.data = scenario.kind
        form.tags.data = "、".join(scenario.tags or [])
        form.categories.data = list(scenario.categories or [])
        form.reason_ids.data = [r.id for r in scenario.reasons]
        form.script.data = version.script
        form.max_compensation.data = version.max_compensation or ""
        form.authority.data = version.authority
        form.escalation.data = version.escalation
        form.change_note.data = version.change_note
        form.version.data = str(version.version)
    return form


def _publish_form(formdata=None) -> PublishForm:
    form = PublishForm(formdata=formdata) if formdata is not None else PublishForm(formdata=None)
    form.team_ids.choices = _team_choices()
    if formdata is None:
        form.due_at.data = (utcnow() + svc.READING_WINDOW).astimezone(SHANGHAI).replace(tzinfo=None, second=0,
                                                                                           microsecond=0)
    return form


def _editor(form: DraftForm, steps: list[dict], *, scenario=None, draft=None, status: int = 200,
            conflict: bool = False, publish_form: PublishForm | None = None):
    """The editor page (or, for htmx, its editor block)."""
    review = svc.review_required()
    return render(EDIT_PAGE, status=status, form=form, steps=steps, scenario=scenario, draft=draft,
                  conflict=conflict, review_required=review, unit_labels=UNIT_LABELS,
                  publish_form=publish_form or _publish_form(), preview=_preview_of(form, steps),
                  stored=_stored(draft) if conflict and draft is not None else [],
                  conflict_sections=_conflict_sections(draft, form, steps) if conflict and draft else [],
                  category_labels=CATEGORY_LABELS,
                  current=scenario.current_version if scenario is not None else None)


def _stored(draft) -> list[tuple[str, str]]:
    """Who saved the stored draft and when (the conflict box; the content differences follow it)."""
    saver = svc.last_saved_by(draft)
    return [
        (_("Title"), draft.title),
        (_("Saved by"), saver.display_name if saver else "—"),
        (_("Saved at"), draft.updated_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")),
    ]


def _conflict_sections(draft, form: DraftForm, steps: list[dict]) -> list:
    """The stored draft against what was typed, part by part (only the parts that differ are shown)."""
    typed = Preview(title=form.title.data or "", script=form.script.data or "",
                    steps=[s for s in service_steps(steps) if (s["text"] or "").strip()],
                    authority=form.authority.data or "", escalation=form.escalation.data or "")
    errors: dict[str, str] = {}
    typed.max_compensation = svc.clean_compensation(form.max_compensation.data, errors)
    return svc.diff_versions(draft, typed)


def _preview_of(form: DraftForm, steps: list[dict]) -> dict:
    content = Preview(title=form.title.data or "", script=form.script.data or "",
                      steps=[s for s in service_steps(steps) if (s["text"] or "").strip()],
                      authority=form.authority.data or "", escalation=form.escalation.data or "")
    errors: dict[str, str] = {}
    content.max_compensation = svc.clean_compensation(form.max_compensation.data, errors)
    for step in content.steps:
        if step["limit_minutes"] is not None and step["limit_minutes"] <= 0:
            step["limit_minutes"] = None
    return {"version": content, "unknown_blanks": _unknown_blanks(content.script)}


def _unknown_blanks(script: str) -> list[str]:
    try:
        from ..blanks import KNOWN_BLANKS
    except ImportError:  # the ticket panel's blanks are not there yet
        return []
    return [name for name in blanks_in(script) if name not in KNOWN_BLANKS]


def _known_blanks() -> list[str]:
    try:
        from ..blanks import KNOWN_BLANKS
    except ImportError:
        return []
    return list(KNOWN_BLANKS)


@bp.app_template_global("sop_known_blanks")
def sop_known_blanks() -> list[str]:
    """The blanks the ticket panel fills ({客户称呼} {运单号} ...), for the editor's hint."""
    return _known_blanks()


STEP_OP = re.compile(r"add|(?:remove|up|down):\d{1,2}")


def _step_op() -> str:
    """The step button pressed; anything but the buttons' own values is a tampered form (400)."""
    op = request.form.get("step_op", "")
    if not STEP_OP.fullmatch(op):
        abort(400)
    return op


def _steps_response(form: DraftForm, steps: list[dict], scenario=None, draft=None):
    """A step button: the steps block for htmx (the preview follows), the whole editor without JS."""
    if wants_fragment():
        response = render_fragment(EDIT_PAGE, "steps", steps=steps, unit_labels=UNIT_LABELS)
        # After the swap settles (HX-Trigger would fire before it): the preview then posts the new steps.
        response.headers["HX-Trigger-After-Settle"] = "sop-steps-changed"
        return response
    return _editor(form, steps, scenario=scenario, draft=draft, publish_form=_publish_form(request.form))


@bp.post("/preview")
@require(Permission.EDIT_SOP)
@fragment_only("sop.review")
def preview():
    """The live preview of the editor: the typed draft rendered as the published page renders it."""
    form = _draft_form(request.form)
    steps = steps_from_form(request.form)
    return render_fragment(EDIT_PAGE, "preview", preview=_preview_of(form, steps))


def _after_save(item: SopScenario, draft, action: str, publish_form: PublishForm):
    """Send on after a save ("submit" for review, "publish" without review); the response."""
    if action == "submit":
        svc.submit_for_review(current_user, draft)
        flash(_("The draft was sent for review. The reviewers have been notified."), "success")
    elif action == "publish":
        published = svc.publish_directly(current_user, draft, **publish_form.reading())
        flash(_("Version %(n)d is published.", n=published.number), "success")
        return redirect_after_post(url_for("sop.scenario", scenario_id=item.id))
    else:
        flash(_("Draft saved."), "success")
    return redirect_after_post(url_for("sop.edit", scenario_id=item.id))


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.EDIT_SOP)
def new():
    """A new scenario with its first draft (the same editor and live preview)."""
    if request.method == "GET":
        form = _draft_form()
        form.kind.data = "consultation"
        return _editor(form, [{"text": "", "limit_minutes": None, "amount": "", "unit": "min"}])
    form = _draft_form(request.form)
    steps = steps_from_form(request.form)
    publish_form = _publish_form(request.form)
    if "step_op" in request.form:
        return _steps_response(form, apply_step_op(steps, _step_op()))
    if not form.validate_on_submit():
        return _editor(form, steps, publish_form=publish_form)
    content = form.content(service_steps(steps))
    try:
        item = svc.create_scenario(current_user, **content)
    except ValidationError as exc:
        apply_errors(form, exc.errors)
        return _editor(form, steps, publish_form=publish_form)
    return _send_on(item, svc.open_draft(item), request.form.get("action", "save"), publish_form)


def _send_on(item, draft, action, publish_form):
    try:
        return _after_save(item, draft, action, publish_form)
    except ValidationError as exc:
        flash(_("The draft was saved, but not sent on: %(why)s", why=" ".join(exc.errors.values())), "danger")
        return redirect_after_post(url_for("sop.edit", scenario_id=item.id))


@bp.route("/<int:scenario_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_SOP)
def edit(scenario_id: int):
    """The draft editor: save (with the version it was loaded at), send for review or publish."""
    item = _scenario(scenario_id)
    draft = svc.open_draft(item)
    if draft is None:
        # A save posted after the draft was published or discarded elsewhere: 409, the typed script kept.
        gone = request.method == "POST"
        return render(EDIT_PAGE, status=409 if gone else 200, scenario=item, draft=None, form=None,
                      current=item.current_version, review_required=svc.review_required(),
                      lost_script=request.form.get("script", "") if gone else None)
    if request.method == "GET":
        form = _draft_form(version=draft)
        return _editor(form, step_rows(draft.steps), scenario=item, draft=draft)
    form = _draft_form(request.form)
    steps = steps_from_form(request.form)
    publish_form = _publish_form(request.form)
    if "step_op" in request.form:
        return _steps_response(form, apply_step_op(steps, _step_op()), item, draft)
    loaded_at = parse_version(request.form.get("version"))
    if loaded_at is None or loaded_at != draft.version:
        return _conflict(form, steps, item, draft, publish_form)
    if not form.validate_on_submit():
        return _editor(form, steps, scenario=item, draft=draft, publish_form=publish_form)
    try:
        svc.save_draft(current_user, draft, version_no=loaded_at, **form.content(service_steps(steps)))
    except (StaleEdit, StaleDataError):
        return _conflict(form, steps, item, draft, publish_form)
    except ValidationError as exc:
        apply_errors(form, exc.errors)
        return _editor(form, steps, scenario=item, draft=draft, publish_form=publish_form)
    return _send_on(item, draft, request.form.get("action", "save"), publish_form)


def _conflict(form, steps, item, draft, publish_form):
    """409: the draft as stored now, the form as typed, with the stored version to save over it."""
    discard_changes(draft)
    form.version.data = str(draft.version)
    form.version.raw_data = [str(draft.version)]
    return _editor(form, steps, scenario=item, draft=draft, status=409, conflict=True, publish_form=publish_form)


@bp.post("/<int:scenario_id>/draft")
@require(Permission.EDIT_SOP)
def start_draft(scenario_id: int):
    """Start a new draft from the current version (or open the draft there already is)."""
    item = _scenario(scenario_id)
    try:
        svc.start_draft(current_user, item)
    except ValidationError as exc:
        flash(" ".join(exc.errors.values()), "danger")
        return redirect_after_post(url_for("sop.scenario", scenario_id=item.id))
    return redirect_after_post(url_for("sop.edit", scenario_id=item.id))


def _posted_version(obj) -> int:
    """The version the button's page showed; missing, malformed or stale is a 409 (nothing changes)."""
    version = parse_version(request.form.get("version"))
    if version is None or version != obj.version:
        raise StaleEdit(obj)
    return version


def _draft_action(scenario_id: int, act, done: str, *, to: str = "sop.edit"):
    """Withdraw / discard: the draft at the posted version, a message, back to a page."""
    item = _scenario(scenario_id)
    draft = svc.open_draft(item)
    if draft is None:
        abort(404)
    try:
        result = act(draft, _posted_version(draft))
    except ValidationError as exc:
        flash(" ".join(exc.errors.values()), "danger")
        return redirect_after_post(url_for("sop.edit", scenario_id=item.id))
    flash(done, "success")
    if to == "index" or result is None:
        return redirect_after_post(_index_url())
    return redirect_after_post(url_for(to, scenario_id=item.id))


@bp.post("/<int:scenario_id>/withdraw")
@require(Permission.EDIT_SOP)
def withdraw(scenario_id: int):
    """Take a draft back from review to change it."""
    return _draft_action(scenario_id, lambda d, v: svc.withdraw(current_user, d, version_no=v),
                         _("The draft is back with you; send it for review again when it is ready."))


@bp.post("/<int:scenario_id>/discard")
@require(Permission.EDIT_SOP)
def discard(scenario_id: int):
    """Throw the open draft away (the published versions stay)."""
    return _draft_action(scenario_id, lambda d, v: svc.discard_draft(current_user, d, version_no=v),
                         _("The draft was discarded."), to="sop.scenario")


@bp.post("/<int:scenario_id>/versions/<int:number>/restore")
@require(Permission.EDIT_SOP)
def restore(scenario_id: int, number: int):
    """Start a draft holding an old version's content (published again as the next version)."""
    item = _scenario(scenario_id)
    old = svc.get_published(current_user, item, number)
    try:
        svc.restore_as_draft(current_user, item, old)
    except ValidationError as exc:
        flash(" ".join(exc.errors.values()), "danger")
        return redirect_after_post(url_for("sop.version", scenario_id=item.id, number=number))
    flash(_("Version %(n)d is now a new draft: check it and send it on.", n=number), "success")
    return redirect_after_post(url_for("sop.edit", scenario_id=item.id))


@bp.post("/<int:scenario_id>/archive")
@require(Permission.REVIEW_SOP)
def archive(scenario_id: int):
    """Archive a scenario or bring it back (``archived`` = "1" / "0")."""
    item = _scenario(scenario_id)
    value = request.form.get("archived")
    if value not in ("0", "1"):
        abort(400)
    svc.archive(current_user, item, value == "1", version_no=_posted_version(item))
    flash(_("The scenario is archived.") if value == "1" else _("The scenario is back in use."), "success")
    return redirect_after_post(url_for("sop.scenario", scenario_id=item.id))


# --------------------------------------------------------------------------- review

def _review_page(status: int = 200, forms: dict | None = None):
    queue = svc.review_queue(current_user)
    forms = forms or {}
    cards = []
    teams = _team_choices() if queue else []  # the same choices on every card: read once
    approvable = svc.approvable_ids(current_user, queue)
    for item in queue:
        approve_form, return_form = forms.get(item.id, (None, None))
        if approve_form is None:
            approve_form = ApproveForm(formdata=None, prefix=f"a{item.id}")
            approve_form.team_ids.choices = list(teams)
            approve_form.due_at.data = (utcnow() + svc.READING_WINDOW).astimezone(SHANGHAI).replace(
                tzinfo=None, second=0, microsecond=0)
            approve_form.version.data = str(item.version)
        if return_form is None:
            return_form = ReturnForm(formdata=None, prefix=f"r{item.id}")
            return_form.version.data = str(item.version)
        current = item.scenario.current_version
        cards.append({"draft": item, "may_approve": item.id in approvable,
                      "approve_form": approve_form, "return_form": return_form, "current": current,
                      "sections": svc.diff_versions(current, item) if current is not None else None})
    return render(REVIEW_PAGE, status=status, cards=cards, in_progress=svc.drafts_in_progress(current_user),
                  review_required=svc.review_required(),
                  can_toggle=has_permission(current_user, Permission.MANAGE_SOP_SETTINGS))


@bp.get("/review")
@require(Permission.REVIEW_SOP)
def review():
    """Drafts waiting for review, each with its changes and the approve / return forms."""
    return _review_page()


def _reviewed_draft(scenario_id: int):
    item = _scenario(scenario_id)
    draft = svc.open_draft(item)
    if draft is None:
        abort(404)
    return item, draft


@bp.post("/<int:scenario_id>/approve")
@require(Permission.REVIEW_SOP)
def approve(scenario_id: int):
    """Approve a draft in review: published as the next version, with the required-reading options."""
    item, draft = _reviewed_draft(scenario_id)
    form = ApproveForm(prefix=f"a{draft.id}")
    form.team_ids.choices = _team_choices()
    if not form.validate_on_submit():
        return _review_page(forms={draft.id: (form, None)})
    loaded_at = parse_version(form.version.data)
    if loaded_at is None or loaded_at != draft.version:
        flash(_("The draft changed while you were reviewing it; review it again."), "danger")
        return _review_page(status=409)
    try:
        published = svc.approve(current_user, draft, version_no=loaded_at, comment=form.comment.data or "",
                                **form.reading())
    except ValidationError as exc:
        apply_errors(form, exc.errors)
        return _review_page(forms={draft.id: (form, None)})
    flash(_("%(title)s version %(n)d is published.", title=published.title, n=published.number), "success")
    return redirect_after_post(url_for("sop.review"))


@bp.post("/<int:scenario_id>/return")
@require(Permission.REVIEW_SOP)
def return_draft(scenario_id: int):
    """Return a draft in review with a comment; its authors are notified."""
    item, draft = _reviewed_draft(scenario_id)
    form = ReturnForm(prefix=f"r{draft.id}")
    if not form.validate_on_submit():
        return _review_page(forms={draft.id: (None, form)})
    loaded_at = parse_version(form.version.data)
    if loaded_at is None or loaded_at != draft.version:
        flash(_("The draft changed while you were reviewing it; review it again."), "danger")
        return _review_page(status=409)
    try:
        svc.return_draft(current_user, draft, form.comment.data or "", version_no=loaded_at)
    except ValidationError as exc:
        apply_errors(form, exc.errors)
        return _review_page(forms={draft.id: (None, form)})
    flash(_("The draft was returned to its author."), "success")
    return redirect_after_post(url_for("sop.review"))


@bp.post("/review/setting")
@require(Permission.MANAGE_SOP_SETTINGS)
def review_setting():
    """Turn review before publishing on or off (``required`` = "1" / "0")."""
    value = request.form.get("required")
    if value not in ("0", "1"):
        abort(400)
    svc.set_review_required(current_user, value == "1")
    flash(_("Drafts are now reviewed before publishing.") if value == "1"
          else _("Review is off: editors publish their drafts themselves."), "success")
    return redirect_after_post(url_for("sop.review"))

