"""Owners: who points at an object, and who points at them, as a tree printed depth-first.

Each object appears once, at its shortest distance from the target, under the object it
points to on a shortest chain. Memory is linear in the objects visited, and lines are
produced one at a time so a million-deep chain streams.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..heap.model import Heap
from ..names.naming import Names
from .describe import RootInfo, describe_root


@dataclass
class OwnerLine:
    level: int  # 0 for the target
    obj: int = -1  # object index, or -1 for a root line
    field: int = -1  # the pointer field of ``obj`` that points one level down (-1: target)
    root: RootInfo | None = None
    points_to: int = -1  # object the owner/root points into


def owner_lines(heap: Heap, names: Names, obj: int, depth: int) -> Iterator[OwnerLine]:
    """The owner tree of ``obj`` down to ``depth`` levels (-1: all), depth-first."""
    order, dist, toward = heap.owners_bfs(obj, max_depth=depth)
    nodes = order[1:]
    parents = toward[nodes]
    by_parent = np.argsort(parents, kind="stable")
    children, sorted_parents = nodes[by_parent], parents[by_parent]

    stack = [obj]
    while stack:
        o = stack.pop()
        level = int(dist[o])
        down = int(toward[o])
        field = heap.field_to(o, down) if down >= 0 else -1
        yield OwnerLine(level, o, field, points_to=down)
        if depth < 0 or level < depth:
            seen: set[tuple] = set()
            for r in heap.roots_of(o):
                info = describe_root(heap, names, int(r))
                if info.key not in seen:
                    seen.add(info.key)
                    yield OwnerLine(level + 1, root=info, points_to=o)
        lo, hi = np.searchsorted(sorted_parents, [o, o + 1])
        stack.extend(int(c) for c in children[lo:hi][::-1])
