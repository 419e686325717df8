"""Owners: who points at an object, and who points at them, as a tree printed depth-first.

Each object appears once, at its shortest distance from the target, under the object it
points to on a shortest chain. Memory is linear in the objects visited; the tree comes out
in pieces (batches of objects, and the roots holding an object right after it) so renderers
format a million-deep chain a chunk at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..heap import graph
from ..heap.model import Heap
from ..names.naming import Names
from .describe import RootInfo, describe_root

CHUNK = 1 << 16  # objects formatted at a time: bounded memory however large the tree


@dataclass
class OwnerTree:
    """The owner tree in depth-first order, as arrays (one entry per object)."""

    target: int
    depth: int  # levels asked for (-1: all)
    nodes: np.ndarray  # object indexes, preorder
    levels: np.ndarray  # depth of each node
    points_to: np.ndarray  # per node: the object it points at one level down (-1: target)

    def batches(self, start: int, stop: int) -> Iterator[OwnerTree]:
        """Nodes ``start:stop`` in slices of at most CHUNK."""
        for lo in range(start, stop, CHUNK):
            part = slice(lo, min(lo + CHUNK, stop))
            yield OwnerTree(self.target, self.depth, self.nodes[part], self.levels[part],
                            self.points_to[part])  # fmt: skip


@dataclass(frozen=True)
class OwnerRoot:
    """A root holding ``points_to``, one level below it in the tree."""

    level: int
    root: RootInfo
    points_to: int


def owner_tree(heap: Heap, obj: int, depth: int) -> OwnerTree:
    """Owners of ``obj`` down to ``depth`` levels (-1: all): each object once, at its
    shortest distance, under the object it points to on a shortest chain."""
    order, first_child, _ = heap.owners_bfs(obj, max_depth=depth)
    return OwnerTree(obj, depth, *graph.tree_preorder(order, first_child))


def owner_pieces(heap: Heap, names: Names, obj: int, depth: int) -> Iterator[OwnerTree | OwnerRoot]:
    """The owner tree depth-first, in batches of objects; the roots holding an object
    (within ``depth``) follow it."""
    tree = owner_tree(heap, obj, depth)
    has_root = np.zeros(heap.n_objects, dtype=np.bool_)
    has_root[heap.roots.target] = True
    within = (tree.levels < depth) | (depth < 0)
    start = 0
    for i in np.flatnonzero(has_root[tree.nodes] & within).tolist():
        yield from tree.batches(start, i + 1)
        o, level = int(tree.nodes[i]), int(tree.levels[i]) + 1
        yield from (OwnerRoot(level, info, o) for info in distinct_roots(heap, names, o))
        start = i + 1
    yield from tree.batches(start, len(tree.nodes))


def distinct_roots(heap: Heap, names: Names, obj: int) -> list[RootInfo]:
    """The roots holding ``obj``, one per distinct description."""
    out: dict[tuple, RootInfo] = {}
    for r in heap.roots_of(obj).tolist():
        info = describe_root(heap, names, r)
        out.setdefault(info.key, info)
    return list(out.values())
