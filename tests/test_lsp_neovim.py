"""A real editor: headless Neovim (its built-in LSP client) starts ``heapspurs-lsp`` over a
fixture workspace, hovers an address in a log file, runs a command and pages a view."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import fixture

NVIM = shutil.which("nvim")
pytestmark = pytest.mark.skipif(NVIM is None, reason="neovim is not installed")

SCRIPT = r"""
local ws, out, python = _G.HS_WS, _G.HS_OUT, _G.HS_PYTHON
local id = vim.lsp.start_client({
  name = "heapspurs",
  cmd = { python, "-m", "heapspurs.lsp" },
  root_dir = ws,
  workspace_folders = { { uri = vim.uri_from_fname(ws), name = "ws" } },
  init_options = { heapspurs = { oidFiles = { "oid.txt" } } },
})
vim.cmd("edit " .. ws .. "/service.log")
vim.lsp.buf_attach_client(0, id)
local client = vim.lsp.get_client_by_id(id)
local dumps
vim.wait(60000, function()
  local r = client.request_sync("heapspurs/dumps", vim.empty_dict(), 2000, 0)
  dumps = r and r.result and r.result.dumps
  return dumps ~= nil and #dumps > 0 and dumps[1].state ~= "loading"
end, 100)
local line = vim.api.nvim_buf_get_lines(0, 0, 1, false)[1]
local col = string.find(line, "0x", 1, true) + 2
local hover = client.request_sync("textDocument/hover", {
  textDocument = { uri = vim.uri_from_bufnr(0) },
  position = { line = 0, character = col },
}, 20000, 0)
local address = string.match(line, "0x%x+")
local anchors = client.request_sync("workspace/executeCommand", {
  command = "heapspurs.anchors", arguments = { { address = address } },
}, 20000, 0)
-- the heap explorer's views are plain requests: the Types view's first page
local types = client.request_sync("heapspurs/types", vim.empty_dict(), 60000, 0)
vim.fn.writefile({ vim.fn.json_encode({
  dumps = dumps,
  hover = hover and hover.result or vim.NIL,
  anchors = anchors and anchors.result or vim.NIL,
  types = types and types.result or vim.NIL,
}) }, out)
client.stop()
vim.wait(5000, function() return client.is_stopped() end, 100)
vim.cmd("qa!")
"""


def test_neovim_hover_command_and_view(tmp_path: Path) -> None:
    assert NVIM is not None
    f = fixture("go1.27")
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(f.dump, ws / "service.heapdump")
    shutil.copy(f.binary, ws / "scenarios")
    shutil.copy(f.oid, ws / "oid.txt")
    leak = f.scenario("leak")
    (ws / "service.log").write_text(f"level=warn msg=leak obj={leak['address']}\n")
    script = tmp_path / "hover.lua"
    script.write_text(SCRIPT)
    out = tmp_path / "out.json"
    setup = (
        f"lua _G.HS_WS={json.dumps(str(ws))}; _G.HS_OUT={json.dumps(str(out))}; "
        f"_G.HS_PYTHON={json.dumps(sys.executable)}"
    )
    subprocess.run(
        [NVIM, "--headless", "--clean", "-c", setup, "-c", f"luafile {script}"],
        check=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    result = json.loads(out.read_text())
    assert result["dumps"][0]["state"] == "ready"
    hover = result["hover"]["contents"]
    assert hover["kind"] == "markdown"
    assert f"**Object** `{leak['object']}`" in hover["value"]
    assert f"`{leak['oid_name']}`" in hover["value"]
    assert "main.gSessions" in hover["value"]
    anchors = result["anchors"]
    assert anchors["object"]["address"] == leak["object"]
    assert any(a["name"] == "main.gSessions" for a in anchors["anchors"])
    cli = subprocess.run(
        [sys.executable, "-m", "heapspurs.cli", str(f.dump), "--program", str(f.binary),
         "--histogram", "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = json.loads(cli.stdout)["types"]
    items = result["types"]["items"]
    assert all(item.pop("source", None) is None for item in items), "no Go file in this workspace"
    assert items == rows[:200], "the Types view's first page is the histogram's"
    assert result["types"]["more"] == (len(rows) > 200)
