"""The holiday notice parser (kdcs/workcalendar/notice.py): plain function, no database."""

from datetime import date

import pytest

from kdcs.workcalendar.notice import parse_notice
from tests.holiday_notices import NOTICES


def _package(year: int) -> tuple[set[date], set[date]]:
    from chinese_calendar import constants

    return ({d for d in constants.holidays if d.year == year}, {d for d in constants.workdays if d.year == year})


@pytest.mark.parametrize("year", sorted(NOTICES))
def test_each_year_matches_chinesecalendar_exactly(year):
    notice = parse_notice(NOTICES[year])
    holidays, workdays = _package(year)
    assert notice.year == year
    assert notice.all_problems == []
    assert notice.holidays == holidays
    assert notice.makeup_workdays == workdays
    assert len(notice.items) == (6 if year == 2025 else 7)


def test_names_and_days_map():
    notice = parse_notice(NOTICES[2025])
    days = notice.days()
    assert days[date(2025, 1, 1)] == (False, "元旦")
    assert days[date(2025, 10, 6)] == (False, "国庆节、中秋节")
    assert days[date(2025, 9, 28)] == (True, "调休上班（国庆节、中秋节）")
    assert date(2025, 4, 5) in days and not days[date(2025, 4, 5)][0]  # a weekend day inside a holiday


def test_the_advisory_sentence_is_not_a_holiday():
    notice = parse_notice(NOTICES[2024])
    assert date(2024, 2, 9) not in notice.holidays  # 除夕 休息 is a recommendation
    assert date(2023, 10, 25) not in notice.days()  # the signature date


def test_year_given_beats_text_and_is_needed_without_it():
    body = "一、元旦：1月1日放假，1月2日（星期一）补休。"
    notice = parse_notice(body)
    assert notice.year is None and notice.problems
    notice = parse_notice(body, year=2017)
    assert notice.holidays == {date(2017, 1, 1), date(2017, 1, 2)}
    assert notice.all_problems == []


def test_explicit_years_across_new_year_and_full_width_digits():
    notice = parse_notice("关于２０２３年部分节假日安排的通知\n一、元旦：2022年12月31日至2023年1月2日放假调休，共3天。")
    assert notice.holidays == {date(2022, 12, 31), date(2023, 1, 1), date(2023, 1, 2)}
    assert notice.all_problems == []


def test_problems_are_reported_not_guessed():
    text = ("关于2026年部分节假日安排的通知\n"
            "一、元旦：1月1日（周五）至3日放假，共4天。1月5日（周一）上班。\n"
            "二、春节：放假安排另行通知。\n")
    notice = parse_notice(text)
    problems = "\n".join(notice.all_problems)
    assert "2026-01-01 是周四" in problems  # weekday in brackets checked
    assert "共4天，读到3天" in problems
    assert "2026-01-05 是工作日" in problems
    assert "春节：没有读到日期" in problems


@pytest.mark.parametrize("text", ["", "随便写点什么", "一、元旦：13月40日放假。", "关于2026年\n一、元旦：至至至日日日上班",
                                  "关于2026年\n一、元旦：3日至1日放假", "关于9999年\n一、国庆节：10月1日至12月31日放假"])
def test_malformed_text_never_raises(text):
    notice = parse_notice(text)
    assert notice.days() is not None
    assert notice.all_problems
