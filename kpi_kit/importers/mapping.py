"""A generic column-mapping YAML for any CSV or Excel sheet, so a spreadsheet imports without code.

Example (``maven-deals.yaml``)::

    target: deals
    sheet: 0                  # Excel only
    decimal: "."              # "," for 1.234,50
    date_format: "%m/%d/%Y"   # optional; ISO, YYYYMMDD, US m/d/Y and Excel serials are detected
    columns:
      deal_id: opportunity_id
      created_at: {column: engage_date, kind: date}
      closed_at: {column: close_date, kind: date}
      amount: {column: close_value, kind: money}
      status: {column: deal_stage, values: {Won: won, Lost: lost, Engaging: open, Prospecting: open}}
      channel: {value: "outbound sdr"}   # a constant

Each contract column takes an export column name, or a mapping with ``column`` (or a list of
alternatives), ``kind`` (text, date, money, number, percent), ``values``, ``value`` (a constant),
``default`` (fills empty cells; never 0 for a number: an empty number is unknown, not zero, and
stays empty), ``zero_is_unknown`` (for a number the export writes as 0 when it does not know it:
``true``, or a text saying why; those cells are left empty, so no sum counts them as a known 0,
and the report counts them) and ``drop_if_empty`` (leaves out rows without a value: ``true``, or a text saying
why). Every fill and drop is reported and written to the folder's ``import_log.json`` for the
report's data-quality section. Top-level keys: ``join`` (``{file, by}``, ``by`` one column or
``[here, there]``: left-join a second export from the same folder, e.g. won deals onto leads) and
``bad_rows: drop`` (leave out and list rows that break a rule across columns, such as a stage dated
before creation, instead of stopping).
"""

from __future__ import annotations

import yaml

from .._inputs import DuplicateKeyError, load_yaml, regular_file
from ..exceptions import DataError
from ._base import Field, Source

KINDS = {"date": "date", "money": "money", "number": "number", "count": "number", "percent": "percent"}


def _drop_rule(value) -> bool | str:
    """``drop_if_empty: true``, or a text saying why such rows are left out (shown in the report)."""
    return value.strip() if isinstance(value, str) and value.strip() else bool(value)


def load_mapping(path) -> tuple[Source, dict]:
    try:
        regular_file(path)  # a FIFO would block the read
        with open(path, encoding="utf-8") as f:
            spec = load_yaml(f.read())
    except DuplicateKeyError as exc:
        raise DataError(str(path), str(exc.key), f"{exc.problem}: the import will not guess which one you meant",
                        "keep one of them") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DataError(str(path), None, f"cannot read the mapping ({exc})", "give a readable UTF-8 YAML file") from None
    if not isinstance(spec, dict):
        raise DataError(str(path), None, "the mapping is not a YAML mapping", "write target: and columns: keys")
    from ..contract import CONTRACT

    target = spec.get("target")
    if target not in CONTRACT:
        raise DataError(str(path), "target", f"unknown target '{target}'", f"use one of {', '.join(CONTRACT)}")
    fields = []
    for name, rule in (spec.get("columns") or {}).items():
        col = CONTRACT[target].column(name)
        if col is None:
            raise DataError(str(path), name, "not a column of " + target,
                            f"use {', '.join(c.name for c in CONTRACT[target].columns)}")
        rule = {"column": rule} if isinstance(rule, str | list) else dict(rule)
        kind = rule.get("kind") or KINDS.get(col.kind, "text")
        source = rule.get("column")
        fields.append(Field(name, tuple(source) if isinstance(source, list) else source, kind,
                            value=rule.get("value"), values=rule.get("values"),
                            default=rule.get("default"), drop_if_empty=_drop_rule(rule.get("drop_if_empty")),
                            zero_is_unknown=_drop_rule(rule.get("zero_is_unknown"))))
    options = {k: spec[k] for k in ("decimal", "date_format", "sheet", "bad_rows") if k in spec}
    joins = spec.get("join") or []
    options["join"] = [joins] if isinstance(joins, dict) else joins
    for j in options["join"]:
        if not isinstance(j, dict) or "file" not in j or "by" not in j:
            raise DataError(str(path), "join", "a join needs file and by",
                            "write join: {file: other.csv, by: id_column} (or by: [column_here, column_there])")
    return Source("mapping", target, f"mapping {path}", tuple(fields)), options
