"""``--export DIR``: Parquet tables of real dumps, read back and checked against the CLI's
own answers; the README's DuckDB queries run over the exports of several dumps (three of
one growing process, two other programs); existing, unwritable and interrupted exports."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from heapspurs import cli, commands
from heapspurs.loaded import LoadedDump, load_dump

from conftest import ROOT, fixture

GROWTH = ROOT / "tests" / "fixtures" / "growth" / "go1.27"
LEAKCACHE = ROOT / "tests" / "fixtures" / "leakcache" / "go1.27"
TABLES = ("objects", "references", "roots", "goroutines", "types", "dumps")
README = ROOT / "README.md"


@cache
def loaded_of(dump: str, *names: str) -> LoadedDump:
    """A dump loaded once for the module (``names``: --program BINARY [--oid FILE])."""
    named = dict(zip(names[::2], names[1::2], strict=True))
    return load_dump(dump, program=named.get("--program"), oid_path=named.get("--oid"),
                     cache=False)  # fmt: skip


def cli_lines(dump: str, *names: str, ask: tuple[str, ...]) -> list[str]:
    """The CLI's answer (its own argument checks and commands) on a dump loaded once."""
    args = cli.build_parser().parse_args([dump, *names, *ask])
    cli.check_args(args)
    return list(commands.run_on(loaded_of(dump, *names), args))


@cache
def cli_json(*argv: str) -> dict:
    """``argv``: the dump, its names (as growth_args() etc. give them), then the question."""
    split = 5 if "--oid" in argv else 3
    return json.loads("\n".join(cli_lines(*argv[:split], ask=(*argv[split:], "--json"))))


def growth_args(n: int) -> tuple[str, str, str]:
    return str(GROWTH / f"heap{n}.dump"), "--program", str(GROWTH / "growth")


def scenario_args() -> tuple[str, ...]:
    f = fixture("go1.27")
    return str(f.dump), "--program", str(f.binary), "--oid", str(f.oid)


def leak_args() -> tuple[str, str, str]:
    return str(LEAKCACHE / "heap.dump"), "--program", str(LEAKCACHE / "leakcache")


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder per dump under one parent, as a fleet's exports would sit."""
    base = tmp_path_factory.mktemp("exports")
    runs = {f"growth-{n}": growth_args(n) for n in (1, 2, 3)}
    runs |= {"scenarios": scenario_args(), "leakcache": leak_args()}
    for name, args in runs.items():
        lines = cli_lines(*args, ask=("--export", str(base / name)))
        assert [line.split()[1] for line in lines] == [
            str(base / name / f"{t}.parquet") for t in TABLES
        ]
    return base


def table(folder: Path, name: str) -> list[dict]:
    return pq.read_table(folder / f"{name}.parquet").to_pylist()


# --- one dump's tables against the CLI ---------------------------------------------------
def test_objects_are_the_histograms_objects(exports: Path) -> None:
    objects = table(exports / "scenarios", "objects")
    hist = cli_json(*scenario_args(), "--histogram")
    live = [o for o in objects if not o["phantom"]]
    assert len(live) == hist["total_objects"]
    assert sum(o["size"] for o in live) == hist["total_bytes"]
    assert len({o["dump"] for o in objects}) == 1


def test_types_table_is_the_histogram(exports: Path) -> None:
    rows = table(exports / "scenarios", "types")
    hist = cli_json(*scenario_args(), "--histogram")["types"]
    assert [{k: r[k] for k in ("type", "count", "bytes", "retained")} for r in rows] == hist


def test_a_globals_root_points_at_its_object(exports: Path) -> None:
    f = fixture("go1.27")
    case = f.scenario("bss_global")
    roots = table(exports / "scenarios", "roots")
    held = {r["target"] for r in roots if r["name"] == case["anchor"]["name"]}
    assert int(case["object"], 16) in held
    hits = [r for r in roots if r["name"] == case["anchor"]["name"]]
    assert {r["kind"] for r in hits} == {"global"}


def test_an_anchors_chain_is_in_the_references(exports: Path) -> None:
    """Each link of --anchors's chain is a reference, with the same selector where that is a
    field (map keys are not in the table: see README), and the chain's objects lie at their
    distance from the roots."""
    case = fixture("go1.27").scenario("map_value")
    answer = cli_json(*scenario_args(), "--address", case["address"], "--anchors")
    refs = table(exports / "scenarios", "references")
    fields = {(r["owner"], r["owned"]): r["field"] for r in refs}
    objects = {o["address"]: o for o in table(exports / "scenarios", "objects")}
    for anchor in answer["anchors"]:
        path = [int(a, 16) for a in anchor["path"]]
        for i in range(1, len(path)):
            assert (path[i - 1], path[i]) in fields
            if anchor["fields"][i].startswith("."):
                assert fields[path[i - 1], path[i]] == anchor["fields"][i]
    shortest = min(len(a["path"]) for a in answer["anchors"])
    target = objects[int(answer["object"]["address"], 16)]
    assert target["root_distance"] == shortest - 1
    assert target["retained"] == answer["object"]["retained"]


def test_references_written_in_runs_are_the_whole_table(exports: Path, tmp_path: Path) -> None:
    """The export writes the references a run of objects at a time (one row group each,
    in reused columns); in runs of 7 pointers they are the exported table, row for row."""
    from heapspurs.export import parquet as P
    from heapspurs.export import tables as T

    loaded = loaded_of(*scenario_args())
    runs = T.references_chunks(loaded, T.identity(loaded.heap), 7)
    P._write_chunks(tmp_path / "runs.parquet", "references", runs, T.REFERENCES_SCHEMA)
    assert pq.ParquetFile(tmp_path / "runs.parquet").num_row_groups > 10
    whole = table(exports / "scenarios", "references")
    assert any(r["field"] for r in whole)
    assert pq.read_table(tmp_path / "runs.parquet").to_pylist() == whole


def test_first_level_retainers_are_the_top(exports: Path) -> None:
    top = cli_json(*scenario_args(), "--top", "5")["objects"]
    objects = table(exports / "scenarios", "objects")
    first = [o for o in objects if o["idom"] is None and o["retained"] is not None]
    assert sorted((o["retained"] for o in first), reverse=True)[:5] == [t["retained"] for t in top]
    by_address = {o["address"]: o for o in objects}
    for t in top:
        o = by_address[int(t["address"], 16)]
        assert (o["retained"], o["type"], o["idom"]) == (t["retained"], t["type"], None)


def test_goroutines_table_has_the_cli_verdicts(exports: Path) -> None:
    answer = cli_json(*leak_args(), "--goroutines")["goroutines"]
    rows = {g["id"]: g for g in table(exports / "leakcache", "goroutines")}
    assert set(rows) == {g["id"] for g in answer}
    for g in answer:
        row = rows[g["id"]]
        assert (row["status"], row["wait_reason"], row["leaked"]) == (
            g["status"], g["wait_reason"], g["leaked"])  # fmt: skip
        assert row["retained"] == g["retained"]["bytes"]
        assert row["created_by"] == g["created_by"]["function"]


def test_dump_column_names_file_and_process(exports: Path) -> None:
    """Three dumps of one process share a pid; other programs are other processes."""
    dumps = {name: table(exports / name, "dumps")[0]
             for name in ("growth-1", "growth-2", "growth-3", "leakcache")}  # fmt: skip
    pids = {name: d["pid"] for name, d in dumps.items()}
    assert pids["growth-1"] == pids["growth-2"] == pids["growth-3"] != pids["leakcache"]
    for name, d in dumps.items():
        assert d["dump"] == f"{d['file']}:{d['pid']}"
        for t in TABLES:
            assert {r["dump"] for r in table(exports / name, t)} <= {d["dump"]}
    grew = [dumps[f"growth-{n}"]["total_alloc"] for n in (1, 2, 3)]
    assert grew == sorted(grew) and len(set(grew)) == 3
    assert dumps["growth-1"]["contents"] is False


# --- the README's queries, for real, over the glob ---------------------------------------
def readme_queries() -> list[str]:
    """The SQL blocks of the README's export section, as a user would paste them."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Export for DuckDB / Spark", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, re.S)


def run_query(sql: str, exports: Path) -> list[tuple]:
    return duckdb.sql(sql.replace("'exports/", f"'{exports}/")).fetchall()


def test_readme_has_three_queries() -> None:
    assert len(readme_queries()) == 3


def test_growth_of_a_type_across_dumps(exports: Path) -> None:
    pid = table(exports / "growth-1", "dumps")[0]["pid"]
    everyone = run_query(readme_queries()[0], exports)
    rows = [r for r in everyone if r[1] == pid]  # the scenarios program has Sessions too
    assert len(everyone) > len(rows)
    truth = json.loads((GROWTH / "truth.json").read_text())
    assert [r[0] for r in rows] == truth["dumps"]  # ordered by moment within the process
    assert [r[2] for r in rows] == [c["main.Session"] for c in truth["counts"]]
    for (file, _, count, nbytes, _), n in zip(rows, (1, 2, 3), strict=True):
        hist = {t["type"]: t for t in cli_json(*growth_args(n), "--histogram")["types"]}
        assert (count, nbytes) == (hist["main.Session"]["count"], hist["main.Session"]["bytes"])
        assert file == f"heap{n}.dump"


def test_top_retainers_per_dump(exports: Path) -> None:
    rows = run_query(readme_queries()[1], exports)
    by_dump: dict[str, list[tuple]] = {}
    for row in rows:
        by_dump.setdefault(row[0], []).append(row)
    assert len(by_dump) == 5
    for n in (1, 2, 3):
        top = cli_json(*growth_args(n), "--top", "3")["objects"]
        mine = next(v for k, v in by_dump.items() if k.startswith(f"heap{n}.dump:"))
        assert [r[4] for r in mine] == [t["retained"] for t in top]
        assert [r[2] for r in mine] == [t["type"] for t in top]
        assert {r[3] for r in mine} == {t["address"] for t in top}


def test_who_points_at_a_type(exports: Path) -> None:
    """The owners --owners 1 lists for the Sessions of the last dump are the query's."""
    rows = run_query(readme_queries()[2], exports)
    last = [r for r in rows if r[0].startswith("heap3.dump:")]
    owner_types = {r[1] for r in last}
    assert sum(r[3] for r in last) > 0
    found = cli_json(*growth_args(3), "--find", r"^main\.Session$")["objects"]
    assert len(found) == 370
    fields = {(r[1], r[2]) for r in last}
    for obj in found[:3]:
        owners = cli_json(*growth_args(3), "--address", obj["address"], "--owners", "1")
        for entry in owners["owners"]:
            if "object" in entry and entry["object"]["depth"] == 1:
                o = entry["object"]
                assert o["type"] in owner_types
                if o.get("field", "").startswith("."):
                    assert (o["type"], o["field"]) in fields


# --- contents, refusals, failures ----------------------------------------------------------
def test_contents_only_when_asked(tmp_path: Path, exports: Path) -> None:
    assert not (exports / "growth-1" / "contents.parquet").exists()
    out = tmp_path / "all"
    cli_lines(*growth_args(1), ask=("--export", str(out), "--export-bytes", "all"))
    contents = pq.read_table(out / "contents.parquet").to_pylist()
    objects = table(out, "objects")
    assert [c["address"] for c in contents] == [o["address"] for o in objects]
    some = next(o for o in objects if o["type"] == "main.Session")
    hexdump = cli_json(*growth_args(1), "--address", hex(some["address"]), "--hexdump")
    expect = bytes.fromhex(hexdump["bytes"])
    assert next(c["bytes"] for c in contents if c["address"] == some["address"]) == expect
    assert table(out, "dumps")[0]["contents"] is True
    # again without bytes (--force): the earlier contents table goes
    cli_lines(*growth_args(1), ask=("--export", str(out), "--force"))
    assert not (out / "contents.parquet").exists()


def heapspurs(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "heapspurs.cli", *argv, "--no-cache"],
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def one_line_error(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("heapspurs: error: "), proc.stderr
    for w in words:
        assert w in lines[0]


def test_existing_directory_is_refused_without_force(tmp_path: Path) -> None:
    out = tmp_path / "x"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    one_line_error(heapspurs(*growth_args(1), "--export", str(out)), str(out), "--force")
    assert sorted(os.listdir(out)) == ["mine.txt"]
    proc = heapspurs(*growth_args(1), "--export", str(out), "--force")
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(out)) == sorted([*(f"{t}.parquet" for t in TABLES), "mine.txt"])
    (tmp_path / "file").write_text("")
    one_line_error(heapspurs(*growth_args(1), "--export", str(tmp_path / "file")), "not a dir")


def test_bad_dump_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dump"
    bad.write_bytes(b"go1.7 heap dump\n\x06\x01")
    one_line_error(heapspurs(str(bad), "--export", str(tmp_path / "out")), "bad.dump")
    assert not (tmp_path / "out").exists()
    one_line_error(heapspurs(str(bad), "--force"), "--export")


def test_failed_write_leaves_the_earlier_export(tmp_path: Path) -> None:
    """A table that cannot be written (its temporary name is taken by a folder) ends the
    export with one line, and every table of the earlier export is still whole."""
    out = tmp_path / "x"
    assert heapspurs(*growth_args(1), "--export", str(out)).returncode == 0
    before = {t: (out / f"{t}.parquet").read_bytes() for t in TABLES}
    (out / ".types.parquet.tmp").mkdir()
    one_line_error(heapspurs(*growth_args(2), "--export", str(out), "--force"), str(out))
    assert {t: (out / f"{t}.parquet").read_bytes() for t in TABLES} == before
    assert sorted(os.listdir(out)) == sorted([".types.parquet.tmp",
                                              *(f"{t}.parquet" for t in TABLES)])  # fmt: skip


def test_unwritable_directory_is_one_line(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root writes anywhere: a path under a file is unwritable for everyone
        (tmp_path / "f").write_text("")
        target = tmp_path / "f" / "x"
    else:
        (tmp_path / "ro").mkdir(mode=0o500)
        target = tmp_path / "ro" / "x"
    one_line_error(heapspurs(*growth_args(1), "--export", str(target)), "cannot make")


def test_killed_export_leaves_no_table_under_its_name(tmp_path: Path) -> None:
    """The process is killed while it writes (a temporary table exists): no file under a
    table's final name, and the next --force export cleans the temporary ones up."""
    out = tmp_path / "x"
    args = [sys.executable, "-m", "heapspurs.cli", *growth_args(3), "--export", str(out),
            "--export-bytes", "all", "--no-cache"]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    seen: list[str] = []
    while time.monotonic() < deadline and proc.poll() is None:
        seen = os.listdir(out) if out.exists() else []
        if any(name.endswith(".tmp") for name in seen):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.0005)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the export ended before it could be killed"
    left = os.listdir(out)
    assert not [n for n in left if n.endswith(".parquet")], left
    assert heapspurs(*growth_args(3), "--export", str(out), "--force").returncode == 0
    assert sorted(os.listdir(out)) == sorted(f"{t}.parquet" for t in TABLES)


MUTANTS_CHILD = r"""
import json, random, sys, tempfile
sys.path.insert(0, sys.argv[1])
from hostile import mutate, record_starts
from heapspurs import commands
from heapspurs.dumpfile.errors import DumpFormatError
from heapspurs.export.parquet import export
from heapspurs.loaded import load_dump
from pathlib import Path
source, count = Path(sys.argv[2]), int(sys.argv[3])
data, starts = source.read_bytes(), record_starts(source)
rng = random.Random(13)
seen = {"refused": 0, "exported": 0, "one-line error": 0}
with tempfile.TemporaryDirectory() as tmp:
    for i in range(count):
        kind, mutant = mutate(data, starts, rng)
        path = Path(tmp) / "mutant.dump"
        path.write_bytes(mutant)
        try:
            loaded = load_dump(path, cache=False)
        except DumpFormatError:
            seen["refused"] += 1
            continue
        try:
            export(loaded, Path(tmp) / "out", "all", force=True)
            seen["exported"] += 1
        except commands.USER_ERRORS as err:
            assert "\n" not in str(err), (kind, err)
            seen["one-line error"] += 1
print(json.dumps(seen))
"""


def test_damaged_dumps_export_or_fail_in_one_line(tmp_path: Path) -> None:
    """Mutants of a real dump (tests/hostile.py's): each one that loads exports its tables,
    contents included, or fails with a one-line error; never a traceback or a crash (a
    child process, so a signal would be seen)."""
    proc = subprocess.run([sys.executable, "-c", MUTANTS_CHILD, str(ROOT / "tests"),
                           str(GROWTH / "heap1.dump"), "40"],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["exported"] > 0
