"""Client parameters: one YAML file per client, validated, with documented defaults.

The same names are the notebooks' papermill parameters, so a notebook run by
hand (demo defaults) and a batch run (values injected from the YAML) resolve
their settings through :class:`Params` alike.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .exceptions import ParamsError
from .sources.spec import Source

ALL_STAGES = ("lead", "mql", "sal", "sql", "opportunity", "customer")
# files whose rows may cover several days (SPEC "Multi-day rows"): the contract files with a `date`
# and a `date_end` column
GRAIN_FILES = ("spend", "traffic", "revenue", "engagement")


class Params(BaseModel):
    """Resolved parameters of one client run (SPEC "Client parameters")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client: str = Field(pattern=r"^[A-Za-z0-9_-]+$", description="slug naming the output folder")
    data_dir: str | None = Field(default=None, description="client data folder (relative to the YAML file's folder)")
    source: Source | None = Field(default=None, description="a database in place of data_dir (kpi_kit/sources)")
    as_of: dt.date = Field(default_factory=dt.date.today, description="the date the data is seen as of")
    currency: str = Field(default="USD", pattern=r"^[A-Za-z]{3}$",
                          description="ISO currency code of every money column (three letters, e.g. EUR)")
    window_months: int = Field(default=12, ge=1, le=120, description="reporting window in full months")
    churn_window_months: int = Field(default=6, ge=1, le=36, description="months averaged for churn")
    gross_margin: float = Field(default=1.0, gt=0, le=1, description="gross margin used by LTV and payback")
    stages: list[str] = Field(default=list(ALL_STAGES), description="ordered subset of the funnel stages")
    channel_map: dict[str, str] = Field(default_factory=dict, description="raw channel -> reporting channel")
    channel_groups: dict[str, str] = Field(default_factory=dict, description="channel -> inbound/outbound/other")
    cost_groups: dict[str, Literal["acquisition", "service"]] = Field(
        default_factory=dict, description="costs.category -> acquisition or service"
    )
    sales_cycle_days: int | None = Field(
        default=None, ge=0, description="typical contact-to-customer days; None = measured from the data"
    )
    attribution_model: Literal[
        "first_touch", "last_touch", "linear", "position_based", "time_decay", "w_shaped", "markov", "shapley"
    ] = Field(default="linear", description="attribution model of the channel report's headline ROI")
    half_life_days: float = Field(default=7.0, gt=0, description="half-life of time-decay attribution")
    markov_order: int = Field(default=1, ge=1, le=3, description="Markov attribution: channels a state remembers")
    shapley_max_channels: int = Field(default=12, ge=2, le=16,
                                      description="Shapley attribution: channels beyond this are grouped as Other")
    cohort_grain: Literal["month", "quarter"] = Field(default="month", description="retention cohort grain")
    min_cohort_size: int = Field(default=10, ge=0, description="cohorts smaller than this are greyed out")
    min_sample: int = Field(default=30, ge=1,
                            description="a rate over fewer base items is shown but marked with its n, never ranked")
    revenue_uplift: float = Field(default=0.05, description="uplift added to growth in the revenue target")
    alert_threshold: float = Field(default=0.10, gt=0, description="relative MoM change that raises an alert")
    chart_channels: int = Field(default=10, ge=1, le=50,
                                description="channels drawn one by one in charts; the rest as Other (tables list all)")
    row_grain: dict[Literal["spend", "traffic", "revenue", "engagement"], Literal["day", "week", "month"]] = Field(
        default_factory=dict,
        description="days each row of a file covers, from its date: week = the date and the 6 days after it, "
                    "month = to the day before the same date a month later; spread evenly over them "
                    "(default day; a date_end column, where given, wins)")
    history_rebuilt_before: dt.date | None = Field(
        default=None,
        description="first month of real history (YYYY-MM) where earlier months were rebuilt from one "
                    "snapshot: churn and MRR movements before it are no data")
    notebook_timeout_seconds: int = Field(default=1800, ge=10,
                                          description="a notebook running longer is stopped and the client's run fails")
    max_cell_chars: int = Field(default=10_000, ge=1,
                                description="a cell (or column name) of a data file longer than this stops the run "
                                            "before the notebooks, naming file, column and rows")
    max_file_mb: float = Field(default=2000.0, gt=0,
                               description="a data file larger than this (megabytes of 1,000,000 bytes) stops the "
                                           "run before it is read")

    @field_validator("stages")
    @classmethod
    def _stages_ordered_subset(cls, stages: list[str]) -> list[str]:
        unknown = [s for s in stages if s not in ALL_STAGES]
        if unknown:
            raise ValueError(f"unknown stage(s) {unknown}; choose from {list(ALL_STAGES)}")
        if list(stages) != [s for s in ALL_STAGES if s in stages] or len(set(stages)) != len(stages):
            raise ValueError(f"stages must keep the funnel order {list(ALL_STAGES)} without repeats")
        if not stages:
            raise ValueError("stages must list at least one stage")
        return list(stages)

    @field_validator("channel_groups")
    @classmethod
    def _known_groups(cls, groups: dict[str, str]) -> dict[str, str]:
        bad = {k: v for k, v in groups.items() if v not in ("inbound", "outbound", "other")}
        if bad:
            raise ValueError(f"groups must be inbound, outbound or other, got {bad}")
        return groups

    @field_validator("history_rebuilt_before", mode="before")
    @classmethod
    def _month(cls, value):
        """``2018-01`` (a month) or any day of it; kept as the month's first day."""
        if value is None:
            return None
        if isinstance(value, dt.date):
            return value.replace(day=1)
        text = str(value).strip()
        try:
            return (dt.date.fromisoformat(text + "-01") if len(text) == 7 else dt.date.fromisoformat(text)).replace(day=1)
        except ValueError:
            raise ValueError(f"'{text}' is not a month: write YYYY-MM (e.g. 2018-01)") from None

    @model_validator(mode="after")
    def _history_before_as_of(self) -> Params:
        if self.history_rebuilt_before is not None and self.history_rebuilt_before > self.as_of:
            raise ValueError(f"history_rebuilt_before ({self.history_rebuilt_before:%Y-%m}) is after as_of "
                             f"({self.as_of}): name the first month of real history, on or before as_of")
        return self

    @model_validator(mode="after")
    def _one_data_location(self) -> Params:
        if (self.data_dir is None) == (self.source is None):
            raise ValueError("give data_dir (a folder) or source (a database), exactly one of the two")
        return self

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_mapping(cls, values: dict, *, source: str = "parameters") -> Params:
        """Validate a mapping, turning pydantic's report into one :class:`ParamsError`."""
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(
                f"'{'.'.join(str(p) for p in err['loc']) or '?'}': {err['msg']}" for err in exc.errors()
            )
            known = ", ".join(cls.model_fields)
            raise ParamsError(
                f"{source}: {problems}. Fix the value (known keys: {known})."
            ) from None

    @classmethod
    def from_namespace(cls, namespace: dict) -> Params:
        """Pick the parameter names out of a notebook's globals (after papermill's injection)."""
        return cls.from_mapping(
            {k: namespace[k] for k in cls.model_fields if k in namespace}, source="notebook parameters"
        )

    def to_notebook_parameters(self) -> dict:
        """Plain JSON-able values for papermill (dates as ISO strings)."""
        return self.model_dump(mode="json")


def load_params(path: str | Path) -> Params:
    """Read a client YAML file and resolve ``data_dir`` against the file's folder.

    Examples
    --------
    >>> p = load_params("data/clients/demo.yaml")  # doctest: +SKIP
    >>> p.client, p.window_months  # doctest: +SKIP
    ('demo', 12)
    """
    from ._inputs import DuplicateKeyError, load_yaml, regular_file
    from .exceptions import DataError

    path = Path(path)
    try:
        regular_file(path)  # a FIFO would block the read
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParamsError(f"{path}: file not found. Fix: give the path of a client YAML file.") from None
    except DataError as exc:
        raise ParamsError(f"{path}: {exc.problem}. Fix: give the path of a client YAML file.") from None
    except UnicodeDecodeError as exc:
        raise ParamsError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02X} at byte {exc.start:,}). "
                          "Fix: save the YAML file as UTF-8.") from None
    except DuplicateKeyError as exc:
        raise ParamsError(f"{path}: {exc.problem}: the kit will not guess which one you meant. "
                          f"Fix: keep one '{exc.key}' (and merge the values into it).") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML ({exc}). Fix: correct the syntax.") from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of parameters. Fix: write 'key: value' lines.")
    for required in ("client", "data_dir"):
        if required not in raw and not (required == "data_dir" and "source" in raw):
            raise ParamsError(f"{path}: '{required}' is missing. Fix: add '{required}: ...'"
                              + (" (or a database 'source:')." if required == "data_dir" else "."))
    if "source" in raw and "data_dir" not in raw:  # data in a database, not a folder (kpi_kit/sources)
        from .sources import resolve_source

        return Params.from_mapping({**raw, "source": resolve_source(raw["source"], path.parent)}, source=str(path))
    data_dir = Path(str(raw["data_dir"]))
    if not data_dir.is_absolute():
        data_dir = (path.parent / data_dir).resolve()
    return Params.from_mapping({**raw, "data_dir": str(data_dir)}, source=str(path))


def papermill_parameters(path: str | Path) -> str:
    """A client's resolved parameters as papermill-ready YAML (``papermill -f``): every value the
    batch would inject, with ``data_dir`` absolute, so a notebook runs from any working directory.

    Examples
    --------
    >>> print(papermill_parameters("data/examples/olist.yaml"))  # doctest: +SKIP
    client: olist
    data_dir: /home/me/kpi_kit/build/examples/olist
    ...
    """
    values = load_params(path).to_notebook_parameters()
    return f"# papermill parameters of {path} (kpi-kit params)\n" + yaml.safe_dump(values, sort_keys=False)
