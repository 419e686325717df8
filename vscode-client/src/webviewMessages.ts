// Messages between the owner-graph panel (extension side) and its webview script.

import { GraphAnswer } from "./protocol";

export type ToWebview =
  | { type: "loading"; address: string }
  | { type: "graph"; answer: GraphAnswer }
  | { type: "error"; address: string; message: string };

export type FromWebview =
  | { type: "ready" }
  /** A node was clicked: refocus the graph on its object. */
  | { type: "focus"; address: string }
  | { type: "anchors"; address: string }
  /** Save the SVG shown (sent back because the webview may have drawn it itself). */
  | { type: "save"; address: string; svg: string };

/** Object nodes carry the SVG id `obj_0x…` (server/heapspurs/render/graph.py node_id). */
export function addressOfNodeId(id: string): string | undefined {
  const match = /^obj_(0x[0-9a-f]+)$/.exec(id);
  return match ? match[1] : undefined;
}
