"""How numbers read in every report: money, percentages, counts, days and n/a."""

from __future__ import annotations

import math

import pandas as pd

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "BRL": "R$", "JPY": "¥", "INR": "₹",
                    "AUD": "A$", "CAD": "C$", "CHF": "CHF ", "SEK": "SEK ", "NOK": "NOK ", "DKK": "DKK "}
NA = "n/a"
NO_DATA = "no data"  # a period outside its source's coverage (kpi_kit.metrics.coverage)


def is_missing(value) -> bool:
    try:
        return value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value)
    except (TypeError, ValueError):
        return False


def currency_symbol(currency: str) -> str:
    return CURRENCY_SYMBOLS.get(currency.upper(), f"{currency.upper()} ")


def fmt_money(value, currency: str = "USD", *, compact: bool = False, decimals: int = 0) -> str:
    """``1234.6`` -> ``'$1,235'``; compact: ``'$1.2k'``, ``'$3.4M'``; NaN -> ``'n/a'``.

    Examples
    --------
    >>> fmt_money(1234.6), fmt_money(2_500_000, compact=True), fmt_money(float("nan"))
    ('$1,235', '$2.5M', 'n/a')
    """
    if is_missing(value):
        return NA
    sym = currency_symbol(currency)
    sign = "−" if value < 0 else ""
    v = abs(float(value))
    if compact:
        for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if v >= div:
                return f"{sign}{sym}{v / div:.1f}{suffix}"
    return f"{sign}{sym}{v:,.{decimals}f}"


PCT_SIGNIFICANT = 2  # a percentage below 1 % keeps at least this many significant digits
PCT_MAX_DECIMALS = 6


def pct_decimals(value, decimals: int = 1) -> int:
    """Decimals to print ``value`` (a fraction) as a percentage: ``decimals``, or more for a value
    below 1 % so that it keeps two significant digits (0.000176 is 0.018 %, not 0.02 %): rates of a
    few hundredths of a percent (ad CTRs, say) stay apart in a table column.

    Examples
    --------
    >>> pct_decimals(0.1234), pct_decimals(0.000176), pct_decimals(0.004, 0), pct_decimals(0.0)
    (1, 3, 2, 1)
    """
    pct = abs(float(value)) * 100
    if pct == 0 or pct >= 1 or not math.isfinite(pct):
        return decimals
    needed = min(PCT_SIGNIFICANT - 1 - math.floor(math.log10(pct)), PCT_MAX_DECIMALS)
    if round(pct, needed) >= 1:  # 0.996 % rounds up to 1: read as a value of 1 % or more
        return decimals
    return max(decimals, needed)


def fmt_pct(value, decimals: int = 1, *, signed: bool = False) -> str:
    """``0.1234`` -> ``'12.3%'`` (signed: ``'+12.3%'``); NaN -> ``'n/a'``. ``decimals`` is a
    minimum: below 1 % a value keeps two significant digits (:func:`pct_decimals`).

    Examples
    --------
    >>> fmt_pct(0.1234), fmt_pct(0.000176, 2), fmt_pct(0.000244), fmt_pct(0.005), fmt_pct(0.0)
    ('12.3%', '0.018%', '0.024%', '0.50%', '0.0%')
    """
    if is_missing(value):
        return NA
    text = f"{abs(value) * 100:.{pct_decimals(value, decimals)}f}%"
    if signed:
        return ("+" if value > 0 else "−" if value < 0 else "±") + text
    return ("−" if value < 0 else "") + text


def fmt_pp(value, decimals: int = 1) -> str:
    """A change in percentage points: ``-3.2`` -> ``'−3.2 pp'``."""
    if is_missing(value):
        return NA
    return ("+" if value > 0 else "−" if value < 0 else "±") + f"{abs(value):.{decimals}f} pp"


def fmt_count(value) -> str:
    """``12345`` -> ``'12,345'``; NaN -> ``'n/a'``."""
    return NA if is_missing(value) else f"{value:,.0f}"


def fmt_number(value, decimals: int = 1) -> str:
    return NA if is_missing(value) else f"{value:,.{decimals}f}"


def fmt_days(value) -> str:
    return NA if is_missing(value) else f"{value:,.0f} days"


def fmt_value(value, unit: str, currency: str = "USD") -> str:
    """Format by unit: ``money``, ``percent``, ``count``, ``days``, ``months``, ``ratio``, ``number``."""
    if unit == "money":
        return fmt_money(value, currency)
    if unit == "percent":
        return fmt_pct(value)
    if unit == "count":
        return fmt_count(value)
    if unit == "days":
        return fmt_days(value)
    if unit == "months":
        return NA if is_missing(value) else f"{value:,.1f} months"
    if unit == "ratio":
        return NA if is_missing(value) else f"{value:,.1f}×"
    return fmt_number(value)


def with_period(label: str, period: str) -> str:
    """A metric's display name with its period: "Bookings (window)"; a name that already carries its
    basis in parentheses takes the period inside them: "Marketing ROI (deal's channel, window)".

    Examples
    --------
    >>> with_period("Marketing ROI (deal's channel)", "window")
    "Marketing ROI (deal's channel, window)"
    """
    return f"{label[:-1]}, {period})" if label.endswith(")") else f"{label} ({period})"
