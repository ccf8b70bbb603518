"""The data contract (SPEC "Data contract") as one declarative table.

Every check of a client's files is driven from :data:`CONTRACT`, so the docs, the
loader and the importers read the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STAGE_COLUMNS = ("lead_at", "mql_at", "sal_at", "sql_at", "opportunity_at", "customer_at")


UNKNOWN = "unknown"  # the channel (or segment) of rows whose source gave none: a row of its own, never dropped

@dataclass(frozen=True)
class Column:
    """One column of a contract file.

    ``kind`` decides parsing and checks: ``id`` (non-empty text), ``text``,
    ``date`` (ISO day; a timestamp is truncated to its own calendar day, an offset such as
    ``-05:00`` dropped, not applied), ``money`` and ``count`` (numbers
    >= 0), ``probability`` (0..1), ``number`` (any real), ``months`` (integer >= 1).

    ``unknown_ok``: a required column whose cells may be empty. An empty cell is a value the source
    did not give: unknown, never read as 0 (SPEC "Real data": unknown is not zero). Sums leave such
    rows out and the report counts them.
    """

    name: str
    kind: str
    required: bool = False
    unique: bool = False
    description: str = ""
    unknown_ok: bool = False


@dataclass(frozen=True)
class FileSpec:
    stem: str
    columns: tuple[Column, ...]
    description: str = ""
    required: bool = False
    channel_columns: tuple[str, ...] = field(default=())
    # the date a row entered the file: rows dated after as_of have not happened, and a file's
    # coverage starts with its first such date (kpi_kit.metrics.coverage)
    entry: str | None = None
    # a file whose rows may cover several days (a weekly export, spend over a date range): the
    # columns spread evenly over a row's days at load (kpi_kit.data.spread_rows); the other columns
    # (an average, a channel) are the same on each day
    spread: tuple[str, ...] = field(default=())

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


# the optional last day of a row that covers several days (SPEC "Multi-day rows")
DATE_END = ("last day the row covers, included (a weekly row: its Sunday); empty = the file's row "
            "grain (one day unless the client's parameters say week or month)")


def _c(name, kind, required=False, unique=False, description="", unknown_ok=False):
    return Column(name, kind, required, unique, description, unknown_ok)


CONTRACT: dict[str, FileSpec] = {
    f.stem: f
    for f in (
        FileSpec(
            "contacts",
            (
                _c("contact_id", "id", True, True, "unique contact key"),
                _c("created_at", "date", True, description="the contact's creation date"),
                _c("channel", "text", True, description="raw source, mapped by channel_map"),
                *(_c(s, "date", description=f"date the contact reached {s[:-3]}") for s in STAGE_COLUMNS),
                _c("segment", "text"),
                _c("account_id", "text"),
                _c("self_reported_source", "text", description="'how did you hear about us'"),
            ),
            "one row per contact (lead, person) with the date of each funnel stage",
            required=True,
            channel_columns=("channel",),
            entry="created_at",
        ),
        FileSpec(
            "deals",
            (
                _c("deal_id", "id", True, True),
                _c("created_at", "date", True),
                _c("status", "text", True, description="open, won or lost"),
                # the column is required, a cell may be empty: the CRM gave no value (e.g. open deals
                # not yet priced). Unknown, not 0: left out of every amount sum and counted.
                _c("amount", "money", True, description="empty = unknown (left out of sums, counted)",
                   unknown_ok=True),
                _c("closed_at", "date", description="required when won or lost"),
                _c("contact_id", "text"),
                _c("channel", "text"),
                _c("probability", "probability", description="0..1, for open deals"),
                _c("stage", "text"),
                _c("expected_close_at", "date", description="expected close of an open deal (kit addition)"),
            ),
            "one row per deal (opportunity)",
            channel_columns=("channel",),
            entry="created_at",
        ),
        FileSpec(
            "revenue",
            (
                _c("date", "date", True),
                _c("amount", "money", True, description="empty = unknown (left out of sums, counted)",
                   unknown_ok=True),
                _c("channel", "text"),
                _c("date_end", "date", description=DATE_END),
            ),
            "revenue recorded without a sales process (orders, daily or weekly bookings, media-mix "
            "revenue): counted as bookings, never as won deals (kit addition)",
            channel_columns=("channel",),
            entry="date",
            spread=("amount",),
        ),
        FileSpec(
            "subscriptions",
            (
                _c("subscription_id", "id", True, True),
                _c("customer_id", "id", True),
                _c("start_date", "date", True),
                _c("amount", "money", True, description="price per billing period"),
                _c("billing_period_months", "months", True, description="1 monthly, 12 annual"),
                _c("end_date", "date", description="empty = active"),
                _c("discount", "money", description="per billing period, deducted"),
            ),
            "one row per subscription; MRR is derived from it",
            entry="start_date",
        ),
        FileSpec(
            "mrr",
            (
                _c("customer_id", "id", True),
                _c("month", "date", True, description="first day of the month"),
                _c("mrr", "money", True),
            ),
            "month-end MRR per customer (alternative to subscriptions)",
            entry="month",
        ),
        FileSpec(
            "customers",
            (
                _c("customer_id", "id", True, True),
                _c("contact_id", "text"),
                _c("channel", "text"),
                _c("segment", "text"),
            ),
            "one row per paying customer, linking it to its contact, channel and segment",
            channel_columns=("channel",),
        ),
        FileSpec(
            "spend",
            (
                _c("date", "date", True),
                _c("channel", "text", True),
                _c("spend", "money", True),
                _c("campaign", "text"),
                _c("impressions", "count"),
                _c("clicks", "count"),
                _c("conversions", "count", description="conversions the ad platform reports (kit addition)"),
                _c("date_end", "date", description=DATE_END),
            ),
            "media and programme spend by day (or any date) and channel",
            channel_columns=("channel",),
            entry="date",
            spread=("spend", "impressions", "clicks", "conversions"),
        ),
        FileSpec(
            "traffic",
            (
                _c("date", "date", True),
                _c("channel", "text", True),
                _c("sessions", "count", True),
                _c("users", "count"),
                _c("avg_session_seconds", "count"),
                _c("engaged_sessions", "count"),
                _c("date_end", "date", description=DATE_END),
            ),
            "website sessions by day and channel",
            channel_columns=("channel",),
            entry="date",
            spread=("sessions", "users", "engaged_sessions"),
        ),
        FileSpec(
            "touches",
            (
                _c("contact_id", "id", True),
                _c("touched_at", "date", True),
                _c("channel", "text", True),
                _c("campaign", "text"),
            ),
            "marketing touches per contact, for attribution",
            channel_columns=("channel",),
            entry="touched_at",
        ),
        FileSpec(
            "costs",
            (
                _c("month", "date", True),
                _c("category", "text", True, description="mapped by cost_groups"),
                _c("amount", "money", True),
            ),
            "monthly costs by category (salaries, tools, hosting, ...)",
            entry="month",
        ),
        FileSpec(
            "engagement",
            (
                _c("date", "date", True),
                _c("metric", "text", True),
                _c("value", "count", True),
                _c("date_end", "date", description=DATE_END),
            ),
            "social engagement, webinar and event attendance, ...",
            entry="date",
            spread=("value",),
        ),
        FileSpec(
            "targets",
            (
                _c("metric", "text", True),
                _c("period_start", "date", True),
                _c("period_end", "date", True),
                _c("target", "number", True),
            ),
            "targets / OKRs per metric and period",
        ),
    )
}


def contract_markdown() -> str:
    """The contract as a Markdown table (the README's table is tested against it)."""
    lines = ["| file | required columns | optional columns |", "|---|---|---|"]
    for spec in CONTRACT.values():
        req = ", ".join(f"`{c.name}`" for c in spec.columns if c.required)
        opt = ", ".join(f"`{c.name}`" for c in spec.columns if not c.required)
        lines.append(f"| `{spec.stem}`{' (required)' if spec.required else ''} | {req} | {opt} |")
    return "\n".join(lines)


def update_readme(path) -> None:
    """Replace the table between ``<!-- contract:start -->`` and ``<!-- contract:end -->`` in ``path``."""
    from pathlib import Path

    path = Path(path)
    text = path.read_text(encoding="utf-8")
    start, end = "<!-- contract:start -->", "<!-- contract:end -->"
    a, b = text.index(start) + len(start), text.index(end)
    path.write_text(text[:a] + "\n" + contract_markdown() + "\n" + text[b:], encoding="utf-8")
