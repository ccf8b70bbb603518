"""Salesforce report exports (Reports > Export > Details only, CSV): opportunities and leads.

Opportunities: ``Closed`` and ``Won`` (``1``/``0``, ``true``/``false``) decide won / lost / open; an
open opportunity's ``Close Date`` is its expected close. Leads: a lead is a contact created at
``Created Date``; a converted lead reached SQL at its ``Converted Date`` (Salesforce converts a lead when
sales accepts it) and an MQL date is taken from a ``MQL Date`` column where the org has one.
"""

from __future__ import annotations

import pandas as pd

from ._base import FILLED, Field, Source, split_expected_close

TRUE = {"1", "true", "yes", "y", "t"}


def _flag(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).str.strip().str.lower().isin(TRUE)


def _opportunities(frame: pd.DataFrame, report, options) -> pd.DataFrame:
    label = options["label"]
    closed, won = _flag(frame.pop("_closed")), _flag(frame.pop("_won"))
    frame["status"] = "open"
    frame.loc[closed & won, "status"] = "won"
    frame.loc[closed & ~won, "status"] = "lost"
    split_expected_close(frame, ~closed)
    report.say(f"{label}: {int((closed & won).sum())} won, {int((closed & ~won).sum())} lost, "
               f"{int((~closed).sum())} open (their Close Date read as the expected close)")
    if "channel" in frame and frame["channel"].isna().any():
        report.say(f"{label}: Lead Source: {int(frame['channel'].isna().sum())} opportunity(ies) without a source: "
                   "they take their contact's channel where they have one")
    return frame


OPPORTUNITIES = Source(
    "salesforce-opportunities", "deals",
    "Salesforce opportunity report (Opportunity ID, Created Date, Close Date, Stage, Amount, Probability (%), "
    "Lead Source, Won, Closed)",
    (Field("deal_id", ("Opportunity ID", "Opportunity Id"), "text"),
     Field("created_at", ("Created Date",), "date"),
     Field("closed_at", ("Close Date",), "date"),
     Field("stage", ("Stage",), "text"),
     Field("amount", ("Amount", "Amount (converted)"), "money"),  # blank: unknown, left empty (not 0), reported
     Field("probability", ("Probability (%)", "Probability"), "percent", required=False),
     Field("channel", ("Lead Source",), required=False),
     Field("contact_id", ("Contact ID", "Primary Contact ID"), required=False),
     Field("_won", ("Won",), "text"), Field("_closed", ("Closed",), "text")),
    _opportunities,
)


def _leads(frame: pd.DataFrame, report, options) -> pd.DataFrame:
    label = options["label"]
    frame["lead_at"] = frame["created_at"]
    unknown = frame["channel"].isna()
    if unknown.any():
        report.say(f"{label}: Lead Source: {int(unknown.sum())} lead(s) without a source: channel 'unknown'")
        frame["channel"] = frame["channel"].fillna("unknown")
        report.record(label, FILLED, "Lead Source empty", int(unknown.sum()), "channel 'unknown' (the kit's own row for it)")
    report.say(f"{label}: {int(frame['sql_at'].notna().sum())} converted lead(s): Converted Date read as the SQL date")
    return frame


LEADS = Source(
    "salesforce-leads", "contacts",
    "Salesforce lead report (Lead ID, Created Date, Lead Source, Converted Date, optional MQL Date)",
    (Field("contact_id", ("Lead ID", "Lead Id"), "text"),
     Field("created_at", ("Created Date", "Create Date"), "date"),
     Field("channel", ("Lead Source",), "text"),
     Field("mql_at", ("MQL Date", "Marketing Qualified Date"), "date", required=False),
     Field("sql_at", ("Converted Date",), "date", required=False),
     Field("account_id", ("Converted Account ID", "Company / Account"), required=False)),
    _leads,
)
