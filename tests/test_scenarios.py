"""Every scenario of every Go version is anchored as the Go program says (ground truth)."""

from __future__ import annotations

import pytest

from heapspurs.analysis.anchors import find_anchors, nearest_anchor
from heapspurs.dumpfile.records import iter_records
from heapspurs.render.jsonout import anchors_json

from conftest import fixture, loaded, scenario_cases
from expectations import check_scenario


@pytest.mark.parametrize(("version", "name"), scenario_cases())
def test_scenario_anchor_and_record(version: str, name: str) -> None:
    truth = fixture(version).scenario(name)
    dump = loaded(version)
    address = int(truth["address"], 16)
    obj = dump.heap.find(address)
    assert obj >= 0, f"{truth['address']} not found in any record"
    answer = anchors_json(dump.heap, dump.names, address, find_anchors(dump.heap, dump.names, obj))
    check_scenario(answer, truth, fixture(version).minor, fixture(version).ptr_size)


def test_records_minus_phantoms_equal_memstats_heap_objects(version: str) -> None:
    """Phantom span-tail records are exactly the records the runtime does not count."""
    heap = loaded(version).heap
    memstats = next(r for r in iter_records(heap.dump) if r.kind == "MemStats")
    assert heap.n_objects - int(heap.phantom.sum()) == memstats["HeapObjects"]
    if fixture(version).minor >= 22:
        assert heap.phantom.sum() > 0
    assert not heap.reachable()[heap.phantom].any(), "a phantom is reachable from a root"


def test_phantoms_never_own_or_anchor(version: str) -> None:
    heap = loaded(version).heap
    phantoms = set(map(int, heap.phantom.nonzero()[0]))
    for name in fixture(version).truth["scenarios"]:
        obj = heap.find(int(fixture(version).scenario(name)["address"], 16))
        report = find_anchors(heap, loaded(version).names, obj)
        assert not any(set(a.path) & phantoms for a in report.anchors)


def test_finalizer_cycle_is_the_only_anchor(version: str) -> None:
    dump = loaded(version)
    truth = fixture(version).scenario("finalizer_cycle_b")
    obj = dump.heap.find(int(truth["address"], 16))
    report = find_anchors(dump.heap, dump.names, obj)
    assert report.only_finalizer_cycles


def test_nearest_anchor_is_the_shortest_of_all_anchors(version: str) -> None:
    """What a hover on a huge dump shows (one BFS from the roots, then a walk up) agrees with
    the full search: same shortest chain length, a root the full search also found."""
    dump = loaded(version)
    for name, truth in fixture(version).truth["scenarios"].items():
        obj = dump.heap.find(int(truth["address"], 16))
        full = find_anchors(dump.heap, dump.names, obj)
        near = nearest_anchor(dump.heap, dump.names, obj)
        assert bool(near.anchors) == bool(full.anchors), name
        if full.anchors:
            assert near.anchors[0].length == min(a.length for a in full.anchors), name
            assert near.anchors[0].path[-1] == obj
            assert near.anchors[0].root.key in {a.root.key for a in full.anchors}, name
