"""The fast batch path: same reports as papermill's kernel path, and full isolation between runs."""

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from kpi_kit.run import run_batch

pytestmark = pytest.mark.long(25)  # seconds, measured with --durations=0: starts first under make test

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _text(html: str) -> str:
    html = re.sub(r"<style.*?</style>|<script.*?</script>|data:image/png;base64,[A-Za-z0-9+/=]+", "", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory):
    out = {}
    for engine in ("kernel", "fast"):
        folder = tmp_path_factory.mktemp(engine)
        batch = run_batch([FIXTURES / "tiny.yaml"], folder, notebooks=["funnel", "channel"], progress=False,
                          engine=engine)
        assert not batch.failed, batch.summary()
        out[engine] = folder / "tiny" / "2026-03-31"
    return out


def test_fast_engine_writes_the_same_metrics(both_engines):
    kernel = json.loads((both_engines["kernel"] / "metrics.json").read_text())
    fast = json.loads((both_engines["fast"] / "metrics.json").read_text())
    assert fast == kernel and fast["notebooks"] == ["funnel", "channel"]
    assert (both_engines["fast"] / "kpis.csv").read_text() == (both_engines["kernel"] / "kpis.csv").read_text()


@pytest.mark.parametrize("name", ["funnel", "channel"])
def test_fast_engine_writes_the_same_report_text(both_engines, name):
    kernel = _text((both_engines["kernel"] / f"{name}.html").read_text())
    fast = _text((both_engines["fast"] / f"{name}.html").read_text())
    assert fast == kernel and "Funnel report" in _text((both_engines["fast"] / "funnel.html").read_text())
    assert (both_engines["fast"] / f"{name}.html").read_text().count("data:image/png") == \
        (both_engines["kernel"] / f"{name}.html").read_text().count("data:image/png")


@pytest.mark.parametrize("jobs", [1, 2])
def test_runs_are_isolated(tmp_path, jobs):
    clients = []
    for name in ("northwind", "contoso"):
        shutil.copy(FIXTURES / "tiny.yaml", tmp_path / f"{name}.yaml")
        text = (tmp_path / f"{name}.yaml").read_text().replace("client: tiny", f"client: {name}")
        (tmp_path / f"{name}.yaml").write_text(text.replace("data_dir: tiny", f"data_dir: {FIXTURES / 'tiny'}"))
        clients.append(tmp_path / f"{name}.yaml")
    batch = run_batch(clients, tmp_path / "out", notebooks=["leak_a", "leak_b"], notebook_folder=FIXTURES / "notebooks",
                      progress=False, jobs=jobs, engine="fast")
    assert not batch.failed, batch.summary()
    for name in ("northwind", "contoso"):
        nb = nbformat.read(tmp_path / "out" / name / "2026-03-31" / "leak_b.ipynb", as_version=4)
        printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        # leak_a set a kit attribute, a matplotlib rcParam and a global: none survives into leak_b
        assert printed.strip() == "leak None 1.5 False"
    beta = (tmp_path / "out" / "contoso" / "2026-03-31" / "leak_a.html").read_text()
    assert "northwind" not in beta and "set contoso" in beta


def _notebook_folder(tmp_path: Path, name: str, cell: str) -> Path:
    """A folder holding notebook ``name``: the fixture ``leak_b`` with ``cell`` as its first code cell."""
    folder = tmp_path / "nbs"
    folder.mkdir()
    nb = nbformat.read(FIXTURES / "notebooks" / "leak_b.ipynb", as_version=4)
    nb.cells[1].source = cell
    nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def test_failing_notebook_in_fast_engine_is_reported(tmp_path):
    bad = _notebook_folder(tmp_path, "broken", "raise ValueError('boom in cell')")
    batch = run_batch([FIXTURES / "tiny.yaml"], tmp_path / "out", notebooks=["broken"], notebook_folder=bad,
                      progress=False, engine="fast")
    assert batch.failed and "boom in cell" in batch.failed[0].error
    kept = tmp_path / "out" / "tiny" / "2026-03-31.failed" / "broken.ipynb"
    assert kept.exists() and not (tmp_path / "out" / "tiny" / "2026-03-31").exists()
    # a later success of the same date makes the kept failure history
    batch = run_batch([FIXTURES / "tiny.yaml"], tmp_path / "out", notebooks=["leak_b"],
                      notebook_folder=FIXTURES / "notebooks", progress=False, engine="fast")
    assert not batch.failed, batch.summary()
    assert sorted(p.name for p in (tmp_path / "out" / "tiny").iterdir()) == ["2026-03-31", "index.html"]


def test_the_kernel_engine_keeps_the_kernels_own_stderr_off_the_terminal(tmp_path, capfd):
    """Before: a kernel stopped while it answered (Ctrl-C reaches it too) printed tornado's ZMQError
    traceback to the command's terminal, past the log level the kernel was given."""
    folder = _notebook_folder(tmp_path, "noisy", "import os\nos.write(2, b'the kernel process writes to its stderr\\n')\n"
                                                 "print('cell output')")
    batch = run_batch([FIXTURES / "tiny.yaml"], tmp_path / "out", notebooks=["noisy"], notebook_folder=folder,
                      progress=False, engine="kernel")
    assert not batch.failed, batch.summary()
    assert "the kernel process writes" not in capfd.readouterr().err
    assert "cell output" in (tmp_path / "out" / "tiny" / "2026-03-31" / "noisy.ipynb").read_text()


def test_dask_executor_on_a_local_cluster_of_two_workers(tmp_path, both_engines):
    """Each client one task on a Dask LocalCluster (2 worker processes): the same reports as the
    local executor, a failing client reported without stopping the other."""
    pytest.importorskip("dask.distributed")
    from dask.distributed import LocalCluster

    bad = tmp_path / "broken.yaml"
    bad.write_text((FIXTURES / "tiny.yaml").read_text().replace("client: tiny", "client: broken")
                   .replace("data_dir: tiny", f"data_dir: {tmp_path / 'nowhere'}"))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        batch = run_batch([FIXTURES / "tiny.yaml", bad], tmp_path / "out", notebooks=["funnel", "channel"],
                          progress=False, executor="dask", scheduler=cluster.scheduler_address)
    assert [r.client for r in batch.results] == ["tiny", "broken"]  # input order, whatever finished first
    assert batch.results[0].ok and "data folder not found" in batch.results[1].error
    dask_metrics = json.loads((tmp_path / "out" / "tiny" / "2026-03-31" / "metrics.json").read_text())
    assert dask_metrics == json.loads((both_engines["fast"] / "metrics.json").read_text())
    for name in ("funnel", "channel"):
        page = (tmp_path / "out" / "tiny" / "2026-03-31" / f"{name}.html").read_text()
        assert _text(page) == _text((both_engines["fast"] / f"{name}.html").read_text())


def test_the_run_loads_nbformat_without_building_the_iri_grammar_and_leaves_it_importable():
    """rfc3987_syntax built its grammar on import: 0.9 s of every kpi-kit process and Dask task."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("rfc3987_syntax") is None:
        pytest.skip("rfc3987_syntax is not installed here: nothing to keep out")
    code = ("import sys, kpi_kit.run.engine, nbformat, jsonschema; print('rfc3987_syntax' in sys.modules); "
            "import rfc3987_syntax; print(rfc3987_syntax.is_valid_syntax('iri', 'https://example.com/a'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]


def test_warm_up_leaves_the_parent_process_as_it_was():
    """The warm-up kernel must not outlive itself: the forked runs would inherit its threads,
    its shell (and namespace) or the shell's module standing in for __main__. It imports every
    registered notebook's report module, and nothing of the batch (no import circle)."""
    import subprocess
    import sys

    code = ("import sys, threading; main = sys.modules['__main__']; out = sys.stdout\n"
            "from kpi_kit.run import NOTEBOOKS, engine; engine.warm_up()\n"
            "from IPython.core.interactiveshell import InteractiveShell\n"
            "assert sys.modules['__main__'] is main and sys.stdout is out\n"
            "assert threading.active_count() == 1, threading.enumerate()\n"
            "assert not InteractiveShell.initialized()\n"
            "assert all(nb.report_module in sys.modules for nb in NOTEBOOKS)\n"
            "assert 'kpi_kit.run.batch' not in sys.modules\n"
            "print('clean')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "clean", proc.stderr
    assert "Task was destroyed" not in proc.stderr


def test_forked_runs_inherit_the_warm_objects_frozen():
    """A forked run's garbage collections skip what it inherited; the parent keeps collecting its own."""
    import gc

    from kpi_kit.run.engine import run_isolated

    before = gc.get_freeze_count()
    assert run_isolated(gc.get_freeze_count) > before
    assert gc.get_freeze_count() == before


def _run_in_place(folder: str, times: int = 3) -> list[tuple[int, int]]:
    """Run a one-cell notebook in this process ``times`` times; after each run, the IPython shells and
    kernel output threads still alive."""
    import gc

    import papermill as pm
    from ipykernel.iostream import IOPubThread
    from IPython.core.interactiveshell import InteractiveShell

    import kpi_kit.run.engine  # noqa: F401 - registers the engine

    src = Path(folder) / "one_cell.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('ran')")]), src)
    alive = []
    for _ in range(times):
        pm.execute_notebook(str(src), str(Path(folder) / "out.ipynb"), engine_name="kpi_kit", progress_bar=False,
                            kernel_name="python3")
        gc.collect()
        alive.append(tuple(sum(isinstance(o, kind) for o in gc.get_objects()) for kind in (InteractiveShell, IOPubThread)))
    return alive


def test_notebooks_run_in_place_leave_nothing_behind(tmp_path, capfd):
    """Before: every in-process kernel's output thread stayed alive, registered to be stopped at exit
    (1, 2, 3 of them after 3 runs), and the shell was registered for a reset at exit; a test process
    that had run notebooks in place took 5-10 s to leave and printed asyncio's "Task was destroyed"."""
    from kpi_kit.run.processes import run_isolated

    alive = run_isolated(_run_in_place, str(tmp_path))
    assert [shells for shells, _ in alive] == [1, 1, 1]  # IPython's one shell, reused
    assert alive[2][1] == alive[1][1] <= 2, alive  # the output threads do not pile up
    assert "Task was destroyed" not in capfd.readouterr().err
