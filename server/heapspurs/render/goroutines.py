"""The goroutines answer: JSON (every goroutine) and text (identical stacks grouped, like
``pprof goroutine?debug=1``, leaked groups first). Function names come from the dump;
files and lines from the binary's line table, only when the binary's function at each pc
is the one the dump names (a binary that did not write the dump names nothing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ..analysis import goroutines as GR
from ..analysis.typing import frame_slot_variable
from ..heap import roots as R
from ..heap.model import Heap
from ..names.naming import Names
from ..program.lines import LineTable, NoLineTable, Position, read_line_table
from .jsonout import hexaddr

NO_PROGRAM = "no --program: files and lines come from the binary that wrote the dump"
VERDICT_WORDS = {GR.LEAKED: "leaked", GR.NOT_LEAKED: "", GR.UNKNOWN: "leak unknown"}
PRIMITIVE_KIND = {**{r: "channel" for r in GR.CHANNEL_WAITS}, **GR.SYNC_WAITS,
                  "semacquire": "sync.WaitGroup"}  # fmt: skip


@dataclass
class _FrameTable:
    """The goroutines' frame records as Python lists (JSON of 100k goroutines reads them
    half a million times), with each frame's pointer slots: ``first[k]:first[k+1]``."""

    row: list[int]
    pc: list[int]
    sp: list[int]
    length: list[int]
    first: list[int]
    slot: list[int]
    target: list[int]
    address: list[int]  # the target object's address

    @classmethod
    def of(cls, heap: Heap, rows: np.ndarray) -> _FrameTable:
        recs, roots = heap.cols.recs, heap.roots
        frames = np.flatnonzero(roots.kind == R.FRAME)
        order = frames[np.argsort(roots.rec[frames], kind="stable")]
        order = order[np.isin(roots.rec[order], rows)]  # frames of goroutines only
        first = np.searchsorted(roots.rec[order], rows, side="left")
        first = np.append(first, len(order))
        targets = roots.target[order]
        return cls(
            rows.tolist(), recs[rows, R.COL_FRAME_PC].tolist(), recs[rows, R.COL_ADDR].tolist(),
            recs[rows, R.COL_FRAME_LENGTH].tolist(), first.tolist(), roots.slot[order].tolist(),
            targets.tolist(), heap.addr[targets].tolist(),
        )  # fmt: skip


@dataclass
class GoroutineView:
    """One dump's goroutines with what names them."""

    heap: Heap
    names: Names
    gor: GR.Goroutines
    lines: LineTable | None
    why_no_lines: str | None
    _frame_names: dict[int, str] = field(default_factory=dict)
    _frames: _FrameTable | None = None
    _type_names: dict[int, str] = field(default_factory=dict)
    _positions: dict[int, tuple[Position, ...]] = field(default_factory=dict)
    # (pc, slot - sp, frame length) -> (variable name, its type): one DWARF search per kind
    _variables: dict[tuple[int, int, int], tuple[str | None, str | None]] = field(
        default_factory=dict
    )

    # --- naming ---------------------------------------------------------------------
    def frame_name(self, row: int) -> str:
        pc = int(self.heap.cols.recs[row, R.COL_FRAME_PC])
        name = self._frame_names.get(pc)
        if name is None:
            name = self._frame_names[pc] = self.heap.text(row, 10)
        return name

    def position(self, pc: int) -> tuple[Position, ...]:
        """Where a frame (or a go statement) at ``pc`` is: inlined calls, then the function."""
        if self.lines is None:
            return ()
        where = self._positions.get(pc)
        if where is None:
            where = self._positions[pc] = self.lines.frame(pc)
        return where

    def frame_table(self) -> _FrameTable:
        if self._frames is None:
            self._frames = _FrameTable.of(self.heap, self.gor.frame_rows)
        return self._frames

    def type_name(self, obj: int) -> str:
        name = self._type_names.get(obj)
        if name is None:
            name = self._type_names[obj] = self.names.type_name(obj)
        return name

    # --- JSON -----------------------------------------------------------------------
    def goroutine_json(self, i: int, *, variables: bool = True) -> dict[str, object]:
        gor = self.gor
        verdict = int(gor.verdict[i])
        out: dict[str, object] = {
            "id": int(gor.ids[i]), "status": gor.status_name(i),
            "wait_reason": gor.wait_reason[i], "wait_minutes": gor.wait_minutes(i),
            "created_by": self.created_by(i),
            "frames": [self._frame_json(k, variables)
                       for k in range(int(gor.frame_first[i]), int(gor.frame_first[i + 1]))],
            "retained": {"bytes": int(gor.retained_bytes[i]),
                         "objects": int(gor.retained_objects[i])},
            "leaked": None if verdict == GR.UNKNOWN else verdict == GR.LEAKED,
            "blocked_on": self.blocked_on(i), "why": self.why(i),
            "address": hexaddr(int(gor.address[i])),
        }  # fmt: skip
        return out

    def created_by(self, i: int) -> dict[str, object]:
        pc = int(self.gor.gopc[i])
        where = self.position(pc)
        if not where:
            why = self.why_no_lines or f"pc {pc:#x} is outside the binary's code"
            return {"function": None, "file": None, "line": None, "pc": hexaddr(pc), "reason": why}
        top = where[0]
        return {
            "function": where[-1].function,
            "file": top.file,
            "line": top.line,
            "pc": hexaddr(pc),
        }

    def frame_json(self, row: int, variables: bool = True) -> dict[str, object]:
        """One frame record's JSON."""
        k = int(np.searchsorted(self.gor.frame_rows, row))
        return self._frame_json(k, variables)

    def _frame_json(self, k: int, variables: bool = True) -> dict[str, object]:
        """The JSON of frame ``k`` (an index into the goroutines' frame rows)."""
        table = self.frame_table()
        row, pc = table.row[k], table.pc[k]
        out: dict[str, object] = {"function": self.frame_name(row), "file": None, "line": None,
                                  "pc": hexaddr(pc)}  # fmt: skip
        where = self.position(pc)
        if where:
            out["file"], out["line"] = where[-1].file, where[-1].line
            if len(where) > 1:
                out["inlined"] = [{"function": p.function, "file": p.file, "line": p.line}
                                  for p in where[:-1]]  # fmt: skip
        else:
            out["reason"] = self.why_no_lines or f"pc {pc:#x} is outside the binary's line table"
        if variables:
            out["variables"] = self._variables_at(k)
        return out

    def _variables_at(self, k: int) -> list[dict[str, object]]:
        """Each pointer slot of frame ``k`` that holds a heap object, named by DWARF."""
        t = self.frame_table()
        row, pc, sp, length = t.row[k], t.pc[k], t.sp[k], t.length[k]
        out: list[dict[str, object]] = []
        for j in range(t.first[k], t.first[k + 1]):
            slot, obj = t.slot[j], t.target[j]
            key = (pc, slot - sp, length)
            known = self._variables.get(key)
            if known is None:
                known = self._variables[key] = self._variable(row, slot)
            out.append({"name": known[0], "type": known[1], "slot": hexaddr(slot),
                        "object": hexaddr(t.address[j]),
                        "object_type": self.type_name(obj)})  # fmt: skip
        return out

    def _variable(self, row: int, slot: int) -> tuple[str | None, str | None]:
        types = self.names.typed.types
        if types is None:
            return None, None
        v, rel = frame_slot_variable(self.heap, types, row, slot)
        if v < 0:
            return None, None
        name = types.var_names[v] + (f"+{rel:#x}" if rel else "")
        return name, types.names[int(types.var_type[v])]

    def blocked_on(self, i: int) -> list[dict[str, object]]:
        addrs, objs = self.gor.primitives(i)
        kind = PRIMITIVE_KIND.get(self.gor.wait_reason[i], "primitive")
        out = []
        for a, o in zip(addrs.tolist(), objs.tolist(), strict=True):
            entry: dict[str, object] = {"kind": kind, "address": hexaddr(a)}
            if o >= 0:
                entry["object"] = hexaddr(int(self.heap.addr[o]))
                entry["type"] = self.names.type_name(o)
            else:
                entry["where"] = "outside the heap (a global or a stack)"
            out.append(entry)
        return out

    def why(self, i: int) -> str | None:
        gor = self.gor
        verdict, reason = int(gor.verdict[i]), gor.wait_reason[i]
        if verdict == GR.UNKNOWN:
            return gor.notes.get(i)
        if verdict != GR.LEAKED:
            return None
        if reason in GR.NEVER_WAKES:
            return f"{GR.NEVER_WAKES[reason]}: nothing can wake it"
        addrs, _ = gor.primitives(i)
        if not len(addrs):
            return "a select whose channels are all nil: nothing can wake it"
        what = ", ".join(f"{e['kind']} {e['address']}" for e in self.blocked_on(i))
        return f"waits on {what}, which no root and no goroutine that can run reaches"

    # --- groups -----------------------------------------------------------------------
    def groups(self) -> list[list[int]]:
        """Goroutines with the same verdict, wait reason, stack and creator; leaked groups
        first, then by size."""
        gor, recs = self.gor, self.heap.cols.recs
        pcs = recs[gor.frame_rows, R.COL_FRAME_PC].tolist()
        first = gor.frame_first.tolist()
        verdict, gopc = gor.verdict.tolist(), gor.gopc.tolist()
        by_key: dict[tuple, list[int]] = {}
        for i in range(len(gor)):
            key = (verdict[i], gor.wait_reason[i], gopc[i], tuple(pcs[first[i] : first[i + 1]]))
            by_key.setdefault(key, []).append(i)
        rank = {GR.LEAKED: 0, GR.UNKNOWN: 1, GR.NOT_LEAKED: 2}
        return sorted(by_key.values(), key=lambda g: (rank[verdict[g[0]]], -len(g), g[0]))


def goroutine_view(heap: Heap, names: Names, program: str | None) -> GoroutineView:
    """Analyse the goroutines and open the binary's line table when it is the dump's."""
    gor = GR.goroutines(heap, names)
    lines: LineTable | None = None
    why: str | None = NO_PROGRAM
    if program:
        try:
            lines, why = read_line_table(program), None
        except NoLineTable as err:
            why = f"{err}: no files and lines"
    view = GoroutineView(heap, names, gor, lines, why)
    if lines is not None:
        mismatch = _first_mismatch(view)
        if mismatch:
            view.lines, view.why_no_lines = None, mismatch
    return view


def _first_mismatch(view: GoroutineView) -> str | None:
    """Where the binary's function differs from the dump's: it did not write the dump."""
    recs = view.heap.cols.recs
    pcs, at = np.unique(recs[view.gor.frame_rows, R.COL_FRAME_PC], return_index=True)
    for pc, k in zip(pcs.tolist(), at.tolist(), strict=True):  # a few hundred distinct pcs
        row = int(view.gor.frame_rows[k])
        where = view.position(pc)
        dumped = view.frame_name(row)
        if not where or where[-1].function != dumped:
            have = where[-1].function if where else "no function"
            return (f"the binary has {have} at pc {pc:#x} where the dump has {dumped}: "
                    "not the binary that wrote the dump, so no files or lines")  # fmt: skip
    return None


def goroutines_json(view: GoroutineView) -> dict[str, object]:
    return {
        "goroutines": [view.goroutine_json(i) for i in range(len(view.gor))],
        **goroutines_json_summary(view),
    }


def goroutines_json_summary(view: GoroutineView) -> dict[str, object]:
    gor = view.gor
    return {
        "total": len(gor),
        "leaked": int(np.count_nonzero(gor.verdict == GR.LEAKED)),
        "unknown": int(np.count_nonzero(gor.verdict == GR.UNKNOWN)),
        "lines": view.why_no_lines,
    }


def goroutines_json_lines(view: GoroutineView) -> Iterator[str]:
    """:func:`goroutines_json` as text, streamed: one goroutine per line."""
    n = len(view.gor)
    yield '{"goroutines": ['
    for i in range(n):
        yield json.dumps(view.goroutine_json(i), separators=(",", ":")) + ("," if i < n - 1 else "")
    yield "], " + json.dumps(goroutines_json_summary(view))[1:]


def goroutine_text(view: GoroutineView) -> Iterator[str]:
    """pprof's ``goroutine?debug=1`` layout: ``count @ pcs``, then ``#`` lines."""
    gor = view.gor
    leaked = int(np.count_nonzero(gor.verdict == GR.LEAKED))
    unknown = int(np.count_nonzero(gor.verdict == GR.UNKNOWN))
    undecided = f", not decided {unknown}" if unknown else ""
    yield f"goroutine profile: total {len(gor)}, leaked {leaked}{undecided}"
    if view.why_no_lines:
        yield f"# note: {view.why_no_lines}"
    for group in view.groups():
        yield ""
        yield from group_lines(view, group)


def group_lines(view: GoroutineView, group: list[int]) -> Iterator[str]:
    gor, i = view.gor, group[0]
    frames = gor.frames(i)
    pcs = view.heap.cols.recs[frames, R.COL_FRAME_PC].tolist()
    verdict = VERDICT_WORDS[int(gor.verdict[i])]
    status = gor.wait_reason[i] or gor.status_name(i)
    yield f"{len(group)} @ " + " ".join(f"{pc:#x}" for pc in pcs)
    yield f"# [{status}]" + (f" {verdict}" if verdict else "")
    why = view.why(i)
    if why:
        yield f"# {why}"
    retained = int(gor.retained_bytes[group].sum())
    ids = " ".join(str(int(gor.ids[g])) for g in group[:20]) + (" ..." if len(group) > 20 else "")
    yield f"# goroutines {ids} (retained {retained} bytes)"
    for row, pc in zip(frames.tolist(), pcs, strict=True):
        yield from frame_lines(view, row, pc)
    created = view.created_by(i)
    where = f"\t{created['file']}:{created['line']}" if created.get("file") else ""
    yield f"# created by {created['function'] or created['pc']}{where}"


def frame_lines(view: GoroutineView, row: int, pc: int) -> Iterator[str]:
    where = view.position(pc)
    name = view.frame_name(row)
    if not where:
        yield f"#\t{pc:#x}\t{name}"
        return
    for p in where[:-1]:
        yield f"#\t{pc:#x}\t{p.function} (inlined)\t{p.file}:{p.line}"
    yield f"#\t{pc:#x}\t{name}+{pc - where[-1].entry:#x}\t{where[-1].file}:{where[-1].line}"
