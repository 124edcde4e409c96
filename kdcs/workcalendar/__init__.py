"""The work calendar: working days (holidays, 调休 make-up workdays) and working-time counting.

Shared by features that count working time (ticket deadlines; leave and KPIs).
``counting`` is pure (calendars as callables, minutes inside a daily window);
``service`` is the table behind it (``DbCalendar``, seeding from
``chinesecalendar``, admin edits).
"""

from .counting import (  # noqa: F401
    SHANGHAI,
    WorkdayCalendar,
    add_working_minutes,
    calendar_from,
    weekday_calendar,
    window_bounds,
)
from .service import (  # noqa: F401
    DbCalendar,
    calendar_days,
    is_workday,
    next_workdays,
    package_days,
    package_years,
    seed_calendar,
    set_calendar_day,
)
