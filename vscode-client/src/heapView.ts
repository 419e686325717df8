// The Heap views in the activity bar: Dumps (each loaded dump, its state and actions), Types
// (the histogram → a type's objects, largest retained first → their owners, a level at a
// time → roots), Retainers (the dominator tree from the top, drilled down), Leak Suspects
// (each suspect's anchor, objects, accumulation point and what piled up) and Goroutines
// (groups of one stack, the leaked first → goroutines → frames, opening the source line →
// variables → the objects they hold). Children come from the server a page at a time
// (heapspurs/types, heapspurs/retainers, heapspurs/goroutines: 200 a page, a "show more" row
// past them), so a dump of millions of objects opens at once. The rows: heapNodes.ts.

import * as vscode from "vscode";
import { ServerConnection } from "./connection";
import { baseName } from "./dumpStatus";
import {
  GoroutineItem,
  GroupItem,
  HeapNode,
  Page,
  TypeRow,
  ViewObject,
  bytes,
  dumpItem,
  frameItem,
  goroutineItem,
  groupItem,
  instanceItem,
  number,
  openAtLine,
} from "./heapNodes";
import { rowItem } from "./resultsView";
import { Retainer, Suspect, SuspectsAnswer, SERVER_COMMAND_SUSPECTS } from "./retained";
import { DirectOwnersAnswer, ResultRow, ownerRows } from "./resultTree";

export const HEAP_VIEWS = {
  dumps: "heapspurs.dumps",
  types: "heapspurs.types",
  retainers: "heapspurs.retainers",
  goroutines: "heapspurs.goroutinesView",
  suspects: "heapspurs.suspectsView",
} as const;
export const REQUEST_TYPES = "heapspurs/types";
export const REQUEST_RETAINERS = "heapspurs/retainers";
export const REQUEST_GOROUTINES = "heapspurs/goroutines";

/** One tree view of the heap: `roots` for its top, `children` for one page under a node. */
abstract class HeapTree implements vscode.TreeDataProvider<HeapNode>, vscode.Disposable {
  private readonly changes = new vscode.EventEmitter<HeapNode | undefined>();
  readonly onDidChangeTreeData = this.changes.event;
  /** Children asked so far, per parent (undefined: the top), pages appended. */
  protected readonly known = new Map<HeapNode | undefined, Promise<HeapNode[]>>();
  /** Each node's parent (for reveal); the top's nodes have none. */
  private readonly parents = new WeakMap<HeapNode, HeapNode>();
  protected readonly view: vscode.TreeView<HeapNode>;

  constructor(
    id: string,
    protected readonly connection: ServerConnection,
  ) {
    this.view = vscode.window.createTreeView(id, { treeDataProvider: this, showCollapseAll: true });
  }

  refresh(): void {
    this.known.clear();
    this.changes.fire(undefined);
  }

  getTreeItem(node: HeapNode): vscode.TreeItem {
    switch (node.kind) {
      case "dump":
        return dumpItem(node.info, this.dumpsExpand());
      case "type": {
        const item = new vscode.TreeItem(node.row.type, vscode.TreeItemCollapsibleState.Collapsed);
        const { row } = node;
        const retained = row.retained ? ` · retains ${bytes(row.retained)}` : "";
        const grew = (now: number, then: number | undefined, show: (n: number) => string) =>
          then === undefined ? "" : ` (${now >= then ? "+" : "−"}${show(Math.abs(now - then))})`;
        const churn = row.new !== null && row.new !== undefined ? ` · ${number(row.new)} new, ${number(row.freed ?? 0)} freed` : "";
        item.description = `${number(row.count)}${grew(row.count, row.baseline_count, number)} · ${bytes(row.bytes)}${grew(row.bytes, row.baseline_bytes, bytes)}${churn}${retained}`;
        item.iconPath = new vscode.ThemeIcon("symbol-class");
        item.contextValue = node.row.source ? "heapspurs.type.declared" : "heapspurs.type";
        return item;
      }
      case "instance":
        return instanceItem(node);
      case "group":
        return groupItem(node.group);
      case "goroutine":
        return goroutineItem(node.goroutine);
      case "suspect": {
        const { suspect } = node;
        const what = suspect.kind === "group" ? `${number(suspect.count)} × ${suspect.type}` : suspect.type;
        const item = new vscode.TreeItem(`Suspect ${node.rank}: ${what}`, vscode.TreeItemCollapsibleState.Expanded);
        item.description = `retains ${bytes(suspect.retained)} (${suspect.percent.toFixed(1)}% of the heap)`;
        item.iconPath = new vscode.ThemeIcon("warning");
        item.accessibilityInformation = { label: `${item.label as string} ${item.description}` };
        return item;
      }
      case "fact": {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.description = node.detail;
        item.iconPath = new vscode.ThemeIcon(node.icon);
        item.accessibilityInformation = { label: `${node.label} ${node.detail}` };
        return item;
      }
      case "frame":
        return frameItem(node.frame, node.created);
      case "more": {
        const item = new vscode.TreeItem(`Show more (${number(node.left)} left)`, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon("ellipsis");
        item.command = { title: "Show more", command: HEAP_COMMANDS.more, arguments: [this, node] };
        return item;
      }
      case "anchor":
        return new vscode.TreeItem(node.anchor.label);
      default:
        return rowItem(node);
    }
  }

  getChildren(node?: HeapNode): Promise<HeapNode[]> {
    let children = this.known.get(node);
    if (!children) {
      children = this.firstPage(node)
        .catch((err: unknown) => [note(err)])
        .then((list) => this.adopt(node, list));
      this.known.set(node, children);
    }
    return children;
  }

  getParent(node: HeapNode): HeapNode | undefined {
    return this.parents.get(node);
  }

  /** Replaces the "show more" row with the next page. */
  async showMore(more: Extract<HeapNode, { kind: "more" }>): Promise<void> {
    const shown = (await this.known.get(more.parent)) ?? [];
    const next = await this.page(more.parent, more.page).catch((err: unknown) => [note(err)]);
    this.known.set(more.parent, Promise.resolve([...shown.filter((n) => n !== more), ...this.adopt(more.parent, next)]));
    this.changes.fire(more.parent);
  }

  private adopt(parent: HeapNode | undefined, children: HeapNode[]): HeapNode[] {
    if (parent) {
      children.forEach((child) => this.parents.set(child, parent));
    }
    return children;
  }

  dispose(): void {
    this.view.dispose();
    this.changes.dispose();
  }

  /** The top, or the first page under `node`. */
  private async firstPage(node: HeapNode | undefined): Promise<HeapNode[]> {
    if (node) {
      return this.page(node, 0);
    }
    const dumps = ((await this.connection.dumps())?.dumps ?? []).filter((d) => d.state === "ready" || !this.readyOnly());
    if (dumps.length === 1 && this.readyOnly()) {
      return this.page({ kind: "dump", dump: dumps[0].uri, info: dumps[0] }, 0);
    }
    return dumps.map((info): HeapNode => ({ kind: "dump", dump: info.uri, info }));
  }

  /** Whether the top lists only ready dumps (and a single one is skipped). */
  protected readyOnly(): boolean {
    return true;
  }

  protected dumpsExpand(): boolean {
    return true;
  }

  /** Page `page` of what is under `node` (a dump: the view's own top level). */
  protected abstract page(node: HeapNode | undefined, page: number): Promise<HeapNode[]>;

  /** Under an object row: its owners, a level at a time (when it expands to owners). */
  protected ownersBelow(node: HeapNode): Promise<HeapNode[]> {
    if ((node.kind === "instance" && node.below === "owners") || (node.kind === "object" && node.expandsOwners)) {
      return this.owners(node);
    }
    return Promise.resolve([]);
  }

  private async owners(node: Extract<HeapNode, { kind: "instance" }> | Extract<ResultRow, { kind: "object" }>): Promise<HeapNode[]> {
    const answer = await this.connection.directOwners<DirectOwnersAnswer>({ address: node.address, dump: node.dump });
    return ownerRows(answer, node.kind === "instance" ? [] : node.below);
  }
}

/** A page's nodes, with a "show more" row when the server has more. */
function withMore<T>(answer: Page<T>, parent: HeapNode | undefined, page: number, node: (item: T) => HeapNode): HeapNode[] {
  const nodes = answer.items.map(node);
  if (answer.more) {
    const shown = (page + 1) * 200;
    nodes.push({ kind: "more", parent, page: page + 1, left: answer.total - shown });
  }
  return nodes;
}

function note(err: unknown): HeapNode {
  return { kind: "note", text: `could not ask the server: ${err instanceof Error ? err.message : String(err)}` };
}

export class TypesTree extends HeapTree {
  /** The dump the histogram is compared with ("Set as Baseline"), if any. */
  private baseline: string | undefined;

  get baselineUri(): string | undefined {
    return this.baseline;
  }

  constructor(connection: ServerConnection) {
    super(HEAP_VIEWS.types, connection);
  }

  /** Selects `type`'s row under `dump`, asking for more pages until it shows; false if none. */
  async revealType(dump: string, type: string): Promise<boolean> {
    let level = await this.getChildren(undefined);
    const dumpNode = level.find((n) => n.kind === "dump" && n.info.uri === dump);
    if (dumpNode) {
      level = await this.getChildren(dumpNode);
    }
    for (let pages = 0; pages < 100; pages++) {
      const found = level.find((n) => n.kind === "type" && n.dump === dump && n.row.type === type);
      if (found) {
        await this.view.reveal(found, { select: true, focus: true, expand: true });
        return true;
      }
      const more = level.find((n): n is Extract<HeapNode, { kind: "more" }> => n.kind === "more");
      if (!more) {
        return false;
      }
      await this.showMore(more);
      level = (await this.known.get(more.parent)) ?? [];
    }
    return false;
  }

  setBaseline(uri: string | undefined): void {
    this.baseline = uri;
    this.view.description = uri ? `vs ${baseName(uri)}` : undefined;
    this.refresh();
  }

  protected async page(node: HeapNode | undefined, page: number): Promise<HeapNode[]> {
    if (!node) {
      return [];
    }
    switch (node.kind) {
      case "dump": {
        const against = this.baseline && this.baseline !== node.info.uri ? { baseline: this.baseline } : {};
        const answer = await this.connection.request<Page<TypeRow>>(REQUEST_TYPES, { dump: node.info.uri, page, ...against });
        return withMore(answer, node, page, (row) => ({ kind: "type", dump: answer.dump, row }));
      }
      case "type": {
        const answer = await this.connection.request<Page<ViewObject>>(REQUEST_TYPES, { dump: node.dump, parent: node.row.type, page });
        return withMore(answer, node, page, (object) => ({ kind: "instance", dump: answer.dump, address: object.address, object, below: "owners" }));
      }
      default:
        return this.ownersBelow(node);
    }
  }
}

export class RetainersTree extends HeapTree {
  constructor(connection: ServerConnection) {
    super(HEAP_VIEWS.retainers, connection);
  }

  protected async page(node: HeapNode | undefined, page: number): Promise<HeapNode[]> {
    if (!node || (node.kind !== "dump" && node.kind !== "instance")) {
      return [];
    }
    const dump = node.kind === "dump" ? node.info.uri : node.dump;
    const parent = node.kind === "instance" ? node.object.address : undefined;
    const answer = await this.connection.request<Page<ViewObject>>(REQUEST_RETAINERS, { dump, parent, page });
    return withMore(answer, node, page, (object) => ({ kind: "instance", dump: answer.dump, address: object.address, object, below: "dominated" }));
  }
}

export class GoroutinesTree extends HeapTree {
  constructor(connection: ServerConnection) {
    super(HEAP_VIEWS.goroutines, connection);
  }

  protected async page(node: HeapNode | undefined, page: number): Promise<HeapNode[]> {
    if (!node) {
      return [];
    }
    switch (node.kind) {
      case "dump": {
        const answer = await this.connection.request<Page<GroupItem>>(REQUEST_GOROUTINES, { dump: node.info.uri, page });
        return withMore(answer, node, page, (group) => ({ kind: "group", dump: answer.dump, group }));
      }
      case "group": {
        if (node.group.count === 1 && page === 0) {
          return this.page({ kind: "goroutine", dump: node.dump, goroutine: node.group.first }, 0);
        }
        const answer = await this.connection.request<Page<GoroutineItem>>(REQUEST_GOROUTINES, { dump: node.dump, page, group: node.group.group });
        return withMore(answer, node, page, (goroutine) => ({ kind: "goroutine", dump: answer.dump, goroutine }));
      }
      case "goroutine": {
        const { goroutine, dump } = node;
        const frames = goroutine.frames.map((frame): HeapNode => ({ kind: "frame", dump, frame }));
        return goroutine.created_by.function ? [...frames, { kind: "frame", dump, frame: goroutine.created_by, created: true }] : frames;
      }
      case "frame":
        return (node.frame.variables ?? []).map((v): HeapNode => {
          const object: ViewObject = { address: v.object, size: 0, name: v.name, type: v.object_type, retained: 0, retained_objects: 0, children: 0 };
          return { kind: "instance", dump: node.dump, address: v.object, object, below: "owners", variable: v.name ?? "(unnamed slot)" };
        });
      default:
        return this.ownersBelow(node);
    }
  }
}

export class SuspectsTree extends HeapTree {
  constructor(connection: ServerConnection) {
    super(HEAP_VIEWS.suspects, connection);
  }

  protected async page(node: HeapNode | undefined): Promise<HeapNode[]> {
    if (!node) {
      return [];
    }
    switch (node.kind) {
      case "dump": {
        // the server's command takes {"dump"}; suspects are few: one answer, no pages
        const answer = (await this.connection.executeCommand(SERVER_COMMAND_SUSPECTS, { dump: node.info.uri } as never)) as unknown as SuspectsAnswer;
        if (!answer.suspects.length) {
          return [{ kind: "fact", label: "No suspect", detail: `nothing retains ${Math.round(100 * answer.threshold)}% of the heap or more`, icon: "pass" }];
        }
        return answer.suspects.map((suspect, i): HeapNode => ({ kind: "suspect", dump: answer.dump, suspect, rank: i + 1 }));
      }
      case "suspect":
        return suspectFacts(node.dump, node.suspect);
      case "instance":
        return node.below === "owners" ? this.ownersBelow(node) : this.dominated(node);
      default:
        return this.ownersBelow(node);
    }
  }

  private async dominated(node: Extract<HeapNode, { kind: "instance" }>): Promise<HeapNode[]> {
    const answer = await this.connection.request<Page<ViewObject>>(REQUEST_RETAINERS, { dump: node.dump, parent: node.address, page: 0 });
    return withMore(answer, node, 0, (object) => ({ kind: "instance", dump: answer.dump, address: object.address, object, below: "dominated" }));
  }
}

/** Under a suspect: its anchor and Go path, its objects, the accumulation point, what piled up. */
function suspectFacts(dump: string, suspect: Suspect): HeapNode[] {
  const instance = (r: Retainer, variable?: string): HeapNode => ({
    kind: "instance",
    dump,
    address: r.address,
    object: { ...r, pointers: undefined, children: 1 },
    below: "dominated",
    variable,
  });
  const out: HeapNode[] = [];
  if (suspect.anchor) {
    out.push({ kind: "fact", label: suspect.anchor.expression ?? suspect.anchor.label, detail: suspect.anchor.label, icon: "globe" });
  }
  out.push(...suspect.objects.slice(0, 20).map((r) => instance(r)));
  out.push(instance(suspect.accumulation_point, "accumulation point"));
  out.push(
    ...suspect.accumulated.slice(0, 10).map((a): HeapNode => ({ kind: "fact", label: a.type, detail: `${number(a.count)} · ${bytes(a.bytes)} accumulated`, icon: "symbol-class" })),
  );
  return out;
}

export class DumpsTree extends HeapTree {
  constructor(connection: ServerConnection) {
    super(HEAP_VIEWS.dumps, connection);
  }

  protected readyOnly(): boolean {
    return false;
  }

  protected dumpsExpand(): boolean {
    return false;
  }

  protected page(): Promise<HeapNode[]> {
    return Promise.resolve([]);
  }
}

export const HEAP_COMMANDS = {
  more: "heapspurs.heap.more",
  refresh: "heapspurs.heap.refresh",
  reveal: "heapspurs.heap.reveal",
  declaration: "heapspurs.heap.goToDeclaration",
  unload: "heapspurs.heap.unload",
  setBaseline: "heapspurs.heap.setBaseline",
  showInTypes: "heapspurs.graph.showInTypes",
  clearBaseline: "heapspurs.heap.clearBaseline",
} as const;
const SERVER_COMMAND_UNLOAD = "heapspurs.unloadDump";

/** The three views, refreshed when the server's dumps change. */
export function registerHeapViews(connection: ServerConnection): vscode.Disposable[] {
  const types = new TypesTree(connection);
  const trees = [new DumpsTree(connection), types, new RetainersTree(connection), new SuspectsTree(connection), new GoroutinesTree(connection)];
  let last = "";
  const setBaseline = (uri: string | undefined) => {
    types.setBaseline(uri);
    void vscode.commands.executeCommand("setContext", "heapspurs.baselineSet", Boolean(uri));
  };
  const refresh = (force: boolean) => {
    void connection.dumps().then((answer) => {
      // types and the tree change only when a dump is loaded, reloaded or goes
      const key = JSON.stringify((answer?.dumps ?? []).map((d) => [d.uri, d.state, d.objects, d.program]));
      trees[0].refresh();
      if (force || key !== last) {
        last = key;
        const ready = new Set((answer?.dumps ?? []).filter((d) => d.state === "ready").map((d) => d.uri));
        if (types.baselineUri && !ready.has(types.baselineUri)) {
          setBaseline(undefined); // the baseline went (unloaded, deleted): plain types again
        }
        trees.slice(1).forEach((tree) => tree.refresh());
      }
    });
  };
  return [
    ...trees,
    connection.onDidChangeDumps(() => refresh(false)),
    connection.onDidStart(() => refresh(true)),
    vscode.commands.registerCommand(HEAP_COMMANDS.more, (tree: HeapTree, more: Extract<HeapNode, { kind: "more" }>) => tree.showMore(more)),
    vscode.commands.registerCommand(HEAP_COMMANDS.refresh, () => refresh(true)),
    vscode.commands.registerCommand(HEAP_COMMANDS.declaration, (node?: { row?: TypeRow }) => {
      const open = node?.row?.source ? openAtLine(node.row.source) : undefined;
      return open ? vscode.commands.executeCommand(open.command, ...(open.arguments ?? [])) : undefined;
    }),
    // the graph's node menu: the node's type in the Types view
    vscode.commands.registerCommand(HEAP_COMMANDS.showInTypes, async (context?: { address?: unknown; dump?: unknown }) => {
      if (typeof context?.address !== "string" || typeof context.dump !== "string") {
        return;
      }
      const { object } = await connection.directOwners<DirectOwnersAnswer>({ address: context.address, dump: context.dump });
      await vscode.commands.executeCommand(`${HEAP_VIEWS.types}.focus`);
      if (!object.type || !(await types.revealType(context.dump, object.type))) {
        void vscode.window.showInformationMessage(`heapspurs: ${object.type ?? context.address} is not in the Types view of ${baseName(context.dump)}`);
      }
    }),
    vscode.commands.registerCommand(HEAP_COMMANDS.setBaseline, (node?: { dump?: string }) => setBaseline(node?.dump)),
    vscode.commands.registerCommand(HEAP_COMMANDS.clearBaseline, () => setBaseline(undefined)),
    vscode.commands.registerCommand(HEAP_COMMANDS.unload, async (node?: { dump?: string }) => {
      if (node?.dump) {
        // the server's command takes {"uri"}; its memory is given back, the views refresh
        await connection.executeCommand(SERVER_COMMAND_UNLOAD, { uri: node.dump });
        refresh(true);
      }
    }),
    vscode.commands.registerCommand(HEAP_COMMANDS.reveal, (node?: { dump?: string }) =>
      node?.dump ? vscode.commands.executeCommand("revealInExplorer", vscode.Uri.parse(node.dump)) : undefined,
    ),
  ];
}
