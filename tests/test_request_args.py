"""kdcs/request_args.py: numbers and days typed into URLs and forms."""

from __future__ import annotations

from datetime import date

import pytest

from kdcs.request_args import bounded_int, day_or_none


@pytest.mark.parametrize("text, expected", [
    ("2026-11-30", date(2026, 11, 30)), (" 2026-11-30 ", date(2026, 11, 30)), ("2026/11/30", date(2026, 11, 30)),
    ("2026.11.30", date(2026, 11, 30)), ("2026-1-5", date(2026, 1, 5)), ("20261130", date(2026, 11, 30)),
    ("2026-02-30", None), ("1999-12-31", None), ("2100-01-01", None), ("", None), (None, None),
    ("30/11/2026", None), ("2026-11-30abc", None), ("9" * 40, None), ("2026-11", None)])
def test_day_or_none(text, expected):
    assert day_or_none(text) == expected


def test_bounded_int():
    assert bounded_int("42") == 42
    with pytest.raises(ValueError):
        bounded_int("9" * 30)
