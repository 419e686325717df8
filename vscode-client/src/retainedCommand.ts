// heapspurs.showTopRetainers and heapspurs.showLeakSuspects: ask the server for one dump's
// largest retainers or leak suspects (the quick pick says which dump when several are
// ready) and show them as a result document.

import * as vscode from "vscode";
import { ServerConnection } from "./connection";
import { whichDump } from "./dumpChoice";
import { baseName } from "./dumpStatus";
import { EditorTracker } from "./editors";
import { messageOf } from "./graphPanel";
import { AddressArgs } from "./protocol";
import { ResultDocuments } from "./resultDocuments";
import {
  COMMAND_SHOW_SUSPECTS,
  COMMAND_SHOW_TOP,
  SERVER_COMMAND_SUSPECTS,
  SERVER_COMMAND_TOP,
  SuspectsAnswer,
  TopAnswer,
  suspectsText,
  topText,
} from "./retained";

export function registerRetained(connection: ServerConnection, results: ResultDocuments, editors: EditorTracker): vscode.Disposable[] {
  const show = async <T extends { dump: string }>(command: string, args: Record<string, unknown>, title: string, text: (answer: T, name: string) => string) => {
    const dump = await whichDump(connection, args.dump, `${title} of which dump?`);
    if (dump === undefined) {
      return;
    }
    // the server's commands take {"dump"?, ...}, not an address
    const params = { ...args, ...(dump ? { dump } : {}) } as unknown as AddressArgs;
    const answer = (await connection.executeCommand(command, params)) as unknown as T;
    const name = baseName(answer.dump);
    await results.showTitled(`${title} of ${name}`, text(answer, name), answer.dump, editors.current()?.viewColumn);
  };
  const fail = (err: unknown) => void vscode.window.showErrorMessage(messageOf(err).replace(/^heapspurs: /, ""));
  return [
    vscode.commands.registerCommand(COMMAND_SHOW_TOP, (args?: Record<string, unknown>) =>
      show<TopAnswer>(SERVER_COMMAND_TOP, args ?? {}, "Top retainers", topText).catch(fail),
    ),
    vscode.commands.registerCommand(COMMAND_SHOW_SUSPECTS, (args?: Record<string, unknown>) =>
      show<SuspectsAnswer>(SERVER_COMMAND_SUSPECTS, args ?? {}, "Leak suspects", suspectsText).catch(fail),
    ),
  ];
}
