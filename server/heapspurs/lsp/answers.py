"""Command and request answers: the CLI's ``--json`` shapes plus a ``markdown`` rendering.
Each function runs in a worker thread with the entry's lock held."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from ..analysis.anchors import AnchorReport, anchors_and_retained
from ..analysis.describe import describe_root
from ..analysis.dominators import tree_soon
from ..analysis.fieldpath import chain_fields, edge_selectors
from ..analysis.ownergraph import owner_graph
from ..analysis.owners import owner_pieces
from ..heap.model import Heap
from ..names.naming import Names
from ..render import jsonout, text
from ..render.graph import GraphvizMissing, render_svg, to_dot
from .hover import code_block, dump_heading
from .store import DumpEntry


def _heap(entry: DumpEntry) -> tuple[Heap, Names]:
    assert entry.loaded is not None
    return entry.loaded.heap, entry.loaded.names


def anchors_answer(entry: DumpEntry, address: int, obj: int) -> dict[str, Any]:
    heap, names = _heap(entry)
    report, retained = anchors_and_retained(heap, names, obj)
    out = jsonout.anchors_json(heap, names, address, report, retained)
    out["dump"] = entry.uri
    out["objects"] = _path_objects(heap, names, report)
    lines = list(text.anchor_lines(heap, names, address, report, retained))
    out["markdown"] = f"{dump_heading(entry)}\n\n**Anchors**\n\n{code_block(lines)}"
    return out


# objects described per anchor chain: a client lists a chain's first ones
PATH_OBJECTS_SHOWN = 500


def _path_objects(heap: Heap, names: Names, report: AnchorReport) -> dict[str, Any]:
    """``{address: object}`` for the first objects of each anchor chain, so that a client
    can say the type and size of each link."""
    shown: dict[int, None] = {}
    for anchor in report.anchors:
        shown.update(dict.fromkeys(anchor.path[:PATH_OBJECTS_SHOWN].tolist()))
    return {jsonout.hexaddr(int(heap.addr[o])): jsonout.object_json(heap, names, o) for o in shown}


# direct owners answered at most: an object can have millions (a big map's values)
DIRECT_OWNERS_SHOWN = 1000


def direct_owners_answer(entry: DumpEntry, address: int, obj: int) -> dict[str, Any]:
    """One level of the owner tree: the objects pointing at ``obj`` (with the field that
    points and whether anything holds them in turn) and the roots holding it, for clients
    that expand owners level by level."""
    heap, names = _heap(entry)
    order = heap.owners_bfs(obj, max_depth=1)[0][1:]
    shown = order[:DIRECT_OWNERS_SHOWN]
    fields = edge_selectors(heap, names, [(int(o), obj) for o in shown])
    owned = (heap.in_first[shown + 1] > heap.in_first[shown]) | np.isin(
        shown, heap.root_targets_sorted
    )
    owners = [
        {**jsonout.object_json(heap, names, o), "field": f, "owned": bool(h)}
        for o, f, h in zip(shown.tolist(), fields, owned.tolist(), strict=True)
    ]
    return {
        "address": jsonout.hexaddr(address),
        "object": jsonout.object_json(heap, names, obj, address),
        "owners": owners,
        "total_owners": len(order),
        "roots": _holding_roots(heap, names, obj),
        "dump": entry.uri,
    }


def _holding_roots(heap: Heap, names: Names, obj: int) -> list[dict[str, Any]]:
    """The roots holding ``obj``, one per description, each with the variable or global
    selector that points (``held``, ``main.gMap``) as ``field``."""
    out: dict[tuple, dict[str, Any]] = {}
    for r in heap.roots_of(obj).tolist():
        info = describe_root(heap, names, r)
        if info.key not in out:
            field = chain_fields(heap, names, r, np.array([obj], dtype=np.int32))[0]
            out[info.key] = {**info.as_json(), "field": field}
    return list(out.values())


def owners_answer(entry: DumpEntry, address: int, obj: int, depth: int) -> dict[str, Any]:
    heap, names = _heap(entry)
    pieces = list(owner_pieces(heap, names, obj, depth))  # one search for both renderings
    owners = jsonout.owner_entry_list(heap, names, pieces)
    tree_text = "\n".join(text.owner_text(heap, names, pieces))
    lines = tree_text.split("\n")
    return {
        "address": jsonout.hexaddr(address),
        "object": jsonout.object_json(heap, names, obj),
        "offset": address - int(heap.addr[obj]),
        "depth": depth,
        "owners": owners,
        "dump": entry.uri,
        "markdown": f"{dump_heading(entry)}\n\n**Owners** ({depth} levels)\n\n{code_block(lines)}",
    }


HEXDUMP_BYTES = 1 << 18  # of a record in an answer: a record of gigabytes is never read whole


def hexdump_answer(entry: DumpEntry, address: int, obj: int) -> dict[str, Any]:
    """The CLI's ``--hexdump --json`` of the record's first HEXDUMP_BYTES (``truncated``:
    whether there is more), with its markdown."""
    heap, names = _heap(entry)
    out = jsonout.hexdump_json(heap, names, address, obj, limit=HEXDUMP_BYTES)
    out["dump"] = entry.uri
    data = bytes.fromhex(str(out["bytes"]))
    pointers = cast(list[dict[str, Any]], out["pointers"])  # those among the bytes shown
    offsets = (int(p["offset"]) for p in pointers)
    lines = [text.object_line(heap, names, obj), *text.hexdump_lines(data, offsets)]
    if out["truncated"]:
        lines.append(f"(the first {len(data)} of {int(heap.size[obj])} bytes)")
    out["markdown"] = f"{dump_heading(entry)}\n\n**Hexdump**\n\n{code_block(lines)}"
    return out


def graph_answer(
    entry: DumpEntry, address: int, obj: int, max_nodes: int, prune: bool
) -> dict[str, Any]:
    """``{"svg", "dot", "nodes", "truncated"}``; ``svg`` is null (and ``error`` says why)
    when Graphviz is not installed."""
    heap, names = _heap(entry)
    g = owner_graph(heap, names, obj, max_nodes, prune)
    dot = to_dot(heap, names, g, tree_soon(heap))
    out: dict[str, Any] = {
        "svg": None,
        "dot": dot.source,
        "nodes": len(g.nodes),
        "truncated": bool(g.truncated),
        "address": jsonout.hexaddr(address),
        "dump": entry.uri,
    }
    try:
        out["svg"] = render_svg(dot)
    except GraphvizMissing as err:
        out["error"] = str(err)
    return out
