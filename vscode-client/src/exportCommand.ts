// heapspurs.exportParquet: a loaded dump's tables (objects, references, roots, goroutines,
// types) as Parquet files in a new folder, for DuckDB or Spark. The server writes them
// (`heapspurs.export`); graph only, never the objects' bytes (dumps hold secrets).

import * as path from "node:path";
import * as vscode from "vscode";
import { ServerConnection } from "./connection";
import { whichDump } from "./dumpChoice";
import { baseName } from "./dumpStatus";
import { messageOf } from "./graphPanel";
import { AddressArgs } from "./protocol";

export const COMMAND_EXPORT = "heapspurs.exportParquet";
export const SERVER_COMMAND_EXPORT = "heapspurs.export";

interface ExportAnswer {
  dump: string;
  directory: string;
  tables: { table: string; path: string; rows: number; bytes: number }[];
}

/** The folder to write: `<dump>-tables` beside the dump, as the user confirms or edits it. */
async function askFolder(dump: string): Promise<string | undefined> {
  const file = vscode.Uri.parse(dump).fsPath;
  const suggested = path.join(path.dirname(file), `${path.parse(file).name}-tables`);
  const folder = await vscode.window.showInputBox({
    title: `Export ${baseName(dump)} to Parquet`,
    prompt: "A new folder for objects, references, roots, goroutines and types (graph only: no object bytes)",
    value: suggested,
    validateInput: (value) => (path.isAbsolute(value.trim()) ? undefined : "an absolute folder path"),
  });
  return folder?.trim();
}

async function exportTo(connection: ServerConnection, dump: string, directory: string, force: boolean): Promise<ExportAnswer> {
  // the server's command takes {"dump" (or "uri"), "directory", "bytes", "force"}, not an address
  const params = { dump, directory, bytes: "none", force } as unknown as AddressArgs;
  return (await connection.executeCommand(SERVER_COMMAND_EXPORT, params)) as unknown as ExportAnswer;
}

/** Writes the tables, asking before it replaces an existing folder; undefined if declined. */
async function exportAsked(connection: ServerConnection, dump: string, directory: string): Promise<ExportAnswer | undefined> {
  try {
    return await exportTo(connection, dump, directory, false);
  } catch (err) {
    if (!/ exists: give --force/.test(messageOf(err))) {
      throw err;
    }
    const replace = await vscode.window.showWarningMessage(`${directory} exists. Replace its tables?`, { modal: true }, "Replace");
    return replace ? exportTo(connection, dump, directory, true) : undefined;
  }
}

export function registerExport(connection: ServerConnection): vscode.Disposable {
  return vscode.commands.registerCommand(COMMAND_EXPORT, async (args?: Record<string, unknown>) => {
    try {
      const dump = await whichDump(connection, args?.dump, "Export which dump?");
      if (dump === null) {
        void vscode.window.showInformationMessage("heapspurs: no heap dump is loaded.");
      }
      if (!dump) {
        return;
      }
      const directory = typeof args?.directory === "string" ? args.directory : await askFolder(dump);
      if (!directory) {
        return;
      }
      const answer = await exportAsked(connection, dump, directory);
      if (!answer) {
        return;
      }
      const rows = answer.tables.map((t) => `${t.table} ${t.rows.toLocaleString("en-US")}`).join(", ");
      const reveal = await vscode.window.showInformationMessage(`Exported ${baseName(answer.dump)} to ${answer.directory}: ${rows} rows.`, "Reveal in Explorer");
      if (reveal) {
        await vscode.commands.executeCommand("revealInExplorer", vscode.Uri.file(answer.directory));
      }
    } catch (err) {
      void vscode.window.showErrorMessage(messageOf(err).replace(/^heapspurs: /, ""));
    }
  });
}
