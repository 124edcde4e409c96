"""Blanks in scripts and canned replies: {客户称呼} {运单号} {网点} {品牌} {时限} {客服}.

``ticket_blank_values`` reads what a ticket and the agent working it can fill;
``fill_blanks`` puts those values into a text and marks every blank it could not
fill visibly (【待填写：客户称呼】), so an agent never sends a raw ``{客户称呼}`` or
an empty gap to a customer. One function for SOP scripts now and canned replies later.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .filters import to_shanghai

if TYPE_CHECKING:  # pragma: no cover
    from .models.ticket import Ticket
    from .models.user import User

# The blanks the app knows, in the order the help text lists them.
KNOWN_BLANKS = ("客户称呼", "运单号", "网点", "品牌", "时限", "客服")

# A blank is a short name in braces: {客户称呼}, {运单号} — the same pattern as kdcs.markdown,
# which shows blanks on the scenario page. With spaces, quotes or markup inside it is ordinary text.
BLANK_RE = re.compile(r"\{([^{}\s<>\"'`]{1,20})\}")
MISSING_MARK = "【待填写：{name}】"
MISSING_RE = re.compile(r"【待填写：([^{}\s<>\"'`【】]{1,20})】")

# 称呼 words a customer name may already end with ("张先生", "李女士").
HONORIFICS = ("先生", "女士", "小姐")
# Two-character surnames (复姓) that appear in customer names often enough to matter.
COMPOUND_SURNAMES = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
    "宇文", "司徒", "夏侯", "轩辕", "令狐", "钟离", "澹台", "端木", "南宫", "西门",
)
# Said when the customer's surname or 称呼 is unknown: polite and never wrong.
DEFAULT_SALUTATION = "您"


def fill_blanks(text: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """Fill {blank}s from ``values``; return the text and the blanks left unfilled (marked 【待填写：…】)."""
    missing: list[str] = []

    def replace(match: re.Match) -> str:
        name = match.group(1)
        value = (values.get(name) or "").strip()
        if value:
            return value
        if name not in missing:
            missing.append(name)
        return MISSING_MARK.format(name=name)

    return BLANK_RE.sub(replace, text or ""), missing


def salutation(customer_name: str | None) -> str:
    """张先生 → 张先生, 欧阳女士 → 欧阳女士; a name without 先生/女士 (or none) → "" (unknown)."""
    name = re.sub(r"\s+", "", customer_name or "")
    for honorific in HONORIFICS:
        if name.endswith(honorific) and len(name) > len(honorific):
            given = name[: -len(honorific)]
            surname = next((s for s in COMPOUND_SURNAMES if given.startswith(s)), given[:1])
            if not re.fullmatch(r"[\u4e00-\u9fff]+", surname):
                return ""
            return surname + honorific
    return ""


def format_deadline(value) -> str:
    """A deadline in Beijing time as customers read it: 5月1日 14:30."""
    if value is None:
        return ""
    local = to_shanghai(value)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def ticket_blank_values(ticket: Ticket, agent: User | None) -> dict[str, str]:
    """The blank values a ticket and its agent provide ({客户称呼} falls back to 您)."""
    outlet = ticket.outlet
    brand = ticket.brand or (outlet.brand if outlet is not None else None)
    return {
        "客户称呼": salutation(ticket.customer_name) or DEFAULT_SALUTATION,
        "运单号": ticket.waybill_no or "",
        "网点": outlet.name if outlet is not None else "",
        "品牌": brand.name if brand is not None else "",
        "时限": format_deadline(ticket.reply_due_at),
        "客服": agent.display_name if agent is not None else "",
    }
