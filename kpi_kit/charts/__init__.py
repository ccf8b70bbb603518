"""Charts as functions over frames, in the kit's style (pymc-marketing style).

Charts draw, never compute: each function takes tidy DataFrames or Series of numbers already
computed by :mod:`kpi_kit.metrics` and plain arguments (currency, labels, thresholds), and only
reshapes them for drawing (a pivot, the shares of a stack, a rolling mean drawn as a trailing
line). None reads a client's data, a report or the metrics layer, and none decides whether a
chart is shown: the reports do.

Single-axes charts take ``ax=None`` (a new figure at the chart's usual size) and return the Axes;
multi-panel charts take ``fig=None`` (an empty figure to draw into) and return the array of Axes.

Examples
--------
>>> from kpi_kit import charts
>>> ax = charts.deals_chart(quarters, currency="USD")  # doctest: +SKIP
>>> axes = charts.volumes_chart(volumes, stages=["lead", "mql", "customer"])  # doctest: +SKIP
"""

from ._alt import alt_text as alt_text  # a chart's alt text, from its data (not a chart: not in __all__)
from ._alt import set_alt_text as set_alt_text
from .channel import (
    attribution_chart,
    conversion_heatmap,
    cpl_cac_chart,
    pipeline_share_chart,
    spend_revenue_chart,
    trend_chart,
)
from .cohort import average_retention_chart, conversion_curves_chart, retention_curves_chart, retention_heatmap
from .economics import cac_chart, churn_chart, cost_to_serve_chart, ltv_cac_chart, mrr_chart, waterfall_chart
from .forecast import mrr_forecast_chart
from .funnel import cohort_heatmap, deals_chart, funnel_chart, volumes_chart
from .grid import Grid as Grid  # small multiples as separate images
from .overview import forecast_chart, indicator_chart
from .plan import plan_chart

__all__ = [
    # funnel
    "funnel_chart", "cohort_heatmap", "volumes_chart", "deals_chart",
    # channel
    "cpl_cac_chart", "conversion_heatmap", "trend_chart", "pipeline_share_chart", "attribution_chart",
    "spend_revenue_chart",
    # unit economics
    "waterfall_chart", "mrr_chart", "churn_chart", "cac_chart", "ltv_cac_chart", "cost_to_serve_chart",
    # cohort
    "retention_heatmap", "average_retention_chart", "retention_curves_chart", "conversion_curves_chart",
    # overview
    "indicator_chart", "forecast_chart",
    # MRR forecast
    "mrr_forecast_chart",
    # plan
    "plan_chart",
]
