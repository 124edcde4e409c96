"""Brand values mapped, not refused: what a category, direction or reason value of a file means.

Brand systems name things their own way: an STO complaint export says 破损 under
工单 (KDCS has 破损 under 问题件 and 仲裁), J&T writes 电话无人接听 for
电话错误/无人接听. While the rows are checked (``service.run_validation``) the
distinct values of the mapped category, direction and reason columns are counted
(``ValueCounter``); the preview lists them with a suggested KDCS value
(``suggest_*``) and the user maps each one: to a reason of the row's category, a
reason of another category (the row then takes that category), a new reason
(admins), or "reject these rows". The choices are kept on the job
(``mapping["values"]``) and, when the import is written, remembered per brand in
``import_value_maps`` (``remember``) and proposed for the next file.

How a value is resolved (``Resolver``): the job's own choice, else the brand's
remembered one, else an exact (loose) match; anything else is an error the value
table can fix. Suggestions are never applied silently: the user sees them and
confirms with "apply".
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import Category, Direction, ImportValueMap, TicketReason, User, utcnow
from . import reader

FIELDS = ("category", "direction", "reason")
REJECT = "reject"
REASON_PREFIX = "reason:"
NEW_PREFIX = "new:"  # "new:<category>": create a reason named after the value (admins)
MAX_VALUES = 300  # distinct values kept per field (a free-text column is not a list of values)

CATEGORY_WORDS = {
    "问题件": Category.PROBLEM, "问题": Category.PROBLEM, "problem": Category.PROBLEM,
    "留言": Category.MESSAGE, "message": Category.MESSAGE,
    "工单": Category.WORK_ORDER, "work_order": Category.WORK_ORDER,
    "仲裁": Category.ARBITRATION, "arbitration": Category.ARBITRATION,
}
DIRECTION_WORDS = {
    "进港": Direction.INBOUND, "进": Direction.INBOUND, "inbound": Direction.INBOUND, "in": Direction.INBOUND,
    "出港": Direction.OUTBOUND, "出": Direction.OUTBOUND, "outbound": Direction.OUTBOUND, "out": Direction.OUTBOUND,
}
# Brand wording for KDCS reasons (value -> reason name), looked up in the row's category first.
REASON_ALIASES = {
    "电话无人接听": "电话错误/无人接听", "无人接听": "电话错误/无人接听", "电话错误": "电话错误/无人接听",
    "电话空号": "电话错误/无人接听", "地址错误": "地址不详", "地址不全": "地址不详", "地址不详细": "地址不详",
    "收件人拒收": "拒收", "客户拒收": "拒收", "超区": "超区/超派", "超派": "超区/超派",
    "改地址": "改地址", "更改地址": "收件人要求改派/改地址", "破损件": "破损", "外包装破损": "外包装破损/内件短少",
    "内件短少": "外包装破损/内件短少", "丢件": "遗失", "遗失件": "遗失", "快件遗失": "遗失",
    "催派": "催派送", "催促派送": "催派送", "查询": "查件", "物流查询": "查询物流", "催单": "催件",
    "虚假签收投诉": "虚假签收", "服务态度差": "服务态度", "态度差": "服务态度",
}

SUGGESTION_LABELS = {
    "job": _l("chosen for this file"),
    "remembered": _l("remembered for this brand"),
    "exact": _l("same name"),
    "alias": _l("known brand wording"),
    "other_category": _l("same name in another category"),
    "closest": _l("closest name"),
    "contains": _l("contains the word"),
}


def key(text) -> str:
    """A value compared loosely (spaces, brackets and case ignored), cut to the stored length."""
    return reader.header_key(text)[:64]


def reason_key(context: str, value_key: str) -> str:
    """The key of a reason value in ``mapping["values"]["reason"]``: "<category>|<value key>"."""
    return f"{context}|{value_key}"


# --------------------------------------------------------------------------- counting


class ValueCounter:
    """Distinct values of the mapped value columns, with row counts (at most MAX_VALUES each)."""

    def __init__(self) -> None:
        self.values: dict[str, dict[tuple, list]] = {name: {} for name in FIELDS}
        self.overflow: dict[str, int] = {name: 0 for name in FIELDS}

    def add(self, field_name: str, context: str, text: str) -> None:
        """Count one row's value (``context`` is the row's category for a reason, else "")."""
        if not text:
            return
        bucket = self.values[field_name]
        item_key = (context, key(text))
        entry = bucket.get(item_key)
        if entry is not None:
            entry[1] += 1
        elif len(bucket) < MAX_VALUES:
            bucket[item_key] = [text[:64], 1]
        else:
            self.overflow[field_name] += 1

    def as_json(self) -> dict:
        """{field: [[context, key, text, rows], ...] most rows first, "overflow": {field: rows}}."""
        result: dict = {}
        for name, bucket in self.values.items():
            result[name] = sorted(([ctx, k, text, n] for (ctx, k), (text, n) in bucket.items()),
                                  key=lambda item: (-item[3], item[2]))
        result["overflow"] = dict(self.overflow)
        return result


# --------------------------------------------------------------------------- remembered per brand


def remembered(brand_id: int) -> dict[str, dict[str, str]]:
    """The brand's remembered values: {field: {key or "category|key": target}}."""
    result: dict[str, dict[str, str]] = {name: {} for name in FIELDS}
    for row in db.session.scalars(select(ImportValueMap).where(ImportValueMap.brand_id == brand_id)):
        if row.field in result:
            item = reason_key(row.context, row.source_key) if row.field == "reason" else row.source_key
            result[row.field][item] = row.target
    return result


def remember(actor: User | None, brand_id: int, values: dict, texts: dict[str, dict[str, str]]) -> int:
    """Store the job's value choices for the brand (the last choice wins); returns rows written.

    ``values`` is ``mapping["values"]``; ``texts`` gives each key's text as written in the file.
    Empty choices are not remembered. Does not commit.
    """
    existing = {(r.field, r.context, r.source_key): r for r in db.session.scalars(
        select(ImportValueMap).where(ImportValueMap.brand_id == brand_id))}
    written = 0
    for field_name in FIELDS:
        for item, target in (values.get(field_name) or {}).items():
            if not target or target.startswith(NEW_PREFIX):
                continue
            context, value_key = item.split("|", 1) if field_name == "reason" else ("", item)
            text = (texts.get(field_name) or {}).get(item) or value_key
            row = existing.get((field_name, context, value_key))
            if row is None:
                db.session.add(ImportValueMap(brand_id=brand_id, field=field_name, context=context,
                                              source_key=value_key[:64], source_text=text[:64], target=target[:32],
                                              updated_by_id=actor.id if actor else None))
                written += 1
            elif row.target != target:
                row.target, row.source_text = target[:32], text[:64]
                row.updated_by_id, row.updated_at = (actor.id if actor else None), utcnow()
                written += 1
    return written


# --------------------------------------------------------------------------- resolving (while checking rows)


@dataclass
class Resolved:
    """What a value means: a code (category/direction) or a reason id, or rejected, or nothing known."""
    code: str | None = None
    reason_id: int | None = None
    rejected: bool = False


class Resolver:
    """Resolves a job's values: the job's choice, the brand's remembered one, then an exact match."""

    def __init__(self, brand_id: int, job_values: dict | None, reasons: list[TicketReason]):
        self.job = {name: dict((job_values or {}).get(name) or {}) for name in FIELDS}
        self.brand = remembered(brand_id)
        self.active_reasons = {r.id: r for r in reasons if r.is_active}
        self.reason_by_name: dict[tuple[str, str], int] = {}
        parts: dict[tuple[str, str], set[int]] = {}
        for reason in self.active_reasons.values():
            self.reason_by_name[(reason.category, key(reason.name))] = reason.id
            for part in reason.name.split("/"):
                parts.setdefault((reason.category, key(part)), set()).add(reason.id)
        for name_key, ids in parts.items():  # "电话错误" finds "电话错误/无人接听" when unambiguous
            if len(ids) == 1:
                self.reason_by_name.setdefault(name_key, next(iter(ids)))

    def _target(self, field_name: str, item: str) -> str | None:
        target = self.job[field_name].get(item)
        if target:
            return target
        return self.brand[field_name].get(item) or None

    def _from_target(self, target: str, codes) -> Resolved | None:
        if target == REJECT:
            return Resolved(rejected=True)
        if target.startswith(REASON_PREFIX):
            try:
                reason_id = int(target[len(REASON_PREFIX):])
            except ValueError:
                return None
            return Resolved(reason_id=reason_id) if reason_id in self.active_reasons else None
        return Resolved(code=target) if target in codes else None

    def coded(self, field_name: str, text: str) -> Resolved:
        """A category or direction value: its code, rejected, or unknown (empty Resolved)."""
        codes, words = (set(Category), CATEGORY_WORDS) if field_name == "category" else (set(Direction), DIRECTION_WORDS)
        value_key = key(text)
        target = self._target(field_name, value_key)
        found = self._from_target(target, codes) if target else None
        if found is not None:
            return found
        code = words.get(value_key)
        return Resolved(code=str(code)) if code else Resolved()

    def reason(self, context: str, text: str) -> Resolved:
        """A reason value in the row's category: a reason id (maybe of another category), rejected, or unknown."""
        value_key = key(text)
        target = self._target("reason", reason_key(context, value_key))
        found = self._from_target(target, ()) if target else None
        if found is not None:
            return found
        reason_id = self.reason_by_name.get((context, value_key))
        return Resolved(reason_id=reason_id) if reason_id else Resolved()

    def reason_category(self, reason_id: int) -> str:
        return self.active_reasons[reason_id].category


# --------------------------------------------------------------------------- suggestions (the value table)


@dataclass
class ValueRow:
    """One line of the value table: a distinct value, its rows, the current choice and a suggestion."""
    field: str
    context: str  # the rows' category (reasons only)
    key: str
    text: str
    rows: int
    choice: str  # the target as the form shows it selected ("" = not chosen)
    source: str  # where the choice comes from (SUGGESTION_LABELS key) or ""
    needs_attention: bool  # no exact match: the user should look at it

    @property
    def form_name(self) -> str:
        return f"v|{self.field}|{self.context}|{self.key}"

    @property
    def source_label(self):
        return SUGGESTION_LABELS.get(self.source, "")


def _closest(text: str, names: dict[str, int]) -> int | None:
    match = difflib.get_close_matches(text, list(names), n=1, cutoff=0.5)
    return names[match[0]] if match else None


def suggest_reason(context: str, text: str, reasons: list[TicketReason]) -> tuple[str, str]:
    """(target, source) for a reason value: exact name, a known alias, the same name in another
    category, the closest name (this category first); ("", "") when nothing is close."""
    active = [r for r in reasons if r.is_active]
    value_key = key(text)
    same = {key(r.name): r.id for r in active if r.category == context}
    if value_key in same:
        return f"{REASON_PREFIX}{same[value_key]}", "exact"
    for r in active:
        if r.category == context and value_key in {key(p) for p in r.name.split("/")}:
            return f"{REASON_PREFIX}{r.id}", "exact"
    alias = REASON_ALIASES.get(text.strip()) or REASON_ALIASES.get(value_key)
    if alias:
        in_context = [r for r in active if r.name == alias and r.category == context]
        anywhere = [r for r in active if r.name == alias]
        if in_context or anywhere:
            return f"{REASON_PREFIX}{(in_context or anywhere)[0].id}", "alias"
    order = {str(c): i for i, c in enumerate(Category)}
    elsewhere = sorted((r for r in active if r.category != context and key(r.name) == value_key),
                       key=lambda r: order.get(r.category, 9))
    if elsewhere:
        return f"{REASON_PREFIX}{elsewhere[0].id}", "other_category"
    names_here = {r.name: r.id for r in active if r.category == context}
    found = _closest(text, names_here)
    if found is None:
        found = _closest(text, {r.name: r.id for r in sorted(active, key=lambda r: order.get(r.category, 9))})
    if found is not None:
        return f"{REASON_PREFIX}{found}", "closest"
    return "", ""


def _suggest_word(text: str, words: dict) -> tuple[str, str]:
    value_key = key(text)
    if value_key in words:
        return str(words[value_key]), "exact"
    for word, code in sorted(words.items(), key=lambda item: -len(item[0])):
        if len(word) >= 2 and word in value_key:
            return str(code), "contains"
    return "", ""


def value_rows(job_values: dict | None, counts: dict | None, brand_id: int,
               reasons: list[TicketReason]) -> dict[str, list[ValueRow]]:
    """The value table: per field, every counted value with its current choice (the job's,
    the brand's remembered one, or the suggestion). Values needing a look come first."""
    job_values = job_values or {}
    brand = remembered(brand_id)
    result: dict[str, list[ValueRow]] = {}
    for field_name in FIELDS:
        rows: list[ValueRow] = []
        merged: dict[tuple[str, str], list] = {}
        for context, value_key, text, n in (counts or {}).get(field_name) or []:
            entry = merged.get((context, value_key))
            if entry:
                entry[1] += n
            else:
                merged[(context, value_key)] = [text, n]
        for (context, value_key), (text, n) in merged.items():
            item = reason_key(context, value_key) if field_name == "reason" else value_key
            if field_name == "reason":
                target, source = suggest_reason(context, text, reasons)
            else:
                target, source = _suggest_word(text, CATEGORY_WORDS if field_name == "category" else DIRECTION_WORDS)
            exact = source == "exact"
            if (job_values.get(field_name) or {}).get(item):
                target, source = job_values[field_name][item], "job"
            elif brand[field_name].get(item):
                target, source = brand[field_name][item], "remembered"
            rows.append(ValueRow(field=field_name, context=context, key=value_key, text=text, rows=n,
                                 choice=target, source=source, needs_attention=not exact))
        rows.sort(key=lambda r: (not r.needs_attention, -r.rows, r.text))
        result[field_name] = rows
    return result


def parse_form(form, allowed_new: bool) -> dict[str, dict[str, str]]:
    """The value choices posted by the value table: {field: {item: target}}.

    Names are "v|<field>|<context>|<key>"; a target is a code, "reason:<id>", "reject",
    "new:<category>" (only when ``allowed_new``) or "" (not chosen).
    """
    result: dict[str, dict[str, str]] = {name: {} for name in FIELDS}
    for name in form:
        if not name.startswith("v|"):
            continue
        parts = name.split("|", 3)
        if len(parts) != 4 or parts[1] not in FIELDS:
            continue
        _v, field_name, context, value_key = parts
        target = (form.get(name) or "").strip()[:32]
        if target.startswith(NEW_PREFIX) and not allowed_new:
            target = ""
        item = reason_key(context, value_key) if field_name == "reason" else value_key
        result[field_name][item] = target
    return result
