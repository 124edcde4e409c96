"""kdcs/blanks.py: blanks filled from a ticket, the unfillable ones marked, never left raw."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kdcs.blanks import (
    DEFAULT_SALUTATION,
    fill_blanks,
    format_deadline,
    salutation,
    ticket_blank_values,
)
from tests import factories


def test_fill_replaces_known_and_marks_missing_once_in_order():
    text, missing = fill_blanks("{客户称呼}您好，运单{运单号}，{时限}前回复；再次确认{运单号}。{未知}",
                                {"客户称呼": "张先生", "运单号": "", "时限": "  "})
    assert text == "张先生您好，运单【待填写：运单号】，【待填写：时限】前回复；再次确认【待填写：运单号】。【待填写：未知】"
    assert missing == ["运单号", "时限", "未知"]


def test_fill_leaves_text_that_is_not_a_blank():
    source = '价格 {"a": 1} 与 { 空格 } 与 {}'
    assert fill_blanks(source, {"a": "x"}) == (source, [])
    assert fill_blanks("", {}) == ("", [])
    assert fill_blanks(None, {}) == ("", [])


@pytest.mark.parametrize(("name", "expected"), [
    ("张先生", "张先生"), ("李女士", "李女士"), ("王小姐", "王小姐"), ("欧阳女士", "欧阳女士"),
    ("张伟先生", "张先生"), ("诸葛亮先生", "诸葛先生"), (" 刘 女士 ", "刘女士"),
    ("张伟", ""), ("", ""), (None, ""), ("先生", ""), ("Mr Li先生", ""),
])
def test_salutation_needs_a_surname_and_an_honorific(name, expected):
    assert salutation(name) == expected


def test_deadline_in_beijing_time():
    assert format_deadline(datetime(2026, 4, 30, 16, 5, tzinfo=UTC)) == "5月1日 00:05"
    assert format_deadline(None) == ""


def test_ticket_values(users):
    brand = factories.make_brand("ZTO", "中通")
    outlet = factories.make_outlet(brand, users.agent, name="中通杭州余杭良渚网点")
    ticket = factories.make_ticket(outlet, waybill_no="75121488724296", customer_name="李女士",
                                   registered_at=datetime(2026, 11, 2, 1, 0, tzinfo=UTC), reply_minutes=120)
    values = ticket_blank_values(ticket, users.agent)
    assert values == {"客户称呼": "李女士", "运单号": "75121488724296", "网点": "中通杭州余杭良渚网点", "品牌": "中通",
                      "时限": "11月2日 11:00", "客服": users.agent.display_name}
    ticket.customer_name = "李娜"
    ticket.reply_due_at = None
    values = ticket_blank_values(ticket, None)
    assert values["客户称呼"] == DEFAULT_SALUTATION == "您"
    assert fill_blanks("{时限}{客服}", values)[1] == ["时限", "客服"]
