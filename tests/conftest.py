import os
from pathlib import Path

import pytest

from kpi_kit import load_client, load_params

FIXTURES = Path(__file__).parent / "fixtures"
# `make test` runs nbval beside the unit tests: the fixture notebooks are inputs of tests, not tests
collect_ignore_glob = ["fixtures/*.ipynb"]
ROOT = Path(__file__).parent.parent


def pytest_collection_modifyitems(items):
    """The files marked ``long`` first, longest first: under pytest-xdist (``make test``) they start at
    once and the many short files fill the processes around them, which then end together."""
    def seconds(item) -> float:
        mark = item.get_closest_marker("long")
        return -mark.args[0] if mark else 0

    items.sort(key=seconds)  # stable: a file's tests keep their order


def pytest_unconfigure(config):
    """A test process leaves without IPython's reset of the shells its tests created (a notebook run in
    place, IPython's display helpers): registered to run at exit, it collects the whole garbage of a
    process that ran hundreds of tests, 5-10 s, and pytest-xdist waits for every worker to leave."""
    import atexit
    import gc
    import sys

    shells = sys.modules.get("IPython.core.interactiveshell")
    if shells is not None:
        for obj in gc.get_objects():
            if isinstance(obj, shells.InteractiveShell):
                atexit.unregister(obj.atexit_operations)


@pytest.fixture
def tiny_params():
    return load_params(FIXTURES / "tiny.yaml")


@pytest.fixture
def tiny(tiny_params):
    return load_client(tiny_params)


@pytest.fixture
def tiny_copy(tmp_path):
    """A writable copy of the tiny client: (yaml path, data folder)."""
    import shutil

    shutil.copytree(FIXTURES / "tiny", tmp_path / "tiny")
    shutil.copy(FIXTURES / "tiny.yaml", tmp_path / "tiny.yaml")
    return tmp_path / "tiny.yaml", tmp_path / "tiny"


@pytest.fixture
def fixture_client(tmp_path):
    """Write a client from text and load it: ``fixture_client(yaml, {stem: csv text})`` returns
    ``(ClientData, ClientMetrics)``. The YAML's ``data_dir`` must be its ``client``; each call
    writes into a folder of its own."""
    from kpi_kit.metrics import compute

    calls = iter(range(1_000))

    def make(yaml: str, files: dict[str, str]):
        root = tmp_path / f"client{next(calls)}"
        name = next(line.split(":", 1)[1].strip() for line in yaml.splitlines() if line.startswith("client:"))
        (root / name).mkdir(parents=True)
        for stem, text in files.items():
            (root / name / f"{stem}.csv").write_text(text)
        (root / f"{name}.yaml").write_text(yaml)
        data = load_client(load_params(root / f"{name}.yaml"))
        return data, compute(data)

    return make


@pytest.fixture
def kit_style():
    """Charts drawn off-screen in the kit's style; rcParams restored and figures closed afterwards."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kpi_kit.charts import style as plotting

    with matplotlib.rc_context():
        plotting.use_style()
        yield
    plt.close("all")


# -- the demo run, rendered once per session ---------------------------------------------------------------
def _shared_folder(tmp_path_factory) -> Path:
    """A folder every test process of this session sees: under pytest-xdist the workers' common parent
    (``pytest-N``, this session's own), otherwise this process's base folder."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """The demo client's run folder: every notebook rendered by ``kpi-kit run`` and, where Chromium is
    installed, printed to its ``report.pdf``. Rendered once per session: under pytest-xdist the first
    worker renders it while the others wait on a file lock, then read the same folder. Tests read it and
    never write into it (a test that changes a run renders its own)."""
    import fcntl
    import shutil

    from click.testing import CliRunner

    from kpi_kit.cli import main

    shared = _shared_folder(tmp_path_factory)
    folder = shared / "demo-run" / "demo" / "2026-10-31"
    with open(shared / "demo-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if rendering fails
        if not (shared / "demo-run.done").exists():
            shutil.rmtree(shared / "demo-run", ignore_errors=True)  # a worker's failed attempt
            chromium = any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome"))
            args = ["run", str(ROOT / "data" / "clients" / "demo.yaml"), "--out", str(shared / "demo-run"),
                    "--no-progress", *(["--pdf"] if chromium else [])]
            result = CliRunner().invoke(main, args)
            assert result.exit_code == 0, result.output
            (shared / "demo-run.done").touch()
    return folder


# -- data in a database (kpi_kit/sources): tests/test_sources.py, tests/test_sources_postgres.py ---------------
@pytest.fixture(scope="session")
def demo_file_run(tmp_path_factory):
    """The demo client rendered from its folder (funnel notebook): (metrics.json, kpis.csv text)."""
    import json

    from click.testing import CliRunner

    from kpi_kit.cli import main

    out = tmp_path_factory.mktemp("demo-files")
    result = CliRunner().invoke(main, ["run", str(ROOT / "data" / "clients" / "demo.yaml"), "--out", str(out),
                                       "--notebooks", "funnel", "--no-progress"])
    assert result.exit_code == 0, result.output
    folder = out / "demo" / "2026-10-31"
    return json.loads((folder / "metrics.json").read_text()), (folder / "kpis.csv").read_text()


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server for the session (tests/postgres.py); skips when no binaries exist."""
    from postgres import NoPostgres, PostgresServer

    try:
        server = PostgresServer.start()
    except NoPostgres as exc:
        pytest.skip(f"PostgreSQL tests need the server binaries: {exc}")
    try:
        yield server
    finally:
        server.stop()

