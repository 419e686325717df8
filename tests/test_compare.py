"""Comparing dumps (``--baseline``): the growth fixture's three dumps of one process
(tests/fixtures/growth) checked against what the program knew of its own objects, a second
run of it for dumps of different processes, and baselines a user should not pass."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from heapspurs.analysis import compare as C
from heapspurs.loaded import LoadedDump, load_dump

from conftest import DATA, ROOT

GROWTH = ROOT / "tests" / "fixtures" / "growth" / "go1.27"
BINARY = GROWTH / "growth"
TRUTH = json.loads((GROWTH / "truth.json").read_text())
DUMPS = TRUTH["dumps"]
OWN_TYPES = ("main.Session", "main.Request", "main.Blob")


@cache
def dump(name: str, folder: Path = GROWTH) -> LoadedDump:
    return load_dump(folder / name, program=str(BINARY), cache=False)


def heapspurs(*args: str | Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    run = subprocess.run([sys.executable, "-m", "heapspurs.cli", *map(str, args)],
                         capture_output=True, text=True, cwd=GROWTH)  # fmt: skip
    assert "Traceback" not in run.stderr, run.stderr
    assert (run.returncode == 0) == ok, run.stderr
    return run


def rows(answer: dict) -> dict[str, dict]:
    return {r["type"]: r for r in answer["types"]}


@pytest.fixture(scope="module")
def other_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same program run again: another process (pid, heap base), same binary."""
    from make_growth import run_growth

    return run_growth(BINARY, tmp_path_factory.mktemp("other-run"))


@pytest.mark.parametrize("interval", TRUTH["intervals"], ids=lambda i: f"{i['from']}-{i['to']}")
def test_new_freed_and_survived_per_type_are_the_programs(interval: dict) -> None:
    """A new object in the slot of a freed one of its own type keeps the address, size and
    type: the comparison counts it as a survivor (truth counts how often that happened)."""
    c = C.compare(dump(interval["to"]), [dump(interval["from"])])
    assert c.verdict.same, C.comparison_line(c)
    got = rows(C.histogram_answer(c))
    for t, want in interval["types"].items():
        reused = want["same_type_slot_reused"]
        row = got.get(t, {"count": 0, "baseline_count": 0, "new": 0, "freed": 0})
        assert (row["count"], row["baseline_count"]) == (want["after"], want["before"]), t
        assert row["new"] == want["new"] - reused, t
        assert row["freed"] == want["freed"] - reused, t
        assert row["count"] - row["new"] == want["survived"] + reused, t
        if want["after"]:
            assert row["new_bytes"] == row["new"] * row["bytes"] // row["count"], t


def test_rows_are_sorted_by_growth_in_bytes() -> None:
    answer = C.histogram_answer(C.compare(dump(DUMPS[1]), [dump(DUMPS[0])]))
    growth = [r["bytes"] - r["baseline_bytes"] for r in answer["types"]]
    assert growth == sorted(growth, reverse=True)
    assert answer["types"][0]["type"] == "main.Blob"
    assert answer["new_objects"] == sum(r["new"] for r in answer["types"])
    assert answer["freed_bytes"] == sum(r["freed_bytes"] for r in answer["types"])


def test_growth_groups_are_anchored_where_the_program_holds_them() -> None:
    run = heapspurs(DUMPS[1], "--program", BINARY, "--top", "4", "--baseline", DUMPS[0], "--json")
    answer = json.loads(run.stdout)
    assert answer["same_process"] and answer["baselines"] == [DUMPS[0]]
    groups = answer["growth"]
    largest = groups[0]
    assert largest["type"] == TRUTH["growth"]["type"]
    assert largest["anchor"]["kind"] == "global"
    assert largest["anchor"]["name"] == TRUTH["growth"]["anchor"]
    new = TRUTH["intervals"][0]["types"]
    for g in groups:
        if g["type"] in OWN_TYPES:
            assert g["anchor"]["name"] == TRUTH["holders"][g["type"]], g
            assert g["new_objects"] == new[g["type"]]["new"], g
            assert g["anchor"]["expression"].startswith(TRUTH["holders"][g["type"]])
    examples = [int(a, 16) for a in largest["examples"]]
    heap = dump(DUMPS[1]).heap
    assert all(dump(DUMPS[1]).names.type_name(heap.find(a)) == "main.Blob" for a in examples)
    assert answer["objects"], "the --top answer is still there"


def test_growth_text_prints_each_groups_chain() -> None:
    out = heapspurs(DUMPS[1], "--program", BINARY, "--top", "3", "--baseline", DUMPS[0]).stdout
    assert "same process as heap1.dump" in out
    assert "main.Blob  <- global main.gAudit (bss)" in out
    assert "    path: main.gAudit[0] → main.Blob" in out
    assert "main.Request  <- global main.gSessions (bss)" in out


def test_histogram_text_has_signed_columns() -> None:
    out = heapspurs(DUMPS[1], "--program", BINARY, "--histogram", "--baseline", DUMPS[0]).stdout
    lines = out.splitlines()
    assert lines[0].startswith("same process as heap1.dump (pid ")
    assert lines[1].split() == ["bytes", "+/-", "bytes", "count", "+/-", "count", "new", "freed",
                                "type"]  # fmt: skip
    session = next(s.split() for s in lines if s.endswith("  main.Session"))
    t = TRUTH["intervals"][0]["types"]["main.Session"]
    assert session[2:6] == [str(t["after"]), f"+{t['after'] - t['before']}", str(t["new"]),
                            str(t["freed"])]  # fmt: skip


def test_dumps_of_another_process_compare_by_type_only(other_run: Path) -> None:
    later = dump(DUMPS[1], other_run)
    c = C.compare(later, [dump(DUMPS[0])])
    assert not c.verdict.same
    answer = C.histogram_answer(c)
    assert "compared by type only" in answer["comparison"]
    assert "pid" in answer["comparison"]
    got = rows(answer)
    other_truth = json.loads((other_run / "truth.json").read_text())
    for t in OWN_TYPES:
        assert got[t]["count"] == other_truth["counts"][1][t]
        assert got[t]["baseline_count"] == TRUTH["counts"][0].get(t, 0)
        assert got[t]["new"] is None and got[t]["freed"] is None
    assert answer["new_objects"] is None
    run = heapspurs(other_run / DUMPS[1], "--program", BINARY, "--top", "2", "--baseline",
                    DUMPS[0])  # fmt: skip
    assert "compared by type only" in run.stdout and "no new objects can be told" in run.stdout


def test_series_over_three_dumps() -> None:
    run = heapspurs(DUMPS[2], "--program", BINARY, "--histogram", "--json",
                    "--baseline", DUMPS[0], "--baseline", DUMPS[1])  # fmt: skip
    answer = json.loads(run.stdout)
    series = answer["series"]
    assert series["dumps"] == DUMPS
    by_type = {r["type"]: r for r in series["types"]}
    for t in OWN_TYPES:
        assert by_type[t]["counts"] == [c.get(t, 0) for c in TRUTH["counts"]], t
        assert t in series["grew_every_interval"], t
    assert by_type["main.Blob"]["bytes"][0] == 0
    # new and freed are of the last interval
    last = TRUTH["intervals"][1]["types"]["main.Blob"]
    assert rows(answer)["main.Blob"]["new"] == last["new"] - last["same_type_slot_reused"]
    text = heapspurs(DUMPS[2], "--program", BINARY, "--histogram",
                     "--baseline", DUMPS[0], "--baseline", DUMPS[1]).stdout  # fmt: skip
    assert "series over 3 dumps, oldest first: heap1.dump, heap2.dump, heap3.dump" in text
    assert "grew in every interval: " in text and "main.Blob" in text.split("grew in every")[-1]


def test_the_newest_dump_as_baseline_is_refused() -> None:
    run = heapspurs(DUMPS[0], "--program", BINARY, "--histogram", "--baseline", DUMPS[1], ok=False)
    assert run.stderr.count("\n") == 1
    assert "heap2.dump was written after heap1.dump by the same process" in run.stderr


def test_baselines_newest_first_are_refused() -> None:
    run = heapspurs(DUMPS[2], "--program", BINARY, "--histogram", "--baseline", DUMPS[1],
                    "--baseline", DUMPS[0], ok=False)  # fmt: skip
    assert "heap2.dump was written after heap1.dump by the same process" in run.stderr


@pytest.mark.parametrize(
    "baseline, message",
    [
        ("truth.json", "not a Go heap dump"),
        (ROOT / "tests" / "fixtures" / "leakcache" / "go1.27" / "heap.dump",
         "was not written by"),
        ("missing.dump", "cannot open"),
    ],
    ids=["not-a-dump", "another-program", "missing"],
)  # fmt: skip
def test_bad_baselines_give_one_line(baseline: str | Path, message: str) -> None:
    run = heapspurs(DUMPS[1], "--program", BINARY, "--histogram", "--baseline", baseline, ok=False)
    assert run.stderr.startswith("heapspurs: error: ") and run.stderr.count("\n") == 1
    assert message in run.stderr


def test_a_damaged_baseline_gives_one_line(tmp_path: Path) -> None:
    cut = tmp_path / "cut.dump"
    data = (GROWTH / DUMPS[0]).read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    run = heapspurs(DUMPS[1], "--histogram", "--baseline", cut, "--no-cache", ok=False)
    assert run.stderr.startswith(f"heapspurs: error: {cut}") and run.stderr.count("\n") == 1


def test_another_go_version_compares_by_type_with_its_note() -> None:
    older = DATA / "go1.21" / "heap.dump"
    out = heapspurs(DUMPS[1], "--histogram", "--baseline", older).stdout
    assert out.splitlines()[0] == (f"not the process of {older} (written by go1.21.13/amd64 and "
                                   "go1.27.3/amd64): compared by type only")  # fmt: skip


def test_baseline_goes_with_histogram_or_top() -> None:
    run = heapspurs(DUMPS[1], "--goroutines", "--baseline", DUMPS[0], ok=False)
    assert "--baseline goes with --histogram or --top N" in run.stderr
    assert os.path.exists(GROWTH / DUMPS[0])


def test_damaged_baselines_are_refused_or_compared(tmp_path: Path) -> None:
    """Structure-aware mutants of dump 1 (tests/hostile.py's) as the baseline of the intact
    dump 2: each is refused with a one-line error or compared, by --histogram and --top."""
    import random

    from heapspurs import cli, commands
    from hostile import mutate, record_starts

    source = GROWTH / DUMPS[0]
    data, starts, rng = source.read_bytes(), record_starts(source), random.Random(13)
    current = dump(DUMPS[1])
    mutant = tmp_path / "mutant.dump"
    outcomes: dict[str, int] = {}
    for _ in range(24):
        kind, mutated = mutate(data, starts, rng)
        mutant.write_bytes(mutated)
        for query in (["--histogram"], ["--top", "3", "--json"]):
            args = cli.build_parser().parse_args([str(current.path), *query, "--baseline",
                                                  str(mutant), "--no-cache"])  # fmt: skip
            cli.check_args(args)
            try:
                lines = list(commands.run_on(current, args))
                outcome = "compared" if lines else "empty"
            except commands.USER_ERRORS as err:
                assert "\n" not in str(err)
                outcome = "refused"
            outcomes[f"{kind} {outcome}"] = outcomes.get(f"{kind} {outcome}", 0) + 1
    assert not any(k.endswith("empty") for k in outcomes), outcomes
    assert any(k.endswith("compared") for k in outcomes), outcomes
