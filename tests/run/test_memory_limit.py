"""The per-client memory limit (issues #31 and #32): a client whose processes hold more memory than
the limit stops with one message naming the limit and the fix, and the batch goes on."""

import os
import time
from pathlib import Path

import pytest

from kpi_kit.exceptions import KpiKitError
from kpi_kit.run import processes as pr
from kpi_kit.run import run_batch

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _hold(mb: int, seconds: float = 30.0):
    block = bytearray(mb * 1_000_000)  # touched below: resident, not just reserved
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(seconds)
    return len(block)


def test_sizes_parse():
    assert pr.parse_memory("4G") == 4000.0 and pr.parse_memory("500m") == 500.0 and pr.parse_memory("0") == 0.0
    with pytest.raises(KpiKitError, match="not a size"):
        pr.parse_memory("lots")


def test_the_default_shares_80_percent_of_the_machine_between_the_jobs():
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1e6
    assert pr.default_memory_limit_mb(2) == pytest.approx(0.8 * total / 2)
    assert pr.default_memory_limit_mb(0) == pytest.approx(0.8 * total)


def test_a_child_holding_more_than_the_limit_is_stopped_with_a_message(monkeypatch):
    """A child touching 300 MB under a 150 MB limit is killed within a poll or two, not when it ends."""
    monkeypatch.setenv(pr.MEMORY_ENV, "150")
    started = time.monotonic()
    match = r"notebook .channel. used \d+ MB of memory, over the per-client limit of 150 MB.*--max-memory"
    with pytest.raises(KpiKitError, match=match):
        pr.run_isolated(_hold, 300, label="notebook 'channel'")
    assert time.monotonic() - started < 20  # it held on for 30 s: stopped, not waited for


def test_a_child_under_the_limit_returns_its_result(monkeypatch):
    monkeypatch.setenv(pr.MEMORY_ENV, "2000")
    assert pr.run_isolated(_hold, 50, 0.6) == 50_000_000


def test_the_memory_of_a_process_tree_counts_its_children():
    child = pr.start_child(_hold, 120, 5.0)
    try:
        deadline = time.monotonic() + 10
        while pr.tree_memory_mb(child.pid) < 100 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pr.tree_memory_mb(child.pid) >= 100
    finally:
        child.kill_tree()
        child._reap()


def test_a_batch_stops_the_client_over_the_limit_and_goes_on(tmp_path):
    """Two clients under a limit far below what a client needs: each stops with the message, neither
    takes the batch down, and nothing is published."""
    other = tmp_path / "other.yaml"
    other.write_text((FIXTURES / "tiny.yaml").read_text().replace("client: tiny", "client: other")
                     .replace("data_dir: tiny", f"data_dir: {FIXTURES / 'tiny'}"))
    result = run_batch([FIXTURES / "tiny.yaml", other], tmp_path / "out", progress=False, jobs=2, max_memory_mb=20)
    assert len(result.failed) == 2
    assert all("over the per-client limit of 20 MB" in r.error for r in result.failed), [r.error for r in result.failed]
    assert not list((tmp_path / "out").glob("*/2026-03-31"))


def test_a_dask_cluster_of_its_own_holds_each_client_to_the_commands_limit(tmp_path, monkeypatch):
    """Before: the limit reached a client only through the command's environment, which the workers of a
    cluster started elsewhere do not share (a 20 MB limit let a 400 MB client through), and a client
    stopped on a worker was reported as a traceback. The cluster here starts with no limit of its own."""
    pytest.importorskip("dask.distributed")
    from dask.distributed import LocalCluster

    monkeypatch.delenv(pr.MEMORY_ENV, raising=False)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = run_batch([FIXTURES / "tiny.yaml"], tmp_path / "out", notebooks=["funnel"], progress=False,
                           executor="dask", scheduler=cluster.scheduler_address, max_memory_mb=20)
    [failed] = result.failed
    assert "over the per-client limit of 20 MB" in failed.error and "Traceback" not in failed.error, failed.error
    assert not list((tmp_path / "out").glob("*/2026-03-31"))
