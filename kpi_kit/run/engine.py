"""Fast, isolated notebook execution for batches.

:class:`InProcessEngine` is a papermill engine (``engine_name="kpi_kit"``, registered when this
module is imported) that runs a notebook through an in-process IPython kernel instead of starting a
kernel process: papermill still parameterises the notebook and records cell states, outputs come
from the kernel's own messages (so they are the same as a normal kernel's).

:func:`warm_up` imports what every run needs once, so the forked children of
:mod:`kpi_kit.run.processes` (pandas, matplotlib, the kit, papermill and nbconvert imported) start
warm: every (client, notebook) run starts from a clean namespace and clean matplotlib state, and
nothing of one run can leak into the next.
"""

from __future__ import annotations

import os
import sys


def _load_jsonschema_without_the_iri_grammar() -> None:
    """jsonschema (nbformat validates notebooks with it) imports ``rfc3987_syntax`` where installed, to
    check the "iri" format, and that module builds a grammar as it is imported: 0.9 s of a run's 1.6 s
    of imports, paid by every ``kpi-kit`` process and every Dask task. No schema of nbformat's or
    papermill's uses the format, so jsonschema is loaded with the module kept out, which is then
    importable again as usual (a notebook that imports it gets it)."""
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        return
    sys.modules["rfc3987_syntax"] = None  # import fails: jsonschema leaves the "iri" check out
    try:
        import jsonschema  # noqa: F401
    finally:
        del sys.modules["rfc3987_syntax"]


_load_jsonschema_without_the_iri_grammar()

import nbformat  # noqa: E402
from papermill.engines import Engine, papermill_engines  # noqa: E402

from .execute import FAST_ENGINE, html_exporter  # noqa: E402
from .processes import IsolatedRunError, frozen_gc, run_isolated  # noqa: F401, E402 - their home before
from .registry import NOTEBOOKS  # noqa: E402

# ipykernel imports debugpy, which warns about frozen modules on stderr at every kernel start
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def _run_cell(kc, source: str) -> tuple[list, int | None, dict | None]:
    """Execute ``source`` and collect its outputs from the iopub messages."""
    msg_id = kc.execute(source, store_history=True)
    outputs, count, error = [], None, None
    for msg in kc.iopub_channel.get_msgs():
        # One cell runs at a time in process, so everything drained belongs to it. (Streams can
        # carry a stale parent header in the in-process kernel, so they are not filtered by it.)
        if msg["msg_type"] != "stream" and msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        content = msg["content"]
        if kind == "execute_input":
            count = content.get("execution_count")
        elif kind == "clear_output":
            outputs = []
        elif kind in ("stream", "display_data", "execute_result", "error"):
            out = nbformat.v4.output_from_msg(msg)
            if kind == "stream" and outputs and outputs[-1].get("output_type") == "stream" \
                    and outputs[-1].get("name") == out["name"]:
                outputs[-1]["text"] += out["text"]  # one output per stream, as nbclient writes it
                continue
            if kind == "error":
                error = content
            outputs.append(out)
    reply = kc.get_shell_msg(timeout=0) if hasattr(kc, "get_shell_msg") else None
    if reply and reply["content"].get("status") == "error" and error is None:
        error = reply["content"]
    return outputs, count, error


def _start_kernel():
    """An in-process kernel and its client. IPython's SQLite history is off: a batch's runs would
    otherwise all write one history file (and a history thread would run in every kernel)."""
    from ipykernel.inprocess.manager import InProcessKernelManager
    from traitlets.config import Config

    km = InProcessKernelManager(config=Config({"HistoryManager": {"enabled": False}}))
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    return km, kc


def _forget_shell(km) -> None:
    """Drop the kernel's IPython shell and output thread with the kernel. IPython registers both to be
    stopped at exit, which keeps them, and every object of the notebook's namespace, alive until then;
    a batch's runs end with ``os._exit`` and skip it, but a process that runs notebooks in place (a
    script, a test process) kept them all and, at exit, spent seconds resetting the shells."""
    import atexit

    kernel = km.kernel
    if kernel is None:
        return
    atexit.unregister(kernel.shell.atexit_operations)
    atexit.unregister(kernel.iopub_thread.stop)  # stopped by the kernel's shutdown
    # ipykernel cancels the thread's clean-up task on a loop that no longer runs: collected, asyncio would
    # print "Task was destroyed but it is pending!" (asyncio's own switch for a task left on purpose)
    task = getattr(kernel.iopub_thread, "_event_pipe_gc_task", None)
    if task is not None and hasattr(task, "_log_destroy_pending"):
        task._log_destroy_pending = False


class InProcessEngine(Engine):
    """Papermill engine executing cells in an in-process ipykernel (no kernel process, no ZMQ)."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                 start_timeout=60, execution_timeout=None, **kwargs):
        km, kc = _start_kernel()
        cwd = kwargs.get("cwd")
        old_cwd = os.getcwd()
        # papermill writes the whole notebook (images included) at every cell's start and end, so a
        # crashed run leaves a partial file; in a batch the run is forked and its failure is kept
        # anyway, so write once at the end (papermill's notebook_complete) instead of 30 times
        save, nb_man.save = nb_man.save, lambda **kwargs: None
        try:
            if cwd:
                os.chdir(cwd)
            for index, cell in enumerate(nb_man.nb.cells):
                nb_man.cell_start(cell, index)
                if cell.cell_type == "code":
                    outputs, count, error = _run_cell(kc, cell.source)
                    cell.outputs = outputs
                    cell.execution_count = count
                    if error:
                        nb_man.cell_exception(cell, cell_index=index,
                                              exception=RuntimeError(f"{error.get('ename')}: {error.get('evalue')}"))
                        break
                nb_man.cell_complete(cell, cell_index=index)
        finally:
            nb_man.save = save
            os.chdir(old_cwd)
            kc.stop_channels()
            _forget_shell(km)
            km.shutdown_kernel()
        return nb_man.nb


papermill_engines.register(FAST_ENGINE, InProcessEngine)


def warm_up() -> None:
    """Import what every notebook run needs, once, in the parent of the forked runs."""
    import ipykernel.inprocess.manager  # noqa: F401
    import matplotlib.pyplot  # noqa: F401
    import matplotlib_inline.backend_inline  # noqa: F401
    import nbconvert  # noqa: F401
    import pandas  # noqa: F401
    import pandas.core.methods.to_dict  # noqa: F401 - imported lazily by the reports' tables
    import pandas.core.reshape.reshape  # noqa: F401
    import pandas.io.formats.string  # noqa: F401
    import papermill  # noqa: F401
    import PIL.Image
    import scipy.special  # noqa: F401 - Wilson intervals and the tests of kpi_kit._math and metrics.overview

    for notebook in NOTEBOOKS:  # the report modules, and the kit modules they import
        notebook.report_class()
    PIL.Image.preinit()  # the image plugins matplotlib's PNG writer loads on first use
    warm = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("- [x] <https://example.com>")])
    html_exporter().from_notebook_node(warm)  # compile the report template (and markdown plugins) once
    _warm_kernel()


def _warm_kernel() -> None:
    """Start and stop an in-process kernel once, so the ~180 modules a kernel start imports
    (ipykernel, debugpy, IPython's completer ...) are loaded before the runs fork, not in every run.

    Nothing of it survives into a run: its iopub thread is stopped before any fork, ``__main__``
    and the standard streams are given back, and the shell singletons are cleared, so each run's
    kernel builds a fresh shell and namespace."""
    from IPython.core.interactiveshell import InteractiveShell

    km, kc = _start_kernel()
    try:
        _run_cell(kc, "pass")
    finally:
        iopub = km.kernel.iopub_thread
        # the shell made its namespace this process' __main__ (pickling by reference would look there)
        km.kernel.shell.restore_sys_module_state()
        kc.stop_channels()
        km.shutdown_kernel()
        # the stopped iopub loop leaves its cancelled gc task pending: no warning when it is collected
        task = getattr(iopub, "_event_pipe_gc_task", None)
        if task is not None:
            task._log_destroy_pending = False
        shell_class = type(InteractiveShell._instance) if InteractiveShell.initialized() else None
        InteractiveShell.clear_instance()
        if shell_class is not None:
            shell_class.clear_instance()
