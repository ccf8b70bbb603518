"""One client run's metrics: every domain built once on one context, read by every page,
``metrics.json`` and ``kpis.csv``."""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from .channel import ChannelMetrics
from .cohort import CohortMetrics
from .context import Context
from .economics import EconomicsMetrics
from .funnel import FunnelMetrics
from .kpis import SCALARS, scalar_keys
from .overview import OverviewMetrics
from .plan import PlanMetrics
from .volumes import Volumes


class ClientMetrics:
    """The numbers of one client run, by domain: ``volumes`` (period counts), ``funnel``,
    ``channel``, ``economics``, ``cohort`` and ``overview``; ``kpis`` is the tidy table of every KPI
    a page shows (``book``, the table behind ``kpis.csv``). Each domain is built on first use and kept,
    so a value is computed once.

    Examples
    --------
    >>> m = compute(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> m.book.value("cac_paid_only", "window", "channel", "Paid Search")  # doctest: +SKIP
    """

    def __init__(self, data, previous_metrics: str | None = None):
        self.data = data
        self.ctx = Context.of(data)
        self.previous_metrics = previous_metrics

    @cached_property
    def volumes(self) -> Volumes:
        return Volumes(self.ctx, self.economics.movements)

    @cached_property
    def funnel(self) -> FunnelMetrics:
        return FunnelMetrics(self)

    @cached_property
    def channel(self) -> ChannelMetrics:
        return ChannelMetrics(self)

    @cached_property
    def economics(self) -> EconomicsMetrics:
        return EconomicsMetrics(self)

    @cached_property
    def cohort(self) -> CohortMetrics:
        return CohortMetrics(self)

    @cached_property
    def overview(self) -> OverviewMetrics:
        return OverviewMetrics(self)

    @cached_property
    def plan(self) -> PlanMetrics:
        return PlanMetrics(self)

    @cached_property
    def book(self):
        """The :class:`~kpi_kit.metrics.kpis.KpiBook` of every KPI shown anywhere; pages read it."""
        from .kpis import build

        return build(self)

    def kpis(self) -> pd.DataFrame:
        """``kpis.csv``: one row per KPI (SPEC columns)."""
        return self.book.frame()

    SCALARS = SCALARS  # metrics.json scalar -> the period of its KPI-table row (kpi_kit.metrics.kpis)

    def compute_all(self) -> ClientMetrics:
        """Compute every value a page, ``metrics.json`` or ``kpis.csv`` reads, now (a batch does it
        before forking its notebook runs, so they inherit the values instead of computing them)."""
        self.book  # noqa: B018 - every domain's KPIs
        self._json = self.metrics_json()
        return self

    def scalar_keys(self) -> dict[str, tuple[str, str]]:
        """metrics.json scalar -> the (metric, period) of its KPI-table row."""
        return scalar_keys(self.ctx)

    def scalars(self) -> dict:
        """``metrics.json`` scalars, each read from the KPI table row of its own name (so both files
        agree, and ``kpis.csv`` carries every scalar under the name metrics.json gives it)."""
        return {name: self.book.value(metric, period) for name, (metric, period) in self.scalar_keys().items()}

    def tables(self) -> dict:
        o = self.overview
        t = o.targets
        from .serialise import records

        return (self.funnel.tables() | self.channel.tables() | self.economics.tables() | self.cohort.tables()
                | self.plan.tables()
                | {"targets": records(t.drop(columns="period_start")) if not t.empty else [],
                   "alerts": [{k: v for k, v in a.items() if k != "text"} | {"text": a["text"]} for a in o.alerts],
                   "lags": records(o.lags())})

    def metrics_json(self) -> dict:
        """The run's ``metrics.json`` (SPEC "Outputs"): header, every resolved parameter, tables, scalars."""
        from .._version import __version__
        from .serialise import jsonable

        if getattr(self, "_json", None) is not None:
            return self._json
        p = self.ctx.params
        return {"client": p.client, "as_of": p.as_of.isoformat(), "currency": p.currency,
                "kit_version": __version__, "params": p.to_notebook_parameters(),
                "tables": jsonable(self.tables()), "scalars": jsonable(self.scalars())}


_COMPUTED: dict[tuple, ClientMetrics] = {}  # the last few clients' metrics, by parameters and frames


def compute(data, previous_metrics: str | None = None) -> ClientMetrics:
    """The metrics of a loaded client, computed once: the same parameters and the same frames (a
    batch's preloaded data, seen from every forked notebook run) give the same object back.

    Examples
    --------
    >>> m = compute(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> m.scalars()["cac"]  # doctest: +SKIP
    """
    key = (data.params.model_dump_json(), tuple((stem, id(df)) for stem, df in data.frames.items()))
    cached = _COMPUTED.get(key)
    if cached is not None and (previous_metrics is None or cached.previous_metrics == previous_metrics):
        return cached
    m = ClientMetrics(data, previous_metrics)
    while len(_COMPUTED) >= 4:  # a long-lived process (a notebook server) keeps only the last few
        _COMPUTED.pop(next(iter(_COMPUTED)))
    _COMPUTED[key] = m
    return m
