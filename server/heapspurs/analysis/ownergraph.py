"""The owner graph of an object: its owners up to the roots, trimmed to a node budget around
the shortest anchor chains, optionally pruned to what lies on a path from a root."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..heap import graph
from ..heap.model import Heap
from ..names.naming import Names
from .anchors import find_anchors
from .describe import RootInfo, describe_root
from .fieldpath import chain_fields


@dataclass
class Edge:
    src: int  # object index
    dst: int
    offset: int  # of the pointer inside ``src``'s record
    interior: int  # how far into ``dst``'s value the pointer lands (0: at its start)


@dataclass
class RootNode:
    info: RootInfo
    targets: list[tuple[int, str]] = field(default_factory=list)  # (object, edge label)


@dataclass
class OwnerGraph:
    target: int
    nodes: list[int]  # object indexes, the target first
    edges: list[Edge]
    roots: list[RootNode]
    finalizers: set[int]  # nodes with a registered finalizer
    finalizer_cycle: set[int]  # nodes on a cycle through a finalizer object
    unowned: set[int]  # nodes nothing points at, neither object nor root
    truncated: bool


def owner_graph(
    heap: Heap, names: Names, obj: int, max_nodes: int = 500, prune: bool = False
) -> OwnerGraph:
    allowed = ~heap.phantom
    if prune:
        from_roots = graph.reach_forward(
            heap.roots.target, heap.cols.obj_first, heap.field_target, np.int32(obj)
        )
        # a finalized object counts as the root of what it points to
        allowed = allowed & (from_roots | heap.finalizer_objects())
        allowed[obj] = True
    order = heap.owners_bfs(obj, allowed)[0]
    chosen = _budget(heap, names, obj, order, max_nodes)
    in_set = np.zeros(heap.n_objects, dtype=np.bool_)
    in_set[chosen] = True
    nodes = [int(o) for o in chosen]
    fin_mask = heap.finalizer_objects()
    finalizers = {o for o in nodes if fin_mask[o]}
    return OwnerGraph(
        obj,
        nodes,
        _edges(heap, nodes, in_set),
        _root_nodes(heap, names, nodes),
        finalizers,
        _finalizer_cycles(heap, finalizers, in_set),
        {
            o
            for o in nodes
            if heap.in_first[o + 1] == heap.in_first[o] and not len(heap.roots_of(o))
        },
        truncated=len(order) > len(nodes),
    )


def _budget(heap: Heap, names: Names, obj: int, order: np.ndarray, max_nodes: int) -> np.ndarray:
    """All owners when they fit; else the shortest anchor chains first, then nearest owners."""
    if len(order) <= max_nodes:
        return order
    keep: dict[int, None] = {obj: None}
    for anchor in find_anchors(heap, names, obj).anchors:
        if len(keep) + len(anchor.path) > max_nodes:
            break
        keep.update(dict.fromkeys(anchor.path.tolist()))
    for o in order:
        if len(keep) >= max_nodes:
            break
        keep.setdefault(int(o), None)
    return np.array(list(keep), dtype=np.int32)


def _edges(heap: Heap, nodes: list[int], in_set: np.ndarray) -> list[Edge]:
    edges = []
    for s in nodes:
        for k in heap.fields_of(s):
            d = int(heap.field_target[k])
            if d >= 0 and in_set[d]:
                start = int(heap.addr[d]) + heap.value_offset(d)
                edges.append(
                    Edge(s, d, int(heap.cols.field_off[k]), int(heap.cols.field_val[k]) - start)
                )
    return edges


def _root_nodes(heap: Heap, names: Names, nodes: list[int]) -> list[RootNode]:
    by_key: dict[tuple, RootNode] = {}
    for o in nodes:
        for r in heap.roots_of(o):
            info = describe_root(heap, names, int(r))
            node = by_key.setdefault(info.key, RootNode(info))
            label = _root_edge_label(heap, names, int(r), o, info)
            if (o, label) not in node.targets:
                node.targets.append((o, label))
    return list(by_key.values())


def _root_edge_label(heap: Heap, names: Names, r: int, o: int, info: RootInfo) -> str:
    """A global's symbol; for a stack frame the variable that holds ``o`` (``held``)."""
    if info.segment:
        return names.symbol(int(heap.roots.slot[r])) or ""
    if info.frame is not None:
        return chain_fields(heap, names, r, np.array([o], dtype=np.int32))[0]
    return ""


def _finalizer_cycles(heap: Heap, finalizers: set[int], in_set: np.ndarray) -> set[int]:
    """Nodes that both reach a finalizer object and are reached from it."""
    cycle: set[int] = set()
    for f in finalizers:
        ahead = graph.reach_forward(
            np.array([f], np.int32), heap.cols.obj_first, heap.field_target, np.int32(-1)
        )
        order = heap.owners_bfs(f, in_set)[0]
        members = [int(o) for o in order if ahead[o]]
        if len(members) > 1 or any(heap.field_target[k] == f for k in heap.fields_of(f)):
            cycle.update(members)
    return cycle
