"""Go source in the editor, over stdio with a real LSP client, on the growth fixture (the
program's own main.go beside its dump and binary): a CodeLens above each declared type
says what the dump holds of it (as the CLI's histogram counts it), its command lists the
type's objects largest retained first (as --find and --top count them), a hover on the
type's name says the same; other files and other packages get nothing."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from lsprotocol import types as T
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from heapspurs.lsp.gosource_features import Live, declared_types, summary
from test_lsp import LENS_REFRESHES, client, command, hover, open_doc, request, start

__all__ = ["client"]  # the fixture, shared with test_lsp

GROWTH = Path(__file__).parent / "fixtures" / "growth" / "go1.27"
SOURCE = Path(__file__).parent / "fixtures" / "src" / "growth"


def growth_workspace(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(GROWTH / "heap2.dump", root / "service.heapdump")
    shutil.copy(GROWTH / "growth", root / "growth")
    for name in ("main.go", "go.mod"):
        shutil.copy(SOURCE / name, root / name)
    return root


def cli_json(*argv: str) -> dict:
    run = subprocess.run(
        [sys.executable, "-m", "heapspurs.cli", str(GROWTH / "heap2.dump"), "--program",
         str(GROWTH / "growth"), "--json", *argv],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(run.stdout)


def histogram_row(type_name: str) -> dict:
    return next(r for r in cli_json("--histogram")["types"] if r["type"] == type_name)


async def lenses(c: LanguageClient, uri: str) -> list[T.CodeLens]:
    return await c.text_document_code_lens_async(T.CodeLensParams(T.TextDocumentIdentifier(uri)))


def line_of(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.splitlines()) if line.startswith(start))


@pytest.mark.asyncio
async def test_code_lens_over_each_type_says_what_the_dump_holds(client: LanguageClient, tmp_path):
    ws = growth_workspace(tmp_path / "ws")
    await start(client, ws)
    text = (ws / "main.go").read_text()
    uri = open_doc(client, ws / "main.go", text, "go")
    got = {lens.range.start.line: lens for lens in await lenses(client, uri)}
    for name in ("Session", "Request", "Blob"):
        row = histogram_row(f"main.{name}")
        lens = got[line_of(text, f"type {name} struct")]
        assert lens.command is not None
        expected = summary(Live(row["count"], row["bytes"], row["retained"]))
        assert lens.command.title == expected
        assert lens.command.title.startswith(f"{row['count']:,} live")
        assert lens.command.command == "heapspurs.instances"
        dump = (ws / "service.heapdump").resolve().as_uri()
        assert list(lens.command.arguments or []) == [{"dump": dump, "type": f"main.{name}"}]


@pytest.mark.asyncio
async def test_code_lenses_are_asked_for_again_when_the_dumps_change(
    client: LanguageClient, tmp_path
) -> None:
    """CodeLenses say what the loaded dumps hold: when a dump loads or is unloaded, the
    server has the client ask again (a Go file opened while its dump loads would keep a
    lens-less view otherwise)."""
    refreshes = LENS_REFRESHES[id(client)]
    ws = growth_workspace(tmp_path / "ws")
    await start(client, ws)
    await until(lambda: refreshes, "a refresh once the dump is loaded")
    uri = open_doc(client, ws / "main.go", (ws / "main.go").read_text(), "go")
    assert await lenses(client, uri)
    loaded = len(refreshes)
    await command(client, "heapspurs.unloadDump", {"uri": (ws / "service.heapdump").as_uri()})
    await until(lambda: len(refreshes) > loaded, "a refresh once the dump is unloaded")
    assert not await lenses(client, uri)


async def until(done: Callable[[], object], what: str, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never came: {what}")


@pytest.mark.asyncio
async def test_instances_are_the_types_objects_largest_retained_first(
    client: LanguageClient, tmp_path
):
    ws = growth_workspace(tmp_path / "ws")
    await start(client, ws)
    answer = await command(client, "heapspurs.instances", {"type": "main.Session", "limit": 1000})
    found = cli_json("--find", r"^main\.Session$")["objects"]
    assert answer["count"] == len(found) == histogram_row("main.Session")["count"]
    assert {o["address"] for o in answer["objects"]} == {o["address"] for o in found}
    retained = [o["retained"] for o in answer["objects"]]
    assert retained == sorted(retained, reverse=True)
    first = answer["objects"][0]
    drill = cli_json("--top", "1", "--address", first["address"])
    assert drill["parent"]["retained"] == first["retained"]
    assert "**Instances of** main.Session" in answer["markdown"]
    few = await request(client, "heapspurs/instances", {"type": "main.Session", "limit": 3})
    assert [o["address"] for o in few["objects"]] == [o["address"] for o in answer["objects"][:3]]
    with pytest.raises(JsonRpcInvalidParams, match="'type' must be a Go type name"):
        await request(client, "heapspurs/instances", {"type": 5})


@pytest.mark.asyncio
async def test_hover_on_a_declared_type_and_nothing_elsewhere(client: LanguageClient, tmp_path):
    ws = growth_workspace(tmp_path / "ws")
    await start(client, ws)
    text = (ws / "main.go").read_text()
    uri = open_doc(client, ws / "main.go", text, "go")
    line = line_of(text, "type Blob struct")
    said = await hover(client, uri, line, len("type B"))
    row = histogram_row("main.Blob")
    assert said is not None and f"{row['count']:,} live" in said and "`main.Blob`" in said
    assert await hover(client, uri, line, 1) is None  # on "type", not the name
    other = ws / "lib" / "lib.go"
    other.parent.mkdir()
    other_text = "package lib\n\ntype Session struct{ ID int }\n"
    other_uri = open_doc(client, other, other_text, "go")
    assert not await lenses(client, other_uri), "heapspurs.test/growth/lib.Session is not in it"
    notes = open_doc(client, ws / "notes.txt", "type Session struct {}\n")
    assert not await lenses(client, notes)


def test_declarations_are_read_as_go_writes_them():
    lines = [
        "package main",
        "type Plain struct{}",
        "type Box[K comparable, V ~[]E, E any] struct{ k K }",
        "type Alias = Plain",
        "type (",
        "\tGrouped int",
        "\tOtherAlias = int",
        "\t// a comment",
        ")",
        "type (One struct{})",
        "func f() { type local int }",
    ]
    got = [(d.line, d.column, d.qualified) for d in declared_types(lines, "main")]
    assert got == [(1, 5, "main.Plain"), (2, 5, "main.Box"), (5, 1, "main.Grouped")]
