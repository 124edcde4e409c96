"""Reports: an agent says an SOP is wrong or misses a case; a trainer resolves it.

A report names the scenario and the version the agent was reading (both optional:
"no scenario fits this ticket" is a report too) and, when sent from a ticket's
page, the ticket. Trainers and admins see open reports first and resolve one by
linking a published version that fixes it, by answering, or both; the reporter is
notified. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from ...auditing import record, register_labels, snapshot
from ...extensions import db
from ...models import Ticket, User, utcnow
from ...models.sop import ReportStatus, SopReport, SopScenario, SopVersion, VersionStatus
from ...notifications.service import notify
from ...permissions import Permission, ensure
from ...service_errors import NotFound, StaleEdit, ValidationError

NOTE_MAX = 2000
ANSWER_MAX = 2000
AUDIT_FIELDS = ["status", "answer", "resolved_version_id", "resolved_by_id"]

register_labels(
    actions={"sop_report.create": _l("SOP report sent"), "sop_report.resolve": _l("SOP report resolved")},
    fields={"sop_report.status": _l("Report status"), "answer": _l("Answer"),
            "resolved_version_id": _l("Linked version"), "resolved_by_id": _l("Resolved by"),
            "sop_report.note": _l("Report")},
    entities={"sop_report": _l("SOP report")},
    kinds={"resolved_by_id": "user"},
)


def _commit() -> None:
    try:
        db.session.commit()
    except StaleDataError as error:
        db.session.rollback()
        raise StaleEdit() from error


def create_report(actor: User, *, note: str, scenario: SopScenario | None = None,
                  version: SopVersion | None = None, ticket: Ticket | None = None) -> SopReport:
    """File a report ("this SOP is wrong or misses a case"); the ticket must be one the actor may see."""
    ensure(actor, Permission.VIEW_SOP)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say what is wrong or which case is missing.")})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("The note may have at most %(n)s characters.", n=NOTE_MAX)})
    if version is not None:
        if version.status != VersionStatus.PUBLISHED:  # agents report on what they read, never drafts
            raise NotFound()
        if scenario is None:
            scenario = version.scenario
        elif version.scenario_id != scenario.id:
            raise ValidationError({"version_id": _("The version is not one of this scenario's.")})
    elif scenario is not None:
        version = scenario.current_version
    if ticket is not None:
        from ...tickets.service import get_visible_ticket

        if get_visible_ticket(actor, ticket.id) is None:
            raise NotFound()
    report = SopReport(scenario_id=scenario.id if scenario else None, version_id=version.id if version else None,
                       ticket_id=ticket.id if ticket else None, reporter_id=actor.id, note=note,
                       status=ReportStatus.OPEN)
    db.session.add(report)
    db.session.flush()
    about = scenario.title if scenario else _("no scenario")
    record(actor, "sop_report.create", "sop_report", report.id, summary=f"{about}: {note[:80]}",
           after={"status": report.status, "scenario_id": report.scenario_id, "version_id": report.version_id,
                  "ticket_id": report.ticket_id, "note": note})
    db.session.commit()
    return report


def get_report(actor: User, report_id: int) -> SopReport:
    """One report for the inbox (trainers and admins)."""
    ensure(actor, Permission.HANDLE_SOP_REPORTS)
    report = db.session.get(SopReport, report_id)
    if report is None:
        raise NotFound()
    return report


def open_count() -> int:
    """How many reports wait for a trainer (the navigation badge)."""
    global _OPEN_COUNT
    if _OPEN_COUNT is None:  # the badge on every page of a trainer: built once
        _OPEN_COUNT = select(func.count(SopReport.id)).where(SopReport.status == ReportStatus.OPEN)
    return db.session.scalar(_OPEN_COUNT) or 0


_OPEN_COUNT = None


@dataclass
class Inbox:
    """One page of the inbox and the counts of its tabs."""

    reports: list[SopReport]
    status: str
    counts: dict[str, int]
    pagination: object  # flask_sqlalchemy Pagination (the pager macro reads it)
    # The versions (read, linked) and tickets the cards name, read at once and held here so that
    # version_number, resolved_version and ticket_label find them in the session (no statement each).
    named: list = field(default_factory=list)


def inbox(actor: User, status: str = "open", page: int = 1, per_page: int = 20) -> Inbox:
    """The trainers' inbox: open reports (oldest waiting first) or resolved ones (newest first), or all."""
    ensure(actor, Permission.HANDLE_SOP_REPORTS)
    if status not in ("open", "resolved", "all"):
        status = "open"
    query = select(SopReport).options(
        joinedload(SopReport.reporter), joinedload(SopReport.resolved_by),
        selectinload(SopReport.scenario).selectinload(SopScenario.current_version),
    )
    if status == "open":
        query = query.where(SopReport.status == ReportStatus.OPEN).order_by(SopReport.created_at, SopReport.id)
    elif status == "resolved":
        query = query.where(SopReport.status == ReportStatus.RESOLVED).order_by(
            SopReport.resolved_at.desc(), SopReport.id.desc())
    else:
        query = query.order_by(case((SopReport.status == ReportStatus.OPEN, 0), else_=1),
                               SopReport.created_at.desc(), SopReport.id.desc())
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    rows = db.session.execute(select(SopReport.status, func.count(SopReport.id)).group_by(SopReport.status))
    counts = {"open": 0, "resolved": 0}
    counts.update({s: n for s, n in rows})
    counts["all"] = counts["open"] + counts["resolved"]
    reports = list(pagination.items)
    return Inbox(reports, status, counts, pagination, named=named_rows(reports))


def named_rows(reports) -> list:
    """The versions and tickets the report cards name (read, linked, from which ticket), in at most
    two statements; the caller keeps the list while the cards are drawn (the session holds loaded
    rows only as long as something refers to them)."""
    version_ids = {i for r in reports for i in (r.version_id, r.resolved_version_id) if i is not None}
    ticket_ids = {r.ticket_id for r in reports if r.ticket_id is not None}
    named: list = []
    if version_ids:
        named += db.session.scalars(select(SopVersion).where(SopVersion.id.in_(version_ids))).all()
    if ticket_ids:
        named += db.session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids))).all()
    return named


def linkable_versions(report: SopReport, limit: int = 200) -> list[SopVersion]:
    """Published versions a trainer may link: the report's scenario's (newest first), else every
    scenario's current version."""
    query = select(SopVersion).where(SopVersion.status == VersionStatus.PUBLISHED)
    if report.scenario_id is not None:
        query = query.where(SopVersion.scenario_id == report.scenario_id).order_by(SopVersion.number.desc())
    else:
        query = (query.join(SopScenario, SopScenario.current_version_id == SopVersion.id)
                 .where(SopScenario.is_archived.is_(False)).order_by(SopVersion.title, SopVersion.id))
    return list(db.session.scalars(query.limit(limit)))


def linkable_versions_many(reports, limit: int = 200) -> dict[int, list[SopVersion]]:
    """``linkable_versions`` of every report, by report id, in at most two statements (the inbox
    lists up to a page of open reports; one statement per report before)."""
    scenario_ids = {r.scenario_id for r in reports if r.scenario_id is not None}
    of_scenario: dict[int, list[SopVersion]] = {i: [] for i in scenario_ids}
    if scenario_ids:
        for version in db.session.scalars(select(SopVersion).where(
                SopVersion.status == VersionStatus.PUBLISHED, SopVersion.scenario_id.in_(scenario_ids))
                .order_by(SopVersion.scenario_id, SopVersion.number.desc())):
            of_scenario[version.scenario_id].append(version)
    current: list[SopVersion] = []
    if any(r.scenario_id is None for r in reports):
        current = list(db.session.scalars(
            select(SopVersion).where(SopVersion.status == VersionStatus.PUBLISHED)
            .join(SopScenario, SopScenario.current_version_id == SopVersion.id)
            .where(SopScenario.is_archived.is_(False)).order_by(SopVersion.title, SopVersion.id).limit(limit)))
    return {r.id: (of_scenario[r.scenario_id][:limit] if r.scenario_id is not None else list(current))
            for r in reports}


def resolve_report(actor: User, report: SopReport, *, version_no: int | None, answer: str = "",
                   resolved_version_id: int | None = None) -> SopReport:
    """Resolve a report by linking a published version, answering, or both; the reporter is notified."""
    ensure(actor, Permission.HANDLE_SOP_REPORTS)
    if version_no is None or version_no != report.version:
        raise StaleEdit()
    if report.status != ReportStatus.OPEN:
        raise StaleEdit()
    answer = (answer or "").strip()
    errors = {}
    if len(answer) > ANSWER_MAX:
        errors["answer"] = _("The answer may have at most %(n)s characters.", n=ANSWER_MAX)
    linked = None
    if resolved_version_id is not None:
        linked = db.session.get(SopVersion, resolved_version_id)
        if linked is None or linked.status != VersionStatus.PUBLISHED:
            errors["resolved_version_id"] = _("Choose a published version.")
    if not answer and linked is None and "resolved_version_id" not in errors:
        errors["answer"] = _("Link the version that fixes it, or answer the reporter.")
    if errors:
        raise ValidationError(errors)
    before = snapshot(report, AUDIT_FIELDS)
    report.status = ReportStatus.RESOLVED
    report.answer = answer
    report.resolved_version_id = linked.id if linked else None
    report.resolved_by_id = actor.id
    report.resolved_at = utcnow()
    db.session.flush()
    record(actor, "sop_report.resolve", "sop_report", report.id,
           summary=(report.scenario.title if report.scenario else "")[:60] + f" #{report.id}",
           before=before, after=snapshot(report, AUDIT_FIELDS))
    if report.reporter_id is not None:
        _notify_reporter(report, linked)
    _commit()
    return report


def version_number(report: SopReport) -> int | None:
    """The number of the version the reporter was reading."""
    version = db.session.get(SopVersion, report.version_id) if report.version_id else None
    return version.number if version else None


def resolved_version(report: SopReport) -> SopVersion | None:
    """The published version a trainer linked when resolving."""
    return db.session.get(SopVersion, report.resolved_version_id) if report.resolved_version_id else None


def ticket_label(report: SopReport) -> str:
    """The waybill of the report's ticket (or #id if it is gone)."""
    ticket = db.session.get(Ticket, report.ticket_id) if report.ticket_id else None
    return ticket.waybill_no if ticket else f"#{report.ticket_id}"


def _notify_reporter(report: SopReport, linked: SopVersion | None) -> None:
    if linked is not None:
        title = _("Your SOP report was resolved: 《%(t)s》 version %(n)s", t=linked.title, n=linked.number)
        link = version_path(linked)
    else:
        title = _("Your SOP report was answered")
        link = None
        if report.scenario_id is not None:
            link = scenario_path(report.scenario_id)
        elif report.ticket_id is not None:
            link = f"/tickets/{report.ticket_id}"
    body = report.answer or _("Note: %(note)s", note=report.note[:200])
    notify(report.reporter_id, "sop_report", title, body, link=link)


def scenario_path(scenario_id: int) -> str:
    """The scenario page, /sop/<id> (issue 10's URL; also used outside a request)."""
    return f"/sop/{scenario_id}"


def version_path(version: SopVersion) -> str:
    """One published version's page, /sop/<id>/versions/<n>."""
    return f"/sop/{version.scenario_id}/versions/{version.number}"


def scenario_url(scenario_id: int) -> str | None:
    """The scenario page for a link in a page, or None while sop-core's ``sop.scenario`` does not exist."""
    return _url("sop.scenario", scenario_id=scenario_id)


def version_url(version: SopVersion) -> str | None:
    """A version's page for a link in a page (``sop.version``), else the scenario page, else None."""
    return _url("sop.version", scenario_id=version.scenario_id, number=version.number) or scenario_url(
        version.scenario_id)


def _url(endpoint: str, **values) -> str | None:
    from flask import url_for
    from werkzeug.routing import BuildError

    try:
        return url_for(endpoint, **values)
    except (BuildError, RuntimeError):
        return None
