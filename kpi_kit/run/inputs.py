"""Incremental runs: what a client's reports are made from, as a fingerprint kept beside them.

A batch skips a client whose published run of the same ``as_of`` holds every requested page and was
made from the same inputs (:func:`up_to_date`). The inputs (:func:`client_inputs`) are

* the client's data: the name and bytes of every contract file found in ``data_dir`` (CSV or
  Parquet, as :func:`kpi_kit.data.find_file` finds them), or the bytes of its DuckDB file (and of
  its ``.wal``). A PostgreSQL source has no fingerprint (hashing its query results would mean
  reading them): such a client always reruns;
* its resolved parameters (``Params.model_dump_json()``);
* the previous run's ``metrics.json`` it compares with (path and bytes);
* the notebooks rendered (names, in order) and every file of the notebook folder;
* the kit: its version, the bytes of its package files (code and templates; a checkout may change
  without a version bump), the versions of the libraries that shape a report, and Python's.

The fingerprint is written into the run's temporary folder as ``.inputs`` before the swap, so only a
successful run has one; after a failed run the batch removes the published run's (:func:`forget`) so
the client reruns next time. Hashing is SHA-256 over the files' bytes: cheap next to loading the data.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from pathlib import Path

from .._files import write_atomic
from .._version import __version__
from ..contract import CONTRACT
from ..exceptions import KpiKitError
from ..params import Params
from . import publish
from .registry import notebook_dir

FORMAT = 1  # bump when what the fingerprint covers changes: every client reruns once
INPUTS_FILE = ".inputs"
# The libraries whose version can change a report's bytes (numbers, charts, the HTML).
LIBRARIES = ("pandas", "numpy", "pyarrow", "matplotlib", "matplotlib-inline", "papermill", "nbconvert", "nbformat",
             "nbclient", "ipykernel", "jinja2", "pydantic", "pyyaml", "duckdb")
PACKAGE = Path(__file__).resolve().parents[1]


def file_hash(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _files_hash(root: Path, files) -> str:
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(f"{path.relative_to(root).as_posix()}\0{file_hash(path)}\0".encode())
    return h.hexdigest()


def kit_digest() -> str:
    """The kit and its environment: version, package files, libraries, Python (once per batch)."""
    from importlib import metadata

    h = hashlib.sha256(f"{FORMAT}\0{__version__}\0{sys.version}\0".encode())
    for name in LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "absent"
        h.update(f"{name}={version}\0".encode())
    files = [p for p in PACKAGE.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")]
    h.update(_files_hash(PACKAGE, files).encode())
    return h.hexdigest()


def batch_digest(notebook_folder: Path | None = None) -> dict:
    """What every client of a batch shares: the kit, and the files of the notebook folder (the
    notebooks and whatever they may import from beside them; hidden files left out)."""
    folder = Path(notebook_folder or notebook_dir())
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")] if folder.is_dir() else []
    return {"kit": kit_digest(), "notebook_folder": _files_hash(folder, files)}


def _data_digest(params: Params) -> dict | None:
    if params.source is None:
        data_dir = Path(params.data_dir)
        if not data_dir.is_dir():
            return None  # the run says what is wrong
        from ..data import find_file

        found = {stem: find_file(data_dir, stem) for stem in CONTRACT}
        log = data_dir / "import_log.json"  # what an import set aside: shown in the data-quality section
        return {**{stem: None if p is None else [p.name, file_hash(p)] for stem, p in found.items()},
                "import_log": file_hash(log) if log.is_file() else None}
    from ..sources._url import duckdb_path, expand, kind_of

    if kind_of(params.source.url) != "duckdb":
        return None  # PostgreSQL: reading the tables to hash them would cost what a run's load does
    path = Path(duckdb_path(expand(params.source.url, "source")[0])).expanduser()
    wal = path.with_name(f"{path.name}.wal")
    return {"duckdb": [str(path), file_hash(path)], "wal": file_hash(wal) if wal.is_file() else None}


def client_inputs(params: Params, notebooks: list[str], out_root, shared: dict) -> dict | None:
    """The fingerprint of one client's run of ``notebooks`` into ``out_root``; None when it has none
    (a PostgreSQL source, data that cannot be read: the client runs, and says what is wrong).

    ``shared`` is :func:`batch_digest` of the batch's notebook folder."""
    try:
        data = _data_digest(params)
        if data is None:
            return None
        client_root = Path(out_root).resolve() / params.client
        previous = publish.previous_run_metrics(client_root, params.as_of.isoformat())
        return {"format": FORMAT, **shared, "notebooks": list(notebooks),
                "params": hashlib.sha256(params.model_dump_json().encode()).hexdigest(), "data": data,
                "previous_metrics": None if previous is None else [previous, file_hash(Path(previous))]}
    except (KpiKitError, OSError, ValueError):
        return None


def up_to_date(final: Path, notebooks: list[str], inputs: dict | None) -> bool:
    """The published run ``final`` holds every page of ``notebooks`` and was made from ``inputs``;
    a run of that date that failed since (``<as_of>.failed``) is never up to date."""
    if inputs is None or final.with_name(f"{final.name}.failed").exists():
        return False
    if not all((final / name).is_file() for name in ["metrics.json", "index.html", *(f"{n}.html" for n in notebooks)]):
        return False
    try:
        return json.loads((final / INPUTS_FILE).read_text(encoding="utf-8")) == inputs
    except (OSError, ValueError):
        return False


def write(folder: Path, inputs: dict) -> None:
    """Keep ``inputs`` in a run's (temporary) folder."""
    write_atomic(folder / INPUTS_FILE, json.dumps(inputs, indent=1, sort_keys=True) + "\n")


def forget(final: Path) -> None:
    """A run of this date failed: its client reruns next time, whatever its inputs."""
    with contextlib.suppress(OSError):
        (final / INPUTS_FILE).unlink()
