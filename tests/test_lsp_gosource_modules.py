"""Go source outside the main package, over stdio with a real LSP client, on a program built
here (tests/fixtures/src/vendored): the types of a vendored module (vendor/example.com/cache)
and of a package below the module's root (internal/store) get their CodeLens and their
declaration, named as Go names them in the dump; in a go.work workspace, each module's
files are named after their own go.mod."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from pytest_lsp import LanguageClient

from heapspurs.lsp.gosource_features import qualifier_of
from test_lsp import client, open_doc, start
from test_lsp_gosource import lenses, line_of
from test_lsp_views import all_pages

from make_fixtures import ensure_go, go_env

__all__ = ["client"]  # the fixture, shared with test_lsp

VENDORED = Path(__file__).parent / "fixtures" / "src" / "vendored"
CACHE_ITEM = "example.com/cache.Item"
STORE_ROW = "example.com/svc/internal/store.Row"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The program's module (with its vendor folder), its binary and the dump it wrote."""
    ws = tmp_path_factory.mktemp("vendored") / "ws"
    shutil.copytree(VENDORED, ws)
    build = go_env() | {"GOFLAGS": "-mod=vendor"}
    go = str(ensure_go("1.27.3"))
    subprocess.run([go, "build", "-trimpath", "-o", str(ws / "vendored"), "."], cwd=ws, env=build,
                   check=True, capture_output=True)  # fmt: skip
    subprocess.run([str(ws / "vendored"), "-dump", str(ws / "service.heapdump"), "-truth",
                    str(ws / "truth.json")], env=go_env(), check=True, timeout=120)  # fmt: skip
    return ws


def live_count(title: str) -> int:
    return int(title.split(" live")[0].replace(",", ""))


@pytest.mark.asyncio
async def test_vendored_and_inner_package_types_get_their_code_lens(
    client: LanguageClient, workspace: Path
):
    held = json.loads((workspace / "truth.json").read_text())["types"]
    await start(client, workspace)
    for path, name, qualified in [
        (workspace / "vendor" / "example.com" / "cache" / "cache.go", "Item", CACHE_ITEM),
        (workspace / "internal" / "store" / "store.go", "Row", STORE_ROW),
    ]:
        text = path.read_text()
        uri = open_doc(client, path, text, "go")
        got = {lens.range.start.line: lens for lens in await lenses(client, uri)}
        lens = got.get(line_of(text, f"type {name} struct"))
        assert lens is not None and lens.command is not None, f"no CodeLens over {qualified}"
        assert live_count(lens.command.title) == held[qualified], lens.command.title
        assert [a["type"] for a in lens.command.arguments or []] == [qualified]


@pytest.mark.asyncio
async def test_types_view_finds_declarations_in_vendor_and_inner_packages(
    client: LanguageClient, workspace: Path
):
    await start(client, workspace)
    rows = await all_pages(client, "heapspurs/types", {})
    sources = {row["type"]: row["source"] for row in rows}
    for relative, qualified in [
        ("vendor/example.com/cache/cache.go", CACHE_ITEM),
        ("internal/store/store.go", STORE_ROW),
    ]:
        path = workspace / relative
        line = line_of(path.read_text(), f"type {qualified.rsplit('.', 1)[1]} struct") + 1
        assert sources[qualified] == f"{path.resolve().as_uri()}#L{line}"


def test_each_module_of_a_go_work_names_its_own_files(tmp_path: Path):
    (tmp_path / "go.work").write_text("go 1.22\n\nuse (\n\t./api\n\t./worker\n)\n")
    files = {
        "api/go.mod": "module example.com/api\n\ngo 1.22\n",
        "api/handlers/h.go": "package handlers\n",
        "worker/go.mod": '// the worker\nmodule "example.com/worker" // quoted\n',
        "worker/w.go": "package worker\n",
        "worker/vendor/github.com/a/b/b.go": "package b\n",
        "worker/cmd/run/main.go": "package main\n",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)

    def qualifier(relative: str) -> str | None:
        path = tmp_path / relative
        return qualifier_of(str(path), path.read_text().splitlines())

    assert qualifier("api/handlers/h.go") == "example.com/api/handlers"
    assert qualifier("worker/w.go") == "example.com/worker"
    assert qualifier("worker/vendor/github.com/a/b/b.go") == "github.com/a/b"
    assert qualifier("worker/cmd/run/main.go") == "main"
