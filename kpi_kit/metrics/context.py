"""What every metric of a client run shares: the data, as_of, the reporting window and the
periods it is compared with, the currency."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from .._dates import Window, last_full_month, reporting_window, to_day
from .coverage import Coverage


@dataclass(frozen=True)
class Context:
    """One client run's frame of reference (SPEC "Time").

    ``window`` is the last ``window_months`` full months, ``previous`` the same length before it,
    ``year_ago`` the window shifted back twelve months, ``last`` the last full month.

    Examples
    --------
    >>> ctx = Context.of(load_client(load_params("data/clients/demo.yaml")))  # doctest: +SKIP
    >>> ctx.window.label()  # doctest: +SKIP
    'Nov 2025 – Oct 2026'
    """

    data: object  # ClientData
    as_of: pd.Timestamp
    window: Window
    previous: Window
    year_ago: Window
    last: pd.Period

    @classmethod
    def of(cls, data) -> Context:
        p = data.params
        window = reporting_window(p.as_of, p.window_months)
        return cls(data=data, as_of=to_day(p.as_of), window=window, previous=window.shift(-p.window_months),
                   year_ago=window.shift(-12), last=last_full_month(p.as_of))

    @property
    def params(self):
        return self.data.params

    @property
    def currency(self) -> str:
        return self.params.currency

    @property
    def stages(self) -> list[str]:
        """The client's stages that have data: a configured stage no contact has a date for is left
        out (and listed in the data-quality section; :func:`kpi_kit.data.stages_without_data`)."""
        dropped = getattr(self.data.quality, "stages_without_data", [])
        return [s for s in self.params.stages if s not in dropped]

    @property
    def chain(self) -> list[str]:
        """``created`` followed by the client's stages that have data."""
        return ["created", *self.stages]

    @property
    def latest_dates(self) -> dict:
        """Latest date seen per file."""
        return dict(self.data.quality.latest_date)

    @property
    def history_start(self) -> pd.Period | None:
        """The first month of real history where the client's earlier history was rebuilt from one
        snapshot (parameter ``history_rebuilt_before``): churn and MRR movements before it are no
        data. None when the whole history is real."""
        first = getattr(self.params, "history_rebuilt_before", None)
        return None if first is None else pd.Period(first, "M")

    def history_note(self) -> str:
        """The report header's sentence about rebuilt history, in the client's words; empty without
        one.

        Examples
        --------
        >>> ctx = Context.of(load_client(load_params("data/examples/telco-churn.yaml")))  # doctest: +SKIP
        >>> ctx.history_note()  # doctest: +SKIP
        'History before Jan 2018 was rebuilt from one snapshot: churn and MRR movements before it are not shown.'
        """
        first = self.history_start
        if first is None:
            return ""
        return (f"History before {first:%b %Y} was rebuilt from one snapshot: churn and MRR movements "
                "before it are not shown.")

    @cached_property
    def coverage(self) -> Coverage:
        """The months each file and each metric counted from it has data for."""
        return Coverage(getattr(self.data.quality, "date_range", {}), self.as_of)

    def has(self, *stems: str) -> bool:
        return self.data.has(*stems)

    def get(self, stem: str) -> pd.DataFrame | None:
        return self.data.get(stem)

    @cached_property
    def cmrr(self) -> pd.DataFrame | None:
        """Customer-month MRR up to the last full month (:func:`~kpi_kit.metrics.economics.client_customer_mrr`),
        computed once; None without a subscriptions or mrr file."""
        from .economics import client_customer_mrr  # economics reads this context

        return client_customer_mrr(self.data)

    @property
    def has_mrr(self) -> bool:
        """Whether the client has MRR to report: a customer paying at some month end up to the last full
        month. Subscriptions that all start after it, or that all pay 0, give none yet (the bridge would
        have no month), like a client without the files."""
        return self.cmrr is not None and bool((self.cmrr["mrr"] > 0).any())

    def quarter_window(self, quarter: pd.Period) -> Window:
        """A quarter's full months, cut at the last full month (a quarter to date)."""
        return Window(quarter.asfreq("M", "start"), min(quarter.asfreq("M", "end"), self.last))

    def month_window(self, month: pd.Period) -> Window:
        return Window(month, month)

    def period_label(self, window: Window) -> str:
        """``window`` for the reporting window, ``YYYY-MM`` for a month, ``YYYY-Qn`` for a quarter."""
        if window == self.window:
            return "window"
        if window.first == window.last:
            return str(window.first)
        q = window.first.asfreq("Q")
        if window.first == q.asfreq("M", "start") and window.last <= q.asfreq("M", "end"):
            return f"{q.year}-Q{q.quarter}"
        return f"{window.first}..{window.last}"
