"""Maven Analytics CRM: the sales pipeline's opportunities as deals (no contacts in this dataset)."""

from kpi_kit.importers import import_files


def build(dataset, out, report):
    here = __file__.rsplit("/", 1)[0]
    import_files("mapping", [dataset / "sales_pipeline.csv"], out, mapping=f"{here}/deals.yaml", report=report)
