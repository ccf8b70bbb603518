"""Data-driven attribution (kpi_kit.metrics.datadriven) on fixtures that tell the code paths apart (issue #21):
which contacts make a path and up to which day (conversion / as_of edges, contacts without ``customer_at``),
the fallback step and the ``unknown`` channel, the order of a path's steps, higher-order Markov states, paths
missing from ``converted``, nothing converted, removal effects at rounding level, the grouping of channels as
``Other`` (defaults, exactly ``max_channels`` channels, steps with extra columns) and Shapley sets that no path
holds. Every expected value is worked out by hand in the test's docstring or comments; each test builds its own
small frames (no module-scoped fixtures: mutmut would credit their work to one test).
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from kpi_kit._dates import Window
from kpi_kit.metrics.datadriven import (
    build_paths,
    markov_attribution,
    markov_removal_effects,
    shapley_attribution,
    shapley_values,
)

JAN_MAR = Window(pd.Period("2026-01", "M"), pd.Period("2026-03", "M"))
AS_OF = pd.Timestamp("2026-04-15")


def dates(values):
    return pd.to_datetime(pd.Series(values, dtype=object))


def paths_of(*sequences):
    """steps and paths from ("A", "B", True) tuples: channels in order, then converted."""
    steps = pd.DataFrame([(i, c) for i, s in enumerate(sequences) for c in s[:-1]], columns=["path", "channel"])
    return steps, pd.DataFrame({"converted": [s[-1] for s in sequences]})


# ------------------------------------------------------------------ build_paths
def contacts_frame():
    """Window Jan–Mar 2026, as_of 2026-04-15.

    id  created     customer    channel  path?
    K1  2025-12-01  2026-02-10  Own1     converted (conversion in the window)
    K2  2026-01-05  -           Own2     open (created in the window, not converted)
    K3  2026-02-01  2026-04-10  Own3     no: converted after the window but by as_of
    K4  2026-02-15  2026-05-01  Own4     open (converts after as_of)
    K5  2025-11-01  -           Own5     no: created before the window, not converted
    K6  2026-03-31  -           (none)   open (created on the window's last day)
    K7  2026-01-01  2026-03-31  Own7     converted (on the window's last day)
    K8  2026-02-01  2026-04-15  Own8     no: converts on as_of, not after it
    K9  2025-10-01  2025-12-20  Own9     no: converted before the window
    """
    return pd.DataFrame({
        "contact_id": ["K1", "K2", "K3", "K4", "K5", "K6", "K7", "K8", "K9"],
        "created_at": dates(["2025-12-01", "2026-01-05", "2026-02-01", "2026-02-15", "2025-11-01", "2026-03-31",
                             "2026-01-01", "2026-02-01", "2025-10-01"]),
        "customer_at": dates(["2026-02-10", None, "2026-04-10", "2026-05-01", None, None, "2026-03-31",
                              "2026-04-15", "2025-12-20"]),
        "channel": ["Own1", "Own2", "Own3", "Own4", "Own5", None, "Own7", "Own8", "Own9"],
    })


def touches_frame():
    """Touches in input order (kept: up to the conversion day for a converted path, up to as_of for an open one):

    K1  2026-02-11  Email    no: after K1's conversion (02-10)
    K1  2026-02-10  Social   yes: on the conversion day
    K5  2026-01-15  Search   no: K5 is not a path
    K1  2026-01-10  Search   yes
    K2  2026-04-15  Email    yes: on as_of
    K2  2026-04-16  Search   no: after as_of
    K1  (no date)   Display  no
    K2  2026-01-20  Social   yes
    K7  2026-03-31  (none)   yes: no channel -> unknown
    K7  2026-03-31  Search   yes: same day, after the previous one in input order
    K3  2026-03-01  Search   no: K3 is not a path
    K8  2026-03-01  Ads      no: K8 is not a path
    """
    return pd.DataFrame({
        "contact_id": ["K1", "K1", "K5", "K1", "K2", "K2", "K1", "K2", "K7", "K7", "K3", "K8"],
        "touched_at": dates(["2026-02-11", "2026-02-10", "2026-01-15", "2026-01-10", "2026-04-15", "2026-04-16",
                             None, "2026-01-20", "2026-03-31", "2026-03-31", "2026-03-01", "2026-03-01"]),
        "channel": ["Email", "Social", "Search", "Search", "Email", "Search", "Display", "Social", None, "Search",
                    "Search", "Ads"],
    })


def test_build_paths_by_hand():
    """Paths, in contacts order: K1 (converted), K2, K4, K6 (open), K7 (converted).
    Steps: K1 Search > Social; K2 Social > Email; K4 none, so its own channel Own4; K6 none and no channel of its
    own: unknown; K7 the channel-less touch (unknown) then Search (same day, input order)."""
    steps, paths = build_paths(touches_frame(), contacts_frame(), JAN_MAR, AS_OF)
    assert paths.index.name == "path" and paths.index.tolist() == [0, 1, 2, 3, 4]
    assert paths["contact_id"].tolist() == ["K1", "K2", "K4", "K6", "K7"]
    assert paths["converted"].tolist() == [True, False, False, False, True]
    assert list(steps.columns) == ["path", "channel"]
    assert steps["path"].tolist() == [0, 0, 1, 1, 2, 3, 4, 4]
    assert steps["channel"].tolist() == ["Search", "Social", "Social", "Email", "Own4", "unknown", "unknown", "Search"]


def test_build_paths_without_customer_at():
    """No customer_at column: nobody converted. Contacts (index 10, 11, 12): A1 created 2026-01-05 with a Search
    touch on 01-07 (open path), A2 created 2026-03-31 without touch (open, own channel Ads), A3 created 2025-12-31
    (before the window: no path)."""
    contacts = pd.DataFrame({"contact_id": ["A1", "A2", "A3"],
                             "created_at": dates(["2026-01-05", "2026-03-31", "2025-12-31"]),
                             "channel": ["Web", "Ads", "Web"]}).set_axis([10, 11, 12])
    touches = pd.DataFrame({"contact_id": ["A1", "A3"], "touched_at": dates(["2026-01-07", "2026-01-08"]),
                            "channel": ["Search", "Email"]})
    steps, paths = build_paths(touches, contacts, JAN_MAR, AS_OF)
    assert paths["contact_id"].tolist() == ["A1", "A2"]
    assert paths["converted"].tolist() == [False, False]
    assert steps["path"].tolist() == [0, 1] and steps["channel"].tolist() == ["Search", "Ads"]


def test_build_paths_keeps_a_long_path_in_day_order_after_a_path_without_touch():
    """B0 (first contact, no touch: one step on its own channel Organic) and B1 with 20 touches on 20 days,
    given in reverse day order (t19 on 01-01 ... t00 on 01-20). Steps: path 0 Organic, then path 1 t19 ... t00;
    the steps are regrouped by path with a stable sort, so B1's day order survives."""
    contacts = pd.DataFrame({"contact_id": ["B0", "B1"], "created_at": dates(["2026-01-02", "2026-01-03"]),
                             "customer_at": dates([None, "2026-02-01"]), "channel": ["Organic", "Web"]})
    touches = pd.DataFrame({"contact_id": "B1", "channel": [f"t{i:02d}" for i in range(20)],
                            "touched_at": dates([f"2026-01-{20 - i:02d}" for i in range(20)])})
    steps, paths = build_paths(touches, contacts, JAN_MAR, AS_OF)
    assert paths["converted"].tolist() == [False, True]
    assert steps["path"].tolist() == [0] + [1] * 20
    assert steps["channel"].tolist() == ["Organic"] + [f"t{i:02d}" for i in range(19, -1, -1)]


def test_build_paths_keeps_channel_labels_as_given():
    # channels given as campaign numbers stay numbers (not the text "101"); C2's own channel stays text
    contacts = pd.DataFrame({"contact_id": ["C1", "C2"], "created_at": dates(["2026-01-02", "2026-01-03"]),
                             "customer_at": dates(["2026-01-20", None]), "channel": ["Web", "Organic"]})
    touches = pd.DataFrame({"contact_id": ["C1", "C1"], "touched_at": dates(["2026-01-05", "2026-01-06"]),
                            "channel": [101, 102]})
    steps, _ = build_paths(touches, contacts, JAN_MAR, AS_OF)
    assert steps["channel"].tolist() == [101, 102, "Organic"]
    assert [type(c) for c in steps["channel"]][2] is str and not isinstance(steps["channel"][0], str)


def test_build_paths_reads_tz_aware_touch_dates():
    """Touches with a time zone (noon in Paris: the same day locally and in UTC) and one without a date: D1's
    touches on 01-10 (Ads) and 01-12 (Email) are kept, the undated one is not."""
    contacts = pd.DataFrame({"contact_id": ["D1"], "created_at": dates(["2026-01-02"]),
                             "customer_at": dates(["2026-01-12"]), "channel": ["Web"]})
    touched = pd.to_datetime(pd.Series(["2026-01-10 12:00", None, "2026-01-12 12:00"])).dt.tz_localize("Europe/Paris")
    touches = pd.DataFrame({"contact_id": "D1", "touched_at": touched, "channel": ["Ads", "Display", "Email"]})
    steps, paths = build_paths(touches, contacts, JAN_MAR, AS_OF)
    assert paths["converted"].tolist() == [True]
    assert steps["channel"].tolist() == ["Ads", "Email"]


# ------------------------------------------------------------------ Markov
def test_markov_single_channel_takes_every_conversion():
    """A→conversion, A→null: P = 1/2; without A: 0, removal effect 1. One conversion credited 1 (the effects'
    total is exactly 1), its revenue 500 too."""
    steps, paths = paths_of(("A", True), ("A", False))
    out = markov_attribution(steps, paths, pd.Series([500.0, np.nan]))
    assert list(out.columns) == ["conversions", "revenue", "removal_effect"] and out.index.name == "channel"
    assert out.to_dict("index") == {"A": {"conversions": 1.0, "revenue": 500.0, "removal_effect": 1.0}}


def test_markov_without_any_conversion_is_undefined():
    # no path converts: P = 0, so every removal effect (1 − P'/P) is undefined, and so is the credit
    steps, paths = paths_of(("A", False), ("B", "A", False))
    effects, p = markov_removal_effects(steps, paths["converted"])
    assert p == 0.0
    assert effects.index.tolist() == ["A", "B"] and effects.isna().all()
    assert markov_attribution(steps, paths)["conversions"].isna().all()


def test_markov_credit_is_never_negative():
    """A,A→null; A,A→null; C,B→conversion; B→conversion; A,A,A→null. start→A 3/5, →C 1/5, →B 1/5; A→A 4/7, A→null
    3/7; C→B 1; B→conversion 1. P = 1/5 + 1/5 = 0.4; without A 0.4 (effect 0, computed as −2.2e−16 by the
    solver), without C 0.2 (0.5), without B 0 (1). Two conversions credited 0 : 0.5 : 1: A 0, C 2/3, B 4/3."""
    steps, paths = paths_of(("A", "A", False), ("A", "A", False), ("C", "B", True), ("B", True),
                            ("A", "A", "A", False))
    out = markov_attribution(steps, paths)
    assert out["removal_effect"].to_dict() == pytest.approx({"A": 0.0, "C": 0.5, "B": 1.0}, abs=1e-12)
    assert 0.0 <= out.loc["A", "conversions"] < 1e-15
    assert out.loc["C", "conversions"] == pytest.approx(2 / 3) and out.loc["B", "conversions"] == pytest.approx(4 / 3)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_markov_one_channel_at_every_order(order):
    """A,A→conversion; A→null. Order 1: A→A 1/3, →conversion 1/3, →null 1/3: P = (1/3)/(1 − 1/3) = 1/2. Orders 2
    and 3: states A (first step) and A-after-A: A→AA 1/2, →null 1/2, AA→conversion: P = 1/2. Without A: 0,
    effect 1."""
    steps, paths = paths_of(("A", "A", True), ("A", False))
    effects, p = markov_removal_effects(steps, paths["converted"], order=order)
    assert p == pytest.approx(0.5)
    assert effects.to_dict() == pytest.approx({"A": 1.0})


@pytest.mark.parametrize("order, effect_b", [(1, 0.5), (2, 0.0), (3, 0.0)])
def test_markov_higher_orders_keep_paths_apart(order, effect_b):
    """B→A→null, A→conversion. Order 1: start→B 1/2, →A 1/2; B→A 1; A→null 1/2, →conversion 1/2: P = 1/2;
    without B 1/4 (effect 1/2); without A 0 (effect 1). Orders 2 and 3: A-after-B always ends in null and A as
    a first step always converts: P = 1/2; without B (B and A-after-B lead to null) still 1/2 (effect 0);
    without A 0 (effect 1). A state holds only its own path's channels: the second path starts afresh."""
    steps, paths = paths_of(("B", "A", False), ("A", True))
    effects, p = markov_removal_effects(steps, paths["converted"], order=order)
    assert p == pytest.approx(0.5)
    assert effects.to_dict() == pytest.approx({"B": effect_b, "A": 1.0})


def test_a_path_missing_from_converted_did_not_convert():
    """Steps of paths 0 (A) and 1 (B), converted only says path 0 converted: path 1 ends in null.
    Markov: start→A 1/2 → conversion, start→B 1/2 → null: P = 1/2; without A 0 (effect 1), without B 1/2 (0).
    Shapley: r({A}) = 1, r({B}) = 0: v(A) = 1, v(B) = 0, v(AB) = 1; φ_A = ½·1 + ½·(1 − 0) = 1, φ_B = 0."""
    steps = pd.DataFrame({"path": [0, 1], "channel": ["A", "B"]})
    converted = pd.Series([True], index=[0])
    effects, p = markov_removal_effects(steps, converted)
    assert p == pytest.approx(0.5) and effects.to_dict() == pytest.approx({"A": 1.0, "B": 0.0})
    assert shapley_values(steps, converted).to_dict() == pytest.approx({"A": 1.0, "B": 0.0})


@pytest.mark.parametrize("converted", [pd.Series([True, pd.NA], dtype="boolean"),     # path 1 unknown
                                       pd.Series([True, False], dtype=object)],       # Python bools
                         ids=["nullable-unknown", "object"])
def test_converted_of_other_dtypes(converted):
    """As in test_a_path_missing_from_converted_did_not_convert: path 0 (A) converted, path 1 (B) did not (or
    is unknown, which counts as not converted). Markov effects A 1, B 0 (P = 1/2); Shapley φ_A 1, φ_B 0."""
    steps = pd.DataFrame({"path": [0, 1], "channel": ["A", "B"]})
    effects, p = markov_removal_effects(steps, converted)
    assert p == pytest.approx(0.5) and effects.to_dict() == pytest.approx({"A": 1.0, "B": 0.0})
    assert shapley_values(steps, converted).to_dict() == pytest.approx({"A": 1.0, "B": 0.0})


# ------------------------------------------------------------------ grouping as Other
def test_exactly_max_channels_are_not_grouped():
    """A,B→conversion; A→null; B→conversion with max_channels = 2: two channels, nothing grouped.
    Shapley (as in shapley_values' example): φ_A 0.5, φ_B 1.5; Markov: P = 2/3, effects A 0.5, B 1."""
    steps, paths = paths_of(("A", "B", True), ("A", False), ("B", True))
    assert shapley_values(steps, paths["converted"], max_channels=2).to_dict() == pytest.approx({"A": 0.5, "B": 1.5})
    m = markov_attribution(steps, paths, max_channels=2)
    assert m["removal_effect"].to_dict() == pytest.approx({"A": 0.5, "B": 1.0})


def test_a_channel_repeated_on_a_path_reaches_it_once():
    """Steps with an extra column (the step's day): A three times on path 0 (converted), B on paths 1 (not) and 2
    (converted), C on path 3 (not). max_channels = 2: the channel on most paths is B (2 paths; A reaches 1 path
    however many steps), the rest is Other. Sets: {Other} 1 of 2 converted (paths 0 and 3), {B} 1 of 2:
    v(B) = v(Other) = 1/2, v(both) = 1; φ_B = ½·½ + ½·(1 − ½) = ½ = φ_Other."""
    steps = pd.DataFrame({"path": [0, 0, 0, 1, 2, 3], "channel": ["A", "A", "A", "B", "B", "C"],
                          "day": [1, 2, 3, 1, 1, 1]})
    converted = pd.Series([True, False, True, False])
    assert shapley_values(steps, converted, max_channels=2).to_dict() == pytest.approx({"Other": 0.5, "B": 0.5})


def thirteen_channels():
    """Channel C00..C12 alone on 14, 13, ..., 2 paths (91 one-step paths); the first path of each channel
    converted (13 conversions)."""
    rows, won = [], []
    for i in range(13):
        for j in range(14 - i):
            rows.append((len(won), f"C{i:02d}"))
            won.append(j == 0)
    return pd.DataFrame(rows, columns=["path", "channel"]), pd.DataFrame({"converted": won})


def test_shapley_groups_beyond_twelve_channels_by_default():
    """13 channels, the default limit 12: C00..C10 (on the most paths) kept, C11 (3 paths, 1 converted) and C12
    (2 paths, 1 converted) grouped as Other (5 paths, 2 converted). Every path holds one channel, so v is additive
    and φ_c = r({c}): C00 1/14, ..., C10 1/4, Other 2/5."""
    steps, paths = thirteen_channels()
    phi = shapley_values(steps, paths["converted"])
    assert phi.index.tolist() == [f"C{i:02d}" for i in range(11)] + ["Other"]
    assert phi.to_dict() == pytest.approx({**{f"C{i:02d}": 1 / (14 - i) for i in range(11)}, "Other": 0.4})
    out = shapley_attribution(steps, paths)
    assert out["shapley_value"].to_dict() == pytest.approx(phi.to_dict())
    assert out["conversions"].sum() == pytest.approx(13.0)


def test_shapley_attribution_passes_max_channels_on():
    """A,B→conversion; A→null; A,C→conversion; B→null with max_channels = 2: A (3 paths) kept, B and C grouped.
    Sets: {A, Other} 2 of 2 converted, {A} 0 of 1, {Other} 0 of 1: v(A) = v(Other) = 0, v(both) = 1, φ = ½ each.
    2 conversions and revenue 100 + 300 = 400 split evenly: 1 and 200 each."""
    steps, paths = paths_of(("A", "B", True), ("A", False), ("A", "C", True), ("B", False))
    out = shapley_attribution(steps, paths, pd.Series([100.0, np.nan, 300.0, np.nan]), max_channels=2)
    assert list(out.columns) == ["conversions", "revenue", "shapley_value"] and out.index.name == "channel"
    assert out["conversions"].to_dict() == pytest.approx({"A": 1.0, "Other": 1.0})
    assert out["revenue"].to_dict() == pytest.approx({"A": 200.0, "Other": 200.0})
    assert out["shapley_value"].to_dict() == pytest.approx({"A": 0.5, "Other": 0.5})


# ------------------------------------------------------------------ Shapley sets
def test_shapley_reads_each_path_as_one_set():
    """A→conversion; A,B→null (the second path's two steps are one set {A, B}). r({A}) = 1, r({A,B}) = 0: v(A) = 1,
    v(B) = 0, v(AB) = 1; φ_A = ½·1 + ½·(1 − 0) = 1, φ_B = ½·0 + ½·(1 − 1) = 0."""
    steps, paths = paths_of(("A", True), ("A", "B", False))
    assert shapley_values(steps, paths["converted"]).to_dict() == pytest.approx({"A": 1.0, "B": 0.0})


def test_shapley_sets_no_path_holds_are_worth_nothing():
    """Search,Social→conversion; Referral→conversion; Search, Social, Search→null (the module's example:
    φ Search 0.5, Social 0.5, Referral 1). Sets that no path holds (the empty set, {Search, Referral}, ...) have
    rate 0: it must be written, not left to whatever memory numpy hands out. Arrays of the same size (2^3 = 8
    floats) full of 1e6, freed just before, would show through otherwise."""
    steps, paths = paths_of(("Search", "Social", True), ("Referral", True), ("Search", False), ("Social", False),
                            ("Search", False))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        junk = [np.full(8, 1e6) for _ in range(8)]
        del junk
        phi = shapley_values(steps, paths["converted"])
    assert phi.to_dict() == pytest.approx({"Search": 0.5, "Social": 0.5, "Referral": 1.0})
