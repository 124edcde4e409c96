"""Reading the State Council's annual holiday notice (国务院办公厅关于 YYYY 年部分节假日安排的通知).

Pure: text in, days out, no database and no Flask. The notice lists each
holiday as one item, e.g.::

    二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。
    2月14日（周六）、2月28日（周六）上班。

``parse_notice`` finds the items (a holiday name, or several joined by 、/和,
then a colon), and in each sentence of an item:

* dates before 上班 are make-up workdays (调休上班);
* dates in a sentence with 放假 or 补休 are days off; "A至B" is every day from A
  to B; a day without a month takes the month of the date before it, a date
  without a year takes the notice's year ("2022年12月31日至2023年1月2日" works);
* "共N天" / "放假N天" is checked against the days found, and a weekday in
  brackets (周日, 星期日) against the calendar: a mismatch is a problem to show,
  not a silent guess;
* sentences without 放假/补休/上班 (与周末连休, 不调休, 鼓励…休息, the closing
  paragraph) add no day.

Whatever cannot be read comes back in ``problems`` (Chinese, for the admin),
and the admin adds those days by date range before saving.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

HOLIDAY_NAMES = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
MAKEUP_NAME = "调休上班"
MAX_RUN_DAYS = 15  # no holiday in a notice is longer; a longer range is a typo

_FULLWIDTH = str.maketrans({
    "：": ":", "（": "(", "）": ")", "，": ",", "。": "。", "；": ";", "　": " ",
    **{chr(0xFF10 + i): str(i) for i in range(10)},
})
_NAME = r"(?:元旦|春节|清明节|劳动节|端午节|中秋节|国庆节)"
_ITEM = re.compile(rf"(?:[一二三四五六七八九十]+\s*[、.．]\s*)?({_NAME}(?:\s*[、和与及]\s*{_NAME})*)\s*:")
_DATE = re.compile(r"(?:(\d{4})\s*年\s*)?(?:(\d{1,2})\s*月\s*)?(\d{1,2})\s*日(?:\s*\(([^)]*)\))?")
_WEEKDAY = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天])")
_WEEKDAYS = "一二三四五六日"
_TOTAL = re.compile(r"(?:共|放假)\s*(\d{1,2})\s*天")
_YEAR = re.compile(r"(?:关于|现将)\s*(\d{4})\s*年")


@dataclass
class NoticeItem:
    """One holiday of the notice: its name, days off and make-up workdays as read."""
    name: str
    text: str
    days_off: list[date] = field(default_factory=list)
    workdays: list[date] = field(default_factory=list)
    stated_total: int | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class ParsedNotice:
    """The result of ``parse_notice``: the year, the items, and what could not be read."""
    year: int | None
    items: list[NoticeItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def days(self) -> dict[date, tuple[bool, str]]:
        """{day: (is a working day, name)}: holidays off (named after their item), make-up days on."""
        found: dict[date, tuple[bool, str]] = {}
        for item in self.items:
            for day in item.days_off:
                found[day] = (False, item.name)
            for day in item.workdays:
                found[day] = (True, f"{MAKEUP_NAME}（{item.name}）"[:32])
        return dict(sorted(found.items()))

    @property
    def holidays(self) -> set[date]:
        """Every day off the notice gives."""
        return {d for item in self.items for d in item.days_off}

    @property
    def makeup_workdays(self) -> set[date]:
        """Every weekend day the notice makes a working day."""
        return {d for item in self.items for d in item.workdays}

    @property
    def all_problems(self) -> list[str]:
        """The notice's problems, then each item's (prefixed with its name)."""
        return self.problems + [f"{item.name}：{p}" for item in self.items for p in item.problems]


def normalize(text: str) -> str:
    """Full-width punctuation and digits as ASCII (the Chinese full stop stays a sentence end)."""
    return (text or "").translate(_FULLWIDTH).replace("\r\n", "\n").replace("\r", "\n")


def notice_year(text: str) -> int | None:
    """The year the notice is about (关于2026年… / 现将2026年…), or None."""
    match = _YEAR.search(normalize(text))
    return int(match.group(1)) if match else None


def _sentences(body: str) -> list[str]:
    return [s.strip() for s in re.split(r"[。;\n]|\.(?!\d)", body) if s.strip()]


def _read_dates(sentence: str, year: int, problems: list[str]) -> list[tuple[date, bool]]:
    """The dates of a sentence in order, each with "a range ends here" (the word 至 before it)."""
    found: list[tuple[date, bool]] = []
    month = None
    last_end = 0
    for match in _DATE.finditer(sentence):
        y_text, m_text, d_text, bracket = match.groups()
        if y_text:
            year = int(y_text)
        if m_text:
            month = int(m_text)
        if month is None:
            problems.append(f"“{match.group(0)}”没有月份")
            continue
        try:
            day = date(year, month, int(d_text))
        except ValueError:
            problems.append(f"“{match.group(0)}”不是有效日期")
            continue
        if bracket:
            weekday = _WEEKDAY.search(bracket)
            if weekday and _WEEKDAYS.index(weekday.group(1).replace("天", "日")) != day.weekday():
                problems.append(f"{day:%Y-%m-%d} 是周{_WEEKDAYS[day.weekday()]}，通知写的是“周{weekday.group(1)}”")
        between = sentence[last_end:match.start()]
        found.append((day, "至" in between or "到" in between or "-" in between.strip() or "—" in between))
        last_end = match.end()
    return found


def _expand(dates: list[tuple[date, bool]], problems: list[str]) -> list[date]:
    """Dates with ranges filled in: (A, False), (B, True) → A … B."""
    days: list[date] = []
    for day, closes_range in dates:
        if closes_range and days:
            start = days[-1]
            if start >= day or (day - start).days > MAX_RUN_DAYS:
                problems.append(f"{start:%Y-%m-%d}至{day:%Y-%m-%d}不是有效的日期范围")
                continue
            days.extend(start + timedelta(days=n) for n in range(1, (day - start).days + 1))
        else:
            days.append(day)
    return days


def _read_item(item: NoticeItem, year: int) -> None:
    for sentence in _sentences(item.text):
        dates = _read_dates(sentence, year, item.problems)
        if not dates:
            continue
        if "上班" in sentence:
            item.workdays.extend(d for d, _r in dates)
        elif "放假" in sentence or "补休" in sentence:
            item.days_off.extend(_expand(dates, item.problems))
            total = _TOTAL.search(sentence)
            if total:
                item.stated_total = (item.stated_total or 0) + int(total.group(1))
        else:
            continue
    item.days_off = sorted(set(item.days_off))
    item.workdays = sorted(set(item.workdays))
    for day in item.workdays:
        if day.weekday() < 5:
            item.problems.append(f"{day:%Y-%m-%d} 是工作日（周{_WEEKDAYS[day.weekday()]}），不需要调休上班")
    if item.stated_total is not None and item.stated_total != len(item.days_off):
        item.problems.append(f"通知写共{item.stated_total}天，读到{len(item.days_off)}天")
    if not item.days_off and not item.workdays:
        item.problems.append("没有读到日期")


def parse_notice(text: str, year: int | None = None) -> ParsedNotice:
    """Parse the notice's text into its holidays and make-up workdays (see the module docstring).

    ``year`` is the notice's year when known; otherwise it is read from the text
    (关于2026年… / 现将2026年…). Never raises on bad input: what cannot be read is
    listed in ``problems``.
    """
    text = normalize(text)
    year = year or notice_year(text)
    notice = ParsedNotice(year=year)
    if year is None:
        notice.problems.append("没有找到年份（如“关于2027年部分节假日安排的通知”），请填写年份")
        return notice
    headers = list(_ITEM.finditer(text))
    if not headers:
        notice.problems.append("没有找到节日条目（如“一、元旦：1月1日放假”）")
        return notice
    for index, header in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        name = re.sub(r"\s*[和与及]\s*", "、", re.sub(r"\s+", "", header.group(1)))
        item = NoticeItem(name=name, text=text[header.end():end].strip())
        _read_item(item, year)
        notice.items.append(item)
    seen: dict[date, str] = {}
    for item in notice.items:
        for day in item.days_off + item.workdays:
            if day in seen and seen[day] != item.name:
                notice.problems.append(f"{day:%Y-%m-%d} 同时出现在“{seen[day]}”和“{item.name}”中")
            seen[day] = item.name
    return notice
