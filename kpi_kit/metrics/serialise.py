"""Metric values as JSON: Periods as ``YYYY-MM``, dates as ``YYYY-MM-DD``, NaN and infinity as null."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .._dates import month_label


def jsonable(value):
    """``value`` (nested dicts and lists of numpy / pandas scalars) as plain JSON values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.Period):
        return month_label(value) if value.freqstr.startswith("M") else str(value)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NaT or value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def records(df: pd.DataFrame, columns: dict | None = None) -> list[dict]:
    """Rows as JSON-ready dicts (Periods as 'YYYY-MM', NaN as None), optionally renamed."""
    if columns:
        df = df[list(columns)].rename(columns=columns)
    return jsonable(df.to_dict(orient="records"))


def null_outside(df: pd.DataFrame, month_col: str, spans: dict) -> pd.DataFrame:
    """``df`` with each column of ``spans`` set to no data (None, ``null`` in metrics.json) in the
    rows whose ``month_col`` lies outside that column's span (:class:`~kpi_kit.metrics.coverage.Span`;
    None: the data cannot say, values kept). metrics.json's tables then say "no data" where
    ``kpis.csv`` and the pages do (SPEC "Coverage": a month outside a file's coverage is never 0).

    Examples
    --------
    >>> from kpi_kit.metrics.coverage import Span
    >>> df = pd.DataFrame({"cohort": pd.period_range("2018-05", periods=2, freq="M"), "created": [1303, 0]})
    >>> records(null_outside(df, "cohort", {"created": Span(pd.Period("2017-06", "M"), pd.Period("2018-05", "M"))}))
    [{'cohort': '2018-05', 'created': 1303}, {'cohort': '2018-06', 'created': None}]
    """
    out = df.copy()
    months = out[month_col]
    for col, span in spans.items():
        if span is None or col not in out:
            continue
        inside = np.asarray([span.first <= m <= span.last for m in months], dtype=bool)
        if not inside.all():
            out[col] = out[col].astype(object).where(inside, None)
    return out
