// The heapspurs extension: starts heapspurs-lsp and wires the commands, the results view,
// the result document, the owner-graph panel and the status bar to it. It parses no dump
// itself.

import * as vscode from "vscode";
import { registerCommands } from "./commands";
import { registerCompare } from "./compareCommand";
import { ServerConnection } from "./connection";
import { AddressContext } from "./contextKeys";
import { inOneDump } from "./dumpChoice";
import { EditorTracker } from "./editors";
import { registerExport } from "./exportCommand";
import { registerGoroutines } from "./goroutinesCommand";
import { GraphPanel } from "./graphPanel";
import { HandLoadedDumps } from "./handLoaded";
import { registerHeapViews } from "./heapView";
import { registerInstances } from "./instancesCommand";
import { AddressArgs, CLIENT_COMMANDS } from "./protocol";
import { ResultDocuments } from "./resultDocuments";
import { ResultsView } from "./resultsView";
import { registerRetained } from "./retainedCommand";
import { DumpStatus } from "./statusBar";

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const connection = new ServerConnection({ extension: context.extensionUri.fsPath, storage: context.globalStorageUri.fsPath });
  const results = new ResultDocuments();
  const view = new ResultsView((args) => connection.directOwners(args));
  const editors = new EditorTracker();
  const status = new DumpStatus(connection);
  const showAnchors = async (args: AddressArgs) => {
    await vscode.commands.executeCommand(CLIENT_COMMANDS.anchors, args);
  };
  const handLoaded = new HandLoadedDumps(context.workspaceState);
  const graph = new GraphPanel(context.extensionUri, {
    graph: (args) => inOneDump(args, (one) => connection.graph(one)),
    showAnchors,
  });
  context.subscriptions.push(
    connection,
    results,
    view,
    editors,
    status,
    graph,
    new AddressContext(),
    registerGoroutines(connection, results, editors),
    registerCompare(connection, results, editors),
    registerExport(connection),
    registerInstances(connection, results, editors),
    ...registerHeapViews(connection),
    ...registerRetained(connection, results, editors),
    ...registerCommands({ connection, handLoaded, editors, results, view, graph, status }),
    // the graph's node context menu: the graph around that node (as a click on it does)
    vscode.commands.registerCommand("heapspurs.graph.expandHere", (context?: { address?: unknown; dump?: unknown }) =>
      typeof context?.address === "string" ? graph.show({ address: context.address, dump: typeof context.dump === "string" ? context.dump : undefined }) : undefined,
    ),
    connection.onDidStart(() => void handLoaded.reload(connection).then(() => status.refresh())),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("heapspurs.server")) {
        void vscode.commands.executeCommand(CLIENT_COMMANDS.restart);
      }
    }),
  );
  await connection.ready();
  void status.refresh();
}

export function deactivate(): void {
  // subscriptions stop the server
}
