"""Catalog maintenance: extract msgids per feature domain and check completeness.

Each domain owns a set of source globs (``DOMAIN_SOURCES``); ``update_domain``
rewrites ``zh_CN/LC_MESSAGES/<domain>.po`` with every msgid found there,
keeping existing translations. ``missing_translations`` is what the test
suite asserts empty.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from .i18n import TRANSLATIONS_DIR

PACKAGE_DIR = Path(__file__).parent
METHOD_BY_SUFFIX = {".py": "python", ".html": "jinja2"}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
JINJA_OPTIONS = {"extensions": "jinja2.ext.do"}

# Feature domains: the files whose strings each catalog owns; a file belongs to
# the FIRST domain (in this order) whose patterns match it. Core is the rest.
DOMAIN_SOURCES: dict[str, list[str]] = {
    "quality": [  # 质检: scoring agents' replies against the scorecard (kdcs/quality)
        "quality/**/*.py", "templates/quality/**/*.html",
    ],
    "tickets_follow_ups": [  # 跟进: promises on tickets and their reminders (kdcs/tickets/followups)
        "tickets/followups/**/*.py", "templates/tickets/followups/**/*.html",
    ],
    "tickets_evidence": [  # evidence attachments and their checklist (kdcs/tickets/attachments)
        "tickets/attachments/**/*.py", "templates/tickets/_attachments.html", "templates/tickets/settings/evidence*.html",
    ],
    "tickets_ui": [
        "tickets/routes.py", "tickets/forms.py", "tickets/queue.py", "tickets/views_*.py",
        "templates/tickets/*.html",
    ],
    "tickets_import": [
        "tickets/imports/**/*.py", "tickets/exporting*.py", "templates/tickets/import/**/*.html",
    ],
    "tickets_settings": ["tickets/settings/**/*.py", "templates/tickets/settings/**/*.html"],
    "tickets": ["tickets/**/*.py", "templates/tickets/**/*.html", "models/ticket*.py"],
    "workcalendar": ["workcalendar/**/*.py", "templates/workcalendar/**/*.html"],
    "outlets": ["outlets/**/*.py", "templates/outlets/**/*.html"],
    "margin": ["margin/**/*.py", "templates/margin/**/*.html", "models/labour_cost.py"],
    "org": ["org/**/*.py", "templates/org/**/*.html"],
    "sop": ["sop/**/*.py", "templates/sop/**/*.html"],
    "leave": ["leave/**/*.py", "templates/leave/**/*.html"],
    "health": ["health/**/*.py", "templates/health/**/*.html"],
    "training_quiz": ["training/quiz/**/*.py", "templates/training/quiz/**/*.html"],
    "training_cert": ["training/certification/**/*.py", "templates/training/certification/**/*.html"],
    "training": ["training/**/*.py", "templates/training/**/*.html", "models/training.py"],
}


def _files_for(patterns: list[str]) -> set[Path]:
    found: set[Path] = set()
    for pattern in patterns:
        found.update(p for p in PACKAGE_DIR.glob(pattern) if p.suffix in METHOD_BY_SUFFIX)
    return found


def domain_files(domain: str) -> set[Path]:
    claimed: set[Path] = set()
    for name, patterns in DOMAIN_SOURCES.items():
        files = _files_for(patterns) - claimed
        if name == domain:
            return files
        claimed |= files
    every = _files_for(["**/*.py", "templates/**/*.html"])
    return every - claimed


def extract(files: set[Path]) -> dict[str, list[str]]:
    """msgid -> places it occurs (plural msgids keyed by the singular)."""
    messages: dict[str, list[str]] = {}
    for path in sorted(files):
        method = METHOD_BY_SUFFIX[path.suffix]
        options = JINJA_OPTIONS if method == "jinja2" else {}
        for lineno, message, _comments, _context in extract_from_file(method, str(path), keywords=KEYWORDS, options=options):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                messages.setdefault(msgid, []).append(f"{path.relative_to(PACKAGE_DIR.parent)}:{lineno}")
    return messages


def po_path(domain: str) -> Path:
    return TRANSLATIONS_DIR / "zh_CN" / "LC_MESSAGES" / f"{domain}.po"


def load_catalog(domain: str) -> Catalog:
    path = po_path(domain)
    if not path.exists():
        return Catalog(locale="zh_CN", domain=domain)
    with path.open("rb") as handle:
        return read_po(handle, locale="zh_CN", domain=domain)


def update_domain(domain: str) -> tuple[int, list[str]]:
    """Sync a domain's .po with its sources; returns (msgid count, untranslated msgids)."""
    found = extract(domain_files(domain))
    old = load_catalog(domain)
    new = Catalog(locale="zh_CN", domain=domain, project="KDCS", charset="utf-8")
    for msgid, places in sorted(found.items()):
        previous = old.get(msgid)
        new.add(msgid, previous.string if previous else "", locations=[(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in places])
    path = po_path(domain)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, new, width=120, sort_output=True)
    untranslated = [m.id for m in new if m.id and not m.string]
    return len(found), untranslated


def missing_translations() -> dict[str, list[str]]:
    """msgids used anywhere in code or templates with no zh_CN translation in any catalog."""
    translated: set[str] = set()
    for path in (TRANSLATIONS_DIR / "zh_CN" / "LC_MESSAGES").glob("*.po"):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale="zh_CN")
        translated.update(m.id for m in catalog if m.id and m.string)
    used = extract(_files_for(["**/*.py", "templates/**/*.html"]))
    return {msgid: places for msgid, places in used.items() if msgid not in translated}
