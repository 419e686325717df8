// Dumps loaded with "Load Heap Dump…" that no `heapspurs.dumps` glob finds: remembered per
// workspace, so that a restarted server (Restart Server, a crash, the next window) has them
// again.

import * as vscode from "vscode";
import { ServerConnection } from "./connection";
import { SERVER_COMMANDS } from "./protocol";

const KEY = "heapspurs.handLoadedDumps";

export class HandLoadedDumps {
  constructor(private readonly state: vscode.Memento) {}

  all(): string[] {
    return this.state.get<string[]>(KEY, []);
  }

  async add(uri: string): Promise<void> {
    if (!this.all().includes(uri)) {
      await this.state.update(KEY, [...this.all(), uri]);
    }
  }

  async remove(uri: string): Promise<void> {
    await this.state.update(KEY, this.all().filter((u) => u !== uri));
  }

  /** Loads them into a server that just started; a file that is gone is forgotten. */
  async reload(connection: ServerConnection): Promise<void> {
    for (const uri of this.all()) {
      try {
        await vscode.workspace.fs.stat(vscode.Uri.parse(uri));
      } catch {
        await this.remove(uri);
        continue;
      }
      connection.executeCommand(SERVER_COMMANDS.loadDump, { uri }).then(undefined, (err: unknown) => {
        connection.output.warn(`reloading ${uri}: ${String(err)}`);
      });
    }
  }
}
