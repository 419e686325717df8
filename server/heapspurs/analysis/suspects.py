"""Where the memory goes, from the dominator tree (:mod:`.dominators`): the largest
retainers (``--top``) and the leak suspects (``--suspects``, Eclipse MAT's report on Go
types). Answers are JSON-ready dicts; :mod:`..render.text` prints them."""

from __future__ import annotations

import numpy as np

from ..heap.model import Heap
from ..names.naming import Names
from ..render.jsonout import hexaddr
from . import dominator_kernels as K
from .anchors import nearest_anchor
from .describe import describe_root
from .dominators import Dominators
from .fieldpath import chain_fields, path_text

DEFAULT_THRESHOLD = 0.10  # a suspect retains at least this share of the live heap
BIG_CHILD = 0.7  # the accumulation point is below while the biggest child keeps this share
ACCUMULATED_TYPES = 10  # types listed under an accumulation point
GROUP_MEMBERS = 10  # addresses listed for a group suspect


class NoRoots(ValueError):
    """The dump has no root reaching any object: nothing is retained."""


def retainer_json(heap: Heap, names: Names, tree: Dominators, obj: int) -> dict[str, object]:
    """An object with what it retains: ``{address, size, type, name, retained,
    retained_objects}``."""
    return {
        "address": hexaddr(int(heap.addr[obj])),
        "size": int(heap.size[obj]),
        "type": names.type_name(obj),
        "name": names.object_name(obj),
        "retained": int(tree.retained[obj]),
        "retained_objects": int(tree.retained_objects[obj]),
    }


def root_targets_mask(heap: Heap) -> np.ndarray:
    mask = np.zeros(heap.n_objects, dtype=np.bool_)
    mask[heap.root_target] = True
    return mask


def nearest_root_labels(heap: Heap, names: Names, objs: np.ndarray) -> list[str | None]:
    """For each object, the label of the root nearest it up its owners (None: no root)."""
    is_target, allowed = root_targets_mask(heap), ~heap.phantom
    out: list[str | None] = []
    for o in objs.tolist():
        t = int(K.nearest_root_above(np.int32(o), heap.in_first, heap.in_src, allowed, is_target))
        out.append(describe_root(heap, names, int(heap.roots_of(t)[0])).label if t >= 0 else None)
    return out


def check_has_roots(tree: Dominators, dump: str) -> None:
    if tree.live_objects == 0:
        raise NoRoots(f"{dump}: no root of this dump reaches any object, so nothing is retained")


def top_answer(
    heap: Heap, names: Names, tree: Dominators, n: int, under: int | None = None
) -> dict[str, object]:
    """The ``n`` largest entries of the tree's first level (``under`` None) or of what
    ``under`` immediately dominates, largest retained first: ``{"objects": [{address, size,
    type, name, retained, retained_objects, anchor}], "live_bytes", "live_objects",
    "parent"}`` (``parent``: ``under`` as a retainer, or None)."""
    check_has_roots(tree, heap.dump.path)
    objs = tree.largest(tree.children(under), n)
    entries = []
    for o, anchor in zip(objs.tolist(), nearest_root_labels(heap, names, objs), strict=True):
        entries.append(retainer_json(heap, names, tree, o) | {"anchor": anchor})
    parent = None if under is None else retainer_json(heap, names, tree, under)
    return {"objects": entries, "live_bytes": tree.live_bytes, "live_objects": tree.live_objects,
            "parent": parent}  # fmt: skip


def accumulation_point(tree: Dominators, obj: int, label_of: np.ndarray) -> int:
    """Down from ``obj`` to its biggest child while that child keeps ≥ 70 % of what its
    parent retains: the object where the memory piles up (a map's table, a slice's array).
    The walk also stops where the child is of the object's own type (``label_of``): a
    linked list or a tree piles up from its head, not from its last nodes."""
    first, kids = tree.children_csr()
    while True:
        children = kids[first[obj + 1] : first[obj + 2]]
        if not len(children):
            return obj
        biggest = int(children[np.argmax(tree.retained[children])])
        if tree.retained[biggest] < BIG_CHILD * tree.retained[obj]:
            return obj
        if label_of[biggest] == label_of[obj]:
            return obj
        obj = biggest


def accumulated_types(heap: Heap, names: Names, tree: Dominators, obj: int) -> list[dict]:
    """The types of the objects ``obj`` dominates (itself included), most bytes first."""
    index, labels = names.typed.name_index(heap)
    objs = tree.subtree(obj)
    kinds = index[objs]
    counts = np.bincount(kinds, minlength=len(labels))
    nbytes = np.bincount(kinds, weights=heap.size[objs], minlength=len(labels)).astype(np.int64)
    used = np.flatnonzero(counts)
    used = used[np.lexsort((used, -nbytes[used]))][:ACCUMULATED_TYPES]
    return [{"type": labels[i], "count": int(counts[i]), "bytes": int(nbytes[i])} for i in used]


def anchor_chain(heap: Heap, names: Names, obj: int) -> dict[str, object] | None:
    """The nearest root's chain down to ``obj``: the root, the objects' addresses, the
    field selectors (as in ``--anchors --json``) and the Go expression when typed."""
    report = nearest_anchor(heap, names, obj)
    if not report.anchors:
        return None
    a = report.anchors[0]
    fields = chain_fields(heap, names, a.root_index, a.path)
    entry = a.root.as_json()
    entry["path"] = [hexaddr(int(x)) for x in heap.addr[a.path].tolist()]
    entry["fields"] = fields
    entry["expression"] = path_text(a.root, fields) if names.typed.types is not None else None
    return entry


def suspects_answer(
    heap: Heap, names: Names, tree: Dominators, threshold: float = DEFAULT_THRESHOLD
) -> dict[str, object]:
    """Leak suspects: first-level entries of the tree retaining ≥ ``threshold`` of the live
    heap each, then groups of the other first-level entries of one type that do together;
    largest first. Each with its accumulation point, the chain from its nearest root to it
    and the types accumulated under it."""
    check_has_roots(tree, heap.dump.path)
    least = threshold * tree.live_bytes
    first_level = tree.children(None)
    big = first_level[tree.retained[first_level] >= least]
    found = [_suspect(heap, names, tree, "object", tree.largest(big[i : i + 1], 1))
             for i in range(len(big))]  # fmt: skip
    rest = first_level[tree.retained[first_level] < least]
    index, _ = names.typed.name_index(heap)
    kinds = index[rest]
    sums = np.bincount(kinds, weights=tree.retained[rest].astype(np.float64))
    present = np.bincount(kinds, minlength=len(sums)) > 0  # (a live heap of 0 bytes: all)
    for kind in np.flatnonzero((sums >= least) & present).tolist():
        members = tree.largest(rest[kinds == kind], len(rest))
        found.append(_suspect(heap, names, tree, "group", members))
    found.sort(key=lambda s: -int(str(s["retained"])))
    return {"threshold": threshold, "live_bytes": tree.live_bytes,
            "live_objects": tree.live_objects, "suspects": found}  # fmt: skip


def _suspect(
    heap: Heap, names: Names, tree: Dominators, kind: str, members: np.ndarray
) -> dict[str, object]:
    """One suspect: an object, or a group of objects of one type (``members``, largest
    first); the accumulation point is found from the largest."""
    retained = int(tree.retained[members].sum())
    point = accumulation_point(tree, int(members[0]), names.typed.name_index(heap)[0])
    return {
        "kind": kind,
        "type": names.type_name(int(members[0])),
        "count": len(members),
        "retained": retained,
        "retained_objects": int(tree.retained_objects[members].sum()),
        "percent": round(tree.percent(retained), 2),
        "objects": [retainer_json(heap, names, tree, int(o)) for o in members[:GROUP_MEMBERS]],
        "accumulation_point": retainer_json(heap, names, tree, point),
        "anchor": anchor_chain(heap, names, point),
        "accumulated": accumulated_types(heap, names, tree, point),
    }
