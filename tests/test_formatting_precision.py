"""Percentages keep enough significant digits to tell values apart (#15 item 8): below 1 % a value
keeps two significant digits whatever the decimals asked for; from 1 % the decimals asked for."""

import math

import pandas as pd
import pytest

from kpi_kit.formatting import fmt_pct, fmt_value, pct_decimals
from kpi_kit.reports.blocks import table


@pytest.mark.parametrize(("value", "decimals", "text"), [
    (0.000176, 2, "0.018%"),   # facebook-ads CTRs: 0.0176 % .. 0.0244 % no longer all read 0.02 %
    (0.000244, 2, "0.024%"),
    (0.000201, 2, "0.020%"),   # two significant digits: the trailing 0 is one of them
    (0.000176, 1, "0.018%"),
    (0.004, 0, "0.40%"),       # 0 decimals asked, but 0.4 % is not "0%"
    (0.0123, 1, "1.2%"),       # from 1 %: the decimals asked for
    (0.1234, 1, "12.3%"),
    (0.1234, 0, "12%"),
    (0.00996, 1, "1.0%"),      # rounds to 1 %: read as a value of 1 % or more
    (0.000996, 1, "0.100%"),
    (0.0, 1, "0.0%"),
    (1.5, 1, "150.0%"),
])
def test_percent_keeps_two_significant_digits_below_one_percent(value, decimals, text):
    assert fmt_pct(value, decimals) == text


def test_signs_and_missing_values():
    assert fmt_pct(-0.0004) == "−0.040%"
    assert fmt_pct(0.00035, 0, signed=True) == "+0.035%"
    assert fmt_pct(-0.25, 0, signed=True) == "−25%"
    assert fmt_pct(float("nan")) == "n/a" and fmt_pct(None) == "n/a"
    assert fmt_value(0.000176, "percent") == "0.018%"


def test_pct_decimals():
    assert [pct_decimals(v) for v in (0.5, 0.01, 0.005, 0.0005, 0.00005)] == [1, 1, 2, 3, 4]
    assert pct_decimals(1e-12) == 6  # capped
    assert pct_decimals(math.inf) == 1


def test_a_rate_column_stays_distinguishable():
    # the facebook-ads campaigns' clicks / impressions, as the channel page's campaign table shows them
    ctr = pd.DataFrame({"campaign": ["1178", "936", "916"],
                        "CTR": [36_068 / 204_823_716, 1_984 / 8_128_187, 113 / 482_925]})  # 0.0176, 0.0244, 0.0234 %
    text = repr(table(ctr, {"CTR": lambda v: fmt_pct(v, 2)}))
    assert text.splitlines() == ["campaign    CTR", "    1178 0.018%", "     936 0.024%", "     916 0.023%"]
    assert len({fmt_pct(v, 2) for v in (0.000176, 0.000201, 0.000244)}) == 3
