"""Outputs formatted in bulk by compiled kernels equal their line-by-line references on
every fixture dump: the owner tree (many objects and depths, text and JSON) and the anchors
JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from heapspurs.analysis import fieldpath
from heapspurs.analysis.anchors import find_anchors
from heapspurs.analysis.owners import owner_pieces
from heapspurs.heap import graph
from heapspurs.loaded import load_dump
from heapspurs.names.naming import string_table
from heapspurs.render import jsonout, linebuf, text
from owners_reference import object_text, owner_json_lines, owner_text_lines

from conftest import VERSIONS, fixture, loaded

DEPTHS = (1, 2, 3, -1)


def sample_objects(heap, truth) -> list[int]:
    """Every scenario's object, objects held by roots and a spread of others."""
    objs = {heap.find(int(s["address"], 16)) for s in truth["scenarios"].values() if "address" in s}
    objs |= set(heap.roots.target[:: max(len(heap.roots) // 5, 1)].tolist())
    objs |= set(range(0, heap.n_objects, max(heap.n_objects // 12, 1)))
    return sorted(o for o in objs if o >= 0)


def assert_same_output(heap, names, obj: int, depth: int) -> None:
    fast = "\n".join(text.owner_text(heap, names, owner_pieces(heap, names, obj, depth)))
    assert fast == "\n".join(owner_text_lines(heap, names, obj, depth)), (obj, depth)
    fast = "\n".join(jsonout.owner_entries(heap, names, owner_pieces(heap, names, obj, depth)))
    assert fast == "\n".join(owner_json_lines(heap, names, obj, depth)), (obj, depth)


@pytest.mark.parametrize("version", VERSIONS)
def test_owner_output_equals_the_reference(version: str) -> None:
    ld = loaded(version)
    for obj in sample_objects(ld.heap, fixture(version).truth):
        for depth in DEPTHS:
            assert_same_output(ld.heap, ld.names, obj, depth)


@pytest.mark.parametrize("version", VERSIONS)
def test_anchors_json_text_equals_the_dumped_dict(version: str) -> None:
    ld = loaded(version)
    heap, names = ld.heap, ld.names
    for obj in sample_objects(heap, fixture(version).truth):
        address = int(heap.addr[obj]) + 1
        report = find_anchors(heap, names, obj)
        expected = json.dumps(jsonout.anchors_json(heap, names, address, report), indent=2)
        assert jsonout.anchors_json_text(heap, names, address, report) == expected


def chain_fields_one_by_one(heap, names, root: int, path: np.ndarray) -> list[str]:
    """The reference: each link's selector asked for on its own."""
    paths = fieldpath._Paths(heap, names)
    selectors = [paths.root_selector(root)]
    for o, down in zip(path[:-1].tolist(), path[1:].tolist(), strict=True):
        k = graph.pointing_fields(np.array([o], np.int32), np.array([down], np.int32),
                                  heap.cols.obj_first, heap.field_target)[0]  # fmt: skip
        selectors.append(paths.object_selector(o, int(k)))
    out, entered = [], None
    for selector, assertion in selectors:
        out.append((f".({entered})" if entered else "") + selector)
        entered = assertion
    return out


@pytest.mark.parametrize("with_program", [True, False])
def test_chain_fields_in_bulk_equal_each_links_selector(with_program: bool) -> None:
    f = fixture("go1.27")
    ld = loaded("go1.27") if with_program else load_dump(f.dump, cache=False)
    heap, names = ld.heap, ld.names
    checked = 0
    typed = {heap.find(int(t["address"], 16)) for t in f.truth["types"]}  # through interfaces too
    for obj in sorted(set(sample_objects(heap, f.truth)) | typed - {-1}):
        for a in find_anchors(heap, names, obj).anchors:
            expected = chain_fields_one_by_one(heap, names, a.root_index, a.path)
            assert fieldpath.chain_fields(heap, names, a.root_index, a.path) == expected
            checked += len(a.path) > 1
    assert checked > 10, "chains of several links were compared"


def test_owner_output_without_names_equals_the_reference() -> None:
    f = fixture("go1.27")
    ld = load_dump(f.dump, cache=False)
    for obj in sample_objects(ld.heap, f.truth)[::3]:
        assert_same_output(ld.heap, ld.names, obj, -1)


@pytest.mark.parametrize("buffer_bytes", [linebuf.BUFFER_BYTES, 300])
def test_compiled_lines_cover_deep_levels_extreme_numbers_any_name_and_full_buffers(
    buffer_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linebuf, "BUFFER_BYTES", buffer_bytes)  # 300: a line per buffer, or less
    names = ["Object", "main.Thing", "é名", "", "x" * 500]
    levels = np.array([0, 1, 32, 33, 1_000_000, 2], dtype=np.int32)
    addr = np.array([0, 1, 0xABC, 1 << 63, (1 << 64) - 1, 16], dtype=np.uint64)
    pointers = np.array([0, 9, 10, 12345, 1 << 40, 1], dtype=np.int64)
    size = np.array([0, 8, 100, 99999, (1 << 63) - 1, 4], dtype=np.int64)
    name_index = np.array([-1, 0, 1, 2, 0, 3], dtype=np.int32)
    encoded = [(n or "Object").encode() for n in names]  # as the text name table has them
    table = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    starts = np.cumsum([0, *map(len, encoded)]).astype(np.int64)
    fields = ["", ".Next", '["é名"]', ".Ptrs[4999]" + "y" * 400]  # entry 0: no field
    field_ids = np.array([0, 1, 2, 0, 3, 1], dtype=np.int32)
    columns = (levels, addr, pointers, size, name_index + 1, field_ids)
    field_table = string_table([f.encode() for f in fields])
    chunks = linebuf.chunks(linebuf.owner_text, columns, table, starts, *field_table)
    facts = zip(levels.tolist(), addr.tolist(), pointers.tolist(), size.tolist(), strict=True)
    expected = [
        object_text(
            level, names[name_index[o] + 1] or None, address, count, nbytes, fields[field_ids[o]]
        )
        for o, (level, address, count, nbytes) in enumerate(facts)
    ]
    assert "\n".join(chunks) == "\n".join(expected)
