"""The channel page: sections of sentences, tables and charts over the run's channel metrics
(:class:`~kpi_kit.metrics.channel.ChannelMetrics`); it computes no number of its own."""

from __future__ import annotations

import pandas as pd

from .. import charts
from ..charts import style as kp
from ..charts.channel import MODEL_LABELS
from ..formatting import fmt_money, fmt_pct, is_missing, with_period
from ..metrics import attribution as at
from ..metrics.catalogue import BY_NAME
from ..metrics.datadriven import DATA_DRIVEN
from ..metrics.kpis import CHANNEL_COLUMNS, PREVIOUS
from . import blocks as rp
from . import takeaways as tk
from ._base import Report
from .section import Section, section

CONTACTS = ("has_contacts", "a contacts file")


def _roi(value) -> str:
    """ROI as a signed whole percentage: (revenue − spend) / spend."""
    return fmt_pct(value, 0, signed=True)


class ChannelReport(Report):
    """The channel notebook: which channels bring leads that become revenue, at what cost.

    Examples
    --------
    >>> r = ChannelReport(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> r.section("channels")  # doctest: +SKIP
    """

    title = "Channel report"

    def __init__(self, data, previous_metrics: str | None = None):
        super().__init__(data, previous_metrics)
        self.c = c = self.m.channel
        self.stages = c.stages
        self.contacts = data["contacts"]
        self.has_contacts, self.has_spend, self.volume = c.has_contacts, c.has_spend, c.volume
        self.has_touches = data.has("touches")
        self.table, self.groups = c.table, c.groups

    def kpis(self):
        """Headline cards of the window against the window before: spend, volume, CPL, paid CAC,
        revenue and ROI (each only where the client's data supports it)."""
        card = lambda label, metric: rp.KPI.of(self.book, label, metric, previous=PREVIOUS)  # noqa: E731
        k = [card("Spend (window)", "spend")] if self.has_spend else []
        if self.has_contacts:
            k.append(card(f"{'MQLs' if self.volume == 'mqls' else self.volume.capitalize()} (window)",
                          CHANNEL_COLUMNS[self.volume]))  # "customers" (a one-stage funnel) is new_customers
            if self.has_spend:
                k += [card("Blended CPL (window)", "cpl")] if "lead" in self.stages else []
        label = lambda metric: with_period(BY_NAME[metric].label, "window")  # noqa: E731
        if self.has_spend and self.m.volumes.available("new_customers"):
            k.append(card(label("cac_paid_only"), "cac_paid_only"))
        elif self.m.volumes.available("new_customers"):
            k.append(card(label("new_customers"), "new_customers"))
        booked = self.data.has("deals") or self.data.has("revenue")  # won deals or recorded revenue
        if booked:
            amount = self.m.volumes.amount_metric  # bookings, or revenue recorded without a sales process
            k.append(card(label(amount), amount))
        total = self.groups.loc["total"]
        if self.has_spend and booked and not is_missing(total["roi"]):
            k.append(card(label("roi"), "roi"))
        elif self.has_spend and booked and not is_missing(total["mer"]):  # amounts not tied to channels
            k.append(card(label("mer"), "mer"))
        label = "vs prior 12 months" if self.params.window_months == 12 else "vs prev. period"
        return rp.kpi_strip(k[:6], self.currency, previous_label=label, year_label=None)

    @section("The channel table")
    def channels(self) -> Section:
        table = self.channel_table_block("volume")
        return table if isinstance(table, Section) else Section("The channel table", table,
                                                                 takeaway=self._table_sentence())

    @section("Cost and value per channel")
    def efficiency(self) -> Section:
        table = self.channel_table_block("efficiency")
        return table if isinstance(table, Section) else Section("Cost and value per channel", table,
                                                                 takeaway=self._cost_sentence())

    @section("The group table")
    def groups_table(self) -> Section:
        table = self.group_table_block()
        return table if isinstance(table, Section) else Section("The group table", table)

    @section("Cost per lead and CAC")
    def cost(self) -> Section:
        t = self.table[self.table["spend"] > 0]
        if t.empty or t[["cpl", "cac"]].isna().all().all():
            return Section.not_shown("Cost per lead and CAC", "spend dated in the window on channels with leads")
        return Section("Cost per lead and CAC",
                       charts.cpl_cac_chart(t, self.groups.loc["total"], currency=self.currency,
                                            max_channels=self.params.chart_channels))

    @section("Conversion by channel (cohort view)", CONTACTS)
    def conversion(self) -> Section:
        if self.c.cohort.empty:
            return Section.not_shown("Conversion by channel (cohort view)", "contacts created in the window")
        return Section("Conversion by channel (cohort view)", charts.conversion_heatmap(
            self.c.cohort, self.stages, max_channels=self.params.chart_channels, min_sample=self.params.min_sample),
                       takeaway=self._conversion_sentence())

    @section("Channel trends")
    def trends(self) -> Section:
        m = self.c.monthly
        m = m[m["month"] >= self.window.first]
        panels = self.trend_panels()
        if m.empty or not panels:
            return Section.not_shown("Channel trends", "contacts or spend in the reporting window")
        if m["month"].nunique() < 2:
            return Section.not_shown("Channel trends", "at least two months in the reporting window")
        return Section("Channel trends", charts.trend_chart(
            m, panels, currency=self.currency, channels=list(self.table.index),
            paid_channels=list(self.table.index[self.table["spend"] > 0]), max_channels=self.params.chart_channels))

    @section("The share of pipeline by channel")
    def pipeline_share(self) -> Section:
        m = self.c.monthly
        m = m[m["month"] >= self.window.first - 12]
        col = "opportunities" if "opportunities" in m else self.volume
        if m.empty or col not in m or m[col].sum() == 0:
            return Section.not_shown("The share of pipeline by channel", "opportunities or leads by month")
        return Section("The share of pipeline by channel", charts.pipeline_share_chart(
            m, column=col, max_channels=self.params.chart_channels))

    @section("The rising-volume, falling-conversion check", CONTACTS)
    def flags(self) -> Section:
        title = "The rising-volume, falling-conversion check"
        if "lead" not in self.stages or "mql" not in self.stages:
            return Section.not_shown(title, "lead and MQL stages")
        f = self.c.flags
        if f.empty:
            return Section(title, takeaway="No channel's lead volume rose more than 10 % over the last three months "
                                           "while its lead-to-MQL rate fell more than 10 %, significantly.")
        lines = [f"{r.channel}: leads {fmt_pct(r.volume_change, 0, signed=True)} over the last three months while "
                 f"lead-to-MQL fell from {fmt_pct(r.rate_before)} to {fmt_pct(r.rate_recent)} (significant at 5 %)"
                 for r in f.itertuples()]
        return Section(title, rp.alert(lines))

    @section("The campaign view")
    def campaigns(self) -> Section:
        spend = self.data.get("spend")
        if spend is None or "campaign" not in spend:
            return Section.not_shown("The campaign view", "spend with a `campaign` column")
        t = self.c.campaigns()
        if t.empty:
            return Section.not_shown("The campaign view", "spend with campaigns dated in the window")
        if t["leads"].isna().all():  # no touches with campaigns: leads per campaign are not known
            t = t.drop(columns=["leads", "cpl"])
        cents = lambda v: fmt_money(v, self.currency, decimals=2)  # noqa: E731
        t = t.rename(columns={"ctr": "CTR", "cpc": "CPC", "cost_per_conversion": "cost per conversion",
                              "conversions": "platform conversions", "cpl": "CPL"})
        return Section("The campaign view", rp.table(
            t, {"spend": "money", "impressions": "count", "clicks": "count", "CTR": lambda v: fmt_pct(v, 2),
                "CPC": cents, "platform conversions": "count", "cost per conversion": cents, "leads": "count",
                "CPL": "money"}, currency=self.currency))

    @section("Attribution", ("has_touches", "a touches file"))
    def attribution(self) -> Section:
        """Revenue credit per channel under every model, then customers credited and ROI per model."""
        if not self.c.has_attributed_wins:
            return Section.not_shown("Attribution", "customers won in the window whose contacts have touches")
        a = self.c.attribution
        models = [*at.MODELS, *DATA_DRIVEN]
        count = lambda x: "n/a" if is_missing(x) else f"{x:.1f}"  # noqa: E731

        def keys(metric: str, frame) -> dict:
            channels = list(frame.index)
            return {MODEL_LABELS[m]: (lambda m: lambda i: f"{metric}|window|model/channel|{m}/{channels[i]}")(m)
                    for m in models}

        credited, roi_by = a["conversions"][models], self.c.attributed_roi[models]
        # a table with no number in it is a line of the page's "Not shown" list, not a caption over nothing
        gaps = []
        customers = roi = None
        if credited.empty or credited.isna().all().all():
            gaps.append(("Customers credited per model", "customers won in the window credited to a channel"))
        else:
            customers = rp.table(credited.rename(columns=MODEL_LABELS).reset_index(),
                                 {v: count for v in MODEL_LABELS.values()}, caption="Customers credited per model",
                                 collapse=True,
                                 kpis=keys("attributed_conversions", credited))
        if roi_by.empty or roi_by.isna().all().all():
            gaps.append(("Marketing ROI (attributed) per model", "spend in the window on channels credited with bookings"))
        else:
            roi = rp.table(roi_by.rename(columns=MODEL_LABELS).reset_index(), {v: _roi for v in MODEL_LABELS.values()},
                           caption="Marketing ROI (attributed bookings) per model: a booking's credit follows the "
                                   "model, not the deal's channel as in the channel table", collapse=True,
                           kpis=keys("attributed_roi", roi_by))
        return Section("Attribution", charts.attribution_chart(
            a["value"], models=models, currency=self.currency, max_channels=self.params.chart_channels),
                       customers, roi, takeaway=self._attribution_sentence(), also_not_shown=gaps)

    @section("Spend against revenue")
    def spend_revenue(self) -> Section:
        t = self.table
        if not (t["spend"] > 0).any():
            return Section.not_shown("Spend against revenue", "spend dated in the window")
        if not (self.data.has("deals") or self.data.has("revenue")):
            return Section.not_shown("Spend against revenue", "a deals or revenue file")
        a, model = self.c.attribution, self.params.attribution_model
        credited = a is not None and not a.empty and ("value", model) in a.columns
        if not credited and t.loc[t["spend"] > 0, "revenue"].isna().all():
            return Section.not_shown("Spend against revenue by channel", "won revenue tied to channels")
        rev = a["value"][model].reindex(t.index).fillna(0) if credited else t["revenue"]
        model = model if credited else None  # without attributed wins: the revenue won by each channel
        paid = t["spend"] > 0
        return Section("Spend against revenue", charts.spend_revenue_chart(
            t.loc[paid, ["spend"]].assign(revenue=rev[paid]), model=model, currency=self.currency,
            max_channels=self.params.chart_channels))

    @section("The self-reported source comparison", CONTACTS)
    def self_reported(self) -> Section:
        title = "The self-reported source comparison"
        x = self.c.self_reported()
        if "self_reported_source" not in self.contacts or self.contacts["self_reported_source"].isna().all():
            return Section.not_shown(title, "contacts with their answer to 'how did you hear about us'")
        if x.empty:
            return Section.not_shown(title, "answers from contacts created in the window")
        answers = x.pop("answers")
        x = x.reset_index()
        x["answers"] = answers.to_numpy()
        return Section(title, rp.table(x, {col: "percent" for col in x.columns if col not in ("channel", "answers")}
                                       | {"answers": "count"}), takeaway=self._self_reported_sentence())

    # -- tables and takeaways ---------------------------------------------------------------------
    VOLUME_COLUMNS = ["group", "sessions", "leads", "mqls", "opportunities", "customers", "won_deals", "spend",
                      "revenue", "roi", "mer"]
    EFFICIENCY_COLUMNS = ["cpl", "cost_per_mql", "cost_per_sqo", "cac", "visits_per_lead", "value_per_lead",
                          "value_per_visit"]

    def channel_table_block(self, columns: str = "volume"):
        """The channel table in two readable halves: ``volume`` (period counts, spend, revenue, ROI)
        and ``efficiency`` (cost per stage, visits and value per lead), with a total row that is the
        page's headline; a channel without spend is "unpaid" rather than $0 per lead."""
        t = pd.concat([self.table, self.groups.loc[["total"]].assign(group="")])
        t.index = [*self.table.index, "Total"]
        cols = self.VOLUME_COLUMNS if columns == "volume" else self.EFFICIENCY_COLUMNS
        cols = [c for c in cols if c != self._untold_ratio]
        t = t[[c for c in dict.fromkeys([*cols, "spend"]) if c in t]]
        t = self._table(t.rename_axis("channel").reset_index(), "channel", drop_spend=columns != "volume",
                        section=
                        "Cost and value per channel" if columns != "volume" else "The channel table")
        return t

    def group_table_block(self):
        g = self.groups.reset_index()
        g = g[[c for c in ("group", "sessions", "leads", "customers", "spend", "cpl", "cac", "revenue", "roi", "mer")
               if c in g and c != self._untold_ratio]]
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

        metrics = self.column_metrics
        header = {c: BY_NAME[metric].label for c, metric in metrics.items()} | {"group": "Group", "channel": "Channel"}
        keys = {header[c]: key(metric) for c, metric in metrics.items() if c in t}
        money = lambda v: v if isinstance(v, str) else fmt_money(v, self.currency)  # noqa: E731
        kinds = {c: BY_NAME[metric].unit for c, metric in metrics.items()}
        formats = {header[c]: (money if kind == "money" else "count") for c, kind in kinds.items()
                   if kind in ("money", "count")}
        formats |= {header["visits_per_lead"]: lambda v: "n/a" if is_missing(v) else f"{v:.1f}",
                    header["value_per_visit"]: lambda v: fmt_money(v, self.currency, decimals=2),
                    header["roi"]: _roi, header["mer"]: lambda v: "n/a" if is_missing(v) else f"{v:.2f}×",
                    "Group": "text", "Channel": "text"}
        t = t.rename(columns=header)
        return self._without_empty_columns(t, formats, section, keys, empty=[header.get(c, c) for c in empty])

    @property
    def _untold_ratio(self) -> str:
        """ROI and MER are never shown side by side: MER only where ROI is n/a (amounts not tied to
        channels), ROI otherwise."""
        return "roi" if is_missing(self.groups.loc["total", "roi"]) and not is_missing(
            self.groups.loc["total", "mer"]) else "mer"

    @property
    def column_metrics(self) -> dict:
        """Channel-table column -> the catalogue metric it shows (its header is the metric's label)."""
        return CHANNEL_COLUMNS | {"revenue": self.m.volumes.amount_metric}

    def _without_empty_columns(self, t: pd.DataFrame, formats: dict, section: str, kpis: dict | None = None, *,
                               empty: list[str] | None = None):
        """The table without columns that are n/a on every row (the data behind them is missing), and a
        line that names them; a table left with only its labels is not shown."""
        empty = [c for c in t.columns[1:] if (t[c].isna().all() if empty is None else c in empty)]
        if len(empty) == len(t.columns) - 1:
            return Section.not_shown(section, "the data behind its columns (" + ", ".join(empty) + ")")
        block = rp.table(t.drop(columns=empty), formats, currency=self.currency, kpis=kpis)
        if not empty:
            return block
        line = rp.note("Not shown, as this client's data does not have them: " + ", ".join(empty) + ".")
        return rp.Block(block._repr_html_() + line._repr_html_(), repr(block) + "\n" + repr(line))

    def trend_panels(self) -> list[tuple]:
        """(column, title, y label, axis formatter) of every trend this client's data supports."""
        money = lambda a: kp.money_axis(a, self.currency)  # noqa: E731
        m = self.c.monthly
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

    def _table_sentence(self) -> str:
        """The channel table's takeaway: blended ROI and the best and worst ROI among paid channels
        with enough won deals (:func:`~kpi_kit.reports.takeaways.channel_roi_sentence`)."""
        t = self.table[self.table["spend"] > 0]
        g = self.groups.loc["total"]
        if not self.has_spend:
            return "There is no spend file, so cost per lead, CAC and ROI are not defined."
        if t.empty:
            return "No channel has spend in the window, so cost per lead and CAC are not defined."
        if self._untold_ratio == "roi" or is_missing(g["roi"]):  # amounts not tied to channels: MER, no ROI
            text = f"{fmt_money(g['spend'], self.currency)} was spent on {rp.plural(len(t), 'channel')} in the window"
            if not is_missing(g.get("mer")):
                amount = BY_NAME[self.m.volumes.amount_metric].label.lower()  # bookings, or recorded revenue
                text += (f"; {amount} {'is' if amount == 'revenue' else 'are'} not tied to channels, so ROI is n/a "
                         f"and only the blended "
                         f"{BY_NAME['mer'].label} is known: {g['mer']:.2f}×")
            return text + "."
        return tk.channel_roi_sentence(self.table, g, min_sample=self.params.min_sample, label=BY_NAME["roi"].label)

    def _cost_sentence(self) -> str:
        """The cost table's takeaway: blended CPL and the lowest and highest CPL among paid channels with
        enough leads (:func:`~kpi_kit.reports.takeaways.channel_cpl_sentence`)."""
        t = self.table[self.table["spend"] > 0]
        if not self.has_spend or t.empty:
            return "No channel has spend in the window, so cost per lead and CAC are not defined."
        if t["cpl"].isna().all():
            why = "there is no contacts file" if not self.has_contacts else "this client's funnel has no lead stage"
            return f"Cost per lead is not defined because {why}."
        return tk.channel_cpl_sentence(self.table, self.groups.loc["total"], min_sample=self.params.min_sample,
                                       currency=self.currency)

    def _conversion_sentence(self) -> str:
        """Best and worst channel by the share of its first-stage contacts (created in the window) that
        became customers, the heatmap's cohort: only named channels with at least ``min_sample`` of them
        are ranked (SPEC "Small samples"; :func:`~kpi_kit.reports.takeaways.conversion_sentence`)."""
        vol, first = self.volume, self.stages[0]
        noun = "MQLs" if vol == "mqls" else vol
        if "customer" not in self.stages:
            return "This client's funnel has no customer stage, so no conversion to customer is compared."
        if vol == "customers":
            return "This client's funnel starts at customers, so there is no conversion to customer to compare."
        return tk.conversion_sentence(self.c.cohort, first, noun=noun, min_sample=self.params.min_sample)

    def _attribution_sentence(self) -> str:
        a = self.c.attribution
        return tk.attribution_sentence(a["value"], a["conversions"], self.params.attribution_model,
                                       labels=MODEL_LABELS, data_driven=DATA_DRIVEN, currency=self.currency)

    def _self_reported_sentence(self) -> str:
        if "self_reported_source" not in self.contacts:
            return "The contacts file has no answers to 'how did you hear about us'."
        return tk.self_reported_sentence(self.c.self_reported())
