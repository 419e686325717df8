"""Command and request answers: the CLI's ``--json`` shapes plus a ``markdown`` rendering.
Each function runs in a worker thread with the entry's lock held."""

from __future__ import annotations

from typing import Any

from ..analysis.anchors import find_anchors
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
    report = find_anchors(heap, names, obj)
    out = jsonout.anchors_json(heap, names, address, report)
    out["dump"] = entry.uri
    lines = list(text.anchor_lines(heap, names, address, report))
    out["markdown"] = f"{dump_heading(entry)}\n\n**Anchors**\n\n{code_block(lines)}"
    return out


def owners_answer(entry: DumpEntry, address: int, obj: int, depth: int) -> dict[str, Any]:
    heap, names = _heap(entry)
    owners = jsonout.owner_entry_list(heap, names, owner_pieces(heap, names, obj, depth))
    tree_text = "\n".join(text.owner_text(heap, names, owner_pieces(heap, names, obj, depth)))
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


def hexdump_answer(entry: DumpEntry, address: int, obj: int) -> dict[str, Any]:
    heap, names = _heap(entry)
    out = jsonout.hexdump_json(heap, names, address, obj)
    out["dump"] = entry.uri
    offsets = (int(heap.cols.field_off[k]) for k in heap.fields_of(obj))
    lines = [text.object_line(heap, names, obj), *text.hexdump_lines(heap.contents(obj), offsets)]
    out["markdown"] = f"{dump_heading(entry)}\n\n**Hexdump**\n\n{code_block(lines)}"
    return out


def graph_answer(
    entry: DumpEntry, address: int, obj: int, max_nodes: int, prune: bool
) -> dict[str, Any]:
    """``{"svg", "dot", "nodes", "truncated"}``; ``svg`` is null (and ``error`` says why)
    when Graphviz is not installed."""
    heap, names = _heap(entry)
    g = owner_graph(heap, names, obj, max_nodes, prune)
    dot = to_dot(heap, names, g)
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
