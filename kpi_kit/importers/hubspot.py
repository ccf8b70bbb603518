"""HubSpot contacts and deals exports (CRM > Contacts / Deals > Export, "all properties").

Contacts: each lifecycle stage's date comes from the classic ``Became a … Date`` column or the newer
``Date entered "… (Lifecycle Stage Pipeline)"`` column, whichever the export has (first non-blank when
it has both). HubSpot has no SAL stage; ``Subscriber``, ``Evangelist`` and ``Other`` are not contract
stages and are left out (counted in the import report). Deals: ``Closed Won`` / ``Closed Lost`` close a
deal; any other stage is open, and its ``Close Date`` is the expected close, not a close.
"""

from __future__ import annotations

import pandas as pd

from ._base import FILLED, Field, Source, split_expected_close

STAGE_LABELS = {"lead_at": "Lead", "mql_at": "Marketing Qualified Lead", "sql_at": "Sales Qualified Lead",
                "opportunity_at": "Opportunity", "customer_at": "Customer"}


def _stage_date(target: str, label: str) -> Field:
    article = "an" if label[0] in "AEIOU" else "a"  # "Became an Opportunity Date"
    return Field(target, (f"Became {article} {label} Date", f"Became a {label} Date",
                          f'Date entered "{label} (Lifecycle Stage Pipeline)"',
                          f"Date entered {label} (Lifecycle Stage Pipeline)"), "date", required=False)


def _contacts(frame: pd.DataFrame, report, options) -> pd.DataFrame:
    label = options["label"]
    unknown = frame["channel"].isna()
    if unknown.any():
        report.say(f"{label}: Original Source: {int(unknown.sum())} contact(s) without a source: channel 'unknown'")
        frame["channel"] = frame["channel"].fillna("unknown")
        report.record(label, FILLED, "Original Source empty", int(unknown.sum()), "channel 'unknown' (the kit's own row for it)")
    if "_lifecycle" in frame:
        counts = frame["_lifecycle"].fillna("(blank)").value_counts()
        report.say(f"{label}: current lifecycle stages: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        other = frame["_lifecycle"].str.lower().isin(["subscriber", "other", "evangelist"])
        if other.any():
            report.say(f"{label}: {int(other.sum())} contact(s) are Subscriber, Evangelist or Other, which are not "
                       "contract stages: kept, with the stage dates they have")
    return frame.drop(columns=["_lifecycle"], errors="ignore")


CONTACTS = Source(
    "hubspot-contacts", "contacts",
    "HubSpot contacts export (Record ID, Create Date, Lifecycle Stage, Original Source, Became a … Date or "
    "Date entered … (Lifecycle Stage Pipeline))",
    (Field("contact_id", ("Record ID", "Contact ID", "Contact id"), "text"),
     Field("created_at", ("Create Date", "Create date"), "date"),
     Field("channel", ("Original Source", "Original source"), "text"),
     Field("self_reported_source", ("How did you hear about us?", "How did you hear about us"), required=False),
     Field("account_id", ("Associated Company ID", "Company ID"), required=False),
     Field("_lifecycle", ("Lifecycle Stage",), required=False),
     *(_stage_date(t, lab) for t, lab in STAGE_LABELS.items())),
    _contacts,
)


def _deals(frame: pd.DataFrame, report, options) -> pd.DataFrame:
    label = options["label"]
    stage = frame["stage"].fillna("").str.strip().str.lower()
    frame["status"] = "open"
    frame.loc[stage.isin(["closed won", "won"]), "status"] = "won"
    frame.loc[stage.isin(["closed lost", "lost"]), "status"] = "lost"
    is_open = frame["status"] == "open"
    moved = split_expected_close(frame, is_open)
    if moved:
        report.say(f"{label}: Close Date of {moved} open deal(s) read as their expected close, not a close")
    # a deal without an Amount keeps it empty (unknown, not 0): the validation step says how many
    if "contact_id" in frame:  # HubSpot lists every associated contact, separated by ';'
        many = frame["contact_id"].str.contains(";", na=False)
        if many.any():
            report.say(f"{label}: {int(many.sum())} deal(s) have several associated contacts: the first is kept")
            frame["contact_id"] = frame["contact_id"].str.split(";").str[0].str.strip()
    return frame


DEALS = Source(
    "hubspot-deals", "deals",
    "HubSpot deals export (Record ID, Deal Stage, Amount, Create Date, Close Date, Pipeline, Deal probability)",
    (Field("deal_id", ("Record ID", "Deal ID"), "text"),
     Field("created_at", ("Create Date", "Create date"), "date"),
     Field("closed_at", ("Close Date", "Close date"), "date", required=False),
     Field("amount", ("Amount", "Amount in company currency"), "money"),
     Field("stage", ("Deal Stage", "Deal stage"), "text"),
     Field("probability", ("Deal probability", "Deal Probability"), "percent", required=False),
     Field("contact_id", ("Associated Contact IDs", "Associated Contact ID", "Contact ID"), required=False),
     Field("channel", ("Original Source Type", "Original Source", "Original source"), required=False)),
    _deals,
)
