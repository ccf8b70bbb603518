"""The channel notebook's analysis: spend efficiency, traffic value and attribution by channel."""

from __future__ import annotations

from functools import cached_property

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import attribution as at
from . import channels as ch
from . import plotting as kp
from . import report as rp
from ._dates import last_full_month, reporting_window, to_day
from ._math import safe_div
from .data import ClientData
from .formatting import fmt_count, fmt_money, fmt_pct, is_missing

MODEL_LABELS = {"first_touch": "First touch", "last_touch": "Last touch", "linear": "Linear",
                "position_based": "Position (40/20/40)", "time_decay": "Time decay", "w_shaped": "W-shaped"}
TABLE_KEYS = ["channel", "group", "sessions", "leads", "mqls", "opportunities", "customers", "spend", "cpl",
              "cost_per_mql", "cost_per_sqo", "cac", "revenue", "roi"]


def _roi(value) -> str:
    """ROI as a signed whole percentage: (revenue − spend) / spend."""
    return fmt_pct(value, 0, signed=True)


class ChannelReport:
    """Channel metrics of one client over its reporting window.

    Examples
    --------
    >>> r = ChannelReport(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> r.table.loc["Paid Search", "cpl"]  # doctest: +SKIP
    """

    def __init__(self, data: ClientData):
        self.data = data
        self.params = p = data.params
        self.as_of = to_day(p.as_of)
        self.stages = list(p.stages)
        self.window = reporting_window(p.as_of, p.window_months)
        self.currency = p.currency
        self.contacts = data["contacts"]
        self.has_contacts = data.has("contacts")
        self.has_spend = data.has("spend")
        # the top of this client's funnel: leads, or the first stage it tracks (Olist starts at MQL)
        self.volume = ch.STAGE_COLUMNS[self.stages[0]]

    # -- numbers ---------------------------------------------------------------------------
    @cached_property
    def table(self) -> pd.DataFrame:
        return ch.channel_table(self.contacts if self.has_contacts else None, self.stages, self.window,
                                deals=self.data.get("deals"), spend=self.data.get("spend"),
                                traffic=self.data.get("traffic"))

    @cached_property
    def groups(self) -> pd.DataFrame:
        return ch.rollup(self.table, self.stages)

    @cached_property
    def monthly(self) -> pd.DataFrame:
        months = pd.period_range(self.window.first - 12, last_full_month(self.as_of), freq="M")
        return ch.monthly_by_channel(self.contacts, self.stages, months, spend=self.data.get("spend"))

    @cached_property
    def flags(self) -> pd.DataFrame:
        if "lead" not in self.stages or "mql" not in self.stages:
            return pd.DataFrame()
        return ch.rising_volume_falling_conversion(self.monthly)

    def conversions(self) -> pd.DataFrame:
        """Customers won in the window, with their lead/opportunity dates and won revenue."""
        c = self.contacts
        conv = c[c["customer_at"].notna() & self.window.contains(c["customer_at"])] if "customer_at" in c else c.iloc[:0]
        conv = conv[["contact_id", "customer_at", "channel"]
                    + [k for k in ("lead_at", "opportunity_at") if k in conv]].rename(columns={"customer_at": "converted_at"})
        deals = self.data.get("deals")
        value = pd.Series(0.0, index=conv.index)
        if deals is not None and "contact_id" in deals:
            won = deals[deals["status"] == "won"].groupby("contact_id")["amount"].sum()
            value = conv["contact_id"].map(won).fillna(0.0)
        return conv.assign(revenue=value).reset_index(drop=True)

    @property
    def has_touches(self) -> bool:
        return self.data.has("touches")

    @property
    def has_attributed_wins(self) -> bool:
        """Customers won in the window whose contacts have touches: something to attribute."""
        return self.attribution is not None and not self.attribution.empty

    @cached_property
    def attribution(self) -> pd.DataFrame | None:
        """Channel × (measure, model): customers and revenue credited under every model."""
        touches = self.data.get("touches")
        if touches is None or touches.empty:
            return None
        return at.attribution_by_channel(touches, self.conversions(), as_of=self.as_of,
                                         half_life_days=self.params.half_life_days, value_col="revenue")

    @cached_property
    def attributed_roi(self) -> pd.DataFrame | None:
        if self.attribution is None:
            return None
        return at.attributed_roi(self.attribution, self.table["spend"])

    def metrics(self) -> dict:
        t = self.table.reset_index()
        return {"channels": rp.records(t, {k: k for k in TABLE_KEYS}),
                "channel_groups": rp.records(self.groups.reset_index().rename(columns={"group": "group"}),
                                             {"group": "group", **{k: k for k in TABLE_KEYS[2:]}})}

    # -- report blocks ---------------------------------------------------------------------
    def header(self):
        return rp.header("Channel report", self.data, self.window)

    def kpis(self):
        g = self.groups.loc["total"]
        prev = ch.rollup(ch.channel_table(self.contacts if self.has_contacts else None, self.stages,
                                          self.window.shift(-self.params.window_months),
                                          deals=self.data.get("deals"), spend=self.data.get("spend"),
                                          traffic=self.data.get("traffic")), self.stages).loc["total"]
        k = [rp.KPI("Spend", g["spend"], "money", prev["spend"], higher_is_better=False)] if self.has_spend else []
        if self.has_contacts:
            k += [rp.KPI(self.volume.capitalize() if self.volume != "mqls" else "MQLs", g[self.volume], "count",
                         prev[self.volume])]
            if self.has_spend:
                k += [rp.KPI("Blended CPL", g["cpl"], "money", prev["cpl"], higher_is_better=False)] \
                    if "lead" in self.stages else []
                k += [rp.KPI("Paid CAC (spend only)", g["cac"], "money", prev["cac"], higher_is_better=False)]
            elif "customer" in self.stages:
                k += [rp.KPI("New customers", g["customers"], "count", prev["customers"])]
        if self.data.has("deals"):
            k += [rp.KPI("Revenue won", g["revenue"], "money", prev["revenue"])]
        if self.has_spend and self.data.has("deals"):
            k += [rp.KPI("Marketing ROI", g["roi"], "percent", prev["roi"])]
        label = "vs prior 12 months" if self.params.window_months == 12 else "vs prev. period"
        return rp.kpi_strip(k, self.currency, previous_label=label, year_label=None)

    VOLUME_COLUMNS = ["channel", "group", "sessions", "leads", "mqls", "opportunities", "customers", "spend",
                      "revenue", "roi"]
    EFFICIENCY_COLUMNS = ["channel", "cpl", "cost_per_mql", "cost_per_sqo", "cac", "visits_per_lead",
                          "value_per_lead", "value_per_visit"]

    def channel_table_block(self, columns: str = "volume"):
        """The channel table in two readable halves: ``volume`` (counts, spend, revenue, ROI) and
        ``efficiency`` (cost per stage, visits and value per lead)."""
        t = self.table.reset_index()
        cols = self.VOLUME_COLUMNS if columns == "volume" else self.EFFICIENCY_COLUMNS
        t = t[[c for c in cols if c in t]].rename(columns=lambda c: c.replace("_", " "))
        money = {c: "money" for c in ("spend", "cpl", "cost per mql", "cost per sqo", "cac", "value per lead",
                                      "revenue")}
        return self._without_empty_columns(t, money | {
            "sessions": "count", "leads": "count", "mqls": "count", "opportunities": "count", "customers": "count",
            "visits per lead": lambda v: "n/a" if is_missing(v) else f"{v:.1f}",
            "value per visit": lambda v: fmt_money(v, self.currency, decimals=2), "roi": _roi},
            "Cost and value per channel" if columns != "volume" else "The channel table")

    def group_table_block(self):
        g = self.groups.reset_index()
        g = g[["group", "sessions", "leads", "customers", "spend", "cpl", "cac", "revenue", "roi"]]
        return self._without_empty_columns(g, {"sessions": "count", "leads": "count", "customers": "count",
                                               "spend": "money", "cpl": "money", "cac": "money", "revenue": "money",
                                               "roi": _roi}, "The group table")

    def _without_empty_columns(self, t: pd.DataFrame, formats: dict, section: str):
        """The table without columns that are n/a on every row (the data behind them is missing), and a
        line that names them; a table left with only its labels is not shown."""
        empty = [c for c in t.columns[1:] if t[c].isna().all()]
        if len(empty) == len(t.columns) - 1:
            return rp.missing(section, "the data behind its columns (" + ", ".join(empty) + ")")
        block = rp.table(t.drop(columns=empty), formats, currency=self.currency)
        if not empty:
            return block
        line = rp.note("Not shown, as this client's data does not have them: " + ", ".join(empty) + ".")
        return rp.Block(block._repr_html_() + line._repr_html_(), repr(block) + "\n" + repr(line))

    def table_sentence(self) -> str:
        t = self.table[self.table["spend"] > 0]
        g = self.groups.loc["total"]
        if not self.has_spend:
            return "There is no spend file, so cost per lead, CAC and ROI are not defined."
        if t.empty:
            return "No channel has spend in the window, so cost per lead and CAC are not defined."
        if t["cpl"].isna().all():
            why = "there is no contacts file" if not self.has_contacts else "this client's funnel has no lead stage"
            text = (f"{fmt_money(g['spend'], self.currency)} was spent on {len(t)} channel(s) in the window; "
                    f"cost per lead is not defined because {why}")
            if t["roi"].notna().any() and g["revenue"] > 0 and (t["revenue"] > 0).any():
                best = t["roi"].idxmax()
                text += f"; {best} has the best ROI ({_roi(t.loc[best, 'roi'])})"
            elif not is_missing(g["roi"]) and g["revenue"] > 0:
                text += (f". Revenue is not tied to channels, so only the blended ROI is known: "
                         f"{_roi(g['roi'])}")
            return text + "."
        cheap = t["cpl"].idxmin()
        text = (f"Blended CPL is {fmt_money(g['cpl'], self.currency)}; among paid channels {cheap} has the lowest "
                f"CPL ({fmt_money(t.loc[cheap, 'cpl'], self.currency)})")
        if t["roi"].notna().any():
            best = t["roi"].idxmax()
            text += f" and {best} the best ROI ({_roi(t.loc[best, 'roi'])})"
        return text + "."

    def cpl_cac_chart(self):
        t = self.table[self.table["spend"] > 0]
        if t.empty or t[["cpl", "cac"]].isna().all().all():
            return rp.show_missing("Cost per lead and CAC", "spend dated in the window on channels with leads")
        fig, axes = plt.subplots(1, 2, figsize=(kp.WIDTH, 3.8))
        g = self.groups.loc["total"]
        for ax, col, label in ((axes[0], "cpl", "Cost per lead"), (axes[1], "cac", "Channel CAC")):
            s = t[col].dropna().sort_values()
            if s.empty:
                ax.set_visible(False)
                continue
            ax.barh(s.index, s.to_numpy(), color=[kp.channel_colour(c) for c in s.index])
            ax.axvline(g[col], color=kp.INK, ls="--", lw=1.2, label=f"Blended {fmt_money(g[col], self.currency)}")
            kp.money_axis(ax, self.currency, axis="x")
            ax.set_title(f"{label} by channel")
            ax.set_xlabel(f"{label} ({self.currency})")
            ax.legend(loc="lower right")
        axes[0].set_ylabel("Channel")
        fig.tight_layout()
        return axes

    @rp.needs("has_contacts", mode="quiet")
    def conversion_heatmap(self):
        if self.table.empty:
            return rp.show_missing("Conversion by channel", "contacts created in the window")
        chain = ["created", *self.stages]
        cols = [f"{a}_to_{b}" for a, b in zip(chain, chain[1:])]
        m = self.table[cols].copy()
        m.columns = [f"{a}→{b}" for a, b in zip(chain, chain[1:])]
        return kp.heatmap(m, title="Stage conversion by channel", xlabel="Step", ylabel="Channel",
                          cbar_label="conversion", vmax=1.0)

    @rp.needs("has_contacts", "Conversion by channel", "a contacts file", mode="sentence")
    def conversion_sentence(self) -> str:
        vol = self.volume
        noun = "MQLs" if vol == "mqls" else vol
        t = self.table[self.table[vol] >= 20]
        if "customer" not in self.stages or t.empty or vol == "customers":
            return f"Too few {noun} per channel to compare conversion."
        rate = safe_div(t["customers"], t[vol])
        best, worst = rate.idxmax(), rate.idxmin()
        return (f"{best} turns the largest share of its {noun} into customers ({fmt_pct(rate[best])}), "
                f"{worst} the smallest ({fmt_pct(rate[worst])}); young {noun} are still converting.")

    def trend_panels(self) -> list[tuple]:
        """(column, title, y label, axis formatter) of every trend this client's data supports."""
        money = lambda a: kp.money_axis(a, self.currency)  # noqa: E731
        m = self.monthly
        vol = self.volume
        label = "MQLs" if vol == "mqls" else vol.capitalize()
        panels = []
        if self.has_contacts and vol in m:
            panels.append((vol, f"{label} per month", label, kp.count_axis))
        if self.has_spend:
            panels.append(("spend", "Spend per month", f"Spend ({self.currency})", money))
        if self.has_spend and self.has_contacts and "lead" in self.stages:
            panels.append(("cpl", "CPL per month", f"CPL ({self.currency})", money))
        if self.has_spend and self.has_contacts and "customer" in self.stages:
            panels.append(("cac", "CAC per month", f"CAC ({self.currency})", money))
        return panels

    def trend_chart(self):
        m = self.monthly
        m = m[m["month"] >= self.window.first]
        panels = self.trend_panels()
        if m.empty or not panels:
            return rp.show_missing("Channel trends", "contacts or spend in the reporting window")
        if m["month"].nunique() < 2:
            return rp.show_missing("Channel trends", "at least two months in the reporting window")
        rows = 2 if len(panels) > 2 else 1
        cols = 2 if len(panels) > 1 else 1
        fig, axes = plt.subplots(rows, cols, figsize=(kp.WIDTH, 6.4 if rows == 2 else 3.6), sharex=True, squeeze=False)
        paid = self.table.index[self.table["spend"] > 0]
        for ax, (col, title, ylabel, fmt) in zip(axes.flat, panels):
            channels = paid if col in ("spend", "cpl", "cac") else self.table.index
            wide = m.pivot_table(index="month", columns="channel", values=col, aggfunc="sum" if col in
                                 ("leads", "mqls", "spend") else "mean").reindex(
                columns=[c for c in channels if c in set(m["channel"])])
            x = wide.index.to_timestamp()
            for c in wide.columns:
                ax.plot(x, wide[c].to_numpy(dtype=float), color=kp.channel_colour(c), lw=1.8, marker="o"
                        if len(x) < 4 else None, label=c)
            ax.set_title(title)
            ax.set_ylabel(ylabel)
            fmt(ax)
            kp.month_axis(ax)
            ax.tick_params(axis="x", labelrotation=30)
            ax.set_ylim(bottom=0)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=5, bbox_to_anchor=(0.5, -0.06))
        fig.tight_layout()
        return axes

    def pipeline_share_chart(self):
        m = self.monthly
        m = m[m["month"] >= self.window.first - 12]
        col = "opportunities" if "opportunities" in m else self.volume
        if m.empty or col not in m or m[col].sum() == 0:
            return rp.show_missing("The share of pipeline by channel", "opportunities or leads by month")
        wide = m.pivot_table(index="month", columns="channel", values=col, aggfunc="sum").fillna(0)
        wide = wide[wide.sum(axis=1) > 0]  # a month with no new volume has no shares
        share = wide.div(wide.sum(axis=1), axis=0)
        noun = "MQLs" if col == "mqls" else col
        fig, ax = plt.subplots(figsize=(kp.WIDTH, 3.6))
        ax.stackplot(share.index.to_timestamp(), share.T.to_numpy(), labels=share.columns,
                     colors=[kp.channel_colour(c) for c in share.columns], alpha=0.9)
        kp.percent_axis(ax)
        kp.month_axis(ax)
        ax.set_ylim(0, 1)
        ax.set_title(f"Share of new {noun} by channel")
        ax.set_ylabel(f"Share of {noun}")
        ax.set_xlabel("Month")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return ax

    @rp.needs("has_contacts", "The rising-volume, falling-conversion check", "a contacts file", mode="sentence")
    def flags_block(self):
        if "lead" not in self.stages or "mql" not in self.stages:
            return rp.missing("The rising-volume, falling-conversion check", "lead and MQL stages")
        f = self.flags
        if f.empty:
            return rp.note("No channel's lead volume rose more than 10 % over the last three months while its "
                           "lead-to-MQL rate fell more than 10 %.")
        lines = [f"{r.channel}: leads {fmt_pct(r.volume_change, 0, signed=True)} over the last three months while "
                 f"lead-to-MQL fell from {fmt_pct(r.rate_before)} to {fmt_pct(r.rate_recent)}" for r in f.itertuples()]
        return rp.Block(rp.CSS + '<div class="kk-missing">⚠ ' + "<br>⚠ ".join(lines) + "</div>",
                        "\n".join(lines))

    def campaign_block(self):
        spend = self.data.get("spend")
        if spend is None or "campaign" not in spend:
            return rp.missing("The campaign view", "spend with a `campaign` column")
        t = ch.campaign_table(spend, self.window, contacts=self.contacts, touches=self.data.get("touches"))
        if t.empty:
            return rp.missing("The campaign view", "spend with campaigns dated in the window")
        if t["leads"].isna().all():  # no touches with campaigns: leads per campaign are not known
            t = t.drop(columns=["leads", "cpl"])
        cents = lambda v: fmt_money(v, self.currency, decimals=2)  # noqa: E731
        t = t.rename(columns={"ctr": "CTR", "cpc": "CPC", "cost_per_conversion": "cost per conversion",
                              "conversions": "platform conversions", "cpl": "CPL"})
        return rp.table(t, {"spend": "money", "impressions": "count", "clicks": "count",
                            "CTR": lambda v: fmt_pct(v, 2), "CPC": cents, "platform conversions": "count",
                            "cost per conversion": cents, "leads": "count", "CPL": "money"}, currency=self.currency)

    @rp.needs("has_touches", "Attribution", "a touches file")
    def attribution_chart(self):
        """The takeaway sentence, then revenue credit per channel under every model."""
        from IPython.display import display

        if not self.has_attributed_wins:
            return rp.show_missing("Attribution", "customers won in the window whose contacts have touches")
        display(rp.note(self.attribution_sentence()))
        a = self.attribution["value"][list(at.MODELS)]
        a = a.loc[a.sum(axis=1).sort_values(ascending=False).index]
        fig, ax = plt.subplots(figsize=(kp.WIDTH, 4.2))
        width = 0.8 / len(at.MODELS)
        x = np.arange(len(a))
        shades = ["#1e3a8a", "#2563eb", "#60a5fa", "#0d9488", "#f59e0b", "#b91c1c"]
        for i, model in enumerate(at.MODELS):
            ax.bar(x + i * width - 0.4 + width / 2, a[model], width, label=MODEL_LABELS[model], color=shades[i])
        ax.set_xticks(x, a.index, rotation=20)
        kp.money_axis(ax, self.currency)
        ax.set_title("Revenue credited to each channel by attribution model")
        ax.set_ylabel(f"Attributed revenue ({self.currency})")
        ax.set_xlabel("Channel")
        ax.legend(ncol=3, loc="upper right")
        return ax

    @rp.needs("has_attributed_wins", mode="quiet")  # the chart above says why
    def attribution_table(self, measure: str = "conversions"):
        a = self.attribution[measure][list(at.MODELS)].rename(columns=MODEL_LABELS).reset_index()
        fmt = {v: ("money" if measure == "value" else lambda x: "n/a" if is_missing(x) else f"{x:.1f}")
               for v in MODEL_LABELS.values()}
        return rp.table(a, fmt, currency=self.currency)

    @rp.needs("has_attributed_wins", mode="quiet")
    def roi_table(self):
        r = self.attributed_roi[list(at.MODELS)].rename(columns=MODEL_LABELS).reset_index()
        return rp.table(r, {v: _roi for v in MODEL_LABELS.values()})

    def attribution_sentence(self) -> str:
        a = self.attribution["value"]
        model = self.params.attribution_model
        first, last = a["first_touch"], a["last_touch"]
        shift = (last - first).sort_values()
        return (f"Under the chosen {MODEL_LABELS[model].lower()} model {a[model].idxmax()} earns the most revenue "
                f"credit; moving from first to last touch shifts most credit towards {shift.index[-1]} "
                f"(+{fmt_money(shift.iloc[-1], self.currency)}) and away from {shift.index[0]} "
                f"({fmt_money(shift.iloc[0], self.currency)}).")

    def spend_revenue_chart(self):
        t = self.table
        if not (t["spend"] > 0).any():
            return rp.show_missing("Spend against revenue", "spend dated in the window")
        if not self.data.has("deals"):
            return rp.show_missing("Spend against revenue", "a deals file (won revenue)")
        if self.attribution is None and t.loc[t["spend"] > 0, "revenue"].isna().all():
            return rp.show_missing("Spend against revenue by channel", "won revenue tied to channels")
        rev = self.attribution["value"][self.params.attribution_model].reindex(t.index).fillna(0) \
            if self.attribution is not None else t["revenue"]
        paid = t["spend"] > 0
        fig, ax = plt.subplots(figsize=(kp.WIDTH, 4.4))
        ax.scatter(t.loc[paid, "spend"], rev[paid], s=80, c=[kp.channel_colour(c) for c in t.index[paid]], zorder=3)
        for c in t.index[paid]:
            ax.annotate(c, (t.loc[c, "spend"], rev[c]), xytext=(6, 4), textcoords="offset points", fontsize=9)
        top = max(float(t.loc[paid, "spend"].max() or 1), float(rev[paid].max() or 1)) * 1.1
        ax.plot([0, top], [0, top], color=kp.MUTED, ls="--", lw=1, label="Break-even (ROI 0)")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        kp.money_axis(ax, self.currency)
        kp.money_axis(ax, self.currency, axis="x")
        ax.set_title(f"Spend vs attributed revenue ({MODEL_LABELS[self.params.attribution_model].lower()})")
        ax.set_xlabel(f"Spend in window ({self.currency})")
        ax.set_ylabel(f"Attributed revenue ({self.currency})")
        ax.legend(loc="upper left")
        return ax

    @rp.needs("has_contacts", mode="quiet")
    def self_reported_block(self):
        c = self.contacts
        if "self_reported_source" not in c or c["self_reported_source"].isna().all():
            return rp.missing("The self-reported source comparison", "a `self_reported_source` column in contacts")
        x = ch.self_reported_vs_tracked(c, self.window)
        if x.empty:
            return rp.missing("The self-reported source comparison", "answers from contacts created in the window")
        answers = x.pop("answers")
        x = x.reset_index()
        x["answers"] = answers.to_numpy()
        return rp.table(x, {col: "percent" for col in x.columns if col not in ("channel", "answers")}
                        | {"answers": "count"})

    @rp.needs("has_contacts", "The self-reported source comparison", "a contacts file", mode="sentence")
    def self_reported_sentence(self) -> str:
        if "self_reported_source" not in self.contacts:
            return "The contacts file has no self_reported_source column."
        x = ch.self_reported_vs_tracked(self.contacts, self.window)
        dark = [r for r in ("Direct", "Organic Search") if r in x.index]
        if x.empty or not dark:
            return "No answers from contacts tracked as Direct or Organic Search."
        counts = x.loc[dark].drop(columns="answers").mul(x.loc[dark, "answers"], axis=0).sum()
        total = counts.sum()
        other = counts.drop([c for c in ("Google", "Other") if c in counts]).sort_values(ascending=False)
        return (f"Of {fmt_count(total)} contacts tracked as {' or '.join(dark)} who answered, "
                f"{fmt_pct(other.sum() / total, 0)} name another source ({', '.join(other.index[:3])} lead): "
                f"traffic that tracking calls direct or organic is often dark social.")
