"""Overview metrics against hand-computed values: revenue target, pacing, lag, alerts, snapshots, forecast."""

import math

import numpy as np
import pandas as pd
import pytest

from kpi_kit.metrics import overview as ov


def test_revenue_target_three_years_of_growth():
    # growth 20 %, 25 %, 10 % -> mean 18.33 %; target = 165 × (1 + 0.18333 + 0.05)
    r = ov.revenue_target(pd.Series([100.0, 120.0, 150.0, 165.0]), uplift=0.05)
    assert r["growth_rates"] == pytest.approx([0.2, 0.25, 0.1])
    assert r["target"] == pytest.approx(165 * (1 + 0.55 / 3 + 0.05))


def test_revenue_target_uses_at_most_three_years_and_handles_one_year():
    r = ov.revenue_target(pd.Series([50.0, 100.0, 120.0, 150.0, 165.0]), uplift=0.0)
    assert r["growth_rates"] == pytest.approx([0.2, 0.25, 0.1])  # the 100 % year drops out
    one = ov.revenue_target(pd.Series([200.0]), uplift=0.05)
    # one complete year has no year-over-year growth: no target (never 200 × (1 + 0 % + 5 %) = 210)
    assert math.isnan(one["growth"]) and math.isnan(one["target"]) and one["why"]
    assert math.isnan(ov.revenue_target(pd.Series([], dtype=float))["target"])


def test_pace_flow_metric():
    # 30-day month, 12 days elapsed (inclusive), 50 of 150 done: pace 60, projection 125, behind
    p = ov.pace(150.0, 50.0, "2026-06-01", "2026-06-30", "2026-06-12")
    assert p["pace_to_date"] == pytest.approx(60.0) and p["projected"] == pytest.approx(125.0)
    assert p["attained"] == pytest.approx(1 / 3) and p["on_track"] is False and not p["finished"]
    done = ov.pace(150.0, 160.0, "2026-06-01", "2026-06-30", "2026-07-15")
    assert done["finished"] and done["pace_to_date"] == 150.0 and done["on_track"] is True


def test_pace_level_metric_runs_from_start_value():
    # MRR 100 -> target 200 over a 10-day period; after 5 days MRR is 160: pace 150, projected 220
    p = ov.pace(200.0, 160.0, "2026-01-01", "2026-01-10", "2026-01-05", start_value=100.0, level=True)
    assert p["pace_to_date"] == pytest.approx(150.0) and p["projected"] == pytest.approx(220.0)
    assert p["on_track"] is True


def test_changes_mom_and_yoy():
    s = pd.Series(np.arange(1.0, 15.0), index=pd.period_range("2025-01", periods=14, freq="M"))
    c = ov.changes(s)
    assert c["mom"].iloc[-1] == pytest.approx(14 / 13 - 1) and c["yoy"].iloc[-1] == pytest.approx(14 / 2 - 1)
    assert math.isnan(c["yoy"].iloc[5])


def test_estimate_lag_finds_a_known_lag():
    rng = np.random.default_rng(3)
    leads = pd.Series(100 + rng.normal(0, 10, 40).cumsum(), index=pd.period_range("2023-01", periods=40, freq="M"))
    customers = leads.shift(3) * 0.05 + rng.normal(0, 0.05, 40)
    est = ov.estimate_lag(leads, customers, max_lag=6)
    assert est["lag"] == 3 and est["correlation"] > 0.9
    short = ov.estimate_lag(leads.iloc[:4], customers.iloc[:4])
    assert math.isnan(short["lag"])


def test_divergence_alert_fires_and_stays_quiet():
    """SPEC "Takeaways and alerts": an alert only on changes significant at 5 %, the rate's in pp.
    Sessions 10,000 -> 11,800 (+18 %); leads 200 -> 184, so visit-to-lead 2.0 % -> 1.559 % (-0.44 pp):
    pooled p = 384 / 21,800 = .01761, se = sqrt(.01761 × .98239 × (1/10,000 + 1/11,800)) = .001788,
    z = .00441 / .001788 = 2.47 > 1.96: significant, an alert. The same rates on a tenth of the volume
    (20 of 1,000 -> 18 of 1,180): z = 0.78, no alert (was "−22 %" and fired, a rate change in %)."""
    idx = pd.period_range("2026-09", periods=2, freq="M")
    sessions = pd.Series([10000.0, 11800.0], idx)
    fire = ov.divergence_alert("sessions", sessions, pd.Series([200.0, 184.0], idx), sessions, threshold=0.1,
                               volume_label="Sessions", rate_label="visit-to-lead rate")
    assert fire["volume_change"] == pytest.approx(0.18) and fire["rate_change_pp"] == pytest.approx(-0.4407, abs=1e-4)
    assert fire["text"] == ("Sessions +18% month over month (10,000 → 11,800) while visit-to-lead rate fell 0.4 pp to "
                            "1.6% (184 of 11,800 against 200 of 10,000; significant at 5 %)")
    small = pd.Series([1000.0, 1180.0], idx)
    not_significant = ov.divergence_alert("sessions", small, pd.Series([20.0, 18.0], idx), small, threshold=0.1,
                                          volume_label="Sessions", rate_label="rate")
    both_up = ov.divergence_alert("sessions", sessions, pd.Series([200.0, 300.0], idx), sessions, threshold=0.1,
                                  volume_label="Sessions", rate_label="rate")
    flat = pd.Series([10000.0, 10500.0], idx)
    under = ov.divergence_alert("sessions", flat, pd.Series([200.0, 105.0], idx), flat, threshold=0.1,
                                volume_label="Sessions", rate_label="rate")
    assert not_significant is None and both_up is None and under is None


def test_snapshot_diff_between_two_runs():
    before = [{"cohort": "2026-08", "created": 100, "lead": 90, "customer": 1},
              {"cohort": "2026-09", "created": 80, "lead": 70, "customer": 0}]
    after = before[:1] + [{"cohort": "2026-09", "created": 80, "lead": 75, "customer": 2},
                          {"cohort": "2026-10", "created": 60, "lead": 50, "customer": 0}]
    after[0] = {"cohort": "2026-08", "created": 100, "lead": 92, "customer": 3}
    d = ov.snapshot_diff(after, before, ["lead", "customer"]).set_index("cohort")
    assert list(d.index) == ["2026-08", "2026-09"]  # the new cohort has nothing to compare with
    assert d.loc["2026-08", ["lead_then", "lead_now", "lead_change"]].tolist() == [90, 92, 2]
    assert d.loc["2026-09", "customer_change"] == 2


def test_pipeline_forecast_by_expected_month():
    deals = pd.DataFrame({
        "status": ["open", "open", "open", "won", "open"],
        "amount": [1000.0, 2000.0, 500.0, 9999.0, 800.0],
        "probability": [0.5, 0.25, np.nan, np.nan, 0.5],
        "created_at": pd.to_datetime(["2026-09-01", "2026-08-01", "2026-10-01", "2026-01-01", "2026-10-20"]),
        "expected_close_at": pd.to_datetime(["2026-11-15", "2026-10-01", "2026-12-01", pd.NaT, pd.NaT]),
    })
    f = ov.pipeline_forecast(deals, "2026-10-31", cycle_days=60).set_index("month")
    # D1 Nov: 500; D2 overdue (Oct 1) -> Nov: 500; D3 no probability (Dec, left out); D5 created + 60 days = Dec 19: 400
    assert f.loc[pd.Period("2026-11", "M"), "expected"] == pytest.approx(1000.0)
    assert f.loc[pd.Period("2026-12", "M"), "expected"] == pytest.approx(400.0)
    assert f.loc[pd.Period("2026-12", "M"), "without_probability"] == 1


def test_indicator_chart_titles_and_axis_formats(tiny, kit_style):
    """One small panel per indicator with data, titled with its kind; counts get thousands separators."""
    from kpi_kit.reports.overview import SERIES, OverviewReport

    grid = next(p for p in OverviewReport(tiny).section("indicators").parts if hasattr(p, "figures"))
    shown = list(grid.axes)
    titles = [ax.get_title(loc="left") for ax in shown]
    assert titles and all(t.endswith(("· leading", "· lagging")) for t in titles)
    leads = dict(zip(titles, shown))[f"{SERIES['leads'][0]} · leading"]
    leads.set_ylim(0, 2000)
    leads.figure.canvas.draw()
    assert "2,000" in [t.get_text() for t in leads.get_yticklabels()]
    assert grid.caption.startswith("From the top of the funnel to revenue")
