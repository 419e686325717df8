"""The dominator tree and retained sizes, checked against networkx's immediate_dominators
on the real fixture dumps (and random graphs), and the answers built on them: --top,
--suspects (on the planted-leak fixture), retained in anchors and the histogram."""

from __future__ import annotations

import io
import json
import random
import sys
from functools import cache
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from heapspurs import cli, commands
from heapspurs.analysis import dominators as D
from heapspurs.analysis.suspects import NoRoots, accumulation_point, suspects_answer, top_answer
from heapspurs.heap.model import Heap
from heapspurs.loaded import load_dump

from conftest import DATA, ROOT, VERSIONS, fixture, loaded

LEAK_DIR = ROOT / "tests" / "fixtures" / "leakcache" / "go1.27"
R = "virtual root"


def reference_tree(heap: Heap, extra_roots: tuple[int, ...] = ()) -> dict:
    """networkx's immediate dominators of the heap graph: a virtual root pointing at every
    root target, pointers between objects, phantom records left out."""
    g = nx.DiGraph()
    g.add_node(R)
    live = ~heap.phantom
    for t in [*heap.root_target.tolist(), *extra_roots]:
        if live[t]:
            g.add_edge(R, t)
    first, target = heap.cols.obj_first, heap.field_target
    for o in np.flatnonzero(live).tolist():
        for c in target[first[o] : first[o + 1]].tolist():
            if c >= 0 and live[c]:
                g.add_edge(o, c)
    return nx.immediate_dominators(g, R)


def reference_retained(heap: Heap, idom: dict) -> dict[int, tuple[int, int]]:
    """(bytes, objects) of each object's dominator subtree, from networkx's tree."""
    kids: dict = {}
    for v, d in idom.items():
        if v != R:
            kids.setdefault(d, []).append(v)
    out: dict[int, tuple[int, int]] = {}
    order = list(nx.dfs_preorder_nodes(nx.DiGraph((d, v) for d, vs in kids.items() for v in vs), R))
    for v in reversed(order):
        if v == R:
            continue
        nbytes = int(heap.size[v]) + sum(out[c][0] for c in kids.get(v, ()))
        out[v] = (nbytes, 1 + sum(out[c][1] for c in kids.get(v, ())))
    return out


def assert_same_tree(heap: Heap, tree: D.Dominators, idom: dict) -> None:
    want = np.full(heap.n_objects, D.UNREACHED, dtype=np.int64)
    for v, d in idom.items():
        if v != R:
            want[v] = D.VIRTUAL_ROOT if d == R else d
    wrong = np.flatnonzero(want != tree.idom)
    assert not len(wrong), (
        f"{len(wrong)} objects with another immediate dominator, e.g. {wrong[:5]}"
    )
    for v, (nbytes, count) in reference_retained(heap, idom).items():
        assert (tree.retained[v], tree.retained_objects[v]) == (nbytes, count), v
    assert tree.live_bytes == int(heap.size[[v for v in idom if v != R]].sum())


def dump_cases() -> list[str]:
    return [*VERSIONS, "leakcache"]


@cache
def loaded_case(case: str):
    if case == "leakcache":
        return load_dump(LEAK_DIR / "heap.dump", program=str(LEAK_DIR / "leakcache"), cache=False)
    return loaded(case)


@pytest.mark.parametrize("case", dump_cases())
def test_tree_is_networkx_tree_on_real_dumps(case: str) -> None:
    heap = loaded_case(case).heap
    assert_same_tree(heap, D.of_heap(heap), reference_tree(heap))


def test_a_second_root_splits_a_retained_set() -> None:
    """A root added below the largest retainer takes what it dominates out of that set."""
    heap = loaded("go1.27").heap
    tree = D.of_heap(heap)
    top = int(tree.largest(tree.children(None), 1)[0])
    below = [int(c) for c in tree.subtree(top)[1:] if tree.retained[c] > heap.size[c]]
    inner = max(below, key=lambda c: int(tree.retained[c]))
    roots = np.append(heap.root_target, np.int32(inner))
    split = D.compute(roots, heap.cols.obj_first, heap.field_target, heap.in_first, heap.in_src,
                      ~heap.phantom, heap.size)  # fmt: skip
    assert_same_tree(heap, split, reference_tree(heap, (inner,)))
    assert split.idom[inner] == D.VIRTUAL_ROOT
    assert split.retained[top] <= tree.retained[top] - tree.retained[inner]
    assert split.live_bytes == tree.live_bytes


def scenario_object(version: str, name: str) -> int:
    heap = loaded(version).heap
    return heap.find(int(fixture(version).scenario(name)["object"], 16))


@pytest.mark.parametrize("version", VERSIONS)
def test_finalizer_cycle_is_held_by_what_the_finalized_object_points_to(version: str) -> None:
    """a has a finalizer and points at b, b points back: b is a root (a's finalizer
    needs it), a is reached only through b."""
    heap = loaded(version).heap
    tree = D.of_heap(heap)
    a, b = (
        scenario_object(version, "finalizer_cycle_a"),
        scenario_object(version, "finalizer_cycle_b"),
    )
    assert tree.idom[b] == D.VIRTUAL_ROOT
    assert tree.idom[a] == b
    assert tree.retained[b] >= heap.size[a] + heap.size[b]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", ["array_interior", "field_interior"])
def test_objects_held_by_interior_pointers_are_in_the_tree(version: str, name: str) -> None:
    """A global points inside the object, never at its start: it is still a root target."""
    heap = loaded(version).heap
    tree = D.of_heap(heap)
    obj = scenario_object(version, name)
    assert tree.idom[obj] == D.VIRTUAL_ROOT
    assert tree.retained[obj] >= heap.size[obj]


def random_graph(rng: random.Random, n: int) -> tuple:
    """CSR columns of a random graph with cycles, self loops, repeated edges, pointers into
    nothing (-1), unreachable parts and objects that must not be entered."""
    first, targets = [0], []
    for _ in range(n):
        for _ in range(rng.choice([0, 1, 1, 2, 3, 5])):
            targets.append(rng.randrange(-1, n))
        first.append(len(targets))
    obj_first = np.array(first, dtype=np.int64)
    field_target = np.array(targets, dtype=np.int32)
    owners = sorted((t, o) for o in range(n) for t in targets[first[o] : first[o + 1]] if t >= 0)
    in_first = np.searchsorted([t for t, _ in owners], np.arange(n + 1)).astype(np.int64)
    in_src = np.array([o for _, o in owners], dtype=np.int32)
    roots = np.array(rng.sample(range(n), rng.randint(1, 4)), dtype=np.int32)
    allowed = np.array([rng.random() > 0.05 for _ in range(n)])
    size = np.array([rng.randint(1, 100) for _ in range(n)], dtype=np.int64)
    return roots, obj_first, field_target, in_first, in_src, allowed, size


def networkx_idom(roots, obj_first, field_target, allowed) -> list[int]:
    """networkx's immediate dominator of each object of a random_graph (D's encoding)."""
    g = nx.DiGraph()
    g.add_node(R)
    g.add_edges_from((R, int(t)) for t in roots if allowed[t])
    for o in range(len(allowed)):
        for c in field_target[obj_first[o] : obj_first[o + 1]].tolist():
            if allowed[o] and c >= 0 and allowed[c]:
                g.add_edge(o, c)
    idom = nx.immediate_dominators(g, R)
    return [D.UNREACHED if v not in idom else D.VIRTUAL_ROOT if idom[v] == R else idom[v]
            for v in range(len(allowed))]  # fmt: skip


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_match_networkx(seed: int) -> None:
    rng = random.Random(seed)
    roots, obj_first, field_target, in_first, in_src, allowed, size = random_graph(rng, 60)
    tree = D.compute(roots, obj_first, field_target, in_first, in_src, allowed, size)
    want = networkx_idom(roots, obj_first, field_target, allowed)
    assert tree.idom.tolist() == want
    reached = [v for v, d in enumerate(want) if d != D.UNREACHED]
    assert tree.live_bytes == int(size[reached].sum())


@pytest.mark.parametrize("seed", range(6))
def test_passes_split_across_threads_match_networkx(seed: int, monkeypatch) -> None:
    """Large heaps take the passes in blocks and halves on two threads: the same tree and
    retained sizes on graphs of a few thousand objects made to go that way."""
    monkeypatch.setattr(D, "SPLIT_MIN", 0)
    rng = random.Random(seed)
    roots, obj_first, field_target, in_first, in_src, allowed, size = random_graph(rng, 3000)
    tree = D.compute(roots, obj_first, field_target, in_first, in_src, allowed, size)
    want = networkx_idom(roots, obj_first, field_target, allowed)
    assert tree.idom.tolist() == want
    retained, objects = [0] * len(want), [0] * len(want)
    for v in range(len(want)):  # v counts for itself and every object above it
        u = v if want[v] != D.UNREACHED else D.VIRTUAL_ROOT
        while u != D.VIRTUAL_ROOT:
            retained[u] += int(size[v])
            objects[u] += 1
            u = want[u]
    assert tree.retained.tolist() == retained
    assert tree.retained_objects.tolist() == objects


@pytest.mark.parametrize("case", dump_cases())
def test_retained_without_the_tree_agrees_with_the_tree(case: str) -> None:
    """--anchors answers what one object retains by one search when no tree is at hand."""
    heap = loaded_case(case).heap
    tree = D.of_heap(heap)
    for obj in range(0, heap.n_objects, 97):
        got = D.retained_of(heap, obj)
        if not tree.reached(obj):
            assert got is None
        else:
            assert got == (tree.retained[obj], tree.retained_objects[obj], tree.live_bytes)


def test_histogram_retained_counts_nested_objects_of_a_type_once() -> None:
    ld = loaded("go1.27")
    heap, names = ld.heap, ld.names
    tree = D.of_heap(heap)
    index, labels = names.typed.name_index(heap)
    got = D.retained_by_type(tree, index, len(labels))
    want = np.zeros(len(labels), dtype=np.int64)
    for o in np.flatnonzero(tree.idom != D.UNREACHED).tolist():
        d = int(tree.idom[o])
        while d >= 0 and index[d] != index[o]:
            d = int(tree.idom[d])
        if d < 0:  # no object of its type above it
            want[index[o]] += tree.retained[o]
    assert got.tolist() == want.tolist()


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved, sys.stderr = sys.stderr, err
    try:
        status = cli.main(list(argv), out=out)
    finally:
        sys.stderr = saved
    return status, out.getvalue(), err.getvalue()


def leak_cli(*argv: str) -> tuple[int, str, str]:
    return run(str(LEAK_DIR / "heap.dump"), "--program", str(LEAK_DIR / "leakcache"), "--no-cache",
               *argv)  # fmt: skip


def leak_truth() -> dict:
    return json.loads((LEAK_DIR / "truth.json").read_text())


def test_top_json_lists_the_largest_first_level_retainers() -> None:
    status, out, _ = leak_cli("--top", "5", "--json")
    assert status == 0
    objects = json.loads(out)["objects"]
    assert len(objects) == 5
    assert [o["retained"] for o in objects] == sorted(
        (o["retained"] for o in objects), reverse=True
    )
    first = objects[0]
    assert set(first) >= {
        "address",
        "size",
        "type",
        "name",
        "retained",
        "retained_objects",
        "anchor",
    }
    truth = leak_truth()["leak"]
    assert first["type"] == truth["type"]
    assert first["anchor"] == f"global {truth['global']} (bss)"
    assert first["retained"] > truth["payload_bytes"]


def test_top_with_an_address_drills_down_the_tree() -> None:
    _, out, _ = leak_cli("--top", "1", "--json")
    cache_obj = json.loads(out)["objects"][0]
    status, out, _ = leak_cli("--top", "50", "--address", cache_obj["address"], "--json")
    assert status == 0
    answer = json.loads(out)
    assert answer["parent"]["address"] == cache_obj["address"]
    below = sum(o["retained"] for o in answer["objects"])
    assert below == cache_obj["retained"] - cache_obj["size"]  # all of its children fit in 50


def test_top_text_is_an_aligned_table_with_percentages() -> None:
    status, out, _ = leak_cli("--top", "3")
    lines = out.splitlines()
    assert status == 0 and lines[1].split()[:2] == ["retained", "%"]
    rows = lines[2:5]
    assert all("%" in r and "<- " in r for r in rows)
    assert len({r.index("%") for r in rows}) == 1  # the percent column lines up
    assert leak_truth()["leak"]["global"] in rows[0]


def test_planted_leak_is_the_first_suspect() -> None:
    status, out, _ = leak_cli("--suspects", "--json")
    assert status == 0
    found = json.loads(out)["suspects"]
    truth = leak_truth()
    assert 1 <= len(found) <= 5
    leak = found[0]
    assert leak["kind"] == "object" and leak["type"] == truth["leak"]["type"]
    assert leak["anchor"]["name"] == truth["leak"]["global"]
    assert leak["anchor"]["expression"].startswith(truth["leak"]["global"])
    accumulated = {t["type"]: t for t in leak["accumulated"]}
    assert accumulated[truth["leak"]["entry_type"]]["count"] == truth["leak"]["entries"]
    point = leak["accumulation_point"]
    assert point["retained"] >= 0.7 * leak["retained"]
    # the workers' buffers: none big alone, together more than a tenth of the heap
    group = next(s for s in found if s["kind"] == "group")
    assert group["count"] == truth["workers"]["count"]
    assert group["anchor"]["function"] == truth["workers"]["function"]
    assert not any(s["anchor"]["name"] in truth["bounded"] for s in found)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_linked_list_piles_up_from_its_head(version: str) -> None:
    """Each node retains the rest of the list (far more than 70 % of its parent), but the
    accumulation point stays at the head: the walk stops where the type repeats."""
    ld = loaded(version)
    tree = D.of_heap(ld.heap)
    nodes = [e for e in fixture(version).truth["types"] if e["name"].startswith("list_")]
    head = ld.heap.find(int(nodes[0]["object"], 16))
    second = ld.heap.find(int(nodes[1]["object"], 16))
    assert tree.idom[second] == head and tree.retained[second] >= 0.7 * tree.retained[head]
    assert accumulation_point(tree, head, ld.names.typed.name_index(ld.heap)[0]) == head


def test_suspects_text_and_threshold() -> None:
    status, out, _ = leak_cli("--suspects")
    assert status == 0
    assert "suspect 1: main.Cache" in out and "accumulation point:" in out
    assert f"path: {leak_truth()['leak']['global']}" in out
    _, out, _ = leak_cli("--suspects", "--suspect-threshold", "50", "--json")
    assert len(json.loads(out)["suspects"]) == 1


def test_anchors_say_what_the_object_retains() -> None:
    _, out, _ = leak_cli("--top", "1", "--json")
    top = json.loads(out)["objects"][0]
    _, out, _ = leak_cli("--address", top["address"], "--anchors", "--json")
    obj = json.loads(out)["object"]
    assert (obj["retained"], obj["retained_objects"]) == (top["retained"], top["retained_objects"])
    _, out, _ = leak_cli("--address", top["address"], "--anchors")
    assert f"retains {top['retained']} bytes (" in out and "% of the heap)" in out


def test_histogram_rows_have_retained() -> None:
    status, out, _ = leak_cli("--histogram", "--json")
    assert status == 0
    rows = {r["type"]: r for r in json.loads(out)["types"]}
    truth = leak_truth()["leak"]
    assert rows[truth["type"]]["retained"] > truth["payload_bytes"]
    assert all(r["retained"] >= 0 for r in rows.values())


def test_bad_input_is_one_line() -> None:
    status, _, err = leak_cli("--top", "3", "--address", "0x1")
    assert status == 1 and err.count("\n") == 1 and "0x1 is not in any object" in err
    status, _, err = leak_cli("--top", "0")
    assert status == 1 and err.count("\n") == 1 and "--top" in err
    status, _, err = leak_cli("--suspects", "--suspect-threshold", "150")
    assert status == 1 and err.count("\n") == 1 and "0 < P <= 100" in err
    status, _, err = leak_cli("--top", "3", "--suspect-threshold", "5")
    assert status == 1 and "--suspect-threshold goes with --suspects" in err


def test_a_dump_without_roots_retains_nothing() -> None:
    """The fixture's heap with its roots taken away: a clear error, not an empty answer."""
    ld = load_dump(DATA / "go1.27" / "heap.dump", cache=False)
    heap = ld.heap
    heap.root_target = heap.root_target[:0]
    tree = D.of_heap(heap)
    assert tree.live_objects == 0
    with pytest.raises(NoRoots, match="no root"):
        top_answer(heap, ld.names, tree, 3)
    with pytest.raises(NoRoots, match="no root"):
        suspects_answer(heap, ld.names, tree)
    args = cli.build_parser().parse_args([str(heap.dump.path), "--top", "3"])
    assert NoRoots in commands.USER_ERRORS
    with pytest.raises(NoRoots):
        list(commands.run_on(ld, args))


def test_the_tree_is_saved_in_the_index_and_read_on_reopen(tmp_path: Path) -> None:
    dump = tmp_path / "heap.dump"
    dump.write_bytes((LEAK_DIR / "heap.dump").read_bytes())
    first = load_dump(dump).heap
    tree = D.dominators(first)
    again = load_dump(dump).heap
    saved = D.tree_at_hand(again)
    assert saved is not None
    assert saved.idom.tolist() == tree.idom.tolist()
    assert saved.retained.tolist() == tree.retained.tolist()
    assert saved.live_bytes == tree.live_bytes
    # a damaged array is not used: the tree is computed again
    place = again.index_place
    assert place is not None
    raw = bytearray((place / "dom_idom.npy").read_bytes())
    raw[-1] ^= 0xFF
    (place / "dom_idom.npy").write_bytes(bytes(raw))
    third = load_dump(dump).heap
    assert D.tree_at_hand(third) is None
    assert D.dominators(third).idom.tolist() == tree.idom.tolist()


def test_histogram_retained_is_saved_for_the_type_names_it_was_worked_out_for(tmp_path) -> None:
    dump = tmp_path / "heap.dump"
    dump.write_bytes((LEAK_DIR / "heap.dump").read_bytes())
    typed = (str(dump), "--program", str(LEAK_DIR / "leakcache"), "--histogram", "--json")

    def retained(*argv: str) -> dict[str, int]:
        status, out, err = run(*argv)
        assert status == 0, err
        return {row["type"]: row["retained"] for row in json.loads(out)["types"]}

    fresh = retained(*typed, "--no-cache")
    assert retained(*typed) == fresh  # worked out, then saved
    place = load_dump(dump).heap.index_place
    assert place is not None
    extra = json.loads((place / "meta.json").read_text())["extra"]
    assert set(D.BY_TYPE) <= set(extra)
    assert retained(*typed) == fresh  # read back
    # without the binary the types are named otherwise: worked out again, not the saved row
    assert retained(str(dump), "--histogram", "--json") == retained(
        str(dump), "--histogram", "--json", "--no-cache"
    )
    # a damaged saved row is worked out again
    saved = place / f"{D.BY_TYPE[0]}.npy"
    data = saved.read_bytes()
    saved.write_bytes(data[:-8] + bytes(b ^ 0xFF for b in data[-8:]))
    assert retained(*typed) == fresh
