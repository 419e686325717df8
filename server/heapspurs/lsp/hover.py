"""Markdown for hovers and command answers, composed from the core's results."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote

from ..analysis.describe import place_of
from ..analysis.dominators import dominators, tree_soon
from ..analysis.fieldpath import chain_fields, path_text, value_type_at
from ..heap.model import Heap
from ..names.naming import Names
from ..render import text
from ..render.safe import markdown_text, visible
from .protocol import CMD_ANCHORS, CMD_GRAPH, CMD_HEXDUMP, CMD_OWNERS, STATE_LOADING
from .store import FULL_ANCHORS_MAX_OBJECTS, DumpEntry

ADDRESS_RE = re.compile(r"\b0[xX][0-9a-fA-F]+\b")
MAX_HOVER_ANCHORS = 5


def address_at(line: str, character: int) -> int | None:
    """The ``0x…`` address under ``character`` of ``line``, if any."""
    for m in ADDRESS_RE.finditer(line):
        if m.start() <= character <= m.end():
            value = int(m.group(0), 16)
            return value if value < 1 << 64 else None
    return None


def code_block(lines: Iterable[str]) -> str:
    """A fenced block; the fence outgrows any run of backticks in the text (names come
    from dumps and binaries)."""
    body = visible("\n".join(lines))
    fence = "`" * max(3, _longest_backticks(body) + 1)
    return f"{fence}text\n{body}\n{fence}"


def inline_code(text: str) -> str:
    """``text`` as Markdown inline code, whatever backticks it holds (and on one line,
    control characters written out: names come from dumps, binaries and OID files)."""
    text = visible(text.replace("\n", " "))
    ticks = "`" * (_longest_backticks(text) + 1)
    pad = " " if "`" in text else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _longest_backticks(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)


def command_link(title: str, command: str, args: dict[str, object]) -> str:
    return f"[{title}](command:{command}?{quote(json.dumps([args]))})"


def describe_address(entry: DumpEntry, address: int) -> str | None:
    """What a non-object address of a loaded dump is, or None when the dump knows nothing
    about it: a global in data/bss, a stack slot of a goroutine, free heap memory."""
    assert entry.loaded is not None
    place = place_of(entry.loaded.heap, entry.loaded.names, address)
    if place.kind in ("data", "bss"):
        return (
            f"`{address:#x}` is in the **{place.kind}** segment"
            + (f": global {inline_code(place.symbol)}" if place.symbol else "")
            + " (globals are roots, not heap objects)"
        )
    if place.kind == "stack":
        return (
            f"`{address:#x}` is on the stack of **goroutine {place.goroutine}**: frame "
            f"{place.frame} {inline_code(place.function or '?')} (+{place.offset:#x})"
        )
    if place.kind == "free":
        return f"`{address:#x}` is inside the heap arena but in no object record (free memory)"
    return None


def object_markdown(entry: DumpEntry, address: int, obj: int) -> str:
    """The hover section of one dump for an address inside object ``obj``."""
    assert entry.loaded is not None
    heap, names = entry.loaded.heap, entry.loaded.names
    start, size = int(heap.addr[obj]), int(heap.size[obj])
    offset = address - start
    name = names.object_name(obj, address)
    out = [
        f"**Object** `{start:#x}`, {size} bytes"
        + (f", `{address:#x}` is at offset +{offset:#x} ({offset})" if offset else ""),
        "",
    ]
    facts = [f"name: {inline_code(name)}" if name else "name: none (no OID names it)"]
    facts.append(type_fact(names, obj, address))
    vo = heap.value_offset(obj)
    if vo:
        facts.append(f"malloc header: the value starts at +{vo}")
    if names.tiny[obj]:
        facts.append("tiny block: pointer-free objects under 16 bytes share this record")
    facts.append(f"pointers: {heap.n_pointers(obj)}")
    if entry.finalizers()[obj]:
        facts.append("finalizer: registered (`runtime.SetFinalizer`)")
    n_owners = int(heap.in_first[obj + 1] - heap.in_first[obj])
    n_roots = len(heap.roots_of(obj))
    facts.append(f"owners: {n_owners} pointer(s) from objects, {n_roots} from roots")
    facts.append(retained_fact(heap, obj))
    out += [f"- {f}" for f in facts]
    report = entry.anchors(obj)
    out.append("")
    if report.phantom:
        out.append("This record is span metadata the dumper walked (a phantom), not a Go object.")
    elif not report.anchors:
        out.append("**Anchors**: none in this dump (held by a root a dump cannot show, e.g. ")
        out[-1] += "`runtime.AddCleanup` arguments, or garbage)"
    else:
        heading = (
            f"**Anchors** ({len(report.anchors)})"
            if report.complete
            else ("**Nearest anchor** (the Anchors command lists them all)")
        )
        out.append(heading + ":")
        for a in report.anchors[:MAX_HOVER_ANCHORS]:
            cycle = " — finalizer cycle (never runs)" if a.cycle else ""
            out.append(f"- {markdown_text(a.root.label)}: chain of {a.length} object(s){cycle}")
            if names.typed.types is not None:
                fields = chain_fields(heap, names, a.root_index, a.path)
                out.append(f"  {inline_code(path_text(a.root, fields))}")
        if len(report.anchors) > MAX_HOVER_ANCHORS:
            out.append(f"- … {len(report.anchors) - MAX_HOVER_ANCHORS} more")
    args: dict[str, object] = {"address": f"{address:#x}", "dump": entry.uri}
    out += [
        "",
        " · ".join(
            [
                command_link("Anchors", CMD_ANCHORS, args),
                command_link("Owners", CMD_OWNERS, args),
                command_link("Hexdump", CMD_HEXDUMP, args),
                command_link("Graph", CMD_GRAPH, args),
            ]
        ),
    ]
    return "\n".join(out)


def retained_fact(heap: Heap, obj: int) -> str:
    """``retains: N bytes (P % of the heap) in M objects``, from the dump's dominator tree:
    computed here for a small dump (milliseconds); for a big one a hover never waits for
    it (it is started on a thread the first time)."""
    small = heap.n_objects <= FULL_ANCHORS_MAX_OBJECTS
    tree = dominators(heap) if small else tree_soon(heap)
    if tree is None:
        return "retains: being computed (the dominator tree of the heap; hover again)"
    if not tree.reached(obj):
        return "retains: nothing (no root reaches it)"
    nbytes, count = int(tree.retained[obj]), int(tree.retained_objects[obj])
    return f"retains: {nbytes} bytes ({tree.percent(nbytes):.1f} % of the heap) in {count} objects"


def type_fact(names: Names, obj: int, address: int) -> str:
    """``type: `main.Request``` (the element's type inside an array), or why it is unknown."""
    typed = names.typed
    if typed.types is None:
        return "type: unknown (no matching binary: set `heapspurs.program`)"
    value = value_type_at(names.heap, names, obj, address)
    whole = names.type_name(obj)
    if typed.type[obj] < 0:
        return f"type: unknown — {markdown_text(typed.reason(obj) or '')}"
    inside = f" (element of {inline_code(whole)})" if value != whole else ""
    return f"type: {inline_code(value)}{inside}"


def dump_heading(entry: DumpEntry) -> str:
    version = entry.loaded.heap.params.go_version if entry.loaded else ""
    heading = f"### heapspurs · {inline_code(entry.name)}"
    return heading + (f" ({inline_code(version)})" if version else "")


def hover_markdown(entries: list[DumpEntry], address: int) -> str | None:
    """The hover for ``address`` over every dump, or None when no loaded dump knows it."""
    sections: list[str] = []
    loading: list[str] = []
    for entry in entries:
        if entry.state == STATE_LOADING:
            loading.append(
                f"heapspurs: {inline_code(entry.name)} is loading ({entry.progress:.0%})"
            )
            continue
        with entry.lock:
            if entry.loaded is None:
                continue
            obj = entry.loaded.heap.find(address)
            body = (
                object_markdown(entry, address, obj)
                if obj >= 0
                else describe_address(entry, address)
            )
            if body:
                sections.append(dump_heading(entry) + "\n\n" + body)
    if not sections and not loading:
        return None
    return "\n\n---\n\n".join(sections + (["\n\n".join(loading)] if loading else []))


def oid_hover(entries: list[DumpEntry], line: str) -> str | None:
    """Hover on a line of an OID file: how many objects carry the id in each dump."""
    words = line.split("#", 1)[0].split(None, 1)
    if len(words) != 2 or not words[0].lower().startswith("0x"):
        return None
    try:
        value = int(words[0], 16)
    except ValueError:
        return None
    out = [f"**OID** `{value:#x}` → {inline_code(words[1].strip())}", ""]
    for entry in entries:
        if entry.state == STATE_LOADING:
            out.append(f"- {inline_code(entry.name)}: loading ({entry.progress:.0%})")
            continue
        with entry.lock:
            if entry.loaded is None:
                continue
            n = entry.loaded.names.count_with_oid(value)
        out.append(f"- {inline_code(entry.name)}: {n} object(s)")
    if len(out) == 2:
        out.append("no heap dump is loaded")
    return "\n".join(out)


def markdown_lines(title: str, lines: list[str]) -> str:
    return f"**{title}**\n\n" + code_block(lines)


__all__ = ["address_at", "hover_markdown", "markdown_lines", "oid_hover", "text"]
