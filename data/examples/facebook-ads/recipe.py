"""Facebook ads export (one row per ad, no dates): campaign spend, impressions, clicks and the
platform's conversions. The export does not say which days it covers; the period below is the
one the recipe states for it, and the spend is spread evenly over its days."""

from kpi_kit.importers import import_files

PERIOD = "2017-08-17..2017-08-30"


def build(dataset, out, report):
    import_files("facebook-ads", [dataset / "KAG_conversion_data.csv"], out, period=PERIOD, report=report)
