"""The metrics layer: every KPI of a client run, computed once, numbers only.

``compute(data)`` returns a :class:`ClientMetrics`; every report page, ``metrics.json`` and
``kpis.csv`` read their values from it.
"""

from __future__ import annotations

from ._client import ClientMetrics, compute

__all__ = ["ClientMetrics", "compute"]
