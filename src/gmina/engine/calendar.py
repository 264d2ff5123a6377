"""The Polish calendar the engine needs: public holidays (a shop is shut, a household at home, like a Sunday).

Django-free; the simulator's calendar uses the same functions.
"""

from __future__ import annotations

from datetime import date, timedelta

__all__ = ["easter_sunday", "polish_holidays"]


def easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous Gregorian algorithm, Meeus/Jones/Butcher).

    >>> easter_sunday(2025), easter_sunday(2026)
    (datetime.date(2025, 4, 20), datetime.date(2026, 4, 5))
    """
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month = (h + leap - 7 * m + 114) // 31
    day = (h + leap - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def polish_holidays(year: int) -> frozenset[date]:
    """Statutory non-working days in Poland (ustawa o dniach wolnych od pracy; 24 December from 2025).

    >>> date(2025, 6, 19) in polish_holidays(2025), date(2024, 12, 24) in polish_holidays(2024)
    (True, False)
    """
    easter = easter_sunday(year)
    fixed = [(1, 1), (1, 6), (5, 1), (5, 3), (8, 15), (11, 1), (11, 11), (12, 25), (12, 26)]
    if year >= 2025:
        fixed.append((12, 24))
    moving = [easter, easter + timedelta(days=1), easter + timedelta(days=49), easter + timedelta(days=60)]
    return frozenset([date(year, m, d) for m, d in fixed] + moving)
