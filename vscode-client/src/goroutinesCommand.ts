// heapspurs.showGoroutines: asks the server for one dump's goroutines (the quick pick says
// which when several are ready) and shows them as a result document.

import * as vscode from "vscode";
import { ServerConnection } from "./connection";
import { baseName } from "./dumpStatus";
import { EditorTracker } from "./editors";
import { COMMAND_SHOW_GOROUTINES, GOROUTINES_LIMIT, GoroutinesAnswer, SERVER_COMMAND_GOROUTINES, goroutinesText } from "./goroutines";
import { AddressArgs } from "./protocol";
import { ResultDocuments } from "./resultDocuments";

export function registerGoroutines(connection: ServerConnection, results: ResultDocuments, editors: EditorTracker): vscode.Disposable {
  return vscode.commands.registerCommand(COMMAND_SHOW_GOROUTINES, async (args?: { dump?: unknown }) => {
    let dump = typeof args?.dump === "string" ? args.dump : undefined;
    if (!dump) {
      const dumps = (await connection.dumps())?.dumps ?? [];
      const ready = dumps.filter((d) => d.state === "ready");
      if (!ready.length) {
        const loading = dumps.filter((d) => d.state === "loading").length;
        void vscode.window.showInformationMessage(
          loading ? `heapspurs: ${loading} heap dump(s) still loading; try again when loaded.` : "heapspurs: no heap dump is loaded.",
        );
        return;
      }
      if (ready.length > 1) {
        const picked = await vscode.window.showQuickPick(
          ready.map((d) => ({ label: baseName(d.uri), description: vscode.Uri.parse(d.uri).fsPath, uri: d.uri })),
          { title: "Goroutines of which dump?" },
        );
        if (!picked) {
          return;
        }
        dump = picked.uri;
      } else {
        dump = ready[0]?.uri;
      }
    }
    // the server's command takes {"dump"?, "limit"?}, not an address
    const params = { ...(dump ? { dump } : {}), limit: GOROUTINES_LIMIT } as unknown as AddressArgs;
    const answer = (await connection.executeCommand(SERVER_COMMAND_GOROUTINES, params)) as unknown as GoroutinesAnswer;
    const name = baseName(answer.dump);
    await results.showTitled(`Goroutines of ${name}`, goroutinesText(answer, name), answer.dump, editors.current()?.viewColumn);
  });
}
