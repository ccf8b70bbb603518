"""Forked children and signals (kpi_kit.run.processes): a stop must end a run even when the code it runs
swallows the exception the signal raised, as asyncio's callbacks (an in-process kernel's), destructors and
bare ``except`` blocks do.

Before: such a child ignored every later SIGTERM (one unwinding at a time), ran its notebook to the end and
published after the command had said "interrupted" (about one run in five of the Dask signal test).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from kpi_kit.run import processes as pr


def _swallow_for(seconds: float) -> None:
    """Sleep, catching whatever a signal raises, as code that runs on after it would."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            time.sleep(0.02)
        except BaseException:  # noqa: BLE001, S110 - what the test is about
            pass


def _swallows_then_returns(seconds: float, ready: str) -> str:
    Path(ready).write_text("ready")  # its signal handlers are set: the test may signal it now
    _swallow_for(seconds)
    return "ran on"


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for_file(path: Path, seconds: float = 20) -> str:
    deadline = time.monotonic() + seconds
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"no {path.name}"
        time.sleep(0.02)
    return path.read_text()


def test_a_child_that_swallows_its_stop_ends_at_the_deadline(tmp_path, monkeypatch):
    monkeypatch.setattr(pr, "STOP_DEADLINE_SECONDS", 1.0)  # read by the child when it starts
    child = pr.start_child(_swallows_then_returns, 30.0, str(tmp_path / "ready"), label="a stubborn run")
    _wait_for_file(tmp_path / "ready")
    started = time.monotonic()
    child.kill(signal.SIGTERM)
    with pytest.raises(pr.Interrupted):  # exit 130 and no result: it did not return "ran on"
        child.result(timeout=25)
    assert time.monotonic() - started < 5, "the child ran on after its deadline"


def _waits_after_swallowing(pid_file: str) -> str:
    """A client's process: starts its notebook's process, swallows the stop, then waits for the notebook."""
    notebook = pr.start_child(time.sleep, 30.0, label="notebook")
    Path(pid_file).write_text(str(notebook.pid))
    _swallow_for(2.0)
    return notebook.result()


def test_a_swallowed_stop_is_raised_again_at_the_next_wait_and_stops_the_child(tmp_path, monkeypatch):
    monkeypatch.setattr(pr, "STOP_DEADLINE_SECONDS", 60.0)  # so it is the wait, not the deadline, that ends it
    pid_file = tmp_path / "notebook.pid"
    client = pr.start_child(_waits_after_swallowing, str(pid_file), label="a client")
    notebook_pid = int(_wait_for_file(pid_file))
    started = time.monotonic()
    client.kill(signal.SIGTERM)
    with pytest.raises(pr.Interrupted):
        client.result(timeout=50)
    assert time.monotonic() - started < 10, "the client waited for its notebook instead of stopping"
    assert not _alive(notebook_pid), "the notebook's process outlived its client"


def _starts_after_swallowing(marker: str, ready: str) -> None:
    Path(ready).write_text("ready")
    _swallow_for(1.0)
    pr.start_child(Path(marker).write_text, "started")


def test_a_stopped_process_starts_no_child(tmp_path):
    marker = tmp_path / "started"
    child = pr.start_child(_starts_after_swallowing, str(marker), str(tmp_path / "ready"))
    _wait_for_file(tmp_path / "ready")
    child.kill(signal.SIGTERM)
    with pytest.raises(pr.Interrupted):
        child.result(timeout=25)
    assert not marker.exists()


def test_stop_kills_a_child_that_does_not_end_within_its_grace(tmp_path, monkeypatch):
    monkeypatch.setattr(pr, "STOP_DEADLINE_SECONDS", 60.0)
    child = pr.start_child(_swallows_then_returns, 30.0, str(tmp_path / "ready"))
    _wait_for_file(tmp_path / "ready")
    started = time.monotonic()
    child.stop(grace=0.5)
    assert time.monotonic() - started < 5
    assert not _alive(child.pid)


def test_raise_if_interrupted_only_after_a_signal(monkeypatch):
    pr.raise_if_interrupted()  # nothing arrived: nothing raised
    monkeypatch.setattr(pr, "_interrupted", signal.SIGTERM)
    with pytest.raises(pr.Interrupted) as caught:
        pr.raise_if_interrupted()
    assert caught.value.exit_code == 143
