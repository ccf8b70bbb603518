"""MRR and unit economics (SPEC "MRR", "MRR movements", churn, ARPU, LTV, CAC, cost to serve,
quick ratio, magic number). One implementation, used by the unit-economics and cohort notebooks.

Conventions
-----------
* ``cmrr`` is the customer-month MRR table: ``customer_id``, ``month`` (``Period[M]``),
  ``mrr`` (month-end MRR), *dense*: every customer that ever paid × every month from the first
  month with MRR to the last full month, zeros included.
* MRR is a month-end snapshot: a subscription that starts and ends within one month never
  shows (it is active on no month's last day).
* The first month of the data counts as ``new`` for every customer paying in it: there is
  nothing earlier to compare with.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from .._dates import NO_PERIOD, last_full_month, ordinals, to_day
from .._math import mean_defined, safe_div

MOVEMENTS = ("new", "reactivation", "expansion", "contraction", "churn")


def _dense(customer: np.ndarray, month_ordinal: np.ndarray, value: np.ndarray, last: pd.Period,
           customer_col: str) -> pd.DataFrame:
    """Sum ``value`` per customer-month and fill every month from the first paying one to ``last``.

    Rows come sorted by customer, then month (:func:`mrr_movements` relies on it). Done on a dense
    customer × month grid with integer codes: no Python loop, no MultiIndex (a million rows in well
    under a second)."""
    empty = pd.DataFrame({customer_col: pd.Series(dtype=object), "month": pd.Series(dtype="period[M]"),
                          "mrr": pd.Series(dtype="float64")})
    if len(value) == 0:
        return empty
    codes, customers = pd.factorize(np.asarray(customer), sort=True)
    month_ordinal = np.asarray(month_ordinal, dtype="int64")
    lo = int(month_ordinal.min())
    width = last.ordinal - lo + 1
    inside = month_ordinal <= last.ordinal
    grid = np.bincount(codes[inside] * width + (month_ordinal[inside] - lo), weights=np.asarray(value)[inside],
                       minlength=len(customers) * width).reshape(len(customers), width)
    grid[np.round(grid, 9) == 0] = 0.0  # sums that cancel out are no revenue
    paying = grid != 0
    if not paying.any():
        return empty
    keep = paying.any(axis=1)
    first = int(np.flatnonzero(paying.any(axis=0))[0])
    grid, customers = grid[keep, first:], np.asarray(customers)[keep]
    ordinals = np.tile(np.arange(lo + first, last.ordinal + 1), len(customers))  # no boxing into Period objects
    return pd.DataFrame({customer_col: np.repeat(customers, grid.shape[1]),
                         "month": pd.PeriodIndex.from_ordinals(ordinals, freq="M"),
                         "mrr": grid.ravel().round(6)})


def customer_mrr(subscriptions: pd.DataFrame, as_of, *, customer_col="customer_id", start_col="start_date",
                 end_col="end_date", amount_col="amount", period_col="billing_period_months",
                 discount_col="discount") -> pd.DataFrame:
    """Month-end MRR per customer from subscriptions.

    A subscription is active on day ``d`` when ``start <= d`` and (no end or ``d < end``); it
    adds ``(amount − discount) / billing_period_months`` to its customer's MRR on the last day
    of each month it is active. Subscriptions starting after ``as_of`` do not exist; an end
    after ``as_of`` has not happened (active).

    Examples
    --------
    >>> subs = pd.DataFrame({"customer_id": ["a"], "start_date": pd.to_datetime(["2026-01-10"]),
    ...                      "end_date": [pd.NaT], "amount": [1200.0], "billing_period_months": [12]})
    >>> customer_mrr(subs, "2026-03-31")["mrr"].tolist()
    [100.0, 100.0, 100.0]
    """
    as_of = to_day(as_of)
    last = last_full_month(as_of)
    s = subscriptions[subscriptions[start_col] <= as_of]
    end = s[end_col] if end_col in s else pd.Series(pd.NaT, index=s.index)
    end = end.where(end <= as_of)
    discount = s[discount_col].fillna(0.0) if discount_col in s else 0.0
    value = ((s[amount_col] - discount) / s[period_col]).to_numpy(dtype="float64")
    first_m = ordinals(s[start_col])
    # active on the last day of month m  <=>  end_of(m) < end  <=>  m <= month(end) - 1
    end_m = ordinals(end)
    last_m = np.where(end_m == NO_PERIOD, last.ordinal, np.minimum(last.ordinal, end_m - 1))
    n = np.clip(last_m - first_m + 1, 0, None)
    idx = np.repeat(np.arange(len(s)), n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    return _dense(s[customer_col].to_numpy()[idx], first_m[idx] + offset, value[idx], last, customer_col)


def customer_mrr_from_table(mrr: pd.DataFrame, as_of, *, customer_col="customer_id", month_col="month",
                            mrr_col="mrr") -> pd.DataFrame:
    """The same table from the contract's ``mrr`` file (month-end MRR per customer); months after
    the last full month are dropped, missing months are 0, repeated customer-months are summed."""
    last = last_full_month(as_of)
    months = mrr[month_col].dt.to_period("M")
    keep = months <= last
    return _dense(mrr.loc[keep, customer_col].to_numpy(), ordinals(months[keep]),
                  mrr.loc[keep, mrr_col].to_numpy(dtype="float64"), last, customer_col)


def client_customer_mrr(data) -> pd.DataFrame | None:
    """The customer-month MRR of a loaded client: from ``subscriptions``, else from the ``mrr`` file,
    else None (the client has no revenue data)."""
    as_of = data.params.as_of
    if data.has("subscriptions"):
        return customer_mrr(data["subscriptions"], as_of)
    if data.has("mrr"):
        return customer_mrr_from_table(data["mrr"], as_of)
    return None


def mrr_movements(cmrr: pd.DataFrame, *, customer_col="customer_id") -> pd.DataFrame:
    """Classify each customer-month: ``new``, ``reactivation``, ``expansion``, ``contraction``,
    ``churn`` or ``none``, with ``previous``, ``current`` and the signed ``amount``.

    Examples
    --------
    >>> c = pd.DataFrame({"customer_id": ["a"] * 4, "month": pd.period_range("2026-01", periods=4, freq="M"),
    ...                   "mrr": [10.0, 0.0, 10.0, 15.0]})
    >>> mrr_movements(c)["movement"].tolist()
    ['new', 'churn', 'reactivation', 'expansion']
    """
    c = cmrr
    months = c["month"].array.asi8 if isinstance(c["month"].dtype, pd.PeriodDtype) else None
    ids = c[customer_col].to_numpy()
    same_next = ids[1:] == ids[:-1]
    in_order = (months is not None and bool((ids[1:] >= ids[:-1]).all())
                and bool((np.diff(months)[same_next] > 0).all()))
    if not in_order:  # _dense already gives customer, then month order: sort only other input
        c = cmrr.sort_values([customer_col, "month"], kind="stable")
        ids = c[customer_col].to_numpy()
        same_next = ids[1:] == ids[:-1]
    cur = c["mrr"].to_numpy(dtype="float64")
    n = len(cur)  # 0 when every subscription starts after the last full month: no movement yet
    first = np.r_[True, ~same_next][:n]
    prev = np.r_[0.0, cur[:-1]][:n]
    prev[first] = 0.0
    # paid in an earlier month of the same customer: a running count of paid months, restarted per customer
    had = np.cumsum(prev > 0)
    start = np.maximum.accumulate(np.where(first, np.arange(len(cur)), 0))
    paid = (had - had[start] + (prev[start] > 0)) > 0
    code = np.select(
        [(cur > 0) & (prev == 0) & ~paid, (cur > 0) & (prev == 0) & paid, (cur > prev) & (prev > 0),
         (cur < prev) & (cur > 0), (cur == 0) & (prev > 0)], [0, 1, 2, 3, 4], default=5)
    movement = pd.Categorical.from_codes(code, ["new", "reactivation", "expansion", "contraction", "churn", "none"])
    return pd.DataFrame({customer_col: ids, "month": c["month"].array, "previous": prev, "current": cur,
                         "movement": movement, "amount": cur - prev})


def mrr_bridge(cmrr: pd.DataFrame, *, customer_col="customer_id",
               movements: pd.DataFrame | None = None) -> pd.DataFrame:
    """Monthly MRR bridge: starting + new + reactivation + expansion − contraction − churn = ending.

    Also customers (paying at month end), new / reactivated / churned customers, logo churn rate
    (churned / paying at the previous month end), ARPU, gross and net revenue churn (over
    starting MRR), GRR, NRR and quick ratio; NaN where a denominator is 0.
    """
    mv = movements if movements is not None else mrr_movements(cmrr, customer_col=customer_col)
    g = mv.groupby("month")
    out = pd.DataFrame({"starting_mrr": g["previous"].sum(), "ending_mrr": g["current"].sum()})
    amount = mv["amount"].abs()
    for name in MOVEMENTS:
        out[name] = amount.where(mv["movement"] == name, 0.0).groupby(mv["month"]).sum()
    out["customers"] = (mv["current"] > 0).groupby(mv["month"]).sum()
    starting_customers = (mv["previous"] > 0).groupby(mv["month"]).sum()
    for name, col in (("new", "new_customers"), ("reactivation", "reactivated_customers"),
                      ("churn", "churned_customers")):
        out[col] = (mv["movement"] == name).groupby(mv["month"]).sum()
    out["logo_churn_rate"] = safe_div(out["churned_customers"], starting_customers)
    out["arpu"] = safe_div(out["ending_mrr"], out["customers"])
    lost = out["churn"] + out["contraction"]
    out["gross_revenue_churn"] = safe_div(lost, out["starting_mrr"])
    out["net_revenue_churn"] = safe_div(lost - out["expansion"] - out["reactivation"], out["starting_mrr"])
    out["grr"] = 1 - out["gross_revenue_churn"]
    out["nrr"] = 1 - out["net_revenue_churn"]
    out["quick_ratio"] = safe_div(out["new"] + out["expansion"] + out["reactivation"], lost)
    out = out.reset_index()
    paying = out.index[out["ending_mrr"] > 0]
    out = out.iloc[paying[0]:] if len(paying) else out.iloc[0:0]
    cols = ["month", "starting_mrr", "new", "expansion", "contraction", "churn", "reactivation", "ending_mrr",
            "customers", "new_customers", "reactivated_customers", "churned_customers", "logo_churn_rate", "arpu",
            "gross_revenue_churn", "net_revenue_churn", "grr", "nrr", "quick_ratio"]
    return out[cols].reset_index(drop=True).astype({c: "int64" for c in cols if c.endswith("customers")})


# the bridge's columns that describe a month's movements (and their rates): no data in rebuilt history
MOVEMENT_COLUMNS = ("new", "expansion", "contraction", "churn", "reactivation", "new_customers",
                    "reactivated_customers", "churned_customers", "logo_churn_rate", "gross_revenue_churn",
                    "net_revenue_churn", "grr", "nrr", "quick_ratio")


def blank_rebuilt_history(bridge: pd.DataFrame, first_real: pd.Period | None) -> pd.DataFrame:
    """The bridge with its movements and their rates set to no data (NaN) for the months before
    ``first_real``, the first month of real history where earlier months were rebuilt from one
    snapshot (SPEC "Reconstructed history"): a snapshot holds only the customers still there, so
    its earlier months show no churn that was real. MRR, customers and ARPU stay (they are levels
    the snapshot can place). The first real month keeps its movements: its starting MRR is the
    rebuilt month-end before it, which the snapshot's customers define.

    Examples
    --------
    >>> b = pd.DataFrame({"month": pd.period_range("2017-12", periods=2, freq="M"), "ending_mrr": [90.0, 80.0],
    ...                   "churn": [0.0, 10.0], "logo_churn_rate": [0.0, 0.1], "churned_customers": [0, 1]})
    >>> blank_rebuilt_history(b, pd.Period("2018-01", "M"))[["churn", "logo_churn_rate", "ending_mrr"]].values.tolist()
    [[nan, nan, 90.0], [10.0, 0.1, 80.0]]
    """
    if first_real is None or bridge.empty:
        return bridge
    out = bridge.copy()
    before = (out["month"] < first_real).to_numpy()
    for col in MOVEMENT_COLUMNS:
        if col in out:
            out[col] = out[col].astype("float64").where(~before)
    return out


def trailing_retention(cmrr: pd.DataFrame, months: int = 12, *, customer_col="customer_id") -> pd.DataFrame:
    """Trailing NRR and GRR per month: of the customers paying ``months`` months earlier, their MRR
    now over their MRR then (GRR caps each customer's MRR now at its MRR then). NaN until
    ``months`` months of history exist."""
    wide = cmrr.pivot(index=customer_col, columns="month", values="mrr").fillna(0.0)
    cols = wide.columns
    vals = wide.to_numpy()
    nrr = np.full(len(cols), np.nan)
    grr = np.full(len(cols), np.nan)
    for j in range(months, len(cols)):  # one vectorised step per month, not per customer
        then, now = vals[:, j - months], vals[:, j]
        base = then > 0
        total = then[base].sum()
        if total > 0:
            nrr[j] = now[base].sum() / total
            grr[j] = np.minimum(now[base], then[base]).sum() / total
    return pd.DataFrame({"month": cols, "nrr": nrr, "grr": grr})


def unit_economics(bridge: pd.DataFrame, as_of, *, churn_window_months: int = 6, gross_margin: float = 1.0,
                   cac: float = np.nan) -> dict:
    """The SPEC scalars: MRR, customers and ARPU at the last full month; logo churn, NRR, GRR and
    quick ratio averaged (undefined months skipped) over the last ``churn_window_months`` full
    months; LTV = ARPU × gross margin / logo churn (NaN with zero churn, never 0 or infinity);
    LTV:CAC; CAC payback = CAC / (ARPU × gross margin).

    Examples
    --------
    >>> b = pd.DataFrame({"month": pd.period_range("2026-01", periods=1, freq="M"), "ending_mrr": [5000.0],
    ...                   "customers": [100], "arpu": [50.0], "logo_churn_rate": [0.005], "nrr": [1.0],
    ...                   "grr": [1.0], "quick_ratio": [2.0]})
    >>> round(unit_economics(b, "2026-01-31")["ltv"], 6)
    10000.0
    """
    last = last_full_month(as_of)
    by_month = unit_economics_by_month(bridge, churn_window_months=churn_window_months, gross_margin=gross_margin)
    if last not in by_month.index:
        out = dict.fromkeys(by_month.columns, np.nan)
    else:
        out = {k: float(v) for k, v in by_month.loc[last].items()}
    out["cac"] = cac
    out["ltv_to_cac"] = safe_div(out["ltv"], cac)
    out["cac_payback_months"] = safe_div(cac, out["arpu"] * gross_margin)
    return out


def mrr_growth(bridge: pd.DataFrame, month: pd.Period, months: int = 12) -> float:
    """Relative change of month-end MRR over ``months``: MRR(month) / MRR(month − months) − 1.

    n/a when either month is not in the bridge (before the first paying month: no base to grow
    from) or the earlier MRR is 0.

    Examples
    --------
    >>> b = pd.DataFrame({"month": pd.period_range("2025-01", periods=13, freq="M"),
    ...                   "ending_mrr": [100.0] + [110.0] * 11 + [150.0]})
    >>> round(mrr_growth(b, pd.Period("2026-01", "M")), 2)
    0.5
    """
    mrr = bridge.set_index("month")["ending_mrr"]
    return float(safe_div(mrr.get(month, np.nan), mrr.get(month - months, np.nan))) - 1


def unit_economics_by_month(bridge: pd.DataFrame, *, churn_window_months: int = 6,
                            gross_margin: float = 1.0) -> pd.DataFrame:
    """:func:`unit_economics` as it stood at the end of every month of ``bridge`` (one row a month):
    MRR, customers and ARPU of the month; logo churn, NRR, GRR and quick ratio averaged over the
    ``churn_window_months`` months ending with it (undefined months skipped); LTV on that churn."""
    months = pd.period_range(bridge["month"].min(), bridge["month"].max(), freq="M") if len(bridge) \
        else pd.PeriodIndex([], freq="M")
    b = bridge.set_index("month").reindex(months)
    out = pd.DataFrame({"mrr": b.get("ending_mrr"), "customers": b.get("customers"), "arpu": b.get("arpu")},
                       index=months, dtype="float64")
    for col in ("logo_churn_rate", "nrr", "grr", "quick_ratio"):
        values = b[col].astype("float64") if col in b else pd.Series(np.nan, index=months)
        out[col] = [mean_defined(values.iloc[max(0, i - churn_window_months + 1):i + 1]) for i in range(len(values))]
    churn = out["logo_churn_rate"]
    out["ltv"] = (out["arpu"] * gross_margin / churn.where(churn > 0)).astype("float64")
    return out


def _monthly(df: pd.DataFrame | None, date_col: str, value_col: str) -> pd.Series:
    if df is None or df.empty:
        return pd.Series(dtype="float64", index=pd.PeriodIndex([], freq="M"))
    return df.groupby(df[date_col].dt.to_period("M"))[value_col].sum().astype("float64")


def _check_groups(costs: pd.DataFrame, cost_groups: dict) -> None:
    unmapped = sorted(set(costs["category"]) - set(cost_groups))
    if unmapped:
        raise ValueError(f"costs categories not in cost_groups: {', '.join(unmapped)}")


def acquisition_costs(costs: pd.DataFrame | None, spend: pd.DataFrame | None, cost_groups: dict) -> pd.DataFrame:
    """Monthly acquisition cost: ``costs`` in the ``acquisition`` group plus ``spend``."""
    c = pd.Series(dtype="float64", index=pd.PeriodIndex([], freq="M"))
    if costs is not None and len(costs):
        _check_groups(costs, cost_groups)
        acq = costs[costs["category"].map(cost_groups) == "acquisition"]
        c = _monthly(acq, "month", "amount")
    s = _monthly(spend, "date", "spend")
    out = pd.DataFrame({"costs": c, "spend": s}).fillna(0.0)
    out["total"] = out["costs"] + out["spend"]
    out.index.name = "month"
    return out.reset_index()


def service_costs(costs: pd.DataFrame, cost_groups: dict) -> pd.DataFrame:
    """Monthly ``service`` costs (customer success, infrastructure, retention)."""
    _check_groups(costs, cost_groups)
    s = _monthly(costs[costs["category"].map(cost_groups) == "service"], "month", "amount")
    return s.rename("service").rename_axis("month").reset_index()


def cac_by_month(acq: pd.DataFrame, bridge: pd.DataFrame) -> pd.DataFrame:
    """CAC per month: total acquisition cost (and spend only) / customers with a ``new`` movement.

    Every month from the first to the last month of ``acq`` is a row: a month in between without a
    cost or spend row adds 0 to the sums and its new customers still count (in quarterly sums and
    trailing CACs), but its own CAC is n/a: no cost row is unknown, not a CAC of 0."""
    recorded = set(acq["month"]) if len(acq) else set()
    if len(acq):
        months = pd.period_range(acq["month"].min(), acq["month"].max(), freq="M")
        acq = acq.set_index("month").reindex(months, fill_value=0.0).rename_axis("month").reset_index()
    m = acq.merge(bridge[["month", "new_customers"]], on="month", how="inner")
    known = m["month"].isin(recorded)
    m["cac"] = safe_div(m["total"], m["new_customers"]).where(known)
    m["paid_cac"] = safe_div(m["spend"], m["new_customers"]).where(known)
    return m


def cac_by_quarter(acq: pd.DataFrame, bridge: pd.DataFrame) -> pd.DataFrame:
    """The same per quarter (sums of costs and new customers, not an average of monthly CACs)."""
    m = cac_by_month(acq, bridge)
    quarter = m["month"].dt.asfreq("Q")
    q = m.groupby(quarter)[["costs", "spend", "total", "new_customers"]].sum()
    # a month whose new customers are no data (history rebuilt from a snapshot) leaves its quarter's unknown
    q["new_customers"] = q["new_customers"].where(~m["new_customers"].isna().groupby(quarter).any())
    q["cac"] = safe_div(q["total"], q["new_customers"])
    q["paid_cac"] = safe_div(q["spend"], q["new_customers"])
    return q.rename_axis("quarter").reset_index()


def cost_to_serve(service: pd.DataFrame, bridge: pd.DataFrame) -> pd.DataFrame:
    """Service costs per paying customer (at month end), per month."""
    m = service.merge(bridge[["month", "customers"]], on="month", how="inner")
    m["cost_to_serve"] = safe_div(m["service"], m["customers"])
    return m


def magic_number(bridge: pd.DataFrame, acq: pd.DataFrame, *, last: pd.Period | None = None,
                 first_real: pd.Period | None = None) -> pd.DataFrame:
    """Per quarter: (net new MRR in the quarter × 12) / acquisition cost of the previous quarter.

    A ratio whose parts cover different spans is n/a (SPEC "Partial periods"), and ``why`` says
    why: a quarter still running at ``last`` (the last full month; default the bridge's last month)
    has a month or two of net new MRR against a full quarter's cost; a previous quarter that the
    cost data covers only in part (it starts or ends inside it) would set a full quarter's MRR
    against part of its cost; a quarter that starts before ``first_real`` (history rebuilt from
    a snapshot) has no real movements.

    Examples
    --------
    >>> b = pd.DataFrame({"month": pd.period_range("2026-04", periods=4, freq="M"),
    ...                   "starting_mrr": [0.0, 10.0, 20.0, 30.0], "ending_mrr": [10.0, 20.0, 30.0, 40.0]})
    >>> a = pd.DataFrame({"month": pd.period_range("2026-01", periods=7, freq="M"), "total": [40.0] * 7})
    >>> m = magic_number(b, a)
    >>> m["magic_number"].tolist()
    [3.0, nan]
    >>> m["why"].iloc[1]
    "quarter to date (1 of 3 months): its net new MRR and the previous quarter's costs cover different spans"
    """
    b = bridge.assign(quarter=bridge["month"].dt.asfreq("Q"), net_new=bridge["ending_mrr"] - bridge["starting_mrr"])
    q = b.groupby("quarter").agg(net_new_mrr=("net_new", "sum"), months=("month", "size"))
    a = acq.groupby(acq["month"].dt.asfreq("Q"))["total"].sum()
    q["previous_quarter_acquisition"] = a.reindex(q.index - 1).to_numpy()
    q["magic_number"] = safe_div(q["net_new_mrr"] * 12, q["previous_quarter_acquisition"])
    last = last if last is not None else (bridge["month"].max() if len(bridge) else None)
    why = []
    for quarter in q.index:
        start, end = quarter.asfreq("M", "start"), quarter.asfreq("M", "end")
        prev = pd.period_range((quarter - 1).asfreq("M", "start"), (quarter - 1).asfreq("M", "end"), freq="M")
        costed = int(((prev >= acq["month"].min()) & (prev <= acq["month"].max())).sum()) if len(acq) else 0
        if first_real is not None and start < first_real:
            why.append(f"before {first_real:%b %Y}: history rebuilt from one snapshot has no real movements")
        elif last is not None and end > last:
            n = (min(end, last) - start).n + 1
            why.append(f"quarter to date ({n} of 3 months): its net new MRR and the previous quarter's costs cover "
                       "different spans")
        elif 0 < costed < 3:
            why.append(f"the previous quarter's costs cover {costed} of its 3 months")
        else:
            why.append("")
    q["why"] = why
    q.loc[q["why"] != "", "magic_number"] = np.nan
    return q.rename_axis("quarter").reset_index()


TRAILING_CAC_MONTHS = 3  # the monthly LTV:CAC and payback indicators use a trailing CAC of this many months


class EconomicsMetrics:
    """Unit economics of one client run (SPEC "MRR" … "Magic number"), each number computed once:
    the MRR grid, movements and bridge; CAC (fully loaded from here, paid from the channel table);
    LTV, LTV:CAC and payback; by quarter, channel and segment; cost to serve; magic number.

    Examples
    --------
    >>> e = compute(load_client(load_params("data/clients/demo.yaml"))).economics  # doctest: +SKIP
    >>> e.scalars()["ltv_to_cac"]  # doctest: +SKIP
    """

    def __init__(self, m):
        self.m = m
        self.ctx = m.ctx
        self.params = m.ctx.params
        self.has_mrr = m.ctx.has_mrr

    @cached_property
    def cmrr(self) -> pd.DataFrame | None:
        return self.ctx.cmrr

    @cached_property
    def movements(self) -> pd.DataFrame | None:
        """Every customer-month's MRR movement, computed once for the bridge, new customers and cohorts."""
        return None if self.cmrr is None else mrr_movements(self.cmrr)

    @cached_property
    def bridge(self) -> pd.DataFrame:
        """The MRR bridge up to the last full month."""
        if self.cmrr is None:
            return pd.DataFrame(columns=["month", "ending_mrr", "customers", "new_customers", "arpu"])
        b = mrr_bridge(self.cmrr, movements=self.movements)
        b = b[b["month"] <= self.ctx.last].reset_index(drop=True)
        return blank_rebuilt_history(b, getattr(self.ctx, "history_start", None))

    @cached_property
    def trailing(self) -> pd.DataFrame:
        """Trailing-12-month NRR and GRR; no data where the customers of 12 months earlier lie in
        rebuilt history (a snapshot keeps only those still there)."""
        t = trailing_retention(self.cmrr, months=12)
        first = getattr(self.ctx, "history_start", None)
        if first is not None:
            real = pd.Series([m - 12 >= first for m in t["month"]], index=t.index, dtype=bool)
            t["nrr"], t["grr"] = t["nrr"].where(real), t["grr"].where(real)
        return t

    @cached_property
    def acquisition(self) -> pd.DataFrame | None:
        costs, spend = self.ctx.get("costs"), self.ctx.get("spend")
        if costs is None and spend is None:
            return None
        return acquisition_costs(costs, spend, self.params.cost_groups)

    @cached_property
    def service(self) -> pd.DataFrame | None:
        costs = self.ctx.get("costs")
        return None if costs is None else service_costs(costs, self.params.cost_groups)

    def acquisition_in(self, window) -> float:
        """Acquisition costs plus spend dated in ``window`` (NaN without costs or spend)."""
        if self.acquisition is None:
            return np.nan
        a = self.acquisition
        return float(a.loc[(a["month"] >= window.first) & (a["month"] <= window.last), "total"].sum())

    def cac(self, window=None) -> float:
        """Fully loaded CAC: (acquisition costs + spend) in ``window`` (the reporting window) / the
        window's new customers (SPEC ``cac``)."""
        window = window or self.ctx.window
        return safe_div(self.acquisition_in(window), self.m.volumes.count("new_customers", window))

    @cached_property
    def cac_paid(self) -> float:
        """Paid-only CAC of the window: all spend / all new customers (the channel table's total)."""
        return float(self.m.channel.total["cac"])

    def unit_economics_at(self, month: pd.Period, cac: float = np.nan) -> dict:
        """The SPEC scalars as they stood at the end of ``month``."""
        return unit_economics(self.bridge, month.end_time.normalize(),
                              churn_window_months=self.params.churn_window_months,
                              gross_margin=self.params.gross_margin, cac=cac)

    @cached_property
    def _scalars(self) -> dict:
        keys = ("mrr", "arpu", "customers", "logo_churn_rate", "ltv", "nrr", "grr", "quick_ratio", "ltv_to_cac",
                "cac_payback_months")
        if not self.has_mrr:
            s = {k: np.nan for k in keys}
        else:
            s = self.unit_economics_at(self.ctx.last, cac=self.cac())
        s["cac"] = self.cac()
        s["cac_paid_only"] = self.cac_paid
        last = self.trailing[self.trailing["month"] == self.ctx.last] if self.has_mrr else pd.DataFrame()
        s["nrr_t12m"] = float(last["nrr"].iloc[0]) if len(last) else np.nan
        s["grr_t12m"] = float(last["grr"].iloc[0]) if len(last) else np.nan
        return s

    def scalars(self) -> dict:
        return dict(self._scalars)

    @cached_property
    def monthly(self) -> pd.DataFrame:
        """Per month of the bridge: LTV as it stood at that month's end (the same function as the
        scalar, so the last month equals it), CAC over the trailing three months, LTV:CAC and payback
        on that trailing CAC."""
        if not self.has_mrr:
            return pd.DataFrame(columns=["month", "ltv", "cac_trailing", "ltv_to_cac", "cac_payback_months"])
        u = unit_economics_by_month(self.bridge, churn_window_months=self.params.churn_window_months,
                                    gross_margin=self.params.gross_margin)
        cac = pd.Series([self.cac(type(self.ctx.window)(m - (TRAILING_CAC_MONTHS - 1), m)) for m in u.index],
                        index=u.index, dtype="float64")
        return pd.DataFrame({"month": u.index, "ltv": u["ltv"].to_numpy(), "cac_trailing": cac.to_numpy(),
                             "ltv_to_cac": safe_div(u["ltv"], cac).to_numpy(),
                             "cac_payback_months": safe_div(cac, u["arpu"] * self.params.gross_margin).to_numpy()})

    @cached_property
    def cac_monthly(self) -> pd.DataFrame | None:
        """CAC per month, fully loaded and paid only, with the same over the trailing three months
        (the monthly indicators' CAC)."""
        if self.acquisition is None or not self.has_mrr:
            return None
        m = cac_by_month(self.acquisition, self.bridge)
        trailing = lambda col: m[col].rolling(TRAILING_CAC_MONTHS, min_periods=1).sum()  # noqa: E731
        m["cac_trailing"] = safe_div(trailing("total"), trailing("new_customers"))
        m["paid_cac_trailing"] = safe_div(trailing("spend"), trailing("new_customers"))
        return m

    @cached_property
    def cac_quarterly(self) -> pd.DataFrame | None:
        """CAC by quarter (the last eight, the current one to date), fully loaded and paid only, with
        LTV:CAC (window LTV) and payback on ARPU of the last full month; magic number."""
        if self.acquisition is None or not self.has_mrr:
            return None
        q = cac_by_quarter(self.acquisition, self.bridge)
        q = q[q["quarter"] <= self.ctx.last.asfreq("Q")].tail(8).copy()
        s = self.scalars()
        q["ltv_to_cac"] = safe_div(s["ltv"], q["cac"])
        q["payback_months"] = safe_div(q["cac"], s["arpu"] * self.params.gross_margin)
        if self.magic is not None:
            q = q.merge(self.magic[["quarter", "magic_number", "why"]].rename(columns={"why": "magic_number_why"}),
                        on="quarter", how="left")
        q["partial"] = [p.asfreq("M", "end") > self.ctx.last for p in q["quarter"]]
        q["period"] = [self.ctx.period_label(self.ctx.quarter_window(p)) for p in q["quarter"]]
        return q.reset_index(drop=True)

    @cached_property
    def magic(self) -> pd.DataFrame | None:
        if self.acquisition is None or not self.has_mrr:
            return None
        return magic_number(self.bridge, self.acquisition, last=self.ctx.last,
                            first_real=getattr(self.ctx, "history_start", None))

    def last_magic(self) -> tuple[float, str | None]:
        """The magic number of the last full quarter, and that quarter."""
        m = self.magic
        if m is None or m.empty:
            return np.nan, None
        last = self.ctx.last
        done = m[m["quarter"] <= last.asfreq("Q")] if last == last.asfreq("Q").asfreq("M", "end") \
            else m[m["quarter"] < last.asfreq("Q")]
        return (float(done["magic_number"].iloc[-1]), str(done["quarter"].iloc[-1])) if len(done) else (np.nan, None)

    @cached_property
    def cost_to_serve(self) -> pd.DataFrame | None:
        return None if self.service is None or not self.has_mrr else cost_to_serve(self.service, self.bridge)

    @cached_property
    def last_cost_to_serve(self) -> float:
        c = self.cost_to_serve
        if c is None or not (c["month"] == self.ctx.last).any():
            return np.nan
        return float(c.loc[c["month"] == self.ctx.last, "cost_to_serve"].iloc[0])

    @cached_property
    def ltv_churn_events(self) -> int:
        """Churn events behind the headline LTV: customers churned over the trailing
        ``churn_window_months`` full months (the months its churn rate averages over)."""
        if not self.has_mrr:
            return 0
        b = self.bridge
        last = self.ctx.last
        span = (b["month"] > last - self.params.churn_window_months) & (b["month"] <= last)
        return int(b.loc[span, "churned_customers"].sum())

    def churn_drivers(self, by: str = "segment") -> pd.DataFrame | None:
        """Churned MRR in the window by customer ``segment`` (or channel) against its share of MRR,
        with the customers churned behind it (``churned_customers``: a share resting on a few of
        them is not a finding)."""
        customers = self.ctx.get("customers")
        if customers is None or by not in customers or not self.has_mrr:
            return None
        w = self.ctx.window
        mv = self.movements
        mv = mv[(mv["month"] >= w.first) & (mv["month"] <= w.last)]
        group = customers.set_index("customer_id")[by]
        lost = mv[mv["movement"] == "churn"]
        lost_group = lost["customer_id"].map(group).fillna("unknown")
        churned = lost.groupby(lost_group)["amount"].sum().abs()
        now = self.cmrr[self.cmrr["month"] == w.first - 1]
        base = now.groupby(now["customer_id"].map(group).fillna("unknown"))["mrr"].sum()
        out = pd.DataFrame({"churned_mrr": churned, "starting_mrr": base,
                            "churned_customers": lost_group.value_counts()}).fillna(0)
        out["churned_customers"] = out["churned_customers"].astype("int64")
        out["share_of_churned_mrr"] = safe_div(out["churned_mrr"], out["churned_mrr"].sum())
        out["share_of_mrr"] = safe_div(out["starting_mrr"], out["starting_mrr"].sum())
        out.index.name = by
        return out.sort_values("churned_mrr", ascending=False)

    @cached_property
    def by_group(self) -> dict[str, pd.DataFrame]:
        """LTV, CAC, LTV:CAC and payback per acquisition channel and per segment (where customers carry
        them). A channel's CAC and new customers are the channel table's (paid spend / the channel's
        new customers); a segment's CAC is the blended fully loaded CAC. ``churn_events`` counts the
        churns behind each group's churn rate (and so its LTV): an LTV over fewer than ``min_sample``
        of them is marked and never ranked (SPEC "Small samples")."""
        customers = self.ctx.get("customers")
        out = {}
        if customers is None or not self.has_mrr:
            return out
        new = self.m.volumes.new_customers
        w = self.ctx.window
        new = new[(new["month"] >= w.first) & (new["month"] <= w.last)]
        for by in ("channel", "segment"):
            if by not in customers:
                continue
            r = self.m.cohort.by[by].set_index(by)  # the cohort page's own per-group LTV
            if by == "channel":
                t = self.m.channel.table
                r = r.reindex(r.index.union(t.index[t["customers"] > 0]))
                # a channel with new customers but no MRR history has no churn events behind an LTV
                r["churn_events"] = r["churn_events"].fillna(0).astype("int64")
                r["new_in_window"] = t["customers"].reindex(r.index).fillna(0)
                r["cac"] = t["cac"].reindex(r.index)
                r["cac_basis"] = "paid spend"
            else:
                r["new_in_window"] = new[by].value_counts().reindex(r.index).fillna(0)
                r["cac"] = self.cac()
                r["cac_basis"] = "blended"
            r["ltv_to_cac"] = safe_div(r["ltv"], r["cac"])
            r["payback_months"] = safe_div(r["cac"], r["arpu"] * self.params.gross_margin)
            out[by] = r
        return out

    BRIDGE_KEYS = ["month", "starting_mrr", "new", "expansion", "contraction", "churn", "reactivation", "ending_mrr",
                   "customers", "churned_customers", "logo_churn_rate", "arpu", "gross_revenue_churn",
                   "net_revenue_churn", "grr", "nrr", "quick_ratio"]

    def tables(self) -> dict:
        from .serialise import records

        if not self.has_mrr:  # the SPEC's keys stay present, empty
            return {"mrr_bridge": []}
        out = {"mrr_bridge": records(self.bridge[[k for k in self.BRIDGE_KEYS if k in self.bridge]])}
        if self.magic is not None:
            out["magic_number"] = records(self.magic)
        if self.cost_to_serve is not None:
            out["cost_to_serve"] = records(self.cost_to_serve)
        return out
