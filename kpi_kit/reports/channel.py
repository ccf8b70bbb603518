"""The channel notebook's analysis: spend efficiency, traffic value and attribution by channel."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import plotting as kp
from .. import report as rp
from .._math import safe_div
from ..data import ClientData
from ..formatting import fmt_count, fmt_money, fmt_pct, is_missing
from ..metrics import attribution as at
from ..metrics import channel as ch
from ..metrics import compute
from ..metrics.kpis import CHANNEL_COLUMNS, PREVIOUS

MODEL_LABELS = {"first_touch": "First touch", "last_touch": "Last touch", "linear": "Linear",
                "position_based": "Position (40/20/40)", "time_decay": "Time decay", "w_shaped": "W-shaped"}
def _roi(value) -> str:
    """ROI as a signed whole percentage: (revenue − spend) / spend."""
    return fmt_pct(value, 0, signed=True)


class ChannelReport:
    """The channel notebook: sentences, tables and charts over the run's channel metrics
    (:class:`~kpi_kit.metrics.channel.ChannelMetrics`); it computes no number of its own.

    Examples
    --------
    >>> r = ChannelReport(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> r.table.loc["Paid Search", "cpl"]  # doctest: +SKIP
    """

    def __init__(self, data: ClientData):
        self.data = data
        self.m = compute(data)
        self.c = c = self.m.channel
        self.book = self.m.book
        self.params = p = data.params
        self.as_of = self.m.ctx.as_of
        self.stages = c.stages
        self.window = self.m.ctx.window
        self.currency = p.currency
        self.contacts = data["contacts"]
        self.has_contacts, self.has_spend, self.volume = c.has_contacts, c.has_spend, c.volume
        self.table, self.groups = c.table, c.groups

    @property
    def monthly(self) -> pd.DataFrame:
        return self.c.monthly

    @property
    def attribution(self) -> pd.DataFrame | None:
        return self.c.attribution

    @property
    def has_touches(self) -> bool:
        return self.data.has("touches")

    @property
    def has_attributed_wins(self) -> bool:
        return self.c.has_attributed_wins

    # -- report blocks ---------------------------------------------------------------------
    def header(self):
        return rp.header("Channel report", self.data, self.window)

    def kpis(self):
        """Headline cards of the window against the window before: spend, volume, CPL, paid CAC,
        revenue and ROI (each only where the client's data supports it)."""
        card = lambda label, metric: rp.KPI.of(self.book, label, metric, previous=PREVIOUS)  # noqa: E731
        k = [card("Spend (window)", "spend")] if self.has_spend else []
        if self.has_contacts:
            k.append(card(f"{'MQLs' if self.volume == 'mqls' else self.volume.capitalize()} (window)", self.volume))
            if self.has_spend:
                k += [card("Blended CPL (window)", "cpl")] if "lead" in self.stages else []
        if self.has_spend and self.m.volumes.available("new_customers"):
            k.append(card("Paid CAC, spend only (window)", "cac_paid"))
        elif self.m.volumes.available("new_customers"):
            k.append(card("New customers (window)", "new_customers"))
        if self.data.has("deals"):
            k.append(card("Revenue won (window)", "revenue"))
        if self.has_spend and self.data.has("deals"):
            k.append(card("Marketing ROI (window)", "roi"))
        label = "vs prior 12 months" if self.params.window_months == 12 else "vs prev. period"
        return rp.kpi_strip(k[:6], self.currency, previous_label=label, year_label=None)

    VOLUME_COLUMNS = ["group", "sessions", "leads", "mqls", "opportunities", "customers", "won_deals", "spend",
                      "revenue", "roi"]
    EFFICIENCY_COLUMNS = ["cpl", "cost_per_mql", "cost_per_sqo", "cac", "visits_per_lead", "value_per_lead",
                          "value_per_visit"]

    def channel_table_block(self, columns: str = "volume"):
        """The channel table in two readable halves: ``volume`` (period counts, spend, revenue, ROI)
        and ``efficiency`` (cost per stage, visits and value per lead), with a total row that is the
        page's headline; a channel without spend is "unpaid" rather than $0 per lead."""
        t = pd.concat([self.table, self.groups.loc[["total"]].assign(group="")])
        t.index = [*self.table.index, "Total"]
        cols = self.VOLUME_COLUMNS if columns == "volume" else self.EFFICIENCY_COLUMNS
        t = t[[c for c in dict.fromkeys([*cols, "spend"]) if c in t]]
        t = self._table(t.rename_axis("channel").reset_index(), "channel", drop_spend=columns != "volume",
                        section=
                        "Cost and value per channel" if columns != "volume" else "The channel table")
        return t

    def group_table_block(self):
        g = self.groups.reset_index()
        g = g[[c for c in ("group", "sessions", "leads", "customers", "spend", "cpl", "cac", "revenue", "roi") if c in g]]
        g["group"] = g["group"].replace({"total": "Total"})
        return self._table(g, "group", section="The group table")

    def _table(self, t: pd.DataFrame, dimension: str, *, section: str, drop_spend: bool = False):
        """Format a channel or group table: unpaid rows say so in their cost columns, every cell is
        marked with the KPI it shows (the Total row is the client's headline)."""
        empty = [c for c in t.columns[1:] if t[c].isna().all()]  # before "unpaid" fills the cost columns
        unpaid = ~(t["spend"] > 0) if "spend" in t else pd.Series(False, index=t.index)
        cost = [c for c in ("cpl", "cost_per_mql", "cost_per_sqo", "cac") if c in t]
        if "spend" in t and t["spend"].notna().any():
            for c in cost:
                t[c] = t[c].astype(object).where(~unpaid | t[c].notna(), "unpaid")
        if drop_spend:
            t = t.drop(columns="spend")
        names = list(t[dimension])
        def key(metric: str):
            return lambda i: f"{metric}|window||" if names[i] == "Total" else f"{metric}|window|{dimension}|{names[i]}"

        keys = {c.replace("_", " ").replace("cac", "paid cac"): key(metric) for c, metric in CHANNEL_COLUMNS.items()
                if c in t}
        t = t.rename(columns=lambda c: c.replace("_", " ").replace("cac", "paid cac"))
        money = lambda v: v if isinstance(v, str) else fmt_money(v, self.currency)  # noqa: E731
        formats = {c: money for c in ("spend", "cpl", "cost per mql", "cost per sqo", "paid cac", "value per lead",
                                      "revenue")}
        formats |= {c: "count" for c in ("sessions", "leads", "mqls", "sals", "sqls", "opportunities", "customers",
                                         "won deals")}
        formats |= {"visits per lead": lambda v: "n/a" if is_missing(v) else f"{v:.1f}",
                    "value per visit": lambda v: fmt_money(v, self.currency, decimals=2), "roi": _roi,
                    "group": "text"}
        return self._without_empty_columns(t, formats, section, keys, empty=[
            c.replace("_", " ").replace("cac", "paid cac") for c in empty])

    def _without_empty_columns(self, t: pd.DataFrame, formats: dict, section: str, kpis: dict | None = None, *,
                               empty: list[str] | None = None):
        """The table without columns that are n/a on every row (the data behind them is missing), and a
        line that names them; a table left with only its labels is not shown."""
        empty = [c for c in t.columns[1:] if (t[c].isna().all() if empty is None else c in empty)]
        if len(empty) == len(t.columns) - 1:
            return rp.missing(section, "the data behind its columns (" + ", ".join(empty) + ")")
        block = rp.table(t.drop(columns=empty), formats, currency=self.currency, kpis=kpis)
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
        cohort = self.c.cohort
        if cohort.empty:
            return rp.show_missing("Conversion by channel", "contacts created in the window")
        chain = ["created", *self.stages]
        m = cohort[[f"{a}_to_{b}" for a, b in zip(chain, chain[1:])]].copy()
        m.columns = [f"{a}→{b}" for a, b in zip(chain, chain[1:])]
        return kp.heatmap(m, title="Cohort view: stage conversion by channel (contacts created in the window)",
                          xlabel="Step", ylabel="Channel", cbar_label="conversion", vmax=1.0)

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
        f = self.c.flags
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
        t = self.c.campaigns()
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
        r = self.c.attributed_roi[list(at.MODELS)].rename(columns=MODEL_LABELS).reset_index()
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
