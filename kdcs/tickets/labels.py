"""The one place with the labels of ticket codes (statuses, categories ...).

Templates and forms use these dicts (``STATUS_LABELS[ticket.status]``) or
``label(kind, code)``; the values are lazy strings, translated at render time.
"""

from __future__ import annotations

import weakref

from flask_babel import lazy_gettext as _l

from ..auditing import register_event_describer, register_labels
from ..i18n import kept_per_catalog
from ..models.ticket import (
    Category,
    CountingMode,
    Direction,
    EventKind,
    FineBearer,
    Priority,
    ReplyChannel,
    TicketSource,
    TicketStatus,
)

DIRECTION_LABELS = {
    Direction.INBOUND: _l("Inbound"),
    Direction.OUTBOUND: _l("Outbound"),
}

CATEGORY_LABELS = {
    Category.PROBLEM: _l("Problem parcel"),
    Category.MESSAGE: _l("Message"),
    Category.WORK_ORDER: _l("Work order"),
    Category.ARBITRATION: _l("Arbitration"),
}

STATUS_LABELS = {
    TicketStatus.NEW: _l("New"),
    TicketStatus.IN_PROGRESS: _l("In progress"),
    TicketStatus.AWAITING_FEEDBACK: _l("Awaiting feedback"),
    TicketStatus.REPLIED: _l("Replied"),
    TicketStatus.TO_FILE: _l("To file"),
    TicketStatus.FILED: _l("Filed"),
    TicketStatus.NEGOTIATING: _l("Negotiating"),
    TicketStatus.JUDGED: _l("Judged"),
    TicketStatus.CLOSED: _l("Closed"),
}

PRIORITY_LABELS = {
    Priority.NORMAL: _l("Normal"),
    Priority.HIGH: _l("High"),
    Priority.URGENT: _l("Urgent"),
}

FINE_BEARER_LABELS = {
    FineBearer.COMPANY: _l("Company"),
    FineBearer.AGENT: _l("Agent"),
    FineBearer.OUTLET: _l("Outlet"),
}

EVENT_LABELS = {
    EventKind.CREATED: _l("Created"),
    EventKind.STATUS: _l("Status changed"),
    EventKind.ASSIGN: _l("Reassigned"),
    EventKind.NOTE: _l("Note"),
    EventKind.FINE: _l("Fine recorded"),
    EventKind.FIRST_REPLY: _l("First reply"),
    EventKind.REPLY: _l("Reply"),
    EventKind.REOPEN: _l("Reopened"),
    EventKind.EDIT: _l("Edited"),
    EventKind.SOP: _l("SOP script"),  # translated in the sop catalog
    EventKind.FOLLOW_UP: _l("Follow-up"),
}

CHANNEL_LABELS = {
    ReplyChannel.BRAND_SYSTEM: _l("Brand system"),
    ReplyChannel.PHONE: _l("Phone call"),
    ReplyChannel.SMS: _l("SMS"),
    ReplyChannel.WECHAT: _l("WeChat"),
    ReplyChannel.OUTLET: _l("To the outlet"),
    ReplyChannel.OTHER: _l("Other"),
}

COUNTING_MODE_LABELS = {
    CountingMode.CLOCK: _l("Clock time"),
    CountingMode.SERVICE_HOURS: _l("Service hours on working days"),
}

SOURCE_LABELS = {
    TicketSource.MANUAL: _l("Entered by hand"),
    TicketSource.IMPORT: _l("Imported"),
    TicketSource.DEMO: _l("Demo data"),
}

# Deadline badge states (see service.deadline_state).
DEADLINE_STATE_LABELS = {
    "overdue": _l("Overdue"),
    "due_soon": _l("Due within 1 hour"),
    "normal": _l("On time"),
    "none": _l("No deadline"),
}

_ALL = {
    "direction": DIRECTION_LABELS,
    "category": CATEGORY_LABELS,
    "status": STATUS_LABELS,
    "priority": PRIORITY_LABELS,
    "fine_bearer": FINE_BEARER_LABELS,
    "event": EVENT_LABELS,
    "channel": CHANNEL_LABELS,
    "mode": COUNTING_MODE_LABELS,
    "source": SOURCE_LABELS,
    "deadline_state": DEADLINE_STATE_LABELS,
}


# Translated labels per catalog (one per locale, kept by Flask-Babel for the process): a ticket
# page asks for the same few dozen labels again and again, each a catalog lookup through Flask-Babel.
_TRANSLATED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def kept_text(key, make, *args):
    """``make(*args)`` kept per catalog under ``key`` with the labels (made on every call outside a
    request): for texts a page shows again and again in the same language."""
    return kept_per_catalog(_TRANSLATED, key, make, *args)


def _label_text(kind: str, code: str) -> str:
    return str(_ALL[kind].get(code, code))


def label(kind: str, code: str | None) -> str:
    """The label of ``code`` in the list ``kind`` ("status", "category" ...); the code if unknown."""
    if code is None:
        return ""
    return kept_text((kind, code), _label_text, kind, code)


class _Labels(dict):
    """``{code: label}`` of one list; an unknown code shows itself (as ``.get(code, code)`` did)."""

    __slots__ = ()

    def __missing__(self, code):
        return code


def kept() -> dict[str, dict[str, str]]:
    """Every list's ``{code: label}`` as plain strings in the request's language, built once per
    catalog (the ticket page shows a dozen labels, each a lazy string translated on every render):
    ``L["status"][ticket.status]`` in a template. Read only: shared by every request of a language."""
    return kept_text("kept", _all_lists)


def _all_lists() -> dict[str, dict[str, str]]:
    return {kind: _Labels((code, str(text)) for code, text in texts.items()) for kind, texts in _ALL.items()}


def choices(kind: str) -> list[tuple[str, str]]:
    """(code, label) pairs in declaration order, e.g. for a WTForms SelectField."""
    return list(kept_text(("choices", kind), _choice_pairs, kind))


def _choice_pairs(kind: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(code), str(text)) for code, text in _ALL[kind].items())


register_labels(
    actions={
        "ticket.create": _l("Ticket created"),
        "ticket.status": _l("Ticket status changed"),
        "ticket.assign": _l("Ticket reassigned"),
        "ticket.note": _l("Ticket note added"),
        "ticket.first_reply": _l("Ticket first reply recorded"),
        "ticket.reply": _l("Ticket reply recorded"),
        "ticket.fine": _l("Ticket fine recorded"),
        "ticket.reopen": _l("Ticket reopened"),
        "ticket.edit": _l("Ticket edited"),
        "deadline_rule.create": _l("Deadline rule created"),
        "deadline_rule.update": _l("Deadline rule changed"),
        "calendar_day.update": _l("Work calendar changed"),
        "canned_reply.create": _l("Canned reply created"),
        "canned_reply.update": _l("Canned reply changed"),
        "ticket_reason.create": _l("Ticket reason created"),
        "ticket_reason.update": _l("Ticket reason changed"),
    },
    fields={
        "status": _l("Status"),
        "assignee_id": _l("Assignee"),
        "first_replied_at": _l("First reply"),
        "resolved_at": _l("Resolved"),
        "closed_at": _l("Closed"),
        "fine_amount": _l("Fine amount"),
        "fine_bearer": _l("Fine borne by"),
        "fine_agent_share": _l("Agent's share"),
        "reply_due_at": _l("Reply due"),
        "resolve_due_at": _l("Resolve due"),
        "waybill_no": _l("Waybill number"),
        "priority": _l("Priority"),
        "reply_minutes": _l("Reply within (minutes)"),
        "resolve_minutes": _l("Resolve within (minutes)"),
        "mode": _l("Counting mode"),
        "is_workday": _l("Working day"),
    },
    entities={
        "ticket": _l("Ticket"),
        "deadline_rule": _l("Deadline rule"),
        "calendar_day": _l("Work calendar day"),
        "canned_reply": _l("Canned reply"),
        "ticket_reason": _l("Ticket reason"),
    },
)


def resolved(kind: str) -> dict[str, str]:
    """``{code: label}`` of the list ``kind`` as plain strings in the current locale.

    For pages that show a label per row: one translation lookup per code per
    call instead of one per row (build it once per request).
    """
    return {code: str(text) for code, text in _ALL[kind].items()}


def _describe_reply(event):
    """A reply on the timeline: "渠道：品牌系统", "发送时间：2026-03-02 09:05" and the text."""
    from datetime import datetime

    from ..auditing import Change, TimelineLine
    from ..filters import SHANGHAI

    sent = event.to_value or ""
    try:
        sent = datetime.fromisoformat(sent).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        pass
    return TimelineLine([Change("channel", _field_label("Channel"), None, label("channel", event.from_value), has_old=False),
                         Change("sent_at", _field_label("Sent at"), None, sent, has_old=False)], event.body or "")


_REPLY_FIELDS = {"Channel": _l("Channel"), "Sent at": _l("Sent at")}


def _field_label(name: str) -> str:
    return kept_text(("reply_field", name), _reply_field, name)


def _reply_field(name: str) -> str:
    return str(_REPLY_FIELDS[name])


register_event_describer(EventKind.REPLY.value, _describe_reply)
