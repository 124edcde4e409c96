"""Leave date rules (kdcs/leave/rules.py): windows, working days with holidays, 调休 and half days."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from kdcs.leave import rules
from kdcs.leave.rules import Period
from kdcs.workcalendar import calendar_from

# 2026-10-01..07 National Day holiday (Thu..Wed), 2026-10-10 (Saturday) a 调休 make-up workday.
NATIONAL = calendar_from({**{date(2026, 10, d): False for d in range(1, 8)}, date(2026, 10, 10): True})


def days(start, end, start_part="full", end_part="full", calendar=NATIONAL):
    return rules.working_days(Period(start, start_part, end, end_part), calendar)


def test_window_full_days_is_beijing_midnight_to_midnight():
    start_at, end_at = rules.request_window(date(2026, 12, 7), "full", date(2026, 12, 8), "full")
    assert start_at == datetime(2026, 12, 6, 16, 0, tzinfo=UTC)
    assert end_at == datetime(2026, 12, 8, 16, 0, tzinfo=UTC)


def test_window_half_days_start_and_end_at_noon():
    start_at, end_at = rules.request_window(date(2026, 12, 7), "pm", date(2026, 12, 9), "am")
    assert start_at == datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
    assert end_at == datetime(2026, 12, 9, 4, 0, tzinfo=UTC)


def test_plain_week_counts_weekdays_only():
    assert days(date(2026, 12, 7), date(2026, 12, 13)) == Decimal("5")  # Mon..Sun


def test_holidays_do_not_count_and_make_up_saturday_does():
    # 28,29,30 Sep (Mon-Wed) = 3; 1-7 Oct holiday; 8, 9 Oct (Thu, Fri) = 2; 10 Oct 调休 Saturday = 1; 11 Sunday
    assert days(date(2026, 9, 28), date(2026, 10, 11)) == Decimal("6")
    assert days(date(2026, 10, 10), date(2026, 10, 10)) == Decimal("1")


def test_half_days():
    assert days(date(2026, 12, 7), date(2026, 12, 7), "full", "am") == Decimal("0.5")
    assert days(date(2026, 12, 7), date(2026, 12, 7), "pm", "full") == Decimal("0.5")
    assert days(date(2026, 12, 7), date(2026, 12, 9), "pm", "am") == Decimal("2")


def test_half_day_on_a_holiday_counts_nothing():
    assert days(date(2026, 10, 7), date(2026, 10, 8), "pm", "full") == Decimal("1")  # 7th is a holiday
    assert days(date(2026, 10, 5), date(2026, 10, 5), "pm", "full") == Decimal("0")
    assert days(date(2026, 12, 12), date(2026, 12, 12), "full", "am") == Decimal("0")  # a Saturday


@pytest.mark.parametrize("period, expected", [
    (Period(date(2026, 12, 8), "full", date(2026, 12, 7), "full"), {"end_date": "order"}),
    (Period(date(2026, 12, 7), "pm", date(2026, 12, 7), "am"), {"end_part": "order"}),
    (Period(date(2026, 12, 7), "am", date(2026, 12, 7), "full"), {"start_part": "part"}),
    (Period(date(2026, 1, 1), "full", date(2027, 6, 1), "full"), {"end_date": "span"}),
    (Period(date(2026, 12, 7), "full", date(2026, 12, 8), "full"), {}),
])
def test_shape_errors(period, expected):
    assert rules.shape_errors(period) == expected


def test_half_days_refused_when_the_type_does_not_allow_them():
    assert rules.shape_errors(Period(date(2026, 12, 7), "pm", date(2026, 12, 8), "full"),
                              half_days_allowed=False) == {"start_part": "half"}


def test_notice_in_calendar_days():
    today = date(2026, 12, 1)
    assert rules.notice_ok(date(2026, 12, 3), today, 2)
    assert not rules.notice_ok(date(2026, 12, 2), today, 2)
    assert rules.notice_ok(date(2026, 12, 1), today, 0)


def test_length_limits():
    assert rules.length_error(Decimal("0"), Decimal("0.5"), None) == "none"
    assert rules.length_error(Decimal("0.5"), Decimal("1"), None) == "min"
    assert rules.length_error(Decimal("4"), Decimal("1"), Decimal("3")) == "max"
    assert rules.length_error(Decimal("3"), Decimal("1"), Decimal("3")) is None


def test_overlaps_half_open():
    a = datetime(2026, 12, 1, tzinfo=UTC)
    b = datetime(2026, 12, 2, tzinfo=UTC)
    c = datetime(2026, 12, 3, tzinfo=UTC)
    assert not rules.overlaps(a, b, b, c)
    assert rules.overlaps(a, c, b, c)
