// The client's commands: the four address commands (editor context menu, palette, hover
// links), Load Heap Dump…, Restart Server and the dump list.

import * as vscode from "vscode";
import { addressAt, addressInSelection, addressProblem, normalize } from "./address";
import { argsFromInvocation } from "./commandArgs";
import { inOneDump } from "./dumpChoice";
import { ServerConnection } from "./connection";
import { EditorTracker } from "./editors";
import { GraphPanel, messageOf } from "./graphPanel";
import { HandLoadedDumps } from "./handLoaded";
import { AddressArgs, CLIENT_COMMANDS, ResultKind, SERVER_COMMANDS } from "./protocol";
import { ResultDocuments } from "./resultDocuments";
import { DumpStatus } from "./statusBar";

export interface Parts {
  connection: ServerConnection;
  handLoaded: HandLoadedDumps;
  editors: EditorTracker;
  results: ResultDocuments;
  graph: GraphPanel;
  status: DumpStatus;
}

export function registerCommands(parts: Parts): vscode.Disposable[] {
  const register = (id: string, run: (...args: unknown[]) => Promise<unknown>) =>
    vscode.commands.registerCommand(id, (...args: unknown[]) => run(...args).catch(showError));
  const withAddress = (run: (args: AddressArgs) => Promise<unknown>) => async (...args: unknown[]) => {
    const target = await addressOf(args, parts.editors);
    return target && run(target);
  };
  return [
    register(CLIENT_COMMANDS.anchors, withAddress((args) => showResult(parts, "anchors", args))),
    register(CLIENT_COMMANDS.owners, withAddress((args) => showResult(parts, "owners", args))),
    register(CLIENT_COMMANDS.hexdump, withAddress((args) => showResult(parts, "hexdump", args))),
    register(CLIENT_COMMANDS.graph, withAddress((args) => parts.graph.show(args))),
    register(CLIENT_COMMANDS.openDump, () => openDump(parts)),
    register(CLIENT_COMMANDS.restart, async () => {
      await parts.connection.restart();
      await parts.status.refresh();
    }),
    register(CLIENT_COMMANDS.listDumps, () => parts.status.pick()),
  ];
}

/**
 * The address a command is about: a hover link's arguments; else the selection or the hex
 * word under the cursor of the current (or last) text editor; else typed in an input box.
 */
async function addressOf(args: readonly unknown[], editors: EditorTracker): Promise<AddressArgs | undefined> {
  const fromLink = argsFromInvocation(args);
  if (fromLink) {
    return fromLink;
  }
  const editor = editors.current();
  if (editor) {
    const { selection, document } = editor;
    const address = selection.isEmpty
      ? addressAt(document.lineAt(selection.active.line).text, selection.active.character)
      : addressInSelection(document.getText(selection));
    if (address) {
      return { address };
    }
  }
  const typed = await vscode.window.showInputBox({
    title: "heapspurs",
    prompt: "Address of a heap object (or any address inside it)",
    placeHolder: "0xc000123450",
    validateInput: addressProblem,
  });
  return typed ? { address: normalize(typed.trim()) } : undefined;
}

async function showResult(parts: Parts, kind: ResultKind, args: AddressArgs): Promise<void> {
  const answer = await inOneDump(args, (one) => parts.connection.executeCommand(SERVER_COMMANDS[kind], one));
  if (answer) {
    await parts.results.show(kind, args.address, answer, parts.editors.current()?.viewColumn);
  }
}

async function openDump(parts: Parts): Promise<void> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: "Load heap dump",
    title: "heapspurs: load a Go heap dump (runtime/debug.WriteHeapDump)",
  });
  if (!picked?.[0]) {
    return;
  }
  const uri = picked[0].toString();
  void parts.status.refresh();
  const answer = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `heapspurs: loading ${picked[0].fsPath}` },
    () => parts.connection.executeCommand(SERVER_COMMANDS.loadDump, { uri }),
  );
  await parts.handLoaded.add(uri);
  await parts.status.refresh();
  const state = answer.state === "ready" ? `ready, ${String(answer.objects)} objects` : `${String(answer.state)}: ${String(answer.error)}`;
  void vscode.window.showInformationMessage(`heapspurs: ${picked[0].fsPath}: ${state}`);
}

function showError(err: unknown): void {
  void vscode.window.showErrorMessage(`heapspurs: ${messageOf(err)}`);
}
