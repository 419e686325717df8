// The Heap views' rows: what the server's pages hold (types, objects, goroutine groups,
// goroutines, frames), the tree's node kinds, and how each shows as a tree item. Used by
// heapView.ts, which asks for the pages.

import * as vscode from "vscode";
import { baseName } from "./dumpStatus";
import { DumpInfo } from "./protocol";
import { Suspect } from "./retained";
import { ObjectJson, ResultRow, objectRow } from "./resultTree";

export interface TypeRow {
  type: string;
  count: number;
  bytes: number;
  retained?: number;
  /** Where the workspace's Go files declare it: `file:///…/main.go#L34`. */
  source?: string | null;
  /** Against a baseline: its count and bytes, and (one process) the new and freed objects. */
  baseline_count?: number;
  baseline_bytes?: number;
  new?: number | null;
  freed?: number | null;
}
export interface ViewObject extends ObjectJson {
  retained: number;
  retained_objects: number;
  children: number;
}
export interface FrameItem {
  function: string;
  file?: string;
  line?: number;
  uri?: string | null;
  variables?: { name: string | null; type: string | null; object: string; object_type: string | null }[];
}
export interface GoroutineItem {
  id: number;
  status: string;
  wait_reason: string | null;
  leaked: boolean | null;
  why: string | null;
  retained: { bytes: number; objects: number };
  frames: FrameItem[];
  created_by: FrameItem;
}
export interface GroupItem {
  group: number;
  count: number;
  retained: number;
  first: GoroutineItem;
}
export interface Page<T> {
  dump: string;
  items: T[];
  more: boolean;
  total: number;
}

export type HeapNode =
  | { kind: "dump"; dump: string; info: DumpInfo }
  | { kind: "type"; dump: string; row: TypeRow }
  // `address` and `dump` at the top: the address commands take the node as their argument
  | { kind: "instance"; dump: string; address: string; object: ViewObject; below: "owners" | "dominated"; variable?: string }
  | { kind: "group"; dump: string; group: GroupItem }
  | { kind: "goroutine"; dump: string; goroutine: GoroutineItem }
  | { kind: "frame"; dump: string; frame: FrameItem; created?: boolean }
  | { kind: "suspect"; dump: string; suspect: Suspect; rank: number }
  | { kind: "fact"; label: string; detail: string; icon: string }
  | { kind: "more"; parent: HeapNode | undefined; page: number; left: number }
  | ResultRow;

export const number = (n: number) => n.toLocaleString("en-US");

export function bytes(n: number): string {
  for (const [unit, size] of [["GB", 2 ** 30], ["MB", 2 ** 20], ["KB", 2 ** 10]] as const) {
    if (n >= size) {
      return `${(n / size).toFixed(1)} ${unit}`;
    }
  }
  return `${n} bytes`;
}


export function dumpItem(info: DumpInfo, expands: boolean): vscode.TreeItem {
  const item = new vscode.TreeItem(baseName(info.uri), expands ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
  const program = info.program ? `program ${baseName(info.program)}` : "no program matched";
  item.description =
    info.state === "ready"
      ? `${info.go_version ? `${info.go_version} · ` : ""}${number(info.objects)} objects · ${program}`
      : info.state === "loading"
        ? `loading ${Math.round(100 * info.progress)}%`
        : `error: ${info.error ?? "unknown"}`;
  item.tooltip = [vscode.Uri.parse(info.uri).fsPath, item.description, info.warning ?? ""].filter(Boolean).join("\n");
  item.iconPath = new vscode.ThemeIcon(info.state === "ready" ? "database" : info.state === "loading" ? "loading~spin" : "error");
  item.resourceUri = vscode.Uri.parse(info.uri);
  item.contextValue = `heapspurs.dump.${info.state}`;
  item.accessibilityInformation = { label: `${baseName(info.uri)} ${item.description}` };
  return item;
}

export function instanceItem(node: Extract<HeapNode, { kind: "instance" }>): vscode.TreeItem {
  const { object } = node;
  const expands = node.below === "owners" || object.children > 0;
  const type = object.type ?? "object";
  const item = new vscode.TreeItem(node.variable ? `${node.variable} → ${type}` : type, expands ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
  const name = object.name && object.name !== object.type && !node.variable ? ` · ${object.name}` : "";
  item.description = node.variable ? object.address : `${object.address}${name} · ${bytes(object.size)} · retains ${bytes(object.retained)}`;
  item.tooltip = `${object.type ?? "object"} at ${object.address}: ${number(object.size)} bytes, retains ${number(object.retained)} bytes in ${number(object.retained_objects)} objects${
    node.below === "owners" ? "\nExpand: its owners" : `\nExpand: what it alone holds (${number(object.children)})`
  }`;
  item.iconPath = new vscode.ThemeIcon("symbol-object");
  item.contextValue = "heapspurs.object";
  item.accessibilityInformation = { label: `${item.label as string} ${item.description}` };
  // a click offers the address commands, as in the results view
  const row = objectRow(object, node.dump, false);
  item.command = { title: "Show…", command: "heapspurs.results.pick", arguments: [row] };
  return item;
}

/** A group: one stack (its top function), how many goroutines, the verdict, what they retain. */
export function groupItem(group: GroupItem): vscode.TreeItem {
  const g = group.first;
  const top = g.frames.find((f) => !f.function.startsWith("runtime.")) ?? g.frames[0];
  const who = group.count === 1 ? `goroutine ${g.id}` : `${number(group.count)} goroutines`;
  const item = new vscode.TreeItem(`${who} [${g.wait_reason || g.status}]`, vscode.TreeItemCollapsibleState.Collapsed);
  const verdict = g.leaked ? "leaked · " : g.leaked === null ? "leak unknown · " : "";
  item.description = `${verdict}retains ${bytes(group.retained)}${top ? ` · ${top.function}` : ""}`;
  item.tooltip = g.why ? `${item.label as string}: leaked — ${g.why}` : (item.label as string);
  item.iconPath = new vscode.ThemeIcon(g.leaked ? "warning" : "debug-stackframe");
  item.accessibilityInformation = { label: `${item.label as string} ${item.description}` };
  return item;
}

export function goroutineItem(g: GoroutineItem): vscode.TreeItem {
  const top = g.frames.find((f) => !f.function.startsWith("runtime.")) ?? g.frames[0];
  const item = new vscode.TreeItem(`goroutine ${g.id} [${g.wait_reason || g.status}]`, vscode.TreeItemCollapsibleState.Collapsed);
  const verdict = g.leaked ? "leaked · " : g.leaked === null ? "leak unknown · " : "";
  item.description = `${verdict}retains ${bytes(g.retained.bytes)}${top ? ` · ${top.function}` : ""}`;
  item.tooltip = g.why ? `${item.label as string}: leaked — ${g.why}` : (item.label as string);
  item.iconPath = new vscode.ThemeIcon(g.leaked ? "warning" : "debug-stackframe");
  item.accessibilityInformation = { label: `${item.label as string} ${item.description}` };
  return item;
}

export function frameItem(frame: FrameItem, created?: boolean): vscode.TreeItem {
  const vars = frame.variables?.length ?? 0;
  const item = new vscode.TreeItem(created ? `created by ${frame.function}` : frame.function, vars ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
  item.description = frame.file ? `${frame.file}:${frame.line ?? "?"}` : "";
  item.iconPath = new vscode.ThemeIcon(created ? "debug-start" : "debug-stackframe-dot");
  item.accessibilityInformation = { label: `${item.label as string} ${item.description}` };
  if (frame.uri) {
    // the workspace has the file: a click opens it at the line
    item.command = openAtLine(frame.uri);
    item.tooltip = `Open ${frame.file}:${frame.line}`;
  }
  return item;
}

/** `vscode.open` of a `file:///…#L<line>` URI, at that line. */
export function openAtLine(uri: string): vscode.Command {
  const [file, line] = uri.split("#L");
  const at = Math.max(Number(line) - 1, 0);
  return {
    title: "Open Source",
    command: "vscode.open",
    arguments: [vscode.Uri.parse(file), { selection: new vscode.Range(at, 0, at, 0) } satisfies vscode.TextDocumentShowOptions],
  };
}
