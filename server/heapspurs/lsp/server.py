"""``heapspurs-lsp``: the language server (pygls, stdio). Handlers are thin: they parse
arguments (protocol.py), find the dump (store.py) and run the core off the message loop."""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import logging
import os
import re
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import unquote

from lsprotocol import types as T
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import JsonRPCNotification, LanguageServerProtocol

from .. import __version__
from ..dumpfile.columns import LoadCancelled
from ..dumpfile.errors import DumpFormatError
from . import (
    answers,
    compare_features,
    export_features,
    goroutine_features,
    gosource_features,
    hover,
    retained_features,
    types_features,
    view_features,
)
from .protocol import (
    CMD_ANCHORS,
    CMD_GRAPH,
    CMD_HEXDUMP,
    CMD_LOAD_DUMP,
    CMD_OWNERS,
    CMD_UNLOAD_DUMP,
    NOTE_DUMPS_CHANGED,
    REQ_DIRECT_OWNERS,
    REQ_DUMPS,
    REQ_GRAPH,
    SECTION,
    SERVER_NAME,
    STATE_ERROR,
    STATE_LOADING,
    AddressArgs,
    ArgumentError,
    GraphArgs,
    LoadArgs,
    plain,
)
from .settings import Settings
from .store import (
    DumpEntry,
    Store,
    is_dump_file,
    path_to_uri,
    read_text,
    release_memory,
    uri_to_path,
)  # fmt: skip

log = logging.getLogger("heapspurs.lsp")
R = TypeVar("R")
MAX_MESSAGE_BYTES = 128 << 20  # a longer JSON-RPC message is dropped unread (BoundedInput)
IGNORED = "$/heapspurs/ignored"  # what a dropped or invalid message becomes
WATCH_ID = "heapspurs-watch"
DUMPS_NOTE_DELAY = 0.1  # s: changes closer together than this go out as one notification


class ExplainedInternalError(JsonRpcInternalError):
    """A failure the answer's message explains in full (the dump file went wrong under
    the server, say): logged as one line, not as a traceback."""


class QuietArgumentErrors(logging.Filter):
    """pygls logs a traceback for every error answer. An InvalidParams answer is a bad
    argument that the answer itself explains, so it stays out of the server's log (an
    editor's output panel), as do explained internal errors; unexpected errors are still
    logged in full."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if record.getMessage().startswith("Unable to deserialize message"):
            return False  # answered InvalidParams, logged in one line (structure_message)
        return not isinstance(error, JsonRpcInvalidParams | ExplainedInternalError)


class ParamsOptionalProtocol(LanguageServerProtocol):
    """JSON-RPC lets a request leave out ``params`` (VS Code does for ``heapspurs/dumps``);
    pygls's message classes require the field and would never answer, so it is read as
    null."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        if "method" in data and "params" not in data:
            data = {**data, "params": None}
        try:
            return super().structure_message(data)
        except (JsonRpcInvalidParams, JsonRpcInternalError):
            if "jsonrpc" not in data or "method" not in data:
                raise
        # A request or notification whose params do not fit its method (a textDocument
        # that is a number, a line of -1): pygls would log it and never answer.
        method = data["method"] if isinstance(data["method"], str) else repr(data["method"])
        log.warning("heapspurs: invalid params for %.80s", method)
        msg_id = data.get("id")
        if isinstance(msg_id, int | str) and not isinstance(msg_id, bool):
            error = JsonRpcInvalidParams(f"invalid params for {method[:80]}")
            self._send_response(msg_id, error=error.to_response_error())
        return JsonRPCNotification(method=IGNORED, params=None, jsonrpc="2.0")


class HeapspursServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            SERVER_NAME,
            __version__,
            text_document_sync_kind=T.TextDocumentSyncKind.Full,
            protocol_cls=ParamsOptionalProtocol,
        )
        self.store = Store()
        self.init_options: Any = None
        self.load_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="heapspurs-load")
        self.loads: dict[str, asyncio.Task[None]] = {}
        self._tokens = itertools.count(1)
        self._watch_lock = asyncio.Lock()
        self._watched: tuple[str, ...] | None = None  # the globs registered, if any
        self.wants_dumps_changed = False  # the client asked for heapspurs/dumpsChanged
        self.refreshes_code_lenses = False  # the client takes workspace/codeLens/refresh
        self._dumps_note: asyncio.TimerHandle | None = None
        self._diagnosed: set[str] = set()  # OID paths that have diagnostics published

    # --- settings and discovery --------------------------------------------------------------
    def folders(self) -> list[str]:
        out = []
        for folder in self.workspace.folders.values():
            try:
                out.append(uri_to_path(folder.uri))
            except ValueError:
                continue
        if not out and self.workspace.root_path:
            out.append(os.path.realpath(self.workspace.root_path))
        return out

    async def pull_settings(self, pushed: Any = None) -> Settings:
        """Settings: initializationOptions, overridden by ``pushed`` (didChangeConfiguration)
        or else by what workspace/configuration answers."""
        merged: dict[str, Any] = {}
        for value in (self.init_options, pushed):
            value = plain(value)
            if isinstance(value, dict):
                merged.update(value.get(SECTION, value) if isinstance(value.get(SECTION), dict)
                              else value)  # fmt: skip
        ws = self.client_capabilities.workspace
        if pushed is None and ws is not None and ws.configuration:
            try:
                got = await self.workspace_configuration_async(
                    T.ConfigurationParams(items=[T.ConfigurationItem(section=SECTION)])
                )
                if got and isinstance(plain(got[0]), dict):
                    merged.update(plain(got[0]))
            except Exception as err:  # the client could not answer: keep what we have
                log.warning("workspace/configuration failed: %s", err)
        settings = Settings.from_json(merged)
        for problem in settings.problems:
            self.message(T.MessageType.Warning, f"heapspurs: {problem}")
        return settings

    def discover(self, init_options: Any) -> None:
        """The dumps the initialization options' globs find, known (state ``loading``, 0%)
        before the first request is answered; ``initialized`` starts reading them once the
        client's configuration is in."""
        self.store.settings = Settings.from_json(plain(init_options))
        self.store.folders = self.folders()
        try:
            for path in self.store.find_dumps():
                self.store.add(path)
        except OSError as err:
            log.warning("scanning the workspace: %s", err)

    async def apply_settings(self, settings: Settings) -> None:
        old = self.store.settings
        self.store.settings = settings
        self.store.folders = self.folders()
        reload_all = settings.program != old.program
        await self.refresh_oids()
        self.rescan(reload_all)
        await self.register_watchers()

    def rescan(self, reload_all: bool = False) -> None:
        found = self.store.find_dumps()
        for path in list(self.store.entries):
            if path not in found and path not in self.store.pinned:
                self.unload(path)
        for path in found:
            # an entry found at initialize has no load yet
            if reload_all or path not in self.loads:
                self.start_load(path)

    async def refresh_oids(self) -> None:
        await asyncio.to_thread(self.store.read_oid_tables)
        self.publish_oid_diagnostics()
        await asyncio.to_thread(self.store.apply_oids)

    async def register_watchers(self) -> None:
        """One registration (id ``heapspurs-watch``) for the current globs. ``initialized``
        and ``didChangeConfiguration`` both get here, at the same time on a start: the lock
        makes the second wait and find the globs registered; changed globs are unregistered
        before they are registered anew (a client told twice delivers every event twice)."""
        ws = self.client_capabilities.workspace
        dyn = ws.did_change_watched_files if ws else None
        if not (dyn and dyn.dynamic_registration):
            return
        globs = tuple(
            g if g.startswith("**/") or os.path.isabs(g) else f"**/{g}"
            for g in (*self.store.settings.dumps, *self.store.settings.oid_files)
        )
        async with self._watch_lock:
            if globs == self._watched:
                return
            try:
                if self._watched is not None:
                    self._watched = None
                    await self.client_unregister_capability_async(
                        T.UnregistrationParams(
                            unregisterations=[
                                T.Unregistration(WATCH_ID, T.WORKSPACE_DID_CHANGE_WATCHED_FILES)
                            ]
                        )
                    )
                options = T.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[T.FileSystemWatcher(glob_pattern=g) for g in globs]
                )
                await self.client_register_capability_async(
                    T.RegistrationParams(
                        registrations=[
                            T.Registration(WATCH_ID, T.WORKSPACE_DID_CHANGE_WATCHED_FILES, options)
                        ]
                    )
                )
                self._watched = globs
            except Exception as err:
                log.warning("cannot register file watchers: %s", err)

    # --- the dumps answer, pushed ------------------------------------------------------------
    def dumps_answer(self) -> dict[str, Any]:
        return {"dumps": [e.info() for e in self.store.dumps()]}

    def notify_dumps(self) -> None:
        """Tell the client (when it asked) that a dump was added, removed, or moved on, and
        have it ask again for the CodeLenses of its Go files (they say what the loaded dumps
        hold: one asked for while a dump loads has nothing to say yet); runs on the message
        loop. Changes within DUMPS_NOTE_DELAY go out as one notification."""
        wanted = self.wants_dumps_changed or self.refreshes_code_lenses
        if not wanted or self._dumps_note is not None:
            return
        self._dumps_note = asyncio.get_running_loop().call_later(DUMPS_NOTE_DELAY, self._send_dumps)

    def _send_dumps(self) -> None:
        self._dumps_note = None
        if self.wants_dumps_changed:
            self.protocol.notify(NOTE_DUMPS_CHANGED, self.dumps_answer())
        if self.refreshes_code_lenses:  # (what the client answers changes nothing here)
            self.workspace_code_lens_refresh(None).add_done_callback(_answer_ignored)

    # --- loading ---------------------------------------------------------------------------
    def start_load(self, path: str) -> asyncio.Task[None]:
        entry = self.store.add(path)
        task = asyncio.get_running_loop().create_task(self._load(entry))
        self.loads[path] = task
        self.notify_dumps()
        return task

    def unload(self, path: str) -> None:
        self.store.pinned.discard(path)
        entry = self.store.remove(path)
        task = self.loads.pop(path, None)
        if task is not None and not task.done():
            task.cancel()
        if entry is not None:
            self.log(f"unloaded {entry.name}")
            self.notify_dumps()
            # off the loop: a collection over a big heap's objects takes a moment
            asyncio.get_running_loop().run_in_executor(self.load_pool, release_memory)

    def _supports_progress(self) -> bool:
        w = self.client_capabilities.window
        return bool(w and w.work_done_progress)

    async def _load(self, entry: DumpEntry) -> None:
        loop = asyncio.get_running_loop()
        token: str | None = None
        if self._supports_progress():
            token = f"heapspurs/load/{next(self._tokens)}"
            try:
                await self.work_done_progress.create_async(token)
                self.work_done_progress.begin(
                    token,
                    T.WorkDoneProgressBegin(
                        title="heapspurs", message=f"loading {entry.name}", percentage=0,
                        cancellable=True,
                    ),
                )  # fmt: skip
            except Exception as err:
                log.warning("no progress for %s: %s", entry.name, err)
                token = None
        last = [-1]

        def report(percentage: int) -> None:
            self.notify_dumps()
            if token is not None:
                msg = f"loading {entry.name}"
                self.work_done_progress.report(
                    token, T.WorkDoneProgressReport(message=msg, percentage=percentage)
                )

        def progress(fraction: float) -> None:
            pct = max(0, min(100, int(fraction * 100)))
            if pct != last[0]:
                last[0] = pct
                loop.call_soon_threadsafe(report, pct)

        def cancelled() -> bool:
            fut = self.work_done_progress.tokens.get(token) if token else None
            return fut is not None and fut.cancelled()

        try:
            await loop.run_in_executor(self.load_pool, self.store.load, entry, progress, cancelled)
        except LoadCancelled:
            entry.state, entry.error = STATE_ERROR, "loading cancelled"
        except asyncio.CancelledError:
            entry.cancel.set()
            entry.state, entry.error = STATE_ERROR, "loading cancelled"
        except Exception as err:  # a bug in the core must not take the server down
            log.exception("loading %s", entry.path)
            entry.state, entry.error = STATE_ERROR, f"internal error: {err!r}"
        finally:
            if token is not None:
                self.work_done_progress.end(
                    token, T.WorkDoneProgressEnd(message=f"{entry.name}: {entry.state}")
                )
                self.work_done_progress.tokens.pop(token, None)
        if not self.store.is_current(entry):
            entry.drop()
            return
        self.notify_dumps()
        if entry.state == STATE_ERROR:
            self.message(T.MessageType.Error, f"heapspurs: cannot load {entry.name}: {entry.error}")
        else:
            if entry.warning:
                self.message(T.MessageType.Warning, f"heapspurs: {entry.name}: {entry.warning}")
            n = entry.loaded.heap.n_objects if entry.loaded else 0
            program = f", names from {os.path.basename(entry.program)}" if entry.program else ""
            self.log(f"loaded {entry.name}: {n} objects{program}")

    # --- messages ----------------------------------------------------------------------------
    def message(self, kind: T.MessageType, text: str) -> None:
        self.window_show_message(T.ShowMessageParams(type=kind, message=text))

    def log(self, text: str) -> None:
        self.window_log_message(T.LogMessageParams(type=T.MessageType.Info, message=text))

    def publish_oid_diagnostics(self) -> None:
        published = set()
        for path, table in self.store.oid_tables.items():
            text = self.store.oid_docs.get(path)
            if text is None:
                text = read_text(path) or ""
            lines = text.split("\n")  # as the parser splits them (a name may hold \v, \f...)
            diags = []
            for p in table.problems:
                line = lines[p.line - 1] if 0 < p.line <= len(lines) else ""
                end = p.end_column if p.end_column > p.column else len(line)
                diags.append(
                    T.Diagnostic(
                        range=T.Range(
                            T.Position(p.line - 1, p.column), T.Position(p.line - 1, end)
                        ),
                        message=p.what,
                        severity=T.DiagnosticSeverity.Error,
                        source="heapspurs",
                    )
                )
            published.add(path)
            self.text_document_publish_diagnostics(
                T.PublishDiagnosticsParams(uri=path_to_uri(path), diagnostics=diags)
            )
        for path in self._diagnosed - published:
            self.text_document_publish_diagnostics(
                T.PublishDiagnosticsParams(uri=path_to_uri(path), diagnostics=[])
            )
        self._diagnosed = published

    # --- finding the object ------------------------------------------------------------------
    def target(self, address: int, dump: str | None) -> tuple[DumpEntry, int]:
        """The dump and object an address argument names (ArgumentError says why not)."""
        if dump is not None:
            entry = self.store.entry(dump)
            if entry is None:
                known = ", ".join(e.uri for e in self.store.dumps()) or "none"
                raise ArgumentError(f"unknown dump {dump!r} (known dumps: {known})")
            entries = [entry]
        else:
            entries = self.store.dumps()
            if not entries:
                raise ArgumentError("no heap dump is loaded in this workspace")
        hits: list[tuple[DumpEntry, int]] = []
        why: list[str] = []
        places: list[dict[str, str]] = []  # what the address is where it is no object
        unknown: list[str] = []  # loaded dumps that know nothing of the address
        for entry in entries:
            if entry.state == STATE_LOADING:
                why.append(f"{entry.name} is still loading ({entry.progress:.0%})")
                continue
            if entry.state == STATE_ERROR or entry.loaded is None:
                why.append(f"{entry.name} failed to load: {entry.error}")
                continue
            with entry.lock:
                if entry.loaded is None:
                    continue
                obj = entry.loaded.heap.find(address)
                if obj >= 0:
                    hits.append((entry, obj))
                    continue
                what = hover.describe_address(entry, address)
                if what:
                    places.append({"dump": entry.uri, "name": entry.name, "what": plain_text(what)})
                else:
                    unknown.append(entry.name)
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            uris = [e.uri for e, _ in hits]
            raise ArgumentError(
                f"{address:#x} is an object in several dumps; pass 'dump' ({', '.join(uris)})",
                data={"dumps": uris},
            )
        if places:
            # informative, not a failure: the data lets a client show it as the answer
            what = "; ".join(
                p["what"] if len(entries) == 1 else f"{p['name']}: {p['what']}" for p in places
            )
            raise ArgumentError(
                f"{address:#x} is not a heap object: {what}",
                data={"address": f"{address:#x}", "places": places},
            )
        if unknown:
            why.insert(0, f"not in {', '.join(unknown)}")
        raise ArgumentError(f"{address:#x} is in no object: " + "; ".join(why))

    async def analyse(self, entry: DumpEntry, fn: Callable[..., R], *args: Any) -> R:
        def run() -> R:
            with entry.lock:
                if entry.loaded is None:
                    raise ArgumentError(f"{entry.name} was unloaded")
                return fn(entry, *args)

        return await asyncio.to_thread(run)


def plain_text(markdown: str) -> str:
    """A one-line markdown answer (a hover's) as text: no emphasis, no code marks."""
    return re.sub(r"\*\*|`", "", markdown)


def refreshes_code_lenses(capabilities: T.ClientCapabilities) -> bool:
    """The client's ``workspace.codeLens.refreshSupport``."""
    lenses = capabilities.workspace.code_lens if capabilities.workspace else None
    return bool(lenses and lenses.refresh_support)


def _answer_ignored(answer: Future[Any]) -> None:
    """(Retrieves what a request whose answer does not matter raised: not logged as lost.)"""
    if not answer.cancelled():
        answer.exception()


def wants_dumps_changed(capabilities: T.ClientCapabilities) -> bool:
    """The client's ``experimental.heapspurs.dumpsChanged``."""
    ours = plain(capabilities.experimental) if capabilities.experimental else None
    ours = ours.get("heapspurs") if isinstance(ours, dict) else None
    return isinstance(ours, dict) and ours.get("dumpsChanged") is True


F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def answers_errors(fn: F) -> F:
    """Bad arguments become InvalidParams, anything else InternalError with its message."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except ArgumentError as err:
            raise JsonRpcInvalidParams(str(err), data=err.data) from None
        except (JsonRpcInvalidParams, JsonRpcInternalError):
            raise
        except DumpFormatError as err:  # e.g. the dump was written over since it was loaded
            log.warning("request failed: %s", err)
            raise ExplainedInternalError(f"heapspurs: {err}") from None
        except Exception as err:
            log.exception("request failed")
            raise JsonRpcInternalError(f"heapspurs: {type(err).__name__}: {err}") from None

    return wrapper  # type: ignore[return-value]


def create_server() -> HeapspursServer:
    server = HeapspursServer()

    @server.feature(T.INITIALIZE)
    def initialize(ls: HeapspursServer, params: T.InitializeParams) -> None:
        ls.init_options = params.initialization_options
        ls.wants_dumps_changed = wants_dumps_changed(params.capabilities)
        ls.refreshes_code_lenses = refreshes_code_lenses(params.capabilities)
        ls.discover(params.initialization_options)

    @server.feature(T.INITIALIZED)
    async def initialized(ls: HeapspursServer, params: T.InitializedParams) -> None:
        await ls.apply_settings(await ls.pull_settings())

    @server.feature(T.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: HeapspursServer, params: T.DidChangeConfigurationParams
    ) -> None:
        pushed = plain(params.settings)
        section = pushed.get(SECTION) if isinstance(pushed, dict) else None
        await ls.apply_settings(await ls.pull_settings(section if section else None))

    @server.feature(T.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_folders(
        ls: HeapspursServer, params: T.DidChangeWorkspaceFoldersParams
    ) -> None:
        ls.store.folders = ls.folders()
        await ls.refresh_oids()
        ls.rescan()

    @server.feature(T.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched(
        ls: HeapspursServer, params: T.DidChangeWatchedFilesParams
    ) -> None:
        oids_changed = False
        for change in params.changes:
            try:
                path = uri_to_path(change.uri)
            except ValueError:
                continue
            if change.type == T.FileChangeType.Deleted:
                if path in ls.store.entries:
                    ls.unload(path)
            elif ls.store.is_dump_path(path) or path in ls.store.entries:
                if is_dump_file(path):
                    ls.start_load(path)
                elif path in ls.store.entries:
                    ls.unload(path)
            if ls.store.is_oid_path(path) and path not in ls.store.oid_docs:
                oids_changed = True
        if oids_changed:
            await ls.refresh_oids()

    # --- OID documents -----------------------------------------------------------------------
    async def oid_text_changed(ls: HeapspursServer, uri: str, closed: bool = False) -> None:
        try:
            path = uri_to_path(uri)
        except ValueError:
            return
        if not ls.store.is_oid_path(path):
            return
        text = None if closed else ls.workspace.get_text_document(uri).source
        ls.store.set_oid_text(path, text)
        ls.publish_oid_diagnostics()
        await asyncio.to_thread(ls.store.apply_oids)

    @server.feature(T.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: HeapspursServer, params: T.DidOpenTextDocumentParams) -> None:
        await oid_text_changed(ls, params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: HeapspursServer, params: T.DidChangeTextDocumentParams) -> None:
        await oid_text_changed(ls, params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: HeapspursServer, params: T.DidCloseTextDocumentParams) -> None:
        await oid_text_changed(ls, params.text_document.uri, closed=True)

    @server.feature(IGNORED)
    def ignored(ls: HeapspursServer, params: Any) -> None:
        """What a message with invalid params became once answered (see structure_message)."""

    # --- hover -------------------------------------------------------------------------------
    @server.feature(T.TEXT_DOCUMENT_HOVER)
    @answers_errors
    async def on_hover(ls: HeapspursServer, params: T.HoverParams) -> T.Hover | None:
        # only documents the client opened: never read one from disk (pygls keeps them
        # under the unquoted URI: a path with a space arrives as %20)
        if unquote(params.text_document.uri) not in ls.workspace.text_documents:
            return None
        doc = ls.workspace.get_text_document(params.text_document.uri)
        lines = doc.lines
        n = params.position.line
        line = lines[n].rstrip("\r\n") if 0 <= n < len(lines) else ""
        entries = ls.store.dumps()
        markdown = None
        try:
            path: str | None = uri_to_path(params.text_document.uri)
        except ValueError:
            path = None
        if path and ls.store.is_oid_path(path):
            markdown = await asyncio.to_thread(hover.oid_hover, entries, line)
        # the client counts UTF-16 units; the line is a str of code points
        column = doc.position_codec.position_from_client_units(lines, params.position).character
        goid = goroutine_features.goroutine_at(line, column) if markdown is None else None
        if goid is not None:
            markdown = await asyncio.to_thread(
                goroutine_features.hover_markdown, ls.store.ready(), goid, ls.folders()
            )
        if markdown is None and path and path.endswith(".go"):
            declared = gosource_features.declarations_of(path, lines)
            markdown = await asyncio.to_thread(
                gosource_features.type_hover, ls.store.ready(), declared, n, column
            )
        if markdown is None:
            address = hover.address_at(line, column)
            if address is None:
                return None
            markdown = await asyncio.to_thread(hover.hover_markdown, entries, address)
        if markdown is None:
            return None
        return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=markdown))

    @server.feature(T.TEXT_DOCUMENT_CODE_LENS)
    @answers_errors
    async def on_code_lens(ls: HeapspursServer, params: T.CodeLensParams) -> list[T.CodeLens]:
        """Above each type a Go file declares: what the loaded dumps hold of it."""
        uri = params.text_document.uri
        if not uri.endswith(".go") or unquote(uri) not in ls.workspace.text_documents:
            return []
        try:
            path = uri_to_path(uri)
        except ValueError:
            return []
        lines = ls.workspace.get_text_document(uri).lines
        declared = gosource_features.declarations_of(path, lines)
        if not declared:
            return []
        return await asyncio.to_thread(gosource_features.code_lenses, ls.store.ready(), declared)

    # --- commands ----------------------------------------------------------------------------
    @server.command(CMD_ANCHORS)
    @answers_errors
    async def cmd_anchors(ls: HeapspursServer, *args: Any) -> dict[str, Any]:
        a = AddressArgs.parse(list(args), CMD_ANCHORS)
        entry, obj = ls.target(a.address, a.dump)
        return await ls.analyse(entry, answers.anchors_answer, a.address, obj)

    @server.command(CMD_OWNERS)
    @answers_errors
    async def cmd_owners(ls: HeapspursServer, *args: Any) -> dict[str, Any]:
        a = AddressArgs.parse(list(args), CMD_OWNERS)
        entry, obj = ls.target(a.address, a.dump)
        return await ls.analyse(entry, answers.owners_answer, a.address, obj, a.depth)

    @server.command(CMD_HEXDUMP)
    @answers_errors
    async def cmd_hexdump(ls: HeapspursServer, *args: Any) -> dict[str, Any]:
        a = AddressArgs.parse(list(args), CMD_HEXDUMP)
        entry, obj = ls.target(a.address, a.dump)
        return await ls.analyse(entry, answers.hexdump_answer, a.address, obj)

    @server.feature(REQ_DIRECT_OWNERS)
    @answers_errors
    async def req_direct_owners(ls: HeapspursServer, params: Any) -> dict[str, Any]:
        a = AddressArgs.parse(params, REQ_DIRECT_OWNERS)
        entry, obj = ls.target(a.address, a.dump)
        return await ls.analyse(entry, answers.direct_owners_answer, a.address, obj)

    async def graph(ls: HeapspursServer, params: Any) -> dict[str, Any]:
        a = GraphArgs.parse(params)
        entry, obj = ls.target(a.address, a.dump)
        max_nodes = a.max_nodes or ls.store.settings.graph_max_nodes
        return await ls.analyse(entry, answers.graph_answer, a.address, obj, max_nodes, a.prune)

    @server.command(CMD_GRAPH)
    @answers_errors
    async def cmd_graph(ls: HeapspursServer, *args: Any) -> dict[str, Any]:
        return await graph(ls, list(args))

    @server.feature(REQ_GRAPH)
    @answers_errors
    async def req_graph(ls: HeapspursServer, params: Any) -> dict[str, Any]:
        return await graph(ls, params)

    @server.command(CMD_LOAD_DUMP)
    @answers_errors
    async def cmd_load_dump(ls: HeapspursServer, *args: Any) -> dict[str, Any]:
        a = LoadArgs.parse(list(args))
        try:
            path = uri_to_path(a.uri)
        except ValueError as err:
            raise ArgumentError(str(err)) from None
        if not os.path.isfile(path):
            raise ArgumentError(f"{a.uri}: no such file")
        if not is_dump_file(path):
            raise ArgumentError(f"{a.uri}: not a Go heap dump (no 'go1.7 heap dump' header)")
        ls.store.pinned.add(path)
        await ls.start_load(path)
        entry = ls.store.entries[path]
        info = entry.info()
        info["markdown"] = (
            f"heapspurs: {hover.inline_code(entry.name)}: {entry.state}"
            + (f", {info['objects']} objects" if entry.state != STATE_ERROR else "")
            + (f" — {hover.inline_code(entry.error)}" if entry.error else "")
        )
        return info

    @server.command(CMD_UNLOAD_DUMP)
    @answers_errors
    async def cmd_unload_dump(ls: HeapspursServer, *args: Any) -> dict[str, Any]:
        a = LoadArgs.parse(list(args), CMD_UNLOAD_DUMP)
        entry = ls.store.entry(a.uri)
        if entry is None:
            raise ArgumentError(f"{a.uri} is not a loaded heap dump")
        ls.unload(entry.path)
        return ls.dumps_answer()

    @server.feature(REQ_DUMPS)
    @answers_errors
    async def req_dumps(ls: HeapspursServer, params: Any = None) -> dict[str, Any]:
        return ls.dumps_answer()

    types_features.register(server, answers_errors)
    retained_features.register(server, answers_errors)
    goroutine_features.register(server, answers_errors)
    compare_features.register(server, answers_errors)
    gosource_features.register(server, answers_errors)
    view_features.register(server, answers_errors)
    export_features.register(server, answers_errors)
    return server


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--version" in argv:
        print(f"{SERVER_NAME} {__version__}")
        return 0
    logging.basicConfig(level=logging.INFO if "-v" in argv else logging.WARNING,
                        stream=sys.stderr)  # fmt: skip
    logging.getLogger("pygls.protocol.json_rpc").addFilter(QuietArgumentErrors())
    create_server().start_io(stdin=BoundedInput(sys.stdin.buffer))  # type: ignore[arg-type]
    return 0


class BoundedInput:
    """Standard input for pygls's reader, bounded: pygls allocates a message's body as its
    ``Content-Length`` header says, so a length of 10^12 would end the server with a
    MemoryError. A longer message is read through and dropped (one line in the log), and
    reaches pygls as a notification it ignores; a header line is cut at 64 KB."""

    def __init__(self, stream: Any, limit: int = MAX_MESSAGE_BYTES) -> None:
        self.stream, self.limit = stream, limit

    def readline(self) -> bytes:
        return bytes(self.stream.readline(1 << 16))

    def read(self, n: int) -> bytes:
        if n <= self.limit:
            return bytes(self.stream.read(n))
        log.warning("heapspurs: dropped a message of %d bytes (the limit is %d)", n, self.limit)
        left = n
        while left > 0:
            chunk = self.stream.read(min(left, 1 << 20))
            if not chunk:
                return b""  # the client went away: pygls stops
            left -= len(chunk)
        return json.dumps({"jsonrpc": "2.0", "method": IGNORED}).encode()
