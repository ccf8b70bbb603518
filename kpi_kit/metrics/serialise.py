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
