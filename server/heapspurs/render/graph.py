"""Owner graphs as DOT and SVG (Graphviz), styled like the original heapspurs: the target
yellow, finalizer objects with a thick red border, unowned objects grey, what each object
retains when the dominator tree is at hand, interior pointers
red and labelled with their offset, data/bss roots as their own shapes with the global's
name on the edge, stack roots listing the goroutine's stack with the holding frame in bold
behind an arrow and its variable on the edge."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from ..analysis.describe import FRAME_DEPTH, FRAME_NAME
from ..analysis.dominators import Dominators
from ..analysis.fieldpath import edge_selectors
from ..analysis.ownergraph import OwnerGraph
from ..dumpfile import layout as L
from ..heap.model import Heap
from ..names.naming import Names
from .safe import dot_text, visible

if TYPE_CHECKING:
    import graphviz  # imported when a graph is drawn: only that needs it

ROOT_SHAPES = {
    "global": "box3d",
    "goroutine": "note",
    "finalizer": "doubleoctagon",
    "queued-finalizer": "doubleoctagon",
    "defer": "cds",
    "panic": "cds",
}
SEGMENT_SHAPES = {"data": "folder", "bss": "box3d"}
HOLDING_FRAME = "\u25b6"  # marks, in bold, the stack frame that holds the object
INSTALL_DOT = (
    "Graphviz's `dot` program is needed to draw the graph and was not found on PATH: "
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)"
)


class GraphvizMissing(Exception):
    def __init__(self) -> None:
        super().__init__(INSTALL_DOT)


def node_id(address: int) -> str:
    """The SVG ``id`` of an object's node: clients map clicks back to addresses with it."""
    return f"obj_{address:#x}"


def to_dot(
    heap: Heap, names: Names, g: OwnerGraph, tree: Dominators | None = None
) -> graphviz.Digraph:
    """``tree``: each object's node also says what it retains."""
    import graphviz

    dot = graphviz.Digraph(
        "owners",
        graph_attr={"rankdir": "BT", "fontname": "Helvetica"},
        node_attr={"fontname": "Helvetica", "fontsize": "10", "shape": "box"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9"},
    )
    for o in g.nodes:
        addr = int(heap.addr[o])
        name = dot_text(names.label(o) or "Object")  # names come from dumps/binaries
        attrs = {"id": node_id(addr), "tooltip": f"{addr:#x}"}
        if o == g.target:
            attrs.update(style="filled", fillcolor="yellow")
        elif o in g.finalizer_cycle:
            attrs.update(style="filled", fillcolor="#ffc0c0")
        elif o in g.unowned:
            attrs.update(style="filled", fillcolor="lightgrey")
        if o in g.finalizers:
            attrs.update(color="red", penwidth="4")
        label = f"{name}\n{addr:#x}\n{int(heap.size[o])} bytes, {heap.n_pointers(o)} pointers"
        if tree is not None and tree.reached(o):
            label += f"\nretains {int(tree.retained[o])} bytes"
        dot.node(f"o{o}", label, **attrs)
    fields = edge_selectors(heap, names, [(e.src, e.dst) for e in g.edges])
    for e, field in zip(g.edges, fields, strict=True):
        attrs = {"label": dot_text(field)} if field and not field.startswith("+") else {}
        if e.interior:
            attrs.update(color="red", fontcolor="red")
            attrs["label"] = " ".join(x for x in (attrs.get("label"), f"+{e.interior:#x}") if x)
        dot.edge(f"o{e.src}", f"o{e.dst}", **attrs)
    for i, root in enumerate(g.roots):
        info = root.info
        shape = SEGMENT_SHAPES.get(info.segment or "", ROOT_SHAPES.get(info.kind, "octagon"))
        label = dot_text(info.label)
        if info.kind == "goroutine" and info.goroutine is not None and info.function:
            label = _stack_label(heap, info.goroutine, info.frame) or label
        dot.node(f"r{i}", label, shape=shape, style="filled", fillcolor="#d8e8ff", id=f"root_{i}")
        for o, edge_label in root.targets:
            dot.edge(f"r{i}", f"o{o}", label=dot_text(edge_label))
    return dot


def _stack_label(heap: Heap, goid: int, holding: int | None) -> str:
    """The goroutine's stack as an HTML-like label, the frame that holds the object (its
    depth ``holding``) in bold behind an arrow."""
    for row in heap.rows(L.TAG_GOROUTINE):
        if heap.goroutine_id(int(row)) == goid:
            lines = [f"goroutine {goid}"]
            for f in heap.frames_of(int(row)).tolist():
                func = html.escape(visible(heap.text(f, FRAME_NAME)))
                held = int(heap.cols.recs[f, FRAME_DEPTH]) == holding
                lines.append(f"<B>{HOLDING_FRAME} {func}</B>" if held else func)
            return "<" + "<BR/>".join(lines) + ">"
    return ""


def render_svg(dot: graphviz.Digraph) -> str:
    import graphviz

    try:
        return dot.pipe(format="svg").decode("utf-8")
    except graphviz.ExecutableNotFound:
        raise GraphvizMissing() from None
