"""Owners: who points at an object, and who points at them, as a tree printed depth-first.

Each object appears once, at its shortest distance from the target, under the object it
points to on a shortest chain. Memory is linear in the objects visited; the tree comes out
in pieces (batches of objects, and the roots holding an object right after it) so renderers
format a million-deep chain a chunk at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..heap import graph
from ..heap.cores import side_by_side
from ..heap.model import Heap
from ..names.naming import Names
from .describe import RootInfo, describe_root

CHUNK = 1 << 16  # objects formatted at a time: bounded memory however large the tree


@dataclass
class OwnerTree:
    """A stretch of the owner tree in depth-first order, as arrays (one entry per object)."""

    target: int
    depth: int  # levels asked for (-1: all)
    nodes: np.ndarray  # object indexes, preorder
    levels: np.ndarray  # depth of each node
    points_to: np.ndarray  # per node: the object it points at one level down (-1: target)

    def part(self, start: int, stop: int) -> OwnerTree:
        return OwnerTree(self.target, self.depth, self.nodes[start:stop],
                         self.levels[start:stop], self.points_to[start:stop])  # fmt: skip


@dataclass(frozen=True)
class OwnerRoot:
    """A root holding ``points_to``, one level below it in the tree."""

    level: int
    root: RootInfo
    points_to: int


def owner_tree(
    heap: Heap, obj: int, depth: int, beside: Callable[[], object] | None = None
) -> Iterator[OwnerTree]:
    """Owners of ``obj`` down to ``depth`` levels (-1: all), CHUNK objects at a time: each
    object once, at its shortest distance, under the object it points to on a shortest
    chain. Only the breadth-first search is held whole, not the tree in print order.
    ``beside``: work for another core while the search runs (it lets go of the GIL)."""

    def search() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return heap.owners_bfs(obj, max_depth=depth)

    order, first_child, _ = search() if beside is None else side_by_side(search, beside)[0]
    stack = np.empty((len(order), 3), dtype=np.int32)  # pages past its height stay untouched
    stack[0] = (0, 0, -1)
    top, size = 1, min(CHUNK, len(order))
    while top:
        nodes, levels, points_to = (np.empty(size, dtype=np.int32) for _ in range(3))
        count, top = graph.preorder_next(order, first_child, stack, top, nodes, levels, points_to)
        yield OwnerTree(obj, depth, nodes, levels, points_to).part(0, count)


def owner_pieces(heap: Heap, names: Names, obj: int, depth: int) -> Iterator[OwnerTree | OwnerRoot]:
    """The owner tree depth-first, in stretches of objects; the roots holding an object
    (within ``depth``) follow it."""
    has_root = np.zeros(heap.n_objects, dtype=np.bool_)
    has_root[heap.roots.target] = True
    # every line names its object's type: the names' table is worked out beside the search
    for batch in owner_tree(heap, obj, depth, names.type_index):
        within = (batch.levels < depth) | (depth < 0)
        start = 0
        for i in np.flatnonzero(has_root[batch.nodes] & within).tolist():
            yield batch.part(start, i + 1)
            o, level = int(batch.nodes[i]), int(batch.levels[i]) + 1
            yield from (OwnerRoot(level, info, o) for info in distinct_roots(heap, names, o))
            start = i + 1
        if start < len(batch.nodes):
            yield batch.part(start, len(batch.nodes))


def distinct_roots(heap: Heap, names: Names, obj: int) -> list[RootInfo]:
    """The roots holding ``obj``, one per distinct description."""
    out: dict[tuple, RootInfo] = {}
    for r in heap.roots_of(obj).tolist():
        info = describe_root(heap, names, r)
        out.setdefault(info.key, info)
    return list(out.values())
