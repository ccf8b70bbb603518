"""Multi-touch attribution (SPEC "Definitions" → Attribution; SPEC "Time").

Every conversion's credit is spread over the touches that led to it, under one of
:data:`MODELS`; the credit of each conversion sums to 1. Everything is vectorised
(numpy over one stable sort of the eligible touches): no Python loop runs over
conversions or touches, so millions of touches take seconds.

Conventions shared by every function here
-----------------------------------------
* **Days.** Every date (touch, conversion, lead, opportunity, ``as_of``) is truncated to
  the day, as the data contract says. Touches on the same day keep their input order
  (the sort by day is stable), so "last touch" among same-day touches is the one that
  comes last in ``touches``.
* **Conversions.** One row per converting contact (``contact_id`` unique). A row with no
  ``converted_at`` is not a conversion and is left out. With ``as_of``, a conversion
  dated after ``as_of`` has not happened yet and is left out too (SPEC "Time").
* **Eligible touches.** Same contact, ``touched_at`` on or before ``converted_at`` and on
  or before ``as_of`` (when given). Touches with no date, of contacts that did not
  convert, after the conversion or after ``as_of`` are ignored.
* **Fallback.** A conversion with no eligible touch gets one synthetic touch dated on
  its ``converted_at``, on the contact's own channel (``fallback_channel_col`` of
  ``conversions``), which takes all its credit (flagged ``fallback=True``).
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd

from .._dates import to_day
from .._math import safe_div

MODELS = ("first_touch", "last_touch", "linear", "position_based", "time_decay", "w_shaped")

_DAY_NS = 86_400 * 10**9
_MISSING = np.iinfo("int64").min  # day number standing for "no date"


# --------------------------------------------------------------------------- helpers
def _day_numbers(values) -> np.ndarray:
    """Days since 1970-01-01 (int64, floored), ``_MISSING`` where there is no date."""
    s = pd.to_datetime(pd.Series(values) if not isinstance(values, pd.Series) else values)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)  # the local calendar day is the day
    ns = s.to_numpy(dtype="datetime64[ns]").view("int64")
    missing = ns == np.iinfo("int64").min
    days = np.floor_divide(ns, _DAY_NS)
    days[missing] = _MISSING
    return days


def _as_datetime(days: np.ndarray) -> np.ndarray:
    out = days * _DAY_NS
    out[days == _MISSING] = np.iinfo("int64").min
    return out.view("datetime64[ns]")


def _require(frame: pd.DataFrame, name: str, cols) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise KeyError(f"{name} has no column {', '.join(repr(c) for c in missing)} "
                       f"(columns: {list(frame.columns)}); pass the right *_col argument")


class _Paths:
    """The eligible touches of every conversion, sorted by (conversion, day, input order).

    Row arrays (one entry per touch, fallbacks included): ``pos`` (conversion number),
    ``day``, ``fallback``; per conversion arrays: ``contact``, ``conv_day``, ``lead_day``,
    ``opp_day``, ``value``; ``channel`` is a Series aligned with the rows.
    """

    def __init__(self, touches, conversions, *, as_of, contact_col, time_col, channel_col,
                 converted_col, value_col, fallback_channel_col, lead_col, opportunity_col):
        _require(touches, "touches", [contact_col, time_col, channel_col])
        _require(conversions, "conversions", [contact_col, converted_col]
                 + ([value_col] if value_col is not None else []))
        as_of_day = None if as_of is None else int(_day_numbers([to_day(as_of)])[0])

        # conversions that happened (on or before as_of)
        conv_day = _day_numbers(conversions[converted_col])
        keep = conv_day != _MISSING
        if as_of_day is not None:
            keep &= conv_day <= as_of_day
        conv = conversions.loc[keep]
        conv_day = conv_day[keep]
        ids = pd.Index(conv[contact_col])
        if not ids.is_unique:
            dup = ids[ids.duplicated()].unique()[:5].tolist()
            raise ValueError(f"conversions must have one row per contact; duplicated "
                             f"{contact_col}: {dup}")
        n_conv = len(conv)

        def key_day(col):
            if col is None or col not in conv.columns:
                return np.full(n_conv, _MISSING, dtype="int64")
            d = _day_numbers(conv[col])
            if as_of_day is not None:
                d[d > as_of_day] = _MISSING  # not yet happened
            return d

        # eligible touches, by position in `touches` (increasing: input order)
        t_pos = ids.get_indexer(touches[contact_col]) if n_conv else np.full(len(touches), -1)
        t_day = _day_numbers(touches[time_col])
        ok = (t_pos >= 0) & (t_day != _MISSING)
        ok[ok] = t_day[ok] <= conv_day[t_pos[ok]]
        if as_of_day is not None:
            ok &= t_day <= as_of_day
        rows = np.flatnonzero(ok)
        pos, day = t_pos[rows], t_day[rows]
        channel = touches[channel_col].reset_index(drop=True)
        source = rows  # row of `channel` each touch takes its channel from

        # fallback: one touch on the contact's own channel, dated on the conversion
        lonely = np.flatnonzero(np.bincount(pos, minlength=n_conv) == 0)
        fallback = np.zeros(len(rows) + len(lonely), dtype=bool)
        if len(lonely):
            if fallback_channel_col not in conv.columns:
                raise KeyError(f"{len(lonely)} conversions have no eligible touch and conversions has "
                               f"no column {fallback_channel_col!r} to fall back on; pass "
                               f"fallback_channel_col")
            pos = np.concatenate([pos, lonely])
            day = np.concatenate([day, conv_day[lonely]])
            own = conv[fallback_channel_col].iloc[lonely]
            source = np.concatenate([rows, len(channel) + np.arange(len(lonely))])
            channel = pd.concat([channel, own], ignore_index=True) if len(channel) else own
            fallback[len(rows):] = True

        # one stable sort by (conversion, day); ties keep input order
        if len(day):
            lo, span = int(day.min()), int(day.max() - day.min()) + 1
            if n_conv * span < 2**62:
                order = np.argsort(pos.astype("int64") * span + (day - lo), kind="stable")
            else:  # pragma: no cover - absurd date ranges
                order = np.lexsort((day, pos))
        else:
            order = np.arange(0)
        self.pos, self.day, self.fallback = pos[order], day[order], fallback[order]
        self.channel = channel.take(source[order]).reset_index(drop=True)  # one gather

        self.n_conv = n_conv
        self.contact = conv[contact_col].to_numpy()
        self.conv_day = conv_day
        self.lead_day = key_day(lead_col)
        self.opp_day = key_day(opportunity_col)
        self.value = (None if value_col is None
                      else pd.to_numeric(conv[value_col]).to_numpy(dtype="float64", na_value=np.nan))
        counts = np.bincount(self.pos, minlength=n_conv)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype("int64")
        self.last = first + counts - 1                            # row of each path's last touch
        self.n = counts[self.pos]                                 # touches in the path
        self.k = np.arange(len(self.pos)) - first[self.pos]       # 0-based position in it

    def _sum(self, w: np.ndarray) -> np.ndarray:
        return np.bincount(self.pos, weights=w, minlength=self.n_conv)

    def _key_index(self, key_day: np.ndarray) -> np.ndarray:
        """Per conversion: position of the last touch on or before ``key_day`` (-1: none)."""
        kd = key_day[self.pos]
        hit = (kd != _MISSING) & (self.day <= kd)
        return np.rint(self._sum(hit.astype("float64"))).astype("int64") - 1  # days sorted

    def weights(self, model: str, half_life_days: float) -> np.ndarray:
        n, k = self.n, self.k
        if model == "first_touch":
            return (k == 0).astype("float64")
        if model == "last_touch":
            return (k == n - 1).astype("float64")
        if model == "linear":
            return np.ones(len(k))
        if model == "position_based":
            ends = (k == 0) | (k == n - 1)
            middle = 0.2 / np.maximum(n - 2, 1)
            return np.where(n <= 2, 1.0, np.where(ends, 0.4, middle))
        if model == "time_decay":
            days_before = (self.conv_day[self.pos] - self.day).astype("float64")
            # measured from each path's last (nearest) touch: no underflow on long paths
            nearest = days_before[self.last][self.pos]
            return np.exp2(-(days_before - nearest) / half_life_days)
        if model == "w_shaped":
            lead = self._key_index(self.lead_day)[self.pos]
            opp = self._key_index(self.opp_day)[self.pos]
            key = 0.3 * ((k == 0).astype("float64") + (k == lead) + (k == opp))
            other = key == 0
            n_other = np.bincount(self.pos, weights=other, minlength=self.n_conv)[self.pos]
            return np.where(other, 0.1 / np.maximum(n_other, 1), key)
        raise ValueError(f"unknown attribution model {model!r}; choose one of {MODELS}")

    def credit(self, model: str, half_life_days: float) -> np.ndarray:
        w = self.weights(model, half_life_days)
        return w / self._sum(w)[self.pos]


_OPTIONS = ("as_of", "half_life_days", "contact_col", "time_col", "channel_col", "converted_col",
            "value_col", "fallback_channel_col", "lead_col", "opportunity_col")


def _check_model(model: str, half_life_days: float) -> None:
    if model not in MODELS:
        raise ValueError(f"unknown attribution model {model!r}; choose one of {MODELS}")
    if model == "time_decay" and not (np.isfinite(half_life_days) and half_life_days > 0):
        raise ValueError(f"half_life_days must be a positive number of days, got {half_life_days!r}")


# --------------------------------------------------------------------------- public API
def attribute(touches: pd.DataFrame, conversions: pd.DataFrame, model: str = "linear", *,
              as_of=None, half_life_days: float = 7.0, contact_col: str = "contact_id",
              time_col: str = "touched_at", channel_col: str = "channel",
              converted_col: str = "converted_at", value_col: str | None = None,
              fallback_channel_col: str = "channel", lead_col: str | None = "lead_at",
              opportunity_col: str | None = "opportunity_at") -> pd.DataFrame:
    """Touch-level credit of each conversion under one attribution model.

    Parameters
    ----------
    touches : DataFrame
        One row per marketing touch: ``contact_col``, ``time_col``, ``channel_col``.
    conversions : DataFrame
        One row per converting contact: ``contact_col`` (unique), ``converted_col``, the
        contact's own channel ``fallback_channel_col``, and optionally ``lead_col``,
        ``opportunity_col`` (for ``w_shaped``) and ``value_col`` (e.g. revenue).
    model : str
        One of :data:`MODELS` (see Notes).
    as_of : date-like, optional
        The report date: conversions, touches, lead and opportunity dates after it have not
        happened yet and are ignored.
    half_life_days : float
        Half-life of the ``time_decay`` model, in days (default 7).
    contact_col, time_col, channel_col : str
        Column names in ``touches`` (``contact_col`` also in ``conversions``).
    converted_col, value_col, fallback_channel_col, lead_col, opportunity_col : str or None
        Column names in ``conversions``. ``value_col=None`` means no value credit; a
        ``lead_col`` / ``opportunity_col`` that is None or absent means the date is missing
        for every conversion.

    Returns
    -------
    DataFrame
        One row per credited touch, grouped by conversion (in ``conversions`` order) and
        sorted by day within it, with columns ``contact_col``, ``converted_col`` (the
        conversion day), ``time_col`` (the touch day), ``channel_col``, ``fallback``
        (True for the synthetic touch of a conversion without touches), ``credit``
        (each conversion's credits sum to 1) and, with ``value_col``, ``value_credit``
        = credit × value (NaN where the value is missing).

    Notes
    -----
    With the *n* eligible touches of a conversion ordered by day (then input order):

    * ``first_touch`` / ``last_touch``: 1 to the first / last touch.
    * ``linear``: 1/n each.
    * ``position_based`` (U-shaped 40/20/40): 0.4 first, 0.4 last, 0.2 shared equally by
      the n − 2 middle touches; n = 1 → 1; n = 2 → 0.5 / 0.5.
    * ``time_decay``: weight 2^(−d / half_life_days), d = whole days from the touch to the
      conversion, normalised to sum to 1.
    * ``w_shaped``: three key roles, the *first touch*, the *lead touch* (last eligible
      touch on or before ``lead_col``) and the *opportunity touch* (last eligible touch on
      or before ``opportunity_col``), each weigh 0.3; every touch holding no role shares
      0.1 equally. A touch holding several roles adds their weights (first = lead touch →
      0.6). A role is dropped when its date is missing, after ``as_of``, or earlier than
      every eligible touch. The weights are then divided by their sum, so whatever a
      dropped role or an absent "rest" would have taken is spread over the other touches
      in proportion to their weights. Hence: 5 touches, lead touch 3rd, opportunity
      touch 5th → 0.3, 0.05, 0.3, 0.05, 0.3; no lead date → first 3/7, opportunity 3/7, the
      rest 1/7 together; 3 distinct key touches and nothing else → 1/3 each; no lead nor
      opportunity date with 2 touches → 0.75 / 0.25; one touch → 1.

    Examples
    --------
    >>> t = pd.DataFrame({"contact_id": [1, 1, 1, 2],
    ...                   "touched_at": pd.to_datetime(["2026-01-01", "2026-01-08", "2026-01-15",
    ...                                                 "2026-03-01"]),
    ...                   "channel": ["Ads", "Email", "Webinar", "Ads"]})
    >>> c = pd.DataFrame({"contact_id": [1, 2, 3],
    ...                   "converted_at": pd.to_datetime(["2026-01-15", "2026-02-01", "2026-02-01"]),
    ...                   "channel": ["Ads", "Organic", "Referral"], "revenue": [700.0, 100.0, 50.0]})
    >>> a = attribute(t, c, "time_decay", value_col="revenue")
    >>> a[["contact_id", "channel", "fallback", "credit", "value_credit"]]
       contact_id   channel  fallback    credit  value_credit
    0           1       Ads     False  0.142857         100.0
    1           1     Email     False  0.285714         200.0
    2           1   Webinar     False  0.571429         400.0
    3           2   Organic      True  1.000000         100.0
    4           3  Referral      True  1.000000          50.0
    >>> attribute(t, c, "position_based")["credit"].round(2).tolist()
    [0.4, 0.2, 0.4, 1.0, 1.0]
    """
    _check_model(model, half_life_days)
    p = _Paths(touches, conversions, as_of=as_of, contact_col=contact_col, time_col=time_col,
               channel_col=channel_col, converted_col=converted_col, value_col=value_col,
               fallback_channel_col=fallback_channel_col, lead_col=lead_col,
               opportunity_col=opportunity_col)
    credit = p.credit(model, half_life_days)
    out = pd.DataFrame({
        contact_col: p.contact[p.pos],
        converted_col: _as_datetime(p.conv_day[p.pos]),
        time_col: _as_datetime(p.day.copy()),
    })
    out[channel_col] = p.channel
    out["fallback"] = p.fallback
    out["credit"] = credit
    if value_col is not None:
        out["value_credit"] = credit * p.value[p.pos]
    return out


def attribution_by_channel(touches: pd.DataFrame, conversions: pd.DataFrame, models=MODELS,
                           **kw) -> pd.DataFrame:
    """Credit summed per channel, side by side for several models.

    Takes the same keyword arguments as :func:`attribute` (``as_of``, ``half_life_days``,
    ``value_col``, the column names); the eligible paths are built once and reused for
    every model.

    Returns
    -------
    DataFrame
        Index: channel (named ``channel_col``, sorted; a missing channel is kept as NaN so
        no credit is lost). Columns: a two-level MultiIndex ``(measure, model)``, levels
        named ``"measure"`` and ``"model"``:

        * ``("conversions", model)``: attributed conversions (summed credit); each model's
          column sums to the number of conversions.
        * ``("value", model)``, only with ``value_col``: attributed value (summed
          ``value_credit``; conversions with a missing value add nothing).

        ``result["conversions"]`` and ``result["value"]`` are plain channel × model
        frames; a channel credited nothing under a model shows 0.

    Examples
    --------
    >>> t = pd.DataFrame({"contact_id": [1, 1], "channel": ["Ads", "Email"],
    ...                   "touched_at": pd.to_datetime(["2026-01-01", "2026-01-05"])})
    >>> c = pd.DataFrame({"contact_id": [1, 2], "channel": ["Ads", "Organic"],
    ...                   "converted_at": pd.to_datetime(["2026-01-10", "2026-01-10"]),
    ...                   "revenue": [1000.0, 200.0]})
    >>> by = attribution_by_channel(t, c, ["first_touch", "linear"], value_col="revenue")
    >>> by["conversions"]  # doctest: +NORMALIZE_WHITESPACE
    model    first_touch  linear
    channel
    Ads              1.0     0.5
    Email            0.0     0.5
    Organic          1.0     1.0
    >>> by["value"]["linear"].tolist()
    [500.0, 500.0, 200.0]
    """
    unknown = sorted(set(kw) - set(_OPTIONS))
    if unknown:
        raise TypeError(f"attribution_by_channel() got unexpected keyword arguments {unknown}")
    models = [models] if isinstance(models, str) else list(models)
    defaults = {name: prm.default for name, prm in inspect.signature(attribute).parameters.items()
                if name in _OPTIONS}
    opt = {**defaults, **kw}
    half_life = opt.pop("half_life_days")
    for m in models:
        _check_model(m, half_life)
    p = _Paths(touches, conversions, **opt)

    codes, uniques = pd.factorize(p.channel, use_na_sentinel=False)
    n_ch = len(uniques)
    data = {}
    value = None if opt["value_col"] is None else p.value[p.pos]
    credits = {m: p.credit(m, half_life) for m in models}
    for m in models:
        data[("conversions", m)] = np.bincount(codes, weights=credits[m], minlength=n_ch)
    if value is not None:
        for m in models:
            vc = credits[m] * value
            data[("value", m)] = np.bincount(codes, weights=np.nan_to_num(vc, nan=0.0), minlength=n_ch)
    index = pd.Index(uniques, name=opt["channel_col"])
    columns = pd.MultiIndex.from_tuples(list(data), names=["measure", "model"])
    out = pd.DataFrame(np.column_stack(list(data.values())) if data else np.empty((n_ch, 0)),
                       index=index, columns=columns)
    try:
        out = out.sort_index(na_position="last")
    except TypeError:  # channels of mixed types: keep order of first appearance
        pass
    return out


def attributed_roi(by_channel_value: pd.DataFrame, spend_by_channel) -> pd.DataFrame:
    """Marketing ROI per channel and model: (attributed revenue − spend) / spend.

    Parameters
    ----------
    by_channel_value : DataFrame
        Attributed revenue, channel × model: ``attribution_by_channel(...)["value"]``, or the
        whole :func:`attribution_by_channel` result (its ``"value"`` part is used).
    spend_by_channel : Series or DataFrame
        Spend per channel: a Series indexed by channel, or a frame with ``channel`` and
        ``spend`` columns (e.g. the ``spend`` file, summed here per channel).

    Returns
    -------
    DataFrame
        Index: every channel with revenue or spend (sorted); columns: the models. NaN
        (undefined) where the channel's spend is 0 or unknown; a channel that spent but
        was credited no revenue gets −1.

    Examples
    --------
    >>> value = pd.DataFrame({"linear": [300.0, 50.0]}, index=pd.Index(["Ads", "Organic"], name="channel"))
    >>> spend = pd.Series({"Ads": 100.0, "Organic": 0.0, "Events": 10.0})
    >>> attributed_roi(value, spend)  # doctest: +NORMALIZE_WHITESPACE
    model    linear
    channel
    Ads         2.0
    Events     -1.0
    Organic     NaN
    """
    value = by_channel_value
    if isinstance(value.columns, pd.MultiIndex):
        if "value" not in value.columns.get_level_values(0):
            raise KeyError("by_channel_value has no 'value' measure: call attribution_by_channel "
                           "with value_col=")
        value = value["value"]
    spend = spend_by_channel
    if isinstance(spend, pd.DataFrame):
        spend = (spend.groupby("channel", dropna=False)["spend"].sum() if "spend" in spend
                 else spend.iloc[:, 0])
    spend = spend.astype("float64").groupby(level=0, dropna=False).sum(min_count=1)
    channels = value.index.union(spend.index)
    revenue = value.reindex(channels, fill_value=0.0).astype("float64")
    spend = spend.reindex(channels)  # no spend row: unknown, so ROI undefined
    spend_wide = pd.DataFrame({m: spend for m in revenue.columns}, index=channels)
    roi = safe_div(revenue - spend_wide, spend_wide)
    roi.columns = pd.Index(revenue.columns, name="model")
    roi.index.name = value.index.name or "channel"
    return roi
