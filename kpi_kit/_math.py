"""Ratios that are undefined (NaN, shown as "n/a") when the denominator is zero."""

from __future__ import annotations

import numpy as np
import pandas as pd


def safe_div(numerator, denominator):
    """Divide, returning NaN wherever the denominator is zero or missing.

    Works on scalars, numpy arrays and pandas objects alike; never returns
    infinity and never raises ``ZeroDivisionError``.

    Examples
    --------
    >>> safe_div(1, 4), safe_div(1, 0)
    (0.25, nan)
    """
    if isinstance(numerator, (pd.Series, pd.DataFrame)) or isinstance(
        denominator, (pd.Series, pd.DataFrame)
    ):
        den = denominator.where(denominator != 0) if hasattr(denominator, "where") else (
            np.nan if denominator == 0 else denominator
        )
        return (numerator / den).astype("float64")
    num = np.asarray(numerator, dtype="float64")
    den = np.asarray(denominator, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where((den == 0) | np.isnan(den), np.nan, num / np.where(den == 0, 1, den))
    return float(out) if out.ndim == 0 else out


def mean_defined(values) -> float:
    """Mean over the defined (non-NaN) values; NaN when none is defined."""
    s = pd.Series(values, dtype="float64").dropna()
    return float(s.mean()) if len(s) else float("nan")
