"""The plan's chart: the rise each stage needs over its run-rate to reach the bookings target."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import style as kp


def plan_chart(plan: pd.DataFrame, *, labels: dict | None = None, quarter: str = "", ax=None):
    """Horizontal bars: the change each stage needs, required against its current run-rate (the last
    four full quarters' mean), with the 95 % range of the requirement as a whisker; zero-based, the
    run-rate is the zero line.

    Parameters
    ----------
    plan : DataFrame
        One quarter's rows of the plan table: ``stage``, ``required``, ``low``, ``high``, ``current``
        (a stage without a run-rate is left out).
    labels : dict, optional
        Stage -> display name.
    quarter : str
        The quarter, for the title.
    ax : Axes, optional
        Axes to draw on; by default a new figure ``WIDTH`` wide.

    Returns
    -------
    Axes

    Examples
    --------
    >>> p = pd.DataFrame({"stage": ["won_deals", "lead"], "required": [10.0, 300.0], "low": [10.0, 250.0],
    ...                   "high": [10.0, 360.0], "current": [8.0, 200.0]})
    >>> ax = plan_chart(p, quarter="2026Q4")
    >>> ax.get_title()
    'Rise needed over the run-rate to reach the 2026Q4 bookings target'
    """
    p = plan.dropna(subset=["required", "current"])
    p = p[p["current"] > 0].iloc[::-1]
    labels = labels or {}
    fig, ax = plt.subplots(figsize=(kp.WIDTH, 0.45 * max(len(p), 2) + 1.2)) if ax is None else (ax.figure, ax)
    change = (p["required"] / p["current"] - 1).to_numpy(dtype=float)
    low = (p["low"] / p["current"] - 1).to_numpy(dtype=float)
    high = (p["high"] / p["current"] - 1).to_numpy(dtype=float)
    y = np.arange(len(p))
    colours = [kp.BAD if c > 0 else kp.GOOD for c in change]
    ax.barh(y, change, color=colours, height=0.6)
    err = np.vstack([np.clip(change - low, 0, None), np.clip(high - change, 0, None)])
    ax.errorbar(change, y, xerr=np.nan_to_num(err), fmt="none", ecolor=kp.INK, elinewidth=1, capsize=3)
    ax.axvline(0, color=kp.INK, lw=1)
    ax.set_yticks(y, [labels.get(s, s) for s in p["stage"]])
    kp.percent_axis(ax, axis="x")
    lo = min(0.0, float(np.nanmin(low)) if len(low) else 0.0)
    hi = max(0.0, float(np.nanmax(high)) if len(high) else 0.0)
    pad = 0.08 * (hi - lo or 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_title(f"Rise needed over the run-rate to reach the {quarter} bookings target".replace("  ", " "))
    ax.set_xlabel("Required against the last four quarters' average (whiskers: 95 % range)")
    return ax
