"""Reading what a client gave, bounded and as the client meant it (issue 31).

* :func:`regular_file`: a data file, an export or a YAML is a regular file; a FIFO, a device or a
  folder named ``contacts.csv`` is refused with one message instead of hanging the read.
* :func:`check_file_size` and :func:`check_cells`: a file above ``max_file_mb`` or a cell above
  ``max_cell_chars`` stops the load with a message naming the file, the column and the rows, before
  any notebook runs (one 10 MB channel name once ran a notebook out of memory).
* :func:`decode_export` and :func:`encoding_problem`: UTF-8, UTF-8 with a byte-order mark, UTF-16 and
  UTF-32 (by their byte-order mark) and Windows-1252 (Excel's "CSV" on Windows: not valid UTF-8, but
  valid Windows-1252) are told apart; an importer converts and says so, the loader of contract files
  names the encoding it found.
* :func:`local_days`: a timestamp with a UTC offset (``2026-01-31T23:30:00-05:00``) keeps its own,
  local calendar day (31 January), not the day of the same instant in UTC.
* :func:`load_yaml`: a YAML mapping that gives the same key twice is an error, not "the later wins".
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from pathlib import Path

import pandas as pd
import yaml

from .exceptions import DataError

MB = 1_000_000  # max_file_mb counts decimal megabytes, as file managers show them

# -- regular files -----------------------------------------------------------------------------------------
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def regular_file(path, label: str | None = None) -> os.stat_result:
    """``os.stat`` of ``path`` (links followed) when it is a regular file; a :class:`DataError` naming
    what it is otherwise. Checked before the file is opened: opening a FIFO blocks until a writer
    comes, and a device such as ``/dev/zero`` never ends."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        raise DataError(label or str(path), None, f"is {kind}, not a regular file: it cannot be read as data",
                        "replace it with the exported file itself (a regular CSV, Parquet or YAML file)")
    return st


def check_file_size(path, size: int, max_file_mb: float, label: str | None = None) -> None:
    """Stop on a file larger than ``max_file_mb`` (the client's parameter), before it is read."""
    if size > max_file_mb * MB:
        raise DataError(label or str(path), None,
                        f"the file is {size / MB:,.1f} MB, above max_file_mb ({max_file_mb:g} MB)",
                        "check that it is the right export (a data file of that size is usually a wrong one); "
                        "if it is, raise max_file_mb in the client's YAML")


def _short(name) -> str:
    text = str(name)
    return text if len(text) <= 60 else text[:57] + "..."


def check_cells(raw: pd.DataFrame, label: str, max_cell_chars: int, offset: int = 2) -> None:
    """Stop on a column name or a text cell longer than ``max_cell_chars`` characters; the message
    names the file, the column and the rows (``offset``: the line of the first row, 2 under a CSV's
    header)."""
    for name in raw.columns:
        if len(str(name)) > max_cell_chars:
            raise DataError(label, _short(name), f"a column name of {len(str(name)):,} characters "
                            f"(above max_cell_chars, {max_cell_chars:,})",
                            "correct the header line (a name that long is an export error)", [1] if offset == 2 else [])
    for name in raw.columns:
        s = raw[name]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        try:
            lengths = s.str.len()
        except AttributeError:  # an object column without text (numbers a recipe built)
            continue
        if (lengths > max_cell_chars).any():
            long = (lengths > max_cell_chars).to_numpy()
            rows = [int(i) + offset for i in long.nonzero()[0]]
            raise DataError(label, _short(name),
                            f"a cell of {int(lengths.max()):,} characters (above max_cell_chars, {max_cell_chars:,})",
                            "correct the cell (a name, id or channel is a few dozen characters: a longer one is "
                            "an export error, such as a document pasted into a cell), or raise max_cell_chars in "
                            "the client's YAML", rows)


# -- encodings ---------------------------------------------------------------------------------------------
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
         (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with a byte-order mark"),
         (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"), (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))
CP1252 = "Windows-1252"


def bom_encoding(head: bytes) -> tuple[str, str] | None:
    """(codec, name) of the byte-order mark ``head`` starts with, if any (UTF-32 before UTF-16: its
    little-endian mark starts with UTF-16's)."""
    return next(((codec, name) for bom, codec, name in _BOMS if head.startswith(bom)), None)


def utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le`` / ``utf-16-be`` for text whose every other byte is 0 (UTF-16 of Latin text
    without a byte-order mark), else None."""
    sample = sample[: 4096 - 4096 % 2]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    z_even, z_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    codec = "utf-16-le" if z_odd > 0.3 and z_even < 0.05 else "utf-16-be" if z_even > 0.3 and z_odd < 0.05 else None
    if codec is None:
        return None
    text = sample.decode(codec, errors="replace")  # and it reads as text: not a binary file with many zeros
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return codec if printable >= 0.95 * len(text) else None


def _where(raw: bytes, pos: int) -> str:
    line = raw.count(b"\n", 0, pos) + 1
    return f"byte 0x{raw[pos]:02X} on line {line:,}"


def decode_export(raw: bytes, label: str) -> tuple[str, str | None, str]:
    """(text, encoding converted from, detail) of an export: the encoding is None for UTF-8 (with or
    without a byte-order mark), else ``UTF-16``, ``UTF-32`` or ``Windows-1252``, and the detail says how
    it was told (`` (byte-order mark)``, `` (not valid UTF-8: byte 0xE9 on line 2)``). A
    :class:`DataError` naming the encoding when it is none of them."""
    found = bom_encoding(raw[:4])
    if found is not None:
        codec, name = found
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError as exc:
            raise DataError(label, None, f"starts with the byte-order mark of {name} but is not valid {name} "
                            f"({_where(raw, exc.start)})", "export it again as UTF-8 CSV") from None
        return (text, None, "") if codec == "utf-8-sig" else (text, name, " (byte-order mark)")
    if (codec := utf16_without_bom(raw[:4096])) is not None:
        try:
            return raw.decode(codec), "UTF-16", f" ({codec[-2:].upper()}, without a byte-order mark)"
        except UnicodeDecodeError:
            pass  # not UTF-16 after all: the binary check refuses it
    try:
        return raw.decode("utf-8"), None, ""
    except UnicodeDecodeError as exc:
        bad = exc.start
    try:
        return raw.decode("cp1252"), CP1252, f" (not valid UTF-8: {_where(raw, bad)})"
    except UnicodeDecodeError as exc:
        raise DataError(label, None, f"is neither UTF-8 nor {CP1252} ({_where(raw, bad)} is not UTF-8, "
                        f"{_where(raw, exc.start)} not {CP1252})",
                        "export it again as UTF-8 CSV (Excel: Save As > CSV UTF-8)") from None


def encoding_problem(path: Path, chunk: int = 1 << 20) -> str | None:
    """Why a contract CSV is not UTF-8, naming the encoding it has (a UTF-16 or UTF-32 byte-order mark,
    Windows-1252, binary), or None when it is UTF-8. Reads the file once, in chunks."""
    with open(path, "rb") as f:
        head = f.read(4096)
        found = bom_encoding(head[:4])
        if found is not None and found[0] != "utf-8-sig":
            return f"is {found[1]} (it starts with that byte-order mark); the kit reads contract files as UTF-8"
        if utf16_without_bom(head):
            return "is UTF-16 without a byte-order mark (every other byte is 0); the kit reads contract files as UTF-8"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        line, done = 1, 0
        while block := f.read(chunk):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                pos = max(exc.start - (len(exc.object) - len(block)), 0)  # exc.object: pending bytes + block
                bad = block[pos]
                line += block.count(b"\n", 0, pos)
                try:
                    block[max(pos - 64, 0): pos + 64].decode("cp1252")
                    guess = f": it looks like {CP1252} (Excel's CSV on Windows)"
                except UnicodeDecodeError:
                    guess = ""
                return (f"is not UTF-8 (byte 0x{bad:02X} on line {line:,}, at byte {done + pos:,}){guess}; "
                        "the kit reads contract files as UTF-8")
            line += block.count(b"\n")
            done += len(block)
    return None


ENCODING_FIX = ("save it as UTF-8 (Excel: Save As > CSV UTF-8), or import it with `kpi-kit import mapping`, "
                "which converts UTF-16 and Windows-1252 exports and says so in import_log.json")


# -- timestamps --------------------------------------------------------------------------------------------
# a clock time followed by a zone designator: Z, +hh, +hhmm, +hh:mm (ISO 8601)
_ZONE = re.compile(r"(\d:\d\d(?::\d\d(?:[.,]\d+)?)?)\s*(?:Z|z|UTC|[+-]\d\d(?::?\d\d)?)$")


def local_days(text: pd.Series) -> pd.Series:
    """ISO dates and timestamps (text) as naive datetimes of their own local clock: an offset, where
    given, is dropped, not applied, so ``2026-01-31T23:30:00-05:00`` stays on 31 January (in UTC it
    would be 1 February). Unparsable text becomes NaT (the caller names it)."""
    try:
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    except ValueError:  # offsets differ between rows (or some rows have none): drop each row's own
        parsed = pd.to_datetime(text.str.replace(_ZONE.pattern, r"\1", regex=True), errors="coerce", format="ISO8601")
    if getattr(parsed.dt, "tz", None) is not None:  # one offset for every row: its wall clock
        parsed = parsed.dt.tz_localize(None)
    return parsed


# -- YAML without repeated keys ----------------------------------------------------------------------------
class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A YAML mapping gives the same key twice."""

    def __init__(self, key, first: int, again: int, mark):
        self.key, self.first, self.again = key, first, again
        super().__init__(None, None, f"the key '{key}' is given twice (lines {first} and {again})", mark)


class _UniqueKeyLoader(yaml.SafeLoader):
    pass


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict = {}
    for key_node, _ in node.value:  # the keys as written: merged ones (<<: *base) may be overridden
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            continue  # SafeConstructor refuses it with its own message
        if key in seen:
            raise DuplicateKeyError(key, seen[key], key_node.start_mark.line + 1, key_node.start_mark)
        seen[key] = key_node.start_mark.line + 1
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(text: str):
    """``yaml.safe_load`` that raises :class:`DuplicateKeyError` on a key given twice in one mapping."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
