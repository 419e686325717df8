"""Owners: who points at an object, and who points at them, as a tree printed depth-first.

Each object appears once, at its shortest distance from the target, under the object it
points to on a shortest chain. Memory is linear in the objects visited, and lines are
produced one at a time so a million-deep chain streams.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..heap import graph
from ..heap.model import Heap
from ..names.naming import Names
from .describe import RootInfo, describe_root

CHUNK = 1 << 16  # objects gathered at a time: bounded memory however large the tree


@dataclass(slots=True)
class OwnerLine:
    level: int  # 0 for the target
    obj: int = -1  # object index, or -1 for a root line
    field: int = -1  # the pointer field of ``obj`` that points one level down (-1: target)
    root: RootInfo | None = None
    points_to: int = -1  # object the owner/root points into
    # the object's facts, gathered in bulk so printing millions of lines stays cheap
    address: int = 0
    size: int = 0
    pointers: int = 0
    name: str | None = None


@dataclass
class OwnerTree:
    """The owner tree in depth-first order, as arrays (one entry per object)."""

    target: int
    depth: int  # levels asked for (-1: all)
    nodes: np.ndarray  # object indexes, preorder
    levels: np.ndarray  # depth of each node
    fields: np.ndarray  # pointer field by which each node points one level down (-1: target)
    down: np.ndarray  # the object each node points at one level down (-1: target)


def owner_tree(heap: Heap, obj: int, depth: int) -> OwnerTree:
    """Owners of ``obj`` down to ``depth`` levels (-1: all): each object once, at its
    shortest distance, under the object it points to on a shortest chain."""
    order, _, toward = heap.owners_bfs(obj, max_depth=depth)
    nodes, levels, fields = graph.tree_preorder(
        order, toward, heap.cols.obj_first, heap.field_target, heap.n_objects
    )
    return OwnerTree(obj, depth, nodes, levels, fields, toward[nodes])


def owner_lines(heap: Heap, names: Names, obj: int, depth: int) -> Iterator[OwnerLine]:
    """The owner tree as lines, depth-first; the roots holding an object follow it."""
    tree = owner_tree(heap, obj, depth)
    has_root = np.zeros(heap.n_objects, dtype=np.bool_)
    has_root[heap.roots.target] = True
    for start in range(0, len(tree.nodes), CHUNK):
        part = slice(start, start + CHUNK)
        nodes, levels = tree.nodes[part], tree.levels[part]
        rooted = has_root[nodes] & ((levels < depth) | (depth < 0))
        first = heap.cols.obj_first
        columns = (
            nodes.tolist(), levels.tolist(), tree.fields[part].tolist(),
            tree.down[part].tolist(), rooted.tolist(), heap.addr[nodes].tolist(),
            heap.size[nodes].tolist(), (first[nodes + 1] - first[nodes]).tolist(),
            names.names_of(nodes),
        )  # fmt: skip
        for o, level, field, down, with_roots, address, size, pointers, name in zip(
            *columns, strict=True
        ):
            yield OwnerLine(level, o, field, None, down, address, size, pointers, name)
            if with_roots:
                yield from root_lines(heap, names, o, level + 1)


def root_lines(heap: Heap, names: Names, obj: int, level: int) -> Iterator[OwnerLine]:
    """One line per distinct root holding ``obj``."""
    seen: set[tuple] = set()
    for r in heap.roots_of(obj):
        info = describe_root(heap, names, int(r))
        if info.key not in seen:
            seen.add(info.key)
            yield OwnerLine(level, root=info, points_to=obj)
