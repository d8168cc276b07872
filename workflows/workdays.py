"""Working days: weekends and the public holidays of the plan's Bundesland are off."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=32)
def _holidays(bundesland: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("DE", subdiv=bundesland, years=year))


def is_working_day(day: date, bundesland: str) -> bool:
    return day.weekday() < 5 and day not in _holidays(bundesland, day.year)


def first_working_day_from(day: date, bundesland: str) -> date:
    """`day` itself if it is a working day, else the next one."""
    while not is_working_day(day, bundesland):
        day += timedelta(days=1)
    return day


def first_working_day_after(day: date, bundesland: str) -> date:
    return first_working_day_from(day + timedelta(days=1), bundesland)


def valid_bundesland(code: str) -> bool:
    return code in holidays.country_holidays("DE").subdivisions
