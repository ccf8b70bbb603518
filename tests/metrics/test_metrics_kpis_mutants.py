"""Mutation tests of ``kpis.py``, ``serialise.py`` and ``_client.py`` (issue #21): the KPI table's rows
(labels, period bounds, units, n and Wilson intervals, coverage, rows present or absent), its lookups
and ``frame()``, the JSON conversion of metric values and the run's cache, every expected value worked
out by hand.

Wilson at z = 1.959964 (z² = 3.841459): centre (p + z²/2n) / (1 + z²/n), half-width
z · sqrt(p(1 − p)/n + z²/4n²) / (1 + z²/n); where a row is given its successes the tests compare its
interval with ``wilson_interval`` of the hand-counted successes and n (that function is pinned by hand
in test_metrics_kpis.py), and with the hand value where one is worked out here.
"""

import copy
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from kpi_kit import load_client, load_params
from kpi_kit._dates import Window
from kpi_kit._math import wilson_interval
from kpi_kit._version import __version__
from kpi_kit.metrics import _client
from kpi_kit.metrics.kpis import KPI_COLUMNS, PREVIOUS, YEAR_AGO, Kpi, KpiBook, unit_of
from kpi_kit.metrics.serialise import jsonable, records

P = pd.Period
t = pd.Timestamp
FIXTURES = Path(__file__).parents[1] / "fixtures"


def _nan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


# -- serialise ---------------------------------------------------------------------------------------------
def test_jsonable_converts_each_kind_of_value():
    """Keys become strings; lists and tuples lists; a monthly Period 'YYYY-MM', a quarter its str
    '2026Q1'; a Timestamp 'YYYY-MM-DD'; numpy integers int, numpy floats float, NaN and ±inf None,
    numpy booleans bool; NaT, None and pd.NA None; anything else as it is."""
    got = jsonable({1: np.int64(3), "q": P("2026Q1", "Q"), ("a", "b"): (np.float64(0.5), float("nan"))})
    assert got == {"1": 3, "q": "2026Q1", "('a', 'b')": [0.5, None]}
    assert type(got["1"]) is int and type(got["('a', 'b')"][0]) is float
    assert jsonable(P("2026-01", "M")) == "2026-01"
    assert jsonable(t("2026-02-03 14:30")) == "2026-02-03"
    assert jsonable([float("inf"), -math.inf, np.float32(2.5), 1.25]) == [None, None, 2.5, 1.25]
    assert type(jsonable(np.float32(2.5))) is float and type(jsonable(np.int32(7))) is int
    for b in (np.bool_(True), np.bool_(False)):
        assert type(jsonable(b)) is bool and jsonable(b) is bool(b)
    assert jsonable(pd.NaT) is None and jsonable(None) is None and jsonable(pd.NA) is None
    assert jsonable(np.datetime64("NaT")) is None
    assert jsonable("x") == "x" and jsonable(7) == 7 and jsonable(True) is True
    arr = np.array([1, 2])
    assert jsonable(arr) is arr  # pd.isna of an array is ambiguous: left as it is
    assert jsonable({"a": [{"b": np.int64(1)}]}) == {"a": [{"b": 1}]}


def test_records_rename_and_select_columns():
    """Two rows; with a mapping only its columns, renamed, in the mapping's order; without, all."""
    df = pd.DataFrame({"month": [P("2026-01", "M"), P("2026-02", "M")], "x": [1.5, np.nan], "y": [np.int64(2), 3]})
    assert records(df, {"y": "why", "month": "m"}) == [{"why": 2, "m": "2026-01"}, {"why": 3, "m": "2026-02"}]
    assert list(records(df, {"y": "why", "month": "m"})[0]) == ["why", "m"]
    assert records(df) == [{"month": "2026-01", "x": 1.5, "y": 2}, {"month": "2026-02", "x": None, "y": 3}]
    assert records(df, {}) == records(df)


# -- KpiBook on its own ------------------------------------------------------------------------------------
def _book():
    return KpiBook(SimpleNamespace(params=SimpleNamespace(client="acme", as_of=pd.Timestamp("2026-03-31").date())))


def test_kpi_key_and_units():
    k = Kpi("win_rate", "window", 0.5, "percent", dimension="channel", dimension_value="Web")
    assert k.key == "win_rate|window|channel|Web"
    assert unit_of("win_rate") == "percent" and unit_of("leads") == "count" and unit_of("no_such") == "number"


def test_add_fills_the_row():
    """A window gives the bounds (Jan 1 - Mar 31); successes 2 of n 4 the Wilson interval: centre
    (.5 + .48018) / 1.96037 = .5, half-width 1.959964 · sqrt(.0625 + .06002) / 1.96037 = .34996."""
    book = _book()
    w = Window(P("2026-01", "M"), P("2026-03", "M"))
    k = book.add("win_rate", "window", np.int64(1), window=w, n=np.int64(4), successes=2, dimension="channel",
                 dimension_value=7)
    assert (k.period_start, k.period_end) == (t("2026-01-01"), t("2026-03-31"))
    assert k.value == 1.0 and type(k.value) is float and k.n == 4.0 and type(k.n) is float
    assert (k.low, k.high) == pytest.approx((0.15004, 0.84996), abs=1e-5)
    assert (k.low, k.high) == wilson_interval(2, 4)
    assert k.unit == "percent" and k.dimension == "channel" and k.dimension_value == "7" and k.coverage == "full"
    assert book.rows == {"win_rate|window|channel|7": k}
    # no window: the given bounds; no successes: no interval; value and n unknown: NaN
    k = book.add("leads", "as_of", None, start=t("2026-03-31"), end=t("2026-04-01"), n=None, unit="money",
                 coverage="partial")
    assert (k.period_start, k.period_end) == (t("2026-03-31"), t("2026-04-01"))
    assert _nan(k.value) and _nan(k.n) and _nan(k.low) and _nan(k.high)
    assert k.unit == "money" and k.coverage == "partial" and k.dimension == "" and k.dimension_value == ""
    k = book.add("leads", "x", pd.NA, n=np.nan, successes=None)
    assert _nan(k.value) and _nan(k.n) and k.unit == "count" and k.period_start is None and k.period_end is None
    k = book.add("leads", "z", 1, n=pd.NA)
    assert _nan(k.n) and k.value == 1.0
    k = book.add("leads", "y", 3, n=5)
    assert _nan(k.low) and _nan(k.high) and k.n == 5.0 and k.value == 3.0
    # the same key again replaces the row
    book.add("leads", "y", 4)
    assert book.get("leads", "y").value == 4.0 and len(book.rows) == 5


def test_lookups_by_key_and_on_missing_keys():
    book = _book()
    book.add("cac", "window", 10.0)
    book.add("cac", PREVIOUS, 20.0)
    book.add("cac", "window", 30.0, dimension="channel", dimension_value="Web")
    book.add("cac", "window", 40.0, dimension="channel", dimension_value="5")
    assert book.get("cac").value == 10.0 and book.find("cac").value == 10.0 and book.value("cac") == 10.0
    assert book.value("cac", PREVIOUS) == 20.0 and book.find("cac", PREVIOUS).value == 20.0
    assert book.get("cac", "window", "channel", "Web").value == 30.0
    assert book.find("cac", "window", "channel", "Web").value == 30.0
    assert book.value("cac", "window", "channel", "Web") == 30.0
    assert book.value("cac", "window", "channel", 5) == 40.0 and book.find("cac", "window", "channel", 5).value == 40.0
    assert book.get("cac", "window", "channel", 5).value == 40.0
    with pytest.raises(KeyError):
        book.get("cac", YEAR_AGO)
    with pytest.raises(KeyError):
        book.get("cac", "window", "channel")
    assert book.find("cac", YEAR_AGO) is None and book.find("ltv") is None
    assert _nan(book.value("cac", YEAR_AGO)) and _nan(book.value("cac", "window", "channel", "Mail"))


def test_frame_columns_and_dates():
    """Two rows: one with a window (dates as YYYY-MM-DD), one without (None); the client and as_of
    of the run on every row."""
    book = _book()
    book.add("win_rate", "window", 0.5, window=Window(P("2026-01", "M"), P("2026-03", "M")), n=2, successes=1,
             dimension="channel", dimension_value="Web")
    book.add("paying_customers_ever", "all time", 3, unit="count")
    f = book.frame()
    assert list(f.columns) == KPI_COLUMNS
    r = f.iloc[0]
    assert (r["client"], r["as_of"], r["metric"], r["period"]) == ("acme", "2026-03-31", "win_rate", "window")
    assert (r["period_start"], r["period_end"]) == ("2026-01-01", "2026-03-31")
    assert (r["dimension"], r["dimension_value"], r["value"], r["unit"], r["n"]) == ("channel", "Web", 0.5, "percent", 2.0)
    assert (r["low"], r["high"]) == pytest.approx((0.09453, 0.90547), abs=1e-5)
    r = f.iloc[1]
    assert pd.isna(r["period_start"]) and pd.isna(r["period_end"]) and r["unit"] == "count" and r["value"] == 3.0
    assert (r["dimension"], r["dimension_value"]) == ("", "") and _nan(r["n"]) and _nan(r["low"])
    assert list(_book().frame().columns) == KPI_COLUMNS and _book().frame().empty


# -- the run's cache (_client.compute) ------------------------------------------------------------------------
def _copies(data, k):
    """``k`` copies of ``data`` with frames of their own (other ids: other cache keys)."""
    out = []
    for _ in range(k):
        c = copy.copy(data)
        c.frames = {stem: df.copy() for stem, df in data.frames.items()}
        out.append(c)
    return out


@pytest.fixture
def empty_cache():
    saved = dict(_client._COMPUTED)
    _client._COMPUTED.clear()
    yield _client._COMPUTED
    _client._COMPUTED.clear()
    _client._COMPUTED.update(saved)


def test_compute_keeps_the_last_four_runs(tiny, empty_cache):
    d = _copies(tiny, 5)
    ms = [_client.compute(x) for x in d]
    assert len({id(m) for m in ms}) == 5 and len(empty_cache) == 4
    assert all(m.data is x and m.previous_metrics is None for m, x in zip(ms, d))
    assert [_client.compute(x) for x in d[1:]] == ms[1:]  # the last four kept
    assert _client.compute(d[0]) is not ms[0]  # the first dropped: computed afresh
    assert _client.compute(d[1]) is not ms[1] and len(empty_cache) == 4  # and the oldest dropped for it


def test_compute_with_previous_metrics(tiny, empty_cache):
    """A run asked for with a previous metrics.json other than the cached one's is computed afresh;
    asked for without one, the cached run is returned whatever it was given."""
    m = _client.compute(tiny)
    assert _client.compute(tiny) is m and _client.compute(tiny, None) is m
    m2 = _client.compute(tiny, "prev.json")
    assert m2 is not m and m2.previous_metrics == "prev.json" and m2.data is tiny
    assert _client.compute(tiny, "prev.json") is m2 and _client.compute(tiny) is m2
    assert _client.compute(tiny, "other.json") is not m2 and len(empty_cache) == 1
    other = copy.copy(tiny)
    other.params = tiny.params.model_copy(update={"window_months": 2})
    assert _client.compute(other) is not _client.compute(tiny)  # other parameters: another run
    assert _client.ClientMetrics(tiny, "p.json").previous_metrics == "p.json"


# -- the book of tests/fixtures/tiny (window Jan-Mar 2026, previous Oct-Dec 2025, a year earlier Jan-Mar 2025) --
def compute_book(data):
    from kpi_kit.metrics.kpis import build

    return build(_client.ClientMetrics(data))


def _row(book, metric, period="window", dimension="", dimension_value=""):
    k = book.get(metric, period, dimension, dimension_value)
    return k.value, k.n, k.unit, f"{k.period_start:%Y-%m-%d}", f"{k.period_end:%Y-%m-%d}", k.coverage


def _same(a, b) -> bool:
    return len(a) == len(b) and all((_nan(x) and _nan(y)) or x == y for x, y in zip(a, b))


def test_tiny_counts_rows(tiny):
    """Periods: the window, the previous window, the window a year earlier, each month of the window
    and the last month a year earlier (2025-03). tiny's contacts start in Dec 2025 (C6), so the previous
    window is partly covered and Jan-Mar 2025 not at all (NaN, not 0).

    - contacts created: C1 Jan 5, C2 Jan 10, C3 Feb 1, C4 Feb 20, C7 Mar 10: 5 (Jan 2, Feb 2, Mar 1);
      C6 Dec 15: 1 in the previous window; C5 (Apr 2) after as_of;
    - leads: C1, C2 (Jan), C3, C4 (Feb): 4; C6 (Dec) 1;
    - sqls: C6 Jan 1, C1 Jan 20 (Jan 2), C2 Feb 1: 3;
    - new customers: C1 Feb 15, C6 Mar 1: 2;
    - won deals: D1 closed Feb 15; D6 Dec 20 in the previous window (deals cover from D5's Oct 2025: full).
    """
    book = compute_book(tiny)
    J1, M31 = "2026-01-01", "2026-03-31"
    assert _same(_row(book, "contacts"), (5.0, np.nan, "count", J1, M31, "full"))
    assert _same(_row(book, "contacts", PREVIOUS), (1.0, np.nan, "count", "2025-10-01", "2025-12-31", "partial"))
    assert _same(_row(book, "contacts", YEAR_AGO), (np.nan, np.nan, "count", "2025-01-01", "2025-03-31", "none"))
    assert _same(_row(book, "contacts", "2026-02"), (2.0, np.nan, "count", "2026-02-01", "2026-02-28", "full"))
    assert _same(_row(book, "contacts", "2026-03"), (1.0, np.nan, "count", "2026-03-01", M31, "full"))
    assert _same(_row(book, "contacts", "2025-03"), (np.nan, np.nan, "count", "2025-03-01", "2025-03-31", "none"))
    assert [book.value("leads", p) for p in ("window", PREVIOUS, "2026-01", "2026-02", "2026-03")] == [4, 1, 2, 2, 0]
    assert book.get("leads", PREVIOUS).coverage == "partial" and book.get("mqls", PREVIOUS).coverage == "partial"
    assert [book.value("sqls", p) for p in ("window", "2026-01", "2026-02")] == [3, 2, 1]
    assert book.get("sqls", PREVIOUS).coverage == "partial"
    assert [book.value("new_customers", p) for p in ("window", "2026-01", "2026-02", "2026-03")] == [2, 0, 1, 1]
    assert book.get("new_customers", PREVIOUS).coverage == "partial"
    assert _same(_row(book, "won_deals", PREVIOUS), (1.0, np.nan, "count", "2025-10-01", "2025-12-31", "full"))
    assert book.value("won_deals") == 1.0 and book.get("won_deals", "2026-02").unit == "count"
    # stages tiny does not configure: no rows
    assert book.find("sals") is None and book.find("opportunities", "2026-01") is None and book.find("opportunities") is None


def test_tiny_funnel_rows(tiny):
    """Deals closed: D1 won 1000 on Feb 15 (contact C1 created Jan 5: 41 days), D2 lost Mar 10; D6 won
    600 on Dec 20, 2025 (C6 created Dec 15: 5 days). Quarters closed: 2025-Q4 (D6) and 2026-Q1 (the
    window, labelled "window"). Open at as_of: D3 2000 (p .5), D4 4000 (no probability), D5 3000 (p .25,
    closes after as_of); D7 is created after it. Weighted 1000 + 750 = 1750 over n 2; open 9000 over 3.
    Lead-to-close 2 customers / 4 leads (Wilson (2, 4) = [.15004, .84996]); a year earlier no data.
    Cohort steps (contacts created in the window C1, C2, C3, C4, C7): created→lead 4/5, lead→mql 3/4
    (C2 skipped mql: reached), mql→sql 2/3, sql→customer 1/2."""
    book = compute_book(tiny)
    J1, M31 = "2026-01-01", "2026-03-31"
    assert _same(_row(book, "bookings"), (1000.0, np.nan, "money", J1, M31, "full"))
    assert _same(_row(book, "bookings", PREVIOUS), (600.0, np.nan, "money", "2025-10-01", "2025-12-31", "full"))
    assert _same(_row(book, "bookings", YEAR_AGO), (np.nan, np.nan, "money", "2025-01-01", "2025-03-31", "none"))
    w = book.get("win_rate")
    assert _same(_row(book, "win_rate"), (0.5, 2.0, "percent", J1, M31, "full"))
    assert (w.low, w.high) == pytest.approx((0.09453, 0.90547), abs=1e-5)
    p = book.get("win_rate", PREVIOUS)
    assert (p.value, p.n, (p.low, p.high)) == (1.0, 1.0, wilson_interval(1, 1))
    assert p.period_start == t("2025-10-01")
    y = book.get("win_rate", YEAR_AGO)
    assert _nan(y.value) and y.n == 0 and _nan(y.low) and y.period_start == t("2025-01-01")
    assert _same(_row(book, "avg_deal_size"), (1000.0, 1.0, "money", J1, M31, "full"))
    assert _same(_row(book, "avg_sales_cycle_days"), (41.0, 1.0, "days", J1, M31, "full"))
    assert _same(_row(book, "avg_sales_cycle_days", PREVIOUS), (5.0, 1.0, "days", "2025-10-01", "2025-12-31", "full"))
    assert _same(_row(book, "avg_deal_size", PREVIOUS), (600.0, 1.0, "money", "2025-10-01", "2025-12-31", "full"))
    assert _same(_row(book, "avg_deal_size", YEAR_AGO), (np.nan, 0.0, "money", "2025-01-01", "2025-03-31", "full"))
    # the quarter 2025-Q4
    q = book.get("win_rate", "2025-Q4")
    assert _same(_row(book, "win_rate", "2025-Q4"), (1.0, 1.0, "percent", "2025-10-01", "2025-12-31", "full"))
    assert (q.low, q.high) == wilson_interval(1, 1)
    assert _same(_row(book, "bookings", "2025-Q4"), (600.0, np.nan, "money", "2025-10-01", "2025-12-31", "full"))
    assert _same(_row(book, "avg_deal_size", "2025-Q4"), (600.0, 1.0, "money", "2025-10-01", "2025-12-31", "full"))
    assert _same(_row(book, "avg_sales_cycle_days", "2025-Q4"), (5.0, 1.0, "days", "2025-10-01", "2025-12-31", "full"))
    assert book.find("win_rate", "2026-Q1") is None
    # the pipeline at as_of
    assert _same(_row(book, "weighted_pipeline", "as_of"), (1750.0, 2.0, "money", M31, M31, "full"))
    assert _same(_row(book, "open_pipeline", "as_of"), (9000.0, 3.0, "money", M31, M31, "full"))
    # lead to close
    k = book.get("lead_to_close_cvr")
    assert _same(_row(book, "lead_to_close_cvr"), (0.5, 4.0, "percent", J1, M31, "full"))
    assert (k.low, k.high) == pytest.approx((0.15004, 0.84996), abs=1e-5)
    y = book.get("lead_to_close_cvr", YEAR_AGO)
    assert _nan(y.value) and _nan(y.n) and _nan(y.low) and _nan(y.high) and y.period_end == t("2025-03-31")
    assert book.find("lead_to_close_cvr", PREVIOUS) is None
    # cohort stage conversion
    steps = {"created→lead": (0.8, 5, 4), "lead→mql": (0.75, 4, 3), "mql→sql": (2 / 3, 3, 2), "sql→customer": (0.5, 2, 1)}
    for step, (rate, n, s) in steps.items():
        k = book.get("stage_conversion", "window (cohort)", "step", step)
        assert k.value == pytest.approx(rate) and k.n == n and (k.low, k.high) == wilson_interval(s, n), step
        assert (k.period_start, k.period_end, k.unit) == (t(J1), t(M31), "percent")


def test_tiny_channel_overview_and_economics_rows(tiny):
    """Channels of the window's contacts: Paid Search (C1, C2), Paid Social (C3), Events (C4), Direct
    (C7) and tiktok (C6, created in Dec, a customer in Mar); groups inbound (Paid Search, Paid Social),
    outbound (Events), other. No spend or sessions file: no spend-based channel rows; totals NaN.
    Revenue: D1's 1000 on Paid Search (C1); per lead 1000 / 2 = 500, inbound 1000 / 3 leads; the total
    1000 / 4 leads = 250, previous 600 (D6) / 1 lead (C6).
    Overview, for the last month (Mar), the one before (Feb) and Mar 2025: pipeline created Mar 4000
    (D4), Feb 500 + 2000 = 2500 (D2, D3); open at month end Mar 2000 + 4000 + 3000 = 9000 (D3, D4, D5),
    Feb 500 + 2000 + 3000 = 5500 (D2 still open); Mar 2025 before the data: NaN.
    Economics: CAC 1000 salaries / 2 new customers; no MRR: nothing else; no revenue history: no goal."""
    book = compute_book(tiny)
    J1, M31 = "2026-01-01", "2026-03-31"
    ch = "channel"
    assert _same(_row(book, "leads", "window", ch, "Paid Search"), (2.0, np.nan, "count", J1, M31, "full"))
    assert book.value("leads", "window", ch, "Events") == 1 and book.value("leads", "window", ch, "Direct") == 0
    assert book.value("new_customers", "window", ch, "tiktok") == 1 and book.value("mqls", "window", ch, "tiktok") == 1
    assert _same(_row(book, "bookings", "window", ch, "Paid Search"), (1000.0, np.nan, "money", J1, M31, "full"))
    assert book.value("value_per_lead", "window", ch, "Paid Search") == 500.0
    assert _nan(book.value("value_per_lead", "window", ch, "Direct"))  # no leads: undefined
    assert book.find("spend", "window", ch, "Paid Search") is None and book.find("cpl", "window", ch, "Events") is None
    assert book.find("sessions", "window", ch, "Paid Search") is None
    assert _same(_row(book, "leads", "window", "group", "inbound"), (3.0, np.nan, "count", J1, M31, "full"))
    assert book.value("value_per_lead", "window", "group", "inbound") == pytest.approx(1000 / 3)
    assert book.find("leads", "window", "group", "total") is None
    k = book.get("stage_conversion", "window (cohort)", "channel/step", "Paid Search/sql→customer")
    assert (k.value, k.n, (k.low, k.high)) == (0.5, 2.0, wilson_interval(1, 2))
    assert (k.period_start, k.period_end) == (t(J1), t(M31))
    k = book.get("stage_conversion", "window (cohort)", "channel/step", "Direct/created→lead")
    assert (k.value, k.n, (k.low, k.high)) == (0.0, 1.0, wilson_interval(0, 1))
    assert book.find("attributed_conversions", "window", "model/channel", "last_touch/Paid Search") is None
    # totals, with the previous window
    assert _same(_row(book, "bookings"), (1000.0, np.nan, "money", J1, M31, "full"))  # the channels' sum
    assert _same(_row(book, "bookings", PREVIOUS), (600.0, np.nan, "money", "2025-10-01", "2025-12-31", "full"))
    assert book.find("revenue") is None  # won deals are bookings, never revenue
    assert book.value("value_per_lead") == 250.0 and book.value("value_per_lead", PREVIOUS) == 600.0
    assert _same(_row(book, "spend", PREVIOUS), (np.nan, np.nan, "money", "2025-10-01", "2025-12-31", "full"))
    assert book.find("roi") is not None and book.find("cpl", PREVIOUS) is not None
    assert book.find("lead_revenue") is None and book.find("contacts", "window", ch, "Paid Search") is None
    # the counts keep their own rows (the previous window partly covered), not the channel table's
    for metric in ("leads", "mqls", "sqls", "new_customers"):
        assert book.get(metric, PREVIOUS).coverage == "partial", metric
    # overview
    assert _same(_row(book, "pipeline", "2026-03"), (4000.0, np.nan, "money", "2026-03-01", M31, "full"))
    assert _same(_row(book, "pipeline", "2026-02"), (2500.0, np.nan, "money", "2026-02-01", "2026-02-28", "full"))
    assert _same(_row(book, "pipeline", "2025-03"), (np.nan, np.nan, "money", "2025-03-01", "2025-03-31", "none"))
    assert book.value("open_pipeline", "2026-03") == 9000.0 and book.value("open_pipeline", "2026-02") == 5500.0
    assert book.value("bookings", "2026-02") == 1000.0 and book.value("bookings", "2026-03") == 0.0
    assert book.find("pipeline", "2026-01") is None and book.find("customers", "2026-02") is None
    # no MRR: the month-end scalars keep their rows, n/a over the last full month
    assert _same(_row(book, "customers", "2026-03"), (np.nan, np.nan, "count", "2026-03-01", M31, "full"))
    assert book.find("sessions", "2026-03") is None  # no sessions data: no rows
    # every metrics.json scalar has its row under its own name: n/a where there is no revenue history
    assert _nan(book.value("revenue_target_next_12m", "next 12 months"))
    assert _nan(book.value("revenue_last_12m", "trailing 12 months")) and book.find("revenue", "trailing 12 months") is None
    # economics
    assert _same(_row(book, "cac"), (500.0, 2.0, "money", J1, M31, "full"))
    assert _same(_row(book, "cac_paid_only"), (np.nan, 2.0, "money", J1, M31, "full"))
    assert _nan(book.value("mrr", "2026-03")) and _nan(book.value("ltv", "trailing 6 months"))  # scalars: n/a rows
    assert book.find("mrr", "2026-02") is None and book.find("new_mrr", "2026-03") is None
    assert book.find("paying_customers_ever", "all time") is None and book.find("logo_retention", "all cohorts") is None


# -- a client with MRR, costs and customers: economics, cohorts and the revenue goal -----------------------
ECON_YAML = """client: econ
data_dir: econ
as_of: 2026-06-30
window_months: 2
churn_window_months: 3
stages: [lead, customer]
cost_groups: {{salaries: acquisition, hosting: service}}
min_cohort_size: 1
min_sample: 1
cohort_grain: {grain}
"""


def _months(first, last):
    return [f"{p}-01" for p in pd.period_range(first, last, freq="M")]


def _econ_files():
    """MRR at month ends: A 100 Jan-Dec 2025, then 120 Jan-Jun 2026 (expansion in Jan); B 50 from Jun
    2025; C 200 in May 2026 only (churned in June); D 80 Mar-May 2025 (churned in June 2025).
    Customers: A, B on web / SMB, C, D on ads / Ent. Costs: salaries (acquisition) 150 in Jun 2025 and
    300 in May 2026, hosting (service) 30 in Jun 2026."""
    mrr = ["customer_id,month,mrr"]
    mrr += [f"A,{m},{100 if m < '2026' else 120}" for m in _months("2025-01", "2026-06")]
    mrr += [f"B,{m},50" for m in _months("2025-06", "2026-06")]
    mrr += ["C,2026-05-01,200"] + [f"D,{m},80" for m in _months("2025-03", "2025-05")]
    return {
        "mrr": "\n".join(mrr) + "\n",
        "customers": "customer_id,contact_id,channel,segment\nA,K1,web,SMB\nB,K2,web,SMB\nC,K3,ads,Ent\nD,K4,ads,Ent\n",
        "contacts": "contact_id,created_at,channel,lead_at,customer_at\nK1,2024-12-10,web,2024-12-10,2025-01-05\n"
                    "K2,2025-05-10,web,2025-05-10,2025-06-05\nK3,2026-04-10,ads,2026-04-10,2026-05-02\n",
        "costs": "month,category,amount\n2025-06-01,salaries,150\n2026-05-01,salaries,300\n2026-06-01,hosting,30\n",
    }


def test_economics_rows_of_a_client_with_mrr(fixture_client):
    """Window May-Jun 2026 (last month Jun), churn averaged over the trailing 3 months Apr-Jun 2026.

    Per month (ending MRR, paying customers, ARPU, new MRR, logo churn = churned / customers at the start):
    May 2026: 120 + 50 + 200 = 370, 3, 123.33, 200 (C), 0; Jun 2026: 170, 2, 85, 0, 1/3 (C of A, B, C);
    Jun 2025 (a year before the last month): 100 + 50 = 150, 2, 75, 50 (B), 1/2 (D of A, D).
    MRR growth over 12 months: 170 / 150 − 1 = 2/15 (Jul 2025 - Jun 2026).
    Trailing 3 months: logo churn (0 + 0 + 1/3) / 3 = 1/9; NRR = GRR = mean of Apr 1, May 1, Jun 170/370
    = 91/111 (no expansion then); quick ratio: only June defined, 0 / 200 = 0; LTV 85 / (1/9) = 765.
    CAC in the window: 300 / 1 new customer (C) = 300, n 1; paid CAC: no spend file: NaN, n 1;
    LTV:CAC 765 / 300 = 2.55; payback 300 / 85 = 3.5294. Trailing 3 months (Apr-Jun): the same 300 / 1.
    NRR over 12 months: A and B (the customers of Jun 2025, 150) pay 170 in Jun 2026: 17/15; GRR capped
    at their MRR then: (100 + 50) / 150 = 1.
    Quarters: 2025-Q2 CAC 150 / 1 (B), paid 0 / 1 = 0, LTV:CAC 765 / 150 = 5.1, payback 150 / 85;
    2025-Q3 no new customer: NaN over n 0, magic number n/a (the costs start in Jun 2025: they cover 1 of
    Q2's 3 months, so Q3's net new MRR over them would mix spans);
    2026-Q2 (Apr-Jun) 300 / 1.
    Cost to serve in Jun 2026: 30 hosting / 2 paying customers = 15.
    By group (new customers in the window: C): ads' churn 1 event / 1 paying month in the trailing
    months: LTV 200 / 1 = 200; no paid spend, so its LTV:CAC is NaN; segments have no LTV:CAC or
    payback row (their CAC would be the blended one: costs are not split by segment).
    Revenue over the trailing 12 months: A 6 × 100 + 6 × 120, B 12 × 50, C 200 = 2120; no growth to
    extrapolate: the target is 5 % more, 2226, for Jul 2026 - Jun 2027."""
    _, m = fixture_client(ECON_YAML.format(grain="month"), _econ_files())
    book = compute_book(m.data)
    months = {"2026-05": (370.0, 3.0, 370 / 3, 200.0, 0.0, "2026-05-01", "2026-05-31"),
              "2026-06": (170.0, 2.0, 85.0, 0.0, 1 / 3, "2026-06-01", "2026-06-30"),
              "2025-06": (150.0, 2.0, 75.0, 50.0, 0.5, "2025-06-01", "2025-06-30")}
    for mo, (mrr, cust, arpu, new, churn, start, end) in months.items():
        assert _same(_row(book, "mrr", mo), (mrr, np.nan, "money", start, end, "full")), mo
        assert _same(_row(book, "customers", mo), (cust, np.nan, "count", start, end, "full")), mo
        assert book.value("arpu", mo) == pytest.approx(arpu) and book.get("arpu", mo).unit == "money"
        assert book.value("new_mrr", mo) == new and book.get("new_mrr", mo).period_end == t(end)
        assert book.value("logo_churn_rate", mo) == pytest.approx(churn) and book.get("logo_churn_rate", mo).unit == "percent"
    assert book.find("mrr", "2026-04") is None and book.find("mrr", "window") is None
    assert _same(_row(book, "mrr_growth", "trailing 12 months"), (pytest.approx(2 / 15), np.nan, "percent", "2025-07-01",
                                                                  "2026-06-30", "full"))
    A1, J30 = "2026-04-01", "2026-06-30"
    span = "trailing 3 months"
    assert _same(_row(book, "logo_churn_rate", span), (pytest.approx(1 / 9), np.nan, "percent", A1, J30, "full"))
    assert _same(_row(book, "nrr", span), (pytest.approx(91 / 111), np.nan, "percent", A1, J30, "full"))
    assert _same(_row(book, "grr", span), (pytest.approx(91 / 111), np.nan, "percent", A1, J30, "full"))
    assert _same(_row(book, "quick_ratio", span), (0.0, np.nan, "ratio", A1, J30, "full"))
    assert _same(_row(book, "ltv", span), (pytest.approx(765.0), np.nan, "money", A1, J30, "full"))
    assert _same(_row(book, "cac"), (300.0, 1.0, "money", "2026-05-01", J30, "full"))
    assert _same(_row(book, "cac_paid_only"), (np.nan, 1.0, "money", "2026-05-01", J30, "full"))
    assert _same(_row(book, "ltv_to_cac"), (pytest.approx(2.55), np.nan, "ratio", "2026-05-01", J30, "full"))
    assert _same(_row(book, "cac_payback_months"), (pytest.approx(300 / 85), np.nan, "months", "2026-05-01", J30, "full"))
    assert _same(_row(book, "ltv_to_cac", span), (pytest.approx(2.55), np.nan, "ratio", A1, J30, "full"))
    assert _same(_row(book, "cac_payback_months", span), (pytest.approx(300 / 85), np.nan, "months", A1, J30, "full"))
    t12 = "trailing 12 months"
    assert _same(_row(book, "nrr_t12m", t12), (pytest.approx(17 / 15), np.nan, "percent", "2025-07-01", J30, "full"))
    assert _same(_row(book, "grr_t12m", t12), (1.0, np.nan, "percent", "2025-07-01", J30, "full"))
    assert book.find("nrr", t12) is None  # the monthly mean is another definition, another name
    # quarters
    Q2 = ("2025-04-01", "2025-06-30")
    assert _same(_row(book, "cac", "2025-Q2"), (150.0, 1.0, "money", *Q2, "full"))
    assert _same(_row(book, "cac_paid_only", "2025-Q2"), (0.0, 1.0, "money", *Q2, "full"))
    assert _same(_row(book, "ltv_to_cac", "2025-Q2"), (pytest.approx(5.1), np.nan, "ratio", *Q2, "full"))
    assert _same(_row(book, "cac_payback_months", "2025-Q2"), (pytest.approx(150 / 85), np.nan, "months", *Q2, "full"))
    assert _same(_row(book, "cac", "2025-Q3"), (np.nan, 0.0, "money", "2025-07-01", "2025-09-30", "full"))
    assert _same(_row(book, "magic_number", "2025-Q3"), (np.nan, np.nan, "ratio", "2025-07-01", "2025-09-30", "full"))
    assert _same(_row(book, "cac", "2026-Q2"), (300.0, 1.0, "money", A1, J30, "full"))
    assert book.find("cac", "2025-Q1") is None
    assert _same(_row(book, "cost_to_serve", "2026-06"), (15.0, np.nan, "money", "2026-06-01", J30, "full"))
    # by group
    assert _same(_row(book, "ltv", "window", "channel", "ads"), (200.0, np.nan, "money", "2026-05-01", J30, "full"))
    assert _nan(book.value("ltv_to_paid_cac", "window", "channel", "ads")) and _nan(book.value("ltv", "window", "channel", "web"))
    # a segment's LTV:CAC and payback would use the blended CAC (costs are not split by segment): no rows
    for metric in ("ltv_to_cac", "cac_payback_months", "ltv_to_paid_cac", "cac_payback_months_paid"):
        assert book.find(metric, "window", "segment", "Ent") is None
        assert book.find(metric, "window", "segment", "SMB") is None
    # the revenue goal
    assert _same(_row(book, "revenue_last_12m", t12), (2120.0, np.nan, "money", "2025-07-01", J30, "full"))
    # one complete 12-month period: no year-over-year growth, so no target (n/a, never a 0 % growth)
    assert _same(_row(book, "revenue_target_next_12m", "next 12 months"), (np.nan, np.nan, "money", "2026-07-01",
                                                                            "2027-06-30", "full"))
    k = book.get("revenue_growth", "complete years")
    assert _nan(k.value) and k.n == 0.0 and k.unit == "percent" and k.period_start is None
    # overview keeps out what the economics rows give: "customers" is the paying customers at the month
    # end (2: A and B), never the overview's new customers of the month (0: new MRR in June is 0)
    assert book.value("customers", "2026-06") == 2.0 and book.value("new_customers", "2026-06") == 0.0


def test_cohort_rows_by_month_and_by_quarter(fixture_client):
    """Monthly cohorts (min size 1): A Jan 2025, D Mar 2025, B Jun 2025, C May 2026 (too young for 6).
    At 6 months: A (Jul 2025) and B (Dec 2025) pay, D (Sep 2025) does not: 2 of 3, revenue (100 + 50 +
    0) / (100 + 80 + 50) = 150/230. At 12 months: A (Jan 2026, 120) and B (Jun 2026): 2 of 3, revenue
    170/230. Wilson (2, 3) = [.20766, .93850]; revenue retention has n but no interval.
    By channel (GROUP_AGES 6, 12, 24): web (A, B) 2 of 2 at 6 and 12, none 24 months old (NaN over 0);
    ads: D alone is old enough: 0 of 1. Segments the same (SMB = web, Ent = ads). Customers ever
    paying: A, B, C, D = 4.
    Quarterly cohorts (2025Q1: A, D; 2025Q2: B; 2026Q2: C): at 2 quarters A (Sep 2025) and B (Dec 2025)
    pay, D not: 2 of 3; at 4 quarters A (Mar 2026) and B (Jun 2026): 2 of 3."""
    _, m = fixture_client(ECON_YAML.format(grain="month"), _econ_files())
    book = compute_book(m.data)
    for age, revenue in (("6 months", 150 / 230), ("12 months", 170 / 230)):
        k = book.get("logo_retention", "all cohorts", "age", age)
        assert (k.value, k.n, k.unit, k.period_start, k.period_end) == (pytest.approx(2 / 3), 3.0, "percent", None, None)
        assert (k.low, k.high) == pytest.approx((0.20766, 0.93850), abs=1e-5)
        r = book.get("revenue_retention", "all cohorts", "age", age)
        assert (r.value, r.n, r.unit) == (pytest.approx(revenue), 3.0, "percent") and _nan(r.low) and _nan(r.high)
    assert book.find("logo_retention", "all cohorts", "age", "2 quarters") is None
    for by, good, bad in (("channel", "web", "ads"), ("segment", "SMB", "Ent")):
        for age in (6, 12):
            k = book.get("logo_retention", "all cohorts", f"{by}/age", f"{good}/{age} months")
            assert (k.value, k.n, (k.low, k.high)) == (1.0, 2.0, wilson_interval(2, 2))
            k = book.get("logo_retention", "all cohorts", f"{by}/age", f"{bad}/{age} months")
            assert (k.value, k.n, (k.low, k.high)) == (0.0, 1.0, wilson_interval(0, 1))
        k = book.get("logo_retention", "all cohorts", f"{by}/age", f"{good}/24 months")
        assert _nan(k.value) and k.n == 0 and _nan(k.low) and k.unit == "percent"
    k = book.get("paying_customers_ever", "all time")
    assert (k.value, k.unit, k.period_start, k.period_end) == (4.0, "count", None, None)

    _, m = fixture_client(ECON_YAML.format(grain="quarter"), _econ_files())
    book = compute_book(m.data)
    for age in ("2 quarters", "4 quarters"):
        k = book.get("logo_retention", "all cohorts", "age", age)
        assert (k.value, k.n, (k.low, k.high)) == (pytest.approx(2 / 3), 3.0, wilson_interval(2, 3)), age
        assert book.get("revenue_retention", "all cohorts", "age", age).n == 3.0
    assert book.find("logo_retention", "all cohorts", "age", "6 months") is None
    assert book.find("logo_retention", "all cohorts", "age", "2 months") is None
    assert book.value("revenue_retention", "all cohorts", "age", "2 quarters") == pytest.approx(150 / 230)
    assert book.value("revenue_retention", "all cohorts", "age", "4 quarters") == pytest.approx(170 / 230)


# -- ClientMetrics: metrics.json and kpis.csv read the book ---------------------------------------------------
SCALAR_KEYS = {  # tiny: last full month 2026-03, churn averaged over 6 months (the default)
    "mrr": ("mrr", "2026-03"), "arr": ("arr", "2026-03"), "arpu": ("arpu", "2026-03"), "customers": ("customers", "2026-03"),
    "logo_churn_rate": ("logo_churn_rate", "trailing 6 months"), "ltv": ("ltv", "trailing 6 months"),
    "cac": ("cac", "window"), "cac_paid_only": ("cac_paid_only", "window"), "ltv_to_cac": ("ltv_to_cac", "window"),
    "cac_payback_months": ("cac_payback_months", "window"), "nrr": ("nrr", "trailing 6 months"),
    "grr": ("grr", "trailing 6 months"), "quick_ratio": ("quick_ratio", "trailing 6 months"),
    "nrr_t12m": ("nrr_t12m", "trailing 12 months"), "grr_t12m": ("grr_t12m", "trailing 12 months"),
    "win_rate": ("win_rate", "window"), "avg_deal_size": ("avg_deal_size", "window"),
    "avg_sales_cycle_days": ("avg_sales_cycle_days", "window"), "weighted_pipeline": ("weighted_pipeline", "as_of"),
    "lead_to_close_cvr": ("lead_to_close_cvr", "window"),
    "lead_to_close_cvr_year_ago": ("lead_to_close_cvr_year_ago", "window a year earlier"),
    "revenue_last_12m": ("revenue_last_12m", "trailing 12 months"),
    "revenue_growth": ("revenue_growth", "complete years"),
    "revenue_target_next_12m": ("revenue_target_next_12m", "next 12 months"),
    "pipeline_coverage": ("pipeline_coverage", "this quarter"), "required_coverage": ("required_coverage", "window"),
    "pipeline_velocity": ("pipeline_velocity", "as_of"), "mrr_top10_share": ("mrr_top10_share", "2026-03"),
}


def test_client_metrics_scalars_tables_and_json(tiny):
    """tiny's scalars by hand (test_metrics_kpis.py): CAC 1000 / 2 = 500, win rate 1 / 2, deal size
    1000, cycle 41 days, weighted pipeline 1750, lead-to-close 2 / 4; the rest undefined (no MRR, no
    spend, no data a year earlier, no revenue history). Targets: leads 3 in Jan 2026 (2 leads: C1, C2),
    2 in Feb (C3, C4), customers 5 in Jan-Mar (C1, C6: 2)."""
    m = _client.ClientMetrics(tiny)
    assert m.data is tiny and m.previous_metrics is None and m.ctx.last == P("2026-03", "M")
    assert m.scalar_keys() == SCALAR_KEYS
    s = m.scalars()
    assert list(s) == [*SCALAR_KEYS]
    assert {k: v for k, v in s.items() if not _nan(v)} == {"cac": 500.0, "win_rate": 0.5, "avg_deal_size": 1000.0,
                                                            "avg_sales_cycle_days": 41.0, "weighted_pipeline": 1750.0,
                                                            "lead_to_close_cvr": 0.5, "required_coverage": 2.0,
                                                            "pipeline_velocity": pytest.approx(1500 / 41)}
    k = m.kpis()
    assert list(k.columns) == KPI_COLUMNS and len(k) == len(m.book.rows)
    row = k[(k["metric"] == "win_rate") & (k["period"] == "window")].iloc[0]
    assert (row["client"], row["as_of"], row["value"], row["n"]) == ("tiny", "2026-03-31", 0.5, 2.0)
    tables = m.tables()
    assert {"targets", "alerts", "lags", "mrr_bridge", "channels", "funnel_conversion"} <= set(tables)
    targets = tables["targets"]
    assert [(r["metric"], r["target"], r["actual"]) for r in targets] == [("leads", 3.0, 2.0), ("leads", 2.0, 2.0),
                                                                         ("new_customers", 5.0, 2.0)]
    assert all("period_start" not in r and r["period"] for r in targets)
    # an alert fires only on changes significant at 5 % (SPEC "Takeaways and alerts"): tiny's few leads give none
    assert tables["alerts"] == []
    assert [r["pair"] for r in tables["lags"]] and all(set(r) >= {"pair", "lag_months"} for r in tables["lags"])
    j = m.metrics_json()
    assert list(j) == ["client", "as_of", "currency", "kit_version", "params", "tables", "scalars"]
    assert (j["client"], j["as_of"], j["currency"], j["kit_version"]) == ("tiny", "2026-03-31", "EUR", __version__)
    assert j["params"] == tiny.params.to_notebook_parameters()
    assert j["scalars"]["cac"] == 500.0 and j["scalars"]["mrr"] is None and j["scalars"]["revenue_target_next_12m"] is None
    assert j["tables"]["targets"] == targets
    assert getattr(m, "_json", None) is None  # not kept until compute_all
    assert m.compute_all() is m and m._json == j
    assert m.metrics_json() is m._json


def test_scalars_of_a_client_with_mrr(fixture_client):
    """econ (the economics test above): last month Jun 2026, churn over 3 months: MRR 170, ARPU 85,
    2 paying customers, LTV 765, NRR 91/111, NRR over 12 months 17/15; revenue 2120 over the last 12
    months, target 2226; no growth rate (no year before it). No targets file: no targets rows."""
    _, m = fixture_client(ECON_YAML.format(grain="month"), _econ_files())
    keys = m.scalar_keys()
    assert keys["mrr"] == ("mrr", "2026-06") and keys["ltv"] == ("ltv", "trailing 3 months")
    assert keys["nrr_t12m"] == ("nrr_t12m", "trailing 12 months")
    s = m.scalars()
    assert (s["mrr"], s["arpu"], s["customers"]) == (170.0, 85.0, 2.0)
    assert s["ltv"] == pytest.approx(765.0) and s["nrr"] == pytest.approx(91 / 111) and s["nrr_t12m"] == pytest.approx(17 / 15)
    # one complete year: no year-over-year growth, so no target (never a 0 % growth)
    assert s["revenue_last_12m"] == 2120.0 and _nan(s["revenue_target_next_12m"])
    assert _nan(s["revenue_growth"]) and s["arr"] == 12 * 170.0
    assert m.tables()["targets"] == []  # no targets file: an empty list


def test_chan_attribution_spend_and_overview_rows():
    """tests/fixtures/chan, window Jan-Mar 2026. Won in the window: K1 (DL1, 12000; touches Paid Search
    Jan 5, Paid Social Jan 15, the Feb 15 touch after its Feb 10 win left out) and K4 (DL2, 6000; its only
    touch after the win: credited to its own channel, Referral). First touch: Paid Search 1 (12000),
    last touch Paid Social 1, linear 1/2 each (6000); Referral 1 (6000) in every model. Spend in the
    window: Paid Search 300 + 100, Paid Social 400, display 200 = 1000 (previous window 500 in Dec):
    first-touch ROI of Paid Search (12000 − 400) / 400 = 29, of Paid Social −1, Referral (no spend) NaN.
    Totals: leads K1-K4: CPL 1000 / 4 = 250, previous 500 / K5 = 500; sessions 1000 + 500 + 100 = 1600
    (previous 999); ROI (12000 + 6000 + 3000 − 1000) / 1000 = 20, previous (5000 − 500) / 500 = 9; paid CAC
    1000 / 2 new customers (K1, K4) = 500 over n 2, previous: no new customer: NaN. Per channel: Paid
    Search CPL 400 / 2 leads (K1, K2) = 200; inbound spend 400 + 400 = 800. Overview: sessions Mar 100,
    Feb 500; ROI Feb (12000 − 100) / 100 = 119, Mar (6000 + 3000 − 600) / 600 = 14; Mar 2025 no data."""
    book = compute_book(load_client(load_params(FIXTURES / "chan.yaml")))
    J1, M31 = "2026-01-01", "2026-03-31"
    mc = "model/channel"
    assert _same(_row(book, "attributed_conversions", "window", mc, "first_touch/Paid Search"),
                 (1.0, np.nan, "number", J1, M31, "full"))  # not in the catalogue: "number"
    assert book.value("attributed_conversions", "window", mc, "last_touch/Paid Search") == 0.0
    assert book.value("attributed_conversions", "window", mc, "last_touch/Paid Social") == 1.0
    assert book.value("attributed_conversions", "window", mc, "linear/Paid Social") == 0.5
    assert book.value("attributed_conversions", "window", mc, "first_touch/Referral") == 1.0
    assert _same(_row(book, "attributed_revenue", "window", mc, "first_touch/Paid Search"),
                 (12000.0, np.nan, "money", J1, M31, "full"))
    assert book.value("attributed_revenue", "window", mc, "linear/Paid Search") == 6000.0
    assert book.value("attributed_revenue", "window", mc, "last_touch/Referral") == 6000.0
    assert _same(_row(book, "attributed_roi", "window", mc, "first_touch/Paid Search"), (29.0, np.nan, "percent", J1, M31,
                                                                                        "full"))
    assert book.value("attributed_roi", "window", mc, "first_touch/Paid Social") == -1.0
    assert _nan(book.value("attributed_roi", "window", mc, "first_touch/Referral"))
    assert _same(_row(book, "spend"), (1000.0, np.nan, "money", J1, M31, "full"))
    assert _same(_row(book, "spend", PREVIOUS), (500.0, np.nan, "money", "2025-10-01", "2025-12-31", "full"))
    assert book.value("cpl") == 250.0 and book.value("cpl", PREVIOUS) == 500.0
    assert _same(_row(book, "sessions"), (1600.0, np.nan, "count", J1, M31, "full"))
    assert book.value("sessions", PREVIOUS) == 999.0
    assert book.value("roi") == 20.0 and book.value("roi", PREVIOUS) == 9.0
    assert _same(_row(book, "cac_paid_only"), (500.0, 2.0, "money", J1, M31, "full"))
    assert _same(_row(book, "cac_paid_only", PREVIOUS), (np.nan, np.nan, "money", "2025-10-01", "2025-12-31", "full"))
    assert _same(_row(book, "cpl", "window", "channel", "Paid Search"), (200.0, np.nan, "money", J1, M31, "full"))
    assert book.value("spend", "window", "group", "inbound") == 800.0
    assert _same(_row(book, "sessions", "2026-03"), (100.0, np.nan, "count", "2026-03-01", M31, "full"))
    assert book.value("sessions", "2026-02") == 500.0 and book.get("sessions", "2026-02").period_end == t("2026-02-28")
    # March: spend 400 (linkedin) + 200 (display); bookings DL2 6000 (linkedin, paid that month) and
    # DL3 3000 (bing, whose only spend is in February: unpaid in March) -> (6000 - 600) / 600 = 9
    assert book.value("roi", "2026-02") == 119.0 and book.value("roi", "2026-03") == 9.0
    assert _same(_row(book, "roi", "2025-03"), (np.nan, np.nan, "percent", "2025-03-01", "2025-03-31", "none"))


LTC_YAML = """client: ltc
data_dir: ltc
as_of: 2026-06-30
window_months: 3
stages: [lead, customer]
"""


def test_lead_to_close_interval_only_while_customers_do_not_outnumber_leads(fixture_client):
    """Window Apr-Jun 2026. (1) One lead, L1 (Apr 5), a customer on May 10: 1 of 1, a share: Wilson
    (1, 1). (2) Add L2, a lead in March and a customer on Apr 20: 2 customers over 1 lead, rate 2, n 1,
    no interval. Neither client has deals: no win rate, deal size, cycle or pipeline rows; a revenue file
    (one row, 500 on May 3) gives bookings all the same: 500 in the window (covered from May: partial), the previous
    window (Jan-Mar, before the revenue's first row) no data."""
    one = "contact_id,created_at,channel,lead_at,customer_at\nL1,2026-04-05,web,2026-04-05,2026-05-10\n"
    _, m = fixture_client(LTC_YAML, {"contacts": one, "revenue": "date,amount,channel\n2026-05-03,500,web\n"})
    book = compute_book(m.data)
    k = book.get("lead_to_close_cvr")
    assert (k.value, k.n, (k.low, k.high)) == (1.0, 1.0, wilson_interval(1, 1)) and not _nan(k.low)
    # a revenue file without deals is recorded revenue, never called bookings
    assert _same(_row(book, "revenue"), (500.0, np.nan, "money", "2026-04-01", "2026-06-30", "partial"))
    assert _nan(book.value("revenue", PREVIOUS)) and book.get("revenue", PREVIOUS).coverage == "none"
    assert book.find("bookings") is None
    for metric, period in (("avg_deal_size", PREVIOUS), ("avg_sales_cycle_days", YEAR_AGO),
                           ("open_pipeline", "as_of"), ("won_deals", "window")):
        assert book.find(metric, period) is None, metric
    # metrics.json scalars keep their kpis.csv rows under their own names: n/a, not missing
    assert _same(_row(book, "win_rate"), (np.nan, np.nan, "percent", "2026-04-01", "2026-06-30", "full"))
    assert _same(_row(book, "weighted_pipeline", "as_of"), (np.nan, np.nan, "money", "2026-06-30", "2026-06-30", "full"))
    two = one + "L2,2026-03-01,web,2026-03-01,2026-04-20\n"
    _, m = fixture_client(LTC_YAML, {"contacts": two})
    book = compute_book(m.data)
    k = book.get("lead_to_close_cvr")
    assert (k.value, k.n) == (2.0, 1.0) and _nan(k.low) and _nan(k.high)
    assert book.find("bookings") is None and book.find("bookings", "2026-06") is None


def test_quarter_to_date_rows(fixture_client):
    """as_of 2026-05-31: window Mar-May 2026, the current quarter 2026Q2 to date (Apr-May). Deals: E2
    created Jan 10, lost Feb 10 (2026-Q1: win rate 0 of 1, Jan 1 - Mar 31); E1 created Apr 1, won 100 on
    Apr 20 (2026-Q2 to date: 1 of 1, bookings 100, Apr 1 - May 31, deal size 100, cycle 19 days)."""
    yaml = "client: qtd\ndata_dir: qtd\nas_of: 2026-05-31\nwindow_months: 3\nstages: [lead, customer]\n"
    files = {"contacts": "contact_id,created_at,channel,lead_at\nQ1,2026-01-05,web,2026-01-05\n",
             "deals": "deal_id,created_at,status,amount,closed_at\nE1,2026-04-01,won,100,2026-04-20\n"
                      "E2,2026-01-10,lost,50,2026-02-10\n"}
    _, m = fixture_client(yaml, files)
    book = compute_book(m.data)
    k = book.get("win_rate", "2026-Q2")
    assert _same(_row(book, "win_rate", "2026-Q2"), (1.0, 1.0, "percent", "2026-04-01", "2026-05-31", "full"))
    assert (k.low, k.high) == wilson_interval(1, 1)
    assert _same(_row(book, "bookings", "2026-Q2"), (100.0, np.nan, "money", "2026-04-01", "2026-05-31", "full"))
    assert book.value("avg_deal_size", "2026-Q2") == 100.0 and book.value("avg_sales_cycle_days", "2026-Q2") == 19.0
    assert _same(_row(book, "win_rate", "2026-Q1"), (0.0, 1.0, "percent", "2026-01-01", "2026-03-31", "full"))
    assert book.find("win_rate", "2026-Q3") is None


def test_mrr_client_without_costs_and_a_one_month_window(fixture_client):
    """econ's MRR and customers without the costs file, a one-month window (Jun 2026) and an mql stage
    (K3 an MQL on Apr 15, 2026). No acquisition costs: CAC NaN over the window's 0 new customers, no
    trailing-3-month LTV:CAC or payback rows, no quarterly CAC rows; the cost to serve row is there, NaN.
    The months in the book are the window's (Jun 2026) and Jun 2025: no May 2026 row of the MRR series
    or of a count (the overview's last-but-one month of them stays out), and the overview adds no
    month row of LTV, LTV:CAC or payback (the economics rows have their own periods)."""
    files = _econ_files()
    del files["costs"]
    files["contacts"] = ("contact_id,created_at,channel,lead_at,mql_at,customer_at\n"
                         "K1,2024-12-10,web,2024-12-10,,2025-01-05\nK2,2025-05-10,web,2025-05-10,,2025-06-05\n"
                         "K3,2026-04-10,ads,2026-04-10,2026-04-15,2026-05-02\n")
    yaml = ECON_YAML.format(grain="month").replace("window_months: 2", "window_months: 1").replace(
        "stages: [lead, customer]", "stages: [lead, mql, customer]")
    _, m = fixture_client(yaml, files)
    book = compute_book(m.data)
    assert _same(_row(book, "cac"), (np.nan, 0.0, "money", "2026-06-01", "2026-06-30", "full"))
    assert book.find("ltv_to_cac", "trailing 3 months") is None and book.find("cac_payback_months", "trailing 3 months") is None
    assert book.find("cac", "2026-Q2") is None and book.find("cac_paid_only", "2025-Q2") is None
    assert _same(_row(book, "cost_to_serve", "2026-06"), (np.nan, np.nan, "money", "2026-06-01", "2026-06-30", "full"))
    assert book.value("mrr", "2026-06") == 170.0 and book.value("mrr", "2025-06") == 150.0
    for metric in ("mrr", "new_mrr", "logo_churn_rate", "leads", "mqls", "customers"):
        assert book.find(metric, "2026-05") is None, metric
    for metric in ("ltv", "ltv_to_cac", "cac_payback_months"):
        assert book.find(metric, "2026-06") is None, metric
    assert book.value("mqls", "2026-06") == 0.0 and book.value("leads", "window") == 0.0
