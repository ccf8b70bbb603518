"""Small samples on the cohort and unit-economics pages and in kpis.csv (SPEC "Small samples", issue
#15 item 6), on a hand-built client. Expected values by hand.

Client: as_of 2027-01-31, window and churn window 12 months (Feb 2026 – Jan 2027), min_sample 30
(default), gross margin 1. Every subscription is 100 a month.
  segment A: a0..a9 start 2026-01-01 (the Jan cohort, 10 customers); a8 ends 2026-03-10 (churns in
             March), a9 ends 2026-05-10 (churns in May); the other eight pay to as_of.
  segment B: b0..b19 start 2026-02-01 (the Feb cohort, 20 customers); b17..b19 end 2026-04-10
             (churn in April); the other 17 pay to as_of.
Pooled logo retention:
  age 6:  A at July 8 of 10, B at August 17 of 20 -> 25 of 30 (n = 30: read)
  age 11: A at Dec 8 of 10, B at Jan 2027 17 of 20 -> 25 of 30 (the oldest age B reaches)
  age 12: A at Jan 2027 only -> 8 of 10 (n = 10: fewer than 30, marked)
Churn events: A 2 (Mar, May), B 3 (Apr); the trailing 12 months hold all 5.
Exposure (paying at the previous month end): A = 8 × 12 (Feb..Jan) + a8 2 (Feb, Mar) + a9 4 (Feb..May)
= 102; B = 17 × 11 (Mar..Jan) + 3 × 2 (Mar, Apr) = 193.
LTV = ARPU 100 × margin 1 / churn: A = 100 × 102 / 2 = 5,100; B = 100 × 193 / 3 = 6,433.
"""

import html
import math
import re

import pytest

from kpi_kit import load_client, load_params
from kpi_kit.reports import CohortReport, UnitEconomicsReport

YAML = """client: cohorts
data_dir: cohorts
as_of: 2027-01-31
currency: USD
window_months: 12
churn_window_months: 12
stages: [lead, customer]
"""
ENDS = {"a8": "2026-03-10", "a9": "2026-05-10", "b17": "2026-04-10", "b18": "2026-04-10", "b19": "2026-04-10"}


def write_client(tmp_path):
    ids = [(f"a{i}", "2026-01-01", "A") for i in range(10)] + [(f"b{i}", "2026-02-01", "B") for i in range(20)]
    subs = ["subscription_id,customer_id,start_date,end_date,amount,billing_period_months"]
    subs += [f"s{c},{c},{start},{ENDS.get(c, '')},100,1" for c, start, _ in ids]
    customers = ["customer_id,contact_id,segment"] + [f"{c},,{seg}" for c, _, seg in ids]
    folder = tmp_path / "cohorts"
    folder.mkdir()
    (folder / "subscriptions.csv").write_text("\n".join(subs) + "\n")
    (folder / "customers.csv").write_text("\n".join(customers) + "\n")
    (folder / "contacts.csv").write_text("contact_id,created_at,channel,lead_at\nK1,2026-01-05,web,2026-01-05\n")
    (tmp_path / "cohorts.yaml").write_text(YAML)
    return load_client(load_params(tmp_path / "cohorts.yaml"))


@pytest.fixture
def data(tmp_path):
    return write_client(tmp_path)


def rows(block) -> list[list[str]]:
    """A table block's body cells as plain text (tags dropped, the n of a marked cell kept)."""
    body = block._repr_html_().split("<tbody>")[1]
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in body.split("</tr>") if "<td" in row]


def marked(block) -> list[str]:
    """The cells a table greys as resting on a small sample."""
    return [html.unescape(re.sub(r"<[^>]+>", "", c))
            for c in re.findall(r'<td[^>]*class="[^"]*kk-small[^"]*"[^>]*>(.*?)</td>', block._repr_html_(), re.S)]


def tables(section) -> list:
    return [p for p in section.parts if hasattr(p, "_repr_html_") and "<table" in p._repr_html_()]


def test_kpi_rows_carry_n_and_a_wilson_interval_for_logo_retention_only(data):
    from kpi_kit.metrics import compute

    book = compute(data).book
    six = book.get("logo_retention", "all cohorts", "age", "6 months")
    assert six.value == pytest.approx(25 / 30) and six.n == 30
    # Wilson 25 of 30: centre (25/30 + z²/60) / (1 + z²/30) = 0.89736 / 1.12805 = 0.7955,
    # half 1.96 × sqrt((25/30)(5/30)/30 + z²/3600) / 1.12805 = 0.1311 -> 0.6644 .. 0.9266
    assert (six.low, six.high) == pytest.approx((0.6644, 0.9266), abs=1e-4)
    twelve = book.get("logo_retention", "all cohorts", "age", "12 months")
    assert twelve.value == 0.8 and twelve.n == 10 and (twelve.low, twelve.high) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    revenue = book.get("revenue_retention", "all cohorts", "age", "6 months")
    assert revenue.value == pytest.approx(2500 / 3000) and revenue.n == 30  # customers behind it
    assert math.isnan(revenue.low) and math.isnan(revenue.high)  # MRR over MRR: no interval
    # by segment: A at 6 months, 8 of 10 -> the same interval as above
    a6 = book.get("logo_retention", "all cohorts", "segment/age", "A/6 months")
    assert (a6.value, a6.n) == (0.8, 10) and (a6.low, a6.high) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    b12 = book.get("logo_retention", "all cohorts", "segment/age", "B/12 months")
    assert math.isnan(b12.value) and b12.n == 0  # no B customer is a year old


def test_the_average_curve_section_reads_no_value_over_few_customers(data, kit_style):
    r = CohortReport(data)
    s = r.section("average")
    assert s.takeaway == (
        "One-year retention rests on only 10 customers in 1 cohort old enough (fewer than 30): too few to read "
        "yet; after 11 months, 83% of customers still pay (30 customers behind this point). From 12 months on, "
        "fewer than 30 customers are old enough to stand behind each point (dotted in the chart, greyed in the "
        "table): the curve is not read there.")
    curve = tables(s)[0]
    # ages 1, 3, 6, 9 rest on 30 customers (read); 12 on 10 (marked with its n). Intervals (Wilson):
    # 30 of 30 -> 0.886..1; 26 of 30 -> 0.703..0.947; 25 of 30 -> 0.664..0.927; 8 of 10 -> 0.490..0.943
    assert rows(curve) == [
        ["1 month", "2", "30", "100.0%", "88.6%–100.0%", "100.0%"],
        ["3 months", "2", "30", "86.7%", "70.3%–94.7%", "86.7%"],  # A at Apr 9 of 10 (a9 still pays), B 17 of 20
        ["6 months", "2", "30", "83.3%", "66.4%–92.7%", "83.3%"],
        ["9 months", "2", "30", "83.3%", "66.4%–92.7%", "83.3%"],
        ["12 months", "1", "10", "80.0% n=10", "49.0%–94.3%", "80.0% n=10"]]
    assert marked(curve) == ["80.0% n=10", "80.0% n=10"]


def test_the_headline_card_over_few_customers_says_so(data, kit_style):
    text = repr(CohortReport(data).kpis())
    # a pooled card names the cohorts it pools: those below the minimum cohort size are left out
    assert "Logo retention at 6 months (all cohorts of 10+ customers): 83.3%" in text.splitlines()
    assert ("Logo retention at 12 months (all cohorts of 10+ customers; 10 customers: too few to read): 80.0%"
            in text.splitlines())
    assert "Pooled retention covers every cohort (none has fewer than 10 customers)." in text


def test_retention_by_segment_marks_each_value_with_its_n_and_ranks_none(data, kit_style):
    s = CohortReport(data).section("by_segment")
    # neither segment has 30 customers a year old (A 10, B 0): none named for 12-month retention; the churn
    # rate column (churn events / paying customer-months, 102 and 193 of them) is ranked, its basis named
    assert s.takeaway == ("No segment has 30 customers a year old yet, so none is named for 12-month retention (the "
                          "greyed values rest on fewer, their n shown); on monthly logo churn over the trailing 12 "
                          "months, A churns fastest (2.0%: 2 churn events in 102 paying customer-months) and B "
                          "slowest (1.6%: 3 churn events in 193 paying customer-months), a gap not significant at 5 %.")
    t = tables(s)[0]
    a, b = rows(t)
    # A: 8 of 10 at 6 and 12 months, no A customer is 24 months old; revenue over the first 6 months:
    # 8 × 600 + a8 200 + a9 400 = 5,400 / 10 = $540 ; first 12: 8 × 1,200 + 200 + 400 = 10,200 / 10 = $1,020
    # churn rate 2 / 102 = 2.0%
    assert a == ["A", "10", "80.0% n=10", "80.0% n=10", "n/a", "2.0%", "$540 n=10", "$1,020 n=10", "n/a",
                 "$5,100 (2 churn events)"]
    # B: 17 of 20 at 6 months (b17..b19 gone); churn 3 / 193; first 6 months 17 × 600 + 3 × 200 = 10,800 / 20
    # churn rate 3 / 193 = 1.6%
    assert b == ["B", "20", "85.0% n=20", "n/a", "n/a", "1.6%", "$540 n=20", "n/a", "n/a",
                 "$6,433 (3 churn events)"]
    assert "$5,100 (2 churn events)" in marked(t) and "85.0% n=20" in marked(t)


def test_unit_economics_counts_the_churn_events_behind_each_ltv(data, kit_style):
    r = UnitEconomicsReport(data)
    s = r.section("by_segment")
    t = tables(s)[0]
    header = re.findall(r"<th>(.*?)</th>", t._repr_html_())
    events, ltv = header.index("churn events"), header.index("LTV")
    # a segment's LTV:CAC or payback would divide by the blended CAC: neither is shown, and a line says why
    assert not {"LTV:CAC", "CAC (blended)", "payback months"} & set(header)
    assert "costs are not split by segment" in repr(s)
    assert [(row[0], row[events], row[ltv]) for row in rows(t)] == [("A", "2", "$5,100 (2 churn events)"),
                                                                    ("B", "3", "$6,433 (3 churn events)")]
    assert marked(t)[:1] == ["$5,100 (2 churn events)"]
    # neither LTV rests on 30 churn events: none is named highest or lowest
    assert "highest" not in s.takeaway and s.takeaway.endswith(
        "2 LTVs rest on fewer than 30 churn events (greyed, with the count) and are not ranked.")
    assert s.takeaway.startswith("Each segment's LTV divides its ARPU by its churn over the trailing 12 months, as "
                                 "the headline LTV ($6,848, 5 churn events) does;")
    # the headline LTV keeps its value and names the churn events it rests on (5 in Feb 2026 – Jan 2027)
    figures = rows(tables(r.section("key_figures"))[0])
    assert [row[0] for row in figures if row[0].startswith("LTV (")] == [
        "LTV (churn over trailing 12 months: only 5 churn events)"]
    # churned MRR by segment rests on 5 churned customers: no segment is named as the driver
    assert r.section("reading").takeaway.endswith(
        "Churned MRR by segment rests on only 5 churned customers: too few to say which segment drives it.")


# -- every monthly cohort small: the heatmaps pool them by quarter (issue #34) -----------------------------------
def test_every_monthly_cohort_small_pools_the_heatmaps_by_quarter(data, kit_style):
    """The Jan (10) and Feb (20) cohorts both have fewer than 30 customers: a monthly heatmap would be
    greyed entirely, so it draws the 2026Q1 cohort (30 customers, read) instead, and says why."""
    r = CohortReport(data)
    assert r.grain == "month" and r.pooled_by_quarter
    for name, value in (("logo_retention", "Logo"), ("revenue_retention", "Revenue")):
        s = r.section(name)
        ax = s.parts[0]
        assert ax.get_title(loc="left") == f"{value} retention by quarter of first payment"
        assert ax.get_xlabel() == "Quarters since first payment"
        assert [t.get_text() for t in ax.get_yticklabels()] == ["2026Q1 (n=30)"]
        assert not [p for p in ax.patches if p.get_alpha() == 0.55]  # no greyed row
        assert "pools them by quarter of first payment" in str(s.takeaway)
    logo = r.section("logo_retention").parts[0].images[0].get_array()
    # read at each quarter's end: March (a8 gone: 29 of 30), June (a8, a9, b17..b19 gone: 25 of 30)
    assert logo[0, 0] == pytest.approx(29 / 30) and logo[0, 1] == pytest.approx(25 / 30)


def test_monthly_cohorts_stay_monthly_when_one_is_big_enough(tmp_path, kit_style):
    """With min_sample and min_cohort_size at 15, the Feb cohort (20) reads alone: no pooling, Jan greyed."""
    write_client(tmp_path)
    (tmp_path / "cohorts.yaml").write_text(YAML + "min_sample: 15\nmin_cohort_size: 15\n")
    r = CohortReport(load_client(load_params(tmp_path / "cohorts.yaml")))
    assert not r.pooled_by_quarter
    s = r.section("logo_retention")
    assert s.parts[0].get_title(loc="left") == "Logo retention by month of first payment"
    assert s.takeaway.startswith("1 cohort drawn has fewer than 15 customers")
