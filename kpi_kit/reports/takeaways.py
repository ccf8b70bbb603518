"""Takeaway sentences as functions of the frame they sit beside (SPEC "Takeaways and alerts").

Each function takes the frame a table or chart shows (after the same filtering) and returns the
sentence printed next to it, so a test can hand-build the frame and check the sentence against it:

- best, worst, fastest, lowest … are the argmax or argmin of the column the table shows, over the rows
  that are not small samples (fewer than ``min_sample`` base items) and whose name is not an unknown
  or unpaid bucket (:func:`nameable`): such a row is shown, never named;
- every sentence names the basis of the column it reads ("monthly logo churn over the trailing 6
  months", "won revenue in the window against spend");
- a change between two periods is a rise or a fall only when a test finds it significant at 5 %
  (:func:`kpi_kit._math.proportions_differ` for rates,
  :func:`kpi_kit.metrics.overview.counts_differ` for counts), and a rate's
  change is in percentage points.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._math import proportions_differ, safe_div
from ..formatting import fmt_count, fmt_money, fmt_pct, fmt_pp, is_missing
from ..metrics.overview import counts_differ  # noqa: F401 - the count test the takeaways name

# names of the rows a takeaway never names best or worst: a bucket of rows whose source gave no
# channel or segment, or the cost columns' "unpaid"
UNNAMED = frozenset({"unknown", "(unknown)", "unpaid", "none", "(none)", "not set", "(not set)", "n/a",
                     "unassigned", ""})


def nameable(name) -> bool:
    """Whether a row may be named in a takeaway: not an unknown or unpaid bucket.

    Examples
    --------
    >>> nameable("Paid Search"), nameable("Unknown"), nameable("unknown"), nameable(None)
    (True, False, False, False)
    """
    return name is not None and not (isinstance(name, float) and np.isnan(name)) \
        and str(name).strip().lower() not in UNNAMED


def _named(frame: pd.DataFrame) -> pd.Series:
    """True for the rows of ``frame`` (indexed by name) a takeaway may name."""
    return pd.Series([nameable(i) for i in frame.index], index=frame.index, dtype=bool)


def rankable(frame: pd.DataFrame, column: str, n: str | None, min_sample: int) -> pd.DataFrame:
    """The rows of ``frame`` (indexed by name) a takeaway may rank on ``column``: the value is
    defined, the name is :func:`nameable` and, with ``n``, the base ``frame[n]`` is at least
    ``min_sample``.

    Examples
    --------
    >>> f = pd.DataFrame({"rate": [0.1, 0.5, 0.9, np.nan], "n": [40, 10, 50, 60]},
    ...                  index=["A", "B", "unknown", "C"])
    >>> list(rankable(f, "rate", "n", 30).index)
    ['A']
    """
    keep = frame[column].notna() & _named(frame)
    if n is not None:
        keep &= pd.to_numeric(frame[n], errors="coerce").fillna(0) >= min_sample
    return frame[keep]


def _and_others(skipped: int, noun: str, least: int, base: str) -> str:
    if not skipped:
        return ""
    return (f"; {skipped:,} {noun if skipped == 1 else noun + 's'} with fewer than {least:,} {base} "
            f"{'is' if skipped == 1 else 'are'} not ranked")


def _signed_money(value, currency: str) -> str:
    return ("+" if not is_missing(value) and value > 0 else "") + fmt_money(value, currency)


def _roi(value) -> str:
    return fmt_pct(value, 0, signed=True)


# -- channel page ------------------------------------------------------------------------------------
def channel_roi_sentence(table: pd.DataFrame, total: pd.Series, *, min_sample: int,
                         label: str = "Marketing ROI") -> str:
    """The channel table's takeaway: the blended marketing ROI (the Total row) and, among paid channels
    with at least ``min_sample`` won deals (new customers where the table has no won deals), the best
    and worst ROI, the argmax and argmin of the table's ``roi`` column.

    ``table`` is the channel table without its Total row (index: channel; columns ``spend``, ``roi``
    and ``won_deals`` or ``customers``); ``total`` its Total row."""
    paid = table[table["spend"] > 0]
    text = f"Blended {label} over the window is {_roi(total.get('roi'))}"
    n = "won_deals" if "won_deals" in paid else "customers" if "customers" in paid else None
    if "roi" not in paid or paid["roi"].isna().all() or n is None:
        return text + "."
    ranked = rankable(paid, "roi", n, min_sample)
    shown = paid[paid["roi"].notna() & _named(paid)]
    noun = "won deals" if n == "won_deals" else "new customers"
    skipped = _and_others(len(shown) - len(ranked), "paid channel", min_sample, noun)
    if ranked.empty:
        return text + f"; no paid channel has {min_sample:,} or more {noun}, so none is named best or worst."
    at = lambda c: f"{_roi(ranked.loc[c, 'roi'])}, {fmt_count(ranked.loc[c, n])} {noun}"  # noqa: E731
    best, worst = ranked["roi"].idxmax(), ranked["roi"].idxmin()
    if best == worst:
        return text + f"; among paid channels only {best} has {min_sample:,}+ {noun} ({at(best)}){skipped}."
    return (text + f"; among paid channels with {min_sample:,}+ {noun}, {best} has the best ROI ({at(best)}) and "
            f"{worst} the worst ({at(worst)}){skipped}.")


def channel_cpl_sentence(table: pd.DataFrame, total: pd.Series, *, min_sample: int, currency: str) -> str:
    """The cost table's takeaway: blended CPL (the Total row) and, among paid channels with at least
    ``min_sample`` leads, the lowest and highest CPL, the argmin and argmax of the ``cpl`` column."""
    paid = table[table["spend"] > 0]
    money = lambda v: fmt_money(v, currency)  # noqa: E731
    text = f"Blended CPL (spend / leads in the window) is {money(total.get('cpl'))}"
    if "cpl" not in paid or paid["cpl"].isna().all():
        return text + "."
    ranked = rankable(paid, "cpl", "leads", min_sample)
    shown = paid[paid["cpl"].notna() & _named(paid)]
    skipped = _and_others(len(shown) - len(ranked), "paid channel", min_sample, "leads")
    if ranked.empty:
        return text + f"; no paid channel has {min_sample:,} or more leads, so none is named cheapest."
    at = lambda c: f"{money(ranked.loc[c, 'cpl'])}, {fmt_count(ranked.loc[c, 'leads'])} leads"  # noqa: E731
    low, high = ranked["cpl"].idxmin(), ranked["cpl"].idxmax()
    if low == high:
        return text + f"; among paid channels only {low} has {min_sample:,}+ leads ({at(low)}){skipped}."
    return (text + f"; among paid channels with {min_sample:,}+ leads, {low} has the lowest CPL ({at(low)}) and "
            f"{high} the highest ({at(high)}){skipped}.")


def conversion_sentence(cohort: pd.DataFrame, first: str, *, noun: str, min_sample: int) -> str:
    """The cohort heatmap's takeaway: the channel turning the largest and the smallest share of its
    first-stage contacts (created in the window) into customers, argmax and argmin of
    ``customer / first`` over channels with at least ``min_sample`` of them; unknown is never named."""
    f = cohort.assign(rate=safe_div(cohort["customer"], cohort[first]))
    ranked = rankable(f, "rate", first, min_sample)
    shown = f[f["rate"].notna() & _named(f)]
    skipped = len(shown) - len(ranked)
    if ranked.empty:
        return (f"No channel has {min_sample:,} or more {noun} created in the window, so none is named "
                f"best or worst: each rate is shown with its n.")
    rate, n = ranked["rate"], ranked[first]
    if len(ranked) == 1:
        (only,) = ranked.index
        return (f"Only {only} has {min_sample:,} or more {noun} created in the window; {fmt_pct(rate[only])} of "
                f"its {fmt_count(n[only])} became customers, and young {noun} are still converting.")
    best, worst = rate.idxmax(), rate.idxmin()
    return (f"{best} turns the largest share of its {noun} into customers ({fmt_pct(rate[best])} of "
            f"{fmt_count(n[best])}), {worst} the smallest ({fmt_pct(rate[worst])} of {fmt_count(n[worst])})"
            + _and_others(skipped, "channel", min_sample, noun)
            + ("; the unknown channel is not ranked" if any(not nameable(i) for i in f.index) else "")
            + f"; young {noun} are still converting.")


def attribution_sentence(value: pd.DataFrame, conversions: pd.DataFrame, model: str, *, labels: dict,
                         data_driven, currency: str) -> str:
    """The attribution chart's takeaway: the channel the chosen ``model`` credits with the most
    revenue (argmax of ``value[model]``) and the channels most credit moves towards and away from
    between first and last touch (argmax and argmin of ``last_touch − first_touch``), named channels
    only; then the data-driven model that disagrees most with last touch on customers credited."""
    v = value.loc[_named(value)]
    shift = (v["last_touch"] - v["first_touch"]).sort_values()
    text = (f"Under the chosen {labels[model].split(' (')[0].lower()} model {v[model].idxmax()} earns "
            f"the most revenue credit; moving from first to last touch shifts most credit towards "
            f"{shift.index[-1]} ({_signed_money(shift.iloc[-1], currency)}) and away from {shift.index[0]} "
            f"({_signed_money(shift.iloc[0], currency)}).")
    conv = conversions.loc[_named(conversions)]
    models = [m for m in data_driven if m in conv]
    if not models or conv.empty:
        return text
    gaps = {m: (conv[m] - conv["last_touch"]) for m in models}
    m, gap = max(gaps.items(), key=lambda mg: mg[1].abs().max())
    channel = gap.abs().idxmax()
    if abs(gap[channel]) >= 0.05:
        label = labels[m].split(" (")[0]
        text += (f" The data-driven models, which also learn from contacts who did not convert, disagree most "
                 f"with last touch on {channel}: {label} credits it {conv.loc[channel, m]:.1f} customers "
                 f"against last touch's {conv.loc[channel, 'last_touch']:.1f}.")
    return text


def self_reported_sentence(x: pd.DataFrame, *, tracked=("Direct", "Organic Search"),
                           untracked=("Google", "Other")) -> str:
    """The self-reported table's takeaway: of the contacts tracked as direct or organic who answered,
    the share naming another source, and the three sources named most (argmax of answers × share)."""
    dark = [r for r in tracked if r in x.index]
    if x.empty or not dark:
        return "No answers from contacts tracked as Direct or Organic Search."
    counts = x.loc[dark].drop(columns="answers").mul(x.loc[dark, "answers"], axis=0).sum()
    total = counts.sum()
    other = counts.drop([c for c in untracked if c in counts])
    other = other[[nameable(c) for c in other.index]].sort_values(ascending=False, kind="stable")
    other = other[other > 0]
    if not total or other.empty:
        return f"Of the contacts tracked as {' or '.join(dark)} who answered, none names another source."
    return (f"Of {fmt_count(total)} contacts tracked as {' or '.join(dark)} who answered, "
            f"{fmt_pct(other.sum() / total, 0)} name another source ({', '.join(other.index[:3])} lead): "
            f"traffic that tracking calls direct or organic is often dark social.")


# -- funnel page -------------------------------------------------------------------------------------
def weakest_step(conv: pd.DataFrame, *, min_sample: int, label) -> str:
    """The funnel's weakest step, the argmin of ``rate`` over steps starting from at least
    ``min_sample`` contacts (``reached_from``): "; the weakest step is Lead → MQL at 30.0%"."""
    conv = conv.dropna(subset=["rate"])
    ranked = conv[conv["reached_from"] >= min_sample]
    if ranked.empty:
        return f"; no step starts from {min_sample:,} or more contacts, so none is named the weakest" if len(conv) else ""
    w = ranked.loc[ranked["rate"].idxmin()]
    text = f"; the weakest step is {label(w['from'])} → {label(w['to'])} at {fmt_pct(w['rate'])}"
    if len(ranked) < len(conv):
        text += f" (steps that start from fewer than {min_sample:,} contacts are not ranked)"
    return text


def slowest_step(velocity: pd.DataFrame, *, min_sample: int, label, days) -> str:
    """The slowest step, the argmax of ``median_days`` over steps with at least ``min_sample`` dated
    pairs, and the pairs left out as dated out of order."""
    v = velocity.dropna(subset=["median_days"])
    ooo = int(velocity["out_of_order"].sum())
    tail = f"{ooo:,} {'pair' if ooo == 1 else 'pairs'} dated out of order {'was' if ooo == 1 else 'were'} left out."
    if v.empty:
        return "No contact has dates for two consecutive stages, so velocity is undefined."
    ranked = v[v["pairs"] >= min_sample]
    if ranked.empty:
        return f"No step has {min_sample:,} or more contacts dated at both ends, so none is named slowest; " + tail
    s = ranked.loc[ranked["median_days"].idxmax()]
    few = (f" (steps with fewer than {min_sample:,} dated contacts are not ranked)" if len(ranked) < len(v) else "")
    return (f"The slowest step is {label(s['from'])} → {label(s['to'])} at a median {days(s['median_days'])}{few}; "
            + tail)


# -- cohort and unit-economics pages -------------------------------------------------------------------
def group_retention_sentence(r: pd.DataFrame, by: str, *, min_sample: int, window_months: int,
                             currency: str = "USD") -> str:
    """The cohort page's group takeaway, one clause per column it reads:

    - 12-month logo retention (``logo_retention_12m``, the "retained at 12m" column): the group keeping
      the most and the fewest customers, argmax and argmin over groups with at least ``min_sample``
      customers a year old (``customers_12m``), with the two-proportion test of the gap;
    - the monthly logo churn rate over the trailing ``window_months`` (``churn_rate``, the "churn rate"
      column, churn events / paying customer-months): the group churning fastest and slowest, argmax
      and argmin over groups with at least ``min_sample`` paying customer-months (``paying_months``).

    ``r`` is the group table's frame (one row a group, its name in column ``by``)."""
    f = r.set_index(by)
    plural = f"{by}s" if by != "channel" else "channels"
    parts = []
    ranked = rankable(f, "logo_retention_12m", "customers_12m", min_sample)
    aged = f[f["logo_retention_12m"].notna() & _named(f)]
    if ranked.empty:
        parts.append(f"No {by} has {min_sample:,} customers a year old yet, so none is named for 12-month "
                     f"retention (the greyed values rest on fewer, their n shown)")
    else:
        at12 = lambda g: f"{fmt_pct(ranked.loc[g, 'logo_retention_12m'], 0)} of {ranked.loc[g, 'customers_12m']:,.0f}"  # noqa: E731
        hi, lo = ranked["logo_retention_12m"].idxmax(), ranked["logo_retention_12m"].idxmin()
        if hi == lo:
            parts.append(f"On 12-month logo retention only {hi} has {min_sample:,}+ customers a year old: "
                         f"{at12(hi)} still pay after 12 months")
        else:
            gap = proportions_differ(ranked.loc[hi, "retained_12m"], ranked.loc[hi, "customers_12m"],
                                     ranked.loc[lo, "retained_12m"], ranked.loc[lo, "customers_12m"])
            parts.append(f"On 12-month logo retention, {hi} customers stay longest ({at12(hi)} still pay after 12 "
                         f"months) and {lo} customers the shortest ({at12(lo)})"
                         + ("" if gap is True else ", a gap not significant at 5 %"))
        parts[-1] += _and_others(len(aged) - len(ranked), by, min_sample, "customers a year old").replace(
            f" {by}s ", f" {plural} ")
    if "churn_rate" in f and "paying_months" in f:
        basis = f"monthly logo churn over the {'trailing month' if window_months == 1 else f'trailing {window_months} months'}"
        churn = rankable(f, "churn_rate", "paying_months", min_sample)
        if len(churn) >= 2:
            fast, slow = churn["churn_rate"].idxmax(), churn["churn_rate"].idxmin()
            at = lambda g: (f"{fmt_pct(churn.loc[g, 'churn_rate'])}: {churn.loc[g, 'churn_events']:,.0f} churn "  # noqa: E731
                            f"events in {churn.loc[g, 'paying_months']:,.0f} paying customer-months")
            gap = proportions_differ(churn.loc[fast, "churn_events"], churn.loc[fast, "paying_months"],
                                     churn.loc[slow, "churn_events"], churn.loc[slow, "paying_months"])
            parts.append(f"on {basis}, {fast} churns fastest ({at(fast)}) and {slow} slowest ({at(slow)})"
                         + ("" if gap is True else ", a gap not significant at 5 %"))
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def group_ltv_sentence(r: pd.DataFrame, by: str, *, min_sample: int, currency: str) -> str:
    """The unit-economics group table's ranking clause: the highest and lowest LTV (argmax and argmin
    of ``ltv``) among named groups whose churn rate rests on at least ``min_sample`` churn events, and
    how many LTVs rest on fewer ("" when no LTV is defined)."""
    ranked = rankable(r, "ltv", "churn_events", min_sample)
    few = int((r["ltv"].notna() & (r["churn_events"] < min_sample)).sum())
    text = ""
    if len(ranked) >= 2:
        hi, lo = ranked["ltv"].idxmax(), ranked["ltv"].idxmin()
        text += (f" Among {by}s with {min_sample:,}+ churn events, {hi} has the highest LTV "
                 f"({fmt_money(ranked.loc[hi, 'ltv'], currency)}) and {lo} the lowest "
                 f"({fmt_money(ranked.loc[lo, 'ltv'], currency)}).")
    if few:
        text += (f" {few:,} {'LTV rests' if few == 1 else 'LTVs rest'} on fewer than {min_sample:,} churn events "
                 f"(greyed, with the count) and {'is' if few == 1 else 'are'} not ranked.")
    return text


# -- overview ------------------------------------------------------------------------------------------
def change_text(row, currency: str) -> str:
    """One "What changed" line from a row of :func:`kpi_kit.metrics.overview.headline_changes`: a rate's
    change in pp, a count's or an amount's in %, with the periods compared and the test behind it."""
    value = (fmt_pct(row["value"]) if row["unit"] == "percent" else
             fmt_money(row["value"], currency) if row["unit"] == "money" else
             f"{row['value']:.1f}×" if row["unit"] == "ratio" else fmt_count(row["value"]))
    if row["unit"] == "percent":
        size = fmt_pp(abs(row["change_pp"])).lstrip("+")
    else:
        size = fmt_pct(abs(row["change"]))
    verb = "rose" if row["change"] > 0 else "fell"
    tested = row["test"] in ("two-proportion", "Poisson")
    counts = ""
    if row["test"] == "two-proportion":
        counts = (f"; {fmt_count(row['successes'])} of {fmt_count(row['n'])} against "
                  f"{fmt_count(row['successes_before'])} of {fmt_count(row['n_before'])}")
    return (f"{row['label']} {verb} {size} to {value} ({row['period']}{counts}"
            f"{'; significant at 5 %' if tested else ''}).")


def what_changed_lines(changes: pd.DataFrame, currency: str, *, top: int = 8) -> list[str]:
    """The "What changed" lines: the ``top`` largest qualifying changes of the headline KPIs in the
    order :func:`kpi_kit.metrics.overview.headline_changes` ranks them, then one line naming those
    that did not change significantly and one saying what qualifies."""
    if changes.empty:
        return []
    moved = changes[changes["qualifies"]]
    lines = [change_text(r, currency) for _, r in moved.head(top).iterrows()]
    still = changes[~changes["qualifies"]]
    if len(still):
        def brief(r):
            size = (fmt_pp(r["change_pp"]) if r["unit"] == "percent" else fmt_pct(r["change"], signed=True))
            return f"{r['label']} {size}"
        lines.append("No significant change in " + ", ".join(brief(r) for _, r in still.iterrows()) + ".")
    threshold = fmt_pct(changes["threshold"].iloc[0], 0)
    lines.append(f"Counts and rates are listed when their change is significant at 5 %; amounts and ratios, which "
                 f"are totals rather than samples, when they moved {threshold} or more.")
    return lines
