"""How numbers read in every report: money, percentages, counts, days and n/a."""

from __future__ import annotations

import math

import pandas as pd

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "BRL": "R$", "JPY": "¥", "INR": "₹",
                    "AUD": "A$", "CAD": "C$", "CHF": "CHF ", "SEK": "SEK ", "NOK": "NOK ", "DKK": "DKK "}
NA = "n/a"


def is_missing(value) -> bool:
    try:
        return value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value)
    except (TypeError, ValueError):
        return False


def currency_symbol(currency: str) -> str:
    return CURRENCY_SYMBOLS.get(currency.upper(), f"{currency.upper()} ")


def fmt_money(value, currency: str = "USD", *, compact: bool = False, decimals: int = 0) -> str:
    """``1234.5`` -> ``'$1,235'``; compact: ``'$1.2k'``, ``'$3.4M'``; NaN -> ``'n/a'``.

    Examples
    --------
    >>> fmt_money(1234.5), fmt_money(2_500_000, compact=True), fmt_money(float("nan"))
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


def fmt_pct(value, decimals: int = 1, *, signed: bool = False) -> str:
    """``0.1234`` -> ``'12.3%'`` (signed: ``'+12.3%'``); NaN -> ``'n/a'``."""
    if is_missing(value):
        return NA
    text = f"{abs(value) * 100:.{decimals}f}%"
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
