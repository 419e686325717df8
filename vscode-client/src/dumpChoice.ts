// An address can be an object in several loaded dumps (two dumps of one service, say). The
// server then refuses it and names the dumps; the user picks one and the call runs again.

import * as vscode from "vscode";
import { dumpsToChooseFrom } from "./commandArgs";
import { ServerConnection } from "./connection";
import { baseName } from "./dumpStatus";
import { AddressArgs } from "./protocol";

/** `run(args)`, asking which dump when the address is ambiguous; undefined if none is picked. */
export async function inOneDump<T>(args: AddressArgs, run: (args: AddressArgs) => Promise<T>): Promise<T | undefined> {
  try {
    return await run(args);
  } catch (err) {
    const dumps = dumpsToChooseFrom(err);
    if (!dumps || args.dump) {
      throw err;
    }
    const picked = await vscode.window.showQuickPick(
      dumps.map((uri) => ({ label: baseName(uri), description: vscode.Uri.parse(uri).fsPath, uri })),
      { title: `${args.address} is an object in several dumps: which one?` },
    );
    return picked ? run({ ...args, dump: picked.uri }) : undefined;
  }
}

/** The dump named in the arguments, else the only ready one, else the one picked. */
export async function whichDump(connection: ServerConnection, given: unknown, title: string): Promise<string | null | undefined> {
  if (typeof given === "string") {
    return given;
  }
  const ready = ((await connection.dumps())?.dumps ?? []).filter((d) => d.state === "ready");
  if (ready.length <= 1) {
    return ready[0]?.uri ?? null; // none: the server says so
  }
  const picked = await vscode.window.showQuickPick(
    ready.map((d) => ({ label: baseName(d.uri), description: vscode.Uri.parse(d.uri).fsPath, uri: d.uri })),
    { title },
  );
  return picked?.uri;
}
