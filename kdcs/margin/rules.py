"""The arithmetic of gross margin per agent (人均毛利), as plain functions.

Revenue of an agent in a month is the service fee of their outlets (parcels × the rate in force)
plus the overtime (加班) they worked that was approved and billed. From it go the fines the
company bore for their negligence (the fine less the agent's own share; a fine that is the
outlet's own fault costs the company nothing) and their labour cost. Money is Decimal, rounded to
the fen; a margin without a labour cost is unknown (None), never a revenue passed off as margin.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
MAX_MONTHLY_COST = Decimal("1000000.00")  # 100 万元 a month: past this, a typo (an extra zero or three)


def before_start(month: date, start_date: date | None) -> bool:
    """Whether a cost from ``month`` would begin before the month the person started (入职日期): such a
    cost would count months in which they did not work yet. Without a start date, any month will do."""
    return start_date is not None and month < start_date.replace(day=1)


def cost_in_force(entries, month: date) -> Decimal | None:
    """The cost of ``month`` given a person's entries (objects or rows with ``month`` and ``amount``,
    oldest first): the latest entry not after the month; None before the first (not entered)."""
    found = None
    for entry in entries:
        if entry.month <= month:
            found = entry.amount
        else:
            break
    return None if found is None else Decimal(found).quantize(FEN)


def gross_margin(revenue: Decimal, fines_borne: Decimal, labour_cost: Decimal | None) -> Decimal | None:
    """Revenue less the fines the company bore and the labour cost; None while the cost is unknown."""
    if labour_cost is None:
        return None
    return (Decimal(revenue) - Decimal(fines_borne) - Decimal(labour_cost)).quantize(FEN)


def margin_rate(margin: Decimal | None, revenue: Decimal) -> Decimal | None:
    """The margin as a percentage of revenue, one decimal; None without a margin or a revenue."""
    if margin is None or not revenue:
        return None
    return (Decimal(margin) * 100 / Decimal(revenue)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def per_head(margins: list[Decimal | None]) -> tuple[Decimal | None, int]:
    """(the average of the known margins, how many were known): 人均 counts only people whose
    labour cost is entered, so a missing cost never flatters the average."""
    known = [m for m in margins if m is not None]
    if not known:
        return None, 0
    return (sum(known, Decimal("0")) / len(known)).quantize(FEN, rounding=ROUND_HALF_UP), len(known)


def parse_amount(text) -> Decimal:
    """A monthly cost typed as an admin types it: "6500", "6,500.00", "６５００元", "¥6500" → Decimal.

    ValueError with the reason in Chinese: empty, not a number, negative, more than two decimals,
    more than 100 万元. 0 is allowed: the person is no longer counted from that month (left).
    """
    from flask_babel import gettext as _

    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    cleaned = re.sub(r"[\s,¥￥]|元$", "", raw)
    if not cleaned:
        raise ValueError(_("Enter the monthly labour cost in yuan, such as 6500."))
    if not re.fullmatch(r"-?\d+(\.\d+)?", cleaned):
        raise ValueError(_("“%(text)s” is not an amount: enter yuan such as 6500 or 6500.50.", text=raw[:20]))
    amount = Decimal(cleaned)  # the pattern admits only plain decimals
    if amount < 0:
        raise ValueError(_("A labour cost cannot be negative."))
    if amount > MAX_MONTHLY_COST:  # before quantize: a 40-digit number has no room for the fen
        raise ValueError(_("At most %(max)s yuan a month: check for an extra zero.", max="1,000,000"))
    if amount != amount.quantize(FEN):
        raise ValueError(_("At most two decimals (fen)."))
    return amount.quantize(FEN)


MAX_PASTED_LINES = 2000


def parse_cost_lines(text) -> tuple[list[tuple[int, str, str]], list[tuple[int, str]]]:
    """Lines pasted from a spreadsheet (two columns: 工号 and monthly cost, tab-, comma- or space-
    separated) → ([(line number, 工号, amount text)], [(line number, problem)]). Blank lines and a
    header line (a first line whose second column is not a number) are skipped; a line with one
    column or more than two is a problem. The amounts are checked by the caller (``parse_amount``)."""
    from flask_babel import gettext as _

    rows: list[tuple[int, str, str]] = []
    problems: list[tuple[int, str]] = []
    lines = str(text or "").splitlines()
    if len(lines) > MAX_PASTED_LINES:
        return [], [(0, _("At most %(n)d lines at a time.", n=MAX_PASTED_LINES))]
    for number, raw in enumerate(lines, start=1):
        line = unicodedata.normalize("NFKC", raw).strip()
        if not line:
            continue
        parts = [p for p in re.split(r"\t|,|，|\s+", line) if p.strip()]
        if len(parts) == 3 and re.fullmatch(r"\d{3}(\.\d+)?", parts[2]) and re.fullmatch(r"[¥￥]?\d{1,3}", parts[1]):
            parts = [parts[0], parts[1] + parts[2]]  # "6,500" split at its thousands comma
        if number == 1 and len(parts) == 2 and not re.search(r"\d", parts[1]):
            continue  # the header row copied with the columns (工号 人工成本)
        if len(parts) != 2:
            problems.append((number, _("Two columns are needed: the 工号 and the monthly cost.")))
            continue
        rows.append((number, parts[0], parts[1]))
    return rows, problems
