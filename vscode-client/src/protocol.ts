// Names and shapes the heapspurs language server answers with
// (server/heapspurs/lsp/protocol.py, docs/language-server.md). Kept free of the vscode API
// so that unit tests run in plain Node.

/** Server commands (workspace/executeCommand). */
export const SERVER_COMMANDS = {
  anchors: "heapspurs.anchors",
  owners: "heapspurs.owners",
  hexdump: "heapspurs.hexdump",
  graph: "heapspurs.graph",
  loadDump: "heapspurs.loadDump",
} as const;

export const REQUEST_GRAPH = "heapspurs/graph";
export const REQUEST_DUMPS = "heapspurs/dumps";

/** The client's own commands (package.json `contributes.commands`). */
export const CLIENT_COMMANDS = {
  anchors: "heapspurs.showAnchors",
  owners: "heapspurs.showOwners",
  hexdump: "heapspurs.showHexdump",
  graph: "heapspurs.showGraph",
  openDump: "heapspurs.openDump",
  restart: "heapspurs.restartServer",
  listDumps: "heapspurs.listDumps",
} as const;

export type ResultKind = "anchors" | "owners" | "hexdump";

/** Argument of the address commands, as the server takes it. */
export interface AddressArgs {
  address: string;
  dump?: string;
  depth?: number;
}

/** Commands answer the CLI's --json shape plus these two fields. */
export interface CommandAnswer {
  dump: string;
  markdown: string;
  [key: string]: unknown;
}

export interface GraphAnswer {
  svg: string | null;
  dot: string;
  nodes: number;
  truncated: boolean;
  address: string;
  dump: string;
  error?: string;
}

export interface DumpInfo {
  uri: string;
  state: "loading" | "ready" | "error";
  progress: number;
  objects: number;
  program: string | null;
  error: string | null;
  warning?: string | null;
}

export interface DumpsAnswer {
  dumps: DumpInfo[];
}
