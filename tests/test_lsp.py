"""The language server end to end: the real ``heapspurs-lsp`` over stdio (pytest-lsp), a
workspace made of a fixture's dump, binary and OID file."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types as T
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from heapspurs.dumpfile import layout as L
from heapspurs.lsp.protocol import plain

from conftest import VERSIONS, fixture, loaded
from expectations import check_scenario, expected_record

pytestmark = pytest.mark.asyncio
SERVER = [sys.executable, "-m", "heapspurs.lsp"]
LATEST = "go1.27"
HOVERED = ("field_interior", "malloc_header", "tiny_14", "chan_blocked", "finalizer_self")


def make_workspace(root: Path, version: str = LATEST, dump_name: str = "service.heapdump") -> Path:
    f = fixture(version)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(f.dump, root / dump_name)
    shutil.copy(f.binary, root / "scenarios")
    shutil.copy(f.oid, root / "oid.txt")
    return root


LENS_REFRESHES: dict[int, list[float]] = {}  # per client: when the server had it refresh
REGISTERED: dict[int, list[T.Registration]] = {}  # id(client) -> what the server registered


@pytest_asyncio.fixture
async def client() -> AsyncIterator[LanguageClient]:
    c = await ClientServerConfig(server_command=SERVER).start()
    assert isinstance(c, LanguageClient)
    registered = REGISTERED.setdefault(id(c), [])

    @c.feature(T.CLIENT_REGISTER_CAPABILITY)
    def register(params: T.RegistrationParams) -> None:
        registered.extend(params.registrations)

    @c.feature(T.CLIENT_UNREGISTER_CAPABILITY)
    def unregister(params: T.UnregistrationParams) -> None:
        gone = {u.id for u in params.unregisterations}
        registered[:] = [r for r in registered if r.id not in gone]

    refreshes = LENS_REFRESHES.setdefault(id(c), [])

    @c.feature(T.WORKSPACE_CODE_LENS_REFRESH)  # VS Code's capabilities say it takes them
    def code_lens_refresh(params: None) -> None:
        refreshes.append(time.monotonic())

    yield c
    REGISTERED.pop(id(c), None)
    LENS_REFRESHES.pop(id(c), None)
    await c.shutdown_session()
    await c.stop()


async def start(
    c: LanguageClient,
    ws: Path,
    options: dict[str, Any] | None = None,
    capabilities: T.ClientCapabilities | None = None,
) -> list[dict[str, Any]]:
    """Initialize over ``ws`` and wait until no dump is loading; the dumps answer."""
    await c.initialize_session(
        T.InitializeParams(
            capabilities=capabilities or client_capabilities("visual-studio-code"),
            root_uri=ws.as_uri(),
            workspace_folders=[T.WorkspaceFolder(ws.as_uri(), ws.name)],
            initialization_options=options,
        )
    )
    return await settled(c)


async def settled(c: LanguageClient, count: int | None = None) -> list[dict[str, Any]]:
    for _ in range(600):
        dumps = (await request(c, "heapspurs/dumps", {}))["dumps"]
        done = all(d["state"] != "loading" for d in dumps)
        if done and (dumps if count is None else len(dumps) == count):
            return dumps
        await asyncio.sleep(0.05)
    raise AssertionError(f"dumps never settled: {dumps}")


async def request(c: LanguageClient, method: str, params: Any) -> Any:
    return plain(await c.protocol.send_request_async(method, params))


async def request_without_params(c: LanguageClient, method: str) -> Any:
    """A request with no ``params`` member at all, as VS Code sends one (pygls's client
    always writes ``"params": null``, so the message is written by hand)."""
    msg_id = f"no-params-{method}"
    answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    c.protocol._request_futures[msg_id] = answer
    c.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method})
    return plain(await asyncio.wait_for(answer, 30))


async def command(c: LanguageClient, name: str, args: dict[str, Any]) -> dict[str, Any]:
    params = T.ExecuteCommandParams(command=name, arguments=[args])
    return plain(await c.workspace_execute_command_async(params))


def open_doc(c: LanguageClient, path: Path, text: str, language: str = "plaintext") -> str:
    uri = path.as_uri()
    c.text_document_did_open(
        T.DidOpenTextDocumentParams(T.TextDocumentItem(uri, language, 1, text))
    )
    return uri


async def hover(c: LanguageClient, uri: str, line: int, character: int) -> str | None:
    h = await c.text_document_hover_async(
        T.HoverParams(T.TextDocumentIdentifier(uri), T.Position(line, character))
    )
    if h is None:
        return None
    assert isinstance(h.contents, T.MarkupContent)
    assert h.contents.kind == T.MarkupKind.Markdown
    return h.contents.value


async def hover_address(c: LanguageClient, ws: Path, address: str) -> str | None:
    uri = open_doc(c, ws / f"log-{address}.txt", f"level=info held={address} ok")
    return await hover(c, uri, 0, len("level=info held=") + 3)


OIDS = {"oidFiles": ["oid.txt"]}


# --- discovery, settings, progress -----------------------------------------------------------
async def test_discovery_progress_and_program_matching(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    (ws / "notes.dump").write_text("not a heap dump\n")  # matches a glob, lacks the header
    (ws / "sub").mkdir()
    shutil.copy(fixture(LATEST).dump, ws / "sub" / "heapdump-2")
    dumps = await start(client, ws, OIDS)
    by_name = {Path(d["uri"]).name: d for d in dumps}
    assert set(by_name) == {"service.heapdump", "heapdump-2"}
    for d in dumps:
        assert d["state"] == "ready" and d["error"] is None and d["progress"] == 1.0
        assert d["objects"] == loaded(LATEST).heap.n_objects
        assert d["program"] == (ws / "scenarios").resolve().as_uri()
    (watch,) = REGISTERED[id(client)]
    assert watch.method == T.WORKSPACE_DID_CHANGE_WATCHED_FILES
    globs = {w["globPattern"] for w in plain(watch.register_options)["watchers"]}
    assert {"**/*.heapdump", "**/oid.txt"} <= globs
    reports = list(client.progress_reports.values())
    assert len(reports) == 2
    for values in reports:
        assert isinstance(values[0], T.WorkDoneProgressBegin)
        assert values[0].percentage == 0
        assert any(isinstance(v, T.WorkDoneProgressReport) and v.percentage == 100 for v in values)
        assert isinstance(values[-1], T.WorkDoneProgressEnd)


async def test_no_progress_without_client_support(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    dumps = await start(client, ws, OIDS, capabilities=T.ClientCapabilities())
    assert dumps[0]["state"] == "ready"
    assert client.progress_reports == {}
    assert REGISTERED[id(client)] == []  # no dynamic registration without client support


async def test_settings_from_configuration_and_changes(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws", dump_name="service.bin")
    client.set_configuration({"dumps": ["*.bin"], "oidFiles": ["oid.txt"]}, section="heapspurs")
    dumps = await start(client, ws)
    assert [Path(d["uri"]).name for d in dumps] == ["service.bin"]
    leak = fixture(LATEST).scenario("leak")
    text = await hover_address(client, ws, leak["address"])
    assert text and leak["oid_name"] in text
    graph = await request(client, "heapspurs/graph", {"address": leak["address"]})
    assert graph["nodes"] > 2
    # graph.maxNodes from a pushed configuration change
    client.set_configuration(
        {"dumps": ["*.bin"], "oidFiles": ["oid.txt"], "graph": {"maxNodes": 2}},
        section="heapspurs",
    )
    client.workspace_did_change_configuration(T.DidChangeConfigurationParams(settings=None))
    for _ in range(100):
        graph = await request(client, "heapspurs/graph", {"address": leak["address"]})
        if graph["nodes"] <= 2:
            break
        await asyncio.sleep(0.05)
    assert graph["nodes"] == 2 and graph["truncated"]
    # the dumps setting changes: the old dump is unloaded
    client.set_configuration({"dumps": ["*.heapdump"]}, section="heapspurs")
    client.workspace_did_change_configuration(T.DidChangeConfigurationParams(settings=None))
    assert await settled(client, count=0) == []


async def test_bad_setting_is_reported(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws, {"heapspurs": {"graph": {"maxNodes": "many"}}})
    assert any("maxNodes" in m.message for m in client.messages)


# --- hover -----------------------------------------------------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
async def test_hover_on_objects(client: LanguageClient, tmp_path: Path, version: str):
    f = fixture(version)
    ws = make_workspace(tmp_path / "ws", version)
    await start(client, ws, OIDS)
    for name in HOVERED:
        if name not in f.truth["scenarios"]:
            continue
        truth = f.scenario(name)
        text = await hover_address(client, ws, truth["address"])
        assert text is not None, name
        record = expected_record(truth, f.minor, f.ptr_size)
        address = int(truth["address"], 16)
        assert "`service.heapdump`" in text
        assert f"**Object** `{record:#x}`" in text, (name, text)
        if address != record:
            assert f"offset +{address - record:#x}" in text, name
        if truth.get("oid_name"):
            assert f"`{truth['oid_name']}`" in text, name
        assert "pointers: " in text and "owners: " in text
        anchor = truth["anchor"]
        for key in ("name", "function"):
            if key in anchor:
                assert anchor[key] in text, (name, text)
        if "goroutine" in anchor:
            assert f"goroutine {anchor['goroutine']}" in text
        assert "chain of " in text
        for cmd in (
            "heapspurs.anchors",
            "heapspurs.owners",
            "heapspurs.hexdump",
            "heapspurs.graph",
        ):
            assert f"(command:{cmd}?" in text
        if name == "finalizer_self":
            assert "finalizer: registered" in text
            assert re.search(rf"- (queued )?finalizer (closure )?of {truth['anchor']['of']}", text)
        if name == "malloc_header" and record == address - 8:
            assert "malloc header: the value starts at +8" in text
        if name == "tiny_14":
            assert "tiny block" in text


async def test_hover_on_globals_stacks_and_nothing(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws, OIDS)
    heap, names = loaded(LATEST).heap, loaded(LATEST).names
    assert names.symbols is not None
    g_bss = names.symbols.address_of("main.gBss")
    assert g_bss is not None
    text = await hover_address(client, ws, f"{g_bss:#x}")
    assert text and "**bss** segment" in text and "main.gBss" in text
    frame = int(heap.rows(L.TAG_STACK_FRAME)[0])
    sp = int(heap.cols.recs[frame, 2])
    text = await hover_address(client, ws, f"{sp:#x}")
    assert text and "on the stack of **goroutine" in text and heap.text(frame, 10) in text
    assert await hover_address(client, ws, "0x10") is None
    # columns are UTF-16 units: an emoji before the address counts twice
    leak = fixture(LATEST).scenario("leak")
    uri = open_doc(client, ws / "emoji.txt", f"\U0001f60b {leak['address']}")
    assert await hover(client, uri, 0, 2) is None  # the space after the emoji
    text = await hover(client, uri, 0, 3)
    assert text and f"`{leak['object']}`" in text
    # not on an address at all
    uri = open_doc(client, ws / "plain.txt", "nothing to see here")
    assert await hover(client, uri, 0, 3) is None


async def test_hover_while_loading_says_so(client: LanguageClient, tmp_path: Path):
    """A dump that is still loading shows its percentage (the load is held back by a
    progress-create request the test answers late)."""
    ws = make_workspace(tmp_path / "ws")
    gate = asyncio.Event()

    async def slow_create(params: T.WorkDoneProgressCreateParams) -> None:
        client.progress_reports.setdefault(params.token, [])
        await gate.wait()

    # replaces pytest-lsp's own handler (pygls refuses a second registration)
    client.protocol.fm.features[T.WINDOW_WORK_DONE_PROGRESS_CREATE] = slow_create

    await client.initialize_session(
        T.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=ws.as_uri(),
            workspace_folders=[T.WorkspaceFolder(ws.as_uri(), ws.name)],
            initialization_options=OIDS,
        )
    )
    for _ in range(100):
        if (await request(client, "heapspurs/dumps", {}))["dumps"]:
            break
        await asyncio.sleep(0.05)
    text = await hover_address(client, ws, fixture(LATEST).scenario("leak")["address"])
    assert text and "`service.heapdump` is loading (0%)" in text
    with pytest.raises(JsonRpcInvalidParams, match="still loading"):
        await command(client, "heapspurs.anchors", {"address": "0x1"})
    gate.set()
    assert (await settled(client))[0]["state"] == "ready"


# --- commands and requests ---------------------------------------------------------------------
async def test_commands(client: LanguageClient, tmp_path: Path):
    f = fixture(LATEST)
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws, OIDS)
    for name, truth in f.truth["scenarios"].items():
        answer = await command(client, "heapspurs.anchors", {"address": truth["address"]})
        check_scenario(answer, truth, f.minor)
        assert answer["dump"] == (ws / "service.heapdump").resolve().as_uri(), name
        assert answer["markdown"].count("```") == 2
    leak = f.scenario("leak")
    owners = await command(client, "heapspurs.owners", {"address": leak["address"], "depth": 2})
    assert set(owners) >= {"address", "object", "offset", "depth", "owners", "markdown"}
    assert owners["depth"] == 2 and owners["owners"]
    assert all(("object" in e) != ("root" in e) for e in owners["owners"])
    assert max(next(iter(e.values()))["depth"] for e in owners["owners"]) <= 3
    all_owners = await command(
        client, "heapspurs.owners", {"address": leak["address"], "depth": -1}
    )
    assert any("root" in e for e in all_owners["owners"])
    assert "<- global main.gSessions (bss)" in all_owners["markdown"]
    mh = f.scenario("malloc_header")
    dump = await command(client, "heapspurs.hexdump", {"address": mh["address"]})
    assert len(bytes.fromhex(dump["bytes"])) == dump["object"]["size"]
    assert dump["pointers"] and all(set(p) == {"offset", "value"} for p in dump["pointers"])
    assert "00000000  " in dump["markdown"]
    uri = (ws / "service.heapdump").as_uri()
    reloaded = await command(client, "heapspurs.loadDump", {"uri": uri})
    assert reloaded["state"] == "ready" and reloaded["objects"] > 0 and reloaded["markdown"]
    # a dump no glob matches, loaded on request, stays across a rescan
    shutil.copy(f.dump, ws / "elsewhere.bin")
    extra = await command(client, "heapspurs.loadDump", {"uri": (ws / "elsewhere.bin").as_uri()})
    assert extra["state"] == "ready"
    client.workspace_did_change_configuration(
        T.DidChangeConfigurationParams(settings={"heapspurs": {"oidFiles": []}})
    )
    await asyncio.sleep(0.3)
    names = {Path(d["uri"]).name for d in await settled(client)}
    assert names == {"service.heapdump", "elsewhere.bin"}
    # unloaded: out of the list, its objects no longer answer, until it is loaded again
    left = await command(client, "heapspurs.unloadDump", {"uri": (ws / "elsewhere.bin").as_uri()})
    assert [Path(d["uri"]).name for d in left["dumps"]] == ["service.heapdump"]
    with pytest.raises(JsonRpcInvalidParams, match="not a loaded heap dump"):
        await command(client, "heapspurs.unloadDump", {"uri": (ws / "elsewhere.bin").as_uri()})
    again = await command(client, "heapspurs.loadDump", {"uri": (ws / "elsewhere.bin").as_uri()})
    assert again["state"] == "ready"


async def test_advertised_commands(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    result = await client.initialize_session(
        T.InitializeParams(capabilities=client_capabilities("visual-studio-code"),
                           root_uri=ws.as_uri())
    )  # fmt: skip
    provider = result.capabilities.execute_command_provider
    assert provider is not None
    assert {
        "heapspurs.anchors",
        "heapspurs.owners",
        "heapspurs.hexdump",
        "heapspurs.loadDump",
    } <= set(provider.commands)
    assert result.capabilities.hover_provider


async def test_bad_arguments_get_errors_not_a_dead_server(
    client: LanguageClient, tmp_path: Path, capfd: pytest.CaptureFixture[str]
):
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws, OIDS)
    bad: list[tuple[str, dict[str, Any], str]] = [
        ("heapspurs.anchors", {"address": "zz"}, "not an address"),
        ("heapspurs.anchors", {}, "missing 'address'"),
        ("heapspurs.owners", {"address": "0x1", "depth": 0}, "'depth'"),
        ("heapspurs.anchors", {"address": "0x10"}, "in no object"),
        ("heapspurs.hexdump", {"address": "0x10", "dump": "file:///nope.dump"}, "unknown dump"),
        ("heapspurs.loadDump", {"uri": (ws / "oid.txt").as_uri()}, "not a Go heap dump"),
        ("heapspurs.loadDump", {"uri": (ws / "gone.dump").as_uri()}, "no such file"),
    ]
    for name, args, message in bad:
        with pytest.raises(JsonRpcInvalidParams, match=message):
            await command(client, name, args)
    with pytest.raises(JsonRpcInvalidParams, match="prune"):
        await request(client, "heapspurs/graph", {"address": "0x10", "prune": "yes"})
    with pytest.raises(JsonRpcInvalidParams, match="missing 'address'"):
        await request(client, "heapspurs/graph", {})
    leak = fixture(LATEST).scenario("leak")
    assert (await command(client, "heapspurs.anchors", {"address": leak["address"]}))["anchors"]
    await asyncio.sleep(0.5)  # the server's stderr is forwarded to this process asynchronously
    # the answers say what was wrong; the server's log (an editor's output panel) stays clean
    assert "Traceback" not in capfd.readouterr().err


async def test_a_dump_written_over_while_loaded_gets_errors_not_a_dead_server(
    client: LanguageClient, tmp_path: Path, capfd: pytest.CaptureFixture[str]
):
    """A Go program writing a new dump to the same path truncates the old one first
    (``os.Create``); a request that must read the old file answers an error and the server
    stays up (it used to die of SIGBUS reading the memory-mapped dump)."""
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws, OIDS)
    address = fixture(LATEST).scenario("malloc_header")["address"]
    os.truncate(ws / "service.heapdump", 100)  # no file event: the server is not told
    with pytest.raises(JsonRpcInternalError, match="shorter than when it was opened"):
        await command(client, "heapspurs.hexdump", {"address": address})
    assert [d["state"] for d in (await request(client, "heapspurs/dumps", {}))["dumps"]] == [
        "ready"
    ]
    await asyncio.sleep(0.5)  # the server's stderr is forwarded asynchronously
    assert "Traceback" not in capfd.readouterr().err


async def test_address_in_several_dumps_names_them(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    shutil.copy(ws / "service.heapdump", ws / "copy.heapdump")
    await start(client, ws, OIDS)
    leak = fixture(LATEST).scenario("leak")
    uris = sorted((ws / name).resolve().as_uri() for name in ("service.heapdump", "copy.heapdump"))
    with pytest.raises(JsonRpcInvalidParams, match="several dumps") as raised:
        await command(client, "heapspurs.anchors", {"address": leak["address"]})
    assert sorted(plain(raised.value.data)["dumps"]) == uris  # a client can ask which one
    chosen = {"address": leak["address"], "dump": uris[0]}
    answer = await command(client, "heapspurs.anchors", chosen)
    assert answer["dump"] == uris[0] and answer["anchors"]


async def test_graph_and_dumps_requests(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws, OIDS)
    leak = fixture(LATEST).scenario("leak")
    uri = (ws / "service.heapdump").resolve().as_uri()
    graph = await request(client, "heapspurs/graph", {"address": leak["address"], "dump": uri})
    assert graph["svg"].lstrip().startswith("<?xml") and "<svg" in graph["svg"]
    assert f'id="obj_{leak["object"]}"' in graph["svg"]
    assert graph["dot"].startswith("digraph")
    assert graph["nodes"] >= 3 and graph["truncated"] is False
    small = await request(client, "heapspurs/graph", {"address": leak["address"], "maxNodes": 1})
    assert small["nodes"] == 1 and small["truncated"] is True
    pruned = await request(client, "heapspurs/graph", {"address": leak["address"], "prune": True})
    assert 1 <= pruned["nodes"] <= graph["nodes"]
    via_command = await command(client, "heapspurs.graph", {"address": leak["address"]})
    assert via_command["nodes"] == graph["nodes"]
    dumps = await request(client, "heapspurs/dumps", None)
    assert await request_without_params(client, "heapspurs/dumps") == dumps
    assert dumps == {
        "dumps": [
            {
                "uri": uri,
                "state": "ready",
                "progress": 1.0,
                "objects": loaded(LATEST).heap.n_objects,
                "program": (ws / "scenarios").resolve().as_uri(),
                "error": None,
                "warning": None,
                "go_version": loaded(LATEST).heap.params.go_version,
            }
        ]
    }


# --- OID documents ---------------------------------------------------------------------------
async def test_oid_document_diagnostics_and_live_edits(client: LanguageClient, tmp_path: Path):
    f = fixture(LATEST)
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws, OIDS)
    leak = f.scenario("leak")
    text = (ws / "oid.txt").read_text()
    uri = (ws / "oid.txt").resolve().as_uri()
    edited = text.replace(f"{leak['oid']} {leak['oid_name']}", f"{leak['oid']} main.LiveEdit")
    edited += "0xnothex main.Bad\njust-one-word\n" + f"{leak['oid']} main.Twice\n"
    open_doc(client, ws / "oid.txt", text)
    client.text_document_did_change(
        T.DidChangeTextDocumentParams(
            T.VersionedTextDocumentIdentifier(version=2, uri=uri),
            [T.TextDocumentContentChangeWholeDocument(edited)],
        )
    )
    for _ in range(100):
        if len(client.diagnostics.get(uri, [])) == 3:
            break
        await asyncio.sleep(0.05)
    diags = client.diagnostics[uri]
    n = len(edited.splitlines())
    assert [d.range.start.line for d in diags] == [n - 3, n - 2, n - 1]
    assert "not a 64-bit hex id" in diags[0].message
    assert "already named on line" in diags[2].message
    hovered = await hover_address(client, ws, leak["address"])
    assert hovered and "`main.LiveEdit`" in hovered
    # hovering an OID line counts the objects carrying it
    line = next(i for i, s in enumerate(edited.splitlines()) if s.startswith(leak["oid"]))
    counted = await hover(client, uri, line, 3)
    count = loaded(LATEST).names.count_with_oid(int(leak["oid"], 16))
    assert counted and f"`service.heapdump`: {count} object(s)" in counted
    # closing the document goes back to the file on disk
    client.text_document_did_close(T.DidCloseTextDocumentParams(T.TextDocumentIdentifier(uri)))
    for _ in range(100):
        if not client.diagnostics.get(uri):
            break
        await asyncio.sleep(0.05)
    assert not client.diagnostics[uri]
    hovered = await hover_address(client, ws, leak["address"])
    assert hovered and f"`{leak['oid_name']}`" in hovered


# --- failures and file changes -----------------------------------------------------------------
async def test_broken_dump_beside_a_good_one(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    data = fixture(LATEST).dump.read_bytes()
    (ws / "broken.heapdump").write_bytes(data[: len(data) // 2])
    dumps = {Path(d["uri"]).name: d for d in await start(client, ws, OIDS)}
    assert dumps["service.heapdump"]["state"] == "ready"
    broken = dumps["broken.heapdump"]
    assert broken["state"] == "error" and "byte offset" in broken["error"]
    assert any(
        m.type == T.MessageType.Error
        and "broken.heapdump" in m.message
        and "byte offset" in m.message
        for m in client.messages
    )
    leak = fixture(LATEST).scenario("leak")
    assert await hover_address(client, ws, leak["address"])
    answer = await command(client, "heapspurs.anchors", {"address": leak["address"]})
    check_scenario(answer, leak, fixture(LATEST).minor)
    with pytest.raises(JsonRpcInvalidParams, match="failed to load"):
        uri = (ws / "broken.heapdump").resolve().as_uri()
        await command(client, "heapspurs.anchors", {"address": leak["address"], "dump": uri})


async def test_watched_files_reload_and_unload(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws, OIDS)
    other = next(v for v in VERSIONS if v != LATEST)
    dump = ws / "service.heapdump"
    shutil.copy(fixture(other).dump, dump)
    changed = T.FileEvent(dump.as_uri(), T.FileChangeType.Changed)
    client.workspace_did_change_watched_files(T.DidChangeWatchedFilesParams([changed]))
    for _ in range(200):
        dumps = await settled(client)
        if dumps[0]["objects"] == loaded(other).heap.n_objects:
            break
        await asyncio.sleep(0.05)
    assert dumps[0]["objects"] == loaded(other).heap.n_objects
    assert dumps[0]["program"] is None  # the workspace binary wrote the other dump
    # a new dump appears
    shutil.copy(fixture(LATEST).dump, ws / "second.heapdump")
    created = T.FileEvent((ws / "second.heapdump").as_uri(), T.FileChangeType.Created)
    client.workspace_did_change_watched_files(T.DidChangeWatchedFilesParams([created]))
    assert len(await settled(client, count=2)) == 2
    dump.unlink()
    deleted = T.FileEvent(dump.as_uri(), T.FileChangeType.Deleted)
    client.workspace_did_change_watched_files(T.DidChangeWatchedFilesParams([deleted]))
    left = await settled(client, count=1)
    assert [Path(d["uri"]).name for d in left] == ["second.heapdump"]


async def test_configured_program_that_does_not_match(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    other = next(v for v in VERSIONS if v != LATEST)
    shutil.copy(fixture(other).binary, ws / "other-binary")
    dumps = await start(client, ws, {"program": "other-binary"})
    assert dumps[0]["state"] == "ready" and dumps[0]["program"] is None
    assert "does not match the dump" in dumps[0]["warning"]
    assert any(
        m.type == T.MessageType.Warning and "does not match" in m.message for m in client.messages
    )
    # the right binary, given as a setting, names the globals
    client.workspace_did_change_configuration(
        T.DidChangeConfigurationParams(settings={"heapspurs": {"program": "scenarios"}})
    )
    for _ in range(200):
        dumps = await settled(client)
        if dumps[0]["program"]:
            break
        await asyncio.sleep(0.05)
    assert dumps[0]["program"] == (ws / "scenarios").resolve().as_uri()
