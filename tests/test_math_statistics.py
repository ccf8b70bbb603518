"""Statistics behind marked rates, intervals and significant changes (SPEC "Real data: small samples").

Expected values are worked by hand from the textbook formulas:
- Wilson interval of 8/10 at z = 1.96: centre (0.8 + 0.19208) / 1.38416 = 0.71677, half-width
  1.96 * sqrt(0.016 + 0.009604) / 1.38416 = 0.22661, so [0.4902, 0.9433].
- Two-proportion z-test with a pooled variance: p = (x1 + x2) / (n1 + n2),
  z = (x1/n1 - x2/n2) / sqrt(p (1 - p) (1/n1 + 1/n2)); significant at 5 % when |z| > 1.95996.
"""

import math

import pytest

from kpi_kit._math import proportions_differ, small_sample, wilson_interval


def test_wilson_interval_matches_the_hand_computed_bounds():
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)


def test_wilson_interval_of_all_and_none_stays_inside_zero_to_one():
    # 0/5: centre 0.19208/1.76832 = 0.10862, half-width equal, so [0, 0.4345].
    low, high = wilson_interval(0, 5)
    assert low == pytest.approx(0, abs=1e-12) and round(high, 4) == 0.4345
    low, high = wilson_interval(5, 5)
    assert round(low, 4) == 0.5655 and high == pytest.approx(1)


@pytest.mark.parametrize("successes, n", [(0, 0), (3, None), (None, 10), (float("nan"), 10), (1, float("nan"))])
def test_wilson_interval_is_unknown_without_a_base(successes, n):
    assert all(math.isnan(v) for v in wilson_interval(successes, n))


@pytest.mark.parametrize("a, n_a, b, n_b, expected", [
    (30, 100, 20, 100, False),  # p = .25, z = .10 / .061237 = 1.633
    (60, 200, 30, 200, True),   # p = .225, z = .15 / .041758 = 3.592
    (55, 100, 41, 100, True),   # p = .48, z = .14 / .070654 = 1.9815, just significant
    (54, 100, 41, 100, False),  # p = .475, z = .13 / .070622 = 1.8408, just not
    (41, 100, 55, 100, True),   # a fall is tested like a rise
    (3, 3, 1, 3, False),        # 100 % against 33 %: three leads are not a change
])
def test_proportions_differ_follows_the_pooled_z_test(a, n_a, b, n_b, expected):
    assert proportions_differ(a, n_a, b, n_b) is expected


@pytest.mark.parametrize("a, n_a, b, n_b", [
    (0, 10, 0, 10), (10, 10, 20, 20),  # no variance: both 0 % or both 100 %
    (1, 0, 1, 10), (1, 10, 1, 0), (None, 10, 1, 10), (float("nan"), 10, 1, 10),
])
def test_proportions_differ_is_unknown_when_the_test_cannot_run(a, n_a, b, n_b):
    assert proportions_differ(a, n_a, b, n_b) is None


def test_small_sample_marks_bases_below_the_minimum_and_unknown_bases():
    assert [small_sample(n, 30) for n in (0, 29, 30, 31, None, float("nan"))] == [True, True, False, False, True, True]


# -- the closed forms against the libraries they replace (statsmodels, scipy.stats: 0.4 s of every start) --
CASES = [(0, 1), (1, 1), (8, 10), (3, 7), (29, 30), (1, 1000), (517, 1203), (40_000, 90_001)]


@pytest.mark.parametrize("successes, n", CASES)
@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.01])
def test_wilson_interval_equals_statsmodels(successes, n, alpha):
    from statsmodels.stats.proportion import proportion_confint

    expected = proportion_confint(successes, n, alpha=alpha, method="wilson")
    assert wilson_interval(successes, n, alpha) == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("a, n_a", CASES)
@pytest.mark.parametrize("b, n_b", [(0, 5), (20, 100), (60, 200), (511, 1190)])
def test_proportions_differ_equals_statsmodels(a, n_a, b, n_b):
    from statsmodels.stats.proportion import proportions_ztest

    pooled = (a + b) / (n_a + n_b)
    expected = None if pooled in (0, 1) else bool(proportions_ztest([a, b], [n_a, n_b])[1] < 0.05)
    assert proportions_differ(a, n_a, b, n_b) == expected


@pytest.mark.parametrize("a, b", [(223, 179), (22, 19), (0, 7), (7, 0), (10, 10), (11, 10), (1, 9), (60, 40),
                                  (500, 440), (3, 0)])
def test_counts_differ_equals_scipys_binomial_test(a, b):
    from scipy.stats import binomtest

    from kpi_kit.metrics.overview import counts_differ

    assert counts_differ(a, b) == bool(binomtest(a, a + b, 0.5).pvalue < 0.05)


@pytest.mark.parametrize("first, last, count, as_of", [
    ("2017-06-14", "2018-05-31", 7999, "2018-11-30"), ("2025-01-01", "2025-12-31", 5, "2026-02-28"),
    ("2025-01-01", "2025-12-31", 20, "2026-02-28"), ("2024-01-01", "2025-06-30", 3, "2026-02-28"),
    ("2025-01-01", "2025-11-30", 40, "2025-12-31")])
def test_has_stopped_equals_scipys_poisson_chance_of_no_date(first, last, count, as_of):
    import pandas as pd
    from scipy.stats import poisson

    from kpi_kit.metrics.coverage import ends_early, has_stopped

    first, last, as_of = map(pd.Timestamp, (first, last, as_of))
    expected = count * (as_of - last).days / (as_of - first).days
    assert has_stopped(first, last, count, as_of, chance=0.01) == (ends_early(last, as_of) and poisson.pmf(0, expected) < 0.01)
