// heapspurs.compareWithBaseline: what grew between two loaded dumps of one program. The
// user picks the newer dump (newest first) and then the older one; the server compares them
// (`heapspurs.compare`) and its answer is shown as a result document.

import * as vscode from "vscode";
import { resultText } from "./commandArgs";
import { ServerConnection } from "./connection";
import { baseName } from "./dumpStatus";
import { EditorTracker } from "./editors";
import { messageOf } from "./graphPanel";
import { AddressArgs } from "./protocol";
import { ResultDocuments } from "./resultDocuments";

export const COMMAND_COMPARE = "heapspurs.compareWithBaseline";
export const SERVER_COMMAND_COMPARE = "heapspurs.compare";
/** The growth groups asked for: the largest first, as many as a document shows well. */
const GROUPS = 20;

interface CompareAnswer {
  dump: string;
  baselines: string[];
  markdown: string;
}

interface ReadyDump {
  uri: string;
  modified: number;
}

/** The loaded dumps, newest file first (a dump taken later is the one compared). */
async function readyDumps(connection: ServerConnection): Promise<ReadyDump[]> {
  const ready = ((await connection.dumps())?.dumps ?? []).filter((d) => d.state === "ready");
  const dated = await Promise.all(
    ready.map(async (d) => {
      const modified = await vscode.workspace.fs.stat(vscode.Uri.parse(d.uri)).then(
        (stat) => stat.mtime,
        () => 0,
      );
      return { uri: d.uri, modified };
    }),
  );
  return dated.sort((a, b) => b.modified - a.modified);
}

async function pick(dumps: ReadyDump[], title: string): Promise<string | undefined> {
  const picked = await vscode.window.showQuickPick(
    dumps.map((d) => ({
      label: baseName(d.uri),
      description: vscode.Uri.parse(d.uri).fsPath,
      detail: d.modified ? `written ${new Date(d.modified).toLocaleString()}` : undefined,
      uri: d.uri,
    })),
    { title },
  );
  return picked?.uri;
}

/** The newer dump and its baseline: from the arguments, else picked; undefined if cancelled. */
async function chooseDumps(connection: ServerConnection, args: Record<string, unknown>): Promise<[string, string] | undefined> {
  const dumps = await readyDumps(connection);
  const others = (uri: string) => dumps.filter((d) => d.uri !== uri);
  const given = (key: string) => (typeof args[key] === "string" ? (args[key] as string) : undefined);
  if (!given("dump") && dumps.length < 2) {
    void vscode.window.showInformationMessage(
      "heapspurs: comparing needs two loaded dumps of one program: add the older one to the workspace or load it with 'Load Heap Dump…'.",
    );
    return undefined;
  }
  const dump = given("dump") ?? (await pick(dumps, "Compare which dump (the newer one)?"));
  if (!dump) {
    return undefined;
  }
  const baseline = given("baseline") ?? (await pick(others(dump), `Compare ${baseName(dump)} with which older dump?`));
  return baseline ? [dump, baseline] : undefined;
}

export function registerCompare(connection: ServerConnection, results: ResultDocuments, editors: EditorTracker): vscode.Disposable {
  return vscode.commands.registerCommand(COMMAND_COMPARE, async (args?: Record<string, unknown>) => {
    try {
      const chosen = await chooseDumps(connection, args ?? {});
      if (!chosen) {
        return;
      }
      const [dump, baseline] = chosen;
      // the server's command takes {"dump", "baselineUris", "top"}, not an address
      const params = { dump, baselineUris: [baseline], top: GROUPS } as unknown as AddressArgs;
      const answer = (await connection.executeCommand(SERVER_COMMAND_COMPARE, params)) as unknown as CompareAnswer;
      const title = `What grew in ${baseName(answer.dump)} since ${baseName(baseline)}`;
      await results.showTitled(title, resultText(answer.markdown), answer.dump, editors.current()?.viewColumn);
    } catch (err) {
      void vscode.window.showErrorMessage(messageOf(err).replace(/^heapspurs: /, ""));
    }
  });
}
