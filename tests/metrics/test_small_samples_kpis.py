"""Rates in the KPI table carry their base n and a 95 % Wilson interval (SPEC "Small samples"),
hand-computed on tests/fixtures/chan and tests/fixtures/tiny (window Jan–Mar 2026).

Wilson at z = 1.95996 (z² = 3.84146): centre (p + z²/2n) / (1 + z²/n), half-width
z · sqrt(p(1 − p)/n + z²/4n²) / (1 + z²/n).
- 2/3: centre (.66667 + .64024) / 2.28049 = .57308, half-width 1.95996 · sqrt(.07407 + .10671) / 2.28049
  = .36542, so [.20766, .93850].
- 1/2 and 2/4: centre .5, half-width 1.95996 · sqrt(.125 + .24009) / 2.92073 = .40546 -> [.09453, .90547];
  1.95996 · sqrt(.0625 + .06002) / 1.96037 = .34996 -> [.15004, .84996].
"""

import math
from pathlib import Path

import pytest

from kpi_kit import load_client, load_params
from kpi_kit.metrics import compute

FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_channel_cohort_conversion_rows_carry_n_and_wilson():
    """chan, contacts created Jan–Mar 2026 on Paid Search: K1, K2 and K7; K1 and K2 became leads (K7
    never did), K1 a customer of the two that reached opportunity."""
    book = compute(load_client(load_params(FIXTURES / "chan.yaml"))).book
    k = book.get("stage_conversion", "window (cohort)", "channel/step", "Paid Search/created→lead")
    assert k.value == pytest.approx(2 / 3) and k.n == 3 and k.unit == "percent"
    assert (k.low, k.high) == pytest.approx((0.20766, 0.93850), abs=1e-5)
    k = book.get("stage_conversion", "window (cohort)", "channel/step", "Paid Search/opportunity→customer")
    assert k.value == 0.5 and k.n == 2
    assert (k.low, k.high) == pytest.approx((0.09453, 0.90547), abs=1e-5)
    # Paid Social: K3 never reached opportunity, so opportunity→customer has no base: n/a, no interval
    k = book.get("stage_conversion", "window (cohort)", "channel/step", "Paid Social/opportunity→customer")
    assert math.isnan(k.value) and k.n == 0 and math.isnan(k.low) and math.isnan(k.high)


def test_lead_to_close_row_carries_its_wilson_interval(tiny):
    """tiny: 4 leads in the window (C1, C2, C3, C4; C7 never became one), 2 new customers (C1, C6): 2/4."""
    k = compute(tiny).book.get("lead_to_close_cvr", "window")
    assert k.value == 0.5 and k.n == 4
    assert (k.low, k.high) == pytest.approx((0.15004, 0.84996), abs=1e-5)


def test_every_conversion_and_win_rate_row_has_its_interval_where_it_has_a_base(tiny):
    book = compute(tiny).book
    rows = [k for k in book.rows.values() if k.metric in ("stage_conversion", "win_rate", "lead_to_close_cvr")]
    assert rows
    for k in rows:
        if not math.isnan(k.value):
            assert k.n > 0 and k.low <= k.value <= k.high, k.key
