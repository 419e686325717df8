// The client's commands: the four address commands (editor context menu, palette, hover
// links), Load Heap Dump…, Restart Server and the dump list.

import * as vscode from "vscode";
import { addressAt, addressInSelection, addressProblem, normalize } from "./address";
import { argsFromInvocation } from "./commandArgs";
import { inOneDump } from "./dumpChoice";
import { baseName } from "./dumpStatus";
import { histogramText, notAnObject } from "./histogram";
import { ServerConnection } from "./connection";
import { EditorTracker } from "./editors";
import { GraphPanel, messageOf } from "./graphPanel";
import { HandLoadedDumps } from "./handLoaded";
import {
  AddressArgs,
  CLIENT_COMMANDS,
  METHOD_NOT_FOUND,
  REQUEST_DIRECT_OWNERS,
  REQUEST_HISTOGRAM,
  ResultKind,
  SERVER_COMMANDS,
} from "./protocol";
import { ResultDocuments } from "./resultDocuments";
import { ResultsView } from "./resultsView";
import { DirectOwnersAnswer, anchorsResult, notAnObjectResult, ownerRows, ownersResult } from "./resultTree";
import { DumpStatus } from "./statusBar";

export interface Parts {
  connection: ServerConnection;
  handLoaded: HandLoadedDumps;
  editors: EditorTracker;
  results: ResultDocuments;
  view: ResultsView;
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
    register(CLIENT_COMMANDS.histogram, (...args) => showHistogram(parts, args)),
    register(CLIENT_COMMANDS.showLog, async () => parts.connection.showLog()),
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

/**
 * Anchors and owners go to the results view, hexdump to the one result document; an
 * address that is no heap object (a global, a stack slot) is answered there too.
 */
async function showResult(parts: Parts, kind: ResultKind, args: AddressArgs): Promise<void> {
  try {
    if (kind === "owners") {
      const answer = await inOneDump(args, (one) => parts.connection.directOwners<DirectOwnersAnswer>(one));
      return answer && parts.view.show(ownersResult(answer), ownerRows(answer, []));
    }
    const answer = await inOneDump(args, (one) => parts.connection.executeCommand(SERVER_COMMANDS[kind], one));
    if (answer && kind === "anchors") {
      await parts.view.show(anchorsResult(answer));
    } else if (answer) {
      await parts.results.show(kind, args.address, answer, parts.editors.current()?.viewColumn);
    }
  } catch (err) {
    const found = notAnObject(err);
    if (found) {
      await parts.view.show(notAnObjectResult(kind, found));
    } else if ((err as { code?: unknown } | null)?.code === METHOD_NOT_FOUND) {
      void vscode.window.showInformationMessage(
        `This heapspurs language server cannot list owners a level at a time (it does not answer ${REQUEST_DIRECT_OWNERS}): update the heapspurs package.`,
      );
    } else {
      throw err;
    }
  }
}

/** The type histogram of one dump (asked which when several are ready), as a table. */
async function showHistogram(parts: Parts, args: readonly unknown[]): Promise<void> {
  const given = (args[0] as { dump?: unknown } | undefined)?.dump;
  let dump = typeof given === "string" ? given : undefined;
  if (!dump) {
    const ready = ((await parts.connection.dumps())?.dumps ?? []).filter((d) => d.state === "ready");
    if (ready.length > 1) {
      const picked = await vscode.window.showQuickPick(
        ready.map((d) => ({ label: baseName(d.uri), description: vscode.Uri.parse(d.uri).fsPath, uri: d.uri })),
        { title: "Type histogram of which dump?" },
      );
      if (!picked) {
        return;
      }
      dump = picked.uri;
    } else {
      dump = ready[0]?.uri;
    }
  }
  let answer;
  try {
    answer = await parts.connection.histogram(dump ? { dump } : {});
  } catch (err) {
    if ((err as { code?: unknown } | null)?.code === METHOD_NOT_FOUND) {
      void vscode.window.showInformationMessage(
        `This heapspurs language server has no type histogram yet (it does not answer ${REQUEST_HISTOGRAM}): update the heapspurs package.`,
      );
      return;
    }
    throw err;
  }
  const name = baseName(answer.dump);
  await parts.results.showTitled(`Types of ${name}`, histogramText(answer, name), answer.dump, parts.editors.current()?.viewColumn);
}

async function openDump(parts: Parts): Promise<void> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: "Load heap dump",
    title: "Load a Go heap dump (runtime/debug.WriteHeapDump)",
  });
  if (!picked?.[0]) {
    return;
  }
  const uri = picked[0].toString();
  void parts.status.refresh();
  const answer = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Loading ${picked[0].fsPath}` },
    () => parts.connection.executeCommand(SERVER_COMMANDS.loadDump, { uri }),
  );
  await parts.handLoaded.add(uri);
  await parts.status.refresh();
  const state = answer.state === "ready" ? `ready, ${String(answer.objects)} objects` : `${String(answer.state)}: ${String(answer.error)}`;
  void vscode.window.showInformationMessage(`${picked[0].fsPath}: ${state}`);
}

function showError(err: unknown): void {
  void vscode.window.showErrorMessage(messageOf(err).replace(/^heapspurs: /, ""));
}
