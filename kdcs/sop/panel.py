"""The SOP panel on a ticket's page: the scenarios that apply, scripts filled from the ticket.

``for_ticket(ticket, user)`` is the one call the ticket page makes: the scenarios
whose reasons include the ticket's reason come first, then those that apply to
its whole category (they list the category and none of its reasons). Each shows
its current *published* version (agents never see drafts) with the blanks filled
by ``kdcs.blanks``; a blank the ticket cannot fill stays visibly marked.

``record_use`` writes the timeline line "查看并使用了话术《破损理赔》第 3 版" when an
agent inserts or copies a script: the evidence a lead needs in a fine dispute.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from html import unescape as html_unescape

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import String, bindparam, cast, exists, outerjoin, select
from sqlalchemy.orm import aliased, selectinload

from .. import core_sql
from ..auditing import register_event_describer
from ..blanks import MISSING_MARK, MISSING_RE, fill_blanks, ticket_blank_values
from ..crud import parse_version
from ..extensions import db
from ..models import Ticket, TicketEvent, TicketReason, TicketReply, User, utcnow
from ..models.sop import SopScenario, SopVersion, VersionStatus, sop_scenario_reasons
from ..permissions import Permission, ensure, has_permission
from ..service_errors import NotFound, ValidationError

EVENT_KIND = "sop"
ACTIONS = ("insert", "copy", "reply")  # what the agent did with the script (stored in from_value)
# The same agent inserting the same version again within this window adds no second line.
REPEAT_WINDOW = timedelta(minutes=10)
MAX_SCENARIOS = 8


@dataclass
class PanelItem:
    """One scenario beside the ticket: its current version and the script filled from the ticket."""

    scenario: SopScenario | ScenarioRef
    version: SopVersion | VersionRef
    match: str  # "reason" or "category"
    text: str  # plain text to insert or copy, blanks filled (missing ones marked)
    html: Markup  # the script as the scenario page shows it, blanks filled, missing ones highlighted
    missing: list[str] = field(default_factory=list)
    steps: list[tuple[str, str]] = field(default_factory=list)  # (what to do, time limit as people say it)
    url: str | None = None  # the scenario page

    @property
    def authority(self) -> Markup:
        """What the agent may decide alone, as the scenario page shows it."""
        return render_script(self.version.authority or "", None)

    @property
    def escalation(self) -> Markup:
        """When to hand it to the lead."""
        return render_script(self.version.escalation or "", None)


@dataclass
class Panel:
    """What the ticket page's SOP panel shows."""

    ticket: Ticket
    items: list[PanelItem]
    can_use: bool  # may insert into the note and record it (works the ticket)
    can_report: bool
    search_url: str | None = None  # the SOP library (/sop/), once it exists


def scenarios_for_ticket(ticket: Ticket, limit: int = MAX_SCENARIOS) -> list[tuple[SopScenario, str]]:
    """Published, unarchived scenarios for the ticket: reason matches first, then whole-category ones."""
    live = (SopScenario.is_archived.is_(False), SopScenario.current_version_id.is_not(None))
    by_reason = list(db.session.scalars(
        select(SopScenario)
        .join(sop_scenario_reasons, sop_scenario_reasons.c.scenario_id == SopScenario.id)
        .where(sop_scenario_reasons.c.reason_id == ticket.reason_id, *live)
        .options(selectinload(SopScenario.current_version))
        .order_by(SopScenario.title, SopScenario.id)
        .limit(limit)
    ))
    found = [(s, "reason") for s in by_reason]
    if len(found) >= limit:
        return found
    # Whole-category scenarios: a LIKE on the JSON text narrows them the same way on SQLite and
    # PostgreSQL (category codes are plain ASCII words), Python checks the list; a scenario that
    # names reasons of this category applies to those reasons only.
    seen = {s.id for s in by_reason}
    candidates = db.session.scalars(
        select(SopScenario)
        .where(*live, cast(SopScenario.categories, String).like(f'%"{ticket.category}"%'))
        .options(selectinload(SopScenario.current_version))
        .order_by(SopScenario.title, SopScenario.id)
        .limit(200)
    )
    whole = [s for s in candidates if s.id not in seen and ticket.category in (s.categories or [])]
    categories_named = _reason_categories([s.id for s in whole])
    for scenario in whole:
        if ticket.category in categories_named.get(scenario.id, set()):
            continue
        found.append((scenario, "category"))
        if len(found) >= limit:
            break
    return found


def _reason_categories(scenario_ids: list[int]) -> dict[int, set[str]]:
    """For each scenario, the categories of the reasons it names."""
    from ..models import TicketReason

    if not scenario_ids:
        return {}
    rows = db.session.execute(
        select(sop_scenario_reasons.c.scenario_id, TicketReason.category)
        .join(TicketReason, TicketReason.id == sop_scenario_reasons.c.reason_id)
        .where(sop_scenario_reasons.c.scenario_id.in_(scenario_ids))
    )
    result: dict[int, set[str]] = {}
    for scenario_id, category in rows:
        result.setdefault(scenario_id, set()).add(category)
    return result


@dataclass(frozen=True)
class ScenarioRef:
    """What the panel shows of a scenario (its id and title), read without an ORM object."""

    id: int
    title: str


@dataclass(frozen=True)
class VersionRef:
    """What the panel shows of a scenario's current version, read without an ORM object."""

    id: int
    number: int | None
    status: str
    title: str
    script: str
    steps: list
    authority: str
    escalation: str
    max_compensation: str | Decimal | None


_reason_link = sop_scenario_reasons.alias("reason_link")
_named_link = sop_scenario_reasons.alias("named_link")
_named_reason = aliased(TicketReason, name="named_reason")
_by_reason = exists().where(_reason_link.c.scenario_id == SopScenario.id,
                            _reason_link.c.reason_id == bindparam("reason_id"))
_STATEMENTS: dict[str, object] = {}


def _panel_statement():
    """Every live scenario that may apply to a ticket, with its current version, whether it lists the
    ticket's reason and whether it names reasons of the ticket's category: the two queries of
    ``scenarios_for_ticket`` (and their selectinloads) as one statement, built once per process."""
    statement = _STATEMENTS.get("panel")
    if statement is None:
        version = SopVersion
        statement = _STATEMENTS["panel"] = (
            select(SopScenario.id, SopScenario.title, SopScenario.categories,
                   version.id.label("version_id"), version.number, version.status, version.title.label("version_title"),
                   version.script, version.steps, version.authority, version.escalation, version.max_compensation,
                   _by_reason.label("by_reason"),
                   exists().where(_named_link.c.scenario_id == SopScenario.id,
                                  _named_link.c.reason_id == _named_reason.id,
                                  _named_reason.category == bindparam("category")).label("names_category"))
            .select_from(outerjoin(SopScenario, version, version.id == SopScenario.current_version_id))
            .where(SopScenario.is_archived.is_(False), SopScenario.current_version_id.is_not(None),
                   _by_reason | cast(SopScenario.categories, String).like(bindparam("pattern")))
            .order_by(SopScenario.title, SopScenario.id)
        )
    return statement


def _panel_rows(ticket: Ticket, limit: int = MAX_SCENARIOS) -> list[tuple]:
    """(row, match) for the ticket: the rule of ``scenarios_for_ticket`` (reason matches first, then
    whole-category ones that name no reason of the category), read in one statement."""
    rows = core_sql.execute(_panel_statement(), {"reason_id": ticket.reason_id, "category": ticket.category,
                                                   "pattern": f'%"{ticket.category}"%'}).all()
    found = [(row, "reason") for row in rows if row.by_reason][:limit]
    for row in rows:
        if len(found) >= limit:
            break
        if not row.by_reason and ticket.category in (row.categories or []) and not row.names_category:
            found.append((row, "category"))
    return found


def for_ticket(ticket: Ticket, user: User) -> Panel | None:
    """The panel for this ticket as ``user`` sees it (None when the user may not read SOPs)."""
    if not has_permission(user, Permission.VIEW_SOP):
        return None
    # {客服} is whoever has the panel in front of them: the one who will send the reply.
    values = ticket_blank_values(ticket, user)
    items = []
    names = _version_names()
    for row, match in _panel_rows(ticket):
        if row.version_id is None or row.status != VersionStatus.PUBLISHED:
            continue
        names[row.version_id] = (row.version_title, row.number)  # the timeline's lines name them too
        version = VersionRef(row.version_id, row.number, row.status, row.version_title, row.script or "",
                             row.steps or [], row.authority or "", row.escalation or "", row.max_compensation)
        text, missing = fill_blanks(plain_text(version.script), values)
        html = render_script(version.script, values)
        items.append(PanelItem(ScenarioRef(row.id, row.title), version, match, text, html, missing,
                               _steps(version), scenario_url(row.id)))
    return Panel(ticket=ticket, items=items, can_use=has_permission(user, Permission.WORK_TICKETS),
                 can_report=True, search_url=_url("sop.index"))


# {limit_minutes: "2 小时"} per catalog (one per language): a handful of limits, said on every ticket page.
_LIMITS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _steps(version) -> list[tuple[str, str]]:
    try:
        from .labels import format_limit
    except ImportError:  # sop-core's labels not there yet
        def format_limit(minutes):
            return _("%(n)d minutes", n=minutes) if minutes else ""
    from ..i18n import kept_per_catalog

    steps = []
    for step in version.steps or []:
        if isinstance(step, dict) and (step.get("text") or "").strip():
            minutes = step.get("limit_minutes")
            if minutes is None or type(minutes) is int:
                limit = kept_per_catalog(_LIMITS, minutes, format_limit, minutes, limit=1000)
            else:
                limit = format_limit(minutes)
            steps.append((step["text"].strip(), limit))
    return steps


def scenario_url(scenario_id: int) -> str | None:
    """The scenario page (sop-core's ``sop.scenario``), or None while it does not exist."""
    return _url("sop.scenario", scenario_id=scenario_id)


def _url(endpoint: str, **values) -> str | None:
    from flask import url_for
    from werkzeug.routing import BuildError

    try:
        return url_for(endpoint, **values)
    except (BuildError, RuntimeError):  # not built yet, or outside a request (CLI, tests)
        return None


# --------------------------------------------------------------------------- text

# kdcs.markdown renders each blank as <span class="blank">{name}</span> (name escaped).
_RENDERED_BLANK = re.compile(r'<span class="blank">\{([^<>{}]{1,60})\}</span>')


def render_script(script: str, values: dict[str, str] | None) -> Markup:
    """The script as the scenario page renders it (the one Markdown pipeline), blanks filled from
    ``values`` (escaped) and the unfillable ones highlighted as 【待填写：…】."""
    try:
        from ..markdown import render_markdown
    except ImportError:  # the shared pipeline is not there yet: paragraphs of escaped text
        html = _paragraphs(script if values is None else fill_blanks(script, values)[0])
        return Markup(MISSING_RE.sub(lambda m: f'<mark class="blank blank-missing">{m.group(0)}</mark>', html))

    def fill(match: re.Match) -> str:
        name = html_unescape(match.group(1))
        value = (values.get(name) or "").strip()
        if value:
            return f'<span class="blank blank-filled" title="{escape(name)}">{escape(value)}</span>'
        return f'<mark class="blank blank-missing">{escape(MISSING_MARK.format(name=name))}</mark>'

    if values is None:
        return render_markdown(script)
    return Markup(_RENDERED_BLANK.sub(fill, str(render_markdown(script))))


def _paragraphs(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    return str(Markup("").join(Markup("<p>{}</p>").format(Markup("<br>").join(
        escape(line) for line in p.strip().splitlines())) for p in paragraphs))


def plain_text(markdown_text: str) -> str:
    """The script as plain text for a reply box: Markdown markup dropped, lists and paragraphs kept."""
    return _plain_text(markdown_text or "")


@lru_cache(maxsize=512)
def _plain_text(markdown_text: str) -> str:
    # A pure function of the text, asked for the same published scripts on every ticket page.
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark", {"breaks": True}).parse(markdown_text)
    lines: list[str] = []
    prefix_stack: list[list] = []  # [ordered?, counter]
    pending_prefix = ""
    for token in tokens:
        if token.type in ("bullet_list_open", "ordered_list_open"):
            start = int(token.attrGet("start") or 1) if token.type == "ordered_list_open" else 0
            prefix_stack.append([token.type == "ordered_list_open", start])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            prefix_stack.pop()
        elif token.type == "list_item_open" and prefix_stack:
            ordered, counter = prefix_stack[-1]
            pending_prefix = "  " * (len(prefix_stack) - 1) + (f"{counter}. " if ordered else "· ")
            prefix_stack[-1][1] += 1
        elif token.type == "inline":
            text = "".join(
                "\n" if child.type in ("softbreak", "hardbreak") else child.content
                for child in token.children or []
                if child.type in ("text", "code_inline", "softbreak", "hardbreak", "html_inline")
            )
            lines.append(pending_prefix + text)
            pending_prefix = ""
        elif token.type in ("fence", "code_block"):
            lines.append(token.content.rstrip("\n"))
        elif token.type in ("paragraph_close", "heading_close") and not prefix_stack:
            lines.append("")
    return "\n".join(lines).strip()


# --------------------------------------------------------------------------- timeline

def _recent_use(actor: User, ticket_id: int, version_id: int) -> TicketEvent | None:
    """The actor's latest "sop" line for this ticket and version within the repeat window, if any."""
    return _recent_uses(actor, ticket_id, [version_id]).get(version_id)


def _recent_uses(actor: User, ticket_id: int, version_ids: list[int]) -> dict[int, TicketEvent]:
    """``_recent_use`` of each of ``version_ids`` in one statement: {version id: latest line}."""
    found: dict[int, TicketEvent] = {}
    for event in db.session.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == EVENT_KIND,
            TicketEvent.to_value.in_([str(version_id) for version_id in version_ids]),
            TicketEvent.actor_id == actor.id, TicketEvent.at >= utcnow() - REPEAT_WINDOW,
    ).order_by(TicketEvent.id.desc())):
        found.setdefault(int(event.to_value), event)
    return found


def last_use_id(actor: User, ticket: Ticket, version_id: int) -> int | None:
    """The id of the actor's recent "sop" line for this ticket and version (within the window), if any."""
    event = _recent_use(actor, ticket.id, version_id)
    return event.id if event else None


def record_use(actor: User, ticket: Ticket, version_id: int, action: str = "insert") -> TicketEvent:
    """Record on the ticket's timeline that ``actor`` used this published version (once per 10 min)."""
    ensure(actor, Permission.VIEW_SOP)
    ensure(actor, Permission.WORK_TICKETS)
    if action not in ACTIONS:
        raise ValidationError({"action": _("Unknown action.")})
    version = db.session.get(SopVersion, version_id)
    if version is None or version.status != VersionStatus.PUBLISHED:
        raise NotFound()
    return _record(actor, ticket.id, version.id, action)


def _record(actor: User, ticket_id: int, version_id: int, action: str) -> TicketEvent:
    existing = _recent_use(actor, ticket_id, version_id)
    if existing is not None:
        return existing
    event = TicketEvent(ticket_id=ticket_id, actor_id=actor.id, kind=EVENT_KIND, from_value=action,
                        to_value=str(version_id), body="", at=utcnow())
    db.session.add(event)
    db.session.commit()
    return event


MAX_OPEN_AT_REPLY = 10  # more open scenarios than this in one panel is not a real reply


def record_open_at_reply(actor: User, reply: TicketReply, raw_version_ids: list[str]) -> list[TicketEvent]:
    """Record the scenarios that were open in the panel when ``actor`` stored ``reply``.

    Called by the reply view after the reply committed, in the same request, so the answer's
    timeline shows the lines (a separate request raced the reply's re-render). Only the reply's
    own author records; ids that are not numbers or not published versions are ignored: the
    reply is stored whatever the panel sent.
    """
    if reply.recorded_by_id != actor.id or not (
            has_permission(actor, Permission.VIEW_SOP) and has_permission(actor, Permission.WORK_TICKETS)):
        return []
    ticket_id = reply.ticket_id
    wanted = []
    for raw in raw_version_ids[:MAX_OPEN_AT_REPLY]:
        version_id = parse_version(raw)
        if version_id is not None and version_id not in wanted:
            wanted.append(version_id)
    if not wanted:
        return []
    published = set(db.session.scalars(select(SopVersion.id).where(
        SopVersion.id.in_(wanted), SopVersion.status == VersionStatus.PUBLISHED)))
    versions = [version_id for version_id in wanted if version_id in published]
    if not versions:
        return []
    # ``_record`` of each version, at once: the recent lines in one statement, the new ones in one commit
    recent = _recent_uses(actor, ticket_id, versions)
    events, now = [], utcnow()
    for version_id in versions:
        event = recent.get(version_id)
        if event is None:
            event = TicketEvent(ticket_id=ticket_id, actor_id=actor.id, kind=EVENT_KIND, from_value="reply",
                                to_value=str(version_id), body="", at=now)
            db.session.add(event)
        events.append(event)
    if len(recent) < len(versions):
        db.session.commit()
    return events


def _version_names() -> dict[int, tuple[str, int | None] | None]:
    """{version id: (title, number)} known in this request: the panel's versions, then each one a
    timeline line asked for (a ticket's page names the same few versions again and again)."""
    from flask import g, has_app_context

    if not has_app_context():
        return {}
    names = g.get("sop_version_names")
    if names is None:
        names = g.sop_version_names = {}
    return names


def remember_timeline_versions(rows) -> None:
    """Read the names of the versions a ticket's timeline rows (``kind``, ``to_value``) name in its
    "sop" lines, in one statement for those this request does not know yet: ``describe_use`` then
    names each from memory (a busy ticket used many versions: it read them one by one)."""
    from flask import has_app_context

    if not has_app_context():  # nowhere to remember them: describe_use reads each
        return
    names = _version_names()
    wanted = {int(row.to_value) for row in rows
              if row.kind == EVENT_KIND and (row.to_value or "").isdigit()} - names.keys()
    if not wanted:
        return
    found = {version_id: (title, number) for version_id, title, number in db.session.execute(
        select(SopVersion.id, SopVersion.title, SopVersion.number).where(SopVersion.id.in_(wanted)))}
    for version_id in wanted:
        names[version_id] = found.get(version_id)


def describe_use(event) -> str:
    """The timeline sentence of a "sop" event: 查看并使用了话术《破损理赔》第 3 版."""
    version_id = int(event.to_value) if (event.to_value or "").isdigit() else None
    names = _version_names()
    if version_id is not None and version_id not in names:
        row = db.session.execute(select(SopVersion.title, SopVersion.number).where(SopVersion.id == version_id)).first()
        names[version_id] = tuple(row) if row is not None else None
    name = names.get(version_id) if version_id is not None else None
    if name is None:
        return _("Used an SOP script that has since been deleted.")
    return _("Viewed and used the script 《%(title)s》 version %(number)s", title=name[0], number=name[1])


EVENT_LABEL = _l("SOP script")  # the timeline's label of a "sop" event (tickets.labels uses the same msgid)
register_event_describer(EVENT_KIND, describe_use)
