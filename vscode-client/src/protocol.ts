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
export const REQUEST_HISTOGRAM = "heapspurs/histogram";
/** One level of owners, for the results view: params as the address commands. */
export const REQUEST_DIRECT_OWNERS = "heapspurs/directOwners";
/** Server → client, params as the heapspurs/dumps answer; sent when the client declares
 * `experimental.heapspurs.dumpsChanged` in its capabilities. */
export const NOTE_DUMPS_CHANGED = "heapspurs/dumpsChanged";
/** JSON-RPC's "method not found": a server that does not answer a request yet. */
export const METHOD_NOT_FOUND = -32601;

/** The client's own commands (package.json `contributes.commands`). */
export const CLIENT_COMMANDS = {
  anchors: "heapspurs.showAnchors",
  owners: "heapspurs.showOwners",
  hexdump: "heapspurs.showHexdump",
  graph: "heapspurs.showGraph",
  openDump: "heapspurs.openDump",
  restart: "heapspurs.restartServer",
  listDumps: "heapspurs.listDumps",
  histogram: "heapspurs.histogram",
  /** also the server's command (the CodeLens's): the client shows its answer */
  instances: "heapspurs.instances",
  showLog: "heapspurs.showLog",
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
  /** The Go version that wrote the dump, once it is loaded. */
  go_version?: string | null;
}

export interface DumpsAnswer {
  dumps: DumpInfo[];
}

/** heapspurs/histogram params: `{"dump"?: uri}`. */
export interface HistogramArgs {
  dump?: string;
}

export interface HistogramRow {
  type: string;
  count: number;
  bytes: number;
}

export interface HistogramAnswer {
  dump: string;
  types: HistogramRow[];
  typed_bytes: number;
  total_bytes: number;
  note: string | null;
}

/**
 * InvalidParams `data` when an address is no heap object: what it is in each dump that
 * knows it (a global, a stack slot, free memory). Informative, shown as the answer.
 */
export interface NotAnObject {
  address: string;
  places: { dump: string; name: string; what: string }[];
}
