"""Summary of a ``mutmut run`` over the metric layer (``make mutate``; issue #21).

Reads mutmut's per-file results (``mutants/<path>.meta``) and the reviewed list of equivalent
mutants (``tests/mutation/equivalent.yaml``) and prints, per module and in total: killed,
survived, no tests, timeout, other (suspicious, segfault, not checked), equivalent (listed and
not killed) and the mutation score

    score = (killed + timeout) / (mutants − skipped − equivalent)

and the raw score, the same with the equivalent mutants counted as survivors.

A timeout counts as killed (the mutant hangs: a test notices), a mutant no test reaches
("no tests") counts as a survivor. Every survivor that is not listed as equivalent is printed
with ``--survivors`` (``mutmut show <name>`` gives its diff).

A listed equivalent whose function changed since it was reviewed (its source hash differs) is
reported as *stale*: review it again and update the ``hash``. A listed mutant that the tests
now kill is reported too (drop it from the list).

Usage: ``python tests/mutation/summary.py [--survivors] [--fail-under 90] [--json out.json]``
(run from the repository root, after ``mutmut run``).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENT = Path(__file__).with_name("equivalent.yaml")

try:  # mutmut's own exit-code table when it is installed
    from mutmut.stats import status_by_exit_code as _STATUS
except Exception:  # pragma: no cover - the same table, for reading results without mutmut
    _STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
               36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout",
               37: "caught by type check", None: "not checked"}

COLUMNS = ("mutants", "killed", "survived", "no tests", "timeout", "other", "equivalent", "raw", "score")


def status_of(exit_code) -> str:
    return _STATUS.get(exit_code, "suspicious") if isinstance(_STATUS, dict) else _STATUS[exit_code]


def module_of(mutant: str) -> str:
    """``kpi_kit.metrics.economics.x_unit_economics__mutmut_3`` -> ``kpi_kit.metrics.economics``."""
    return mutant.rsplit(".", 1)[0]


def function_of(mutant: str) -> str:
    """The mangled function name mutmut hashes: ``x_unit_economics`` (``xǁClassǁmethod`` for methods)."""
    return mutant.rsplit(".", 1)[1].rsplit("__mutmut_", 1)[0]


def mutated_files(root: Path) -> list[str]:
    """The ``only_mutate`` patterns of ``[tool.mutmut]`` (every file when there are none)."""
    import tomllib

    cfg = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8")).get("tool", {}).get("mutmut", {})
    return cfg.get("only_mutate") or ["*"]


def load_results(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(status by mutant name, source hash by ``module.function``) from the ``.meta`` file of every file
    the configuration mutates (results of files dropped from ``only_mutate`` are left out)."""
    status, hashes = {}, {}
    patterns = mutated_files(root)
    for meta in sorted((root / "mutants").rglob("*.py.meta")):
        source = meta.relative_to(root / "mutants").with_suffix("")
        if not any(fnmatch.fnmatch(str(source), p) for p in patterns):
            continue
        data = json.loads(meta.read_text(encoding="utf-8"))
        module = ".".join(source.with_suffix("").parts)
        for name, code in data.get("exit_code_by_key", {}).items():
            status[name] = status_of(code)
        for fn, h in data.get("hash_by_function_name", {}).items():
            hashes[f"{module}.{fn}"] = h
    return status, hashes


def load_equivalent(path: Path = EQUIVALENT) -> list[dict]:
    if not path.exists():
        return []
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = doc.get("equivalent", []) if isinstance(doc, dict) else doc
    for e in entries:
        missing = {"mutant", "change", "reason"} - set(e)
        if missing:
            raise SystemExit(f"{path}: entry {e.get('mutant', e)} lacks {', '.join(sorted(missing))}")
    return entries


def summarise(status: dict[str, str], equivalent: list[dict]) -> tuple[dict[str, Counter], list[str]]:
    """Counts per module (plus ``total``) and the survivors not listed as equivalent."""
    listed = {e["mutant"] for e in equivalent}
    counts: dict[str, Counter] = defaultdict(Counter)
    open_survivors = []
    for name, st in sorted(status.items()):
        c = counts[module_of(name)]
        c["mutants"] += 1
        if st in ("killed", "caught by type check"):
            c["killed"] += 1
        elif st == "timeout":
            c["timeout"] += 1
        elif st == "skipped":
            c["skipped"] += 1
        elif st in ("survived", "no tests") and name in listed:
            c["equivalent"] += 1
        elif st in ("survived", "no tests"):
            c[st] += 1
            open_survivors.append(name)
        else:  # suspicious, segfault, not checked, interrupted
            c["other"] += 1
            open_survivors.append(name)
    total = Counter()
    for c in counts.values():
        total.update(c)
    counts["total"] = total
    for c in counts.values():
        base = c["mutants"] - c["skipped"] - c["equivalent"]
        c["score"] = 100.0 * (c["killed"] + c["timeout"]) / base if base else float("nan")
        raw = c["mutants"] - c["skipped"]  # equivalents counted as survivors
        c["raw"] = 100.0 * (c["killed"] + c["timeout"]) / raw if raw else float("nan")
    return counts, open_survivors


def review_problems(status: dict[str, str], hashes: dict[str, str], equivalent: list[dict]) -> list[str]:
    out = []
    for e in equivalent:
        name = e["mutant"]
        st = status.get(name)
        fn = f"{module_of(name)}.{function_of(name)}"
        if st is None:
            out.append(f"listed equivalent {name} does not exist any more: review the list")
        elif st in ("killed", "timeout", "caught by type check"):
            out.append(f"listed equivalent {name} is now {st}: drop it from the list")
        elif e.get("hash") and hashes.get(fn) and e["hash"] != hashes[fn]:
            out.append(f"listed equivalent {name}: {fn} changed since review (hash {e['hash']} -> {hashes[fn]})")
    return out


def table(counts: dict[str, Counter]) -> str:
    width = max(len(m) for m in counts)
    lines = [f"{'module':<{width}}  " + "  ".join(f"{c:>10}" for c in COLUMNS)]
    for module in [*sorted(m for m in counts if m != "total"), "total"]:
        c = counts[module]
        cells = [f"{c[k]:>10}" for k in COLUMNS[:-2]] + [f"{c['raw']:>9.1f}%", f"{c['score']:>9.1f}%"]
        if module == "total":
            lines.append("-" * len(lines[0]))
        lines.append(f"{module:<{width}}  " + "  ".join(cells))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=ROOT, help="repository root (holds mutants/)")
    ap.add_argument("--equivalent", type=Path, default=EQUIVALENT)
    ap.add_argument("--survivors", action="store_true", help="list every survivor not listed as equivalent")
    ap.add_argument("--fail-under", type=float, default=None, help="exit 1 when the total score is below this")
    ap.add_argument("--json", type=Path, default=None, help="also write the counts as JSON")
    args = ap.parse_args(argv)

    status, hashes = load_results(args.root)
    if not status:
        print("no mutation results under mutants/: run `mutmut run` (or `make mutate`) first", file=sys.stderr)
        return 2
    equivalent = load_equivalent(args.equivalent)
    counts, survivors = summarise(status, equivalent)
    print(table(counts))
    where = args.equivalent.relative_to(args.root) if args.equivalent.is_relative_to(args.root) else args.equivalent
    print(f"\nscore = (killed + timeout) / (mutants - skipped - equivalent); raw = the same with equivalents counted "
          f"as survivors; {len(equivalent)} mutants listed as equivalent in {where}")
    problems = review_problems(status, hashes, equivalent)
    for p in problems:
        print("review:", p)
    if args.survivors:
        print(f"\n{len(survivors)} survivors not listed as equivalent (`mutmut show <name>` for the diff):")
        for name in survivors:
            print(f"  {name}  [{status[name]}]")
    elif survivors:
        print(f"{len(survivors)} survivors not listed as equivalent: `python tests/mutation/summary.py --survivors`")
    if args.json:
        args.json.write_text(json.dumps({m: dict(c) for m, c in counts.items()}, indent=2), encoding="utf-8")
    if args.fail_under is not None and not counts["total"]["score"] >= args.fail_under:
        print(f"FAIL: mutation score {counts['total']['score']:.1f}% is under {args.fail_under}%", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
