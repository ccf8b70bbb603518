"""Signals on every path of the command (issue 31): Ctrl-C while it starts, SIGTERM with the kernel engine,
the Dask executor (a signal to the batch, a worker killed mid-batch) and PDF printing.

Each test starts the real command in a subprocess with a TMPDIR of its own, waits for a marker (a file,
a folder, a process) that says the named moment has come, sends the signal, and checks: one line on
stderr, exit 128 + the signal, no traceback, no process left (every process the command started
inherits its TMPDIR, which is how they are found), nothing left in TMPDIR, nothing published after.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.long(65)  # seconds, measured with --durations=0: starts first under make test

FIXTURES = Path(__file__).parents[1] / "fixtures"
SLOW = FIXTURES / "slow_notebooks"
SCRIPT = Path(sys.executable).with_name("kpi-kit")  # the console entry point
KPI_KIT = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "kpi_kit.cli"]
CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


def _client(tmp_path: Path, name: str = "tiny") -> Path:
    text = (FIXTURES / "tiny.yaml").read_text().replace("data_dir: tiny", f"data_dir: {FIXTURES / 'tiny'}")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace("client: tiny", f"client: {name}"))
    return path


def _env(tmp_path: Path, **extra) -> dict:
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    return os.environ | {"TMPDIR": str(tmp), "MPLCONFIGDIR": str(tmp_path / "mpl")} | extra


def _as_from_a_terminal() -> None:
    """Ctrl-C at its default in the command, as a terminal starts it: a test run started in the background
    of a script ignores SIGINT, which its commands would inherit and, by design, keep ignoring."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(args, env: dict) -> subprocess.Popen:
    return subprocess.Popen([*KPI_KIT, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True, preexec_fn=_as_from_a_terminal)


def _wait_for(check, proc: subprocess.Popen, seconds: float = 180, what: str = "the marker"):
    """Poll ``check()`` until it is truthy (returned); fail if the command ended first or time ran out."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the command ended (exit {proc.returncode}) before {what}:\n{out}\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no {what} after {seconds} s")
        time.sleep(0.05)
    return found


def _signal(proc: subprocess.Popen, sig: int) -> tuple[str, str]:
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # Ctrl-C reaches the terminal's whole process group
    else:
        proc.send_signal(sig)  # kill, timeout, systemd: the command alone
    return proc.communicate(timeout=240)


def _one_line(proc: subprocess.Popen, err: str, sig: int, *, after: bool = False) -> str:
    """The interrupted line; ``after``: only what follows the last line the run printed before the signal
    (a Dask nanny's warning about the worker the test killed) is left out."""
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("Passed unknown parameter")]
    assert proc.returncode == CODES[sig], err
    assert "Traceback" not in err and "Error" not in "\n".join(lines[-1:]), err
    assert lines and lines[-1].startswith(f"interrupted ({signal.Signals(sig).name})"), err
    if not after:
        assert len(lines) == 1, err
    return lines[-1]


def _ours(tmp_path: Path) -> list[str]:
    """Live processes (not zombies) started by the test's command: they carry its TMPDIR."""
    marker = f"TMPDIR={tmp_path / 'tmp'}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            env = (proc / "environ").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in env and state != "Z":
            found.append(f"{proc.name}: {cmd[:200]}")
    return found


@pytest.fixture(autouse=True)
def _stop_what_a_failed_test_left(tmp_path):
    yield
    for line in _ours(tmp_path):
        with contextlib.suppress(OSError):
            os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)


def _nothing_left(tmp_path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while (left := _ours(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == [], left
    assert sorted(p.name for p in (tmp_path / "tmp").iterdir()) == [], "a temporary folder was left in TMPDIR"


def _notebooks(tmp_path: Path, cells: int = 300) -> Path:
    """A notebook of many short cells (so a signal lands while the kernel replies), the first of which
    leaves ``started-<client>`` beside it."""
    folder = tmp_path / "notebooks"
    folder.mkdir()

    def cell(i, source, **meta):
        return {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": meta, "outputs": [],
                "source": source}

    body = [cell(0, 'client = "x"\nnotebook_timeout_seconds = 1800', tags=["parameters"]),
            cell(1, "import time\nopen(f'started-{client}', 'w').close()")]
    body += [cell(i + 2, f"time.sleep(0.1)\nprint({i})") for i in range(cells)]
    nb = {"cells": body, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                       "name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    (folder / "busy.ipynb").write_text(json.dumps(nb))
    return folder


# -- Ctrl-C while the command starts ------------------------------------------------------------------
SLOW_IMPORT = """
import os, sys, time


class _SlowImport:  # the test's stand-in for a slow disk: the first import of pandas waits
    done = False

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" and not self.done:
            self.done = True
            open(os.environ["KPI_KIT_TEST_MARKER"], "w").close()
            time.sleep(120)
        return None


sys.meta_path.insert(0, _SlowImport())
"""


@pytest.mark.parametrize(("entry", "sig"), [("script", signal.SIGINT), ("script", signal.SIGTERM),
                                            ("module", signal.SIGINT)])
def test_a_signal_while_the_command_imports_the_kit_is_one_line(tmp_path, entry, sig):
    """Before: Ctrl-C while `kpi-kit` imported pandas printed an 18-line KeyboardInterrupt traceback."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SLOW_IMPORT)
    marker = tmp_path / "importing"
    env = _env(tmp_path, PYTHONPATH=str(site), KPI_KIT_TEST_MARKER=str(marker))
    cmd = KPI_KIT if entry == "script" else [sys.executable, "-m", "kpi_kit.cli"]
    if entry == "script" and not SCRIPT.exists():
        pytest.skip("the kpi-kit script is not installed beside this Python")
    proc = subprocess.Popen([*cmd, "validate", str(_client(tmp_path))], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True,
                            preexec_fn=_as_from_a_terminal)
    _wait_for(marker.exists, proc, 60, "the import of pandas")
    out, err = _signal(proc, sig)
    assert _one_line(proc, err, sig).endswith("while kpi-kit was starting: nothing was done."), err
    assert out == ""
    _nothing_left(tmp_path)


def test_the_command_guard_leaves_a_library_user_alone():
    """Only the command's own process changes its handlers: a notebook importing the kit keeps Ctrl-C."""
    code = "import signal, kpi_kit; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          preexec_fn=_as_from_a_terminal).stdout.strip() == "True"


# -- the kernel engine --------------------------------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_with_the_kernel_engine_is_one_line(tmp_path, sig):
    """Before: SIGTERM while Jupyter kernels ran cells printed the kernel's ZMQError traceback."""
    notebooks = _notebooks(tmp_path)
    out = tmp_path / "out"
    proc = _start(["run", _client(tmp_path), _client(tmp_path, "other"), "--out", out, "--notebook-dir", notebooks,
                   "--engine", "kernel", "--jobs", "2", "--no-progress"], _env(tmp_path))
    _wait_for(lambda: len(list(notebooks.glob("started-*"))) == 2, proc, what="both kernels running cells")
    _, err = _signal(proc, sig)
    _one_line(proc, err, sig)
    _nothing_left(tmp_path)
    assert sorted(p.name for p in out.rglob("*")) == ["other", "tiny"]  # no temporary folder, no report


# -- the Dask executor --------------------------------------------------------------------------------
needs_dask = pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                                reason="the dask executor needs dask.distributed")


def _batch_processes(tmp_path: Path) -> dict[int, int]:
    """pid -> worker pid of the ``python -m kpi_kit.run.batch`` processes a Dask worker started (one per
    running client; their forked children carry the same command line)."""
    ours = dict(line.split(": ", 1) for line in _ours(tmp_path))
    found = {}
    for pid, cmd in ours.items():
        if "-m kpi_kit.run.batch" in cmd:
            parent = (Path("/proc") / pid / "stat").read_text().rsplit(")", 1)[1].split()[1]
            if "-m kpi_kit.run.batch" not in ours.get(parent, "-m kpi_kit.run.batch"):
                found[int(pid)] = int(parent)
    return found


def _dask_batch(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / "out"
    proc = _start(["run", _client(tmp_path), _client(tmp_path, "other"), "--out", out, "--notebook-dir", SLOW,
                   "--executor", "dask", "--jobs", "2", "--no-progress"], _env(tmp_path))
    _wait_for(lambda: len(list(out.glob("*/.*.tmp-*"))) == 2, proc, 240, "both clients' notebooks running")
    return proc, out


@needs_dask
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_a_dask_batch_publishes_nothing_after_its_line(tmp_path, sig):
    """Before: SIGTERM said "published nothing", and the clients' processes, running on in the Dask
    workers, published both reports afterwards."""
    proc, out = _dask_batch(tmp_path)
    _, err = _signal(proc, sig)
    _one_line(proc, err, sig)
    _nothing_left(tmp_path)
    time.sleep(2)  # a client process running on would publish now
    assert sorted(p.name for p in out.rglob("*")) == ["other", "tiny"], "published after the line"


@needs_dask
def test_a_dask_worker_killed_mid_batch_takes_its_client_down(tmp_path):
    """Before: the client process of a killed worker ran on (and published later), and the worker's
    task folder stayed in TMPDIR."""
    psutil = pytest.importorskip("psutil")
    proc, out = _dask_batch(tmp_path)
    batch = _wait_for(lambda: _batch_processes(tmp_path), proc, what="a client process")
    client_pid, worker_pid = next(iter(batch.items()))
    runs = {p.pid for p in psutil.Process(client_pid).children(recursive=True)} | {client_pid}
    os.kill(worker_pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while psutil.pid_exists(client_pid) and psutil.Process(client_pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the killed worker's client process runs on"
        time.sleep(0.1)
    assert not [p for p in out.glob("*/.*.tmp-*") if int(p.name.rpartition("-")[2]) in runs], \
        "the killed worker's client left its temporary folder"
    _, err = _signal(proc, signal.SIGTERM)  # Dask runs the client again elsewhere: stop the batch
    _one_line(proc, err, signal.SIGTERM, after=True)
    _nothing_left(tmp_path)
    assert sorted(p.name for p in out.rglob("*")) == ["other", "tiny"]


# -- printing to PDF ------------------------------------------------------------------------------------
CHROMIUM = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
# Chromium prints a page in a second or two: to send the signal while it is printing, the kit is given a
# Chromium that prints for real and then does not return (as a slow or stuck print would)
STUCK_CHROMIUM = """#!/bin/sh
"{chromium}" "$@"
touch "$KPI_KIT_TEST_MARKER"
exec sleep 600
"""


def _stuck_chromium(tmp_path: Path) -> dict:
    wrapper = tmp_path / "chromium"
    wrapper.write_text(STUCK_CHROMIUM.format(chromium=CHROMIUM))
    wrapper.chmod(0o755)
    return _env(tmp_path, KPI_KIT_CHROMIUM=str(wrapper), KPI_KIT_TEST_MARKER=str(tmp_path / "printed"))


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    from kpi_kit.run import run_batch

    root = tmp_path_factory.mktemp("pdf")
    [r] = run_batch([_client(root)], root / "out", notebook_folder=FIXTURES / "notebooks", progress=False).results
    assert r.ok, r.error
    return r.folder


@needs_chromium
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_chromium_prints_removes_its_scratch_folder(tmp_path, run_folder, sig):
    """Before: SIGTERM of `kpi-kit pdf` exited without a word and left Chromium's profile (~3 MB) and the
    PDF it was printing in TMPDIR."""
    folder = tmp_path / "run"
    shutil.copytree(run_folder, folder)
    before = sorted(p.name for p in folder.iterdir())
    env = _stuck_chromium(tmp_path)
    proc = subprocess.Popen([*KPI_KIT, "pdf", str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)
    _wait_for(Path(env["KPI_KIT_TEST_MARKER"]).exists, proc, 120, "Chromium's print")
    assert list((tmp_path / "tmp").glob("kpi-kit-pdf-*/profile"))  # the scratch folder the signal must remove
    _, err = _signal(proc, sig)
    assert "scratch folder was removed" in _one_line(proc, err, sig)
    _nothing_left(tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == before  # no PDF, whole or half


@needs_chromium
def test_sigterm_while_run_pdf_prints_says_the_reports_were_published(tmp_path):
    env = _stuck_chromium(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.Popen([*KPI_KIT, "run", str(_client(tmp_path)), "--out", str(out), "--notebook-dir",
                             str(FIXTURES / "notebooks"), "--no-progress", "--pdf"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    _wait_for(Path(env["KPI_KIT_TEST_MARKER"]).exists, proc, 240, "Chromium's print")
    _, err = _signal(proc, signal.SIGTERM)
    assert "the reports were published" in _one_line(proc, err, signal.SIGTERM)
    _nothing_left(tmp_path)
    assert (out / "tiny" / "2026-03-31" / "index.html").is_file()
    assert not list(out.rglob("*.pdf")) and not list(out.rglob(".*.tmp-*"))
