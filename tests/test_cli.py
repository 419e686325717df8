"""The heapspurs command, run as a user runs it, on real dumps."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from heapspurs.heap.index import index_places

from conftest import fixture
from expectations import check_scenario, expected_record

F = fixture("go1.27")
LEAK = F.scenario("leak")


def heapspurs(*args: str | Path, cwd: Path | None = None, env: dict | None = None,
              ok: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-m", "heapspurs.cli", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert "Traceback" not in run.stderr, run.stderr
    if ok:
        assert run.returncode == 0, run.stderr
    return run


def named(*args: str | Path) -> list[str | Path]:
    return ["--oid", F.oid, "--program", F.binary, F.dump, *args]


def test_print_streams_every_record_in_the_original_style() -> None:
    out = heapspurs(*named("--print")).stdout.splitlines()
    assert out[0].startswith("DumpParams: BigEndian=False, PointerSize=8, Heap=0x")
    assert out[-1] == "End Of File"
    assert any(re.match(r"Object @ 0x[0-9a-f]+ with \d+ pointers in \d+ bytes", s) for s in out)
    assert any(s.startswith("main.Request @ 0x") for s in out), "OID names objects"
    bss = next(s for s in out if s.startswith("BssSegment @ "))
    assert re.match(r"BssSegment @ 0x[0-9a-f]+-0x[0-9a-f]+ with \d+ pointers", bss)
    assert any(re.match(r"Pointer\[\d+\]@0x[0-9a-f]+ \(main\.gSessions\) = 0x", s) for s in out)
    assert any(re.match(r"Goroutine\[1\] @ 0x[0-9a-f]+: Waiting \(dumping heap\)", s) for s in out)
    assert any(s.startswith("StackFrame[") and "main.main" in s for s in out)
    assert any(s.startswith("RegisteredFinalizer @ ") for s in out)
    assert any(s.startswith("QueuedFinalizer @ ") for s in out)
    assert any(s.startswith("MemStats: {Alloc:") for s in out)


def test_print_without_names_needs_no_index() -> None:
    out = heapspurs(F.dump, "--print").stdout
    assert "End Of File" in out and "(main." not in out


def test_find_lists_objects_by_oid_name_and_globals_by_symbol() -> None:
    out = heapspurs(*named("--find", "Request$")).stdout.splitlines()
    assert f"main.Request @ {LEAK['address']}" in "\n".join(out)
    data = json.loads(heapspurs(*named("--find", "main.Request", "--json")).stdout)
    assert LEAK["address"] in [o["address"] for o in data["objects"]]
    held = json.loads(heapspurs(*named("--find", "gSessions", "--json")).stdout)["globals"]
    assert held and held[0]["global"] == "main.gSessions"


def test_anchors_text_names_the_global_and_the_chain() -> None:
    out = heapspurs(*named("--address", LEAK["address"], "--anchors")).stdout
    assert "global main.gSessions (bss): chain of" in out
    assert f"{LEAK['address']} (main.Request)" in out


@pytest.mark.parametrize("name", ["malloc_header", "tiny_14", "chan_blocked", "panic_arg"])
def test_anchors_json_schema(name: str) -> None:
    truth = F.scenario(name)
    answer = json.loads(heapspurs(*named("--address", truth["address"], "--anchors",
                                         "--json")).stdout)  # fmt: skip
    assert answer["address"] == truth["address"]
    assert set(answer["object"]) >= {"address", "size", "name"}
    for a in answer["anchors"]:
        assert a["kind"] in {"global", "goroutine", "finalizer", "queued-finalizer", "defer",
                             "panic", "other"}  # fmt: skip
        assert a["path"][-1] == answer["object"]["address"]
    check_scenario(answer, truth, F.minor)


def test_address_in_decimal_and_inside_the_object() -> None:
    truth = F.scenario("field_interior")
    decimal = str(int(truth["address"], 16))
    answer = json.loads(heapspurs(*named("--address", decimal, "--anchors", "--json")).stdout)
    assert int(answer["object"]["address"], 16) == expected_record(truth, F.minor)
    assert answer["offset"] > 0


def test_no_anchor_says_which_roots_a_dump_cannot_show() -> None:
    out = heapspurs(*named("--address", F.scenario("cleanup_arg")["address"], "--anchors")).stdout
    assert "no anchor in this dump" in out and "runtime.AddCleanup" in out


def test_finalizer_cycle_is_called_out() -> None:
    out = heapspurs(*named("--address", F.scenario("finalizer_cycle_b")["address"],
                           "--anchors")).stdout  # fmt: skip
    assert "finalizer of" in out and "only anchored by a finalizer cycle" in out


def test_owners_one_level_and_all() -> None:
    one = heapspurs(*named("--address", LEAK["address"], "--owners", "1")).stdout.splitlines()
    assert one[0].startswith("main.Request @ ")
    assert all(line.startswith("  ") for line in one[1:]) and len(one) >= 2
    full = heapspurs(*named("--address", LEAK["address"], "--owners", "-1")).stdout
    assert "<- global main.gSessions (bss)" in full
    assert "main.Session @ " in full
    addresses = re.findall(r"@ (0x[0-9a-f]+) with", full)
    assert len(addresses) == len(set(addresses)), "each object once"


def test_owners_json_streams_a_flat_tree() -> None:
    data = json.loads(heapspurs(*named("--address", LEAK["address"], "--owners", "-1",
                                       "--json")).stdout)  # fmt: skip
    objects = [e["object"] for e in data["owners"] if "object" in e]
    roots = [e["root"] for e in data["owners"] if "root" in e]
    assert objects[0]["address"] == data["object"]["address"] and objects[0]["depth"] == 0
    known = {o["address"] for o in objects}
    assert all(o["points_to"] in known for o in objects[1:])
    assert any(r["name"] == "main.gSessions" for r in roots)


def test_hexdump_shows_bytes_and_pointer_offsets() -> None:
    truth = F.scenario("malloc_header")
    out = heapspurs(*named("--address", truth["address"], "--hexdump")).stdout.splitlines()
    oid = int(truth["oid"], 16).to_bytes(8, "little")
    second_row = out[0]  # the OID sits at +8, after the malloc header word
    assert " ".join(f"{b:02x}" for b in oid) in second_row
    assert any(line.startswith("Pointer: 0x") for line in out)
    data = json.loads(heapspurs(*named("--address", truth["address"], "--hexdump",
                                       "--json")).stdout)  # fmt: skip
    assert bytes.fromhex(data["bytes"])[8:16] == oid
    assert data["object"]["value_offset"] == 8


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is installed by .ci/run")
def test_graph_svg_styled_as_the_original(tmp_path: Path) -> None:
    svg_path = tmp_path / "leak.svg"
    out = heapspurs(*named("--address", LEAK["address"], "--output", svg_path)).stdout
    assert out.startswith("Rendering graph (")
    svg = svg_path.read_text()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg[:400]
    record = expected_record(LEAK, F.minor)
    assert f'id="obj_{record:#x}"' in svg
    assert 'fill="yellow"' in svg
    assert "main.gSessions" in svg  # the bss edge is labelled with the global


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is installed by .ci/run")
def test_graph_of_finalizer_cycle_marks_the_finalizer(tmp_path: Path) -> None:
    svg_path = tmp_path / "cycle.svg"
    heapspurs(*named("--address", F.scenario("finalizer_cycle_b")["address"], "--output",
                     svg_path, "--prune"))  # fmt: skip
    svg = svg_path.read_text()
    assert 'stroke="red"' in svg and "finalizer of" in svg


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is installed by .ci/run")
def test_graph_marks_the_stack_frame_that_holds_the_object(tmp_path: Path) -> None:
    held = next(e for e in F.truth["types"] if e["name"] == "stack_held")
    svg_path = tmp_path / "held.svg"
    heapspurs(*named("--address", held["address"], "--output", svg_path))
    ns = {"svg": "http://www.w3.org/2000/svg"}
    svg = ET.parse(svg_path).getroot()
    node = next(g for g in svg.iterfind(".//svg:g[@class='node']", ns)
                if g.get("id", "").startswith("root_"))  # fmt: skip
    lines = [(t.text or "", t.get("font-weight")) for t in node.iterfind("svg:text", ns)]
    assert lines[0][0] == f"goroutine {held['root']['goroutine']}"
    assert len(lines) > 2, "the whole stack is listed"
    bold = [text for text, weight in lines if weight == "bold"]
    assert bold == [f"\u25b6 {held['root']['function']}"], lines
    edge = [t.text for t in svg.iterfind(".//svg:g[@class='edge']/svg:text", ns)]
    assert held["path"] in edge, "the edge from the frame names its variable"


def test_missing_dot_is_a_clear_error(tmp_path: Path) -> None:
    run = heapspurs(*named("--address", LEAK["address"], "--output", tmp_path / "x.svg"),
                    env={"PATH": str(Path(sys.executable).parent)}, ok=False)  # fmt: skip
    assert run.returncode == 1 and "apt-get install graphviz" in run.stderr


def test_wrong_program_gives_a_warning_and_unnamed_answers() -> None:
    """Another program's symbols would name the wrong globals: they are left out, the
    anchors still come (by address), with one warning saying why."""
    other = fixture("go1.21").binary
    run = heapspurs("--program", other, F.dump, "--address", LEAK["address"], "--anchors",
                    "--json")  # fmt: skip
    warnings = run.stderr.splitlines()
    assert len(warnings) == 1 and "does not match the dump" in warnings[0], run.stderr
    assert "no global names and no types" in warnings[0]
    unnamed = heapspurs(F.dump, "--address", LEAK["address"], "--anchors", "--json")
    assert json.loads(run.stdout)["anchors"], "the answer does not need the binary"
    assert run.stdout == unnamed.stdout, "no name or type may come from the other binary"


def test_not_an_elf_program_gives_a_warning() -> None:
    run = heapspurs("--program", F.oid, F.dump, "--address", LEAK["address"], "--anchors")
    assert "not an ELF" in run.stderr and run.stdout


def test_missing_program_is_an_error() -> None:
    run = heapspurs("--program", F.oid.parent / "no-such-binary", F.dump, "--histogram",
                    ok=False)  # fmt: skip
    assert run.returncode == 1 and "cannot read" in run.stderr


def test_bad_oid_line_names_its_line(tmp_path: Path) -> None:
    oid = tmp_path / "oid.txt"
    oid.write_text("# ids\n0xcaffe14e00000001 main.Thing\n\nnot-an-id main.Other\n")
    run = heapspurs("--oid", oid, F.dump, "--find", "x", ok=False)
    assert run.returncode == 1 and f"{oid}:4:" in run.stderr


def test_address_outside_the_heap_is_explained() -> None:
    run = heapspurs(*named("--address", "0x10", "--anchors"), ok=False)
    assert run.returncode == 1 and "not in any object" in run.stderr
    bss = json.loads(heapspurs(*named("--find", "gSessions", "--json")).stdout)
    del bss
    run = heapspurs(*named("--address", "0xnothex", "--anchors"), ok=False)
    assert run.returncode == 2 and "not an address" in run.stderr


def test_address_of_a_global_says_it_is_a_global() -> None:
    from heapspurs.names.elf import read_symbols

    address = read_symbols(F.binary).address_of("main.gSessions")
    run = heapspurs(*named("--address", hex(address), "--anchors"), ok=False)
    assert "bss segment (main.gSessions)" in run.stderr


def test_saved_index_reopens_and_no_cache_writes_none(tmp_path: Path) -> None:
    dump = tmp_path / "heap.dump"
    shutil.copy(F.dump, dump)
    heapspurs(dump, "--address", LEAK["address"], "--anchors", "--no-cache")
    assert not (index_places(str(dump))[0]).exists()
    first = heapspurs(dump, "--address", LEAK["address"], "--anchors").stdout
    assert (index_places(str(dump))[0] / "meta.json").exists()
    assert not (tmp_path / "heap.dump.heapspurs-index").exists(), "kept in the cache folder"
    assert heapspurs(dump, "--address", LEAK["address"], "--anchors").stdout == first
    other = tmp_path / "other.dump"
    shutil.copy(F.dump, other)
    heapspurs(other, "--address", LEAK["address"], "--anchors", "--index-beside-dump")
    assert (tmp_path / "other.dump.heapspurs-index" / "meta.json").exists()
