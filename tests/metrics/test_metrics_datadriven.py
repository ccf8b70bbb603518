"""Data-driven attribution (Markov removal effect, Shapley value) by hand on small path sets."""

import numpy as np
import pandas as pd
import pytest

from kpi_kit import load_client, load_params
from kpi_kit.metrics import compute
from kpi_kit.metrics.datadriven import (
    build_paths,
    markov_attribution,
    markov_removal_effects,
    shapley_attribution,
    shapley_values,
)

FIXTURES = __import__("pathlib").Path(__file__).parents[1] / "fixtures"


def paths_of(*sequences):
    """steps and paths from ("A", "B", True) tuples: channels in order, then converted."""
    steps = [(i, c) for i, s in enumerate(sequences) for c in s[:-1]]
    steps = pd.DataFrame(steps, columns=["path", "channel"])
    paths = pd.DataFrame({"converted": [s[-1] for s in sequences]})
    return steps, paths


# Search→Social→conversion, Referral→conversion, Search→null, Social→null, Search→null
CHAN = paths_of(("Search", "Social", True), ("Referral", True), ("Search", False), ("Social", False),
                ("Search", False))


def test_markov_removal_effects_by_hand():
    """start→Search 3/5, →Referral 1/5, →Social 1/5; Search→Social 1/3, →null 2/3; Social→conversion 1/2,
    →null 1/2; Referral→conversion 1. P = 3/5·1/3·1/2 + 1/5 + 1/5·1/2 = 0.4.
    Without Search: 1/5 + 1/10 = 0.3 (effect 0.25); without Social: 1/5 (0.5); without Referral: 0.2 (0.5).
    Two conversions credited 0.25 : 0.5 : 0.5, i.e. 0.4, 0.8, 0.8."""
    steps, paths = CHAN
    effects, p = markov_removal_effects(steps, paths["converted"])
    assert p == pytest.approx(0.4)
    assert effects.to_dict() == pytest.approx({"Search": 0.25, "Social": 0.5, "Referral": 0.5})
    credit = markov_attribution(steps, paths, pd.Series([12000.0, 6000.0, np.nan, np.nan, np.nan]))
    assert credit["conversions"].to_dict() == pytest.approx({"Search": 0.4, "Social": 0.8, "Referral": 0.8})
    assert credit["revenue"].sum() == pytest.approx(18000.0) and credit["revenue"]["Search"] == pytest.approx(3600)


def test_shapley_by_hand():
    """Exact sets: {Search,Social} 1 of 1 converted, {Referral} 1/1, {Search} 0/2, {Social} 0/1.
    v(Search)=0, v(Social)=0, v(Referral)=1, v(Search,Social)=1, v(Search,Referral)=1, v(Social,Referral)=1,
    v(all)=2. φ_Search = ⅓·0 + ⅙·(1−0) + ⅙·(1−1) + ⅓·(2−1) = 0.5, φ_Social = 0.5 likewise,
    φ_Referral = ⅓·1 + ⅙·1 + ⅙·1 + ⅓·1 = 1; they sum to v(all) = 2, the conversions."""
    steps, paths = CHAN
    assert shapley_values(steps, paths["converted"]).to_dict() == pytest.approx(
        {"Search": 0.5, "Social": 0.5, "Referral": 1.0})
    credit = shapley_attribution(steps, paths, pd.Series([12000.0, 6000.0, np.nan, np.nan, np.nan]))
    assert credit["revenue"].to_dict() == pytest.approx({"Search": 4500.0, "Social": 4500.0, "Referral": 9000.0})


def test_a_repeated_channel_does_not_change_the_markov_credit():
    once = paths_of(("A", "B", True), ("A", False), ("B", True))
    twice = paths_of(("A", "A", "B", True), ("A", False), ("B", "B", True))
    assert markov_removal_effects(*once[:1], once[1]["converted"])[0].to_dict() == pytest.approx(
        markov_removal_effects(twice[0], twice[1]["converted"])[0].to_dict())  # a self-loop only delays
    assert shapley_values(twice[0], twice[1]["converted"]).to_dict() == pytest.approx({"A": 0.5, "B": 1.5})


def test_a_channel_only_on_paths_that_did_not_convert():
    """C alone on paths that end in null gets nothing from either model. When C leads on to A, first-order
    Markov forgets where A came from: A→B→conversion happens, so C earns a share (start→C 1/2, C→A 1/2,
    A→B 1/2, B→conversion: P = 1/8 + 1/4 + 1/8 = 0.5; without C 0.375, effect 0.25; without A 0.25, effect
    0.5; without B 0, effect 1: credits 2 × (0.25, 0.5, 1) / 1.75). Shapley does not: every set holding C
    has rate 0."""
    steps, paths = paths_of(("A", "B", True), ("B", True), ("C", False), ("C", False))
    for credit in (markov_attribution(steps, paths), shapley_attribution(steps, paths)):
        assert credit.loc["C", "conversions"] == pytest.approx(0.0) and credit["conversions"].sum() == pytest.approx(2)
    steps, paths = paths_of(("A", "B", True), ("B", True), ("C", False), ("C", "A", False))
    assert markov_attribution(steps, paths)["conversions"].to_dict() == pytest.approx(
        {"A": 2 * 0.5 / 1.75, "B": 2 * 1 / 1.75, "C": 2 * 0.25 / 1.75})
    assert shapley_attribution(steps, paths).loc["C", "conversions"] == pytest.approx(0.0)


def test_markov_order_two_remembers_where_a_path_came_from():
    """A→B→conversion, C→B→null. Order 1: B converts half the time whoever came before, so A and C
    share: effects A 0.5, C 0.5, B 1 (credits 0.25, 0.25, 0.5). Order 2: B-after-A always converts and
    B-after-C never does: effects A 1, C 0, B 1 (credits 0.5, 0, 0.5)."""
    steps, paths = paths_of(("A", "B", True), ("C", "B", False))
    first = markov_attribution(steps, paths, order=1)["conversions"]
    second = markov_attribution(steps, paths, order=2)["conversions"]
    assert first.to_dict() == pytest.approx({"A": 0.25, "B": 0.5, "C": 0.25})
    assert second.to_dict() == pytest.approx({"A": 0.5, "B": 0.5, "C": 0.0})
    with pytest.raises(ValueError, match="order"):
        markov_removal_effects(steps, paths["converted"], order=4)


def test_shapley_groups_the_channels_beyond_the_limit_as_other():
    steps, paths = paths_of(("A", "B", True), ("A", True), ("A", "C", False), ("B", False), ("D", True))
    phi = shapley_values(steps, paths["converted"], max_channels=2)
    assert set(phi.index) == {"A", "Other"}  # A reaches 3 paths; B, C and D fewer
    assert phi.sum() == pytest.approx(shapley_values(steps.assign(channel=steps["channel"].where(
        steps["channel"] == "A", "Other")), paths["converted"]).sum())


def test_the_channel_fixtures_paths_by_hand():
    """chan (window Jan–Mar 2026): K1 converted (its Feb 15 referral touch is after the conversion),
    K4 converted without a touch before as_of (its own channel, Referral); K2, K3 and K7 were created in
    the window and did not convert (no touches: their own channels); K5 was created before the window."""
    data = load_client(load_params(FIXTURES / "chan.yaml"))
    steps, paths = build_paths(data["touches"], data["contacts"], compute(data).ctx.window, compute(data).ctx.as_of)
    got = steps.groupby("path")["channel"].agg(" > ".join)
    assert dict(zip(paths["contact_id"], zip(got, paths["converted"]))) == {
        "K1": ("Paid Search > Paid Social", True), "K2": ("Paid Search", False), "K3": ("Paid Social", False),
        "K4": ("Referral", True), "K7": ("Paid Search", False)}
    a = compute(data).channel.attribution
    assert a["conversions"]["markov"].to_dict() == pytest.approx({"Paid Search": 0.4, "Paid Social": 0.8,
                                                                  "Referral": 0.8})
    assert a["value"]["shapley"].sum() == pytest.approx(18000.0)  # K1's 12,000 and K4's 6,000
    rows = compute(data).channel.tables()["attribution"]
    assert {r["model"] for r in rows} >= {"markov", "shapley", "linear"}


def test_credits_sum_to_the_conversions_on_the_demo():
    m = compute(load_client(load_params(FIXTURES.parent.parent / "data" / "clients" / "demo.yaml")))
    conv = m.channel.attribution["conversions"]
    assert conv.sum().round(6).nunique() == 1  # every model, rule or data-driven, credits every customer once
    k = m.kpis()
    assert len(k[(k["metric"] == "attributed_conversions") & k["dimension_value"].str.startswith("markov/")]) == len(conv)
