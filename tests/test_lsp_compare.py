"""What grew, in the editor, over stdio with a real LSP client: heapspurs/compare (request
and command) on the growth fixture's dumps answers as the CLI's --histogram --baseline
--json, with the growth groups of --top N --baseline, and refuses bad arguments in one
line while the server lives on."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from test_compare import BINARY, DUMPS, GROWTH, TRUTH
from test_lsp import client, command, request, start

__all__ = ["client"]  # the fixture, shared with test_lsp
pytestmark = pytest.mark.asyncio


def growth_workspace(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in (*DUMPS, "growth"):
        shutil.copy(GROWTH / name, root / name)
    return root


async def compare(c: LanguageClient, ws: Path, dump: str, *baselines: str, **more) -> dict:
    """heapspurs/compare of dumps named by file name in ``ws``."""
    params = {"dump": (ws / dump).resolve().as_uri(),
              "baselineUris": [(ws / b).resolve().as_uri() for b in baselines], **more}  # fmt: skip
    return await request(c, "heapspurs/compare", params)


def cli_json(*argv: str) -> dict:
    run = subprocess.run([sys.executable, "-m", "heapspurs.cli", "--program", str(BINARY),
                          *argv, "--json"], capture_output=True, text=True, cwd=GROWTH,
                         check=True)  # fmt: skip
    return json.loads(run.stdout)


async def test_compare_request_answers_as_the_cli(client: LanguageClient, tmp_path: Path):
    ws = growth_workspace(tmp_path / "ws")
    await start(client, ws)
    uri = {name: (ws / name).resolve().as_uri() for name in DUMPS}
    answer = await compare(client, ws, DUMPS[1], DUMPS[0], top=3)
    cli = cli_json(DUMPS[1], "--histogram", "--baseline", DUMPS[0])
    assert answer["types"] == cli["types"]
    assert answer["same_process"] and answer["comparison"].startswith("same process as ")
    assert answer["dump"] == uri[DUMPS[1]] and answer["baselines"] == [uri[DUMPS[0]]]
    groups = cli_json(DUMPS[1], "--top", "3", "--baseline", DUMPS[0])["growth"]
    assert answer["growth"] == groups
    assert answer["growth"][0]["anchor"]["name"] == TRUTH["growth"]["anchor"]
    assert "**What grew since `heap1.dump`**" in answer["markdown"]
    assert "path: main.gAudit[0] → main.Blob" in answer["markdown"]


async def test_compare_command_gives_the_series(client: LanguageClient, tmp_path: Path):
    ws = growth_workspace(tmp_path / "ws")
    await start(client, ws)
    uri = {name: (ws / name).resolve().as_uri() for name in DUMPS}
    params = {"dump": uri[DUMPS[2]], "baselineUris": [uri[DUMPS[0]], uri[DUMPS[1]]]}
    answer = await command(client, "heapspurs.compare", params)
    series = answer["series"]
    assert series["dumps"] == [uri[name] for name in DUMPS]
    assert "main.Blob" in series["grew_every_interval"]
    assert "grew in every interval: " in answer["markdown"]


async def test_bad_comparisons_are_explained(client: LanguageClient, tmp_path: Path):
    ws = growth_workspace(tmp_path / "ws")
    await start(client, ws)
    uri = {name: (ws / name).resolve().as_uri() for name in DUMPS}
    with pytest.raises(JsonRpcInvalidParams, match="'baselineUris' must be a list"):
        await request(client, "heapspurs/compare", {"dump": uri[DUMPS[1]]})
    with pytest.raises(JsonRpcInvalidParams, match="not a loaded heap dump"):
        await compare(client, ws, DUMPS[1], "none.dump")
    with pytest.raises(JsonRpcInvalidParams, match="written after"):
        await compare(client, ws, DUMPS[0], DUMPS[1])
    with pytest.raises(JsonRpcInvalidParams, match="say which dump"):
        await request(client, "heapspurs/compare", {"baselineUris": [uri[DUMPS[0]]]})
    answer = await compare(client, ws, DUMPS[1], DUMPS[0], top=1)
    assert len(answer["growth"]) == 1  # the server lives on
