"""The plan: from the goal to the KPIs (SPEC "Plan"). Numbers only.

- **Bookings target** for the next four quarters: the targets file's bookings rows where a quarter has
  one, else the last 12 months' bookings × (1 + mean year-over-year growth + uplift) (the revenue
  target's rule applied to bookings), split over the quarters by last year's quarterly shares.
- **Target cascade** per quarter: won deals = bookings / average deal size; opportunities = won deals /
  win rate; each earlier stage = the next stage / that step's period conversion over the window;
  sessions = leads × visits per lead; paid spend = leads × blended CPL (today's channel mix: paid
  leads × paid CPL). ``low`` / ``high`` carry the 95 % Wilson intervals of every rate divided by.
- **Pipeline coverage** = open pipeline / bookings still to book this quarter; **required coverage** =
  1 / win rate; **pipeline velocity** = open deals × win rate × average deal size / mean sales cycle.
- **ARR** = 12 × MRR, net new ARR by month; the top 10 customers' share of MRR; the largest churned
  accounts of the window.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from .._dates import Window
from .._math import safe_div, wilson_interval
from .coverage import FULL

QUARTERS_AHEAD = 4
TOP_CUSTOMERS = 10
CHURNED_SHOWN = 10
FORECAST_BASIS = 3  # months of known movements the base forecast needs to be shown


def rate_with_interval(successes: float, n: float) -> tuple[float, float, float]:
    """(rate, low, high) of ``successes / n``: the 95 % Wilson interval where the rate is a share
    (successes ≤ n), else the rate alone as both bounds (a period rate above 1 has no interval).

    Examples
    --------
    >>> [round(v, 4) for v in rate_with_interval(8, 10)]
    [0.8, 0.4902, 0.9433]
    >>> rate_with_interval(12, 10)
    (1.2, 1.2, 1.2)
    """
    rate = safe_div(successes, n)
    if np.isnan(rate):
        return np.nan, np.nan, np.nan
    if successes > n:
        return float(rate), float(rate), float(rate)
    low, high = wilson_interval(successes, n)
    return float(rate), float(low), float(high)


def cascade(bookings: float, avg_deal_size: float, steps: list[tuple[str, float, float, float]], *,
            visits_per_lead: float = np.nan, cost_per_lead: float = np.nan, leads_stage: str = "lead") -> pd.DataFrame:
    """The volumes one quarter's bookings target needs, stage by stage, with their 95 % ranges.

    Parameters
    ----------
    bookings : float
        The quarter's bookings target.
    avg_deal_size : float
        Won amount per won deal: won deals needed = bookings / avg_deal_size (no interval: an amount).
    steps : list of (stage, rate, low, high)
        From the opportunity back to the first stage: ``stage``'s volume = the next volume / ``rate``
        (the first step's rate is the win rate, turning won deals into opportunities). ``low`` /
        ``high`` bound the rate; the stage's range divides the next stage's range by them.
    visits_per_lead, cost_per_lead : float
        Sessions = leads × visits per lead; paid spend = leads × blended CPL (spend / leads).
    leads_stage : str
        The stage whose volume sessions and spend multiply.

    Returns
    -------
    DataFrame
        ``stage`` (bookings, won_deals, the stages, sessions, spend), ``required``, ``low``, ``high``.
        A zero or unknown rate leaves its stage and every earlier one n/a, never infinite.

    Examples
    --------
    >>> c = cascade(100_000.0, 20_000.0, [("opportunity", 0.25, 0.2, 0.3), ("lead", 0.1, 0.08, 0.125)],
    ...             visits_per_lead=40.0, cost_per_lead=50.0)
    >>> c.set_index("stage")["required"].round(2).to_dict()
    {'bookings': 100000.0, 'won_deals': 5.0, 'opportunity': 20.0, 'lead': 200.0, 'sessions': 8000.0, 'spend': 10000.0}
    >>> c.set_index("stage").loc["lead", ["low", "high"]].round(2).tolist()
    [133.33, 312.5]
    """
    won = safe_div(bookings, avg_deal_size)
    rows = [("bookings", bookings, bookings, bookings), ("won_deals", won, won, won)]
    value, low, high = won, won, won
    for stage, rate, r_low, r_high in steps:
        ok = lambda r: not (r is None or np.isnan(r) or r <= 0)  # noqa: E731 - a zero rate: no volume reaches it
        value = value / rate if ok(rate) else np.nan
        low = low / r_high if ok(r_high) and not np.isnan(value) else np.nan
        high = high / r_low if ok(r_low) and not np.isnan(value) else np.nan
        rows.append((stage, value, low, high))
    out = pd.DataFrame(rows, columns=["stage", "required", "low", "high"])
    leads = out.set_index("stage").reindex([leads_stage]).iloc[0]
    for stage, factor in (("sessions", visits_per_lead), ("spend", cost_per_lead)):
        if not np.isnan(factor):
            out.loc[len(out)] = (stage, leads["required"] * factor, leads["low"] * factor, leads["high"] * factor)
    return out


def quarter_shares(amounts: pd.Series) -> pd.Series:
    """Each quarter's share of the four quarters' total (NaN when the total is unknown or 0).

    Examples
    --------
    >>> quarter_shares(pd.Series([10.0, 30.0, 20.0, 40.0])).tolist()
    [0.1, 0.3, 0.2, 0.4]
    """
    total = amounts.sum(min_count=len(amounts)) if len(amounts) else np.nan
    return amounts / total if total and not np.isnan(total) else amounts * np.nan


def pipeline_velocity(open_deals: float, win_rate: float, avg_deal_size: float, cycle_days: float) -> float:
    """$ per day the open pipeline turns into bookings: open deals × win rate × average deal size /
    mean sales cycle in days (n/a when any part is unknown or the cycle is 0).

    Examples
    --------
    >>> pipeline_velocity(100, 0.25, 20_000.0, 125.0)
    4000.0
    """
    return float(safe_div(open_deals * win_rate * avg_deal_size, cycle_days))


class PlanMetrics:
    """The plan of one client run: targets, cascade, coverage, velocity, ARR and concentration.

    Examples
    --------
    >>> p = compute(load_client(load_params("data/clients/demo.yaml"))).plan  # doctest: +SKIP
    >>> p.table.query("stage == 'lead'")  # doctest: +SKIP
    """

    def __init__(self, m):
        self.m = m
        self.ctx = m.ctx

    # -- quarters ---------------------------------------------------------------------------------
    @cached_property
    def quarters(self) -> list[pd.Period]:
        """The four quarters planned: the one holding the month after the last full month, then three."""
        first = (self.ctx.last + 1).asfreq("Q")
        return [first + k for k in range(QUARTERS_AHEAD)]

    @cached_property
    def past_quarters(self) -> list[pd.Period]:
        """The last four full quarters (the run-rate's base), oldest first."""
        last_full = self.ctx.last.asfreq("Q") if self.ctx.last == self.ctx.last.asfreq("Q").asfreq("M", "end") \
            else self.ctx.last.asfreq("Q") - 1
        return [last_full - k for k in range(QUARTERS_AHEAD - 1, -1, -1)]

    def _quarter(self, q: pd.Period) -> Window:
        return Window(q.asfreq("M", "start"), q.asfreq("M", "end"))

    # -- the bookings target -------------------------------------------------------------------------
    @cached_property
    def yearly_bookings(self) -> pd.Series:
        """Bookings of complete 12-month periods, oldest first: the revenue target's rule for a complete
        period (:meth:`~kpi_kit.metrics.overview.OverviewMetrics.yearly_bookings`)."""
        return self.m.overview.yearly_bookings()

    @cached_property
    def bookings_rule(self) -> dict:
        """The revenue target's rule over bookings: last 12 months × (1 + mean YoY growth + uplift)."""
        from .overview import revenue_target

        return revenue_target(self.yearly_bookings, uplift=self.ctx.params.revenue_uplift)

    @cached_property
    def bookings_targets(self) -> pd.DataFrame:
        """One row per planned quarter: ``quarter``, ``target``, ``source`` (``targets file`` or
        ``growth rule``), and ``why`` where the target is n/a."""
        file = self._file_targets()
        rule = self.bookings_rule
        v = self.m.volumes
        base = [q - QUARTERS_AHEAD for q in self.quarters]  # last year's quarters, in the same order
        past = pd.Series([v.booked(self._quarter(b)) if v.bookings is not None and
                          v.booking_status(self._quarter(b)) == FULL else np.nan for b in base], dtype=float)
        shares = quarter_shares(past)
        rows = []
        for q, share in zip(self.quarters, shares):
            if q in file:
                rows.append({"quarter": q, "target": file[q], "source": "targets file", "why": ""})
            elif v.bookings is None:
                rows.append({"quarter": q, "target": np.nan, "source": "", "why": "no deals or revenue file"})
            elif np.isnan(rule["target"]):
                rows.append({"quarter": q, "target": np.nan, "source": "",
                             "why": rule.get("why") or "no complete year-over-year growth of bookings"})
            elif np.isnan(share):
                rows.append({"quarter": q, "target": np.nan, "source": "",
                             "why": "last year's quarters are not all covered by the bookings"})
            else:
                rows.append({"quarter": q, "target": rule["target"] * share, "source": "growth rule", "why": ""})
        return pd.DataFrame(rows, columns=["quarter", "target", "source", "why"])

    def _file_targets(self) -> dict:
        t = self.ctx.get("targets")
        if t is None or t.empty:
            return {}
        b = t[t["metric"] == "bookings"]
        out = {}
        for r in b.itertuples():
            q = r.period_start.to_period("Q")
            if r.period_start == q.start_time and r.period_end.normalize() == q.end_time.normalize():
                out[q] = float(r.target)
        return out

    # -- the rates the cascade divides by ------------------------------------------------------------
    @cached_property
    def rates(self) -> dict:
        """Window rates: average deal size, win rate, each step's period conversion, visits per lead,
        blended CPL; each with its interval and base count."""
        ctx, f, v = self.ctx, self.m.funnel, self.m.volumes
        w = ctx.window
        o = f.deal_outcomes(w)
        closed = o["won"] + o["lost"]
        out = {"avg_deal_size": o["avg_deal_size"],
               "win_rate": (*rate_with_interval(o["won"], closed), closed)}
        from .funnel import count_metric

        before = [s for s in ctx.stages[: ctx.stages.index("opportunity")]] if "opportunity" in ctx.stages else []
        chain = [*before, "opportunity"] if before else []
        steps = {}
        for a, b in zip(chain, chain[1:]):
            ma, mb = count_metric(a), count_metric(b)
            na = v.count(ma, w) if v.available(ma) else np.nan
            nb = v.count(mb, w) if v.available(mb) else np.nan
            steps[a] = (*rate_with_interval(nb, na), na)
        out["steps"] = steps  # stage -> (rate to the next stage, low, high, n)
        # the channel table's Total row: the same visits per lead and blended CPL the channel page shows
        total = self.m.channel.total if self.m.channel.has_contacts else pd.Series(dtype=float)
        out["visits_per_lead"] = float(total.get("visits_per_lead", np.nan))
        out["cost_per_lead"] = float(total.get("cpl", np.nan))
        return out

    @cached_property
    def first_stage(self) -> str | None:
        """The stage sessions and spend multiply: the first of the cascade's stages."""
        stages = self.rates["steps"]
        return next(iter(stages), None)

    # -- the run-rate ---------------------------------------------------------------------------------
    @cached_property
    def current(self) -> dict:
        """Each cascade stage's volume per quarter, the mean of the last four full quarters (n/a where
        one of them is not fully covered)."""
        from .funnel import count_metric

        v, ctx = self.m.volumes, self.ctx
        windows = [self._quarter(q) for q in self.past_quarters]

        def mean(values):
            values = [float(x) for x in values]
            return float(np.mean(values)) if values and not any(np.isnan(values)) else np.nan

        out = {}
        out["bookings"] = mean(v.booked(w) if v.bookings is not None and v.booking_status(w) == FULL else np.nan
                               for w in windows)
        out["won_deals"] = mean(v.count("won_deals", w) if v.available("won_deals") and
                                v.status("won_deals", w) == FULL else np.nan for w in windows)
        for stage in [*self.rates["steps"], "opportunity"]:
            metric = count_metric(stage)
            out[stage] = mean(v.count(metric, w) if v.available(metric) and v.status(metric, w) == FULL else np.nan
                              for w in windows)
        o = self.m.overview
        for key, stem in (("sessions", "traffic"), ("spend", "spend")):
            rows = ctx.get(stem)
            out[key] = np.nan if rows is None else mean(
                float(rows.loc[w.contains(rows["date"]), key].sum()) if o.status(key, w) == FULL else np.nan
                for w in windows)  # a covered quarter without rows had none: 0
        return out

    # -- the cascade -------------------------------------------------------------------------------
    @cached_property
    def table(self) -> pd.DataFrame:
        """``tables.plan``: per planned quarter and stage, ``required`` with ``low`` / ``high``, the
        ``current`` run-rate and the ``change`` needed (required / current − 1)."""
        cols = ["quarter", "stage", "required", "low", "high", "current", "change"]
        if not self.m.funnel.has_deals:
            return pd.DataFrame(columns=cols)
        r = self.rates
        win = r["win_rate"]
        steps = [("opportunity", *win[:3])]
        for stage in reversed(list(r["steps"])):
            steps.append((stage, *r["steps"][stage][:3]))
        frames = []
        for t in self.bookings_targets.itertuples():
            c = cascade(t.target, r["avg_deal_size"], steps, visits_per_lead=r["visits_per_lead"],
                        cost_per_lead=r["cost_per_lead"], leads_stage=self.first_stage or "opportunity")
            c.insert(0, "quarter", t.quarter)
            frames.append(c)
        out = pd.concat(frames, ignore_index=True)
        out["current"] = out["stage"].map(self.current).astype(float)
        out["change"] = safe_div(out["required"], out["current"]) - 1
        return out[cols]

    def largest_rise(self, quarter: pd.Period | None = None) -> dict | None:
        """The funnel stage (not bookings, sessions or spend) needing the largest rise over its
        run-rate in ``quarter`` (the first planned one by default); None when no change is known."""
        t = self.table
        quarter = self.quarters[0] if quarter is None else quarter
        rows = t[(t["quarter"] == quarter) & ~t["stage"].isin(["bookings", "sessions", "spend"])].dropna(
            subset=["change"])
        if rows.empty:
            return None
        return rows.loc[rows["change"].idxmax()].to_dict()

    # -- coverage and velocity -------------------------------------------------------------------------
    @cached_property
    def coverage(self) -> dict:
        """This quarter's pipeline coverage against what is left to book, the coverage the win rate
        needs, and pipeline velocity with its four parts; ``why`` says what makes a figure n/a."""
        f, v, ctx = self.m.funnel, self.m.volumes, self.ctx
        q = self.quarters[0]
        targets = self.bookings_targets.set_index("quarter")["target"]
        target = float(targets.get(q, np.nan))
        booked = v.booked_between(q.start_time, ctx.as_of) if v.bookings is not None else np.nan
        remaining = target - (0.0 if np.isnan(booked) else booked)
        p = f.pipeline
        win, deal, cycle = self.rates["win_rate"][0], self.rates["avg_deal_size"], f.sales_cycle(ctx.window)
        why = ""
        if not f.has_deals:
            why = "no deals file"
        elif np.isnan(target):
            why = "no bookings target for the quarter"
        elif remaining <= 0:
            why = "the quarter's bookings target is already met"
        coverage = float(safe_div(p["pipeline"], remaining)) if not why else np.nan
        return {"quarter": q, "target": target, "booked": booked, "remaining": remaining,
                "open_pipeline": p["pipeline"], "open_deals": p["open_deals"], "coverage": coverage,
                "required": float(safe_div(1.0, win)), "win_rate": win, "avg_deal_size": deal,
                "cycle_days": cycle, "velocity": pipeline_velocity(p["open_deals"], win, deal, cycle) if
                f.has_deals else np.nan, "why": why}

    # -- ARR and concentration ------------------------------------------------------------------------
    @cached_property
    def arr(self) -> pd.DataFrame:
        """ARR (12 × month-end MRR) and net new ARR (12 × the month's MRR change) for every window month."""
        e = self.m.economics
        if not e.has_mrr:
            return pd.DataFrame(columns=["month", "arr", "net_new_arr"])
        b = e.bridge.set_index("month").reindex(self.ctx.window.months)
        return pd.DataFrame({"month": self.ctx.window.months, "arr": (12 * b["ending_mrr"]).to_numpy(),
                             "net_new_arr": (12 * (b["ending_mrr"] - b["starting_mrr"])).to_numpy()})

    @cached_property
    def concentration(self) -> dict:
        """The top 10 customers' share of the last full month's MRR."""
        c = self.ctx.cmrr
        if c is None or not self.m.economics.has_mrr:
            return {"share": np.nan, "customers": 0, "top": 0}
        last = c[(c["month"] == self.ctx.last) & (c["mrr"] > 0)]
        by = last.groupby("customer_id")["mrr"].sum().sort_values(ascending=False)
        top = by.head(TOP_CUSTOMERS)
        return {"share": float(safe_div(top.sum(), by.sum())), "customers": int(len(by)), "top": int(len(top))}

    @cached_property
    def churned_accounts(self) -> pd.DataFrame:
        """The largest accounts lost in the window: customer, month churned and the MRR they paid the
        month before (ids as the client's data gives them)."""
        mv = self.m.economics.movements
        cols = ["customer_id", "month", "mrr_lost"]
        if mv is None:
            return pd.DataFrame(columns=cols)
        w = self.ctx.window
        ch = mv[(mv["movement"] == "churn") & pd.PeriodIndex(mv["month"], freq="M").isin(w.months)]
        start = getattr(self.ctx, "history_start", None)
        if start is not None:  # rebuilt history: churn before it is no data
            ch = ch[pd.PeriodIndex(ch["month"], freq="M") >= start]
        out = pd.DataFrame({"customer_id": ch["customer_id"].astype(str).to_numpy(), "month": ch["month"].to_numpy(),
                            "mrr_lost": ch["previous"].astype(float).to_numpy()})
        return out.sort_values(["mrr_lost", "customer_id"], ascending=[False, True]).head(CHURNED_SHOWN).reset_index(
            drop=True)

    # -- the MRR forecast ------------------------------------------------------------------------------
    @cached_property
    def forecast_basis(self) -> int:
        """Months with known movements the base forecast rests on (fewer than 3: not shown)."""
        from .forecast import basis_months

        e = self.m.economics
        return basis_months(e.bridge, self.ctx.last) if e.has_mrr else 0

    @cached_property
    def mrr_forecast(self) -> pd.DataFrame:
        """``tables.forecast``: 12 months of MRR, base / target / worst (:func:`~kpi_kit.metrics.forecast.mrr_forecast`);
        empty when the base model rests on fewer than three months of known movements."""
        from .forecast import mrr_forecast

        e = self.m.economics
        if not e.has_mrr or self.forecast_basis < FORECAST_BASIS:
            return pd.DataFrame(columns=["month", "scenario", "mrr"])
        return mrr_forecast(e.bridge, self.ctx.last, uplift=self.ctx.params.revenue_uplift)

    @cached_property
    def backtest(self) -> pd.DataFrame:
        """``tables.forecast_backtest``: base and naive MAPE at 1, 3 and 6 months, with n."""
        from .forecast import backtest

        e = self.m.economics
        if not e.has_mrr:
            return pd.DataFrame(columns=["model", "horizon", "mape", "n"])
        return backtest(e.bridge, self.ctx.last)

    def tables(self) -> dict:
        from .serialise import records

        t = self.table.assign(quarter=lambda d: d["quarter"].astype(str))
        return {"plan": records(t), "arr": records(self.arr), "churned_accounts": records(self.churned_accounts),
                "forecast": records(self.mrr_forecast), "forecast_backtest": records(self.backtest)}
