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


def wilson_interval(successes, n, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion ``successes / n``; (NaN, NaN) when ``n`` is 0
    or unknown.

    Examples
    --------
    >>> [round(v, 4) for v in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    if n is None or not np.isfinite(n) or n <= 0 or successes is None or not np.isfinite(successes):
        return float("nan"), float("nan")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return float(centre - half), float(centre + half)
