"""Go types and field paths against what each fixture program's reflect says (truth.json
"types"), on the dumps of every Go version; the histogram, --find and a binary without
DWARF from the command line."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from heapspurs import cli
from heapspurs.analysis.anchors import find_anchors
from heapspurs.analysis.fieldpath import chain_fields, path_text
from heapspurs.analysis.owners import owner_pieces
from heapspurs.loaded import _Background, frame_pcs, load_dump, load_types
from heapspurs.program.dwarf import read_go_types
from heapspurs.render.jsonout import owner_entry_list

from conftest import VERSIONS, fixture, loaded, type_case_ids, type_cases

# What the typing pass cannot see yet, each for a stated reason (strict: a fix must
# remove the entry from here).
NOT_YET_TYPED = {
    # Go < 1.23 does not say where a closure keeps its captured variables (no
    # DW_AT_go_closure_offset)
    ("go1.21", "closure_item"): "Go 1.21's DWARF has no closure context layout",
    ("go1.21", "closure_var"): "Go 1.21's DWARF has no closure context layout",
}


def cases(select=lambda e: True, gaps: dict | None = None) -> list:
    out = []
    for (version, entry), case_id in zip(type_cases(), type_case_ids(), strict=True):
        if not select(entry):
            continue
        gap = (gaps or {}).get(entry["name"]) or (gaps or {}).get((version, entry["name"]))
        marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
        out.append(pytest.param(version, entry, id=case_id, marks=marks))
    return out


@pytest.mark.parametrize(("version", "entry"), cases(gaps=NOT_YET_TYPED))
def test_type_is_what_reflect_says(version: str, entry: dict) -> None:
    ld = loaded(version)
    obj = ld.heap.find(int(entry["address"], 16))
    assert obj >= 0
    assert ld.names.type_name(obj) == entry["type"], ld.names.typed.reason(obj)


def has_path(entry: dict) -> bool:
    return isinstance(entry["path"], str)


def root_matches(root, truth_root) -> bool:
    """A global by its name; a stack frame by its function (and goroutine)."""
    if isinstance(truth_root, str):
        return root.name == truth_root
    return root.function == truth_root["function"] and root.goroutine == truth_root["goroutine"]


@pytest.mark.parametrize(("version", "entry"), cases(has_path))
def test_anchor_field_path_reads_as_the_program_wrote_it(version: str, entry: dict) -> None:
    ld = loaded(version)
    obj = ld.heap.find(int(entry["address"], 16))
    report = find_anchors(ld.heap, ld.names, obj)
    paths = {
        path_text(a.root, chain_fields(ld.heap, ld.names, a.root_index, a.path))
        for a in report.anchors
        if root_matches(a.root, entry["root"])
    }
    assert entry["path"] in paths


def test_typed_share_meets_the_goal(version: str) -> None:
    """>= 95 % of live bytes and >= 90 % of live objects typed (the issue's goal)."""
    ld = loaded(version)
    live = ~ld.heap.phantom
    typed = live & (ld.names.typed.type >= 0)
    assert ld.heap.size[typed].sum() >= 0.95 * ld.heap.size[live].sum()
    assert typed.sum() >= 0.90 * live.sum()


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = cli.main([*argv, "--no-cache"], out=out)
    return status, out.getvalue()


def test_histogram_json_and_text() -> None:
    f = fixture(VERSIONS[-1] if "386" not in VERSIONS[-1] else "go1.27")
    status, text = run(str(f.dump), "--program", str(f.binary), "--histogram", "--json")
    assert status == 0
    answer = json.loads(text)
    rows = answer["types"]
    assert [r["bytes"] for r in rows] == sorted((r["bytes"] for r in rows), reverse=True)
    assert sum(r["bytes"] for r in rows) == answer["total_bytes"]
    assert answer["typed_bytes"] == sum(
        r["bytes"] for r in rows if not r["type"].startswith("unknown")
    )
    by_type = {r["type"]: r for r in rows}
    huge = next(e for e in f.truth["types"] if e["name"] == "large_struct")
    assert by_type[huge["type"]]["count"] == 1
    assert answer["note"] is None
    status, table = run(str(f.dump), "--program", str(f.binary), "--histogram")
    lines = table.splitlines()
    assert lines[0].split() == ["bytes", "%", "count", "retained", "type"]
    assert lines[-1].split()[0] == str(answer["total_bytes"]) and "total" in lines[-1]
    assert any(line.endswith(f"  {huge['type']}") for line in lines)


def test_histogram_without_a_binary_says_how_to_get_types() -> None:
    f = fixture("go1.27")
    status, text = run(str(f.dump), "--histogram", "--json")
    answer = json.loads(text)
    assert status == 0 and answer["typed_bytes"] == 0
    assert all(r["type"].startswith("unknown (") for r in answer["types"])
    assert "--program" in answer["note"]


def test_find_matches_types() -> None:
    f = fixture("go1.27")
    items = [e for e in f.truth["types"] if e["type"] == "main.Node"]
    status, text = run(str(f.dump), "--program", str(f.binary), "--find", r"^main\.Node$", "--json")
    found = {o["address"] for o in json.loads(text)["objects"]}
    assert status == 0 and {e["object"] for e in items} <= found
    assert all(o["type"] == "main.Node" for o in json.loads(text)["objects"])


@pytest.mark.parametrize("version", VERSIONS)
def test_owner_tree_names_the_field_that_holds_the_object(version: str) -> None:
    """Where the program's paths say Y = X + selector and X's object owns Y's, the owner
    tree's line for X names that selector."""
    ld = loaded(version)
    entries = [e for e in fixture(version).truth["types"] if has_path(e)]
    checked = 0
    for y in entries:
        obj = ld.heap.find(int(y["address"], 16))
        owners = owner_entry_list(ld.heap, ld.names, owner_pieces(ld.heap, ld.names, obj, 1))
        field_of = {o["object"]["address"]: o["object"].get("field") for o in owners[1:]
                    if "object" in o}  # fmt: skip
        for x in entries:
            if x is not y and y["path"].startswith(x["path"]) and x["object"] in field_of:
                # the line's type says what an interface held: no assertion in the field
                selector = re.sub(r"^\.\([^)]*\)", "", y["path"][len(x["path"]) :])
                assert (field_of[x["object"]] or "") == selector, (x, y)
                checked += 1
    assert checked >= 8


def test_owners_text_says_the_field() -> None:
    f = fixture("go1.27")
    entry = next(e for e in f.truth["types"] if e["name"] == "sessions_req")
    args = ("--address", entry["address"], "--owners", "1")
    status, text = run(str(f.dump), "--program", str(f.binary), *args)
    assert status == 0
    assert re.search(r"^  \[8\]\*main\.Request @ 0x[0-9a-f]+ .* bytes via \[3\]$", text, re.M), text


def test_anchors_json_has_types_and_fields() -> None:
    f = fixture("go1.27")
    entry = next(e for e in f.truth["types"] if e["name"] == "sessions_req")
    args = ("--address", entry["address"], "--anchors", "--json")
    status, text = run(str(f.dump), "--program", str(f.binary), *args)
    answer = json.loads(text)
    assert status == 0 and answer["type"] == entry["type"] == answer["object"]["type"]
    anchor = next(a for a in answer["anchors"] if a["name"] == entry["root"])
    assert len(anchor["fields"]) == len(anchor["path"])
    assert anchor["name"] + "".join(anchor["fields"]) == entry["path"]
    status, text = run(str(f.dump), "--program", str(f.binary), *args[:-1])
    assert f"path: {entry['path']} → {entry['type']}" in text


def test_interior_address_names_the_element() -> None:
    f = fixture("go1.27")
    entry = next(e for e in f.truth["types"] if e["name"] == "array_interior_int64")
    args = ("--address", entry["address"], "--anchors", "--json")
    answer = json.loads(run(str(f.dump), "--program", str(f.binary), *args)[1])
    assert answer["object"]["type"] == entry["type"] == "[1024]int64"
    assert answer["type"] == "int64"


def without_dwarf(binary: Path, out: Path) -> Path:
    """A copy of the binary whose DWARF sections are renamed away (as if built with -w)."""
    data = bytearray(binary.read_bytes())
    for name in (b".debug_info", b".zdebug_info"):
        at = data.find(name + b"\0")
        if at >= 0:
            data[at + 1 : at + 6] = b"xxxxx"
    out.write_bytes(bytes(data))
    return out


def test_binary_without_dwarf_warns_and_answers_untyped(tmp_path: Path, capsys) -> None:
    f = fixture("go1.27")
    binary = without_dwarf(f.binary, tmp_path / "scenarios")
    shutil.copy(f.dump, tmp_path / "heap.dump")
    status, text = run(str(tmp_path / "heap.dump"), "--program", str(binary), "--histogram")
    err = capsys.readouterr().err
    assert status == 0
    assert err.count("\n") == 1 and "warning" in err and "DWARF" in err
    assert "Traceback" not in err
    assert "--program" in text.splitlines()[-1]  # untyped: the note says how to get types


@pytest.mark.parametrize(
    ("array", "value"),
    [("objects_type", 1 << 30), ("types_elem", 1 << 30), ("types_field_type", -7),
     ("types_field_first", 0), ("objects_count", -5), ("objects_name", 1 << 30)],
)  # fmt: skip
def test_damaged_saved_types_are_worked_out_again(tmp_path: Path, array: str, value: int) -> None:
    """Saved types index compiled code: a changed one is never used (no crash, no wrong
    answer), it is typed again from the binary."""
    f = fixture("go1.27")
    dump = tmp_path / "heap.dump"
    shutil.copy(f.dump, dump)
    first = load_dump(dump, program=str(f.binary))
    place = first.heap.index_place
    assert place is not None and (place / "types" / f"{array}.npy").exists()
    saved = np.load(place / "types" / f"{array}.npy")
    saved[len(saved) // 2 :] = value
    np.save(place / "types" / f"{array}.npy", saved)
    again = load_dump(dump, program=str(f.binary))
    assert np.array_equal(again.names.typed.type, first.names.typed.type)
    index, labels = again.names.typed.name_index(again.heap)
    first_index, first_labels = first.names.typed.name_index(first.heap)
    assert labels == first_labels and np.array_equal(index, first_index)
    assert again.names.typed.types is not None
    assert again.names.typed.types.problem() is None


def test_types_read_for_another_dumps_frames_are_read_again_for_these() -> None:
    """The binary's stack variables are read only for the functions the dump's frames run;
    types read so for another dump (a --baseline reuses the dump's) that miss some of this
    dump's functions are read again, so its stack-held objects are typed all the same."""
    f = fixture("go1.27")
    ld = load_dump(f.dump, cache=False)
    pcs = frame_pcs(ld.heap.cols)
    own = read_go_types(f.binary, lambda: pcs)
    assert own.covers(pcs) and 0 < len(own.var_lo) < len(read_go_types(f.binary).var_lo)
    other = read_go_types(f.binary, lambda: pcs[:1])
    assert not other.covers(pcs)
    warnings: list[str] = []
    again = load_types(ld.heap, str(f.binary), False, warnings, _Background(lambda: other))
    typed = load_types(ld.heap, str(f.binary), False, warnings)
    assert np.array_equal(again.type, typed.type) and np.array_equal(again.count, typed.count)
    assert not warnings
