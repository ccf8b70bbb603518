"""Multi-touch attribution: hand-computed credits for every model (kpi_kit.attribution)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpi_kit.metrics.attribution import MODELS, attribute, attributed_roi, attribution_by_channel

D = pd.Timestamp


def _touches(contact, days, channels=None):
    channels = channels or [f"ch{i}" for i in range(len(days))]
    return pd.DataFrame({"contact_id": contact, "touched_at": pd.to_datetime(days), "channel": channels})


def _conv(contact=1, converted="2026-01-15", channel="Own", lead=None, opp=None, **extra):
    return pd.DataFrame({"contact_id": [contact], "converted_at": [D(converted)], "channel": [channel],
                         "lead_at": [D(lead) if lead else pd.NaT],
                         "opportunity_at": [D(opp) if opp else pd.NaT], **{k: [v] for k, v in extra.items()}})


def _credits(touches, conversions, model, **kw):
    return attribute(touches, conversions, model, **kw)["credit"].to_numpy()


# ------------------------------------------------------------------ single and 3-touch paths
@pytest.mark.parametrize("model", MODELS)
def test_single_touch_gets_everything(model):
    t = _touches(1, ["2026-01-10"], ["Ads"])
    c = _conv(lead="2026-01-10", opp="2026-01-12")
    out = attribute(t, c, model)
    assert out["channel"].tolist() == ["Ads"]
    assert out["credit"].tolist() == [1.0]
    assert not out["fallback"].any()


# touches 14, 7 and 0 days before the conversion on 2026-01-15
THREE = _touches(1, ["2026-01-01", "2026-01-08", "2026-01-15"], ["A", "B", "C"])


@pytest.mark.parametrize("model, expected", [
    ("first_touch", [1, 0, 0]),
    ("last_touch", [0, 0, 1]),
    ("linear", [1 / 3, 1 / 3, 1 / 3]),
    ("position_based", [0.4, 0.2, 0.4]),
    ("time_decay", [1 / 7, 2 / 7, 4 / 7]),          # weights 1/4, 1/2, 1 (half-life 7)
    ("w_shaped", [1 / 3, 1 / 3, 1 / 3]),            # first, lead, opportunity touches: 0.3 each
])
def test_three_touch_path(model, expected):
    c = _conv(lead="2026-01-08", opp="2026-01-15")
    out = attribute(THREE, c, model, half_life_days=7)
    assert out["channel"].tolist() == ["A", "B", "C"]
    np.testing.assert_allclose(out["credit"], expected, rtol=0, atol=1e-15)


def test_time_decay_half_life_is_a_parameter():
    # half-life 14: weights 2^-1, 2^-0.5, 1
    w = np.array([0.5, 2 ** -0.5, 1.0])
    np.testing.assert_allclose(_credits(THREE, _conv(), "time_decay", half_life_days=14), w / w.sum())


def test_time_decay_long_paths_do_not_underflow():
    t = _touches(1, ["2000-01-01", "2026-01-15"])
    np.testing.assert_allclose(_credits(t, _conv(), "time_decay", half_life_days=1), [0.0, 1.0], atol=1e-300)


def test_position_based_two_touches_split_evenly():
    t = _touches(1, ["2026-01-01", "2026-01-08"])
    assert _credits(t, _conv(), "position_based").tolist() == [0.5, 0.5]


def test_position_based_middle_shares_twenty_percent():
    t = _touches(1, ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"])
    np.testing.assert_allclose(_credits(t, _conv(), "position_based"), [0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4])


# ------------------------------------------------------------------ W-shaped
FIVE = _touches(1, ["2026-01-01", "2026-01-03", "2026-01-05", "2026-01-07", "2026-01-09"])


def test_w_shaped_distinct_key_touches():
    # lead on 01-06 -> lead touch is the last on or before it (01-05, 3rd); opportunity on 01-09 (5th)
    c = _conv(converted="2026-01-10", lead="2026-01-06", opp="2026-01-09")
    np.testing.assert_allclose(_credits(FIVE, c, "w_shaped"), [0.3, 0.05, 0.3, 0.05, 0.3], atol=1e-15)


def test_w_shaped_first_and_lead_touch_coincide():
    t = _touches(1, ["2026-01-01", "2026-01-03", "2026-01-05", "2026-01-07"])
    c = _conv(lead="2026-01-02", opp="2026-01-05")   # lead touch = first touch: 0.3 + 0.3
    np.testing.assert_allclose(_credits(t, c, "w_shaped"), [0.6, 0.05, 0.3, 0.05], atol=1e-15)


def test_w_shaped_all_key_touches_coincide():
    c = _conv(lead="2026-01-01", opp="2026-01-07")   # both fall on the first touch: 0.9, rest 0.1
    np.testing.assert_allclose(_credits(THREE, c, "w_shaped"), [0.9, 0.05, 0.05], atol=1e-15)


def test_w_shaped_key_touches_without_other_touches_are_rescaled():
    t = _touches(1, ["2026-01-01", "2026-01-08"])
    c = _conv(lead="2026-01-03", opp="2026-01-09")   # first = lead (0.6), opportunity (0.3), no rest
    np.testing.assert_allclose(_credits(t, c, "w_shaped"), [2 / 3, 1 / 3], atol=1e-15)


def test_w_shaped_missing_lead_date_is_rescaled():
    t = _touches(1, ["2026-01-01", "2026-01-03", "2026-01-05", "2026-01-07"])
    c = _conv(opp="2026-01-05")                      # weights 0.3, 0.05, 0.3, 0.05 over 0.7
    np.testing.assert_allclose(_credits(t, c, "w_shaped"), [3 / 7, 1 / 14, 3 / 7, 1 / 14], atol=1e-15)


def test_w_shaped_without_stage_columns():
    # no lead / opportunity columns at all: first 0.3, the other two 0.05 each, over 0.4
    c = _conv().drop(columns=["lead_at", "opportunity_at"])
    np.testing.assert_allclose(_credits(THREE, c, "w_shaped"), [0.75, 0.125, 0.125], atol=1e-15)


def test_w_shaped_lead_before_every_touch_drops_the_role():
    c = _conv(lead="2025-12-01", opp="2026-01-08")   # same as a missing lead date
    np.testing.assert_allclose(_credits(THREE, c, "w_shaped"), [3 / 7, 3 / 7, 1 / 7], atol=1e-15)


def test_w_shaped_lead_after_as_of_is_missing():
    c = _conv(converted="2026-01-15", lead="2026-01-08", opp="2026-02-01")
    # opportunity after as_of: not yet happened -> role dropped; first 0.3, lead 0.3, rest 0.1
    np.testing.assert_allclose(_credits(THREE, c, "w_shaped", as_of="2026-01-31"),
                               [3 / 7, 3 / 7, 1 / 7], atol=1e-15)
    # without as_of the opportunity touch is the last eligible touch
    np.testing.assert_allclose(_credits(THREE, c, "w_shaped"), [1 / 3, 1 / 3, 1 / 3], atol=1e-15)


# ------------------------------------------------------------------ eligibility and time
def test_touches_after_conversion_are_ignored():
    late = pd.concat([THREE, _touches(1, ["2026-01-16", "2026-03-01"], ["Late", "Later"])])
    for model in MODELS:
        a = attribute(late, _conv(lead="2026-01-08", opp="2026-01-15"), model)
        b = attribute(THREE, _conv(lead="2026-01-08", opp="2026-01-15"), model)
        pd.testing.assert_frame_equal(a, b)
    assert attribute(late, _conv(), "last_touch").query("credit > 0")["channel"].tolist() == ["C"]


def test_same_day_touch_counts_and_keeps_input_order():
    # timestamps are truncated to the day: a touch at 18:00 on the conversion day is eligible
    t = pd.DataFrame({"contact_id": [1, 1, 1],
                      "touched_at": pd.to_datetime(["2026-01-15 18:00", "2026-01-15 08:00",
                                                    "2026-01-02 00:00"]),
                      "channel": ["Late", "Early", "Old"]})
    c = _conv(converted="2026-01-15 09:00")
    out = attribute(t, c, "last_touch")
    assert out["channel"].tolist() == ["Old", "Late", "Early"]  # stable: same day keeps input order
    assert out["credit"].tolist() == [0.0, 0.0, 1.0]
    assert attribute(t, c, "first_touch")["credit"].tolist() == [1.0, 0.0, 0.0]


def test_touches_and_conversions_after_as_of_are_ignored():
    t = pd.concat([_touches(1, ["2026-01-01", "2026-01-20"], ["A", "After"]),
                   _touches(2, ["2026-01-05", "2026-02-10"], ["B", "C"])])
    c = pd.concat([_conv(1, "2026-01-31"), _conv(2, "2026-02-15")])
    out = attribute(t, c, "linear", as_of="2026-01-10")
    assert out.empty                                  # neither conversion had happened by then
    out = attribute(t, c, "linear", as_of="2026-01-31")
    assert out["contact_id"].tolist() == [1, 1]       # contact 2 converts after as_of
    assert out["credit"].tolist() == [0.5, 0.5]
    # conversion on as_of, a touch dated after as_of (and after it) is not eligible
    c3 = _conv(1, "2026-01-20")
    t3 = _touches(1, ["2026-01-01", "2026-01-25"])
    assert attribute(t3, c3, "linear", as_of="2026-01-20")["credit"].tolist() == [1.0]


def test_conversion_without_touches_falls_back_to_its_channel():
    t = pd.concat([THREE, _touches(3, ["2026-02-01"], ["TooLate"])])
    c = pd.concat([_conv(1), _conv(2, "2026-01-20", "Organic"), _conv(3, "2026-01-20", "Referral")])
    for model in MODELS:
        out = attribute(t, c, model)
        fb = out[out["fallback"]]
        assert fb["contact_id"].tolist() == [2, 3]
        assert fb["channel"].tolist() == ["Organic", "Referral"]
        assert fb["credit"].tolist() == [1.0, 1.0]
        assert fb["touched_at"].tolist() == [D("2026-01-20"), D("2026-01-20")]
        assert (~out.loc[out["contact_id"] == 1, "fallback"]).all()


def test_conversions_without_date_are_not_conversions():
    c = pd.concat([_conv(1), _conv(2)])
    c.loc[c["contact_id"] == 2, "converted_at"] = pd.NaT
    assert attribute(THREE, c, "linear")["contact_id"].unique().tolist() == [1]


def test_custom_column_names():
    t = THREE.rename(columns={"contact_id": "who", "touched_at": "when", "channel": "src"})
    c = _conv().rename(columns={"contact_id": "who", "converted_at": "won_at", "channel": "origin"})
    out = attribute(t, c, "position_based", contact_col="who", time_col="when", channel_col="src",
                    converted_col="won_at", fallback_channel_col="origin")
    assert list(out.columns) == ["who", "won_at", "when", "src", "fallback", "credit"]
    assert out["credit"].tolist() == [0.4, 0.2, 0.4]


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown attribution model"):
        attribute(THREE, _conv(), "u_shaped")
    with pytest.raises(ValueError, match="half_life_days"):
        attribute(THREE, _conv(), "time_decay", half_life_days=0)
    with pytest.raises(ValueError, match="one row per contact"):
        attribute(THREE, pd.concat([_conv(1), _conv(1)]), "linear")
    with pytest.raises(KeyError, match="touched_at"):
        attribute(THREE.drop(columns="touched_at"), _conv(), "linear")
    with pytest.raises(TypeError, match="unexpected"):
        attribution_by_channel(THREE, _conv(), half_life=3)


# ------------------------------------------------------------------ random fixture
@pytest.fixture(scope="module")
def random_data():
    rng = np.random.default_rng(20260131)
    n_conv, n_contacts = 500, 700
    start = D("2025-01-01")
    converted = start + pd.to_timedelta(rng.integers(30, 365, n_conv), unit="D")
    lead = converted - pd.to_timedelta(rng.integers(0, 60, n_conv), unit="D")
    opp = converted - pd.to_timedelta(rng.integers(0, 30, n_conv), unit="D")
    conversions = pd.DataFrame({
        "contact_id": rng.permutation(n_contacts)[:n_conv],
        "converted_at": converted,
        "channel": rng.choice(["Organic", "Referral", "Direct"], n_conv),
        "lead_at": lead.where(rng.random(n_conv) > 0.2),       # some missing dates
        "opportunity_at": opp.where(rng.random(n_conv) > 0.3),
        "revenue": rng.gamma(2.0, 5000.0, n_conv).round(2),
    })
    n_t = 8000
    touches = pd.DataFrame({
        "contact_id": rng.integers(0, n_contacts, n_t),
        "touched_at": start + pd.to_timedelta(rng.integers(0, 400, n_t), unit="D"),
        "channel": rng.choice(["Paid Search", "Social", "Email", "Events", "Webinar"], n_t),
    })
    return touches, conversions


@pytest.mark.parametrize("model", MODELS)
def test_credit_sums_to_one_per_conversion(random_data, model):
    touches, conversions = random_data
    out = attribute(touches, conversions, model, value_col="revenue", as_of="2025-12-31")
    kept = conversions[conversions["converted_at"] <= D("2025-12-31")]
    sums = out.groupby("contact_id")["credit"].sum()
    assert len(sums) == len(kept) and set(sums.index) == set(kept["contact_id"])
    np.testing.assert_allclose(sums, 1.0, rtol=0, atol=1e-12)
    assert (out["credit"] >= 0).all()
    assert out["fallback"].sum() > 0 and (~out["fallback"]).sum() > 0  # both cases exercised
    # value credit sums to the conversion's value
    value = out.groupby("contact_id")["value_credit"].sum()
    expected = kept.set_index("contact_id")["revenue"].reindex(value.index)
    np.testing.assert_allclose(value, expected, rtol=1e-12)


def test_by_channel_matches_attribute(random_data):
    touches, conversions = random_data
    by = attribution_by_channel(touches, conversions, value_col="revenue", half_life_days=3)
    assert by.columns.names == ["measure", "model"]
    assert list(by.columns) == [("conversions", m) for m in MODELS] + [("value", m) for m in MODELS]
    assert by.index.name == "channel" and by.index.is_monotonic_increasing
    np.testing.assert_allclose(by["conversions"].sum(), len(conversions), rtol=1e-12)
    np.testing.assert_allclose(by["value"].sum(), conversions["revenue"].sum(), rtol=1e-12)
    for m in ("time_decay", "w_shaped"):
        one = attribute(touches, conversions, m, value_col="revenue", half_life_days=3)
        sums = one.groupby("channel")[["credit", "value_credit"]].sum().reindex(by.index, fill_value=0)
        np.testing.assert_allclose(by[("conversions", m)], sums["credit"], rtol=1e-12)
        np.testing.assert_allclose(by[("value", m)], sums["value_credit"], rtol=1e-12)


def test_by_channel_without_value_has_conversions_only():
    c = pd.concat([_conv(1), _conv(2, channel="Organic")])
    by = attribution_by_channel(THREE, c, ["first_touch", "linear"])
    assert list(by.columns) == [("conversions", "first_touch"), ("conversions", "linear")]
    assert by["conversions"].to_dict() == {
        "first_touch": {"A": 1.0, "B": 0.0, "C": 0.0, "Organic": 1.0},
        "linear": {"A": 1 / 3, "B": 1 / 3, "C": 1 / 3, "Organic": 1.0},
    }


# ------------------------------------------------------------------ ROI
def test_value_credit_and_roi():
    c = pd.concat([_conv(1, revenue=700.0), _conv(2, channel="Organic", revenue=300.0)])
    by = attribution_by_channel(THREE, c, ["first_touch", "time_decay"], value_col="revenue")
    assert by[("value", "first_touch")].to_dict() == {"A": 700.0, "B": 0.0, "C": 0.0, "Organic": 300.0}
    np.testing.assert_allclose(by[("value", "time_decay")], [100.0, 200.0, 400.0, 300.0])
    spend = pd.Series({"A": 350.0, "B": 100.0, "C": 0.0, "Events": 50.0})
    roi = attributed_roi(by, spend)                    # the "value" part is used
    assert list(roi.columns) == ["first_touch", "time_decay"]
    assert roi.index.tolist() == ["A", "B", "C", "Events", "Organic"]
    assert roi.loc["A"].tolist() == pytest.approx([1.0, (100 - 350) / 350])
    assert roi.loc["B"].tolist() == pytest.approx([-1.0, 1.0])
    assert roi.loc["C"].isna().all()                   # zero spend: undefined, never inf
    assert roi.loc["Events"].tolist() == [-1.0, -1.0]  # spent, credited nothing
    assert roi.loc["Organic"].isna().all()             # no spend recorded: undefined
    # a spend file (date, channel, spend) is summed per channel
    spend_rows = pd.DataFrame({"date": pd.to_datetime(["2026-01-01", "2026-01-02"]),
                               "channel": ["A", "A"], "spend": [100.0, 250.0]})
    assert attributed_roi(by["value"], spend_rows).loc["A", "first_touch"] == pytest.approx(1.0)


def test_roi_requires_value_measure():
    by = attribution_by_channel(THREE, _conv(), ["linear"])
    with pytest.raises(KeyError, match="value_col"):
        attributed_roi(by, pd.Series({"A": 1.0}))
