"""Retention cohorts (SPEC "Retention cohorts"): logo and revenue retention by first paid month,
by acquisition channel and segment, and funnel cohorts over time.

Input is the dense customer-month MRR table of :mod:`kpi_kit.mrr` (``customer_id``, ``month``,
``mrr``). A customer's cohort is its first month with month-end MRR > 0; a customer who churns
and returns stays in that cohort and counts as active again when it pays.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from .._dates import NO_PERIOD, month_label, ordinals, to_day
from .._math import safe_div, wilson_interval


def first_paid_month(cmrr: pd.DataFrame, *, customer_col="customer_id") -> pd.Series:
    """Customer -> first month with MRR > 0."""
    paid = cmrr[cmrr["mrr"] > 0]
    return paid.groupby(customer_col)["month"].min()


def _with_age(cmrr: pd.DataFrame, grain: str, customer_col: str) -> pd.DataFrame:
    start = cmrr[customer_col].map(first_paid_month(cmrr, customer_col=customer_col))
    c = cmrr.assign(start=start).dropna(subset=["start"])
    if grain == "quarter":
        last_month = c["month"].max()
        # a quarter's value is read at its last month; the current partial quarter is left out
        quarter = c["month"].dt.asfreq("Q")
        is_q_end = c["month"] == quarter.dt.asfreq("M", "end")
        complete = quarter.dt.asfreq("M", "end") <= last_month
        c = c[is_q_end & complete].assign(cohort=c["start"].dt.asfreq("Q"), at=quarter[is_q_end & complete])
        c["period"] = ordinals(c["at"]) - ordinals(c["cohort"])
    else:
        c = c.assign(cohort=c["start"])
        c["period"] = ordinals(c["month"]) - ordinals(c["cohort"])
    return c[c["period"] >= 0]


def retention_cohorts(cmrr: pd.DataFrame, grain: str = "month", *, min_cohort_size: int = 0,
                      customer_col="customer_id") -> pd.DataFrame:
    """Tidy retention triangle: one row per cohort and period ``k`` the cohort has reached.

    Columns: cohort, period, customers (cohort size), active (paying at the end of period k),
    logo_rate, cohort_mrr_0, mrr, revenue_rate (= mrr / cohort_mrr_0; above 1 with expansion),
    small (cohort size < ``min_cohort_size``). With ``grain="quarter"`` cohorts are quarters of
    the first paid month, k counts quarters and values are read at each quarter's last month.

    Examples
    --------
    >>> c = pd.DataFrame({"customer_id": ["a", "a", "b", "b"], "mrr": [10.0, 0.0, 0.0, 20.0],
    ...                   "month": pd.PeriodIndex(["2026-01", "2026-02"] * 2, freq="M")})
    >>> retention_cohorts(c)[["cohort", "period", "logo_rate"]].astype(str).values.tolist()
    [['2026-01', '0', '1.0'], ['2026-01', '1', '0.0'], ['2026-02', '0', '1.0']]
    """
    c = _with_age(cmrr, grain, customer_col)
    g = c.assign(paying=c["mrr"] > 0).groupby(["cohort", "period"])
    out = pd.DataFrame({"active": g["paying"].sum().astype("int64"), "mrr": g["mrr"].sum()}).reset_index()
    size = c[c["period"] == 0].groupby("cohort")[customer_col].nunique() if grain == "month" else \
        c.drop_duplicates(customer_col).groupby("cohort")[customer_col].size()
    mrr0 = out[out["period"] == 0].set_index("cohort")["mrr"]
    if grain == "quarter":  # cohort MRR at k=0 is read at the quarter end too
        mrr0 = out[out["period"] == 0].set_index("cohort")["mrr"]
    out["customers"] = out["cohort"].map(size).fillna(0).astype("int64")
    out["cohort_mrr_0"] = out["cohort"].map(mrr0)
    out["logo_rate"] = safe_div(out["active"], out["customers"])
    out["revenue_rate"] = safe_div(out["mrr"], out["cohort_mrr_0"])
    out["small"] = out["customers"] < min_cohort_size
    cols = ["cohort", "period", "customers", "active", "logo_rate", "cohort_mrr_0", "mrr", "revenue_rate", "small"]
    return out[cols].sort_values(["cohort", "period"]).reset_index(drop=True)


def _label(p: pd.Period) -> str:
    return month_label(p) if p.freqstr.startswith("M") else str(p)


def retention_triangle(cohorts: pd.DataFrame, value: str = "logo_rate") -> pd.DataFrame:
    """Wide triangle: rows cohorts ('YYYY-MM' or 'YYYYQn'), columns k, NaN where not reached."""
    t = cohorts.pivot(index="cohort", columns="period", values=value)
    t.index = [_label(p) for p in t.index]
    return t


def average_curve(cohorts: pd.DataFrame, value: str = "logo_rate", *, weighted: bool = True,
                  min_sample: int = 0) -> pd.DataFrame:
    """Average retention per age over the cohorts that reached it (small cohorts excluded).

    Parameters
    ----------
    cohorts : DataFrame
        :func:`retention_cohorts`.
    value : {"logo_rate", "revenue_rate"}
        Logo retention (customers still paying) or revenue retention (cohort MRR over its start).
    weighted : bool
        Pool customers (or MRR) over the cohorts; False averages the cohorts' rates.
    min_sample : int
        Ages with fewer customers behind them are flagged ``small`` (SPEC "Small samples").

    Returns
    -------
    DataFrame
        One row per age: ``period``, ``rate``, ``cohorts`` (cohorts old enough), ``customers`` (their
        customers: the n of the point), ``active`` (of them still paying at that age; the successes
        of a logo rate), ``small`` (``customers`` < ``min_sample``) and, for a weighted logo curve,
        ``low`` / ``high``: the rate's 95 % Wilson interval (NaN otherwise). Few cohorts reach the
        oldest ages, so a curve read there rests on few customers: that is what ``small`` marks.

    Examples
    --------
    >>> c = pd.DataFrame({"cohort": [1, 1, 2], "period": [0, 1, 0], "customers": [20, 20, 15],
    ...                   "active": [20, 16, 15], "logo_rate": [1.0, 0.8, 1.0], "small": False})
    >>> average_curve(c, min_sample=30)[["customers", "active", "small"]].values.tolist()
    [[35, 35, False], [20, 16, True]]
    """
    c = cohorts[~cohorts["small"]]
    num, den = ("active", "customers") if value == "logo_rate" else ("mrr", "cohort_mrr_0")
    g = c.groupby("period")
    rate = safe_div(g[num].sum(), g[den].sum()) if weighted else g[value].mean()
    customers = g["customers"].sum().astype("int64")
    active = g["active"].sum().astype("int64")
    out = pd.DataFrame({"period": rate.index, "rate": np.asarray(rate, dtype=float),
                        "cohorts": g.size().to_numpy(), "customers": customers.to_numpy(),
                        "active": active.to_numpy(), "small": (customers < min_sample).to_numpy()})
    # a pooled logo rate is a share of customers: its Wilson interval; revenue retention is no share
    share = value == "logo_rate" and weighted
    bounds = [wilson_interval(a, n) if share else (np.nan, np.nan) for a, n in zip(active, customers)]
    out["low"] = [b[0] for b in bounds]
    out["high"] = [b[1] for b in bounds]
    return out


def retention_records(cohorts: pd.DataFrame, value: str = "logo_rate") -> list[dict]:
    """Rows for metrics.json: ``{"cohort": "2026-01", "month": 0, "rate": 1.0}`` (NaN -> None)."""
    return [{"cohort": _label(r.cohort), "month": int(r.period),
             "rate": None if pd.isna(getattr(r, value)) else float(getattr(r, value))}
            for r in cohorts.itertuples()]


def _group_of(cmrr: pd.DataFrame, customers: pd.DataFrame, by: str, customer_col: str) -> pd.Series:
    mapping = customers.drop_duplicates(customer_col).set_index(customer_col)[by]
    return cmrr[customer_col].map(mapping).fillna("unknown")


def retention_curves_by(cmrr: pd.DataFrame, customers: pd.DataFrame, by: str = "channel", *,
                        customer_col="customer_id", min_cohort_size: int = 0) -> pd.DataFrame:
    """Pooled logo retention curve per group: group, period, rate, cohorts, customers (the customers
    old enough to stand behind the point: its n) and active (of them, still paying)."""
    group = _group_of(cmrr, customers, by, customer_col)
    frames = []
    for name, part in cmrr.groupby(group):
        coh = retention_cohorts(part, min_cohort_size=0, customer_col=customer_col)
        g = coh.groupby("period")
        frames.append(pd.DataFrame({by: name, "period": g.size().index,
                                    "rate": np.asarray(safe_div(g["active"].sum(), g["customers"].sum()), float),
                                    "cohorts": g.size().to_numpy(), "customers": g["customers"].sum().to_numpy(),
                                    "active": g["active"].sum().to_numpy()}))
    return pd.concat(frames, ignore_index=True) if frames else \
        pd.DataFrame(columns=[by, "period", "rate", "cohorts", "customers", "active"])


GROUP_AGES = (6, 12, 24)  # months at which retention by channel and segment is read


def retention_by(cmrr: pd.DataFrame, customers: pd.DataFrame, by: str = "channel", *, months=GROUP_AGES,
                 gross_margin: float = 1.0, customer_col="customer_id",
                 churn_window_months: int | None = None) -> pd.DataFrame:
    """Per group (acquisition channel, segment, …): customers, logo retention at ``months``
    (pooled over customers whose first paid month is at least that old), monthly logo churn rate
    (churn events / paying customer-months), ARPU (average MRR per paying customer-month),
    realised revenue per customer over its first k months, and LTV = ARPU × margin / churn
    (NaN without churn). Customers missing from ``customers`` form the group "unknown".

    The counts behind each rate come with it (SPEC "Small samples"): ``customers_{k}m`` (customers
    at least k months old: the n of both ``logo_retention_{k}m`` and ``revenue_per_customer_{k}m``),
    ``retained_{k}m`` (of them, paying at age k), ``churn_events`` and ``paying_months`` (the
    churn rate's numerator and exposure; the LTV rests on ``churn_events``). Older ages are reached
    by fewer customers, so a value at 24 months can rest on a handful of them.

    With ``churn_window_months`` the churn rate, ARPU and LTV are those of the last that many months
    (churn events in them / customers paying at the month end before each), the headline LTV's
    basis (SPEC: churn over the last ``churn_window_months`` full months): a group's churn over its
    whole history would set a rate that held years ago against today's headline."""
    c = cmrr.assign(group=_group_of(cmrr, customers, by, customer_col))
    start = c[customer_col].map(first_paid_month(cmrr, customer_col=customer_col))
    start_o = ordinals(start)
    c = c.assign(age=np.where(start_o == NO_PERIOD, -1, ordinals(c["month"]) - start_o))
    c = c[c["age"] >= 0].sort_values([customer_col, "month"])
    last = c["month"].max()
    paying = c["mrr"] > 0
    prev_paying = paying.groupby(c[customer_col]).shift(fill_value=False)
    recent = (c["month"] > last - churn_window_months) if churn_window_months else pd.Series(True, index=c.index)
    churn_events = (~paying & prev_paying & recent).groupby(c["group"]).sum()
    paying_months = (prev_paying & recent).groupby(c["group"]).sum()  # exposure: paying at the previous month end
    sizes = c.drop_duplicates(customer_col).groupby("group").size()
    out = pd.DataFrame({"customers": sizes})
    tenure_ok = last.ordinal - ordinals(start.loc[c.index])
    counts = {}
    for k in months:
        at_k = c[c["age"] == k]
        # the grid is dense: a customer at least k months old has exactly one row at age k
        n_k = at_k.groupby("group").size().reindex(out.index).fillna(0).astype("int64")
        kept = (at_k["mrr"] > 0).groupby(at_k["group"]).sum().reindex(out.index).fillna(0).astype("int64")
        out[f"logo_retention_{k}m"] = safe_div(kept, n_k)
        old = c[tenure_ok >= k]
        realised = old[old["age"] < k].groupby([customer_col, "group"])["mrr"].sum().groupby(level="group").mean()
        out[f"revenue_per_customer_{k}m"] = realised.reindex(out.index)
        counts |= {f"customers_{k}m": n_k, f"retained_{k}m": kept}
    events = churn_events.reindex(out.index).fillna(0).astype("int64")
    exposure = paying_months.reindex(out.index).fillna(0).astype("int64")
    out["churn_rate"] = safe_div(events, exposure)
    arpu = c[paying & recent].groupby("group")["mrr"].mean()
    out["arpu"] = arpu.reindex(out.index)
    out["ltv"] = np.where(out["churn_rate"] > 0, out["arpu"] * gross_margin / out["churn_rate"].where(out["churn_rate"] > 0),
                          np.nan)
    out = out.assign(**counts, churn_events=events, paying_months=exposure)
    out.index.name = by
    return out.reset_index()


def funnel_cohort_curves(contacts: pd.DataFrame, as_of, *, created_col="created_at", converted_col="customer_at",
                         max_months: int = 24) -> pd.DataFrame:
    """Cumulative conversion by months since creation, per creation-month cohort.

    Row (cohort, k): contacts created in the cohort month and how many converted by the end of
    month cohort + k (and by ``as_of``). Ages a cohort has not reached are not emitted; the month
    of ``as_of`` is emitted and flagged ``partial`` when ``as_of`` is not its last day.
    """
    as_of = to_day(as_of)
    c = contacts[contacts[created_col] <= as_of]
    cohort = c[created_col].dt.to_period("M")
    conv = c[converted_col].where(c[converted_col] <= as_of) if converted_col in c else pd.Series(pd.NaT, index=c.index)
    conv_o = ordinals(conv)
    age = pd.Series(np.where(conv_o == NO_PERIOD, np.nan, conv_o - ordinals(cohort)), index=c.index)
    now = as_of.to_period("M")
    rows = []
    sizes = cohort.value_counts()
    conv_counts = pd.DataFrame({"cohort": cohort, "age": age}).dropna().groupby(["cohort", "age"]).size()
    for p, n in sizes.sort_index().items():
        reach = min((now - p).n, max_months)
        per_age = conv_counts.loc[p] if p in conv_counts.index.get_level_values(0) else pd.Series(dtype=float)
        cum = per_age.reindex(range(reach + 1), fill_value=0).cumsum() if reach >= 0 else pd.Series(dtype=float)
        for k, v in cum.items():
            rows.append({"cohort": p, "months_since": int(k), "contacts": int(n), "converted": int(v),
                         "rate": v / n if n else np.nan, "partial": bool(p + k == now and as_of != now.end_time.normalize())})
    return pd.DataFrame(rows, columns=["cohort", "months_since", "contacts", "converted", "rate", "partial"])


class CohortMetrics:
    """Retention cohorts of one client run (by first paid month or quarter), by channel and segment,
    and funnel cohorts over time; the MRR grid is the economics domain's.

    Examples
    --------
    >>> c = compute(load_client(load_params("data/clients/demo.yaml"))).cohort  # doctest: +SKIP
    >>> c.tables()["logo_retention"][0]  # doctest: +SKIP
    {'cohort': '2024-01', 'month': 0, 'rate': 1.0}
    """

    def __init__(self, m):
        self.m = m
        self.ctx = m.ctx
        self.params = m.ctx.params
        self.grain = self.params.cohort_grain
        self.has_mrr = m.ctx.has_mrr
        self.has_customers = self.has_mrr and m.ctx.has("customers")

    @property
    def cmrr(self) -> pd.DataFrame | None:
        return self.m.economics.cmrr

    @cached_property
    def cohorts(self) -> pd.DataFrame:
        """The retention triangle; without the cohorts that started before the first month of real
        history (history rebuilt from a snapshot holds only the customers still there, so their
        retention would read 100 % until the snapshot)."""
        return self._triangle(self.grain)

    @cached_property
    def quarterly_cohorts(self) -> pd.DataFrame:
        """The retention triangle by quarter of first payment: monthly cohorts pooled three by three
        (what the cohort page draws when every monthly cohort is too small to read alone)."""
        return self.cohorts if self.grain == "quarter" else self._triangle("quarter")

    def _triangle(self, grain: str) -> pd.DataFrame:
        c = retention_cohorts(self.cmrr, grain, min_cohort_size=self.params.min_cohort_size)
        first = getattr(self.ctx, "history_start", None)
        if first is None or c.empty:
            return c
        start = [p.asfreq("M", "start") if not p.freqstr.startswith("M") else p for p in c["cohort"]]
        return c[[p >= first for p in start]].reset_index(drop=True)

    @cached_property
    def logo_curve(self) -> pd.DataFrame:
        return average_curve(self.cohorts, "logo_rate", min_sample=self.params.min_sample)

    @cached_property
    def revenue_curve(self) -> pd.DataFrame:
        return average_curve(self.cohorts, "revenue_rate", min_sample=self.params.min_sample)

    def at_age(self, curve: pd.DataFrame, k: int) -> float:
        """The pooled curve's rate at age ``k`` (NaN when no cohort is that old)."""
        hit = curve.loc[curve["period"] == k, "rate"]
        return float(hit.iloc[0]) if len(hit) else np.nan

    def point(self, curve: pd.DataFrame, k: int) -> dict:
        """The pooled curve at age ``k``: ``rate``, ``customers`` (its n), ``active``, ``cohorts``,
        ``small``, ``low`` and ``high``; a rate of NaN over 0 customers when no cohort is that old."""
        hit = curve[curve["period"] == k]
        if hit.empty:
            return {"rate": np.nan, "customers": 0, "active": 0, "cohorts": 0, "small": True, "low": np.nan,
                    "high": np.nan}
        r = hit.iloc[0]
        return {"rate": float(r["rate"]), "customers": int(r["customers"]), "active": int(r["active"]),
                "cohorts": int(r["cohorts"]), "small": bool(r["small"]), "low": float(r["low"]),
                "high": float(r["high"])}

    def first_small_age(self, curve: pd.DataFrame) -> int | None:
        """The youngest age from which every older point rests on fewer than ``min_sample``
        customers (None when the curve's last point is not small): where the curve stops being
        read."""
        small = curve["small"].to_numpy(dtype=bool)
        if not len(small) or not small[-1]:
            return None
        i = len(small) - 1
        while i > 0 and small[i - 1]:
            i -= 1
        return int(curve["period"].iloc[i])

    @cached_property
    def by(self) -> dict[str, pd.DataFrame]:
        if not self.has_customers:
            return {}
        customers = self.ctx.data["customers"]
        return {b: retention_by(self.cmrr, customers, by=b, gross_margin=self.params.gross_margin,
                                churn_window_months=self.params.churn_window_months)
                for b in ("channel", "segment") if b in customers}

    def curves_by(self, by: str) -> pd.DataFrame:
        return retention_curves_by(self.cmrr, self.ctx.data["customers"], by=by)

    @cached_property
    def funnel_curves(self) -> pd.DataFrame:
        return funnel_cohort_curves(self.ctx.data["contacts"], self.ctx.as_of)

    @property
    def has_conversions(self) -> bool:
        f = self.funnel_curves
        return not f.empty and f["converted"].sum() > 0

    def tables(self) -> dict:
        if not self.has_mrr:  # the SPEC's keys stay present, empty
            return {"logo_retention": [], "revenue_retention": []}
        return {"logo_retention": retention_records(self.cohorts, "logo_rate"),
                "revenue_retention": retention_records(self.cohorts, "revenue_rate")}
