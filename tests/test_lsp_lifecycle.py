"""The language server's start as an editor sees it: the dumps known from the first answer,
pushed changes instead of polling, one file-watcher registration however the settings
arrive, and an address that is no object answered with what it is (issue 11)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as T
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient, client_capabilities

from heapspurs.lsp.protocol import NOTE_DUMPS_CHANGED, plain
from test_lsp import LATEST, OIDS, REGISTERED, client, command, make_workspace, request, settled

from conftest import fixture, loaded

__all__ = ["client"]  # the fixture, shared with test_lsp
pytestmark = pytest.mark.asyncio


def capabilities(dumps_changed: bool = True) -> T.ClientCapabilities:
    caps = client_capabilities("visual-studio-code")
    if dumps_changed:
        caps.experimental = {"heapspurs": {"dumpsChanged": True}}
    return caps


async def initialize(c: LanguageClient, ws: Path, options: Any, caps: T.ClientCapabilities) -> None:
    await c.initialize_session(
        T.InitializeParams(
            capabilities=caps,
            root_uri=ws.as_uri(),
            workspace_folders=[T.WorkspaceFolder(ws.as_uri(), ws.name)],
            initialization_options=options,
        )
    )


async def test_dumps_are_known_from_the_first_answer(client: LanguageClient, tmp_path: Path):
    """The first heapspurs/dumps answer, sent right after initialize (before the server has
    asked for the configuration), lists the workspace's dump as loading: a client never
    sees "no dumps" in a workspace that has one."""
    ws = make_workspace(tmp_path / "ws")
    client.set_configuration({"oidFiles": ["oid.txt"]}, section="heapspurs")
    await initialize(client, ws, {"heapspurs": {}}, capabilities(dumps_changed=False))
    first = (await request(client, "heapspurs/dumps", None))["dumps"]
    assert [Path(d["uri"]).name for d in first] == ["service.heapdump"]
    assert first[0]["state"] in ("loading", "ready")
    (done,) = await settled(client)
    assert done["state"] == "ready"


async def test_dump_changes_are_pushed(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    pushed: list[list[dict[str, Any]]] = []

    @client.feature(NOTE_DUMPS_CHANGED)
    def dumps_changed(params: Any) -> None:
        pushed.append(plain(params)["dumps"])

    await initialize(client, ws, {"heapspurs": OIDS}, capabilities())
    for _ in range(600):
        if pushed and pushed[-1] and pushed[-1][0]["state"] == "ready":
            break
        await asyncio.sleep(0.05)
    assert pushed[-1][0]["state"] == "ready", pushed
    assert pushed[-1][0]["objects"] == loaded(LATEST).heap.n_objects
    assert len(pushed) < 30  # progress is coalesced, not one message per percent
    # a deleted dump: pushed at once as an empty list
    (ws / "service.heapdump").unlink()
    uri = (ws / "service.heapdump").as_uri()
    client.workspace_did_change_watched_files(
        T.DidChangeWatchedFilesParams([T.FileEvent(uri, T.FileChangeType.Deleted)])
    )
    for _ in range(100):
        if pushed[-1] == []:
            break
        await asyncio.sleep(0.05)
    assert pushed[-1] == []


async def test_no_push_to_a_client_that_did_not_ask(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    pushed: list[Any] = []

    @client.feature(NOTE_DUMPS_CHANGED)
    def dumps_changed(params: Any) -> None:
        pushed.append(params)

    await initialize(client, ws, {"heapspurs": OIDS}, capabilities(dumps_changed=False))
    await settled(client)
    await asyncio.sleep(0.3)
    assert pushed == []


async def test_file_watchers_registered_once(client: LanguageClient, tmp_path: Path):
    """VS Code pushes its configuration right after ``initialized``: the two handlers must
    not both register ``heapspurs-watch`` (the client then delivers each event twice and
    reports "Notify file events failed"). Changed globs replace the registration."""
    ws = make_workspace(tmp_path / "ws")
    client.set_configuration(OIDS, section="heapspurs")
    await initialize(client, ws, {"heapspurs": {}}, capabilities())
    client.workspace_did_change_configuration(
        T.DidChangeConfigurationParams(settings={"heapspurs": OIDS})
    )
    await settled(client, count=1)
    await asyncio.sleep(0.3)
    (watch,) = REGISTERED[id(client)]
    globs = {w["globPattern"] for w in plain(watch.register_options)["watchers"]}
    assert "**/oid.txt" in globs
    # the same settings again: nothing to re-register; new globs: one registration still
    for settings in (OIDS, {"oidFiles": ["names.txt"]}):
        client.workspace_did_change_configuration(
            T.DidChangeConfigurationParams(settings={"heapspurs": settings})
        )
        await asyncio.sleep(0.3)
        (watch,) = REGISTERED[id(client)]
    globs = {w["globPattern"] for w in plain(watch.register_options)["watchers"]}
    assert "**/names.txt" in globs and "**/oid.txt" not in globs


async def test_a_global_is_answered_with_what_it_is(client: LanguageClient, tmp_path: Path):
    """Show Anchors on a global's address: the error's message and data say it is a global
    (plain text, no markdown), with no "not in this dump" noise from the other dump."""
    ws = make_workspace(tmp_path / "ws")
    shutil.copy(ws / "service.heapdump", ws / "copy.heapdump")
    await initialize(client, ws, {"heapspurs": OIDS}, capabilities())
    await settled(client, count=2)
    symbols = loaded(LATEST).names.symbols
    assert symbols is not None
    g_bss = symbols.address_of("main.gBss")
    assert g_bss is not None
    with pytest.raises(JsonRpcInvalidParams) as raised:
        await command(client, "heapspurs.anchors", {"address": f"{g_bss:#x}"})
    message = str(raised.value)
    assert "is not a heap object" in message and "main.gBss" in message
    assert "**" not in message and "`" not in message and "not in this dump" not in message
    data = plain(raised.value.data)
    assert data["address"] == f"{g_bss:#x}"
    assert sorted(p["name"] for p in data["places"]) == ["copy.heapdump", "service.heapdump"]
    assert all("bss segment: global main.gBss" in p["what"] for p in data["places"])
    # an address no dump knows at all still says so, once
    leak = fixture(LATEST).scenario("leak")
    with pytest.raises(JsonRpcInvalidParams, match="in no object: not in "):
        await command(client, "heapspurs.anchors", {"address": "0x10", "dump": None})
    assert (
        await command(
            client,
            "heapspurs.anchors",
            {"address": leak["address"], "dump": (ws / "copy.heapdump").resolve().as_uri()},
        )
    )["anchors"]
