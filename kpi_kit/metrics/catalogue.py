"""The metric catalogue: the one place that names, defines and classifies every metric.

``docs/metrics.md`` is generated from it (``kpi-kit docs``) and a test keeps the two equal. Each
entry names the one function (or method) that computes it, so a metric has one implementation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str  # key in metrics.json / targets.metric
    label: str
    formula: str
    unit: str  # money, percent, count, days, months, ratio
    kind: str  # leading or lagging
    notebook: str
    higher_is_better: bool = True


METRICS: tuple[Metric, ...] = (
    # funnel volumes (targets.metric uses these names)
    Metric("contacts", "Contacts created", "contacts with created_at in the period", "count", "leading", "funnel"),
    Metric("leads", "Leads", "contacts reaching lead in the period (skipped stages dated by the next)",
           "count", "leading", "funnel"),
    Metric("mqls", "MQLs", "contacts reaching mql in the period", "count", "leading", "funnel"),
    Metric("sals", "SALs", "contacts reaching sal in the period", "count", "leading", "funnel"),
    Metric("sqls", "SQLs", "contacts reaching sql in the period", "count", "leading", "funnel"),
    Metric("opportunities", "Opportunities", "contacts reaching opportunity in the period", "count",
           "leading", "funnel"),
    Metric("new_customers", "New customers", "customers whose first `new` MRR movement falls in the period "
           "(without subscriptions: contacts whose customer_at does)", "count", "lagging", "funnel"),
    Metric("won_deals", "Won deals", "deals won (closed_at) in the period: a deal count", "count", "lagging", "funnel"),
    Metric("stage_conversion", "Stage conversion a→b", "reached(b) / reached(a), same contacts", "percent",
           "leading", "funnel"),
    Metric("stage_velocity", "Stage velocity a→b", "median days from a to b (out-of-order pairs left out)",
           "days", "leading", "funnel", higher_is_better=False),
    Metric("lead_to_close_cvr", "Lead-to-close CVR", "customers in period / leads in period", "percent",
           "lagging", "funnel"),
    Metric("lead_to_close_cvr_year_ago", "Lead-to-close CVR (a year earlier)", "the same rate over the window a "
           "year earlier", "percent", "lagging", "funnel"),
    Metric("win_rate", "Win rate", "won / (won + lost), deals closed in the window", "percent", "lagging",
           "funnel"),
    Metric("avg_deal_size", "Average deal size", "won amount / won deals, closed in the window", "money",
           "lagging", "funnel"),
    Metric("avg_sales_cycle_days", "Sales cycle (mean days, won deals)", "mean days from the deal's creation (its "
           "contact's, where it has one) to close, over deals won in the period",
           "days", "lagging", "funnel", higher_is_better=False),
    Metric("weighted_pipeline", "Weighted pipeline", "Σ amount × probability over open deals", "money",
           "leading", "funnel"),
    Metric("bookings", "Bookings", "amount of deals won, by close date (with recorded revenue where the client "
           "also keeps a revenue file); never called revenue", "money", "lagging", "funnel"),
    # channel
    Metric("sessions", "Sessions", "website sessions in the period (traffic)", "count", "leading", "channel"),
    Metric("time_on_site", "Avg time on site (s)", "Σ avg_session_seconds × sessions / Σ sessions", "number",
           "leading", "overview"),
    Metric("social_engagement", "Social engagement", "Σ engagement value of metric social_engagement", "count",
           "leading", "overview"),
    Metric("event_attendees", "Event attendance", "Σ engagement value of metric event_attendees", "count",
           "leading", "overview"),
    Metric("webinar_attendees", "Webinar attendance", "Σ engagement value of metric webinar_attendees", "count",
           "leading", "overview"),
    Metric("spend", "Spend", "Σ spend in the period", "money", "leading", "channel", higher_is_better=False),
    Metric("cpl", "Cost per lead (CPL)", "spend / leads", "money", "leading", "channel", higher_is_better=False),
    Metric("cost_per_mql", "Cost per MQL", "spend / MQLs", "money", "leading", "channel", higher_is_better=False),
    Metric("cost_per_sqo", "Cost per SQO", "spend / opportunities", "money", "leading", "channel",
           higher_is_better=False),
    Metric("cac_paid_only", "Paid-media CAC", "media spend / new customers (per channel: the channel's; n/a for "
           "unpaid channels); not fully loaded, so never drawn against the LTV:CAC or payback guides",
           "money", "lagging", "channel", higher_is_better=False),
    Metric("ctr", "Click-through rate", "clicks / impressions", "percent", "leading", "channel"),
    Metric("cpc", "Cost per click", "spend / clicks", "money", "leading", "channel", higher_is_better=False),
    Metric("visits_per_lead", "Visits per lead", "sessions / leads", "number", "leading", "channel",
           higher_is_better=False),
    Metric("value_per_lead", "Value per lead", "won revenue of the period's leads / leads", "money", "lagging",
           "channel"),
    Metric("value_per_visit", "Value per visit", "won revenue of the period's leads / sessions", "money", "lagging",
           "channel"),
    Metric("roi", "Marketing ROI (deal's channel)", "(bookings credited to paid channels − spend) / spend; a "
           "booking is credited to its deal's channel, else its contact's; a channel is paid when it has spend in "
           "the period; n/a where bookings are not tied to channels", "percent", "lagging", "channel"),
    Metric("mer", "Marketing efficiency ratio (MER)", "revenue (or bookings) / media spend, all channels, where "
           "revenue is not tied to channels", "ratio", "lagging", "channel"),
    Metric("attributed_conversions", "Attributed customers", "customers won in the window credited to a channel "
           "by an attribution model (six rule models; Markov removal effect and Shapley value learn from the "
           "paths that did not convert too)", "number", "lagging", "channel"),
    Metric("attributed_revenue", "Attributed revenue", "bookings of those customers, credited to channels by an "
           "attribution model (the model named)", "money",
           "lagging", "channel"),
    Metric("attributed_roi", "Marketing ROI (attributed)", "(attributed revenue − spend) / spend, per model (the "
           "model named)", "percent",
           "lagging", "channel"),
    Metric("pipeline", "Pipeline created", "amount of deals created in the period", "money", "leading", "overview"),
    Metric("open_pipeline", "Open pipeline (month end)", "amount of deals open at the month end", "money",
           "leading", "overview"),
    # unit economics
    Metric("mrr", "MRR", "Σ (amount − discount) / billing_period_months over subscriptions active on the "
           "month's last day", "money", "lagging", "unit_economics"),
    Metric("mrr_growth", "MRR growth (year over year)", "month-end MRR / the same month-end's MRR a year "
           "earlier − 1", "percent", "lagging", "unit_economics"),
    Metric("new_mrr", "New MRR", "MRR of customers' first paying month", "money", "lagging", "unit_economics"),
    Metric("logo_churn_rate", "Logo churn rate", "customers churned in the month / paying customers at the end "
           "of the previous month", "percent", "lagging", "unit_economics", higher_is_better=False),
    Metric("gross_revenue_churn", "Gross revenue churn", "(churn + contraction) / starting MRR", "percent",
           "lagging", "unit_economics", higher_is_better=False),
    Metric("net_revenue_churn", "Net revenue churn", "(churn + contraction − expansion − reactivation) / "
           "starting MRR", "percent", "lagging", "unit_economics", higher_is_better=False),
    Metric("grr", "GRR (monthly mean)", "1 − gross revenue churn, month by month, averaged over the churn window",
           "percent", "lagging", "unit_economics"),
    Metric("nrr", "NRR (monthly mean)", "1 − net revenue churn, month by month, averaged over the churn window",
           "percent", "lagging", "unit_economics"),
    Metric("grr_t12m", "GRR (trailing 12 months)", "MRR now of the customers paying 12 months ago, each capped at "
           "its MRR then, / their MRR then", "percent", "lagging", "unit_economics"),
    Metric("nrr_t12m", "NRR (trailing 12 months)", "MRR now of the customers paying 12 months ago / their MRR then",
           "percent", "lagging", "unit_economics"),
    Metric("customers", "Paying customers", "customers with MRR > 0 at the month end", "count", "lagging",
           "unit_economics"),
    Metric("paying_customers_ever", "Paying customers ever", "customers with MRR > 0 in any month", "count",
           "lagging", "cohort"),
    Metric("arr", "ARR", "12 × MRR at the month end", "money", "lagging", "unit_economics"),
    Metric("arpu", "ARPU", "MRR / paying customers", "money", "lagging", "unit_economics"),
    Metric("ltv", "LTV", "ARPU × gross margin / logo churn rate (churn averaged over churn_window_months)",
           "money", "lagging", "unit_economics"),
    Metric("cac", "CAC (fully loaded)", "(acquisition costs + media spend) / new customers, all channels", "money",
           "lagging", "unit_economics", higher_is_better=False),
    Metric("ltv_to_cac", "LTV:CAC", "LTV / fully loaded CAC (the label names a CAC over another span)", "ratio",
           "lagging", "unit_economics"),
    Metric("cac_payback_months", "CAC payback", "fully loaded CAC / (ARPU × gross margin)", "months", "lagging",
           "unit_economics", higher_is_better=False),
    Metric("ltv_to_paid_cac", "LTV : paid-media CAC", "a channel's LTV / its paid-media CAC (its spend over its new "
           "customers); no guide is drawn against it", "ratio", "lagging", "unit_economics"),
    Metric("cac_payback_months_paid", "CAC payback on paid-media CAC", "a channel's paid-media CAC / (its ARPU × "
           "gross margin)", "months", "lagging", "unit_economics", higher_is_better=False),
    Metric("quick_ratio", "Quick ratio", "(new + expansion + reactivation) / (churn + contraction)", "ratio",
           "lagging", "unit_economics"),
    Metric("magic_number", "Magic number", "net new MRR in the quarter × 12 / acquisition costs of the previous "
           "quarter; n/a for a quarter still running (its parts would cover different spans)", "ratio", "lagging",
           "unit_economics"),
    Metric("cost_to_serve", "Cost to serve", "service costs / paying customers, per month", "money", "lagging",
           "unit_economics", higher_is_better=False),
    # cohorts and goals
    Metric("logo_retention", "Logo retention", "cohort customers paying at month k / cohort size (cohort = first "
           "paid month)", "percent", "lagging", "cohort"),
    # the plan: from the goal to the KPIs
    Metric("plan_required", "Required to reach the bookings target", "per planned quarter and stage: won deals = "
           "bookings target / average deal size; opportunities = won deals / win rate; each earlier stage = the next "
           "/ that step's period conversion over the window; sessions = leads × visits per lead; paid spend = leads "
           "× blended CPL; low / high from the 95 % Wilson intervals of the rates divided by", "number", "leading",
           "overview"),
    Metric("pipeline_coverage", "Pipeline coverage", "open pipeline (unweighted) / bookings still to book this "
           "quarter (its target − booked to date); n/a once the target is met", "ratio", "leading", "overview"),
    Metric("required_coverage", "Coverage needed", "1 / win rate over the window", "ratio", "leading", "overview",
           higher_is_better=False),
    Metric("pipeline_velocity", "Pipeline velocity", "open deals × win rate × average deal size / mean sales cycle "
           "in days: bookings per day", "money", "leading", "overview"),
    Metric("net_new_arr", "Net new ARR", "12 × (ending MRR − starting MRR) of the month", "money", "lagging",
           "overview"),
    Metric("mrr_top10_share", "Top 10 customers' share of MRR", "MRR of the 10 largest paying customers / MRR, "
           "at the month end", "percent", "lagging", "overview", higher_is_better=False),
    Metric("mrr_forecast", "MRR forecast", "base: month-end MRR carried forward by the trailing 3-month means of "
           "new, expansion and reactivation MRR and of the contraction and churn rates; target and worst: base × (1 ± "
           "uplift × k / 12) k months ahead", "money", "lagging", "overview"),
    Metric("forecast_mape", "Forecast error (MAPE)", "back-test from every month with 12 months of MRR behind it: "
           "mean |forecast − actual| / actual at 1, 3 and 6 months, for the base model and the naive one (MRR stays "
           "as it is)", "percent", "lagging", "overview", higher_is_better=False),
    Metric("revenue_retention", "Cohort revenue retention (month k)", "cohort MRR at month k / cohort MRR at month "
           "0; unlike NRR, which follows every customer paying at a date, it follows one start cohort", "percent",
           "lagging", "cohort"),
    Metric("revenue", "Revenue", "recognised revenue: month-end MRR summed over the period, or the revenue file's "
           "amounts by date (without either, won deal amounts, labelled bookings)", "money", "lagging", "overview"),
    Metric("revenue_last_12m", "Revenue (trailing 12 months)", "revenue over the last 12 full months", "money",
           "lagging", "overview"),
    Metric("revenue_growth", "Revenue growth (mean year over year)", "mean growth of revenue between complete "
           "12-month periods (up to 3); n/a with fewer than two complete periods", "percent", "lagging", "overview"),
    Metric("revenue_target_next_12m", "Revenue target (next 12 months)", "revenue of the last 12 months × (1 + "
           "mean year-over-year growth + uplift); n/a without a complete year-over-year growth", "money", "lagging",
           "overview"),
)

BY_NAME = {m.name: m for m in METRICS}

_V, _F, _C, _E = ("kpi_kit.metrics.volumes.Volumes", "kpi_kit.metrics.funnel", "kpi_kit.metrics.channel",
                  "kpi_kit.metrics.economics")
# metric -> the function computing it (module.function or module.Class.method)
FUNCTIONS = {
    **{k: f"{_V}.count" for k in ("contacts", "leads", "mqls", "sals", "sqls", "opportunities",
                                  "new_customers", "won_deals")},
    "stage_conversion": f"{_F}.stage_conversion", "stage_velocity": f"{_F}.stage_velocity",
    "lead_to_close_cvr": f"{_F}.FunnelMetrics.lead_to_close",
    "lead_to_close_cvr_year_ago": f"{_F}.FunnelMetrics.lead_to_close", "win_rate": f"{_F}.deal_outcomes",
    "avg_deal_size": f"{_F}.deal_outcomes", "avg_sales_cycle_days": f"{_F}.sales_cycle_days",
    "weighted_pipeline": f"{_F}.weighted_pipeline", "bookings": f"{_F}.deal_outcomes",
    **{k: "kpi_kit.metrics.overview.OverviewMetrics.series" for k in (
        "sessions", "time_on_site", "social_engagement", "event_attendees", "webinar_attendees", "pipeline",
        "open_pipeline")},
    **{k: f"{_C}.channel_table" for k in ("spend", "cpl", "cost_per_mql", "cost_per_sqo", "cac_paid_only",
                                          "visits_per_lead", "value_per_lead", "value_per_visit", "roi", "mer")},
    "ctr": f"{_C}.campaign_table", "cpc": f"{_C}.campaign_table",
    "attributed_conversions": f"{_C}.ChannelMetrics.attribution", "attributed_revenue": f"{_C}.ChannelMetrics.attribution",
    "attributed_roi": "kpi_kit.metrics.attribution.attributed_roi",
    **{k: f"{_E}.mrr_bridge" for k in ("mrr", "arr", "new_mrr", "gross_revenue_churn", "net_revenue_churn",
                                       "customers")},
    **{k: f"{_E}.unit_economics" for k in ("logo_churn_rate", "grr", "nrr", "arpu", "ltv", "ltv_to_cac",
                                           "cac_payback_months", "quick_ratio")},
    **{k: f"{_E}.EconomicsMetrics.trailing" for k in ("nrr_t12m", "grr_t12m")},
    "mrr_growth": f"{_E}.mrr_growth",
    **{k: f"{_E}.EconomicsMetrics.by_group" for k in ("ltv_to_paid_cac", "cac_payback_months_paid")},
    "cac": f"{_E}.EconomicsMetrics.cac", "magic_number": f"{_E}.magic_number", "cost_to_serve": f"{_E}.cost_to_serve",
    "logo_retention": "kpi_kit.metrics.cohort.retention_cohorts",
    "revenue_retention": "kpi_kit.metrics.cohort.retention_cohorts",
    "paying_customers_ever": "kpi_kit.metrics.cohort.CohortMetrics.cmrr",
    "revenue": "kpi_kit.metrics.overview.OverviewMetrics.yearly_revenue",
    "revenue_last_12m": "kpi_kit.metrics.overview.OverviewMetrics.yearly_revenue",
    "plan_required": "kpi_kit.metrics.plan.cascade",
    **{k: "kpi_kit.metrics.plan.PlanMetrics.coverage" for k in ("pipeline_coverage", "required_coverage")},
    "pipeline_velocity": "kpi_kit.metrics.plan.pipeline_velocity",
    "net_new_arr": "kpi_kit.metrics.plan.PlanMetrics.arr",
    "mrr_top10_share": "kpi_kit.metrics.plan.PlanMetrics.concentration",
    "mrr_forecast": "kpi_kit.metrics.forecast.mrr_forecast", "forecast_mape": "kpi_kit.metrics.forecast.backtest",
    **{k: "kpi_kit.metrics.overview.revenue_target" for k in ("revenue_growth", "revenue_target_next_12m")},
}


def function_of(name: str):
    """The function (or method) that computes metric ``name``, imported."""
    import importlib

    path = FUNCTIONS[name]
    module, _, attr = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except ModuleNotFoundError:  # module.Class.method
        module, _, cls = module.rpartition(".")
        return getattr(getattr(importlib.import_module(module), cls), attr)


def metric(name: str) -> Metric:
    return BY_NAME[name]


def catalogue_markdown() -> str:
    """The catalogue as the Markdown page ``docs/metrics.md``."""
    lines = [
        "# Metric catalogue",
        "",
        "Generated from `kpi_kit/metrics/catalogue.py` by `kpi-kit docs`; do not edit by hand.",
        "",
        "| metric | name | formula | unit | leading / lagging | notebook | computed by |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in METRICS:
        lines.append(f"| {m.label} | `{m.name}` | {m.formula} | {m.unit} | {m.kind} | {m.notebook} | "
                     f"`{FUNCTIONS[m.name].removeprefix('kpi_kit.')}` |")
    return "\n".join(lines) + "\n"
