"""The heap explorer's tree views, a page at a time, for any editor:

- ``heapspurs/types`` ``{"dump"?, "parent"?: type, "page"?}``: without ``parent`` the
  histogram's rows (largest bytes first: ``{type, count, bytes, retained}``); with it the
  objects of exactly that type, largest retained first.
- ``heapspurs/retainers`` ``{"dump"?, "parent"?: address, "page"?}``: the dominator tree:
  the first level (what only the roots hold), or what ``parent`` immediately dominates,
  largest retained first.

Each answers ``{"dump", "parent", "page", "items": [...], "more": bool, "total": N}`` with
at most ``PAGE`` items; objects are ``object_json`` plus ``retained``,
``retained_objects`` and ``children`` (how many it immediately dominates). Owners of an
object are ``heapspurs/directOwners``."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..analysis import compare as C
from ..analysis.dominators import Dominators, dominators
from ..render import jsonout
from .compare_features import locked
from .gosource_features import type_rows, with_sources
from .protocol import REQ_RETAINERS, REQ_TYPES, VIEW_PAGE, ArgumentError, _int, parse_address
from .store import DumpEntry
from .types_features import dump_argument, object_argument, offer

if TYPE_CHECKING:
    from .server import HeapspursServer

PAGE = VIEW_PAGE
SORTED_CHILDREN_MIN = 50_000  # a longer children list is sorted once and kept


def paged(items: list[Any] | np.ndarray, page: int) -> tuple[Any, bool]:
    start = page * PAGE
    return items[start : start + PAGE], len(items) > start + PAGE


def types_page(
    entry: DumpEntry,
    parent: str | None,
    page: int,
    folders: list[str] | None = None,
    baseline: DumpEntry | None = None,
) -> dict[str, Any]:
    """Without ``parent`` the histogram's rows, each with ``source`` (where the workspace's
    Go files declare the type, else null); against a ``baseline`` the rows of
    ``--histogram --baseline`` (most growth first) with ``retained``, and the comparison's
    line. With ``parent``: that type's objects."""
    assert entry.loaded is not None
    if parent is None:
        rows, line = (type_rows(entry), None) if baseline is None else growth_rows(entry, baseline)
        items, more = paged(rows, page)
        items = with_sources(list(items), folders or [])
        answer = _answer(entry, parent, page, items, more, len(rows))
        if line is not None:
            answer["comparison"] = line
        return answer
    labels, first, objs = objects_by_type(entry)
    try:
        label = labels.index(parent)
    except ValueError:
        raise ArgumentError(f"no object of type {parent!r} in {entry.name}") from None
    of_type = objs[first[label] : first[label + 1]]  # largest retained first already
    return _objects_page(entry, dominators(entry.loaded.heap), of_type, parent, page, True)


def growth_rows(entry: DumpEntry, baseline: DumpEntry) -> tuple[list[dict[str, Any]], str]:
    """The histogram against ``baseline`` (the CLI's ``--histogram --baseline`` rows with
    each type's ``retained``) and the comparison's line; kept for the pair of typings."""
    assert entry.loaded is not None and baseline.loaded is not None
    typed, old = entry.loaded.names.typed, baseline.loaded
    cached = entry.growth_rows
    if cached is not None and cached[0] is typed and cached[1] is old:
        return cached[2], cached[3]
    try:
        answer = C.histogram_answer(C.compare(entry.loaded, [old]))
    except C.NotComparable as err:
        raise ArgumentError(str(err)) from None
    retained = {str(r["type"]): r.get("retained", 0) for r in type_rows(entry)}
    rows = [{**r, "retained": retained.get(str(r["type"]), 0)}
            for r in cast(list[dict[str, Any]], answer["types"])]  # fmt: skip
    line = str(answer["comparison"])
    entry.growth_rows = (typed, old, rows, line)
    return rows, line


def objects_by_type(entry: DumpEntry) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(type names, first, objects): the live objects of type ``t`` are
    ``objects[first[t]:first[t + 1]]``, largest retained first (ties by object); worked out
    once per typing of the dump, so every page of every type is a slice."""
    assert entry.loaded is not None
    heap, typed = entry.loaded.heap, entry.loaded.names.typed
    cached = entry.type_objects
    if cached is not None and cached[0] is typed:
        return cached[1], cached[2], cached[3]
    index, labels = typed.name_index(heap)
    retained = dominators(heap).retained
    live = np.flatnonzero(~heap.phantom).astype(np.int32)
    ordered = live[np.lexsort((live, -retained[live]))]
    objs = ordered[np.argsort(index[ordered], kind="stable")]
    first = np.searchsorted(index[objs], np.arange(len(labels) + 1), side="left")
    entry.type_objects = (typed, labels, first, objs)
    return labels, first, objs


async def prepared(entry: DumpEntry, *steps: Any) -> None:
    """Run the views' preparation ``steps`` (each ``step(entry)``: kept orders, tables) on
    a thread without the entry's lock, so that hovers on the dump are not held up while a
    view's first page works them out; the page is then cut under the lock from what they
    kept. A failure (the dump unloaded meanwhile) is left for the page to report."""

    def run() -> None:
        with contextlib.suppress(Exception):
            for step in steps:
                if entry.loaded is None:
                    return
                step(entry)

    await asyncio.to_thread(run)


def warm_up(entry: DumpEntry) -> None:
    """Work out, on a thread after a big dump loads, what the views' first pages need (the
    tree and the histogram, each type's objects in order, long children lists in order, the
    goroutines and their groups), so that each page answers at once. Without the entry's
    lock, so hovers are not held up meanwhile: a request that comes first works the same
    out itself (the tree has its own lock). Errors (the dump unloaded meanwhile, say) are
    left for the requests to report."""
    from .goroutine_features import groups_of, view_of

    try:
        for step in (type_rows, objects_by_type, _sort_long_children, view_of):
            if entry.loaded is None:
                return
            step(entry)
        groups_of(view_of(entry))
    except Exception:  # each request reports its own failure
        return


def retainers_page(entry: DumpEntry, parent: int | None, page: int) -> dict[str, Any]:
    assert entry.loaded is not None
    heap = entry.loaded.heap
    tree = dominators(heap)
    under = None
    if parent is not None:
        under = heap.find(parent)
        if under < 0 or not tree.reached(under):
            raise ArgumentError(f"{parent:#x} is in no object a root reaches in {entry.name}")
    kids, ordered = children_in_order(entry, tree, under)
    label = None if under is None else jsonout.hexaddr(int(heap.addr[under]))
    return _objects_page(entry, tree, kids, label, page, ordered)


def children_in_order(entry: DumpEntry, tree: Dominators, under: int | None):
    """(children, whether in order): what ``under`` (None: the roots) immediately
    dominates; a long list is sorted once, largest retained first, and kept, so that its
    pages are slices (picking the largest 200 of millions anew took 0.2 s a page)."""
    kids = tree.children(under)
    if len(kids) <= SORTED_CHILDREN_MIN:
        return kids, False
    if entry.sorted_children is None or entry.sorted_children[0] is not tree:
        entry.sorted_children = (tree, {})
    known = entry.sorted_children[1]
    key = -1 if under is None else under
    if key not in known:
        known[key] = kids[np.lexsort((kids, -tree.retained[kids]))]
    return known[key], True


def _sort_long_children(entry: DumpEntry) -> None:
    """The warm-up's part for the Retainers view: every long children list in order."""
    assert entry.loaded is not None
    tree = dominators(entry.loaded.heap)
    first, _ = tree.children_csr()
    for p in np.flatnonzero(np.diff(first) > SORTED_CHILDREN_MIN).tolist():
        children_in_order(entry, tree, None if p == 0 else p - 1)


def _objects_page(
    entry: DumpEntry,
    tree: Dominators,
    objs: np.ndarray,
    parent: str | None,
    page: int,
    ordered: bool = False,
) -> dict[str, Any]:
    """Page ``page`` of ``objs``, largest retained first (``ordered``: they already are)."""
    assert entry.loaded is not None
    heap, names = entry.loaded.heap, entry.loaded.names
    end = (page + 1) * PAGE
    shown = (objs[:end] if ordered else tree.largest(objs, end))[page * PAGE :]
    first, _ = tree.children_csr()
    items = []
    for o in shown.tolist():
        item = dict(jsonout.object_json(heap, names, o))
        item["retained"] = int(tree.retained[o])
        item["retained_objects"] = int(tree.retained_objects[o])
        item["children"] = int(first[o + 2] - first[o + 1])
        items.append(item)
    more = len(objs) > (page + 1) * PAGE
    return _answer(entry, parent, page, items, more, len(objs))


def _answer(entry: DumpEntry, parent: Any, page: int, items: list, more: bool, total: int):
    return {"dump": entry.uri, "parent": parent, "page": page, "items": items, "more": more,
            "total": total}  # fmt: skip


def baseline_argument(ls: HeapspursServer, args: dict[str, Any]) -> DumpEntry | None:
    """``baseline``: a loaded dump the Types view compares with (None: none)."""
    uri = args.get("baseline")
    if uri is None:
        return None
    entry = ls.store.entry(uri) if isinstance(uri, str) else None
    if entry is None or entry.loaded is None:
        raise ArgumentError(f"{REQ_TYPES}: 'baseline' must be a loaded dump's URI, not {uri!r}")
    return entry


def register(server: HeapspursServer, answers_errors) -> None:
    """Add the view requests to ``server``."""

    async def types(ls: HeapspursServer, params: Any) -> dict[str, Any]:
        args = object_argument(params, REQ_TYPES)
        entry = dump_argument(ls, args, REQ_TYPES)
        parent = args.get("parent")
        if parent is not None and not isinstance(parent, str):
            raise ArgumentError(f"{REQ_TYPES}: 'parent' must be a type name from its answer")
        page = _int(args, "page", 0, 0)
        baseline = baseline_argument(ls, args)
        if baseline is not None and parent is None:
            return await locked([entry, baseline], types_page, entry, None, page, ls.folders(),
                                baseline)  # fmt: skip
        await prepared(entry, type_rows if parent is None else objects_by_type)
        return await ls.analyse(entry, types_page, parent, page, ls.folders())

    async def retainers(ls: HeapspursServer, params: Any) -> dict[str, Any]:
        args = object_argument(params, REQ_RETAINERS)
        entry = dump_argument(ls, args, REQ_RETAINERS)
        parent = args.get("parent")
        address = None if parent is None else parse_address(parent)
        page = _int(args, "page", 0, 0)
        await prepared(entry, _sort_long_children)
        return await ls.analyse(entry, retainers_page, address, page)

    offer(server, answers_errors, types, REQ_TYPES)
    offer(server, answers_errors, retainers, REQ_RETAINERS)
