"""The labels of SOP codes (kinds, version statuses) and how SOP audit rows read.

Pages, forms and the other SOP modules use these dicts (``KIND_LABELS[scenario.kind]``);
the values are lazy strings, translated at render time.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..auditing import register_labels
from ..models.sop import SopKind, VersionStatus

KIND_LABELS = {
    SopKind.CONSULTATION: _l("Consultation"),
    SopKind.COMPLAINT: _l("Complaint"),
    SopKind.CLAIM: _l("Claim"),
    SopKind.SUGGESTION: _l("Suggestion"),
    SopKind.INTERNAL: _l("Internal process"),
}

STATUS_LABELS = {
    VersionStatus.DRAFT: _l("Draft"),
    VersionStatus.IN_REVIEW: _l("In review"),
    VersionStatus.RETURNED: _l("Returned"),
    VersionStatus.PUBLISHED: _l("Published"),
}

# The badge class of each status (app.css).
STATUS_BADGES = {
    VersionStatus.DRAFT: "badge",
    VersionStatus.IN_REVIEW: "badge badge-warn",
    VersionStatus.RETURNED: "badge badge-danger",
    VersionStatus.PUBLISHED: "badge badge-ok",
}


def kind_label(code: str | None) -> str:
    """The Chinese name of a scenario kind (the code itself if unknown)."""
    label = KIND_LABELS.get(code) if code else None
    return str(label) if label is not None else (code or "—")


def status_label(code: str | None) -> str:
    """The Chinese name of a version status."""
    label = STATUS_LABELS.get(code) if code else None
    return str(label) if label is not None else (code or "—")


def format_limit(minutes: int | None) -> str:
    """A step's time limit as people say it: "5 分钟", "2 小时", "1 天", "1 小时 30 分钟"."""
    if not minutes:
        return ""
    days, rest = divmod(int(minutes), 1440)
    hours, mins = divmod(rest, 60)
    if days and not rest:
        return _("%(n)d days", n=days)
    hours += days * 24
    if hours and mins:
        return _("%(h)d h %(m)d min", h=hours, m=mins)
    if hours:
        return _("%(n)d hours", n=hours)
    return _("%(n)d minutes", n=mins)


register_labels(
    actions={
        "sop.scenario_create": _l("SOP scenario created"),
        "sop.scenario_update": _l("SOP scenario changed"),
        "sop.draft_start": _l("SOP draft started"),
        "sop.draft_save": _l("SOP draft saved"),
        "sop.submit": _l("SOP draft sent for review"),
        "sop.withdraw": _l("SOP draft withdrawn from review"),
        "sop.return": _l("SOP draft returned"),
        "sop.publish": _l("SOP version published"),
        "sop.discard": _l("SOP draft discarded"),
        "sop.restore": _l("Old SOP version restored as a draft"),
        "sop.archive": _l("SOP scenario archived"),
        "sop.unarchive": _l("SOP scenario restored from the archive"),
        "setting.update": _l("Setting changed"),
    },
    fields={
        "sop_scenario.title": _l("Title"),
        "sop_version.title": _l("Title"),
        "sop_scenario.kind": _l("Kind"),
        "tags": _l("Tags"),
        "categories": _l("Ticket categories"),
        "reason_ids": _l("Ticket reasons"),
        "script": _l("Script"),
        "steps": _l("Steps"),
        "authority": _l("Authority"),
        "escalation": _l("Escalate to the lead when"),
        "max_compensation": _l("Compensation an agent may decide alone"),
        "change_note": _l("Change note"),
        "review_comment": _l("Review comment"),
        "number": _l("Version"),
        "sop_version.status": _l("Status"),
        "required_reading": _l("Required reading"),
        "reading_team_ids": _l("Required for teams"),
        "reading_due_at": _l("Read by"),
        "minor_edit": _l("Minor edit"),
        "is_archived": _l("Archived"),
        "based_on_id": _l("Based on"),
        "sop.review_required": _l("SOP review before publishing"),
    },
    entities={"sop_scenario": _l("SOP scenario"), "sop_version": _l("SOP version"), "setting": _l("Setting")},
    kinds={
        "sop_version.status": "text",
        "required_reading": "bool", "minor_edit": "bool", "is_archived": "bool",
        "sop.review_required": "bool", "reading_due_at": "datetime", "max_compensation": "money",
    },
)
