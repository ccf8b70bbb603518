"""Issue 31, the input half: imports that cannot lose rows, CSV cells that cannot run as formulas,
bounded inputs (no FIFO hangs, limits per cell and per file) and reading what the client meant
(local days of timestamps with an offset, repeated columns and YAML keys, Windows-1252 and UTF-16)."""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from kpi_kit.cli import main
from kpi_kit.data import load_client, read_raw
from kpi_kit.exceptions import DataError, KpiKitError, ParamsError
from kpi_kit.importers import import_files, import_frame
from kpi_kit.params import load_params

pytestmark = pytest.mark.long(15)  # seconds, measured with --durations=0: starts first under make test

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = FIXTURES / "importers"
KPI_KIT = Path(sys.executable).parent / "kpi-kit"
FORMULA = "=cmd|' /C calc'!A0"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _chan(tmp_path: Path, edit=None, yaml_text: str = "", *, replace: bool = True) -> Path:
    """A copy of the channel fixture client (files changed by ``edit(folder)``), its YAML with the
    keys of ``yaml_text`` (replacing the fixture's, unless ``replace`` is false)."""
    shutil.copytree(FIXTURES / "chan", tmp_path / "chan")
    if edit:
        edit(tmp_path / "chan")
    keys = {ln.split(":", 1)[0] for ln in yaml_text.splitlines()} if replace else set()
    kept = [ln for ln in (FIXTURES / "chan.yaml").read_text().splitlines() if ln.split(":", 1)[0] not in keys]
    (tmp_path / "chan.yaml").write_text("\n".join(kept) + "\n" + yaml_text)
    return tmp_path / "chan.yaml"


def _set_cell(stem: str, row: int, column: str, value: str):
    """An ``edit`` that writes ``value`` into data row ``row`` (1 = the first under the header)."""
    def edit(folder):
        df = pd.read_csv(folder / f"{stem}.csv", dtype=str, keep_default_na=False)
        df.loc[row - 1, column] = value
        df.to_csv(folder / f"{stem}.csv", index=False)
    return edit


def _validate(yaml: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """``kpi-kit validate`` in a process of its own, so a hang fails the test instead of stalling it."""
    return subprocess.run([str(KPI_KIT), "validate", str(yaml)], capture_output=True, text=True, timeout=timeout)


def _contacts(first: int, n: int) -> pd.DataFrame:
    return pd.DataFrame({"contact_id": [f"C{i:06d}" for i in range(first, first + n)], "created_at": "2026-01-05",
                         "channel": "web"})


# -- 1. imports that cannot lose rows -------------------------------------------------------------------------
_SLOW_IMPORT = """
import sys, time
from pathlib import Path
import pandas as pd
import kpi_kit.importers as imp

target, first, n, pause, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
slowed = "merge_into_database" if mode == "duckdb" else "merge_into"
original = getattr(imp, slowed)
def slow(*args, **kwargs):  # widen the window between reading the file and writing it
    out = original(*args, **kwargs)
    time.sleep(pause)
    return out
setattr(imp, slowed, slow)
frame = pd.DataFrame({"contact_id": [f"C{i:06d}" for i in range(first, first + n)], "created_at": "2026-01-05",
                      "channel": "web"})
Path(target + f".ready{first}").touch()
while not Path(target + ".go").exists():
    time.sleep(0.01)
print(imp.import_frame(frame, "contacts", target, label=f"part{first}.csv"))
"""


def _import_at_once(target: Path, n: int, mode: str = "folder", pause: float = 1.5) -> list[subprocess.CompletedProcess]:
    """Two processes importing ``n`` contacts each into ``target`` at the same moment."""
    procs = [subprocess.Popen([sys.executable, "-c", _SLOW_IMPORT, str(target), str(first), str(n), str(pause), mode],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for first in (0, n)]
    deadline = time.monotonic() + 120
    while not all(Path(f"{target}.ready{first}").exists() for first in (0, n)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.02)
    Path(f"{target}.go").touch()
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        out.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    return out


def test_two_imports_into_one_folder_at_once_keep_every_row(tmp_path):
    """Before: both exited 0 and said their rows were written, and the file held one import's rows."""
    data = tmp_path / "acme"
    data.mkdir()
    results = _import_at_once(data, 5000)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    contacts = pd.read_csv(data / "contacts.csv", dtype=str)
    assert len(contacts) == 10_000 and contacts["contact_id"].is_unique
    log = json.loads((data / "import_log.json").read_text())
    assert log["files"]["contacts"]["rows"] == 10_000  # the log counts what is in the file afterwards
    assert sorted(e["export"] for e in log["imports"]) == ["part0.csv", "part5000.csv"]
    assert sorted(os.listdir(data)) == ["contacts.csv", "import_log.json"]  # no lock file left behind
    load_client(load_params(_yaml_for(tmp_path, data)))  # and the folder loads


def _yaml_for(tmp_path: Path, data: Path) -> Path:
    path = tmp_path / "acme.yaml"
    path.write_text(f"client: acme\ndata_dir: {data}\nas_of: 2026-03-31\n")
    return path


def test_two_imports_into_one_duckdb_file_at_once_keep_every_row(tmp_path):
    """Before: the second import could not open the file DuckDB's writer held, and stopped."""
    pytest.importorskip("duckdb")
    import duckdb

    target = tmp_path / "w.duckdb"
    results = _import_at_once(target, 2000, mode="duckdb", pause=1.0)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.sql("SELECT count(DISTINCT contact_id) FROM contacts").fetchall() == [(4000,)]


def test_an_import_waits_for_the_lock_then_stops_with_a_message(tmp_path):
    data = tmp_path / "acme"
    data.mkdir()
    fd = os.open(data, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another import holding the folder
        with pytest.raises(KpiKitError, match="another kpi-kit import .* nothing was written"):
            import_frame(_contacts(0, 3), "contacts", data, label="a.csv", wait=0.3)
        result = CliRunner().invoke(main, ["import", "mapping", str(SAMPLES / "pipeline.csv"), "--mapping",
                                           str(SAMPLES / "pipeline_mapping.yaml"), "--out", str(data), "--wait", "0.2"])
        assert result.exit_code == 1 and "another kpi-kit import" in result.output and "Traceback" not in result.output
    finally:
        os.close(fd)
    assert not list(data.iterdir())
    fd = os.open(data, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    threading.Timer(0.5, os.close, [fd]).start()  # the other import finishes in half a second
    report = import_frame(_contacts(0, 3), "contacts", data, label="a.csv", wait=30)
    assert "waited" in str(report) and len(pd.read_csv(data / "contacts.csv")) == 3


# -- 2. CSV cells that cannot run as formulas -----------------------------------------------------------------
def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _live(rows: list[list[str]], numeric: set[int] = frozenset()) -> list[str]:
    """Cells a spreadsheet would run as a formula (numbers left out)."""
    out = []
    for row in rows:
        for i, cell in enumerate(row):
            if cell.startswith(TRIGGERS) and i not in numeric:
                try:
                    float(cell)
                except ValueError:
                    out.append(cell)
    return out


def test_kpis_csv_and_the_portfolio_csv_carry_no_live_formula(tmp_path):
    """Before: a channel named =cmd|' /C calc'!A0 reached kpis.csv and the portfolio kpis.csv as it was."""
    from kpi_kit.metrics import compute
    from kpi_kit.run.portfolio import _read_kpis, portfolio_body, write_union
    from kpi_kit.run.publish import write_metrics

    def hostile(folder):
        for p in folder.glob("*.csv"):
            p.write_text(p.read_text().replace("linkedin", '"' + FORMULA.replace('"', '""') + '"')
                         .replace("referral", "@SUM(1+1)").replace("Brand", "+Brand").replace("ABM", "-ABM"))
    yaml = _chan(tmp_path, hostile, 'channel_map: {"google / cpc": Paid Search, "bing / cpc": Paid Search}\n')
    data = load_client(load_params(yaml))
    assert FORMULA in set(data["contacts"]["channel"])
    run = tmp_path / "out" / "chan" / "2026-03-31"
    run.mkdir(parents=True)
    (run / "index.html").write_text("<html></html>")
    metrics = compute(data)
    write_metrics(run, metrics, ["funnel"])
    rows = _cells((run / "kpis.csv").read_text())
    header = rows[0]
    numeric = {header.index(c) for c in ("value", "n", "low", "high")}
    assert _live(rows[1:], numeric) == []
    values = [r[header.index("dimension_value")] for r in rows[1:]]
    assert "'" + FORMULA in values and "'@SUM(1+1)" in values
    negative = [r[header.index("value")] for r in rows[1:] if r[header.index("value")].startswith("-")]
    assert all(float(v) < 0 for v in negative)  # a negative number stays a number
    back = _read_kpis(run)  # the kit reads its own file back as computed
    assert FORMULA in set(back["dimension_value"].dropna())
    expected = metrics.kpis()
    assert back["dimension_value"].fillna("").tolist() == expected["dimension_value"].fillna("").tolist()
    _, union = portfolio_body(tmp_path / "out")
    write_union(tmp_path / "out", union)
    union_rows = _cells((tmp_path / "out" / "kpis.csv").read_text())
    assert _live(union_rows[1:], numeric) == [] and "'" + FORMULA in [r[header.index("dimension_value")]
                                                                      for r in union_rows[1:]]


def test_import_output_is_neutralised_and_read_back_as_imported(tmp_path):
    """Importer output is the client's data: written safe to open, read back by the kit unchanged."""
    frame = pd.DataFrame({"contact_id": ["A1", "A2", "A3", "A4", "A5"], "created_at": "2026-01-05",
                          "channel": [FORMULA, "@SUM(1)", "'=already quoted", "-0.31", "web"],
                          "segment": ["+44 20", "\tTab", "SMB", "-", "Mid"]})
    data = tmp_path / "acme"
    import_frame(frame, "contacts", data, label="crm.csv")
    text = (data / "contacts.csv").read_text()
    rows = _cells(text)
    assert _live(rows[1:]) == []
    assert "'" + FORMULA in text and "''=already quoted" in text and ",-0.31," in text
    loaded = load_client(load_params(_yaml_for(tmp_path, data)))["contacts"].set_index("contact_id")
    assert loaded["channel_raw"].to_dict() == dict(zip(frame["contact_id"], frame["channel"]))
    assert loaded.loc["A4", "segment"] == "-" and loaded.loc["A1", "segment"] == "+44 20"
    import_frame(frame, "contacts", data, label="crm.csv")  # merging reads the cells back too: no change
    assert (data / "contacts.csv").read_text() == text
    raw = read_raw(data / "contacts.csv")
    assert raw["channel"].tolist()[0] == FORMULA


# -- 3. bounded inputs ---------------------------------------------------------------------------------------
def _fifo(path: Path):
    def edit(folder):
        (folder / path).unlink(missing_ok=True)
        os.mkfifo(folder / path)
    return edit


@pytest.mark.parametrize("kind, edit, said", [
    ("fifo", _fifo(Path("contacts.csv")), "named pipe (FIFO)"),
    ("folder", lambda f: ((f / "contacts.csv").unlink(), (f / "contacts.csv").mkdir()), "a folder"),
    ("device", lambda f: ((f / "deals.csv").unlink(), (f / "deals.csv").symlink_to("/dev/zero")), "character device"),
])
def test_a_data_file_that_is_not_a_regular_file_is_refused_not_read(tmp_path, kind, edit, said):
    """Before: a FIFO made validate and run hang without a word; /dev/zero never ended."""
    result = _validate(_chan(tmp_path, edit))
    assert result.returncode == 1, result.stdout
    line = result.stderr.strip()
    assert said in line and "not a regular file" in line and len(line.splitlines()) == 1 and "Traceback" not in line


def test_an_export_or_a_yaml_that_is_a_fifo_is_refused_not_read(tmp_path):
    os.mkfifo(tmp_path / "export.csv")
    result = subprocess.run([str(KPI_KIT), "import", "hubspot-contacts", str(tmp_path / "export.csv"), "--out",
                             str(tmp_path / "out")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "named pipe (FIFO)" in result.stderr and "Traceback" not in result.stderr
    os.mkfifo(tmp_path / "client.yaml")
    with pytest.raises(ParamsError, match="named pipe"):
        load_params(tmp_path / "client.yaml")


def test_a_cell_above_max_cell_chars_stops_naming_file_column_and_row(tmp_path):
    """Before: one 10 MB channel name ran a client 206 s into a MemoryError, with no word of the cell."""
    yaml = _chan(tmp_path, _set_cell("contacts", 3, "channel", "x" * 5000), "max_cell_chars: 1000\n")
    with pytest.raises(DataError) as err:
        load_client(load_params(yaml))
    assert (err.value.file, err.value.column, err.value.rows) == ("contacts.csv", "channel", [4])
    assert "5,000 characters" in str(err.value) and "max_cell_chars" in str(err.value)
    assert load_client(load_params(_chan(tmp_path / "b", _set_cell("contacts", 3, "channel", "x" * 500),
                                         "max_cell_chars: 1000\n")))
    # the default holds a 10 MB cell back too, and a run stops before any notebook
    yaml = _chan(tmp_path / "c", _set_cell("contacts", 2, "channel", "y" * 10_001))
    result = CliRunner().invoke(main, ["run", str(yaml), "--out", str(tmp_path / "out"), "--notebooks", "funnel",
                                       "--no-progress"])
    assert result.exit_code == 1 and "contacts.csv, column 'channel'" in result.output and "rows 3" in result.output
    assert not list((tmp_path / "out").rglob("funnel.html"))


def test_a_file_above_max_file_mb_stops_before_it_is_read(tmp_path):
    yaml = _chan(tmp_path, yaml_text="max_file_mb: 0.0001\n")  # 100 bytes
    with pytest.raises(DataError, match=r"contacts.csv: the file is 0.0 MB, above max_file_mb \(0.0001 MB\)"):
        load_client(load_params(yaml))


@pytest.mark.parametrize("line, said", [("max_cell_chars: 0", "max_cell_chars': Input should be greater than or equal to 1"),
                                        ("max_file_mb: -1", "max_file_mb': Input should be greater than 0"),
                                        ("max_cell_chars: many", "max_cell_chars': Input should be a valid integer")])
def test_the_limits_are_validated_like_other_parameters(tmp_path, line, said):
    assert load_params(_chan(tmp_path / "ok", yaml_text="max_cell_chars: 50\nmax_file_mb: 0.5\n")).max_file_mb == 0.5
    with pytest.raises(ParamsError, match=said):
        load_params(_chan(tmp_path, yaml_text=line + "\n"))


# -- 5. reading what the client meant ------------------------------------------------------------------------
def test_a_timestamp_with_an_offset_keeps_its_local_day(tmp_path):
    """Before: 2026-01-31T23:30:00-05:00 was converted to UTC and truncated: 1 February."""
    def edit(folder):
        df = pd.read_csv(folder / "contacts.csv", dtype=str, keep_default_na=False)
        df.loc[0, "created_at"] = "2026-01-04T23:30:00-05:00"
        df.loc[0, "lead_at"] = "2026-01-05T00:30:00+02:00"  # another offset in the same file
        df.loc[1, "created_at"] = "2026-01-20T23:59:59Z"
        df.to_csv(folder / "contacts.csv", index=False)
    c = load_client(load_params(_chan(tmp_path, edit)))["contacts"].set_index("contact_id")
    assert c.loc["K1", "created_at"] == pd.Timestamp("2026-01-04") and c.loc["K1", "lead_at"] == pd.Timestamp("2026-01-05")
    assert c.loc["K2", "created_at"] == pd.Timestamp("2026-01-20")
    export = tmp_path / "export.csv"
    export.write_text("deal,created,stage,value\nD1,2026-01-31T23:30:00-05:00,Won,10\nD2,2026-01-31T22:00:00+01:00,Won,5\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("target: deals\ncolumns:\n  deal_id: deal\n  created_at: {column: created, kind: date}\n"
                       "  closed_at: {column: created, kind: date}\n  amount: {column: value, kind: money}\n"
                       "  status: {column: stage, values: {Won: won}}\n")
    import_files("mapping", [export], tmp_path / "imp", mapping=mapping)
    assert pd.read_csv(tmp_path / "imp" / "deals.csv")["created_at"].tolist() == ["2026-01-31", "2026-01-31"]


def test_a_column_given_twice_stops_with_a_message(tmp_path):
    """Before: a file with two created_at columns validated and the second was silently ignored."""
    def edit(folder):
        text = (folder / "contacts.csv").read_text().splitlines()
        (folder / "contacts.csv").write_text("\n".join([text[0] + ",created_at"] + [ln + ",2020-01-01" for ln in text[1:]])
                                             + "\n")
    with pytest.raises(DataError, match=r"contacts.csv, column 'created_at': the column appears twice in the header "
                                        r"\(columns 2 and 9\)"):
        load_client(load_params(_chan(tmp_path, edit)))
    export = tmp_path / "export.csv"
    export.write_text((SAMPLES / "hubspot_contacts.csv").read_text(encoding="utf-8-sig")
                      .replace("First Name", "Create Date", 1))
    with pytest.raises(DataError, match=r"'Create Date' \(columns 2 and 3 of export.csv\)"):
        import_files("hubspot-contacts", [export], tmp_path / "imp")
    assert not (tmp_path / "imp").exists()


def test_a_client_yaml_or_a_mapping_with_a_key_given_twice_stops(tmp_path):
    """Before: the later value won, silently."""
    yaml = _chan(tmp_path, yaml_text="window_months: 6\n", replace=False)  # the fixture says 3
    with pytest.raises(ParamsError, match=r"the key 'window_months' is given twice \(lines \d+ and \d+\)"):
        load_params(yaml)
    mapping = tmp_path / "m.yaml"
    mapping.write_text((SAMPLES / "pipeline_mapping.yaml").read_text() + "target: contacts\n")
    with pytest.raises(DataError, match="the key 'target' is given twice"):
        import_files("mapping", [SAMPLES / "pipeline.csv"], tmp_path / "imp", mapping=mapping)
    # a merge key (<<) may be overridden: that is not a repeated key
    from kpi_kit._inputs import load_yaml

    assert load_yaml("a: &a {x: 1, y: 2}\nb:\n  <<: *a\n  x: 3\n")["b"] == {"x": 3, "y": 2}


def _export_hubspot(tmp_path: Path, encoding: str, name: str = "export.csv") -> Path:
    text = (SAMPLES / "hubspot_contacts.csv").read_text(encoding="utf-8-sig").replace("Organic Search", "Búsqueda orgánica")
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding, said", [("cp1252", "Windows-1252"), ("utf-16", "UTF-16"),
                                            ("utf-16-le", "UTF-16")])
def test_windows_1252_and_utf16_exports_are_converted_and_the_log_says_so(tmp_path, encoding, said):
    """Before: Windows-1252 gave U+FFFD in every accented name; UTF-16 was refused as "a binary file"."""
    report = import_files("hubspot-contacts", [_export_hubspot(tmp_path, encoding)], tmp_path / "imp")
    contacts = pd.read_csv(tmp_path / "imp" / "contacts.csv", dtype=str)
    assert "Búsqueda orgánica" in set(contacts["channel"]) and not contacts["channel"].str.contains("\ufffd").any()
    assert f"read as {said}" in str(report)
    entry = json.loads((tmp_path / "imp" / "import_log.json").read_text())["imports"][0]
    assert entry["encoding"] == said
    assert any(i["kind"] == "converted" and said in i["issue"] for i in entry["issues"])
    assert entry["rows_in_export"] == entry["rows_imported"] + entry["rows_set_aside"]


def test_an_export_in_neither_encoding_names_it(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"Record ID,Create Date,Original Source\n1,2024-01-05,caf" + b"\x81\x8d\n")
    with pytest.raises(DataError, match="neither UTF-8 nor Windows-1252 .*byte 0x81 on line 2"):
        import_files("hubspot-contacts", [path], tmp_path / "imp")


@pytest.mark.parametrize("encoding, said", [("cp1252", r"is not UTF-8 \(byte 0xFA on line \d+.*Windows-1252"),
                                            ("utf-16", "is UTF-16"), ("utf-16-le", "UTF-16 without a byte-order mark")])
def test_a_contract_csv_not_in_utf8_names_its_encoding(tmp_path, encoding, said):
    def edit(folder):
        text = (folder / "contacts.csv").read_text().replace("Podcast", "Podcast Búsqueda")
        (folder / "contacts.csv").write_bytes(text.encode(encoding))
    with pytest.raises(DataError, match=said) as err:
        load_client(load_params(_chan(tmp_path, edit)))
    assert err.value.file == "contacts.csv" and "kpi-kit import" in err.value.fix
