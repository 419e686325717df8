"""The language server's pieces without a client: settings, argument shapes, the store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from heapspurs.dumpfile.columns import LoadCancelled
from heapspurs.lsp.hover import address_at
from heapspurs.lsp.protocol import AddressArgs, ArgumentError, GraphArgs, LoadArgs
from heapspurs.lsp.settings import DEFAULT_DUMPS, DEFAULT_MAX_NODES, Settings
from heapspurs.lsp.store import Store

from conftest import fixture


def test_settings_shapes() -> None:
    assert Settings.from_json(None) == Settings()
    s = Settings.from_json(
        {
            "heapspurs": {
                "dumps": "*.bin",
                "oidFiles": ["a.txt"],
                "program": "svc",
                "graph": {"maxNodes": 7},
            }
        }
    )
    assert (s.dumps, s.oid_files, s.program, s.graph_max_nodes) == (
        ("*.bin",),
        ("a.txt",),
        "svc",
        7,
    )
    assert Settings.from_json({"graph.maxNodes": 9}).graph_max_nodes == 9
    bad = Settings.from_json({"dumps": 3, "graph": {"maxNodes": 0}, "program": []})
    assert bad.dumps == DEFAULT_DUMPS and bad.graph_max_nodes == DEFAULT_MAX_NODES
    assert bad.program is None and len(bad.problems) == 3


def test_argument_shapes() -> None:
    a = AddressArgs.parse([{"address": "0xC0FFEE", "depth": -1}], "x")
    assert (a.address, a.dump, a.depth) == (0xC0FFEE, None, -1)
    assert AddressArgs.parse({"address": 16}, "x").address == 16
    cases: list[object] = [
        [],
        [{}, {}],
        ["0x1"],
        [{"address": "0x1", "depth": "2"}],
        [{"address": -1}],
    ]
    for args in cases:
        with pytest.raises(ArgumentError):
            AddressArgs.parse(args, "x")
    g = GraphArgs.parse({"address": "0x10", "prune": True, "maxNodes": 3, "dump": "file:///d"})
    assert (g.address, g.prune, g.max_nodes, g.dump) == (16, True, 3, "file:///d")
    with pytest.raises(ArgumentError):
        LoadArgs.parse([{"uri": 3}])


def test_address_at() -> None:
    line = "a=0x1f b=0XAbC c=0xq 0x" + "f" * 17
    assert address_at(line, 2) == 0x1F
    assert address_at(line, 6) == 0x1F  # just after it
    assert address_at(line, 12) == 0xABC
    assert address_at(line, 18) is None
    assert address_at(line, len(line) - 2) is None  # wider than 64 bits


def test_store_load_cancelled_and_unloaded(tmp_path: Path) -> None:
    dump = tmp_path / "service.heapdump"
    shutil.copy(fixture("go1.27").dump, dump)
    store = Store()
    store.folders = [str(tmp_path)]
    (path,) = store.find_dumps()
    entry = store.add(path)
    with pytest.raises(LoadCancelled):
        store.load(entry, lambda f: None, lambda: True)
    assert entry.loaded is None and entry.state == "loading"
    entry = store.add(path)
    store.load(entry, lambda f: None, lambda: False)
    assert entry.state == "ready" and entry.loaded is not None
    removed = store.remove(path)
    assert removed is entry and entry.loaded is None and store.dumps() == []
