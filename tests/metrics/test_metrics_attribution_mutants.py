"""Rule-based multi-touch attribution (kpi_kit.metrics.attribution) on fixtures that tell the code paths
apart (issue #21): default arguments, the as_of edges (a touch, an opportunity dated on as_of), undated
conversions, same-day ties on paths long enough for an unstable sort to reorder them, the grouping of
several conversions' paths (dates before 1970 included), time zones, time decay far from the conversion,
missing channels and values, channel × model tables without models, spend given in other shapes and the
error messages. Every expected value is worked out by hand in the test's docstring or comments; each test
builds its own small frames (no module-scoped fixtures: mutmut would credit their work to one test).
"""

import numpy as np
import pandas as pd
import pytest

from kpi_kit.metrics.attribution import attribute, attributed_roi, attribution_by_channel

D = pd.Timestamp


def touches(contacts, days, channels):
    """One row per touch; ``contacts`` a list or one id for every touch."""
    return pd.DataFrame({"contact_id": contacts, "touched_at": pd.to_datetime(pd.Series(days, dtype=object)),
                         "channel": channels})


def conversions(contacts, converted, channels, **extra):
    return pd.DataFrame({"contact_id": contacts, "converted_at": pd.to_datetime(pd.Series(converted, dtype=object)),
                         "channel": channels, **extra})


def three():
    """Contact 1: A on 01-01, B on 01-08, C on 01-15 (14, 7 and 0 days before its 01-15 conversion)."""
    return touches(1, ["2026-01-01", "2026-01-08", "2026-01-15"], ["A", "B", "C"])


# ------------------------------------------------------------------ defaults
def test_the_default_model_is_linear():
    # three touches, no model given: 1/3 each (first_touch would give 1, 0, 0)
    out = attribute(three(), conversions([1], ["2026-01-15"], ["Own"]))
    assert out["channel"].tolist() == ["A", "B", "C"]
    np.testing.assert_allclose(out["credit"], [1 / 3, 1 / 3, 1 / 3], rtol=0, atol=1e-15)


def test_the_default_half_life_is_seven_days():
    # 14, 7, 0 days before: 2^-2, 2^-1, 2^0 = 1/4, 1/2, 1 (sum 7/4) -> 1/7, 2/7, 4/7
    # (a half-life of 8 days would give 2^-1.75, 2^-0.875, 1)
    out = attribute(three(), conversions([1], ["2026-01-15"], ["Own"]), "time_decay")
    np.testing.assert_allclose(out["credit"], [1 / 7, 2 / 7, 4 / 7], rtol=0, atol=1e-15)


def test_time_decay_is_measured_from_the_nearest_touch():
    """Touches on 2022-12-31 and 2023-01-01, conversion on 2026-01-01: 1097 and 1096 days before (2023,
    2024 (leap), 2025 = 365 + 366 + 365 = 1096). Half-life 1 day: 2^-1097 and 2^-1096 are both below the
    smallest double (2^-1074), but relative to the nearest touch the weights are 2^-1 and 2^0: 1/3, 2/3."""
    t = touches(1, ["2022-12-31", "2023-01-01"], ["Old", "Older"])
    out = attribute(t, conversions([1], ["2026-01-01"], ["Own"]), "time_decay", half_life_days=1)
    np.testing.assert_allclose(out["credit"], [1 / 3, 2 / 3], rtol=1e-15, atol=0)


# ------------------------------------------------------------------ as_of edges
def test_a_touch_dated_on_as_of_is_eligible():
    # conversion and as_of 2026-01-20; touches A 01-01 and B 01-20 (on as_of): linear 1/2 each
    t = touches(1, ["2026-01-01", "2026-01-20"], ["A", "B"])
    out = attribute(t, conversions([1], ["2026-01-20"], ["Own"]), "linear", as_of="2026-01-20")
    assert out["channel"].tolist() == ["A", "B"]
    assert out["credit"].tolist() == [0.5, 0.5]


def test_an_opportunity_dated_on_as_of_has_happened():
    """W-shaped, THREE, lead 01-08 (lead touch B), opportunity 01-15 = as_of (opportunity touch C): three
    distinct key touches, 0.3 each -> 1/3 each. Were the opportunity not yet happened: A 0.3, B 0.3, C 0.1
    over 0.7 = 3/7, 3/7, 1/7."""
    c = conversions([1], ["2026-01-15"], ["Own"], lead_at=[D("2026-01-08")], opportunity_at=[D("2026-01-15")])
    out = attribute(three(), c, "w_shaped", as_of="2026-01-15")
    np.testing.assert_allclose(out["credit"], [1 / 3, 1 / 3, 1 / 3], rtol=0, atol=1e-15)


def test_an_undated_conversion_is_left_out_with_as_of_too():
    # contact 2 has no converted_at: not a conversion, whatever as_of; contact 1's three touches 1/3 each
    t = pd.concat([three(), touches(2, ["2026-01-05"], ["D"])], ignore_index=True)
    c = conversions([1, 2], ["2026-01-15", None], ["Own", "Own2"])
    out = attribute(t, c, "linear", as_of="2026-01-31")
    assert out["contact_id"].tolist() == [1, 1, 1]
    assert out["channel"].tolist() == ["A", "B", "C"]
    assert not out["fallback"].any()


# ------------------------------------------------------------------ order of the touches
def test_same_day_touches_keep_input_order_on_a_long_path():
    """17 touches of one contact on three days (an unstable sort reorders ties from 17 elements on), in input
    order c00..c16 with days (01-01 + d) for d = 2 1 1 0 0 0 0 0 0 2 1 2 1 1 2 2 1. By day, ties in input
    order: day 0: c03..c08; day 1: c01 c02 c10 c12 c13 c16; day 2: c00 c09 c11 c14 c15."""
    d = [2, 1, 1, 0, 0, 0, 0, 0, 0, 2, 1, 2, 1, 1, 2, 2, 1]
    t = touches(1, [f"2026-01-0{1 + x}" for x in d], [f"c{i:02d}" for i in range(17)])
    out = attribute(t, conversions([1], ["2026-01-10"], ["Own"]), "last_touch")
    expected = [3, 4, 5, 6, 7, 8, 1, 2, 10, 12, 13, 16, 0, 9, 11, 14, 15]
    assert out["channel"].tolist() == [f"c{i:02d}" for i in expected]
    assert out["credit"].tolist() == [0.0] * 16 + [1.0]
    assert out["touched_at"].tolist() == [D("2026-01-01")] * 6 + [D("2026-01-02")] * 6 + [D("2026-01-03")] * 5


def test_paths_stay_grouped_by_conversion():
    """Conversions P then Q (both 2026-01-20). Touches in input order: Q 01-01, P 01-01, P 01-11. Grouped by
    conversion (in conversions order), then by day: P 01-01, P 01-11, Q 01-01; linear 1/2, 1/2, 1. (The sort
    key is conversion × span + day offset with span = 10 + 1 = 11 days: Q's key 11 comes after P's 0 and 10.)"""
    t = touches(["Q", "P", "P"], ["2026-01-01", "2026-01-01", "2026-01-11"], ["Qa", "Pa", "Pb"])
    c = conversions(["P", "Q"], ["2026-01-20", "2026-01-20"], ["OwnP", "OwnQ"])
    out = attribute(t, c, "linear")
    assert out["contact_id"].tolist() == ["P", "P", "Q"]
    assert out["channel"].tolist() == ["Pa", "Pb", "Qa"]
    assert out["touched_at"].tolist() == [D("2026-01-01"), D("2026-01-11"), D("2026-01-01")]
    assert out["credit"].tolist() == [0.5, 0.5, 1.0]


def test_paths_before_1970_stay_grouped_by_conversion():
    """Dates before 1970 are negative day numbers: P 1969-12-01 (day −31) and 1969-12-20 (−12), Q 1969-12-10
    (−22), both converted 1969-12-31. Span −12 − (−31) + 1 = 20 days (the negative sum −12 + −31 would put Q
    first). Expected P, P, Q with linear 1/2, 1/2, 1 and first_touch 1, 0, 1."""
    t = touches(["P", "P", "Q"], ["1969-12-01", "1969-12-20", "1969-12-10"], ["Pa", "Pb", "Qa"])
    c = conversions(["P", "Q"], ["1969-12-31", "1969-12-31"], ["OwnP", "OwnQ"])
    out = attribute(t, c, "linear")
    assert out["contact_id"].tolist() == ["P", "P", "Q"]
    assert out["touched_at"].tolist() == [D("1969-12-01"), D("1969-12-20"), D("1969-12-10")]
    assert out["converted_at"].tolist() == [D("1969-12-31")] * 3
    assert out["credit"].tolist() == [0.5, 0.5, 1.0]
    assert attribute(t, c, "first_touch")["credit"].tolist() == [1.0, 0.0, 1.0]


def test_without_any_touch_the_fallback_channel_keeps_its_dtype():
    # no touches at all: every conversion falls back on its own channel, a categorical column here; the
    # result's channel column is that column (category, values Organic, Referral), credit 1 each
    t = pd.DataFrame({"contact_id": pd.Series([], dtype="int64"), "touched_at": pd.Series([], dtype="datetime64[ns]"),
                      "channel": pd.Series([], dtype=object)})
    c = conversions([1, 2], ["2026-01-10", "2026-01-12"], pd.Categorical(["Organic", "Referral"]))
    out = attribute(t, c, "linear")
    assert isinstance(out["channel"].dtype, pd.CategoricalDtype)
    assert out["channel"].tolist() == ["Organic", "Referral"]
    assert out["fallback"].tolist() == [True, True]
    assert out["credit"].tolist() == [1.0, 1.0]


# ------------------------------------------------------------------ time zones: the local calendar day
def test_tz_aware_touches_count_on_their_local_day():
    """Touches in Paris: 2026-01-10 12:00+01:00 (Early) and 2026-01-15 00:30+01:00 (Late, 2026-01-14 23:30
    UTC). Conversion 2026-01-14. On the local day Late (01-15) is after the conversion: only Early is
    eligible, dated 01-10, credit 1 (in UTC days Late would fall on 01-14 and take the last touch)."""
    t = pd.DataFrame({"contact_id": [1, 1], "channel": ["Early", "Late"],
                      "touched_at": pd.to_datetime(["2026-01-10 12:00", "2026-01-15 00:30"]).tz_localize("Europe/Paris")})
    out = attribute(t, conversions([1], ["2026-01-14"], ["Own"]), "last_touch")
    assert out["channel"].tolist() == ["Early"]
    assert out["touched_at"].tolist() == [D("2026-01-10")]
    assert out["credit"].tolist() == [1.0]


def test_a_tz_aware_as_of_is_its_local_day():
    """as_of 2026-01-20 08:00 in Tokyo (2026-01-19 23:00 UTC): its day is 01-20, so the conversion on 01-20
    and the touch on 01-20 have happened: linear 1/2, 1/2 over A (01-05) and B (01-20)."""
    t = touches(1, ["2026-01-05", "2026-01-20"], ["A", "B"])
    as_of = pd.Timestamp("2026-01-20 08:00", tz="Asia/Tokyo")
    out = attribute(t, conversions([1], ["2026-01-20"], ["Own"]), "linear", as_of=as_of)
    assert out["channel"].tolist() == ["A", "B"]
    assert out["credit"].tolist() == [0.5, 0.5]


# ------------------------------------------------------------------ error messages
def test_missing_columns_are_named():
    with pytest.raises(KeyError) as e:
        attribute(pd.DataFrame({"contact_id": [1]}), conversions([1], ["2026-01-15"], ["Own"]))
    assert e.value.args[0] == ("touches has no column 'touched_at', 'channel' (columns: ['contact_id']); "
                               "pass the right *_col argument")
    with pytest.raises(KeyError) as e:
        attribute(three(), pd.DataFrame({"contact_id": [1], "channel": ["Own"]}))
    assert e.value.args[0] == ("conversions has no column 'converted_at' (columns: ['contact_id', 'channel']); "
                               "pass the right *_col argument")
    with pytest.raises(KeyError) as e:
        attribute(three(), conversions([1], ["2026-01-15"], ["Own"]), value_col="revenue")
    assert e.value.args[0] == ("conversions has no column 'revenue' (columns: ['contact_id', 'converted_at', "
                               "'channel']); pass the right *_col argument")


def test_missing_fallback_channel_is_explained():
    # contacts 2 and 3 have no touch and conversions has no 'channel' column: 2 conversions to fall back
    c = conversions([1, 2, 3], ["2026-01-15"] * 3, ["x", "y", "z"]).drop(columns="channel")
    with pytest.raises(KeyError) as e:
        attribute(three(), c)
    assert e.value.args[0] == ("2 conversions have no eligible touch and conversions has no column 'channel' "
                               "to fall back on; pass fallback_channel_col")


def test_duplicated_conversions_name_the_first_five():
    # contacts 1..6 twice each: the first five duplicated ids are named
    ids = [1, 2, 3, 4, 5, 6] * 2
    with pytest.raises(ValueError) as e:
        attribute(three(), conversions(ids, ["2026-01-15"] * 12, ["Own"] * 12))
    assert e.value.args[0] == "conversions must have one row per contact; duplicated contact_id: [1, 2, 3, 4, 5]"


def test_unknown_keyword_is_named():
    with pytest.raises(TypeError) as e:
        attribution_by_channel(three(), conversions([1], ["2026-01-15"], ["Own"]), half_life=3)
    assert e.value.args[0] == "attribution_by_channel() got unexpected keyword arguments ['half_life']"


# ------------------------------------------------------------------ attribution_by_channel
def test_by_channel_takes_one_model_name():
    # "first_touch" as a plain string is one model, not eleven letters: A 1, B 0, C 0
    by = attribution_by_channel(three(), conversions([1], ["2026-01-15"], ["Own"]), "first_touch")
    assert list(by.columns) == [("conversions", "first_touch")]
    assert by[("conversions", "first_touch")].to_dict() == {"A": 1.0, "B": 0.0, "C": 0.0}


def test_by_channel_keeps_a_missing_channel_last():
    """Contact 1: A on 01-01 and a touch without channel on 01-08, converted 01-15; contact 2 converted 01-15
    without touches (own channel B). Linear: A 1/2, (missing) 1/2, B 1; sorted with the missing channel
    last; the column still sums to the 2 conversions."""
    t = touches(1, ["2026-01-01", "2026-01-08"], ["A", None])
    c = conversions([1, 2], ["2026-01-15", "2026-01-15"], ["Own", "B"])
    by = attribution_by_channel(t, c, ["linear"])
    assert by.index[:2].tolist() == ["A", "B"] and pd.isna(by.index[2]) and len(by) == 3
    assert by[("conversions", "linear")].tolist() == [0.5, 1.0, 0.5]


def test_by_channel_value_skips_missing_values():
    """Contact 1 (THREE, revenue 700) and contact 2 (no touches, own channel Organic, revenue unknown).
    First touch: value A 700, B 0, C 0, Organic 0 (its conversion adds nothing); conversions A 1, Organic 1."""
    c = conversions([1, 2], ["2026-01-15", "2026-01-15"], ["Own", "Organic"], revenue=[700.0, np.nan])
    by = attribution_by_channel(three(), c, ["first_touch"], value_col="revenue")
    assert by[("value", "first_touch")].to_dict() == {"A": 700.0, "B": 0.0, "C": 0.0, "Organic": 0.0}
    assert by[("conversions", "first_touch")].to_dict() == {"A": 1.0, "B": 0.0, "C": 0.0, "Organic": 1.0}


def test_by_channel_value_of_a_nullable_column():
    """A nullable boolean value column ("enterprise deal" flag: True, unknown): read as 1.0 and NaN.
    First touch: value A 1.0, Organic 0 (unknown adds nothing), B 0, C 0."""
    c = conversions([1, 2], ["2026-01-15", "2026-01-15"], ["Own", "Organic"],
                    enterprise=pd.array([True, None], dtype="boolean"))
    by = attribution_by_channel(three(), c, ["first_touch"], value_col="enterprise")
    assert by[("value", "first_touch")].to_dict() == {"A": 1.0, "B": 0.0, "C": 0.0, "Organic": 0.0}
    one = attribute(three(), c, "first_touch", value_col="enterprise")
    assert one["value_credit"].dtype == "float64"
    np.testing.assert_array_equal(one["value_credit"], [1.0, 0.0, 0.0, np.nan])  # Organic's: NaN


def test_by_channel_without_models_lists_the_channels():
    # no model: no column, but one row per channel credited by the paths (A, B, C and Organic's fallback)
    c = conversions([1, 2], ["2026-01-15", "2026-01-15"], ["Own", "Organic"])
    by = attribution_by_channel(three(), c, [])
    assert by.shape == (4, 0)
    assert by.index.tolist() == ["A", "B", "C", "Organic"]
    assert by.columns.names == ["measure", "model"]


# ------------------------------------------------------------------ attributed_roi
def test_roi_error_names_the_missing_measure():
    by = attribution_by_channel(three(), conversions([1], ["2026-01-15"], ["Own"]), ["linear"])
    with pytest.raises(KeyError) as e:
        attributed_roi(by, pd.Series({"A": 1.0}))
    assert e.value.args[0] == ("by_channel_value has no 'value' measure: call attribution_by_channel "
                               "with value_col=")


def test_roi_of_a_spend_frame_without_a_spend_column_uses_its_first_column():
    # spend frame indexed by channel with columns budget, clicks: budget is the spend
    # A (300 − 100) / 100 = 2, B (50 − 50) / 50 = 0 (clicks, 7 and 9, would give 293/7 and 41/9)
    value = pd.DataFrame({"linear": [300.0, 50.0]}, index=pd.Index(["A", "B"], name="channel"))
    spend = pd.DataFrame({"budget": [100.0, 50.0], "clicks": [7.0, 9.0]}, index=["A", "B"])
    roi = attributed_roi(value, spend)
    assert roi["linear"].to_dict() == {"A": 2.0, "B": 0.0}


def test_roi_keeps_the_spend_of_a_missing_channel():
    """Revenue A 300, (missing channel) 60; spend A 100, (missing) 40 (rows 25 + 15 in a spend file).
    ROI A (300 − 100)/100 = 2, missing (60 − 40)/40 = 0.5."""
    value = pd.DataFrame({"linear": [300.0, 60.0]}, index=pd.Index(["A", np.nan], name="channel"))
    rows = pd.DataFrame({"channel": ["A", None, None], "spend": [100.0, 25.0, 15.0]})
    for spend in (rows, pd.Series([100.0, 40.0], index=["A", np.nan])):
        roi = attributed_roi(value, spend)
        assert roi.index[0] == "A" and pd.isna(roi.index[1]) and len(roi) == 2
        assert roi["linear"].tolist() == [2.0, 0.5]


def test_roi_axis_names():
    # columns named "model"; the index keeps the revenue's index name, "channel" when it has none
    value = pd.DataFrame({"linear": [300.0]}, index=pd.Index(["A"]))
    roi = attributed_roi(value, pd.Series({"A": 100.0}))
    assert roi.columns.name == "model" and roi.index.name == "channel"
    assert roi.loc["A", "linear"] == 2.0                       # (300 − 100) / 100
    value.index.name = "source"
    assert attributed_roi(value, pd.Series({"A": 100.0})).index.name == "source"
