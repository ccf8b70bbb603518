"""The KPI overview: leading and lagging indicators on one page, goals and OKR pacing, alerts,
snapshot changes and the weighted pipeline forecast. It composes the other notebooks' analyses
(the same kpi_kit functions), so every number matches the detailed reports."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import overview as ov
from . import plotting as kp
from . import report as rp
from ._dates import last_full_month, reporting_window, to_day
from ._math import safe_div
from .catalogue import BY_NAME
from .channel_report import ChannelReport
from .data import ClientData
from .formatting import fmt_money, fmt_pct, fmt_value, is_missing
from .funnel_report import FunnelReport
from .unit_economics_report import UnitEconomicsReport

# The overview's indicators, top of the funnel to revenue; labels, units and kinds from the catalogue.
INDICATORS = ("sessions", "time_on_site", "social_engagement", "event_attendees", "webinar_attendees", "leads",
              "mqls", "pipeline", "open_pipeline", "customers", "bookings", "new_mrr", "mrr", "logo_churn_rate",
              "roi", "ltv", "ltv_to_cac", "cac_payback_months")
SERIES = {k: (BY_NAME[k].label, BY_NAME[k].unit, BY_NAME[k].kind, BY_NAME[k].higher_is_better) for k in INDICATORS}
LEVEL_METRICS = {"mrr", "open_pipeline", "logo_churn_rate", "ltv", "ltv_to_cac", "cac_payback_months",
                 "time_on_site", "roi"}


class OverviewReport:
    """The page a marketing lead opens first.

    Examples
    --------
    >>> r = OverviewReport(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> r.revenue_goal()["target"]  # doctest: +SKIP
    """

    def __init__(self, data: ClientData, previous_metrics: str | None = None):
        self.data = data
        self.params = p = data.params
        self.as_of = to_day(p.as_of)
        self.window = reporting_window(p.as_of, p.window_months)
        self.last = last_full_month(p.as_of)
        self.currency = p.currency
        self.funnel = FunnelReport(data)
        self.channels = ChannelReport(data)
        self.economics = UnitEconomicsReport(data)
        self.previous_metrics = previous_metrics

    # -- monthly series ---------------------------------------------------------------------
    @cached_property
    def months(self) -> pd.PeriodIndex:
        return pd.period_range(self.last - 35, self.last, freq="M")

    def _monthly(self, df, date_col, value_col, how="sum") -> pd.Series:
        if df is None or df.empty:
            return pd.Series(np.nan, index=self.months)
        s = df.groupby(df[date_col].dt.to_period("M"))[value_col].agg(how)
        return s.reindex(self.months)

    @cached_property
    def series(self) -> pd.DataFrame:
        """One column per metric of :data:`SERIES`, one row per month (NaN where the data lacks it)."""
        d, m = self.data, self.months
        out = pd.DataFrame(index=m)
        traffic = d.get("traffic")
        out["sessions"] = self._monthly(traffic, "date", "sessions")
        if traffic is not None and "avg_session_seconds" in traffic:
            t = traffic.assign(w=traffic["avg_session_seconds"] * traffic["sessions"])
            out["time_on_site"] = safe_div(self._monthly(t, "date", "w"), out["sessions"])
        eng = d.get("engagement")
        for metric in ("social_engagement", "event_attendees", "webinar_attendees"):
            part = eng[eng["metric"] == metric] if eng is not None else None
            if part is not None and len(part):  # a month without an event had no attendees
                first = part["date"].min().to_period("M")
                s = self._monthly(part, "date", "value")
                out[metric] = s.where(s.index < first, s.fillna(0))
            else:
                out[metric] = np.nan
        period = self.funnel.period.set_index("month")
        for stage, col in (("lead", "leads"), ("mql", "mqls"), ("customer", "customers")):
            out[col] = period[stage].reindex(m) if stage in period and self.funnel.has_contacts else np.nan
        deals = d.get("deals")
        if deals is not None and len(deals):
            started = m >= deals["created_at"].min().to_period("M")  # no zeros before the CRM's first deal
            out["pipeline"] = self._monthly(deals, "created_at", "amount").fillna(0).where(started)
            won = deals[deals["status"] == "won"]
            out["bookings"] = self._monthly(won, "closed_at", "amount").fillna(0).where(started)
            open_pipeline = self._open_pipeline_at_month_ends(deals).where(started)
            # deals that never stay open (revenue recorded as won deals) have no pipeline to show
            out["open_pipeline"] = open_pipeline if open_pipeline.fillna(0).any() else np.nan
        if self.economics.has_mrr:
            b = self.economics.bridge.set_index("month")
            out["new_mrr"] = b["new"].reindex(m)
            out["mrr"] = b["ending_mrr"].reindex(m)
            out["logo_churn_rate"] = b["logo_churn_rate"].reindex(m)
            n = self.params.churn_window_months
            churn = b["logo_churn_rate"].rolling(n, min_periods=1).mean()
            ltv = (b["arpu"] * self.params.gross_margin / churn.where(churn > 0)).reindex(m)
            out["ltv"] = ltv
            acq = self.economics.acquisition
            if acq is not None:
                a = acq.set_index("month")["total"].reindex(b.index).fillna(0).rolling(3, min_periods=1).sum()
                cac = safe_div(a, b["new_customers"].rolling(3, min_periods=1).sum())  # trailing 3 months
                out["ltv_to_cac"] = safe_div(ltv, cac.reindex(m))
                out["cac_payback_months"] = safe_div(cac, b["arpu"] * self.params.gross_margin).reindex(m)
        spend = d.get("spend")
        if spend is not None and deals is not None and len(deals):
            s = self._monthly(spend, "date", "spend")
            out["roi"] = safe_div(out["bookings"] - s, s)
        return out.reindex(columns=list(SERIES))

    def _open_pipeline_at_month_ends(self, deals: pd.DataFrame) -> pd.Series:
        """Amount of deals open at each month end. (Unweighted: the export holds today's probabilities
        only, and deals closed since have none, so a weighted history would be understated.)"""
        closed = deals["closed_at"] if "closed_at" in deals else pd.Series(pd.NaT, index=deals.index)
        values = []
        for month in self.months:  # one vectorised step per month
            d = month.end_time.normalize()
            is_open = (deals["created_at"] <= d) & (closed.isna() | (closed > d))
            values.append(float(deals.loc[is_open, "amount"].sum()))
        return pd.Series(values, index=self.months)

    # -- goals -------------------------------------------------------------------------------
    def yearly_revenue(self) -> pd.Series:
        """Revenue of complete trailing 12-month periods ending at the last full month, oldest first:
        Σ month-end MRR where there is MRR, else bookings. A period before the data starts is left out."""
        if self.economics.has_mrr:
            b = self.economics.bridge.set_index("month")["ending_mrr"]
        elif self.data.get("deals") is not None:
            won = self.data["deals"][self.data["deals"]["status"] == "won"]
            b = won.groupby(won["closed_at"].dt.to_period("M"))["amount"].sum()
        else:
            return pd.Series(dtype=float)
        first = b.index.min() if len(b) else self.last
        out = {}
        for k in range(4):
            end = self.last - 12 * k
            start = end - 11
            if start < first:
                break
            out[f"{start.strftime('%b %Y')} – {end.strftime('%b %Y')}"] = float(b.reindex(
                pd.period_range(start, end, freq="M")).fillna(0).sum())
        return pd.Series(out).iloc[::-1]

    def revenue_goal(self) -> dict:
        return ov.revenue_target(self.yearly_revenue(), uplift=self.params.revenue_uplift)

    def goal_block(self):
        y = self.yearly_revenue()
        g = self.revenue_goal()
        if y.empty:
            return rp.missing("The revenue target", "subscriptions, mrr or won deals covering a full year")
        basis = "month-end MRR summed over each 12 months" if self.economics.has_mrr else "won deal amounts"
        rows = [(period, fmt_money(v, self.currency)) for period, v in y.items()]
        rows += [("Average YoY growth", "n/a (one complete year: no growth to average)" if is_missing(g["growth"])
                  else " and ".join(fmt_pct(r) for r in g["growth_rates"]) + f" → mean {fmt_pct(g['growth'])}"),
                 ("Uplift (parameter)", fmt_pct(g["uplift"])),
                 ("Target for the next 12 months",
                  f"{fmt_money(g['last_year'], self.currency)} × (1 + {fmt_pct(0 if is_missing(g['growth']) else g['growth'])}"
                  f" + {fmt_pct(g['uplift'])}) = {fmt_money(g['target'], self.currency)}")]
        t = rp.table(pd.DataFrame(rows, columns=["revenue (" + basis + ")", "value"]))
        return t

    # -- targets -----------------------------------------------------------------------------
    def _actual(self, metric: str, start: pd.Timestamp, end: pd.Timestamp) -> tuple[float, float]:
        """(actual to date, start value for level metrics) of a target's metric over its period."""
        stop = min(end, self.as_of)
        d = self.data
        if metric in ("contacts", "leads", "mqls", "sals", "sqls", "opportunities", "customers"):
            from .funnel import STAGE_VOLUME_NAMES, passed_dates

            stage = {v: k for k, v in STAGE_VOLUME_NAMES.items()}[metric]
            dates = passed_dates(d["contacts"], self.params.stages)
            if stage not in dates:
                return np.nan, 0.0
            return float(dates[stage].between(start, stop).sum()), 0.0
        if metric == "sessions" and d.get("traffic") is not None:
            t = d["traffic"]
            return float(t.loc[t["date"].between(start, stop), "sessions"].sum()), 0.0
        if metric == "bookings" and d.get("deals") is not None:
            won = d["deals"][d["deals"]["status"] == "won"]
            return float(won.loc[won["closed_at"].between(start, stop), "amount"].sum()), 0.0
        if metric == "spend" and d.get("spend") is not None:
            s = d["spend"]
            return float(s.loc[s["date"].between(start, stop), "spend"].sum()), 0.0
        if self.economics.has_mrr and metric in ("new_mrr", "revenue", "mrr"):
            b = self.economics.bridge.set_index("month")
            months = b.index[(b.index >= start.to_period("M")) & (b.index <= min(stop.to_period("M"), self.last))]
            if metric == "new_mrr":
                return float(b.loc[months, "new"].sum()), 0.0
            if metric == "revenue":
                return float(b.loc[months, "ending_mrr"].sum()), 0.0
            before = start.to_period("M") - 1
            start_value = float(b.loc[before, "ending_mrr"]) if before in b.index else 0.0
            return (float(b.loc[months[-1], "ending_mrr"]) if len(months) else np.nan), start_value
        return np.nan, 0.0

    @cached_property
    def targets(self) -> pd.DataFrame:
        """Every targets row with actual, % attained, linear pace to date, projection and status."""
        t = self.data.get("targets")
        if t is None or t.empty:
            return pd.DataFrame()
        rows = []
        for r in t.itertuples():
            if r.period_start > self.as_of:
                status, actual, start_value = "not started", np.nan, 0.0
                p = {"attained": np.nan, "pace_to_date": np.nan, "projected": np.nan, "on_track": None, "finished": False}
            else:
                actual, start_value = self._actual(r.metric, r.period_start, r.period_end)
                p = ov.pace(r.target, actual, r.period_start, r.period_end, self.as_of, start_value=start_value,
                            level=r.metric == "mrr")
                if is_missing(actual):
                    status = "no data"
                elif p["finished"]:
                    status = "met" if actual >= r.target else "missed"
                else:
                    status = "on track" if p["on_track"] else "behind"
            rows.append({"metric": r.metric, "period": f"{r.period_start:%Y-%m-%d} – {r.period_end:%Y-%m-%d}",
                         "period_start": r.period_start, "target": r.target, "actual": actual,
                         "attained": p["attained"], "pace_to_date": p["pace_to_date"], "projected": p["projected"],
                         "status": status})
        return pd.DataFrame(rows)

    def targets_block(self, current_only: bool = True):
        t = self.targets
        if t.empty:
            return rp.missing("OKRs and KPI targets", "a targets file")
        if current_only:  # the periods running now and the last finished month, quarter and year
            live = t[t["status"].isin(["on track", "behind"])]
            done = t[t["status"].isin(["met", "missed"])]
            recent = done.sort_values("period_start").groupby("metric").tail(1)
            t = pd.concat([live, recent]).sort_values(["metric", "period_start"])
        money = {"bookings", "new_mrr", "revenue", "mrr", "spend"}
        fmt = lambda unit: lambda v: fmt_value(v, unit, self.currency)  # noqa: E731
        shown = t.assign(
            target=[fmt("money" if m in money else "count")(v) for m, v in zip(t["metric"], t["target"])],
            actual=[fmt("money" if m in money else "count")(v) for m, v in zip(t["metric"], t["actual"])],
            pace_to_date=[fmt("money" if m in money else "count")(v) for m, v in zip(t["metric"], t["pace_to_date"])],
            projected=[fmt("money" if m in money else "count")(v) for m, v in zip(t["metric"], t["projected"])],
        ).drop(columns="period_start").rename(columns={"pace_to_date": "pace to date"})
        block = rp.table(shown, {"attained": "percent"})
        colours = {"on track": "kk-good", "met": "kk-good", "behind": "kk-bad", "missed": "kk-bad"}
        html = block._repr_html_()
        for status, cls in colours.items():
            html = html.replace(f"<td>{status}</td>", f'<td class="{cls}">{status}</td>')
        return rp.Block(html, repr(block))

    def targets_sentence(self) -> str:
        t = self.targets
        if t.empty:
            return "No targets were set."
        live = t[t["status"].isin(["on track", "behind"])]
        behind = live[live["status"] == "behind"]
        text = f"{len(live) - len(behind)} of {len(live)} targets running now are on pace"
        if len(behind):
            worst = behind.loc[(behind["actual"] / behind["pace_to_date"]).idxmin()]
            text += (f"; furthest behind is {worst['metric']} ({worst['period']}) at "
                     f"{fmt_pct(safe_div(worst['actual'], worst['pace_to_date']), 0)} of its pace")
        return text + "."

    # -- leading vs lagging ------------------------------------------------------------------
    def indicator_table(self):
        rows = []
        for key, (label, unit, kind, _better) in SERIES.items():
            s = self.series[key]
            if s.dropna().empty:
                continue
            c = ov.changes(s)
            last = c.loc[self.last]
            rows.append({"indicator": label, "kind": kind, self.last.strftime("%b %Y"): fmt_value(last["value"], unit,
                         self.currency), "MoM": last["mom"], "YoY": last["yoy"]})
        if not rows:
            return rp.missing("Leading and lagging indicators", "traffic, engagement, contacts, deals or subscriptions")
        t = pd.DataFrame(rows)
        return rp.table(t, {"MoM": lambda v: fmt_pct(v, signed=True), "YoY": lambda v: fmt_pct(v, signed=True)})

    def indicator_chart(self):
        keys = [k for k in SERIES if not self.series[k].dropna().empty]
        if not keys:  # the table above already says so
            return None
        cols = 3
        rows = int(np.ceil(len(keys) / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(kp.WIDTH, 1.9 * rows + 0.6), sharex=True)
        shown = self.months[-24:]  # two years: enough for year-over-year, without a young company's early noise
        first = self.series.loc[shown, keys].dropna(how="all").index.min()  # nor months before the data starts
        shown = shown[shown >= first] if not pd.isna(first) else shown
        x = shown.to_timestamp()
        targets = self.data.get("targets")
        for ax, key in zip(axes.flat, keys):
            label, unit, kind, _ = SERIES[key]
            s = self.series[key].reindex(shown)
            ax.plot(x, s.to_numpy(dtype=float), color=kp.ACCENT if kind == "leading" else kp.GOOD, lw=1.8)
            if targets is not None:
                tm = targets[targets["metric"] == key]
                tm = tm[(tm["period_start"].dt.to_period("M") == tm["period_end"].dt.to_period("M"))
                        & (tm["period_start"] >= x[0])]
                if len(tm):
                    ax.plot(tm["period_start"], tm["target"], color=kp.INK, ls="--", lw=1, label="target")
            ax.set_title(f"{label} · {kind}", fontsize=9, loc="left")
            if unit == "money":
                kp.money_axis(ax, self.currency)
            elif unit == "percent":
                kp.percent_axis(ax, decimals=1)
            elif unit == "count":
                kp.count_axis(ax)  # 50,000 rather than 50000
            ax.tick_params(labelsize=7)
            ax.set_xlim(x[0], x[-1])
            kp.month_axis(ax)
        for ax in list(axes.flat)[len(keys):]:
            ax.set_visible(False)
        fig.suptitle("From the top of the funnel to revenue: leading (blue) and lagging (green) indicators, "
                     "targets dashed", x=0.01, ha="left", fontweight="bold", fontsize=10)
        fig.supxlabel("Month", fontsize=9)
        # fixed margins: tight_layout would measure every tick label of 18 panels (a second per report)
        inch = 1 / fig.get_figheight()
        fig.subplots_adjust(left=0.075, right=0.99, top=1 - 0.8 * inch, bottom=0.75 * inch, hspace=0.5, wspace=0.3)
        return axes

    def lags(self) -> pd.DataFrame:
        pairs = [("leads", "customers", "Leads → new customers"), ("mqls", "customers", "MQLs → new customers"),
                 ("pipeline", "bookings", "Pipeline created → bookings"), ("sessions", "leads", "Sessions → leads")]
        rows = []
        for a, b, label in pairs:
            sa, sb = self.series[a], self.series[b]
            if sa.dropna().empty or sb.dropna().empty:
                continue
            est = ov.estimate_lag(sa, sb)
            rows.append({"pair": label, "lag_months": est["lag"], "correlation": est["correlation"]})
        return pd.DataFrame(rows)

    def lag_sentence(self) -> str:
        lags = self.lags().dropna()
        if lags.empty:
            return "Too little history to estimate how long leading indicators take to show in results."
        r = lags.iloc[0]
        return (f"{r['pair']}: changes in the first show up in the second about {int(r['lag_months'])} month(s) "
                f"later (correlation {r['correlation']:.2f} of month-over-month changes).")

    def lag_table(self):
        return rp.table(self.lags(), {"lag_months": lambda v: "n/a" if is_missing(v) else f"{v:.0f}",
                                      "correlation": lambda v: "n/a" if is_missing(v) else f"{v:.2f}"})

    # -- alerts ------------------------------------------------------------------------------
    @cached_property
    def alerts(self) -> list[dict]:
        s = self.series.loc[:self.last]
        th = self.params.alert_threshold
        rules = [("sessions", safe_div(s["leads"], s["sessions"]), "Sessions", "visit-to-lead rate"),
                 ("leads", safe_div(s["mqls"], s["leads"]), "Leads", "lead-to-MQL rate"),
                 ("mqls", safe_div(s["customers"], s["mqls"]), "MQLs", "MQL-to-customer rate")]
        deals = self.data.get("deals")
        if deals is not None:
            closed = deals[deals["status"].isin(["won", "lost"])]
            m = closed["closed_at"].dt.to_period("M")
            win = safe_div((closed["status"] == "won").groupby(m).sum(), closed.groupby(m).size())
            rules.append(("pipeline", pd.Series(win).reindex(s.index), "Pipeline created", "win rate"))
        out = []
        for volume, rate, vlabel, rlabel in rules:
            a = ov.divergence_alert(volume, s[volume].dropna(), pd.Series(rate).reindex(s[volume].dropna().index),
                                    threshold=th, volume_label=vlabel, rate_label=rlabel)
            if a:
                out.append(a)
        return out

    def alerts_block(self):
        if not self.alerts:
            return rp.note(f"No divergence in {self.last:%b %Y}: no leading volume rose more than "
                           f"{fmt_pct(self.params.alert_threshold, 0)} while the conversion below it fell as much.")
        lines = [f"{a['text']} ({a['month']})" for a in self.alerts]
        return rp.Block(rp.CSS + '<div class="kk-missing">⚠ ' + "<br>⚠ ".join(lines) + "</div>", "\n".join(lines))

    # -- snapshots ---------------------------------------------------------------------------
    def snapshot(self) -> pd.DataFrame | None:
        if not self.previous_metrics or not Path(self.previous_metrics).exists():
            return None
        prev = json.loads(Path(self.previous_metrics).read_text())
        if not prev.get("tables", {}).get("funnel_cohorts"):
            return None
        cur = self.funnel.metrics()["funnel_cohorts"]
        diff = ov.snapshot_diff(cur, prev["tables"].get("funnel_cohorts", []), self.params.stages)
        diff.attrs["previous_as_of"] = prev.get("as_of")
        return diff

    def snapshot_block(self, cohorts: int = 12):
        diff = self.snapshot()
        if diff is None:  # the sentence above says so
            return None
        stages = [s for s in self.params.stages if f"{s}_change" in diff]
        t = diff.tail(cohorts)[["cohort"] + [f"{s}_{w}" for s in stages for w in ("then", "now")]]
        t.columns = ["cohort"] + [f"{s} {w}" for s in stages for w in ("then", "now")]
        return rp.table(t, {c: "count" for c in t.columns if c != "cohort"})

    def snapshot_sentence(self) -> str:
        diff = self.snapshot()
        if diff is None:
            return ("No earlier run of this client was found in the output folder, so there is nothing to compare "
                    "yet; this run's cohort funnel is kept in metrics.json for the next one.")
        last_stage = self.params.stages[-1]
        moved = diff[f"{last_stage}_change"].sum()
        biggest = diff.loc[diff[f"{self.params.stages[0]}_change"].abs().idxmax()] if len(diff) else None
        text = (f"Since the run of {diff.attrs.get('previous_as_of')}, earlier cohorts gained {moved:,.0f} "
                f"{last_stage}s")
        if biggest is not None:
            text += f"; the {biggest['cohort']} cohort moved most"
        return text + "."

    # -- pipeline forecast --------------------------------------------------------------------
    def forecast(self) -> pd.DataFrame | None:
        deals = self.data.get("deals")
        if deals is None:
            return None
        return ov.pipeline_forecast(deals, self.as_of, cycle_days=self.funnel.sales_cycle(self.window))

    def forecast_chart(self):
        f = self.forecast()
        if f is None or f.empty:  # the sentence above says so
            return None
        if (f["without_probability"] == f["open_deals"]).all():  # the sentence above says why
            return None
        f = f[f["month"] <= self.last + 7]
        targets = self.data.get("targets")
        fig, ax = plt.subplots(figsize=(kp.WIDTH, 3.6))
        x = f["month"].dt.to_timestamp()
        ax.bar(x, f["expected"], width=20, color=kp.ACCENT, label="Expected bookings (amount × probability)")
        if targets is not None:
            b = targets[targets["metric"] == "bookings"]
            for r in b.itertuples():
                months = pd.period_range(r.period_start, r.period_end, freq="M")
                per_month = r.target / len(months)
                ax.plot(months.to_timestamp(), [per_month] * len(months), color=kp.INK, ls="--", lw=1.2)
            if len(b):
                ax.plot([], [], color=kp.INK, ls="--", label="Bookings target per month")
        kp.money_axis(ax, self.currency)
        ax.set_xlim(x.min() - pd.Timedelta(days=20), x.max() + pd.Timedelta(days=20))
        ax.xaxis.set_major_locator(kp.MonthStartLocator())
        ax.xaxis.set_major_formatter(plt.matplotlib.dates.DateFormatter("%b %Y"))
        ax.set_title("Weighted pipeline forecast by expected close month")
        ax.set_ylabel(f"Expected bookings ({self.currency})")
        ax.set_xlabel("Expected close month")
        ax.legend(loc="upper right")
        return ax

    def forecast_sentence(self) -> str:
        f = self.forecast()
        if f is None:
            return rp.missing("The pipeline forecast", "a deals file with open deals")
        if f.empty:
            return "No deals are open, so there are no expected bookings to forecast."
        if (f["without_probability"] == f["open_deals"]).all():
            return (f"None of the {f['open_deals'].sum():,.0f} open deals has a probability, so expected bookings "
                    "cannot be forecast.")
        q = (self.last + 1).asfreq("Q")
        in_q = f[f["month"].dt.asfreq("Q") == q]["expected"].sum()
        t = self.targets
        text = f"Open deals are expected to bring {fmt_money(in_q, self.currency)} of bookings in {q}"
        if not t.empty:
            bq = t[(t["metric"] == "bookings") & (t["period_start"].dt.to_period("Q") == q)]
            if len(bq):
                remaining = bq["target"].iloc[0] - (0 if is_missing(bq["actual"].iloc[0]) else bq["actual"].iloc[0])
                text += (f" against {fmt_money(remaining, self.currency)} still to book for its target "
                         f"({fmt_pct(safe_div(in_q, remaining), 0)} covered)")
        return text + "."

    # -- summary -----------------------------------------------------------------------------
    def summary(self):
        """Three to five sentences, generated from the numbers, on what changed."""
        s = self.series
        lines = []
        if self.economics.has_mrr:
            mrr = ov.changes(s["mrr"]).loc[self.last]
            sc = self.economics.scalars()
            lines.append(f"MRR reached {fmt_money(mrr['value'], self.currency)} at the end of {self.last:%B %Y} "
                         f"({fmt_pct(mrr['mom'], signed=True)} on the month, {fmt_pct(mrr['yoy'], signed=True)} on the "
                         f"year), with monthly NRR averaging {fmt_pct(sc['nrr'])}.")
        leads = ov.changes(s["leads"]).loc[self.last]
        if not is_missing(leads["value"]):
            lines.append(f"Leads were {leads['value']:,.0f} in {self.last:%B}, {fmt_pct(leads['mom'], signed=True)} "
                         f"month over month and {fmt_pct(leads['yoy'], signed=True)} year over year.")
        lines.append(self.targets_sentence())
        g = self.revenue_goal()
        if not is_missing(g["target"]):
            lines.append(f"At the current growth rate plus {fmt_pct(g['uplift'], 0)} uplift, the revenue target for the "
                         f"next twelve months is {fmt_money(g['target'], self.currency)}.")
        lines.append(f"{len(self.alerts)} divergence alert(s) this month." if self.alerts else
                     "No leading indicator diverged from its conversion this month.")
        text = " ".join(lines[:5])
        return rp.Block(rp.CSS + f'<p class="kk-note" style="font-size:15px">{text}</p>', text)

    def kpis(self):
        """Up to six headline cards, each only where the client's data supports it."""
        sc = self.economics.scalars()
        f = self.funnel.scalars()
        s = self.series
        at = lambda key, m: float(s.loc[m, key]) if m in s.index else np.nan  # noqa: E731
        monthly = lambda key, label, unit: rp.KPI(label, at(key, self.last), unit, at(key, self.last - 1),  # noqa: E731
                                                  at(key, self.last - 12))
        k = []
        if self.economics.has_mrr:
            k.append(rp.KPI("MRR", sc["mrr"], "money", at("mrr", self.last - 1), at("mrr", self.last - 12)))
        if not s["leads"].dropna().empty:
            k.append(monthly("leads", "Leads (month)", "count"))
        elif not s["mqls"].dropna().empty:  # a funnel that starts at MQL
            k.append(monthly("mqls", "MQLs (month)", "count"))
        if not s["customers"].dropna().empty:
            k.append(monthly("customers", "New customers (month)", "count"))
        if self.funnel.has_deals:
            if not self.economics.has_mrr:
                k.append(monthly("bookings", "Bookings (month)", "money"))
            k.append(rp.KPI("Win rate (window)", f["win_rate"], "percent"))
        if self.economics.has_mrr and not is_missing(sc["ltv_to_cac"]):
            k.append(rp.KPI("LTV:CAC (window)", sc["ltv_to_cac"], "ratio"))
        elif self.economics.has_mrr:
            k.append(rp.KPI("Logo churn (month)", at("logo_churn_rate", self.last), "percent",
                            at("logo_churn_rate", self.last - 1), at("logo_churn_rate", self.last - 12),
                            higher_is_better=False))
        if self.funnel.has_deals and not is_missing(f["weighted_pipeline"]) and self.funnel.pipeline["open_deals"]:
            k.append(rp.KPI("Weighted pipeline", f["weighted_pipeline"], "money"))
        if not k and not s["roi"].dropna().empty:
            k.append(monthly("roi", "Marketing ROI (month)", "percent"))
        if self.data.has("spend"):
            k.append(rp.KPI("Spend (window)", self.channels.groups.loc["total", "spend"], "money"))
        return rp.kpi_strip(k[:6], self.currency, previous_label="vs prev. month", year_label="vs year earlier")

    def metrics(self) -> dict:
        g = self.revenue_goal()
        t = self.targets
        # the cohort funnel is kept with every run, so the next run can show how cohorts moved
        return {"tables": {"funnel_cohorts": self.funnel.metrics()["funnel_cohorts"],
                           "targets": rp.records(t.drop(columns="period_start")) if not t.empty else [],
                           "alerts": [{k: v for k, v in a.items() if k != "text"} | {"text": a["text"]}
                                      for a in self.alerts],
                           "lags": rp.records(self.lags())},
                "scalars": {"revenue_last_12m": g["last_year"], "revenue_growth": g["growth"],
                            "revenue_target_next_12m": g["target"]}}

    def header(self):
        return rp.header("KPI overview", self.data, self.window)
