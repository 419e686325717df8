"""``--export DIR``: a dump's tables as Parquet files (zstd), one file per table, for DuckDB
in process and Spark or Trino on a cluster (DESIGN §10).

Every table is written under a temporary name in DIR (``.NAME.parquet.tmp``) and renamed
to ``NAME.parquet`` only once all of them are written, so an export that fails or is killed
leaves no table under its final name: a glob over many exports never reads half of one.
An existing DIR is refused unless ``force``; then the tables in it are replaced.

Object contents are left out by default (``bytes="none"``): a heap dump holds whatever the
program held (tokens, keys, passwords, personal data), and Parquet files are made to be
copied to shared storage and queried by many. ``bytes="all"`` adds ``contents.parquet``.
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# pyarrow.compute registers the compute kernels (writing dictionary columns asks for "take")
# here, once: left to the first write, two writer threads raced to register them
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq

from ..loaded import LoadedDump
from . import tables as T
from .errors import ExportError

BYTES_CHOICES = ("none", "all")
COMPRESSION = "zstd"
# sorted or slowly changing integers: deltas pack to a few bits each; the owned objects'
# addresses too, though in no order (bit-packed deltas of addresses in one heap are smaller
# than zstd makes the plain column, and twice as fast to write)
DELTA_COLUMNS = {"objects": ["address", "size"], "references": ["owner", "owned", "offset"],
                 "contents": ["address"]}  # fmt: skip
# left uncompressed: the owned addresses' bit-packed deltas are random bits, which zstd
# shrinks by 2% for an eighth of the references' writing time
UNCOMPRESSED = {"references": ["owned"]}
TMP_PREFIX = "."
TMP_SUFFIX = ".parquet.tmp"


@dataclass(frozen=True)
class Written:
    table: str
    path: str
    rows: int
    bytes: int

    def as_json(self) -> dict[str, object]:
        return {"table": self.table, "path": self.path, "rows": self.rows, "bytes": self.bytes}


def export(
    loaded: LoadedDump, directory: str | os.PathLike[str], contents: str = "none",
    force: bool = False,
) -> list[Written]:  # fmt: skip
    """Write ``loaded``'s tables into ``directory``; the files written, in table order."""
    if contents not in BYTES_CHOICES:
        raise ExportError(f"--export-bytes takes none or all, not {contents!r}")
    folder = Path(directory)
    made = _claim(folder, force)
    who = T.identity(loaded.heap)
    names = [*T.TABLES, "dumps"] + (["contents"] if contents == "all" else [])
    temps = {name: folder / f"{TMP_PREFIX}{name}{TMP_SUFFIX}" for name in names}
    try:
        rows = _write_tables(loaded, who, contents, temps)
        if contents == "all":
            batches = T.contents_batches(loaded, who)
            rows["contents"] = _write_chunks(temps["contents"], "contents", batches,
                                             T.CONTENTS_SCHEMA)  # fmt: skip
        else:
            _remove(folder / "contents.parquet")  # an earlier export's: not this one's
        for name in names:
            os.replace(temps[name], folder / f"{name}.parquet")
    except OSError as err:
        _clean(temps.values(), folder if made else None)
        where = err.filename or folder
        raise ExportError(f"cannot write the export: {where}: {err.strerror or err}") from None
    except BaseException:
        _clean(temps.values(), folder if made else None)
        raise
    return [Written(name, str(folder / f"{name}.parquet"), rows[name],
                    (folder / f"{name}.parquet").stat().st_size) for name in names]  # fmt: skip


def _claim(folder: Path, force: bool) -> bool:
    """Make ``folder`` (True), or take an existing one when ``force`` (False)."""
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"{folder} exists and is not a directory")
    if folder.exists():
        if not force:
            raise ExportError(f"{folder} exists: give --force to replace the export in it")
        for stale in folder.glob(f"{TMP_PREFIX}*{TMP_SUFFIX}"):  # of an export killed there
            if stale.is_file():
                with contextlib.suppress(OSError):
                    _remove(stale)
        return False
    try:
        folder.mkdir(parents=True)
    except OSError as err:
        raise ExportError(f"cannot make {folder}: {err.strerror or err}") from None
    return True


def _write_tables(
    loaded: LoadedDump, who: T.DumpIdentity, contents: str, temps: dict[str, Path]
) -> dict[str, int]:
    """Every table but the contents, written. Three at once: the goroutines' and the
    references' on two threads (the references built and written a run of objects at a
    time), each other table built here and written on one of those threads while the
    next is built; compiled code, numpy and Parquet's encoders let go of the GIL."""
    with ThreadPoolExecutor(2) as pool:
        goroutines = pool.submit(
            lambda: _write(temps["goroutines"], "goroutines", T.goroutines_table(loaded, who))
        )
        references = pool.submit(_write_chunks, temps["references"], "references",
                                 T.references_chunks(loaded, who), T.REFERENCES_SCHEMA)  # fmt: skip
        written = {}
        for name in temps:
            if name not in ("contents", "goroutines", "references"):
                table = _table(loaded, who, name, contents)
                written[name] = pool.submit(_write, temps[name], name, table)
                del table  # the writer holds it until written
        rows = {name: future.result() for name, future in written.items()}
        rows["goroutines"] = goroutines.result()
        rows["references"] = references.result()
    return rows


def _table(loaded: LoadedDump, who: T.DumpIdentity, name: str, contents: str) -> pa.Table:
    if name == "dumps":
        return T.dumps_table(loaded, who, contents == "all")
    return T.TABLES[name](loaded, who)


def _options(name: str, schema: pa.Schema) -> dict[str, object]:
    delta = DELTA_COLUMNS.get(name, [])
    dictionary = [f.name for f in schema if pa.types.is_dictionary(f.type)]
    # min and max per row group let a query skip row groups; not kept for the dictionary
    # columns: types, names and fields are in no order (they would skip nothing), the dump
    # column's one value is read from its dictionary as fast; they cost 15% of the writes
    statistics = [f.name for f in schema if f.name not in dictionary]
    plain = UNCOMPRESSED.get(name, [])
    compression = {f.name: "none" if f.name in plain else COMPRESSION for f in schema}
    options: dict[str, object] = {"compression": compression, "use_dictionary": dictionary,
                                  "write_statistics": statistics}  # fmt: skip
    if delta:
        options["column_encoding"] = dict.fromkeys(delta, "DELTA_BINARY_PACKED")
    return options


def _write(path: Path, name: str, table: pa.Table) -> int:
    pq.write_table(table, path, **_options(name, table.schema))
    return table.num_rows


def _write_chunks(path: Path, name: str, chunks, schema: pa.Schema) -> int:
    """Tables or record batches of one schema into one file, each written before the next
    is made (see tables.references_chunks); an empty table when there are none."""
    rows = 0
    with pq.ParquetWriter(path, schema, **_options(name, schema)) as writer:
        for chunk in chunks:
            writer.write(chunk)
            rows += chunk.num_rows
    return rows


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _clean(temps, made: Path | None) -> None:
    """Remove this export's temporary files, and the folder when it made it."""
    for path in temps:
        with contextlib.suppress(OSError):
            _remove(path)
    if made is not None:
        with contextlib.suppress(OSError):
            made.rmdir()
