// A status-bar item with the dumps and their load progress; clicking it lists them.

import * as vscode from "vscode";
import { ServerState, anyLoading, dumpRow, statusText } from "./dumpStatus";
import { CLIENT_COMMANDS, DumpInfo, DumpsAnswer } from "./protocol";

const POLL_WHILE_LOADING_MS = 500;
const POLL_IDLE_MS = 5000;

export class DumpStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("heapspurs.dumps", vscode.StatusBarAlignment.Left, 10);
  private dumps: DumpInfo[] | undefined;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(private readonly server: { dumps(): Promise<DumpsAnswer | undefined>; readonly state: ServerState }) {
    this.item.name = "heapspurs dumps";
    this.render();
    this.item.show();
    void this.refresh();
  }

  /** Asks the server now (after a command that loads a dump, say) and keeps polling. */
  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    try {
      this.dumps = (await this.server.dumps())?.dumps;
    } catch {
      this.dumps = undefined; // the server is restarting: ask again soon
    }
    this.render();
    if (!this.disposed) {
      const busy = anyLoading(this.dumps) && this.server.state !== "stopped";
      this.timer = setTimeout(() => void this.refresh(), busy ? POLL_WHILE_LOADING_MS : POLL_IDLE_MS);
    }
  }

  async pick(): Promise<void> {
    await this.refresh();
    const dumps = this.dumps ?? [];
    const items = dumps.map((dump) => ({ ...dumpRow(dump), dump }));
    const picked = await vscode.window.showQuickPick(items, {
      title: "heapspurs: heap dumps of this workspace",
      placeHolder: dumps.length ? "Pick a dump to open its folder in the explorer" : "No heap dump found: Load Heap Dump…",
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (picked) {
      await vscode.commands.executeCommand("revealInExplorer", vscode.Uri.parse(picked.dump.uri));
    }
  }

  private render(): void {
    const state = this.server.state;
    this.item.text = statusText(this.dumps, state);
    this.item.command = state === "stopped" ? CLIENT_COMMANDS.restart : CLIENT_COMMANDS.listDumps;
    const rows = (this.dumps ?? []).map(dumpRow).map((row) => `${row.label}: ${row.description}`);
    const idle = state === "stopped" ? "heapspurs: the language server is not running: click to restart it" : "heapspurs: no heap dump loaded";
    this.item.tooltip = rows.length ? rows.join("\n") : idle;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.item.dispose();
  }
}
