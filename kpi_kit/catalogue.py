"""The metric catalogue: the one place that names, defines and classifies every metric.

``docs/metrics.md`` is generated from it (``kpi-kit docs``) and a test keeps the two equal.
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
    Metric("customers", "New customers", "contacts reaching customer in the period", "count", "lagging",
           "funnel"),
    Metric("stage_conversion", "Stage conversion a→b", "reached(b) / reached(a), same contacts", "percent",
           "leading", "funnel"),
    Metric("stage_velocity", "Stage velocity a→b", "median days from a to b (out-of-order pairs left out)",
           "days", "leading", "funnel", higher_is_better=False),
    Metric("lead_to_close_cvr", "Lead-to-close CVR", "customers in period / leads in period", "percent",
           "lagging", "funnel"),
    Metric("win_rate", "Win rate", "won / (won + lost), deals closed in the window", "percent", "lagging",
           "funnel"),
    Metric("avg_deal_size", "Average deal size", "won amount / won deals, closed in the window", "money",
           "lagging", "funnel"),
    Metric("avg_sales_cycle_days", "Sales cycle", "mean days from creation to close over won deals",
           "days", "lagging", "funnel", higher_is_better=False),
    Metric("weighted_pipeline", "Weighted pipeline", "Σ amount × probability over open deals", "money",
           "leading", "funnel"),
    Metric("bookings", "Bookings", "amount of deals won in the period", "money", "lagging", "funnel"),
)

BY_NAME = {m.name: m for m in METRICS}


def metric(name: str) -> Metric:
    return BY_NAME[name]


def catalogue_markdown() -> str:
    """The catalogue as the Markdown page ``docs/metrics.md``."""
    lines = [
        "# Metric catalogue",
        "",
        "Generated from `kpi_kit/catalogue.py` by `kpi-kit docs`; do not edit by hand.",
        "",
        "| metric | name | formula | unit | leading / lagging | notebook |",
        "|---|---|---|---|---|---|",
    ]
    for m in METRICS:
        lines.append(f"| {m.label} | `{m.name}` | {m.formula} | {m.unit} | {m.kind} | {m.notebook} |")
    return "\n".join(lines) + "\n"
