"""Names and shapes of everything the language server adds to LSP: settings, commands,
custom requests. docs/language-server.md documents the same shapes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SERVER_NAME = "heapspurs-lsp"
SECTION = "heapspurs"  # settings section (initializationOptions / workspace/configuration)

# workspace/executeCommand
CMD_ANCHORS = "heapspurs.anchors"
CMD_OWNERS = "heapspurs.owners"
CMD_HEXDUMP = "heapspurs.hexdump"
CMD_LOAD_DUMP = "heapspurs.loadDump"
# {"uri"}: the dump is unloaded (its memory given back) until it is loaded again
CMD_UNLOAD_DUMP = "heapspurs.unloadDump"
# the heapspurs/graph request as a command (same params and answer), so that hover links
# work in any client
CMD_GRAPH = "heapspurs.graph"
COMMANDS = (CMD_ANCHORS, CMD_OWNERS, CMD_HEXDUMP, CMD_LOAD_DUMP, CMD_UNLOAD_DUMP, CMD_GRAPH)

# custom requests
REQ_GRAPH = "heapspurs/graph"
REQ_DUMPS = "heapspurs/dumps"
# one level of owners (params as the address commands', depth ignored), for clients that
# expand an owner tree on demand
REQ_DIRECT_OWNERS = "heapspurs/directOwners"
# types (answered by types_features.py)
CMD_HISTOGRAM = "heapspurs.histogram"
REQ_HISTOGRAM = "heapspurs/histogram"
# retained sizes (answered by retained_features.py)
CMD_TOP = "heapspurs.top"
REQ_TOP = "heapspurs/top"
CMD_SUSPECTS = "heapspurs.suspects"
REQ_SUSPECTS = "heapspurs/suspects"
DEFAULT_TOP = 20
# goroutines (answered by goroutine_features.py): {"dump"?: uri, "id"?: N}
CMD_GOROUTINES = "heapspurs.goroutines"
REQ_GOROUTINES = "heapspurs/goroutines"

# server -> client notification, params as the heapspurs/dumps answer; sent only to a
# client that asks for it in its capabilities: {"experimental": {"heapspurs":
# {"dumpsChanged": true}}}
NOTE_DUMPS_CHANGED = "heapspurs/dumpsChanged"

DEFAULT_OWNER_DEPTH = 3

STATE_LOADING = "loading"
STATE_READY = "ready"
STATE_ERROR = "error"


class ArgumentError(ValueError):
    """A command or request argument the server cannot use (answered as InvalidParams).
    ``data`` goes into the error's ``data`` member, for clients to act on."""

    def __init__(self, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.data = data


def plain(value: Any) -> Any:
    """JSON-ish value from what pygls hands a handler (custom params arrive as namedtuples)."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def parse_address(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        address = value
    elif isinstance(value, str):
        try:
            text = value.strip()
            address = int(text, 16) if text.lower().startswith("0x") else int(text, 10)
        except ValueError:
            raise ArgumentError(f"{value!r} is not an address (0x... or decimal)") from None
    else:
        raise ArgumentError(f"address must be a string like '0xc000019680', not {value!r}")
    if not 0 <= address < 1 << 64:
        raise ArgumentError(f"{value!r} is not a 64-bit address")
    return address


INT_MAX = 2**31 - 1  # a depth or a count past this is no use, and numpy cannot take 10^30


def _int(args: Mapping[str, Any], key: str, default: int, low: int) -> int:
    value = args.get(key, default)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= INT_MAX:
        shown = repr(value) if len(repr(value)) < 40 else f"{repr(value)[:40]}..."
        raise ArgumentError(f"{key!r} must be an integer from {low} to {INT_MAX}, not {shown}")
    return value


def _dump(args: Mapping[str, Any]) -> str | None:
    dump = args.get("dump")
    if dump is not None and not isinstance(dump, str):
        raise ArgumentError(f"'dump' must be a URI string, not {dump!r}")
    return dump


def _one_object(args: Any, what: str) -> Mapping[str, Any]:
    """Commands take one object argument; requests take it as their params."""
    args = plain(args)
    if isinstance(args, list):
        if len(args) != 1:
            raise ArgumentError(f"{what} takes one object argument, got {len(args)} arguments")
        args = args[0]
    if not isinstance(args, Mapping):
        raise ArgumentError(f'{what} takes an object like {{"address": "0x..."}}')
    return args


@dataclass(frozen=True)
class AddressArgs:
    """``{"address": "0x…", "dump"?: uri, "depth"?: N}`` (anchors, owners, hexdump)."""

    address: int
    dump: str | None = None
    depth: int = DEFAULT_OWNER_DEPTH

    @classmethod
    def parse(cls, args: Any, what: str) -> AddressArgs:
        a = _one_object(args, what)
        if "address" not in a:
            raise ArgumentError(f"{what}: missing 'address'")
        depth = a.get("depth", DEFAULT_OWNER_DEPTH)
        if depth != -1:
            depth = _int(a, "depth", DEFAULT_OWNER_DEPTH, 1)
        return cls(parse_address(a["address"]), _dump(a), depth)


@dataclass(frozen=True)
class GraphArgs:
    """``heapspurs/graph`` params: ``{"address", "dump"?, "prune"?, "maxNodes"?}``
    (``depth`` is accepted and ignored: the graph is bounded by ``maxNodes``)."""

    address: int
    dump: str | None = None
    prune: bool = False
    max_nodes: int | None = None

    @classmethod
    def parse(cls, args: Any) -> GraphArgs:
        a = _one_object(args, REQ_GRAPH)
        if "address" not in a:
            raise ArgumentError(f"{REQ_GRAPH}: missing 'address'")
        prune = a.get("prune", False)
        if not isinstance(prune, bool):
            raise ArgumentError(f"'prune' must be true or false, not {prune!r}")
        max_nodes = _int(a, "maxNodes", 0, 1) if a.get("maxNodes") is not None else None
        return cls(parse_address(a["address"]), _dump(a), prune, max_nodes)


@dataclass(frozen=True)
class LoadArgs:
    """``heapspurs.loadDump``: ``{"uri": "file:///…"}``."""

    uri: str

    @classmethod
    def parse(cls, args: Any, what: str = CMD_LOAD_DUMP) -> LoadArgs:
        a = _one_object(args, what)
        uri = a.get("uri")
        if not isinstance(uri, str) or not uri:
            raise ArgumentError(f"{what}: 'uri' must be a file URI string")
        return cls(uri)


def dump_info(
    uri: str,
    state: str,
    progress: float,
    objects: int,
    program: str | None,
    error: str | None,
) -> dict[str, Any]:
    """One entry of the ``heapspurs/dumps`` answer."""
    return {
        "uri": uri,
        "state": state,
        "progress": progress,
        "objects": objects,
        "program": program,
        "error": error,
    }


# what grew between dumps (answered by compare_features.py): {"dump"?: uri,
# "baselineUris": [uri, ...] (oldest first), "top"?: N}
CMD_COMPARE = "heapspurs.compare"
REQ_COMPARE = "heapspurs/compare"

# Parquet export (answered by export_features.py): {"uri"?: dump, "directory": path or
# file URI, "bytes"?: "none"|"all", "force"?: bool}
CMD_EXPORT = "heapspurs.export"
REQ_EXPORT = "heapspurs/export"

# Go source (answered by gosource_features.py): a CodeLens above each declared type whose
# command is CMD_INSTANCES with {"dump": uri, "type": "main.Session"}; the request answers
# the type's objects, largest retained first: {"dump"?: uri, "type": name, "limit"?: N}
CMD_INSTANCES = "heapspurs.instances"
REQ_INSTANCES = "heapspurs/instances"

# the heap explorer's tree views, a page at a time (answered by view_features.py):
# {"dump"?: uri, "parent"?: type name / address, "page"?: N}
REQ_TYPES = "heapspurs/types"
REQ_RETAINERS = "heapspurs/retainers"
VIEW_PAGE = 200  # items a page (heapspurs/goroutines pages the same with "page")
