"""Period counts (SPEC "One number per KPI"): leads, MQLs, ..., new customers and won deals in a
period. Every KPI card, per-channel ratio and CAC counts with these functions, so the same label
gives the same number on every page.

- a stage count in a period = contacts whose date for that stage falls in it (a skipped stage is
  dated by the next stage reached);
- *new customers* in a period = customers whose first ``new`` MRR movement falls in it, or,
  without subscription data, contacts whose ``customer_at`` falls in it;
- *won deals* = deals won (``closed_at``) in the period: a deal count, labelled so.

Cohort counts (contacts created in a period and the stages they reached) live in
:mod:`kpi_kit.metrics.funnel` and are shown only in sections titled as cohort views.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from .._dates import Window
from .._ids import lookup
from ..contract import UNKNOWN
from .coverage import FULL, NONE
from .funnel import STAGE_VOLUME_NAMES, passed_dates

# period-count metric -> funnel stage
STAGE_OF = {v: k for k, v in STAGE_VOLUME_NAMES.items() if k not in ("created", "customer")}
COUNTS = ("leads", "mqls", "sals", "sqls", "opportunities", "new_customers", "won_deals")


def monthly_amount(dates: pd.Series, amounts: pd.Series, months: pd.PeriodIndex) -> pd.Series:
    """Σ ``amounts`` per month of ``dates`` over ``months``: 0 for a month without rows, unknown (NaN)
    for one whose amounts are all unknown; unknown amounts are left out (SPEC: unknown is not zero).
    The one rule for every money-per-month series (bookings, pipeline created)."""
    month = dates.dt.to_period("M")
    return amounts.groupby(month).sum(min_count=1).reindex(months).where(months.isin(month), 0.0)


class Volumes:
    """The period counts of one client run.

    Examples
    --------
    >>> v = Volumes(ctx, mrr)  # doctest: +SKIP
    >>> v.count("leads", ctx.window)  # doctest: +SKIP
    9468
    """

    def __init__(self, ctx, movements: pd.DataFrame | None):
        self.ctx = ctx
        self.movements = movements

    @cached_property
    def stage_dates(self) -> pd.DataFrame | None:
        """Date each contact passed each configured stage (None without contacts)."""
        if not self.ctx.has("contacts"):
            return None
        return passed_dates(self.ctx.data["contacts"], self.ctx.stages)

    @cached_property
    def new_customers(self) -> pd.DataFrame | None:
        """One row per customer that started paying (or became a customer), with the month it
        did and its channel and segment (``unknown`` where the source gave none); None when the
        client's data cannot say who is a new customer."""
        ctx = self.ctx
        if self.movements is not None:
            mv = self.movements
            new = mv[mv["movement"] == "new"]
            first = getattr(ctx, "history_start", None)
            if first is not None:  # history rebuilt from a snapshot: its "new" movements are not real
                new = new[(new["month"] >= first).to_numpy()]
            out = pd.DataFrame({"customer_id": new["customer_id"].to_numpy(), "month": new["month"].array})
            customers = ctx.get("customers")
            contacts = ctx.get("contacts")
            for col in ("channel", "segment"):
                value = pd.Series(np.nan, index=out.index, dtype=object)
                if customers is not None and col in customers:
                    value = lookup(out["customer_id"], customers, "customer_id", col).astype(object)
                if customers is not None and "contact_id" in customers and contacts is not None and col in contacts:
                    contact = lookup(out["customer_id"], customers, "customer_id", "contact_id")
                    value = value.where(value.notna(), lookup(contact, contacts, "contact_id", col))
                out[col] = value.fillna(UNKNOWN).to_numpy()
            return out
        dates = self.stage_dates
        if dates is None or "customer" not in dates:
            return None
        c = self.ctx.data["contacts"]
        won = dates["customer"].notna()
        return pd.DataFrame({
            "customer_id": c.loc[won, "contact_id"].to_numpy(),
            "month": dates.loc[won, "customer"].dt.to_period("M").array,
            "channel": c.loc[won, "channel"].astype(object).fillna(UNKNOWN).to_numpy(),
            "segment": (c.loc[won, "segment"].astype(object) if "segment" in c
                        else pd.Series(np.nan, index=c.index[won], dtype=object)).fillna(UNKNOWN).to_numpy(),
        })

    @cached_property
    def _event_cache(self) -> dict:
        return {}

    def _events(self, metric: str) -> tuple[pd.Series, pd.Series] | None:
        """(date of each event, its channel) of a period-count metric; None when the data cannot
        say. A new MRR customer is dated at the end of its first paying month (MRR is a month-end
        snapshot)."""
        if metric not in self._event_cache:
            self._event_cache[metric] = self._find_events(metric)
        return self._event_cache[metric]

    def _find_events(self, metric: str) -> tuple[pd.Series, pd.Series] | None:
        ctx = self.ctx
        if metric == "new_customers":
            n = self.new_customers
            if n is None:
                return None
            return (pd.Series(pd.PeriodIndex(n["month"]).end_time.normalize()),
                    pd.Series(n["channel"].to_numpy(), dtype=object))
        if metric == "won_deals":
            deals = ctx.get("deals")
            if deals is None:
                return None
            won = deals[deals["status"] == "won"]
            channel = won["channel"] if "channel" in won else pd.Series(np.nan, index=won.index)
            if "contact_id" in won and ctx.get("contacts") is not None:
                channel = channel.where(channel.notna(), lookup(won["contact_id"], ctx.data["contacts"], "contact_id",
                                                                "channel"))
            return (won["closed_at"].reset_index(drop=True),
                    channel.astype(object).fillna(UNKNOWN).reset_index(drop=True))
        dates = self.stage_dates
        stage = "created" if metric == "contacts" else STAGE_OF[metric]
        if dates is None or stage not in dates:
            return None
        d = dates[stage]
        has = d.notna()
        channel = self.ctx.data["contacts"].loc[has, "channel"].astype(object).fillna(UNKNOWN)
        return d[has].reset_index(drop=True), channel.reset_index(drop=True)

    def _months(self, metric: str) -> tuple[pd.Series, pd.Series] | None:
        key = ("months", metric)
        if key not in self._event_cache:
            ev = self._events(metric)
            self._event_cache[key] = None if ev is None else (ev[0].dt.to_period("M"), ev[1])
        return self._event_cache[key]

    def coverage(self, metric: str):
        """The months ``metric`` has data for (:class:`~kpi_kit.metrics.coverage.Span`): its source
        column's coverage; None when the data cannot say (no such count, or no dates)."""
        cov = getattr(self.ctx, "coverage", None)  # stand-in contexts of unit tests have none
        if cov is None or not self.available(metric):
            return None
        if metric == "new_customers" and self.movements is not None:
            # the loader drops an mrr file beside subscriptions: "mrr" present means MRR comes from it
            span = cov.of("mrr" if self.ctx.has("mrr") else "subscriptions")
            first = getattr(self.ctx, "history_start", None)  # movements before it were rebuilt: no data
            if span is not None and first is not None and first > span.first:
                span = type(span)(first, max(first, span.last))
            return span
        if metric == "won_deals":
            return cov.of("deals", "closed_at")
        stage = "created" if metric == "contacts" else "customer" if metric == "new_customers" else STAGE_OF[metric]
        # a skipped stage is dated by the next one reached: its own column, else the next that has dates
        stages = self.ctx.stages
        later = [stage] if stage == "created" else stages[stages.index(stage):]
        for s in later:
            span = cov.of("contacts", f"{s}_at")
            if span is not None:
                return span
        return None

    def status(self, metric: str, window: Window) -> str:
        """``full``, ``partial`` or ``none``: how much of ``window`` ``metric``'s coverage spans
        (``full`` when the data cannot say where its coverage ends)."""
        span = self.coverage(metric)
        return FULL if span is None else span.status(window)

    # -- bookings: amounts won, by deals or recorded without a sales process ------------------------
    @cached_property
    def bookings(self) -> pd.DataFrame | None:
        """Every booked amount, one row each (``date``, ``amount``, ``channel``, ``source``): deals
        won, dated by ``closed_at`` and credited to the deal's channel, else its contact's; and rows of
        the ``revenue`` file (revenue recorded without a sales process), dated by ``date``. An unknown
        amount stays NaN. None when the client has neither file."""
        parts = []
        deals = self.ctx.get("deals")
        if deals is not None:
            dates, channel = self._events("won_deals")
            won = deals[deals["status"] == "won"]
            parts.append(pd.DataFrame({"date": dates.to_numpy(), "amount": won["amount"].to_numpy(dtype="float64"),
                                       "channel": channel.to_numpy(), "source": "deals"}))
        revenue = self.ctx.get("revenue")
        if revenue is not None:
            channel = revenue["channel"] if "channel" in revenue else pd.Series(np.nan, index=revenue.index)
            parts.append(pd.DataFrame({"date": revenue["date"].to_numpy(),
                                       "amount": revenue["amount"].to_numpy(dtype="float64"),
                                       "channel": channel.astype(object).fillna(UNKNOWN).to_numpy(),
                                       "source": "revenue"}))
        if not parts:
            return None
        out = pd.concat(parts, ignore_index=True)
        out["date"] = pd.to_datetime(out["date"])
        return out

    @property
    def amount_metric(self) -> str:
        """What :attr:`bookings` holds, in the catalogue's words: ``bookings`` (deals won, with any
        recorded revenue beside them), or ``revenue`` when the client records revenue without a
        sales process (a revenue file and no deals): a page never calls bookings revenue."""
        return "revenue" if self.ctx.get("deals") is None and self.ctx.get("revenue") is not None else "bookings"

    @staticmethod
    def _booked_sum(amounts: pd.Series) -> float:
        """Σ known amounts: 0 without rows, NaN when every row's amount is unknown."""
        return np.nan if len(amounts) and amounts.isna().all() else float(amounts.sum())

    def booked(self, window: Window) -> float:
        """Bookings in ``window`` (:attr:`bookings`): the known amounts summed; NaN when the client
        has no deals or revenue file, when its data covers no month of the window, or when every
        amount in it is unknown."""
        b = self.bookings
        if b is None or self.booking_status(window) == NONE:
            return np.nan
        return self._booked_sum(b.loc[window.contains(b["date"]), "amount"])

    def booked_between(self, start, stop) -> float:
        """Bookings dated in ``[start, stop]`` (days, both included); NaN as for :meth:`booked`."""
        b = self.bookings
        return np.nan if b is None else self._booked_sum(b.loc[b["date"].between(start, stop), "amount"])

    def booked_monthly(self, months: pd.PeriodIndex) -> pd.Series:
        """Bookings per month over ``months``: 0 for a covered month without any, NaN outside the
        bookings' coverage, for a month whose amounts are all unknown, or without the files."""
        b = self.bookings
        if b is None:
            return pd.Series(np.nan, index=months)
        out = monthly_amount(b["date"], b["amount"], months)
        span = self.booking_coverage()
        return out if span is None else out.where(span.mask(months))

    def booking_coverage(self):
        """The months the bookings cover: from the first deal created or revenue row to the end of
        the closing dates and revenue dates (:mod:`kpi_kit.metrics.coverage`)."""
        cov = getattr(self.ctx, "coverage", None)
        if cov is None:
            return None
        spans = [s for s in (cov.of("deals", "closed_at") if self.ctx.has("deals") else None,
                             cov.of("revenue") if self.ctx.has("revenue") else None) if s is not None]
        if not spans:
            return None
        return type(spans[0])(min(s.first for s in spans), max(s.last for s in spans))

    def booking_status(self, window: Window) -> str:
        span = self.booking_coverage()
        return FULL if span is None else span.status(window)

    def count_between(self, metric: str, start, stop) -> float:
        """``metric`` with its date in ``[start, stop]`` (days, both included); NaN when unknown."""
        ev = self._events(metric)
        return np.nan if ev is None else float(ev[0].between(start, stop).sum())

    def available(self, metric: str) -> bool:
        return self._events(metric) is not None

    def count(self, metric: str, window: Window) -> float:
        """``metric`` (one of :data:`COUNTS`) in ``window``; NaN when the data cannot say or has no
        data for any month of it (see :meth:`status`)."""
        ev = self._months(metric)
        if ev is None or self.status(metric, window) == NONE:
            return np.nan
        month = ev[0]
        return int(((month >= window.first) & (month <= window.last)).sum())

    def monthly(self, metric: str, months: pd.PeriodIndex) -> pd.Series:
        """``metric`` per month over ``months``: 0 for a covered month without any, NaN for a month
        outside its coverage (no data) or when the data cannot say."""
        ev = self._months(metric)
        if ev is None:
            return pd.Series(np.nan, index=months)
        out = ev[0].value_counts().reindex(months, fill_value=0).astype("int64")
        span = self.coverage(metric)
        return out if span is None else out.where(span.mask(months))  # stays int64 when every month is covered

    def by_channel(self, window: Window) -> pd.DataFrame:
        """Every period count in ``window`` by channel (an ``unknown`` row for events without one):
        each column sums to :meth:`count`. A count the data cannot give is NaN on every row."""
        cols = {}
        for metric in COUNTS:
            ev = self._months(metric)
            if ev is None:
                cols[metric] = None
                continue
            month, channel = ev
            inside = (month >= window.first) & (month <= window.last)
            cols[metric] = channel[inside].value_counts()
        index = pd.Index(sorted(set().union(*(c.index for c in cols.values() if c is not None))), name="channel")
        out = pd.DataFrame(index=index)
        for metric, c in cols.items():
            out[metric] = np.nan if c is None else c.reindex(index, fill_value=0).astype("int64")
        return out

    def monthly_by_channel(self, months: pd.PeriodIndex) -> pd.DataFrame:
        """Tidy month × channel of every period count the data can give, over ``months``."""
        frames = []
        for metric in COUNTS:
            ev = self._months(metric)
            if ev is None:
                continue
            month, channel = ev
            inside = month.isin(months)
            frames.append(pd.DataFrame({"month": month[inside].array, "channel": channel[inside].to_numpy()})
                          .groupby(["month", "channel"]).size().rename(metric))
        if not frames:
            return pd.DataFrame(columns=["month", "channel"])
        return pd.concat(frames, axis=1).fillna(0).astype("int64").reset_index()
