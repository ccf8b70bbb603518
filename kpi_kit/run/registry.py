"""The notebook registry: every report notebook of the kit, in report order.

The batch, the fast engine's warm-up and the tests read this one list; a new notebook is added
here (and as ``notebooks/<name>.ipynb``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..exceptions import KpiKitError


@dataclass(frozen=True)
class Notebook:
    """One report notebook.

    Parameters
    ----------
    name : str
        The notebook's file stem (``notebooks/<name>.ipynb``) and its report's (``<name>.html``).
    title : str
        The report's title in the run's index and on its page.
    report : str
        The notebook's presentation class as an import string, ``"module:Class"``.
    """

    name: str
    title: str
    report: str

    @property
    def report_module(self) -> str:
        return self.report.partition(":")[0]

    def report_class(self) -> type:
        """Import and return the presentation class named by :attr:`report`."""
        module, _, name = self.report.partition(":")
        return getattr(importlib.import_module(module), name)


# Report order: the overview is read first.
NOTEBOOKS = (
    Notebook("overview", "KPI overview", "kpi_kit.reports.overview:OverviewReport"),
    Notebook("funnel", "Funnel", "kpi_kit.reports.funnel:FunnelReport"),
    Notebook("channel", "Channels", "kpi_kit.reports.channel:ChannelReport"),
    Notebook("cohort", "Cohorts", "kpi_kit.reports.cohort:CohortReport"),
    Notebook("unit_economics", "Unit economics", "kpi_kit.reports.unit_economics:UnitEconomicsReport"),
)
NAMES = tuple(nb.name for nb in NOTEBOOKS)


def by_name(name: str) -> Notebook:
    """The registered notebook called ``name``."""
    for nb in NOTEBOOKS:
        if nb.name == name:
            return nb
    raise KpiKitError(f"unknown notebook '{name}'. Fix: choose from {', '.join(NAMES)}.")


def title(name: str) -> str:
    """The notebook's report title; a notebook outside the registry (a custom folder) is titled by its name."""
    return next((nb.title for nb in NOTEBOOKS if nb.name == name), name)


def notebook_dir() -> Path:
    """The notebooks: the checkout's ``notebooks/`` (editable install) or the packaged copies."""
    checkout = Path(__file__).resolve().parents[2] / "notebooks"
    if checkout.is_dir():
        return checkout
    return Path(str(resources.files("kpi_kit") / "notebooks"))


def available_notebooks(directory: Path | None = None) -> list[str]:
    """The notebooks in ``directory`` (default :func:`notebook_dir`): registered ones in report order, then the rest."""
    names = {p.stem for p in (directory or notebook_dir()).glob("*.ipynb")}
    return [n for n in NAMES if n in names] + sorted(names - set(NAMES))
