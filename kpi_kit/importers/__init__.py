"""Importers: turn the exports analysts have into the data contract's files.

``import_files(source, files, out_dir)`` maps, cleans and validates (with the kit's own contract
checks) every file first, then merges into ``out_dir`` atomically: importing the same file twice
changes nothing, and a malformed export leaves ``out_dir`` as it was.

Examples
--------
>>> report = import_files("google-ads", ["google_ads.csv"], "data/acme")  # doctest: +SKIP
>>> print(report)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..exceptions import KpiKitError
from . import ads, ga4, hubspot, salesforce, stripe
from ._base import ImportReport, Source, map_fields, merge_into, read_export, validate, write_atomically

SOURCES: dict[str, Source] = {s.name: s for s in (
    hubspot.CONTACTS, hubspot.DEALS, salesforce.LEADS, salesforce.OPPORTUNITIES, stripe.SUBSCRIPTIONS,
    ga4.GA4, ads.GOOGLE, ads.LINKEDIN, ads.FACEBOOK)}
SOURCE_NAMES = [*SOURCES, "mapping"]


def import_files(source: str, files, out_dir, *, period: str | None = None, mapping=None) -> ImportReport:
    """Import ``files`` of ``source`` (one of :data:`SOURCE_NAMES`) into the data folder ``out_dir``."""
    options: dict = {"period": period}
    if source == "mapping":
        if not mapping:
            raise KpiKitError("the mapping source needs a mapping YAML. Fix: pass --mapping FILE.")
        from .mapping import load_mapping

        spec, extra = load_mapping(mapping)
        options |= extra
    elif source in SOURCES:
        spec = SOURCES[source]
    else:
        raise KpiKitError(f"unknown source '{source}'. Fix: use one of {', '.join(SOURCE_NAMES)}.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = ImportReport()
    frames = []
    for f in map(Path, files):
        label = f.name
        raw = read_export(f, report, sheet=options.get("sheet"))
        report.say(f"{label}: {len(raw)} row(s), columns {', '.join(raw.columns)}")
        frame, origin = map_fields(raw, spec.fields, report, label, decimal=options.get("decimal", "."),
                                   date_format=options.get("date_format"))
        report.say(f"{label}: mapped " + ", ".join(f"{src} -> {dst}" for dst, src in origin.items()))
        if spec.convert:
            frame = spec.convert(frame, report, options | {"label": label})
        frames.append(validate(frame, spec.target, label, origin))
    new = pd.concat(frames, ignore_index=True)
    text = merge_into(out, spec.target, new, report)  # everything validated before anything is written
    write_atomically({out / f"{spec.target}.csv": text})
    return report


__all__ = ["SOURCES", "SOURCE_NAMES", "ImportReport", "import_files"]
