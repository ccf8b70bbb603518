"""Funnel metrics (SPEC "Definitions"): reached stages, cohort and period funnels,
conversion, velocity, sales cycle, win rate, deal size, weighted pipeline.

Every function takes tidy frames with explicit column arguments, where dates are
already seen as of ``as_of`` (see :func:`kpi_kit.data.load_client`).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from .._dates import Window, to_day
from .._ids import lookup, per_frame
from .._math import safe_div

STAGE_VOLUME_NAMES = {
    "created": "contacts", "lead": "leads", "mql": "mqls", "sal": "sals", "sql": "sqls",
    "opportunity": "opportunities", "customer": "customers",
}


def _stage_dates(contacts: pd.DataFrame, stages: list[str], created_col: str = "created_at") -> pd.DataFrame:
    """Own date per stage (``created`` first); a stage without a column is never dated."""
    cols = {"created": contacts[created_col]}
    for s in stages:
        col = f"{s}_at"
        cols[s] = contacts[col] if col in contacts else pd.Series(pd.NaT, index=contacts.index)
    return pd.DataFrame(cols).astype("datetime64[ns]")


def passed_dates(contacts: pd.DataFrame, stages: list[str], created_col: str = "created_at") -> pd.DataFrame:
    """Date each contact passed each stage: its own date, else (skipped) the earliest later one.

    A contact reached a stage when it has a date for it *or any later stage*; a skipped
    stage is dated by the stage that proves it was passed.

    Examples
    --------
    >>> c = pd.DataFrame({"created_at": pd.to_datetime(["2026-01-01"]),
    ...                   "lead_at": pd.to_datetime(["2026-01-02"]), "mql_at": [pd.NaT],
    ...                   "sql_at": pd.to_datetime(["2026-01-09"])})
    >>> passed_dates(c, ["lead", "mql", "sql"])["mql"].dt.strftime("%m-%d").tolist()
    ['01-09']
    """
    # every report asks this of the same loaded contacts: computed once per frame
    out = per_frame(contacts, ("passed_dates", tuple(stages), created_col),
                    lambda: _passed_dates(contacts, stages, created_col))
    return out.copy(deep=False)


def _passed_dates(contacts: pd.DataFrame, stages: list[str], created_col: str) -> pd.DataFrame:
    own = _stage_dates(contacts, stages, created_col)
    # earliest date among this and later stages: a reverse running minimum, NaT as +inf
    values = own.to_numpy("datetime64[ns]").view("int64")
    big = np.iinfo("int64").max
    values = np.where(values == np.iinfo("int64").min, big, values)
    earliest = np.minimum.accumulate(values[:, ::-1], axis=1)[:, ::-1]
    filled = np.where(values == big, earliest, values)  # own date first, else the earliest later
    out = np.where(filled == big, np.iinfo("int64").min, filled).view("datetime64[ns]")
    return pd.DataFrame(out, index=own.index, columns=own.columns)


def reached(contacts: pd.DataFrame, stages: list[str], created_col: str = "created_at") -> pd.DataFrame:
    """Boolean frame: did each contact reach ``created`` and each stage (skips count as passed)."""
    return passed_dates(contacts, stages, created_col).notna()


def typical_sales_cycle_days(contacts: pd.DataFrame, *, created_col="created_at",
                             customer_col="customer_at") -> float:
    """Median days from contact creation to customer, over contacts that became customers."""
    if customer_col not in contacts:
        return float("nan")
    days = (contacts[customer_col] - contacts[created_col]).dt.days.dropna()
    return float(days.median()) if len(days) else float("nan")


def cohort_funnel(contacts: pd.DataFrame, stages: list[str], as_of, *, created_col="created_at",
                  maturity_days: float | None = None) -> pd.DataFrame:
    """Contacts per creation month and how many reached each stage by ``as_of``.

    One row per month from the first contact's month to the month of ``as_of``
    (empty months are rows of zeros). ``mature`` is False for cohorts whose last
    day is fewer than ``maturity_days`` (the typical sales cycle) before ``as_of``.

    Examples
    --------
    >>> c = pd.DataFrame({"created_at": pd.to_datetime(["2026-01-05", "2026-03-02"]),
    ...                   "lead_at": pd.to_datetime(["2026-01-06", pd.NaT])})
    >>> cohort_funnel(c, ["lead"], "2026-03-31")[["created", "lead"]].values.tolist()
    [[1, 1], [0, 0], [1, 0]]
    """
    as_of = to_day(as_of)
    hit = reached(contacts, stages, created_col)
    month = contacts[created_col].dt.to_period("M")
    counts = hit.groupby(month).sum().astype("int64")
    first = month.min() if len(month) else as_of.to_period("M")
    months = pd.period_range(first, as_of.to_period("M"), freq="M")
    out = counts.reindex(months, fill_value=0)
    out.index.name = "cohort"
    out = out.reset_index()
    if maturity_days is None or np.isnan(maturity_days):
        maturity_days = 0
    cohort_end = out["cohort"].dt.end_time.dt.normalize()
    out["mature"] = (as_of - cohort_end).dt.days >= maturity_days
    return out


def period_funnel(contacts: pd.DataFrame, stages: list[str], months: pd.PeriodIndex, *,
                  created_col="created_at") -> pd.DataFrame:
    """Contacts entering each stage per calendar month (by the stage's own date; a skipped
    stage is dated by the later stage that proves it was passed). Months without entries are 0."""
    dates = passed_dates(contacts, stages, created_col)
    out = pd.DataFrame(index=months)
    for stage in dates.columns:
        out[stage] = dates[stage].dt.to_period("M").value_counts().reindex(months, fill_value=0)
    out = out.fillna(0).astype("int64")
    out.index.name = "month"
    return out.reset_index()


def _pairs(stages: list[str]) -> list[tuple[str, str]]:
    chain = ["created", *stages]
    return list(zip(chain, chain[1:]))


def stage_conversion(contacts: pd.DataFrame, stages: list[str], window: Window | None = None, *,
                     created_col="created_at") -> pd.DataFrame:
    """``a→b`` = reached(b) / reached(a) for each consecutive pair, over contacts created in
    ``window`` (all contacts when None). A zero denominator gives NaN."""
    c = contacts if window is None else contacts[window.contains(contacts[created_col])]
    hit = reached(c, stages, created_col).sum()
    rows = [{"from": a, "to": b, "reached_from": int(hit[a]), "reached_to": int(hit[b]),
             "rate": safe_div(hit[b], hit[a])} for a, b in _pairs(stages)]
    return pd.DataFrame(rows, columns=["from", "to", "reached_from", "reached_to", "rate"])


def stage_velocity(contacts: pd.DataFrame, stages: list[str], window: Window | None = None, *,
                   created_col="created_at") -> pd.DataFrame:
    """Median days between consecutive stages over contacts dated at both.

    Pairs whose later stage is dated before the earlier one are out of order: left
    out and counted in ``out_of_order``.
    """
    c = contacts if window is None else contacts[window.contains(contacts[created_col])]
    own = _stage_dates(c, stages, created_col)
    rows = []
    for a, b in _pairs(stages):
        days = (own[b] - own[a]).dt.days.dropna()
        ok = days[days >= 0]
        rows.append({"from": a, "to": b, "median_days": float(ok.median()) if len(ok) else np.nan,
                     "pairs": int(len(ok)), "out_of_order": int((days < 0).sum())})
    return pd.DataFrame(rows, columns=["from", "to", "median_days", "pairs", "out_of_order"])


def conversion_by_quarter(contacts: pd.DataFrame, stages: list[str], as_of, *, quarters: int = 5,
                          created_col="created_at", last_quarter: pd.Period | None = None) -> pd.DataFrame:
    """Stage conversion per quarter over the contacts that entered the earlier stage in it.

    ``change_pp`` is the change against the previous quarter in percentage points.
    ``maturing`` marks quarters whose end is closer to ``as_of`` than the pair's
    75th-percentile velocity: their contacts may still convert. The quarters end with
    ``last_quarter`` (default: the quarter of ``as_of``).
    """
    as_of = to_day(as_of)
    dates = passed_dates(contacts, stages, created_col)
    own = _stage_dates(contacts, stages, created_col)
    last_q = as_of.to_period("Q") if last_quarter is None else last_quarter
    qs = pd.period_range(last_q - (quarters - 1), last_q, freq="Q")
    rows = []
    for a, b in _pairs(stages):
        q = dates[a].dt.to_period("Q")
        entered = q.isin(qs)
        grp = pd.DataFrame({"quarter": q[entered], "to": dates.loc[entered, b].notna()})
        agg = grp.groupby("quarter")["to"].agg(["size", "sum"]).reindex(qs, fill_value=0)
        lag = (own[b] - own[a]).dt.days
        p75 = lag[lag >= 0].quantile(0.75) if (lag >= 0).any() else 0.0
        for quarter, (n, k) in agg.iterrows():
            rows.append({"from": a, "to": b, "quarter": str(quarter), "entered": int(n), "converted": int(k),
                         "rate": safe_div(k, n),
                         "maturing": bool((as_of - quarter.end_time.normalize()).days < p75)})
    out = pd.DataFrame(rows)
    out["change_pp"] = out.groupby(["from", "to"])["rate"].diff() * 100
    return out


def sales_cycle_days(deals: pd.DataFrame, contacts: pd.DataFrame | None = None,
                     window: Window | None = None, *, deal_contact_col="contact_id") -> float:
    """Mean days from creation (the contact's ``created_at`` when the deal has one, else the
    deal's) to ``closed_at`` over won deals, closed in ``window`` when given."""
    won = deals[deals["status"] == "won"]
    if window is not None:
        won = won[window.contains(won["closed_at"])]
    start = won["created_at"]
    if contacts is not None and deal_contact_col in won:
        created = lookup(won[deal_contact_col], contacts, "contact_id", "created_at")
        start = created.where(created.notna(), start)
    days = (won["closed_at"] - start).dt.days
    return float(days.mean()) if len(days) else float("nan")


def deal_outcomes(deals: pd.DataFrame, window: Window | None = None) -> dict:
    """Win rate (won / (won + lost)) and average deal size (won amount / won deals) for deals
    closed in ``window``; NaN where nothing closed.

    A won deal without an amount (unknown, not 0) is left out of the won amount and the deal size
    and counted in ``won_without_amount``; when every won deal lacks one, both are NaN.
    """
    closed = deals[deals["status"].isin(["won", "lost"])]
    if window is not None:
        closed = closed[window.contains(closed["closed_at"])]
    won = closed[closed["status"] == "won"]
    known = won["amount"].dropna()
    unknown_only = len(won) > 0 and known.empty
    return {"won": int(len(won)), "lost": int(len(closed) - len(won)),
            "won_amount": np.nan if unknown_only else float(known.sum()),
            "win_rate": safe_div(len(won), len(closed)),
            "avg_deal_size": safe_div(known.sum(), len(known)),
            "won_without_amount": int(len(won) - len(known))}


def weighted_pipeline(deals: pd.DataFrame) -> dict:
    """Σ amount × probability over open deals; open deals without probability are left out
    and counted. When open deals exist but none has a probability the weighted value is
    unknown (n/a), not 0; with no open deal at all it is 0.

    An open deal without an amount (unknown, not 0) is left out of both sums and counted in
    ``without_amount``; when no open deal has an amount, ``pipeline`` is unknown (NaN), not 0.

    Examples
    --------
    >>> d = pd.DataFrame({"status": ["open", "open", "won"], "amount": [1000.0, 500.0, 9.0],
    ...                   "probability": [0.5, np.nan, 1.0]})
    >>> weighted_pipeline(d)
    {'open_deals': 2, 'pipeline': 1500.0, 'weighted_pipeline': 500.0, 'without_probability': 1, 'without_amount': 0}
    """
    open_ = deals[deals["status"] == "open"]
    prob = open_["probability"] if "probability" in open_ else pd.Series(np.nan, index=open_.index)
    amount = open_["amount"]
    has = prob.notna() & amount.notna()
    weighted = float((amount[has] * prob[has]).sum()) if has.any() or open_.empty else np.nan
    pipeline = float(amount.sum()) if amount.notna().any() or open_.empty else np.nan
    return {"open_deals": int(len(open_)), "pipeline": pipeline,
            "weighted_pipeline": weighted, "without_probability": int(prob.isna().sum()),
            "without_amount": int(amount.isna().sum())}


def lead_to_close(contacts: pd.DataFrame, stages: list[str], window: Window, *,
                  created_col="created_at") -> pd.DataFrame:
    """Lead-to-close CVR (customers in the period / leads in the period) for ``window`` and
    the same window a year earlier."""
    dates = passed_dates(contacts, stages, created_col)
    first = "lead" if "lead" in dates else "created"
    rows = []
    for label, w in (("current", window), ("year earlier", window.shift(-12))):
        leads = int(w.contains(dates[first]).sum())
        custs = int(w.contains(dates["customer"]).sum()) if "customer" in dates else 0
        rows.append({"period": label, "window": w.label(), "leads": leads, "customers": custs,
                     "rate": safe_div(custs, leads)})
    return pd.DataFrame(rows)


def volumes_with_targets(period: pd.DataFrame, targets: pd.DataFrame | None) -> pd.DataFrame:
    """Tidy monthly stage volumes (metric named ``leads``, ``mqls``, ...) with the target of
    that month where ``targets`` has a row covering exactly one calendar month."""
    long = period.melt(id_vars="month", var_name="stage", value_name="actual")
    long["metric"] = long["stage"].map(STAGE_VOLUME_NAMES)
    long["target"] = np.nan
    if targets is not None and len(targets):
        t = targets.copy()
        t["month"] = t["period_start"].dt.to_period("M")
        one_month = (t["period_end"].dt.to_period("M") == t["month"]) & (t["period_start"].dt.day == 1)
        t = t[one_month].groupby(["metric", "month"], as_index=False)["target"].sum()
        long = long.drop(columns="target").merge(t, on=["metric", "month"], how="left")
    long["attainment"] = safe_div(long["actual"], long["target"])
    return long[["month", "stage", "metric", "actual", "target", "attainment"]]


def stage_label(stage: str) -> str:
    """``MQL`` for short stage names, ``Opportunity`` for long ones."""
    return stage.upper() if len(stage) <= 3 else stage.capitalize()


def count_metric(stage: str) -> str:
    """The period-count metric of a stage (``lead`` -> ``leads``; ``customer`` -> ``new_customers``)."""
    return "new_customers" if stage == "customer" else STAGE_VOLUME_NAMES[stage]


class FunnelMetrics:
    """The funnel's numbers for one client run (SPEC "Definitions"), each computed once.

    Period counts come from :class:`~kpi_kit.metrics.volumes.Volumes`; the cohort views
    (``cohorts``, ``conversion``, ``velocity``, ``funnel_counts``) count contacts created in a
    period and the stages they reached by ``as_of``.

    Examples
    --------
    >>> f = compute(load_client(load_params("data/clients/demo.yaml"))).funnel  # doctest: +SKIP
    >>> f.deal_outcomes(f.ctx.window)["win_rate"]  # doctest: +SKIP
    0.27
    """

    def __init__(self, m):
        self.m = m
        self.ctx = ctx = m.ctx
        self.stages = ctx.stages
        self.chain = ctx.chain
        self.has_contacts = ctx.has("contacts")
        self.has_deals = ctx.has("deals")
        self.contacts = ctx.data["contacts"]
        self.deals = ctx.get("deals")

    @cached_property
    def sales_cycle_for_maturity(self) -> float:
        p = self.ctx.params
        return float(p.sales_cycle_days) if p.sales_cycle_days is not None else typical_sales_cycle_days(self.contacts)

    @cached_property
    def cohorts(self) -> pd.DataFrame:
        return cohort_funnel(self.contacts, self.stages, self.ctx.as_of, maturity_days=self.sales_cycle_for_maturity)

    @cached_property
    def months(self) -> pd.PeriodIndex:
        """From the first contact (or a year before the window) to the last full month."""
        first = self.contacts["created_at"].min()
        first = first.to_period("M") if not pd.isna(first) else self.ctx.window.first
        return pd.period_range(min(first, self.ctx.year_ago.first), self.ctx.last, freq="M")

    @cached_property
    def period(self) -> pd.DataFrame:
        """Period funnel: per month, contacts entering each stage; ``customer`` is the month's new
        customers (the same count as every other page's)."""
        out = period_funnel(self.contacts, self.stages, self.months)
        if "customer" in out:
            out["customer"] = self.m.volumes.monthly("new_customers", self.months).fillna(0).astype("int64").to_numpy()
        return out

    @cached_property
    def conversion(self) -> pd.DataFrame:
        return stage_conversion(self.contacts, self.stages, self.ctx.window)

    @cached_property
    def velocity(self) -> pd.DataFrame:
        return stage_velocity(self.contacts, self.stages, self.ctx.window)

    @cached_property
    def quarterly(self) -> pd.DataFrame:
        # contacts that stopped before as_of: the last quarter they cover in full (SPEC "Partial periods")
        span = self.ctx.coverage.of("contacts") if hasattr(self.ctx, "coverage") else None
        last_q = None
        if span is not None and span.last < self.ctx.as_of.to_period("M"):
            last_q = span.last.asfreq("Q") - int(span.last != span.last.asfreq("Q").asfreq("M", "end"))
        q = conversion_by_quarter(self.contacts, self.stages, self.ctx.as_of, last_quarter=last_q)
        if span is None or q.empty:
            return q
        before = pd.PeriodIndex(q["quarter"], freq="Q") < span.first.asfreq("Q")  # wholly before the data
        return q[~before].reset_index(drop=True)

    @cached_property
    def lead_to_close(self) -> pd.DataFrame:
        """New customers in the period / leads in the period, for the window and a year earlier.

        ``coverage`` says how much of each period the counts' sources cover (``full``, ``partial``,
        ``none``); ``why`` says why a year-earlier rate is not a base to compare with: it overlaps the
        window (a window longer than 12 months) or its data is partial or missing. Its rate is then
        NaN: a rate over a partial period compared with a full one is not a change."""
        v = self.m.volumes
        first = "leads" if "lead" in self.stages else count_metric(self.stages[0])
        rows = []
        for label, w in (("current", self.ctx.window), ("year earlier", self.ctx.year_ago)):
            leads, custs = v.count(first, w), v.count("new_customers", w)
            statuses = {v.status(first, w), v.status("new_customers", w)}
            coverage = "none" if "none" in statuses else "partial" if "partial" in statuses else "full"
            why = ""
            if label == "year earlier":
                why = ("overlaps the window" if w.last >= self.ctx.window.first
                       else {"none": "no data then", "partial": "partial data then"}.get(coverage, ""))
            rate = safe_div(custs, leads) if coverage == "full" and not why else np.nan
            rows.append({"period": label, "window": w.label(), "leads": leads, "customers": custs,
                         "rate": rate, "coverage": coverage, "why": why})
        return pd.DataFrame(rows)

    @cached_property
    def volumes(self) -> pd.DataFrame:
        return volumes_with_targets(self.period, self.ctx.get("targets"))

    def deal_outcomes(self, window) -> dict:
        if self.deals is None:
            return {"won": np.nan, "lost": np.nan, "won_amount": np.nan, "win_rate": np.nan, "avg_deal_size": np.nan,
                    "won_without_amount": np.nan}
        return deal_outcomes(self.deals, window)

    def sales_cycle(self, window) -> float:
        return np.nan if self.deals is None else sales_cycle_days(self.deals, self.contacts, window)

    @cached_property
    def pipeline(self) -> dict:
        if self.deals is None:
            return {"open_deals": 0, "pipeline": np.nan, "weighted_pipeline": np.nan, "without_probability": 0,
                    "without_amount": 0}
        return weighted_pipeline(self.deals)

    @cached_property
    def deals_by_quarter(self) -> pd.DataFrame:
        """Won, lost, win rate, bookings, deal size (over won deals with a known amount; the rest
        counted in ``won_without_amount``) and sales cycle per quarter closed (up to eight,
        none before the first deal; the current quarter to date)."""
        if self.deals is None:
            return pd.DataFrame()
        last_q = self.ctx.last.asfreq("Q")
        first_deal = self.deals["created_at"].min()
        first_q = max(last_q - 7, first_deal.to_period("Q")) if not pd.isna(first_deal) else last_q - 7
        rows = []
        for q in pd.period_range(min(first_q, last_q), last_q, freq="Q"):
            w = self.ctx.quarter_window(q)
            o = deal_outcomes(self.deals, w)
            partial = q.asfreq("M", "end") > self.ctx.last
            rows.append({"quarter": f"{q} (to date)" if partial else str(q), "period": self.ctx.period_label(w),
                         "won": o["won"], "lost": o["lost"], "win_rate": o["win_rate"],
                         "bookings": self.m.volumes.booked(w),  # with revenue recorded without deals, if any
                         "avg_deal_size": o["avg_deal_size"], "won_without_amount": o["won_without_amount"],
                         "sales_cycle_days": sales_cycle_days(self.deals, self.contacts, w)})
        return pd.DataFrame(rows)

    def funnel_counts(self) -> pd.Series:
        """Cohort view: contacts created in the window reaching each stage by ``as_of``."""
        c = self.contacts[self.ctx.window.contains(self.contacts["created_at"])]
        return reached(c, self.stages).sum().rename(index=stage_label)

    def cohort_matrix(self, months: int = 24) -> pd.DataFrame:
        """Share of each creation month's contacts reaching each stage (cohort view)."""
        c = self.cohorts.tail(months).set_index("cohort")
        created = np.flatnonzero(c["created"].to_numpy() > 0)
        if len(created):  # months before the first or after the last contact are not cohorts
            c = c.iloc[created[0]:created[-1] + 1]
        rates = pd.DataFrame({stage_label(s): safe_div(c[s], c["created"]) for s in self.stages})
        rates.index = [str(i) for i in c.index]
        return rates

    def target_attainment(self) -> pd.DataFrame:
        """Window volumes against the sum of their monthly targets, over months with a target."""
        v = self.volumes
        w = self.ctx.window
        v = v[v["month"].between(w.first, w.last) & v["target"].notna()]
        if v.empty:
            return pd.DataFrame(columns=["metric", "months", "actual", "target", "attainment"])
        g = v.groupby("metric", sort=False).agg(first=("month", "min"), last=("month", "max"),
                                                actual=("actual", "sum"), target=("target", "sum"))
        g["months"] = [f"{a:%b %Y} – {b:%b %Y}" for a, b in zip(g["first"], g["last"])]
        g["attainment"] = safe_div(g["actual"], g["target"])
        return g.reset_index()[["metric", "months", "actual", "target", "attainment"]]

    def scalars(self) -> dict:
        o = self.deal_outcomes(self.ctx.window)
        ltc = self.lead_to_close.set_index("period")["rate"]
        return {"win_rate": o["win_rate"], "avg_deal_size": o["avg_deal_size"],
                "avg_sales_cycle_days": self.sales_cycle(self.ctx.window),
                "weighted_pipeline": self.pipeline["weighted_pipeline"],
                "lead_to_close_cvr": ltc["current"] if self.has_contacts else np.nan,
                "lead_to_close_cvr_year_ago": ltc["year earlier"] if self.has_contacts else np.nan}

    def cohort_spans(self) -> dict:
        """The creation months each cohort count has data for (:mod:`~kpi_kit.metrics.coverage`): a
        cohort created after the contacts stop has no data (not 0) in every column; a stage's count,
        none after the stage's dates stop (a skipped stage: the next stage that has dates)."""
        cov = getattr(self.ctx, "coverage", None)
        if cov is None:
            return {}
        created = cov.of("contacts")
        spans = {"created": created}
        for i, stage in enumerate(self.stages):
            span = next((s for s in (cov.of("contacts", f"{t}_at") for t in self.stages[i:]) if s is not None), None)
            if created is not None and span is not None:  # a cohort exists only while contacts are created
                span = type(span)(created.first, min(span.last, created.last))
            spans[stage] = span or created
        return spans

    def tables(self) -> dict:
        """The funnel's ``metrics.json`` tables (SPEC keys); empty without contacts."""
        if not self.has_contacts:
            return {"funnel_cohorts": [], "funnel_conversion": [], "stage_velocity": []}
        from .serialise import null_outside, records

        return {
            "funnel_cohorts": records(null_outside(self.cohorts, "cohort", self.cohort_spans()),
                                      {"cohort": "cohort", **{s: s for s in self.chain}, "mature": "mature"}),
            "funnel_conversion": records(self.conversion, {"from": "from", "to": "to", "rate": "rate"}),
            "stage_velocity": records(self.velocity, {"from": "from", "to": "to", "median_days": "median_days"}),
        }
