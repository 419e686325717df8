// heapspurs.instances: the objects of one Go type, largest retained first, as a result
// document. The server's CodeLens above each type a Go file declares runs it with
// {"dump", "type"}; the client owns the name, so the lens opens the document rather than
// only asking the server.

import * as vscode from "vscode";
import { resultText } from "./commandArgs";
import { ServerConnection } from "./connection";
import { baseName } from "./dumpStatus";
import { EditorTracker } from "./editors";
import { messageOf } from "./graphPanel";
import { AddressArgs, CLIENT_COMMANDS } from "./protocol";
import { ResultDocuments } from "./resultDocuments";

interface InstancesAnswer {
  dump: string;
  type: string;
  count: number;
  markdown: string;
}

export function registerInstances(connection: ServerConnection, results: ResultDocuments, editors: EditorTracker): vscode.Disposable {
  return vscode.commands.registerCommand(CLIENT_COMMANDS.instances, async (args?: { dump?: unknown; type?: unknown }) => {
    try {
      const type = typeof args?.type === "string" ? args.type : await vscode.window.showInputBox({ title: "Instances of which Go type?", placeHolder: "main.Session" });
      if (!type) {
        return;
      }
      // the server's command takes {"dump"?, "type"}, not an address
      const params = { ...(typeof args?.dump === "string" ? { dump: args.dump } : {}), type } as unknown as AddressArgs;
      const answer = (await connection.executeCommand(CLIENT_COMMANDS.instances, params)) as unknown as InstancesAnswer;
      const title = `Instances of ${answer.type} in ${baseName(answer.dump)}`;
      await results.showTitled(title, resultText(answer.markdown), answer.dump, editors.current()?.viewColumn);
    } catch (err) {
      void vscode.window.showErrorMessage(messageOf(err).replace(/^heapspurs: /, ""));
    }
  });
}
