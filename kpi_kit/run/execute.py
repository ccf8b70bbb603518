"""One notebook: execute it with papermill, then export it to a self-contained HTML report."""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

from ..exceptions import KpiKitError
from ..params import Params
from .registry import available_notebooks, notebook_dir

KERNEL_NAME = "python3"
ENGINES = ("fast", "kernel")
FAST_ENGINE = "kpi_kit"  # the papermill engine name :mod:`kpi_kit.run.engine` registers
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def execute_notebook(name: str, params: Params, out_dir: Path, *, notebooks: Path | None = None,
                     previous_metrics: str | None = None, engine: str = "kernel") -> Path:
    """Run one notebook with papermill into ``out_dir/<name>.ipynb``; return its path.

    ``engine="kernel"`` starts a Jupyter kernel (papermill's default engine); ``"fast"`` uses the
    kit's in-process kernel engine, which registers itself with papermill when
    :mod:`kpi_kit.run.engine` is imported (the batch imports it with its warm-up)."""
    import papermill as pm

    src = (notebooks or notebook_dir()) / f"{name}.ipynb"
    if not src.exists():
        raise KpiKitError(f"notebook '{name}' not found in {src.parent}. Fix: choose from "
                          f"{', '.join(available_notebooks(src.parent))}.")
    out = out_dir / f"{name}.ipynb"
    # absolute: the notebook runs in its own folder, where a relative path would point elsewhere
    parameters = params.to_notebook_parameters() | {
        "previous_metrics": str(Path(previous_metrics).resolve()) if previous_metrics else None}
    env_backend = os.environ.pop("MPLBACKEND", None)  # Agg would capture no figures
    try:
        if engine == "fast":
            _require_fast_engine()
            pm.execute_notebook(str(src), str(out), parameters=parameters, kernel_name=KERNEL_NAME,
                                engine_name=FAST_ENGINE, cwd=str(src.parent), progress_bar=False)
        else:
            # the kernel's own log stays off the command's stderr: a kernel stopped mid-cell (Ctrl-C, SIGTERM)
            # logs a ZMQError traceback there; a cell's errors reach the run as messages all the same
            with _kernel_scratch():
                pm.execute_notebook(str(src), str(out), parameters=parameters, kernel_name=KERNEL_NAME,
                                    cwd=str(src.parent), progress_bar=False, log_output=False,
                                    extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                                    kernel_manager_class=_quiet_kernel_manager())
    finally:
        if env_backend is not None:
            os.environ["MPLBACKEND"] = env_backend
    return out


@functools.cache
def _quiet_kernel_manager():
    """jupyter_client's kernel manager, starting kernels with their stderr on /dev/null: the log level
    above does not reach tornado's logger, which prints the ZMQError traceback of a kernel stopped while
    it answers (a Ctrl-C reaches the kernels too) to the terminal the kernel inherited."""
    import subprocess

    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def _async_pre_start_kernel(self, **kw):
            cmd, kw = await super()._async_pre_start_kernel(**kw)
            kw["stderr"] = subprocess.DEVNULL
            return cmd, kw

    return QuietKernelManager


@contextlib.contextmanager
def _kernel_scratch():
    """A temporary folder of this run's own for the kernel's connection file (jupyter_client writes it
    with ``tempfile.mkstemp``): a signal while the kernel starts, before jupyter_client tracks the file,
    leaves nothing in TMPDIR, as the folder goes with the run."""
    import shutil
    import tempfile

    scratch, before = tempfile.mkdtemp(prefix="kpi-kit-kernel-"), tempfile.tempdir
    tempfile.tempdir = scratch
    try:
        yield scratch
    finally:
        tempfile.tempdir = before
        shutil.rmtree(scratch, ignore_errors=True)


def _require_fast_engine() -> None:
    # Not imported from here: the engine imports this module for its warm-up (no import circle).
    from papermill.engines import papermill_engines
    from papermill.exceptions import PapermillException

    try:
        papermill_engines.get_engine(FAST_ENGINE)
    except PapermillException:
        raise KpiKitError("the fast engine is not loaded. Fix: import kpi_kit.run.engine first "
                          "(run_batch does).") from None


@functools.lru_cache(maxsize=1)
def html_exporter():
    """The report's HTML exporter, built (and its template compiled) once per process: forked runs
    inherit it warm from the batch's parent. Its :class:`~kpi_kit.run.pages.ReportPagePreprocessor`
    gathers the sections not shown into one list and adds the table of contents."""
    from nbconvert import HTMLExporter

    from .pages import ReportPagePreprocessor

    exporter = HTMLExporter(template_name="kpi_report", extra_template_basedirs=[str(TEMPLATES)],
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                            embed_images=True)
    exporter.register_preprocessor(ReportPagePreprocessor(), enabled=True)
    return exporter


def export_html(notebook_path: Path, title: str, pages: list[str] | None = None, client: str | None = None) -> Path:
    """Export an executed notebook to a self-contained HTML report without code cells.

    ``pages``: the notebooks of the run, in report order, for the navigation bar (default: this one
    alone); ``client`` names the run in it (default: the notebook's ``client`` parameter or its folder's
    parent)."""
    import nbformat

    from .pages import nav_html
    from .registry import title as page_title

    nb = nbformat.read(notebook_path, as_version=4)
    nb.metadata["title"] = title
    name = notebook_path.stem
    pages = list(pages) if pages else [name]
    client = client or nb.metadata.get("papermill", {}).get("parameters", {}).get("client") \
        or notebook_path.resolve().parent.parent.name
    resources = {"kpi_kit": {"css": _css(), "nav": nav_html(client, [(p, page_title(p)) for p in pages], name)}}
    body, _ = html_exporter().from_notebook_node(nb, resources=resources)
    out = notebook_path.with_suffix(".html")
    out.write_text(body, encoding="utf-8")
    return out


@functools.lru_cache(maxsize=1)
def _css() -> str:
    from .pages import stylesheet

    return stylesheet()
