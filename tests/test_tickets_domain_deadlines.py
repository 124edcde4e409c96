"""The due-time calculation and rule selection (pure functions, no database needed)."""

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest

from kdcs.tickets.deadlines import compute_due, due_times, select_rule
from kdcs.workcalendar import SHANGHAI, calendar_from, weekday_calendar

SH = SHANGHAI
SERVICE = "service_hours"


def sh(*args) -> datetime:
    """An aware Asia/Shanghai datetime."""
    return datetime(*args, tzinfo=SH)


# 2026: 国庆+中秋 off 10-01..10-07 (Thu..Wed), make-up workdays Sun 09-20 and Sat 10-10.
NATIONAL_DAY_2026 = calendar_from(
    {date(2026, 10, d): False for d in range(1, 8)} | {date(2026, 9, 20): True, date(2026, 10, 10): True}
)


def service_due(start, minutes, calendar=weekday_calendar, window=(time(8), time(20))):
    return compute_due(start, minutes, SERVICE, window=window, is_workday=calendar).astimezone(SH)


# -- clock mode ---------------------------------------------------------------

def test_clock_mode_adds_wall_clock_minutes_and_returns_utc():
    due = compute_due(sh(2026, 11, 20, 23, 30), 120, "clock")
    assert due.tzinfo == UTC
    assert due == sh(2026, 11, 21, 1, 30)


def test_clock_mode_ignores_weekends_holidays_and_windows():
    start = sh(2026, 9, 30, 22, 0)  # the night before 国庆
    due = compute_due(start, 24 * 60, "clock", window=(time(8), time(20)), is_workday=NATIONAL_DAY_2026)
    assert due == sh(2026, 10, 1, 22, 0)


def test_naive_start_and_negative_minutes_are_refused():
    with pytest.raises(ValueError):
        compute_due(datetime(2026, 1, 5, 9, 0), 10, "clock")
    with pytest.raises(ValueError):
        compute_due(sh(2026, 1, 5, 9, 0), -1, "clock")
    with pytest.raises(ValueError):
        compute_due(sh(2026, 1, 5, 9, 0), 10, "fortnightly")


# -- service hours: one day ---------------------------------------------------

def test_inside_the_window_same_day():
    assert service_due(sh(2026, 11, 23, 9, 15), 120) == sh(2026, 11, 23, 11, 15)  # Monday


def test_start_before_window_counts_from_opening():
    assert service_due(sh(2026, 11, 23, 6, 40), 120) == sh(2026, 11, 23, 10, 0)


def test_start_exactly_at_opening():
    assert service_due(sh(2026, 11, 23, 8, 0), 60) == sh(2026, 11, 23, 9, 0)


def test_deadline_ending_exactly_at_closing_is_due_at_closing_not_next_morning():
    assert service_due(sh(2026, 11, 23, 18, 0), 120) == sh(2026, 11, 23, 20, 0)


def test_start_exactly_at_closing_counts_from_next_opening():
    assert service_due(sh(2026, 11, 23, 20, 0), 30) == sh(2026, 11, 24, 8, 30)


def test_start_after_window_counts_from_next_working_morning():
    assert service_due(sh(2026, 11, 23, 21, 30), 120) == sh(2026, 11, 24, 10, 0)


def test_across_midnight_carries_the_rest_to_next_morning():
    # Tuesday 19:00 + 2h: 1h today, 1h from 08:00 Wednesday.
    assert service_due(sh(2026, 11, 24, 19, 0), 120) == sh(2026, 11, 25, 9, 0)


def test_start_given_in_utc_is_read_in_shanghai_time():
    # 2026-11-23 23:30 UTC is Tuesday 07:30 in Shanghai: before the window.
    start = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    assert service_due(start, 60) == sh(2026, 11, 24, 9, 0)


def test_zero_minutes_outside_window_is_the_next_opening():
    assert service_due(sh(2026, 11, 23, 22, 0), 0) == sh(2026, 11, 24, 8, 0)
    assert service_due(sh(2026, 11, 23, 10, 0), 0) == sh(2026, 11, 23, 10, 0)


# -- service hours: weekends, holidays, make-up workdays ----------------------

def test_friday_evening_rolls_over_the_weekend_to_monday():
    # Friday 2026-11-27 19:00 + 2h → 1h Friday, 1h Monday 11-30.
    assert service_due(sh(2026, 11, 27, 19, 0), 120) == sh(2026, 11, 30, 9, 0)


def test_start_on_saturday_counts_from_monday_opening():
    assert service_due(sh(2026, 11, 28, 10, 0), 30) == sh(2026, 11, 30, 8, 30)


def test_national_day_holiday_is_skipped():
    # Wednesday 2026-09-30 19:00 + 2h: 1h on 09-30, the 7 days of 国庆 off, 1h on Thursday 10-08.
    assert service_due(sh(2026, 9, 30, 19, 0), 120, NATIONAL_DAY_2026) == sh(2026, 10, 8, 9, 0)


def test_without_the_holiday_calendar_the_same_start_is_due_on_october_first():
    assert service_due(sh(2026, 9, 30, 19, 0), 120) == sh(2026, 10, 1, 9, 0)


def test_make_up_saturday_is_a_working_day():
    # Friday 2026-10-09 19:00 + 2h: Saturday 10-10 is 调休上班.
    assert service_due(sh(2026, 10, 9, 19, 0), 120, NATIONAL_DAY_2026) == sh(2026, 10, 10, 9, 0)
    # ...and Sunday 09-20 too (start on the Sunday itself).
    assert service_due(sh(2026, 9, 20, 10, 0), 60, NATIONAL_DAY_2026) == sh(2026, 9, 20, 11, 0)


def test_start_inside_holiday_counts_from_first_working_day_after():
    assert service_due(sh(2026, 10, 3, 15, 0), 60, NATIONAL_DAY_2026) == sh(2026, 10, 8, 9, 0)


def test_multi_day_span_of_24_service_hours():
    # 24 service hours with a 12h window = two full working days.
    # Monday 2026-11-23 14:00: 6h Mon, 12h Tue, 6h Wed → Wednesday 14:00.
    assert service_due(sh(2026, 11, 23, 14, 0), 24 * 60) == sh(2026, 11, 25, 14, 0)


def test_multi_day_span_across_weekend_and_holiday():
    # 72 service hours from Tuesday 2026-09-29 08:00 with 国庆: 09-29, 09-30 (24h),
    # then 10-08, 10-09 (24h), Sat 10-10 make-up day (12h), Mon 10-12 (12h) → 10-12 20:00.
    assert service_due(sh(2026, 9, 29, 8, 0), 72 * 60, NATIONAL_DAY_2026) == sh(2026, 10, 12, 20, 0)


def test_real_chinese_calendar_agrees_on_national_day_2026():
    import chinese_calendar

    assert service_due(sh(2026, 9, 30, 19, 0), 120, chinese_calendar.is_workday) == sh(2026, 10, 8, 9, 0)
    assert service_due(sh(2026, 10, 9, 19, 0), 120, chinese_calendar.is_workday) == sh(2026, 10, 10, 9, 0)


def test_window_ending_at_midnight_and_custom_window():
    assert service_due(sh(2026, 11, 23, 23, 0), 90, window=(time(9), time(0))) == sh(2026, 11, 24, 9, 30)
    assert service_due(sh(2026, 11, 23, 17, 0), 120, window=(time(9), time(18))) == sh(2026, 11, 24, 10, 0)


def test_bad_window_and_calendar_without_workdays_are_refused():
    with pytest.raises(ValueError):
        service_due(sh(2026, 11, 23, 9, 0), 60, window=(time(20), time(8)))
    with pytest.raises(ValueError):
        service_due(sh(2026, 11, 23, 9, 0), 60, calendar=lambda day: False)


def test_every_minute_counts_once_property():
    """Property: for many starts, the service minutes between start and due equal the request."""
    def service_minutes_between(a, b, calendar, window=(time(8), time(20))):
        total, cursor = 0, a.astimezone(SH)
        b = b.astimezone(SH)
        while cursor < b:
            if calendar(cursor.date()) and window[0] <= cursor.time() < window[1]:
                total += 1
            cursor += timedelta(minutes=1)
        return total

    start = sh(2026, 9, 28, 5, 17)
    for step in range(0, 14 * 24 * 60, 677):  # two weeks of odd offsets
        begin = start + timedelta(minutes=step)
        for minutes in (1, 119, 600):
            due = service_due(begin, minutes, NATIONAL_DAY_2026)
            assert service_minutes_between(begin, due, NATIONAL_DAY_2026) == minutes, (begin, minutes)


# -- rules ---------------------------------------------------------------------

def rule(id, brand_id=None, category="work_order", reason_id=None, active=True, **kw):
    return SimpleNamespace(id=id, brand_id=brand_id, category=category, reason_id=reason_id,
                           is_active=active, **kw)


RULES = [
    rule(1),                              # any brand + category
    rule(2, reason_id=7),                 # any brand + category + reason
    rule(3, brand_id=5),                  # brand + category
    rule(4, brand_id=5, reason_id=7),     # brand + category + reason
    rule(5, category="message"),
    rule(6, brand_id=9, reason_id=7, active=False),
]


@pytest.mark.parametrize(("brand_id", "reason_id", "expected"), [
    (5, 7, 4),      # brand+category+reason beats everything
    (5, 8, 3),      # brand+category beats any-brand rules
    (6, 7, 2),      # any-brand+reason beats any-brand+category
    (6, 8, 1),      # fallback
    (9, 7, 2),      # an inactive rule never matches
    (None, None, 1),
])
def test_most_specific_rule_wins(brand_id, reason_id, expected):
    assert select_rule(RULES, brand_id=brand_id, category="work_order", reason_id=reason_id).id == expected


def test_no_rule_for_category_gives_none_and_ties_go_to_lowest_id():
    assert select_rule(RULES, brand_id=5, category="arbitration", reason_id=None) is None
    twins = [rule(12, brand_id=5), rule(11, brand_id=5)]
    assert select_rule(twins, brand_id=5, category="work_order", reason_id=None).id == 11


def test_due_times_of_a_service_hours_rule():
    r = rule(1, reply_minutes=120, resolve_minutes=24 * 60, mode=SERVICE,
             service_start=time(8), service_end=time(20))
    reply, resolve = due_times(r, sh(2026, 11, 27, 19, 0))  # Friday evening
    assert reply.astimezone(SH) == sh(2026, 11, 30, 9, 0)
    assert resolve.astimezone(SH) == sh(2026, 12, 1, 19, 0)
    clock = rule(2, reply_minutes=120, resolve_minutes=1440, mode="clock", service_start=None, service_end=None)
    assert due_times(clock, sh(2026, 11, 27, 19, 0)) == (sh(2026, 11, 27, 21, 0), sh(2026, 11, 28, 19, 0))
