// A status-bar item with the dumps and their load progress, as the server pushes them
// (heapspurs/dumpsChanged; asked once when a server starts). Clicking it opens a quick
// pick: the dumps with their state, and the extension's actions.

import * as vscode from "vscode";
import { ServerState, dumpRow, statusText } from "./dumpStatus";
import { CLIENT_COMMANDS, DumpInfo, DumpsAnswer } from "./protocol";

export interface DumpSource {
  dumps(): Promise<DumpsAnswer | undefined>;
  readonly state: ServerState;
  readonly onDidChangeState: vscode.Event<ServerState>;
  readonly onDidChangeDumps: vscode.Event<DumpsAnswer>;
  readonly onDidStart: vscode.Event<void>;
}

interface Action extends vscode.QuickPickItem {
  command?: string;
  args?: unknown[];
  dump?: DumpInfo;
}

export class DumpStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("heapspurs.dumps", vscode.StatusBarAlignment.Left, 10);
  private dumps: DumpInfo[] | undefined;
  private asked = 0; // answers only the latest request
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly server: DumpSource) {
    this.item.name = "heapspurs";
    this.subscriptions = [
      server.onDidChangeState((state) => {
        if (state !== "running") {
          this.asked++; // an answer still under way is about the old server
          this.dumps = undefined;
        }
        this.render();
      }),
      server.onDidChangeDumps((answer) => {
        this.asked++;
        this.dumps = answer.dumps;
        this.render();
      }),
      server.onDidStart(() => void this.refresh()),
    ];
    this.render();
    this.item.show();
    void this.refresh();
  }

  /** Asks the server now (a push may not come: a server that never pushes, say). */
  async refresh(): Promise<void> {
    const asked = ++this.asked;
    let answer: DumpsAnswer | undefined;
    try {
      answer = await this.server.dumps();
    } catch {
      answer = undefined; // the server is restarting: it pushes its dumps when it runs
    }
    if (asked === this.asked && answer) {
      this.dumps = answer.dumps;
      this.render();
    }
  }

  async pick(): Promise<void> {
    await this.refresh();
    const dumps = this.dumps ?? [];
    const items: Action[] = [
      { label: "Dumps", kind: vscode.QuickPickItemKind.Separator },
      ...dumps.map((dump) => ({ ...dumpRow(dump), dump })),
    ];
    if (!dumps.length) {
      const why = this.server.state === "running" ? "no heap dump in this workspace" : `the server is ${this.server.state}`;
      items.push({ label: "$(info) none", description: why });
    }
    items.push(
      { label: "", kind: vscode.QuickPickItemKind.Separator },
      { label: "$(folder-opened) Load Heap Dump…", command: CLIENT_COMMANDS.openDump },
      { label: "$(list-ordered) Show Type Histogram", command: CLIENT_COMMANDS.histogram },
      { label: "$(debug-restart) Restart Server", command: CLIENT_COMMANDS.restart },
      { label: "$(output) Show Log", command: CLIENT_COMMANDS.showLog },
      { label: "$(gear) Open Settings", command: "workbench.action.openSettings", args: ["@ext:heapspurs.heapspurs"] },
    );
    const picked = await vscode.window.showQuickPick(items, {
      title: "heapspurs",
      placeHolder: "Pick a dump to reveal it in the explorer, or an action",
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (picked?.dump) {
      await vscode.commands.executeCommand("revealInExplorer", vscode.Uri.parse(picked.dump.uri));
    } else if (picked?.command) {
      await vscode.commands.executeCommand(picked.command, ...(picked.args ?? []));
    }
  }

  private render(): void {
    const state = this.server.state;
    this.item.text = statusText(this.dumps, state);
    this.item.command = CLIENT_COMMANDS.listDumps;
    const rows = (this.dumps ?? []).map(dumpRow).map((row) => `${row.label}: ${row.description}`);
    const idle =
      state === "stopped"
        ? "The heapspurs language server is not running"
        : state === "starting"
          ? "The heapspurs language server is starting"
          : "No heap dump in this workspace";
    this.item.tooltip = `${rows.length ? rows.join("\n") : idle}\n\nClick for the dumps, Restart Server, the log and the settings`;
    this.item.backgroundColor = state === "stopped" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }

  dispose(): void {
    this.item.dispose();
    this.subscriptions.forEach((s) => s.dispose());
  }
}
