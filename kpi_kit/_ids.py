"""Id lookups that stay fast on millions of rows.

pandas' ``isin`` on Arrow-backed strings walks the values in Python; Arrow's own ``is_in`` hashes
them in C (a million ids in milliseconds instead of seconds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def isin_ids(values: pd.Series, ids) -> np.ndarray:
    """Boolean array: is each of ``values`` one of ``ids``? Missing values are never in.

    Examples
    --------
    >>> isin_ids(pd.Series(["a", "b", None]), pd.Series(["b", "c"])).tolist()
    [False, True, False]
    """
    import pyarrow as pa  # a dependency of the kit (Parquet)
    import pyarrow.compute as pc

    try:
        left = pa.array(values, from_pandas=True)
        right = pa.array(pd.Series(ids).dropna(), from_pandas=True)
        if left.type != right.type:
            right = right.cast(left.type)
        return pc.is_in(left, value_set=right).fill_null(False).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):  # mixed types: pandas' way
        return values.isin(set(pd.Series(ids).dropna())).to_numpy()


def index_of_ids(values: pd.Series, ids) -> np.ndarray:
    """Position of each of ``values`` in ``ids`` (unique), −1 where it is not there (Arrow's ``index_in``).

    Examples
    --------
    >>> index_of_ids(pd.Series(["b", "x", None, "a"]), pd.Series(["a", "b"])).tolist()
    [1, -1, -1, 0]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        left = pa.array(values, from_pandas=True)
        right = pa.array(pd.Series(ids), from_pandas=True)
        if left.type != right.type:
            right = right.cast(left.type)
        return pc.index_in(left, value_set=right).fill_null(-1).to_numpy(zero_copy_only=False).astype("int64")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):  # mixed types: pandas' way
        return pd.Index(pd.Series(ids)).get_indexer(values)


_PER_FRAME: dict[tuple, object] = {}


def per_frame(frame: pd.DataFrame, key: tuple, build):
    """``build()`` computed once per (loaded, never modified) ``frame`` and ``key``; the cached value
    lives as long as the frame does. Reports ask the same questions of the same frames many times."""
    import weakref

    full = (id(frame), len(frame), *key)
    if full not in _PER_FRAME:
        _PER_FRAME[full] = build()
        weakref.finalize(frame, _PER_FRAME.pop, full, None)
    return _PER_FRAME[full]


def column_by_id(frame: pd.DataFrame, id_col: str, value_col: str) -> pd.Series:
    """``frame[value_col]`` indexed by ``frame[id_col]``, built once per frame (see :func:`per_frame`), so
    repeated ``map`` lookups do not rebuild and re-check a million-row index each time.

    Examples
    --------
    >>> contacts = pd.DataFrame({"contact_id": ["C1", "C2"], "channel": ["Email", "Direct"]})
    >>> pd.Series(["C2", "C9"]).map(column_by_id(contacts, "contact_id", "channel")).tolist()
    ['Direct', nan]
    """
    return per_frame(frame, ("by_id", id_col, value_col), lambda: frame.set_index(id_col)[value_col])


def lookup(ids: pd.Series, frame: pd.DataFrame, id_col: str, value_col: str) -> pd.Series:
    """``frame[value_col]`` of each id in ``ids`` (missing where ``frame`` has no such id), in the value
    column's dtype. Unlike ``ids.map(column_by_id(...))`` it also works when ``frame`` has no rows (a
    header-only file), where pandas would try to cast an empty date column to float.

    Examples
    --------
    >>> contacts = pd.DataFrame({"contact_id": ["C1", "C2"], "channel": ["Email", "Direct"]})
    >>> lookup(pd.Series(["C2", "C9"]), contacts, "contact_id", "channel").tolist()
    ['Direct', nan]
    """
    if not len(frame):
        return pd.Series(pd.NA if frame[value_col].dtype == object else None, index=ids.index,
                         dtype=frame[value_col].dtype)
    return ids.map(column_by_id(frame, id_col, value_col))
