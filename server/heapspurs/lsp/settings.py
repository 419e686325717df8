"""The ``heapspurs`` settings section."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .protocol import SECTION

DEFAULT_DUMPS = ("**/*.heapdump", "**/*.dump", "**/heapdump*")
DEFAULT_MAX_NODES = 200


@dataclass(frozen=True)
class Settings:
    dumps: tuple[str, ...] = DEFAULT_DUMPS
    oid_files: tuple[str, ...] = ()
    program: str | None = None
    graph_max_nodes: int = DEFAULT_MAX_NODES
    index_beside_dump: bool = False  # saved indexes beside the dumps, not in the cache folder
    problems: list[str] = field(default_factory=list, compare=False)

    @classmethod
    def from_json(cls, value: Any) -> Settings:
        """Settings from ``{"heapspurs": {...}}`` or the section itself; bad values fall
        back to defaults and are listed in ``problems``."""
        if isinstance(value, Mapping) and isinstance(value.get(SECTION), Mapping):
            value = value[SECTION]
        if not isinstance(value, Mapping):
            return cls()
        problems: list[str] = []

        def globs(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
            v = value.get(key)
            if v is None:
                return default
            if isinstance(v, str):
                return (v,)
            if isinstance(v, list) and all(isinstance(x, str) for x in v):
                return tuple(v)
            problems.append(f"heapspurs.{key} must be a list of globs")
            return default

        program = value.get("program")
        if program is not None and not isinstance(program, str):
            problems.append("heapspurs.program must be a path")
            program = None
        graph = value.get("graph")
        max_nodes = graph.get("maxNodes") if isinstance(graph, Mapping) else None
        if max_nodes is None:
            max_nodes = value.get("graph.maxNodes")
        if max_nodes is None:
            max_nodes = DEFAULT_MAX_NODES
        elif not isinstance(max_nodes, int) or isinstance(max_nodes, bool) or max_nodes < 1:
            problems.append("heapspurs.graph.maxNodes must be a positive integer")
            max_nodes = DEFAULT_MAX_NODES
        index = value.get("index")
        beside = index.get("besideDump") if isinstance(index, Mapping) else None
        if beside is None:
            beside = value.get("index.besideDump", False)
        if not isinstance(beside, bool):
            problems.append("heapspurs.index.besideDump must be true or false")
            beside = False
        return cls(
            globs("dumps", DEFAULT_DUMPS),
            globs("oidFiles", ()),
            program or None,
            max_nodes,
            beside,
            problems,
        )
