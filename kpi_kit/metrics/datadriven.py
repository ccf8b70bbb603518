"""Data-driven attribution (SPEC "Attribution": Markov and Shapley): credit learned from the paths
that converted *and* from those that did not.

Paths (:func:`build_paths`)
    A converting path is a contact whose ``customer_at`` falls in the window: its touches up to its
    conversion day. A non-converting path is a contact created in the window that has not converted
    by ``as_of``: its touches up to ``as_of``. Touches on one day keep their input order. A contact
    without a touch gets one step on its own channel, as the rule models' fallback does.

Markov removal effect (:func:`markov_attribution`)
    States: ``start``, one per channel (or, at order k, per run of the last k channels), and the
    absorbing ``conversion`` and ``null``. The transition probabilities are the observed shares of
    each state's next steps. A channel's removal effect is the drop in the probability of reaching
    ``conversion`` from ``start`` when every state holding that channel leads to ``null``
    (1 − P(without it) / P). The conversions (and their revenue) are credited in proportion to the
    removal effects. Solved as absorbing-chain linear systems, one per channel; no loop over paths.

Shapley value (:func:`shapley_attribution`)
    Each set T of channels that some paths touched (exactly those channels) has a conversion rate
    r(T) = converted / paths, so paths that did not convert lower it. A coalition S is worth the
    rates of every set it holds, v(S) = Σ r(T) over T ⊆ S (the simplified Shapley value of
    Zhao et al., 2018). Each channel's Shapley value is its average marginal contribution to v; the
    values are never negative and are scaled so the credits sum to the conversions. Exact over every
    subset (2^n), so channels beyond ``max_channels`` (those on the fewest paths) are grouped as
    ``Other``.
"""

from __future__ import annotations

from math import factorial

import numpy as np
import pandas as pd

from .._ids import index_of_ids

DATA_DRIVEN = ("markov", "shapley")
OTHER = "Other"


def build_paths(touches: pd.DataFrame, contacts: pd.DataFrame, window, as_of) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The window's paths: ``(steps, paths)``.

    Returns
    -------
    steps : DataFrame
        One row per step, in path order: ``path`` (int), ``channel``.
    paths : DataFrame
        One row per path (index = ``path``): ``contact_id``, ``converted`` (bool).

    Examples
    --------
    >>> steps, paths = build_paths(touches, contacts, ctx.window, ctx.as_of)  # doctest: +SKIP
    """
    as_of = pd.Timestamp(as_of)
    c = contacts
    conv_at = c["customer_at"] if "customer_at" in c else pd.Series(pd.NaT, index=c.index)
    converted = (conv_at.notna() & window.contains(conv_at)).to_numpy()
    open_ = (window.contains(c["created_at"]) & (conv_at.isna() | (conv_at > as_of))).to_numpy()
    chosen = converted | open_
    paths = pd.DataFrame({"contact_id": c["contact_id"].to_numpy()[chosen], "converted": converted[chosen]})
    paths.index.name = "path"
    until = np.where(converted[chosen], conv_at.to_numpy(dtype="datetime64[ns]")[chosen],
                     np.datetime64(as_of, "ns")).astype("datetime64[D]")
    # every touch of a path's contact up to its conversion (or as_of), by day; no Python loop
    pos = index_of_ids(touches["contact_id"], paths["contact_id"])
    day = touches["touched_at"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    keep = (pos >= 0) & ~np.isnat(day)
    keep[keep] = day[keep] <= until[pos[keep]]
    pos, day = pos[keep], day[keep]
    order = np.lexsort((day, pos))  # stable: same-day touches keep their input order
    # channels as codes into one list of names: the touches' and, for a path without a touch, the
    # contact's own (as the rule models' fallback)
    touch_codes, names = pd.factorize(touches["channel"])
    has = np.zeros(len(paths), bool)
    has[pos] = True
    bare = np.flatnonzero(~has)
    own_codes, own_names = pd.factorize(c["channel"].iloc[np.flatnonzero(chosen)[bare]])
    path = np.r_[pos[order], bare]
    code = np.r_[touch_codes[keep][order], np.where(own_codes < 0, -1, own_codes + len(names))]
    names = [*names, *own_names]
    regroup = np.argsort(path, kind="stable")
    labels = pd.Series(np.asarray(names + ["unknown"], dtype=object)[code[regroup]])  # -1 (no channel): unknown
    steps = pd.DataFrame({"path": path[regroup], "channel": labels})
    return steps, paths


def _credit(weights: pd.Series, conversions: float, revenue: float) -> pd.DataFrame:
    total = weights.sum()
    share = weights / total if total > 0 else weights * np.nan
    return pd.DataFrame({"conversions": share * conversions, "revenue": share * revenue})


def markov_removal_effects(steps: pd.DataFrame, converted: pd.Series, *, order: int = 1) -> tuple[pd.Series, float]:
    """Each channel's removal effect and the chain's conversion probability from ``start``.

    Parameters
    ----------
    steps : DataFrame
        ``path`` and ``channel`` per step, in path order (see :func:`build_paths`).
    converted : Series of bool
        Indexed by path: did it end in a conversion.
    order : int
        1 (a state is the current channel) up to 3 (the last three channels).

    Examples
    --------
    Paths A→B→conversion, A→null, B→conversion: P(conversion) = 2/3 × 1/2 + 1/3 = 2/3; without A,
    1/3 (removal effect 0.5); without B, 0 (removal effect 1).

    >>> steps = pd.DataFrame({"path": [0, 0, 1, 2], "channel": ["A", "B", "A", "B"]})
    >>> effects, p = markov_removal_effects(steps, pd.Series([True, False, True]))
    >>> round(p, 4), effects.round(4).to_dict()
    (0.6667, {'A': 0.5, 'B': 1.0})
    """
    if order not in (1, 2, 3):
        raise ValueError(f"order must be 1, 2 or 3, not {order}")
    codes, channels = pd.factorize(steps["channel"])
    path = steps["path"].to_numpy()
    n_ch = len(channels)
    # a state is the run of the last `order` channels, as one integer (0 = nothing that far back)
    key = codes.astype("int64") + 1
    same = np.r_[False, path[1:] == path[:-1]]
    lag, lag_ok = key.copy(), same.copy()
    for _ in range(1, order):
        lag = np.r_[0, lag[:-1]] * lag_ok
        key = key * (n_ch + 1) + lag
        lag_ok = np.r_[False, lag_ok[:-1]] & same
    state_key, state = np.unique(key, return_inverse=True)
    n = len(state_key)
    start, conv, null = n, n + 1, n + 2  # transient states are 0..n (n = start)
    first = np.r_[True, ~same[1:]]
    last = np.r_[~same[1:], True]
    src = np.r_[np.full(first.sum(), start), state[~last]]
    dst = np.r_[state[first], state[1:][same[1:]]]
    ends = state[last]
    ended = converted.reindex(path[last]).fillna(False).to_numpy(bool)
    src = np.r_[src, ends]
    dst = np.r_[dst, np.where(ended, conv, null)]
    counts = np.bincount(src * (n + 3) + dst, minlength=(n + 1) * (n + 3)).reshape(n + 1, n + 3).astype("float64")
    rows = counts.sum(axis=1, keepdims=True)
    p = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    q, r = p[:, :n + 1], p[:, conv]

    def reach(keep: np.ndarray) -> float:
        """P(conversion from start) when the states not kept lead to null."""
        idx = np.flatnonzero(keep)
        a = np.eye(len(idx)) - q[np.ix_(idx, idx)]
        x = np.linalg.solve(a, r[idx])
        return float(x[np.searchsorted(idx, start)])

    base = reach(np.ones(n + 1, bool))
    # channels each state holds, from its key's digits
    holds = np.zeros((n + 1, n_ch), bool)
    k = state_key.copy()
    for _ in range(order):
        digit = k % (n_ch + 1)
        has = digit > 0
        holds[np.flatnonzero(has), digit[has] - 1] = True
        k //= (n_ch + 1)
    effects = {}
    for j, channel in enumerate(channels):
        without = reach(~holds[:, j])
        effects[channel] = 1 - without / base if base > 0 else np.nan
    return pd.Series(effects, dtype="float64"), base


MARKOV_MAX_CHANNELS = 50  # one removal pass per channel: 10,000 channel names would take hours


def markov_attribution(steps: pd.DataFrame, paths: pd.DataFrame, revenue: pd.Series | None = None, *,
                       order: int = 1, max_channels: int = MARKOV_MAX_CHANNELS) -> pd.DataFrame:
    """Conversions and revenue credited per channel in proportion to the Markov removal effects.

    ``revenue`` is indexed by path (converting paths' won revenue). Returns a frame indexed by
    channel with ``conversions`` and ``revenue`` (summing to the totals) and ``removal_effect``.
    Channels beyond the ``max_channels`` on most paths are grouped as ``Other`` (as for Shapley).
    """
    steps = steps.assign(channel=_grouped(steps, max_channels))
    effects, _ = markov_removal_effects(steps, paths["converted"], order=order)
    total_rev = float(revenue.sum()) if revenue is not None else np.nan
    out = _credit(effects.clip(lower=0), float(paths["converted"].sum()), total_rev)
    out["removal_effect"] = effects
    out.index.name = "channel"
    return out


def _grouped(steps: pd.DataFrame, max_channels: int) -> pd.Series:
    """Each step's channel, those beyond the ``max_channels`` on most paths grouped as ``Other``."""
    reach = steps.drop_duplicates(["path", "channel"])["channel"].value_counts()
    if len(reach) <= max_channels:
        return steps["channel"]
    keep = set(reach.index[:max_channels - 1])
    return steps["channel"].where(steps["channel"].isin(keep), OTHER)


def shapley_values(steps: pd.DataFrame, converted: pd.Series, *, max_channels: int = 12) -> pd.Series:
    """Each channel's Shapley value over coalition conversion rates (see the module docstring).

    Examples
    --------
    Paths {A,B}→conversion, {A}→no, {B}→conversion: r(A)=0, r(B)=1, r(AB)=1, so v(A)=0, v(B)=1,
    v(AB)=2; φ_A = ½((0 − 0) + (2 − 1)) = 0.5 and φ_B = ½((1 − 0) + (2 − 0)) = 1.5, summing to v(AB).

    >>> steps = pd.DataFrame({"path": [0, 0, 1, 2], "channel": ["A", "B", "A", "B"]})
    >>> shapley_values(steps, pd.Series([True, False, True])).to_dict()
    {'A': 0.5, 'B': 1.5}
    """
    channel = _grouped(steps, max_channels)
    codes, channels = pd.factorize(channel)
    n = len(channels)
    path = steps["path"].to_numpy()
    starts = np.flatnonzero(np.r_[True, path[1:] != path[:-1]])  # steps come grouped by path
    mask = np.bitwise_or.reduceat(np.left_shift(1, codes.astype("int64")), starts)
    won = converted.reindex(path[starts]).fillna(False).to_numpy(bool)
    size = 1 << n
    paths_of = np.bincount(mask, minlength=size).astype("float64")
    wins_of = np.bincount(mask, weights=won, minlength=size)
    value = np.divide(wins_of, paths_of, out=np.zeros(size), where=paths_of > 0)  # r(T), exact sets
    for i in range(n):  # v(S) = Σ r(T) over T ⊆ S: a sum over subsets, one channel at a time
        has = ((np.arange(size) >> i) & 1) == 1
        value[has] += value[np.flatnonzero(has) ^ (1 << i)]
    members = np.array([bin(s).count("1") for s in range(size)])
    weight = np.array([factorial(k) * factorial(n - k - 1) / factorial(n) for k in range(n)])
    phi = {}
    for i in range(n):
        without = np.flatnonzero(((np.arange(size) >> i) & 1) == 0)
        phi[channels[i]] = float((weight[members[without]] * (value[without | (1 << i)] - value[without])).sum())
    return pd.Series(phi, dtype="float64")


def shapley_attribution(steps: pd.DataFrame, paths: pd.DataFrame, revenue: pd.Series | None = None, *,
                        max_channels: int = 12) -> pd.DataFrame:
    """Conversions and revenue credited per channel in proportion to the Shapley values."""
    phi = shapley_values(steps, paths["converted"], max_channels=max_channels)
    total_rev = float(revenue.sum()) if revenue is not None else np.nan
    out = _credit(phi, float(paths["converted"].sum()), total_rev)
    out["shapley_value"] = phi
    out.index.name = "channel"
    return out
