// The results view (heapspurs ▸ Results): one tree, reused by every Anchors and Owners
// command, like Call Hierarchy. A new result replaces the shown one; the last few stay in
// a history. Owners expand one level at a time (heapspurs/directOwners), and every object
// row runs the address commands on its address.

import * as vscode from "vscode";
import { baseName } from "./dumpStatus";
import { AddressArgs, CLIENT_COMMANDS } from "./protocol";
import {
  DirectOwnersAnswer,
  Result,
  ResultRow,
  anchorDescription,
  objectDescription,
  objectLabel,
  ownerRows,
  rootDescription,
} from "./resultTree";

export const RESULTS_VIEW = "heapspurs.results";
export const RESULTS_COMMANDS = { pick: "heapspurs.results.pick", history: "heapspurs.results.history" } as const;
const HISTORY_LENGTH = 10;

type ObjectRow = Extract<ResultRow, { kind: "object" }>;

export class ResultsView implements vscode.TreeDataProvider<ResultRow>, vscode.Disposable {
  private shown: Result | undefined;
  private history: Result[] = [];
  private readonly children = new WeakMap<ResultRow, Promise<ResultRow[]>>();
  private readonly parents = new WeakMap<ResultRow, ResultRow>();
  private readonly changes = new vscode.EventEmitter<ResultRow | undefined>();
  readonly onDidChangeTreeData = this.changes.event;
  private readonly view = vscode.window.createTreeView(RESULTS_VIEW, { treeDataProvider: this, showCollapseAll: true });
  private readonly subscriptions = [
    vscode.commands.registerCommand(RESULTS_COMMANDS.pick, (row: ObjectRow) => pickAction(row)),
    vscode.commands.registerCommand(RESULTS_COMMANDS.history, () => this.pickFromHistory()),
  ];

  /** `ownersOf` asks the server for one level of owners. */
  constructor(private readonly ownersOf: (args: AddressArgs) => Promise<DirectOwnersAnswer>) {}

  /** Shows `result` in place of the current one; `firstLevel`: its first row's children. */
  async show(result: Result, firstLevel?: ResultRow[]): Promise<void> {
    if (firstLevel && result.rows[0]) {
      this.adopt(result.rows[0], firstLevel);
    }
    this.history = [result, ...this.history.filter((r) => r !== result)].slice(0, HISTORY_LENGTH);
    this.shown = result;
    this.view.title = result.title;
    this.view.description = result.dump ? baseName(result.dump) : undefined;
    // a view alone in the panel shows no title of its own: the message says what is shown
    this.view.message = result.dump ? `${result.title} in ${baseName(result.dump)}` : result.title;
    this.changes.fire(undefined);
    const first = result.rows[0];
    if (first) {
      await this.view.reveal(first, { select: false, focus: false, expand: true });
    }
  }

  getTreeItem(row: ResultRow): vscode.TreeItem {
    switch (row.kind) {
      case "object":
      case "root":
      case "note":
        return rowItem(row, this.shown?.rows[0] === row);
      case "anchor": {
        const first = this.shown?.rows.find((r) => r.kind === "anchor") === row;
        const state = first ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
        const item = new vscode.TreeItem(row.anchor.label, state);
        item.description = anchorDescription(row.anchor);
        item.iconPath = new vscode.ThemeIcon(row.anchor.kind === "global" ? "globe" : "debug-stackframe");
        item.tooltip = "An anchor: the root, then the chain of objects down to the object";
        return item;
      }
    }
  }

  getChildren(row?: ResultRow): ResultRow[] | Promise<ResultRow[]> {
    if (!row) {
      return this.shown?.rows ?? [];
    }
    const known = this.children.get(row);
    if (known) {
      return known;
    }
    if (row.kind === "anchor") {
      return this.adopt(row, row.links);
    }
    if (row.kind === "object" && row.expandsOwners) {
      const loading = this.ownersOf({ address: row.address, dump: row.dump }).then(
        (answer) => ownerRows(answer, row.below),
        (err: unknown): ResultRow[] => [{ kind: "note", text: `could not ask for owners: ${err instanceof Error ? err.message : String(err)}` }],
      );
      return this.adoptLater(row, loading);
    }
    return [];
  }

  getParent(row: ResultRow): ResultRow | undefined {
    return this.parents.get(row);
  }

  private adopt(parent: ResultRow, rows: ResultRow[]): Promise<ResultRow[]> {
    return this.adoptLater(parent, Promise.resolve(rows));
  }

  private adoptLater(parent: ResultRow, rows: Promise<ResultRow[]>): Promise<ResultRow[]> {
    const adopted = rows.then((list) => {
      list.forEach((child) => this.parents.set(child, parent));
      return list;
    });
    this.children.set(parent, adopted);
    return adopted;
  }

  private async pickFromHistory(): Promise<void> {
    const picked = await vscode.window.showQuickPick(
      this.history.map((result) => ({
        label: result.title,
        description: result.dump ? baseName(result.dump) : undefined,
        result,
      })),
      { title: "heapspurs results", placeHolder: this.history.length ? "Show again" : "No results yet" },
    );
    if (picked) {
      await this.show(picked.result);
    }
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
    this.view.dispose();
    this.changes.dispose();
  }
}

/** The tree item of an object, root or note row (here and in the Heap views). */
export function rowItem(row: Exclude<ResultRow, { kind: "anchor" }>, top = false): vscode.TreeItem {
  switch (row.kind) {
    case "object":
      return objectItem(row, top);
    case "root": {
      const item = new vscode.TreeItem(row.root.label, vscode.TreeItemCollapsibleState.None);
      item.description = rootDescription(row.root);
      item.iconPath = new vscode.ThemeIcon(row.root.kind === "global" ? "globe" : "debug-stackframe");
      item.tooltip = `A root: ${row.root.label}${row.root.field ? `, through ${row.root.field}` : ""}`;
      return item;
    }
    case "note": {
      const item = new vscode.TreeItem(row.text, vscode.TreeItemCollapsibleState.None);
      item.description = row.detail;
      item.iconPath = new vscode.ThemeIcon("info");
      return item;
    }
  }
}

function objectItem(row: ObjectRow, top: boolean): vscode.TreeItem {
  const state = !row.expandsOwners
    ? vscode.TreeItemCollapsibleState.None
    : top
      ? vscode.TreeItemCollapsibleState.Expanded
      : vscode.TreeItemCollapsibleState.Collapsed;
  const item = new vscode.TreeItem(objectLabel(row.object), state);
  item.description = objectDescription(row);
  item.iconPath = new vscode.ThemeIcon(top ? "target" : "symbol-object");
  item.contextValue = "heapspurs.object";
  item.tooltip = objectTooltip(row);
  item.command = { title: "Show…", command: RESULTS_COMMANDS.pick, arguments: [row] };
  return item;
}

/** Names and fields come from the dump, its OID file and its binary: written as text
 * (escaped), never read as markdown (no links, no images). */
function objectTooltip(row: ObjectRow): vscode.MarkdownString {
  const tip = new vscode.MarkdownString();
  tip.appendMarkdown("**").appendText(objectLabel(row.object)).appendMarkdown("** at ");
  tip.appendText(`${row.address}, ${row.object.size} bytes`);
  if (row.field) {
    tip.appendMarkdown("\n\nfield ").appendText(row.field);
  }
  return tip.appendMarkdown("\n\nClick: anchors, owners, hexdump or graph of this address");
}

const ACTIONS: { label: string; command: string }[] = [
  { label: "Show Anchors", command: CLIENT_COMMANDS.anchors },
  { label: "Show Owners", command: CLIENT_COMMANDS.owners },
  { label: "Show Hexdump", command: CLIENT_COMMANDS.hexdump },
  { label: "Show Owner Graph", command: CLIENT_COMMANDS.graph },
];

/** A click on an object row: which command to run on its address. */
async function pickAction(row: ObjectRow): Promise<void> {
  const picked = await vscode.window.showQuickPick(
    [...ACTIONS, { label: "Copy Address", command: "" }].map((a) => ({ ...a, description: a.command ? row.address : undefined })),
    { title: `${objectLabel(row.object)} at ${row.address}` },
  );
  if (!picked) {
    return;
  }
  if (!picked.command) {
    await vscode.env.clipboard.writeText(row.address);
    return;
  }
  await vscode.commands.executeCommand(picked.command, { address: row.address, dump: row.dump });
}
