"""Report building blocks rendered as HTML in the notebooks: header, KPI strip, tables,
data-quality section. Values come from :mod:`kpi_kit.metrics`; nothing here computes a metric.

Every block also has a plain-text rendering, which is what nbval compares.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._dates import Window, to_day
from ..data import ClientData
from ..formatting import NA, NO_DATA, fmt_pct, fmt_pp, fmt_value, is_missing

CSS_FILE = "templates/kpi_report/static/blocks.css"


def _read_css() -> str:
    from importlib import resources

    return resources.files("kpi_kit").joinpath(CSS_FILE).read_text(encoding="utf-8")


# The blocks' one stylesheet (kpi_kit/templates/kpi_report/static/blocks.css): every block carries it
# inline so that it looks right alone in JupyterLab; the exported page strips these copies and
# includes the file once (kpi_kit.run.pages).
CSS = f"\n<style>\n{_read_css()}</style>\n"


class Block:
    """Displayable report block: HTML for the report, text for nbval."""

    def __init__(self, html_text: str, plain: str):
        self._html, self._plain = html_text, plain

    def _repr_html_(self) -> str:
        return self._html

    def __repr__(self) -> str:
        return self._plain


# -- header ---------------------------------------------------------------------------------
def header(title: str, data: ClientData, window: Window) -> Block:
    """Client, period (window and as_of), currency and data freshness per file."""
    p = data.params
    fresh = ", ".join(
        f"{stem} {d:%Y-%m-%d}" for stem, d in data.quality.latest_date.items() if d is not None
    )
    sub = (f"{html.escape(p.client)} · window {window.label()} ({plural(p.window_months, 'full month')}) · "
           f"as of {p.as_of:%d %b %Y} · currency {html.escape(p.currency)}")
    ended = coverage_warning(data)
    warn = f'<div class="kk-warn">{html.escape(ended)}</div>' if ended else ""
    body = (f'{CSS}<div class="kk-header"><h1>{html.escape(title)}</h1><div class="kk-sub">{sub}</div>'
            f'<div class="kk-fresh">Latest date seen per file: {fresh}</div>{warn}</div>')
    return Block(body, f"{title}\n{sub}\nLatest date seen per file: {fresh}" + (f"\n{ended}" if ended else ""))


def coverage_warning(data: ClientData) -> str:
    """The header's line naming every source that stopped more than a month before ``as_of``
    (:meth:`kpi_kit.metrics.coverage.Coverage.ended`); empty when none did."""
    from ..metrics.coverage import Coverage

    ended = Coverage(getattr(data.quality, "date_range", {}), to_day(data.params.as_of)).ended()
    if not ended:
        return ""
    by_end: dict = {}  # one phrase per file and last date: "contacts created and mql dates end 31 May 2018"
    for stem, column, last in ended:
        by_end.setdefault((stem, last), []).append(column.removesuffix("_at").replace("_", " "))
    parts = [f"{stem} {', '.join(cols[:-1]) + ' and ' if len(cols) > 1 else ''}{cols[-1]} dates end {last:%d %b %Y}"
             for (stem, last), cols in by_end.items()]
    return (f"Data ends before as of: {'; '.join(parts)}. Later months show no data, and comparisons "
            "with them are n/a.")


# -- KPI strip ------------------------------------------------------------------------------
@dataclass
class KPI:
    """One headline number with its comparisons (NaN when unknown). ``key`` names the KPI-table row
    it shows (``metric|period|dimension|value``), which the page marks for the consistency check."""

    label: str
    value: float
    unit: str = "count"
    previous: float = float("nan")
    year_ago: float = float("nan")
    target: float = float("nan")
    higher_is_better: bool = True
    key: str = ""
    compared: bool = True  # False: a value with no comparison (a window's LTV:CAC), no "vs ..." lines
    no_data: bool = False  # the period lies outside its source's coverage: "no data", not n/a
    previous_why: str = ""  # why a comparison is n/a although both values exist (coverage)
    year_ago_why: str = ""

    @classmethod
    def of(cls, book, label: str, metric: str, period: str = "window", *, previous: str | None = None,
           year_ago: str | None = None, higher_is_better: bool | None = None, dimension: str = "",
           dimension_value: str = "") -> KPI:
        """A card for KPI-table row ``(metric, period)``, compared with the rows of the same metric for
        the ``previous`` and ``year_ago`` periods."""
        from ..metrics.catalogue import BY_NAME

        k = book.get(metric, period, dimension, dimension_value)
        better = BY_NAME[metric].higher_is_better if higher_is_better is None and metric in BY_NAME \
            else higher_is_better if higher_is_better is not None else True

        def base(other: str | None) -> tuple[float, str]:
            """A comparison base's value, or NaN and why, when either period is not fully covered."""
            b = book.find(metric, other, dimension, dimension_value) if other else None
            if b is None:
                return float("nan"), ""
            why = coverage_why(k.coverage, b.coverage)
            return (float("nan"), why) if why else (b.value, "")

        (prev, prev_why), (year, year_why) = base(previous), base(year_ago)
        return cls(label, k.value, k.unit, prev, year, higher_is_better=better, key=k.key,
                   compared=bool(previous or year_ago), no_data=k.coverage == "none",
                   previous_why=prev_why, year_ago_why=year_why)

    def change(self, other: float) -> float:
        """A rate's change in percentage points; a count's or an amount's relative change."""
        if is_missing(other) or is_missing(self.value):
            return float("nan")
        if self.unit == "percent":
            return (self.value - other) * 100
        return float("nan") if other == 0 else self.value / other - 1


def coverage_why(current: str, base: str) -> str:
    """Why a change between two periods is n/a because of coverage (kpi_kit.metrics.coverage);
    empty when both periods are fully covered.

    Examples
    --------
    >>> coverage_why("full", "none"), coverage_why("full", "partial"), coverage_why("partial", "full")
    ('no data then', 'partial data then', 'partial data now')
    """
    if current == "none":
        return ""  # the value itself reads "no data"
    if base != "full":
        return "no data then" if base == "none" else "partial data then"
    return "partial data now" if current != "full" else ""


def _delta_html(kpi: KPI, other: float, label: str, why: str = "") -> tuple[str, str]:
    ch = kpi.change(other)
    if why:
        return f"{label}: {NA} ({html.escape(why)})", f"{label} {NA} ({why})"
    if is_missing(ch):
        return f"{label}: {NA}", f"{label} {NA}"
    good = (ch >= 0) == kpi.higher_is_better
    cls = "kk-good" if good else "kk-bad"
    text = fmt_pp(ch) if kpi.unit == "percent" else fmt_pct(ch, signed=True)
    return f'{label}: <span class="{cls}">{text}</span>', f"{label} {text}"


def kpi_attrs(key: str) -> str:
    """The HTML attribute marking a shown value as KPI-table row ``key``."""
    return f' data-kpi="{html.escape(key)}"' if key else ""


def kpi_strip(kpis: list[KPI], currency: str = "USD", *, previous_label: str | None = "vs prev. period",
              year_label: str | None = "vs year earlier") -> Block:
    """Cards with value, change vs the previous period and a year earlier (a label of None leaves
    that comparison out), and the target where there is one."""
    cards, lines = [], []
    for k in kpis:
        value = NO_DATA if k.no_data else fmt_value(k.value, k.unit, currency)
        deltas_h, deltas_t = [], []
        if previous_label and k.compared:
            d1h, d1t = _delta_html(k, k.previous, previous_label, k.previous_why)
            deltas_h.append(d1h)
            deltas_t.append(d1t)
        if year_label and k.compared:
            d2h, d2t = _delta_html(k, k.year_ago, year_label, k.year_ago_why)
            deltas_h.append(d2h)
            deltas_t.append(d2t)
        if not is_missing(k.target):
            attained = k.value / k.target if k.target else float("nan")
            good = (attained >= 1) == k.higher_is_better
            cls = "kk-good" if good else "kk-bad"
            deltas_h.append(f'target {html.escape(fmt_value(k.target, k.unit, currency))}: '
                            f'<span class="{cls}">{fmt_pct(attained, 0)} attained</span>')
            deltas_t.append(f"target {fmt_value(k.target, k.unit, currency)} ({fmt_pct(attained, 0)})")
        cards.append(f'<div class="kk-kpi"><div class="kk-label">{html.escape(k.label)}</div>'
                     f'<div class="kk-value"{kpi_attrs(k.key)}>{html.escape(value)}</div><div class="kk-delta">'
                     + "<br>".join(deltas_h) + "</div></div>")
        lines.append(f"{k.label}: {value}" + (f" ({'; '.join(deltas_t)})" if deltas_t else ""))
    return Block(CSS + '<div class="kk-strip">' + "".join(cards) + "</div>", "\n".join(lines))


# -- text -----------------------------------------------------------------------------------
def plural(n, word: str, words: str | None = None) -> str:
    """``n`` and the noun agreeing with it: ``1 full month``, ``2 full months``, ``0.5 customers``."""
    count = f"{n:,}" if isinstance(n, int) else str(n)
    return f"{count} {word if n == 1 else (words or word + 's')}"


def trailing(n: int) -> str:
    """A label's span: "trailing 6 months", "trailing month" (never "trailing 1 months")."""
    return "trailing month" if n == 1 else f"trailing {n} months"


def note(text) -> Block:
    """One sentence of takeaway above a chart or table (a :class:`Block` passes through)."""
    if isinstance(text, Block):
        return text
    return Block(f'<p class="kk-note">{html.escape(text)}</p>', text)


def not_shown_text(section: str, needs: str) -> str:
    """The one line saying a section is not shown and what it needs."""
    return f"{section}: needs {needs} (not in this client's data)."


def missing(section: str, needs: str) -> Block:
    """The line a section shows when the client's data cannot support it (through
    :meth:`kpi_kit.reports.section.Section.not_shown`, the one way to say so). An exported page
    gathers these lines into one "Not shown" list (:mod:`kpi_kit.run.pages`)."""
    text = not_shown_text(section, needs)
    return Block(CSS + f'<div class="kk-missing">{html.escape(text)}</div>', text)


# -- display names --------------------------------------------------------------------------
# A column a frame names by a key or a lower-case abbreviation, as a client reads it (SPEC
# "Vocabulary": "Language"); any other key with an underscore takes the metric catalogue's display
# name (kpi_kit.metrics.catalogue), or its words.
HEADERS = {"cpl": "CPL", "cpc": "CPC", "ctr": "CTR", "cac": "CAC", "roi": "ROI", "mer": "MER", "arpu": "ARPU",
           "ltv": "LTV", "mqls": "MQLs", "sqls": "SQLs", "sals": "SALs", "sqos": "SQOs", "paid cac": "paid-media CAC",
           "cac paid only": "paid-media CAC", "cost per mql": "cost per MQL", "cost per sqo": "cost per SQO",
           "ltv to cac": "LTV:CAC", "lag_months": "lag (months)", "lag months": "lag (months)"}


def display_name(column) -> str:
    """The header a table shows for frame column ``column``: its words, never a key.

    Examples
    --------
    >>> display_name("cpl"), display_name("new_mrr"), display_name("lag_months"), display_name("won deals")
    ('CPL', 'new MRR', 'lag (months)', 'won deals')
    """
    from ..metrics.catalogue import BY_NAME

    text = str(column)
    if text.lower() in HEADERS:
        return HEADERS[text.lower()]
    if "_" not in text:
        return text
    label = BY_NAME[text].label if text in BY_NAME else text.replace("_", " ")
    return label[0].lower() + label[1:] if label[1:2].islower() else label  # "Cost per MQL" -> "cost per MQL"


# -- tables ---------------------------------------------------------------------------------
def alert(lines: list[str]) -> Block:
    """Warnings (a rising volume with a falling conversion, a divergence), one line each."""
    return Block(CSS + '<div class="kk-alert">⚠ ' + "<br>⚠ ".join(html.escape(x) for x in lines) + "</div>",
                 "\n".join(lines))


def small_sample_text(min_sample: int, noun: str = "items") -> str:
    """The line under a table or chart with small-sample rates (SPEC "Small samples")."""
    return (f"Greyed rates rest on fewer than {min_sample:,} {noun} (their n shown): shown, but too few to "
            "rank or compare.")


def small_cells(values, n, min_sample: int | None) -> np.ndarray:
    """Per cell: a defined rate over fewer than ``min_sample`` base items ``n`` (a rate that is n/a
    has nothing to mark). All False without ``min_sample``."""
    values = np.asarray(pd.Series(values, dtype="float64"))
    if min_sample is None:
        return np.zeros(len(values), bool)
    n = np.asarray(pd.Series(n, dtype="float64"))
    return ~np.isnan(values) & ~(n >= min_sample)  # an unknown n is a small one


def table(df: pd.DataFrame, formats: dict | None = None, *, muted=None, index: bool = False,
          currency: str = "USD", kpis: dict | None = None, caption: str | None = None,
          classes: dict | None = None, samples: dict | None = None, min_sample: int | None = None,
          sample_noun: str = "items", collapse: bool = False) -> Block:
    """Format a frame consistently: ``formats`` maps a column to a unit (``money``, ``percent``,
    ``count``, ``days``, ``pp``, ``ratio``, ``text``) or a callable. NaN prints as n/a.

    ``kpis`` maps a column to a function of the row's position giving the KPI-table key its cell
    shows (see :func:`kpi_attrs`). ``caption`` names the table above it. ``classes`` maps a column to
    a function of a cell's value giving its CSS class (``kk-good``, ``kk-bad``) or None.

    ``samples`` maps a rate column to its base counts (one per row): a rate over fewer than
    ``min_sample`` of them is greyed and followed by its n (``62.5% n=8``), and a line under the
    table, naming ``sample_noun``, says why (:func:`small_sample_text`).

    ``collapse``: the table repeats a chart beside it, so it is folded under its caption (a
    ``<details>`` the reader opens; printed open). A table wider than :data:`NARROW` columns keeps its
    first column in view while it scrolls sideways on a phone (``kk-wide``)."""
    formats = formats or {}
    df = df.reset_index() if index else df
    shown = pd.DataFrame(index=df.index)
    for col in df.columns:
        unit = formats.get(col)
        if callable(unit):
            shown[col] = [unit(v) for v in df[col]]
        elif unit == "pp":
            from ..formatting import fmt_pp

            shown[col] = [fmt_pp(v) for v in df[col]]
        elif unit in (None, "text"):
            shown[col] = [NA if is_missing(v) else str(v) for v in df[col]]
        else:
            shown[col] = [fmt_value(v, unit, currency) for v in df[col]]
    muted = np.zeros(len(df), bool) if muted is None else np.asarray(muted, bool)
    head = "".join(f"<th>{html.escape(display_name(c))}</th>" for c in shown.columns)
    kpis, classes = kpis or {}, classes or {}
    keyed = [kpis.get(c) for c in shown.columns]
    styled = [classes.get(c) for c in shown.columns]
    # small-sample cells: (column position, row) -> n; the plain text carries the n as well
    small = {}
    for col, n in (samples or {}).items():
        if col not in df.columns:
            continue
        n = list(n)
        flagged = small_cells(pd.to_numeric(df[col], errors="coerce"), n, min_sample)
        j = list(df.columns).index(col)
        for i in np.flatnonzero(flagged):
            small[j, i] = n[i]
            shown.iloc[i, j] = f"{shown.iloc[i, j]} ({_n(n[i])})"

    def cell(i: int, j: int, text: str, key, style, raw) -> str:
        cls = [c for c in (style(raw) if style else None, "kk-small" if (j, i) in small else None) if c]
        attrs = (kpi_attrs(key(i)) if key else "") + (f' class="{" ".join(cls)}"' if cls else "")
        if (j, i) in small:  # the value first: the consistency check reads the first number of a cell
            value = text[:text.rindex(" (")]
            return (f'<td{attrs} title="fewer than {min_sample:,} {html.escape(sample_noun)}">{html.escape(value)}'
                    f' <span class="kk-n">{_n(small[j, i])}</span></td>')
        return f"<td{attrs}>{html.escape(text)}</td>"

    rows = "".join(
        f'<tr{" class=kk-muted" if m else ""}>' + "".join(
            cell(i, j, v, k, st, raw) for j, (v, k, st, raw) in enumerate(zip(r, keyed, styled, df.iloc[i])))
        + "</tr>"
        for i, (r, m) in enumerate(zip(shown.itertuples(index=False), muted))
    )
    # a wide table scrolls inside the page instead of running past its edge, its first column in view
    wide = len(shown.columns) > NARROW
    box = "kk-scroll kk-wide" if wide else "kk-scroll"
    hint = f'<p class="kk-scrollhint">{len(shown.columns)} columns: scroll sideways →</p>' if wide else ""
    body = (f'{hint}<div class="{box}"><table class="kk-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{rows}</tbody></table></div>')
    text = shown.set_axis([display_name(c) for c in shown.columns], axis=1).to_string(index=False)
    if small:
        line = small_sample_text(min_sample, sample_noun)
        body += f'<p class="kk-smallnote">{html.escape(line)}</p>'
        text += "\n" + line
    if collapse:
        body = details(caption or "Table", body)
    elif caption:
        body = f'<p class="kk-caption">{html.escape(caption)}</p>' + body
    if caption:
        text = f"{caption}\n{text}"
    return Block(CSS + body, text)


NARROW = 4  # a table of up to this many columns fits a phone's width; a wider one scrolls


def details(summary: str, body: str) -> str:
    """``body`` folded under ``summary`` (its caption), opened by the reader; the print opens it."""
    return (f'<details class="kk-more"><summary class="kk-caption">{html.escape(summary)}</summary>'
            f'{body}</details>')


def collapsed(block: Block, summary: str) -> Block:
    """A block (a table that repeats the cards or a chart above it) folded under ``summary``."""
    body = block._repr_html_().replace(CSS, "")
    return Block(CSS + details(summary, body), f"{summary}\n{block!r}")


def _n(n) -> str:
    """A base count as a table shows it next to a marked rate: ``n=8``, ``n=1,204``, ``n=?``."""
    return "n=?" if is_missing(n) else f"n={n:,.0f}"


def _contract_words(text: str) -> str:
    """An import note with the kit's own column names in words ("won_date: stage date before
    created_at" -> "won_date: stage date before created date"); the client's export columns
    (``won_date``) keep their names, which are the client's words.

    Examples
    --------
    >>> _contract_words("won_date: stage date before created_at")
    'won_date: stage date before created date'
    """
    import re

    from ..contract import CONTRACT
    from ..data import field_words

    ours = {c.name for spec in CONTRACT.values() for c in spec.columns}
    return re.sub(r"\b[a-z]+(?:_[a-z]+)+\b", lambda m: field_words(m[0]) if m[0] in ours else m[0], text)


def data_quality(data: ClientData) -> Block:
    """Rows per file (in the exports = imported + set aside at import; read = used + set aside at
    load), what was set aside, filled or left unknown at import and at load and why, unmapped
    channels, skipped stages. The numbers come from :class:`~kpi_kit.data.DataQuality`."""
    q = data.quality
    read = q.rows_table()
    parts = [table(read, {c: "count" for c in read.columns if c != "file"},
                   caption="Rows per file" + (": in the exports = imported + set aside at import; "
                                              if q.imports else ": ") + "read = used + set aside at load")]
    if q.missing_files:
        parts.insert(0, missing(f"Everything built on {', '.join(q.missing_files)}",
                                f"a {' and a '.join(q.missing_files)} file"))
    by_file = read.set_index("file")
    for stem, r in by_file.iterrows() if q.imports else ():
        if stem in q.reshaped():
            parts.append(note(f"{stem}: the {r['rows imported']:,.0f} rows imported were summed or spread into the "
                              f"file's {r['rows read']:,.0f} rows (see below)."))
        elif not is_missing(r["rows imported"]) and r["rows imported"] != r["rows read"]:
            parts.append(note(f"{stem}: {r['rows read']:,.0f} rows read against {r['rows imported']:,.0f} imported: "
                              "exports imported at different times share rows (the later one replaces them), or "
                              "the file holds rows from elsewhere."))
    imports = q.import_table()
    imports["issue"] = [_contract_words(i) for i in imports["issue"]]
    if len(imports):
        parts.append(table(imports, {"rows": "count"}, caption="Set aside, filled or left unknown at import"))
    notes = q.table()
    if len(notes):
        parts.append(table(notes, {"rows": "count"}, caption="Set aside and noted at load"))
    if not len(notes) and not len(imports):
        parts.append(note("No rows were set aside and no oddities were found."))
    # kk-dq: its tables are sentences (issue, action), which wrap to the page instead of scrolling;
    # its first line sums it up (a run's report pages show that line and link the run's data-quality page)
    line = data_quality_summary(data)
    return Block(f'<div class="kk-dq"><p class="kk-dq-summary">{html.escape(line)}</p>'
                 + "".join(p._repr_html_() for p in parts) + "</div>",
                 "\n\n".join([line, *(repr(p) for p in parts)]))


def data_quality_summary(data: ClientData) -> str:
    """The data-quality section in one line: rows read and set aside, notes, unmapped channels,
    missing files.

    Examples
    --------
    >>> data_quality_summary(tiny)  # doctest: +SKIP
    '2,301 rows read from 4 files; 12 set aside at load; 3 notes.'
    """
    q = data.quality
    read = int(sum(q.rows_read.values()))
    aside = int(sum(n - q.rows_used.get(f, n) for f, n in q.rows_read.items()))
    at_import = sum(int(e.get("rows_set_aside", 0) or 0) for e in q.imports)
    notes = len(q.notes) + sum(len(e.get("issues", [])) for e in q.imports)
    parts = [f"{plural(read, 'row')} read from {plural(len(q.rows_read), 'file')}",
             f"{aside:,} set aside at load" + (f" and {at_import:,} at import" if at_import else "")]
    if q.unmapped_channels:
        parts.append(f"{plural(len(q.unmapped_channels), 'channel')} without a mapping")
    if q.missing_files:
        parts.append(f"no {' and no '.join(q.missing_files)} file")
    parts.append(plural(notes, "note") if notes else "no oddities found")
    return "; ".join(parts) + "."


__all__ = ["Block", "KPI", "alert", "collapsed", "display_name", "details", "header", "kpi_strip", "kpi_attrs", "note",
           "missing", "not_shown_text", "plural", "small_cells", "trailing", "small_sample_text", "table", "data_quality",
           "data_quality_summary"]
