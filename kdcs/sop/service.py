"""SOP scenarios and their versions: drafts, review, publishing, restore, archive.

A scenario has at most one open draft (草稿, 待审核 or 已退回). A draft moves
through ``TRANSITIONS``; publishing gives it the next version number and makes it
the scenario's current version, after which it never changes (editing starts a
new draft from it). Review before publish: another trainer or an admin approves
— nobody approves a draft they wrote or edited — unless an admin turned review
off (``kdcs.settings``: ``sop.review_required``), when editors publish directly.

Every change is audited; the reviewers hear of a submitted draft, the authors of
an approved or returned one. The scenario's kind, tags and the ticket categories
and reasons it applies to are not versioned: the draft editor changes them on
the scenario itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import bindparam, exists, func, or_, select
from sqlalchemy.orm import selectinload

from .. import settings
from ..auditing import record, snapshot
from ..extensions import db
from ..models import Role, Team, User
from ..models.audit import AuditLog
from ..models.sop import SopKind, SopScenario, SopVersion, VersionStatus
from ..models.ticket import Category, TicketReason
from ..models.types import utcnow
from ..notifications.service import notify
from ..permissions import Permission, ensure, has_permission
from ..request_args import id_or_none
from ..service_errors import NotFound, StaleEdit, ValidationError
from ..textdiff import Row, around_changes, side_by_side
from .labels import format_limit

TITLE_MAX = 100
TAG_MAX = 16
MAX_TAGS = 10
SCRIPT_MAX = 20_000
TEXT_MAX = 5_000  # authority, escalation
STEP_TEXT_MAX = 200
MAX_STEPS = 20
MAX_LIMIT_MINUTES = 30 * 1440
CHANGE_NOTE_MAX = 500
COMMENT_MAX = 1_000
MAX_COMPENSATION = Decimal("100000")
READING_WINDOW = timedelta(hours=72)  # 政策变更黄金72小时
MAX_READING_WINDOW = timedelta(days=60)
REVIEW_SETTING = "sop.review_required"

OPEN = (VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.RETURNED)
EDITABLE = (VersionStatus.DRAFT, VersionStatus.RETURNED)
# action → (statuses it starts from, status it ends in)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": (EDITABLE, VersionStatus.IN_REVIEW),
    "withdraw": ((VersionStatus.IN_REVIEW,), VersionStatus.DRAFT),
    "return": ((VersionStatus.IN_REVIEW,), VersionStatus.RETURNED),
    "approve": ((VersionStatus.IN_REVIEW,), VersionStatus.PUBLISHED),
    "publish": (OPEN, VersionStatus.PUBLISHED),  # review turned off
}
SCENARIO_FIELDS = ["title", "kind", "tags", "categories", "reason_ids"]
CONTENT_FIELDS = ["title", "script", "steps", "authority", "escalation", "max_compensation", "change_note"]
EDIT_ACTIONS = ("sop.scenario_create", "sop.draft_start", "sop.draft_save", "sop.restore")


# --------------------------------------------------------------------------- settings

def review_required() -> bool:
    """Whether drafts need another trainer's approval (an admin may turn it off for small teams)."""
    return bool(settings.get_setting(REVIEW_SETTING))


def set_review_required(actor: User, required: bool) -> None:
    """Turn review before publishing on or off (admins)."""
    ensure(actor, Permission.MANAGE_SOP_SETTINGS)
    settings.set_setting(actor, REVIEW_SETTING, bool(required))
    db.session.commit()


# --------------------------------------------------------------------------- reading

def get_scenario(actor: User, scenario_id: int) -> SopScenario:
    """A scenario the actor may see: agents and leads only see published ones."""
    ensure(actor, Permission.VIEW_SOP)
    scenario = db.session.get(SopScenario, scenario_id) if id_or_none(scenario_id) else None
    if scenario is None:
        raise NotFound(scenario_id)
    if scenario.current_version_id is None and not has_permission(actor, Permission.EDIT_SOP):
        raise NotFound(scenario_id)
    return scenario


def get_published(actor: User, scenario: SopScenario, number: int) -> SopVersion:
    """Published version ``number`` of a scenario."""
    ensure(actor, Permission.VIEW_SOP)
    if id_or_none(number) is None:
        raise NotFound(number)
    version = db.session.scalar(select(SopVersion).where(
        SopVersion.scenario_id == scenario.id, SopVersion.number == number,
        SopVersion.status == VersionStatus.PUBLISHED))
    if version is None:
        raise NotFound(number)
    return version


def published_versions(scenario: SopScenario) -> list[SopVersion]:
    """The scenario's published versions, newest first."""
    return list(db.session.scalars(
        select(SopVersion).options(selectinload(SopVersion.author), selectinload(SopVersion.reviewer))
        .where(SopVersion.scenario_id == scenario.id, SopVersion.status == VersionStatus.PUBLISHED)
        .order_by(SopVersion.number.desc())))


def open_draft(scenario: SopScenario) -> SopVersion | None:
    """The scenario's one open draft (draft, in review or returned), if any."""
    return db.session.scalar(select(SopVersion).where(
        SopVersion.scenario_id == scenario.id, SopVersion.status.in_(OPEN)).order_by(SopVersion.id.desc()))


def get_draft(actor: User, scenario: SopScenario) -> SopVersion:
    """The open draft, for editors and reviewers; NotFound when there is none."""
    ensure(actor, Permission.EDIT_SOP)
    draft = open_draft(scenario)
    if draft is None:
        raise NotFound(scenario.id)
    return draft


def review_queue(actor: User) -> list[SopVersion]:
    """Drafts waiting for review, oldest first."""
    ensure(actor, Permission.REVIEW_SOP)
    return list(db.session.scalars(
        select(SopVersion).options(  # each card shows the scenario's current version beside the draft
            selectinload(SopVersion.scenario).selectinload(SopScenario.current_version),
            selectinload(SopVersion.author))
        .where(SopVersion.status == VersionStatus.IN_REVIEW).order_by(SopVersion.submitted_at, SopVersion.id)))


def review_count(actor: User) -> int:
    """How many drafts wait for this reviewer (not counting those they wrote or edited): the nav badge."""
    if not has_permission(actor, Permission.REVIEW_SOP):
        return 0
    global _REVIEW_COUNT
    if _REVIEW_COUNT is None:  # on every page of a reviewer (the badge): one statement, built once
        actor_id = bindparam("actor_id")
        edited = exists().where(AuditLog.entity_type == "sop_version", AuditLog.entity_id == SopVersion.id,
                                AuditLog.action.in_(EDIT_ACTIONS), AuditLog.actor_id == actor_id)
        _REVIEW_COUNT = select(func.count(SopVersion.id)).where(
            SopVersion.status == VersionStatus.IN_REVIEW,
            or_(SopVersion.author_id.is_(None), SopVersion.author_id != actor_id), ~edited)
    return db.session.scalar(_REVIEW_COUNT, {"actor_id": actor.id}) or 0


_REVIEW_COUNT = None


def drafts_in_progress(actor: User) -> list[SopVersion]:
    """Open drafts not in review (being written, or returned), newest change first."""
    ensure(actor, Permission.EDIT_SOP)
    return list(db.session.scalars(
        select(SopVersion).options(selectinload(SopVersion.scenario), selectinload(SopVersion.author))
        .where(SopVersion.status.in_(EDITABLE)).order_by(SopVersion.updated_at.desc(), SopVersion.id.desc())))


def editors_of(version: SopVersion) -> set[int]:
    """Everyone who wrote or edited this draft (its author and every saver): they may not approve it."""
    ids = set(db.session.scalars(select(AuditLog.actor_id).where(
        AuditLog.entity_type == "sop_version", AuditLog.entity_id == version.id,
        AuditLog.action.in_(EDIT_ACTIONS), AuditLog.actor_id.is_not(None))))
    if version.author_id:
        ids.add(version.author_id)
    return ids


def last_saved_by(version: SopVersion) -> User | None:
    """Who last saved (or started) this draft, from the audit log."""
    actor_id = db.session.scalar(select(AuditLog.actor_id).where(
        AuditLog.entity_type == "sop_version", AuditLog.entity_id == version.id,
        AuditLog.action.in_(EDIT_ACTIONS)).order_by(AuditLog.id.desc()).limit(1))
    return db.session.get(User, actor_id) if actor_id else None


def may_approve(actor: User, version: SopVersion) -> bool:
    """Whether ``actor`` may approve this draft now (reviewer, not one of its editors)."""
    return (has_permission(actor, Permission.REVIEW_SOP) and version.status == VersionStatus.IN_REVIEW
            and actor.id not in editors_of(version))


def editors_of_many(versions) -> dict[int, set[int]]:
    """``editors_of`` of every version, by version id, in one statement (the review page's cards)."""
    editors = {v.id: ({v.author_id} if v.author_id else set()) for v in versions}
    if editors:
        for version_id, actor_id in db.session.execute(select(AuditLog.entity_id, AuditLog.actor_id).where(
                AuditLog.entity_type == "sop_version", AuditLog.entity_id.in_(list(editors)),
                AuditLog.action.in_(EDIT_ACTIONS), AuditLog.actor_id.is_not(None))):
            editors[version_id].add(actor_id)
    return editors


def approvable_ids(actor: User, versions) -> set[int]:
    """The ids of ``versions`` that ``actor`` may approve now: ``may_approve`` of each, read at once."""
    if not has_permission(actor, Permission.REVIEW_SOP):
        return set()
    editors = editors_of_many(versions)
    return {v.id for v in versions if v.status == VersionStatus.IN_REVIEW and actor.id not in editors[v.id]}


def reason_choices() -> list[TicketReason]:
    """Active ticket reasons, by category and list order (what a scenario can apply to)."""
    return list(db.session.scalars(select(TicketReason).where(TicketReason.is_active.is_(True))
                                   .order_by(TicketReason.category, TicketReason.sort_order, TicketReason.id)))


def team_choices() -> list[Team]:
    """Active teams (required reading for chosen teams)."""
    return list(db.session.scalars(select(Team).where(Team.is_active.is_(True)).order_by(Team.name)))


def current_scenarios_for_ticket(ticket, limit: int = 50) -> list[SopScenario]:
    """Published, not archived scenarios for a ticket: those naming its reason first, then those for its
    whole category (one rule, the ticket panel's: kdcs/sop/panel.py ``scenarios_for_ticket``)."""
    from .panel import scenarios_for_ticket

    return [scenario for scenario, _match in scenarios_for_ticket(ticket, limit=limit)]


# --------------------------------------------------------------------------- validation

def parse_tags(raw: str | Iterable[str] | None) -> list[str]:
    """Tags from "破损, 理赔 、催件" (commas, 、, spaces) or a list: trimmed, without repeats."""
    if raw is None:
        return []
    if isinstance(raw, str):
        for sep in "，、,;；\n\t":
            raw = raw.replace(sep, " ")
        raw = raw.split(" ")
    return list(dict.fromkeys(t.strip().lstrip("#") for t in raw if t and t.strip().lstrip("#")))


def _clean_scenario(errors: dict, *, title, kind, tags, categories, reason_ids) -> dict:
    clean: dict = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Enter a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("At most %(n)d characters.", n=TITLE_MAX)
    clean["title"] = title
    if kind not in {k.value for k in SopKind}:
        errors["kind"] = _("Choose a kind.")
    clean["kind"] = kind
    tags = parse_tags(tags)
    if len(tags) > MAX_TAGS:
        errors["tags"] = _("At most %(n)d tags.", n=MAX_TAGS)
    elif any(len(t) > TAG_MAX for t in tags):
        errors["tags"] = _("A tag may have at most %(n)d characters.", n=TAG_MAX)
    clean["tags"] = tags
    categories = list(dict.fromkeys(categories or []))
    if any(c not in {c.value for c in Category} for c in categories):
        errors["categories"] = _("Unknown ticket category.")
    clean["categories"] = categories
    ids = []
    for raw in reason_ids or []:
        if id_or_none(raw) is None:
            errors["reason_ids"] = _("Unknown ticket reason.")
        else:
            ids.append(id_or_none(raw))
    ids = list(dict.fromkeys(ids))
    reasons = list(db.session.scalars(select(TicketReason).where(TicketReason.id.in_(ids)))) if ids else []
    if len(reasons) != len(ids):
        errors["reason_ids"] = _("Unknown ticket reason.")
    clean["reasons"] = sorted(reasons, key=lambda r: ids.index(r.id))
    return clean


def clean_steps(steps: Iterable[dict] | None, errors: dict) -> list[dict]:
    """Steps as stored: [{"text": "核实物流信息", "limit_minutes": 30}, ...]; empty rows dropped."""
    cleaned = []
    for index, step in enumerate(steps or [], start=1):
        text = (step.get("text") or "").strip()
        limit = step.get("limit_minutes")
        if not text and not limit:
            continue
        if not text:
            errors["steps"] = _("Step %(n)d: describe the step.", n=index)
        elif len(text) > STEP_TEXT_MAX:
            errors["steps"] = _("Step %(n)d: at most %(max)d characters.", n=index, max=STEP_TEXT_MAX)
        if limit is not None:
            try:
                limit = int(limit)
            except (TypeError, ValueError):
                limit = -1
            if not 0 < limit <= MAX_LIMIT_MINUTES:
                errors["steps"] = _("Step %(n)d: the time limit must be between 1 minute and 30 days.", n=index)
        cleaned.append({"text": text, "limit_minutes": limit or None})
    if len(cleaned) > MAX_STEPS:
        errors["steps"] = _("At most %(n)d steps.", n=MAX_STEPS)
    return cleaned


def clean_compensation(raw, errors: dict) -> str | None:
    """The compensation an agent may decide alone, as "200.00" (元), or None."""
    if raw is None or str(raw).strip() == "":
        return None
    try:
        amount = Decimal(str(raw).strip().replace(",", "").removesuffix("元").strip())
    except InvalidOperation:
        errors["max_compensation"] = _("Enter an amount in yuan, e.g. 200.")
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_COMPENSATION:
        errors["max_compensation"] = _("Enter an amount between 0 and %(max)s yuan.", max=MAX_COMPENSATION)
        return None
    return str(amount.quantize(Decimal("0.01")))


def _clean_content(errors: dict, fields: dict) -> dict:
    clean: dict = {}
    if "title" in fields:
        title = (fields["title"] or "").strip()
        if not title:
            errors["title"] = _("Enter a title.")
        elif len(title) > TITLE_MAX:
            errors["title"] = _("At most %(n)d characters.", n=TITLE_MAX)
        clean["title"] = title
    for name, limit in (("script", SCRIPT_MAX), ("authority", TEXT_MAX), ("escalation", TEXT_MAX),
                        ("change_note", CHANGE_NOTE_MAX)):
        if name in fields:
            value = (fields[name] or "").replace("\r\n", "\n").strip()
            if len(value) > limit:
                errors[name] = _("At most %(n)d characters.", n=limit)
            clean[name] = value
    if "steps" in fields:
        clean["steps"] = clean_steps(fields["steps"], errors)
    if "max_compensation" in fields:
        clean["max_compensation"] = clean_compensation(fields["max_compensation"], errors)
    return clean


def _ready_errors(version: SopVersion) -> dict[str, str]:
    """What a draft still lacks before it can be reviewed or published."""
    errors = {}
    if not (version.script or "").strip():
        errors["script"] = _("Write the script before sending the draft on.")
    if version.scenario.current_version_id and not (version.change_note or "").strip():
        errors["change_note"] = _("Say what changed (the change note) before sending the draft on.")
    return errors


# --------------------------------------------------------------------------- scenarios and drafts

def _version_audit(version: SopVersion) -> dict:
    return snapshot(version, CONTENT_FIELDS)


def _scenario_audit(scenario: SopScenario) -> dict:
    data = snapshot(scenario, ["title", "kind", "tags", "categories"])
    data["reason_ids"] = [r.id for r in scenario.reasons]
    return data


def _check_lock(obj, version_no: int | None) -> None:
    if version_no is not None and version_no != obj.version:
        raise StaleEdit(obj)


def _move(version: SopVersion, action: str) -> None:
    starts, ends = TRANSITIONS[action]
    if version.status not in starts:
        raise ValidationError({"status": _("This draft cannot be changed that way now (it is %(status)s).",
                                           status=_status_text(version.status))})
    version.status = ends


def _status_text(status: str) -> str:
    from .labels import status_label

    return status_label(status)


def _ensure_not_archived(scenario: SopScenario) -> None:
    if scenario.is_archived:
        raise ValidationError({"status": _("The scenario is archived; restore it from the archive first.")})


def create_scenario(actor: User, *, title: str, kind: str, tags, categories, reason_ids, **draft) -> SopScenario:
    """A new scenario with its first draft (``draft``: script, steps, authority ... of that draft)."""
    ensure(actor, Permission.EDIT_SOP)
    errors: dict[str, str] = {}
    meta = _clean_scenario(errors, title=title, kind=kind, tags=tags, categories=categories, reason_ids=reason_ids)
    content = _clean_content(errors, {"title": title, **draft})
    if errors:
        raise ValidationError(errors)
    scenario = SopScenario(title=meta["title"], kind=meta["kind"], tags=meta["tags"],
                           categories=meta["categories"], created_by_id=actor.id)
    scenario.reasons = meta["reasons"]
    db.session.add(scenario)
    version = SopVersion(scenario=scenario, status=VersionStatus.DRAFT, author_id=actor.id,
                         **{"script": "", "steps": [], "authority": "", "escalation": "", "change_note": "",
                            **content})
    db.session.add(version)
    db.session.flush()
    record(actor, "sop.scenario_create", "sop_scenario", scenario.id, summary=scenario.title,
           after=_scenario_audit(scenario))
    record(actor, "sop.draft_start", "sop_version", version.id, summary=scenario.title,
           after=_version_audit(version))
    db.session.commit()
    return scenario


def start_draft(actor: User, scenario: SopScenario, based_on: SopVersion | None = None) -> SopVersion:
    """The scenario's open draft; if there is none, a new one copied from ``based_on`` (default: current)."""
    ensure(actor, Permission.EDIT_SOP)
    _ensure_not_archived(scenario)
    existing = open_draft(scenario)
    if existing is not None:
        if based_on is not None:
            raise ValidationError({"status": _("This scenario already has an open draft; finish or discard it "
                                               "first.")})
        return existing
    source = based_on or scenario.current_version
    version = SopVersion(scenario=scenario, status=VersionStatus.DRAFT, author_id=actor.id,
                         title=source.title if source else scenario.title,
                         script=source.script if source else "",
                         steps=[dict(s) for s in source.steps] if source else [],
                         authority=source.authority if source else "",
                         escalation=source.escalation if source else "",
                         max_compensation=source.max_compensation if source else None,
                         change_note="", based_on_id=source.id if source else None)
    db.session.add(version)
    db.session.flush()
    action = "sop.restore" if based_on is not None else "sop.draft_start"
    summary = scenario.title if based_on is None else f"{scenario.title} v{based_on.number}"
    record(actor, action, "sop_version", version.id, summary=summary, after={"based_on_id": version.based_on_id})
    db.session.commit()
    return version


def restore_as_draft(actor: User, scenario: SopScenario, version: SopVersion) -> SopVersion:
    """A new draft holding an old published version's content (to publish it again as the next version)."""
    if version.scenario_id != scenario.id or not version.is_published:
        raise NotFound(version.id)
    draft = start_draft(actor, scenario, based_on=version)
    draft.change_note = _("Restored version %(n)d.", n=version.number)[:CHANGE_NOTE_MAX]
    db.session.commit()
    return draft


def save_draft(actor: User, version: SopVersion, *, version_no: int | None, **fields) -> SopVersion:
    """Save a draft's content (and the scenario's kind, tags, categories, reasons); stale → StaleEdit."""
    ensure(actor, Permission.EDIT_SOP)
    _check_lock(version, version_no)
    if version.status not in EDITABLE:
        if version.status == VersionStatus.IN_REVIEW:
            raise ValidationError({"status": _("The draft is waiting for review; withdraw it to change it.")})
        raise ValidationError({"status": _("A published version never changes; start a new draft.")})
    scenario = version.scenario
    _ensure_not_archived(scenario)
    errors: dict[str, str] = {}
    meta_fields = {k: fields.pop(k) for k in ("kind", "tags", "categories", "reason_ids") if k in fields}
    content = _clean_content(errors, fields)
    meta = {}
    if meta_fields:
        meta = _clean_scenario(errors, title=content.get("title", version.title),
                               kind=meta_fields.get("kind", scenario.kind),
                               tags=meta_fields.get("tags", scenario.tags),
                               categories=meta_fields.get("categories", scenario.categories),
                               reason_ids=meta_fields.get("reason_ids", [r.id for r in scenario.reasons]))
    if errors:
        raise ValidationError(errors)
    before = _version_audit(version)
    for name, value in content.items():
        setattr(version, name, value)
    after = _version_audit(version)
    if before != after:
        version.updated_at = utcnow()
        record(actor, "sop.draft_save", "sop_version", version.id, summary=version.title, before=before, after=after)
    if meta:
        scenario_before = _scenario_audit(scenario)
        scenario.kind = meta["kind"]
        scenario.tags = meta["tags"]
        scenario.categories = meta["categories"]
        scenario.reasons = meta["reasons"]
        if scenario.current_version_id is None:
            scenario.title = version.title  # an unpublished scenario is known by its draft's title
        scenario_after = _scenario_audit(scenario)
        if scenario_before != scenario_after:
            record(actor, "sop.scenario_update", "sop_scenario", scenario.id, summary=scenario.title,
                   before=scenario_before, after=scenario_after)
            _reindex(scenario)
    db.session.commit()
    return version


def _reviewers(exclude: set[int]) -> list[User]:
    return [u for u in db.session.scalars(select(User).where(
        User.role.in_((Role.TRAINER, Role.ADMIN)), User.is_active_account.is_(True)))
        if u.id not in exclude]


def submit_for_review(actor: User, version: SopVersion, *, version_no: int | None = None) -> SopVersion:
    """Send a draft for review; the other trainers and the admins are notified."""
    ensure(actor, Permission.EDIT_SOP)
    _check_lock(version, version_no)
    _ensure_not_archived(version.scenario)
    errors = _ready_errors(version)
    if errors:
        raise ValidationError(errors)
    was = version.status
    _move(version, "submit")
    version.submitted_at = utcnow()
    record(actor, "sop.submit", "sop_version", version.id, summary=version.title,
           before={"status": was}, after={"status": version.status})
    for reviewer in _reviewers(editors_of(version) | {actor.id}):
        notify(reviewer, "sop_review", _("SOP draft to review: %(title)s", title=version.title),
               version.change_note or "", "/sop/review")
    db.session.commit()
    return version


def withdraw(actor: User, version: SopVersion, *, version_no: int | None = None) -> SopVersion:
    """Take a draft back from review to change it."""
    ensure(actor, Permission.EDIT_SOP)
    _check_lock(version, version_no)
    _move(version, "withdraw")
    record(actor, "sop.withdraw", "sop_version", version.id, summary=version.title,
           before={"status": VersionStatus.IN_REVIEW}, after={"status": version.status})
    db.session.commit()
    return version


def return_draft(actor: User, version: SopVersion, comment: str, *, version_no: int | None = None) -> SopVersion:
    """Return a draft to its authors with a comment (what to change)."""
    ensure(actor, Permission.REVIEW_SOP)
    _check_lock(version, version_no)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": _("Say what should change.")})
    if len(comment) > COMMENT_MAX:
        raise ValidationError({"comment": _("At most %(n)d characters.", n=COMMENT_MAX)})
    if actor.id in editors_of(version):
        raise ValidationError({"status": _("You wrote or edited this draft; another trainer reviews it.")})
    _move(version, "return")
    version.reviewer_id = actor.id
    version.reviewed_at = utcnow()
    version.review_comment = comment
    record(actor, "sop.return", "sop_version", version.id, summary=version.title,
           before={"status": VersionStatus.IN_REVIEW}, after={"status": version.status, "review_comment": comment})
    for user_id in editors_of(version) - {actor.id}:
        notify(user_id, "sop_returned", _("SOP draft returned: %(title)s", title=version.title), comment,
               f"/sop/{version.scenario_id}/edit")
    db.session.commit()
    return version


@dataclass(frozen=True)
class Reading:
    """How a version is published: required reading (for everyone or chosen teams) and until when."""

    required: bool = False
    team_ids: tuple[int, ...] = ()
    due_at: datetime | None = None
    minor_edit: bool = False


def _clean_reading(required_reading, team_ids, due_at, minor_edit, now: datetime) -> Reading:
    errors: dict[str, str] = {}
    ids: list[int] = []
    for raw in team_ids or ():
        if id_or_none(raw) is None:
            errors["team_ids"] = _("Unknown team.")
        else:
            ids.append(id_or_none(raw))
    ids = sorted(set(ids))
    if ids and db.session.scalar(select(func.count(Team.id)).where(Team.id.in_(ids))) != len(ids):
        errors["team_ids"] = _("Unknown team.")
    if required_reading and due_at is not None:
        if due_at <= now:
            errors["due_at"] = _("The reading deadline must be in the future.")
        elif due_at - now > MAX_READING_WINDOW:
            errors["due_at"] = _("The reading deadline may be at most 60 days away.")
    if errors:
        raise ValidationError(errors)
    if not required_reading:
        return Reading(minor_edit=bool(minor_edit))
    return Reading(True, tuple(ids), due_at or now + READING_WINDOW, bool(minor_edit))


def _publish(actor: User, version: SopVersion, action: str, reading: Reading, comment: str) -> SopVersion:
    scenario = version.scenario
    _ensure_not_archived(scenario)
    errors = _ready_errors(version)
    if errors:
        raise ValidationError(errors)
    was = version.status
    _move(version, action)
    now = utcnow()
    number = (db.session.scalar(select(func.max(SopVersion.number)).where(SopVersion.scenario_id == scenario.id))
              or 0) + 1
    version.number = number
    version.published_at = now
    if action == "approve":
        version.reviewer_id = actor.id
        version.reviewed_at = now
        version.review_comment = comment
    version.required_reading = reading.required
    version.reading_team_ids = list(reading.team_ids)
    version.reading_due_at = reading.due_at
    version.minor_edit = reading.minor_edit
    scenario.current_version = version
    scenario.title = version.title
    record(actor, "sop.publish", "sop_version", version.id, summary=f"{version.title} v{number}",
           before={"status": was},
           after={"status": version.status, "number": number, "required_reading": reading.required,
                  "reading_team_ids": list(reading.team_ids),
                  "reading_due_at": reading.due_at.isoformat() if reading.due_at else None,
                  "minor_edit": reading.minor_edit, **({"review_comment": comment} if comment else {})})
    db.session.flush()
    _reindex(scenario)
    from .reading.service import on_published

    on_published(version)
    for user_id in editors_of(version) - {actor.id}:
        notify(user_id, "sop_published", _("SOP published: %(title)s (version %(n)d)", title=version.title, n=number),
               comment, f"/sop/{scenario.id}")
    db.session.commit()
    return version


def approve(actor: User, version: SopVersion, *, required_reading: bool = False, team_ids=(), due_at=None,
            minor_edit: bool = False, comment: str = "", version_no: int | None = None) -> SopVersion:
    """Approve a draft in review: it is published as the next version (nobody approves their own draft)."""
    ensure(actor, Permission.REVIEW_SOP)
    _check_lock(version, version_no)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationError({"comment": _("At most %(n)d characters.", n=COMMENT_MAX)})
    if actor.id in editors_of(version) and review_required():
        raise ValidationError({"status": _("You wrote or edited this draft; another trainer approves it.")})
    reading = _clean_reading(required_reading, team_ids, due_at, minor_edit, utcnow())
    return _publish(actor, version, "approve", reading, comment)


def publish_directly(actor: User, version: SopVersion, *, required_reading: bool = False, team_ids=(),
                     due_at=None, minor_edit: bool = False, version_no: int | None = None) -> SopVersion:
    """Publish a draft without review (only while an admin has turned review off)."""
    ensure(actor, Permission.EDIT_SOP)
    _check_lock(version, version_no)
    if review_required():
        raise ValidationError({"status": _("Drafts are reviewed before publishing; send it for review.")})
    reading = _clean_reading(required_reading, team_ids, due_at, minor_edit, utcnow())
    return _publish(actor, version, "publish", reading, "")


def discard_draft(actor: User, version: SopVersion, *, version_no: int | None = None) -> SopScenario | None:
    """Throw an open draft away; a scenario never published goes with it (then None is returned)."""
    ensure(actor, Permission.EDIT_SOP)
    _check_lock(version, version_no)
    if version.status not in OPEN:
        raise ValidationError({"status": _("A published version never changes; start a new draft.")})
    scenario = version.scenario
    record(actor, "sop.discard", "sop_version", version.id, summary=version.title,
           before={"status": version.status}, after={"status": None})
    scenario.versions.remove(version)
    if not scenario.versions:
        record(actor, "sop.discard", "sop_scenario", scenario.id, summary=scenario.title)
        db.session.delete(scenario)
        scenario = None
    db.session.commit()
    return scenario


def archive(actor: User, scenario: SopScenario, archived: bool = True, *, version_no: int | None = None) -> None:
    """Archive a scenario (agents no longer find it or see it beside tickets), or bring it back."""
    ensure(actor, Permission.REVIEW_SOP)
    _check_lock(scenario, version_no)
    if scenario.is_archived == archived:
        return
    scenario.is_archived = archived
    record(actor, "sop.archive" if archived else "sop.unarchive", "sop_scenario", scenario.id,
           summary=scenario.title, before={"is_archived": not archived}, after={"is_archived": archived})
    _reindex(scenario)
    db.session.commit()


def _reindex(scenario: SopScenario) -> None:
    from .search import reindex_scenario

    db.session.flush()
    reindex_scenario(scenario)


# --------------------------------------------------------------------------- comparing

@dataclass
class DiffSection:
    """One part of a version (script, steps ...) compared side by side."""

    label: str
    rows: list[Row]

    @property
    def changed(self) -> bool:
        """Whether the two versions differ in this part."""
        return any(row.kind != "equal" for row in self.rows)

    @property
    def excerpt(self) -> list[Row | None]:
        """The changed rows with one line of context (None marks lines left out)."""
        return around_changes(self.rows)


def steps_text(version: SopVersion) -> str:
    """The steps as numbered lines ("1. 核实物流信息（30 分钟内）"), for comparing."""
    lines = []
    for n, step in enumerate(version.steps or [], start=1):
        limit = format_limit(step.get("limit_minutes"))
        lines.append(f"{n}. {step.get('text', '')}" + (_("(within %(limit)s)", limit=limit) if limit else ""))
    return "\n".join(lines)


def compensation_text(version: SopVersion) -> str:
    """The compensation limit as a line ("可自行决定赔付上限：200.00 元"), or ""."""
    if version.max_compensation is None:
        return ""
    return _("Compensation an agent may decide alone: %(amount)s yuan", amount=version.max_compensation)


def diff_versions(old: SopVersion, new: SopVersion) -> list[DiffSection]:
    """Every part of two versions compared side by side, changes highlighted within lines."""
    return [
        DiffSection(_("Title"), side_by_side(old.title, new.title)),
        DiffSection(_("Script"), side_by_side(old.script, new.script)),
        DiffSection(_("Steps and time limits"), side_by_side(steps_text(old), steps_text(new))),
        DiffSection(_("Authority"), side_by_side("\n".join(filter(None, [compensation_text(old), old.authority])),
                                                 "\n".join(filter(None, [compensation_text(new), new.authority])))),
        DiffSection(_("Escalate to the lead when"), side_by_side(old.escalation, new.escalation)),
    ]


def find_version(actor: User, scenario: SopScenario, ref: str | None) -> SopVersion:
    """A version named in a URL: a published number, or "draft" (editors only)."""
    if ref == "draft":
        return get_draft(actor, scenario)
    number = id_or_none(ref)
    if number is None:
        raise NotFound(ref)
    return get_published(actor, scenario, number)

