"""Olist marketing funnel: leads (all MQLs) with the won date of those that became sellers."""

from kpi_kit.importers import import_files


def build(dataset, out, report):
    here = __file__.rsplit("/", 1)[0]
    import_files("mapping", [dataset / "olist_marketing_qualified_leads_dataset.csv"], out,
                 mapping=f"{here}/contacts.yaml", report=report)
