"""A JSON-RPC client of ``heapspurs-lsp`` over its stdin/stdout, frames written by hand (so
that it can send what no well-behaved client would), the server's own requests
(configuration, registrations, progress) answered. Used by tests/test_lsp_hostile.py and
bench/views_bench.py (requests timed through the server)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any


class RawClient:
    """A JSON-RPC client over the server's stdin/stdout: frames are written by hand, and the
    server's own requests (configuration, registrations, progress) are answered."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "heapspurs.lsp"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.answers: dict[Any, queue.Queue[dict[str, Any]]] = {}
        self.ids = iter(range(1, 1 << 30))
        self.lock = threading.Lock()
        self.stderr: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()

    def send_raw(self, data: bytes) -> None:
        with self.lock:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def request(self, method: str, params: Any = None, *, omit: bool = False,
                timeout: float = 60) -> dict[str, Any]:  # fmt: skip
        """The whole answer (``result`` or ``error``); ``omit``: no ``params`` member."""
        msg_id = next(self.ids)
        box = self.answers.setdefault(msg_id, queue.Queue())
        self.send({"id": msg_id, "method": method, **({} if omit else {"params": params})})
        try:
            return box.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{method} was never answered") from None

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = 0
            while (line := out.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            message = json.loads(out.read(length))
            if "method" in message and "id" in message:
                self._answer_server(message)
            elif "id" in message:
                self.answers.setdefault(message["id"], queue.Queue()).put(message)

    def _answer_server(self, message: dict[str, Any]) -> None:
        if message["method"] == "workspace/configuration":
            result: Any = [self.settings for _ in message["params"]["items"]]
        else:
            result = None
        self.send({"id": message["id"], "result": result})

    def start(self, ws: Path) -> list[dict[str, Any]]:
        init = {"processId": os.getpid(), "rootUri": ws.as_uri(), "capabilities": {},
                "workspaceFolders": [{"uri": ws.as_uri(), "name": ws.name}],
                "initializationOptions": self.settings}  # fmt: skip
        assert "result" in self.request("initialize", init)
        self.notify("initialized", {})
        return self.settled()

    def settled(self) -> list[dict[str, Any]]:
        for _ in range(1200):
            dumps = self.request("heapspurs/dumps", {})["result"]["dumps"]
            if dumps and all(d["state"] != "loading" for d in dumps):
                return dumps
            time.sleep(0.05)
        raise AssertionError(f"dumps never settled: {dumps}")

    def open(self, path: Path, text: str) -> str:
        uri = path.as_uri()
        item = {"uri": uri, "languageId": "plaintext", "version": 1, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": item})
        return uri

    def hover(self, uri: str, line: int, character: int) -> dict[str, Any]:
        params = {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}
        return self.request("textDocument/hover", params)

    def close(self) -> int:
        """Shut down as an editor does; the exit status."""
        if self.proc.poll() is None:
            self.request("shutdown", None, timeout=30)
            self.notify("exit", None)
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
