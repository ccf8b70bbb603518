"""Presentation: one Report class per notebook. A report reads the run's metrics
(:func:`kpi_kit.metrics.compute`) and turns them into sentences, tables and charts; it computes
no number of its own."""

from .channel import ChannelReport
from .cohort import CohortReport
from .funnel import FunnelReport
from .overview import OverviewReport
from .unit_economics import UnitEconomicsReport

__all__ = ["ChannelReport", "CohortReport", "FunnelReport", "OverviewReport", "UnitEconomicsReport"]
