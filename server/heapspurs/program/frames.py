"""Where a function keeps its variables in its stack frame, from DWARF: Go describes each
local and argument by a location list of ``DW_OP_fbreg N`` (frame base = the call frame's
CFA) over pc ranges. A frame record of a dump holds ``[sp, sp + len)`` and its pc; the CFA
is ``sp + len``, so a variable of a frame sits at ``sp + len + N`` while pc is in range.

Registers (``DW_OP_reg*``), pieces and inlined calls' variables are not read: a pointer
in a register is not in the dump's frame words anyway."""

from __future__ import annotations

import numpy as np

from .dies import sleb

DW_OP_FBREG = 0x91
DW_OP_CALL_FRAME_CFA = 0x9C
FRAME_BASE_CFA = [DW_OP_CALL_FRAME_CFA]


def _sleb(data: list[int]) -> int | None:
    """The signed LEB128 number that ``data`` holds, nothing after it; else None."""
    try:
        value, end = sleb(bytes(data), 0)
    except (IndexError, ValueError):
        return None
    return value if end == len(data) else None


def _cfa_offset(expr) -> int | None:
    """N of ``DW_OP_fbreg N``; None for any other location."""
    if isinstance(expr, list) and len(expr) >= 2 and expr[0] == DW_OP_FBREG:
        return _sleb(expr[1:])
    return None


def _pc(die, attr: str) -> int | None:
    """An address attribute of ``die`` (one given as an index into ``.debug_addr``, as Go's
    linker writes them from 1.25 on, is read as the address it stands for)."""
    a = die.attributes.get(attr)
    return None if a is None else int(a.value)


def pc_span(func) -> tuple[int, int] | None:
    """The subprogram DIE ``func``'s code, ``[low, high)``; None for one whose frame base
    is not the CFA (no variable of it is read)."""
    low = _pc(func, "DW_AT_low_pc")
    high_attr = func.attributes.get("DW_AT_high_pc")
    base = func.attributes.get("DW_AT_frame_base")
    if low is None or high_attr is None or base is None or base.value != FRAME_BASE_CFA:
        return None
    high = low + high_attr.value if high_attr.form != "DW_FORM_addr" else high_attr.value
    return low, int(high)


def runs_at(span: tuple[int, int], pcs: np.ndarray) -> bool:
    """Whether one of ``pcs`` (sorted) is inside ``span`` or at its end (the return
    address of a call the function ends with)."""
    i = int(np.searchsorted(pcs, np.uint64(span[0])))
    return i < len(pcs) and int(pcs[i]) <= span[1]


def frame_variables(loclists, func) -> list[tuple[str, int, int, int, int]]:
    """(name, type DIE offset, pc from, pc to, CFA offset) for each stack-held variable of
    the subprogram DIE ``func`` and each pc range where it is on the stack."""
    span = pc_span(func)
    if span is None:
        return []
    low, high = span
    out: list[tuple[str, int, int, int, int]] = []
    stack = list(func.iter_children())
    while stack:
        die = stack.pop()
        if die.tag == "DW_TAG_lexical_block":
            stack.extend(die.iter_children())
            continue
        if die.tag not in ("DW_TAG_variable", "DW_TAG_formal_parameter"):
            continue
        loc, typ, name = (die.attributes.get(k) for k in
                          ("DW_AT_location", "DW_AT_type", "DW_AT_name"))  # fmt: skip
        if loc is None or typ is None or name is None:
            continue
        type_ref = typ.value + die.cu.cu_offset if typ.form != "DW_FORM_ref_addr" else typ.value
        label = name.value.decode("utf-8", "replace")
        if isinstance(loc.value, list):  # one location for the whole function
            off = _cfa_offset(loc.value)
            if off is not None:
                out.append((label, type_ref, low, high, off))
            continue
        entry_base = low
        for entry in loclists.get_location_list_at_offset(loc.value, die=die):
            if hasattr(entry, "base_address"):
                entry_base = int(entry.base_address)
                continue
            off = _cfa_offset(getattr(entry, "loc_expr", None))
            if off is None:
                continue
            shift = 0 if getattr(entry, "is_absolute", False) else entry_base
            out.append((label, type_ref, shift + entry.begin_offset, shift + entry.end_offset, off))
    return out


AT_GO_CLOSURE_OFFSET = 0x2907  # Go >= 1.23: a captured variable's offset in the context


def closure_captures(func) -> tuple[int, list[tuple[str, int, int]]] | None:
    """A closure function's entry pc and what its context holds after the code pointer:
    (name, type DIE offset, offset in the context) per captured variable (``&n`` for one
    captured by reference). None for other functions and before Go 1.23."""
    low = _pc(func, "DW_AT_low_pc")
    captured = []
    for die in func.iter_children():
        if die.tag != "DW_TAG_variable":
            continue
        at, typ, name = (die.attributes.get(k) for k in
                         (AT_GO_CLOSURE_OFFSET, "DW_AT_type", "DW_AT_name"))  # fmt: skip
        if at is None or typ is None or name is None:
            continue
        type_ref = typ.value + die.cu.cu_offset if typ.form != "DW_FORM_ref_addr" else typ.value
        captured.append((name.value.decode("utf-8", "replace"), type_ref, int(at.value)))
    return (low, captured) if captured and low is not None else None
