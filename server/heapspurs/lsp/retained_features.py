"""Retained sizes in the language server: the largest retainers (``heapspurs/top``, command
``heapspurs.top``) and the leak suspects (``heapspurs/suspects``, ``heapspurs.suspects``).

``heapspurs/top``: ``{"dump"?, "count"?, "address"?}`` → the CLI's ``--top N [--address A]
--json`` answer; ``heapspurs/suspects``: ``{"dump"?, "threshold"?}`` (percent of the live
heap, default 10) → the ``--suspects --json`` answer. Both add ``dump`` and ``markdown``.
The dominator tree is computed once per dump (then kept in its saved index)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..analysis.dominators import dominators
from ..analysis.suspects import DEFAULT_THRESHOLD, NoRoots, suspects_answer, top_answer
from ..render import text
from .hover import code_block, dump_heading
from .protocol import (
    CMD_SUSPECTS,
    CMD_TOP,
    DEFAULT_TOP,
    REQ_SUSPECTS,
    REQ_TOP,
    ArgumentError,
    _int,
    parse_address,
)
from .store import DumpEntry
from .types_features import dump_argument, object_argument, offer

if TYPE_CHECKING:
    from .server import HeapspursServer


def top_of(entry: DumpEntry, count: int, address: int | None) -> dict[str, Any]:
    assert entry.loaded is not None
    heap, names = entry.loaded.heap, entry.loaded.names
    under = None
    if address is not None:
        under = heap.find(address)
        if under < 0:
            raise ArgumentError(f"{address:#x} is not in any object of {entry.name}")
    tree = dominators(heap)
    if under is not None and not tree.reached(under):
        raise ArgumentError(f"{address:#x} is in an object no root reaches: it retains nothing")
    answer: dict[str, Any] = _answer(top_answer, heap, names, tree, count, under)
    title = "Top retainers" if under is None else f"Retained under `{address:#x}`"
    return _with_markdown(entry, answer, title, text.top_lines(answer))


def suspects_of(entry: DumpEntry, threshold: float) -> dict[str, Any]:
    assert entry.loaded is not None
    heap, names = entry.loaded.heap, entry.loaded.names
    answer: dict[str, Any] = _answer(suspects_answer, heap, names, dominators(heap), threshold)
    return _with_markdown(entry, answer, "Leak suspects", text.suspect_lines(answer))


def _answer(fn, *args: Any) -> dict[str, Any]:
    """A dump without roots is a bad argument, said in the answer's message."""
    try:
        return fn(*args)
    except NoRoots as err:
        raise ArgumentError(str(err)) from None


def _with_markdown(entry: DumpEntry, answer: dict[str, Any], title: str, lines) -> dict[str, Any]:
    answer["dump"] = entry.uri
    answer["markdown"] = f"{dump_heading(entry)}\n\n**{title}**\n\n{code_block(list(lines))}"
    return answer


def threshold_argument(args: dict[str, Any]) -> float:
    """``threshold``: percent of the live heap, 0 < P <= 100 (default 10)."""
    value = args.get("threshold", 100 * DEFAULT_THRESHOLD)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 100:
        raise ArgumentError(f"'threshold' must be a percentage, 0 < P <= 100, not {value!r}")
    return float(value) / 100


def register(server: HeapspursServer, answers_errors) -> None:
    """Add the top-retainers and leak-suspects requests and commands to ``server``."""

    async def top(ls: HeapspursServer, params: Any) -> dict[str, Any]:
        args = object_argument(params, REQ_TOP)
        entry = dump_argument(ls, args, REQ_TOP)
        count = _int(args, "count", DEFAULT_TOP, 1)
        address = None if args.get("address") is None else parse_address(args["address"])
        return await ls.analyse(entry, top_of, count, address)

    async def suspects(ls: HeapspursServer, params: Any) -> dict[str, Any]:
        args = object_argument(params, REQ_SUSPECTS)
        entry = dump_argument(ls, args, REQ_SUSPECTS)
        return await ls.analyse(entry, suspects_of, threshold_argument(args))

    offer(server, answers_errors, top, REQ_TOP, CMD_TOP)
    offer(server, answers_errors, suspects, REQ_SUSPECTS, CMD_SUSPECTS)
