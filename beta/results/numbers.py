"""The one number formatter of the results dashboard, its charts, its exports' pages and the results report.

Every quantity is rounded once, here, half away from zero on its decimal value (24.45 h → 24.5 h, -2.5 → -3 at no
decimals), and printed with a fixed number of places per kind, so the same quantity reads the same on the cover, in
the summary, in a chart and in its table. A value that rounds to zero is "0", never "-0". Negative numbers use the
minus sign (U+2212); a missing value is an en dash.

Kinds: hours (one decimal, "24.5 h"), percentages (whole, "67%"), ratings (one decimal, "4.3"), counts (whole, with
thousands separators), NPS (whole, signed: "+12", "0", "-5") and run times (seconds, minutes or hours).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DASH = "\u2013"
MINUS = "\u2212"

HOURS_PLACES = 1
RATING_PLACES = 1
PERCENT_PLACES = 0


def _decimal(value) -> Decimal:
    """The value as its shortest decimal (repr of a float), so 24.45 is 24.45 and not 24.449999..."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(float(value)))


def rounded(value, places: int = 0) -> Decimal:
    """Round half away from zero (ROUND_HALF_UP in `decimal` rounds magnitudes); a zero result is never negative."""
    result = _decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return abs(result) if result == 0 else result


def number(value, places: int = 0, *, sign: bool = False) -> str:
    """A rounded number with thousands separators; `sign` adds "+" to positive values (NPS, changes)."""
    if value is None:
        return DASH
    result = rounded(value, places)
    text = f"{abs(result):,.{places}f}"
    if result < 0:
        return MINUS + text
    return "+" + text if sign and result > 0 else text


def count(value) -> str:
    return number(value, 0)


def hours(value, *, unit: bool = True) -> str:
    """Hours with one decimal: "24.5 h" (or "24.5" in a table column already headed in hours)."""
    text = number(value, HOURS_PLACES)
    return f"{text} h" if unit and value is not None else text


def percent(fraction) -> str:
    """A share (0..1) as a whole percentage: "67%"."""
    if fraction is None:
        return DASH
    return number(_decimal(fraction) * 100, PERCENT_PLACES) + "%"


def percent_value(value) -> str:
    """A value already on the 0..100 scale (an axis tick) as a percentage."""
    return DASH if value is None else number(value, PERCENT_PLACES) + "%"


def rating(value) -> str:
    """A mean rating with one decimal: "4.3" (printed as "4.3/5" where the scale is not said)."""
    return number(value, RATING_PLACES)


def nps(value) -> str:
    """An NPS on the -100..100 scale, whole and signed."""
    return number(value, 0, sign=True)


def seconds(value) -> str:
    """A run time: seconds below 90 s (one decimal below 10 s), minutes below 90 min, else hours."""
    if value is None:
        return DASH
    if abs(value) < 90:
        return f"{number(value, 1 if abs(value) < 10 else 0)} s"
    if abs(value) < 5400:
        return f"{number(_decimal(value) / 60, 1)} min"
    return f"{number(_decimal(value) / 3600, 1)} h"


def axis(value) -> str:
    """An axis tick: whole numbers without decimals, others with one."""
    if value is None:
        return DASH
    places = 0 if rounded(value, 1) == rounded(value, 0) else 1
    return number(value, places)
