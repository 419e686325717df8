// Where the memory goes: the largest retainers (`heapspurs/top`) and the leak suspects
// (`heapspurs/suspects`) as result documents. Pure functions (no vscode API), unit-tested
// in plain Node.

export const COMMAND_SHOW_TOP = "heapspurs.showTopRetainers";
export const COMMAND_SHOW_SUSPECTS = "heapspurs.showLeakSuspects";
export const SERVER_COMMAND_TOP = "heapspurs.top";
export const SERVER_COMMAND_SUSPECTS = "heapspurs.suspects";

/** An object with what it retains (the CLI's --top --json entries). */
export interface Retainer {
  address: string;
  size: number;
  type: string;
  name: string | null;
  retained: number;
  retained_objects: number;
}

export interface TopAnswer {
  dump: string;
  objects: (Retainer & { anchor: string | null })[];
  live_bytes: number;
  live_objects: number;
  parent: Retainer | null;
}

export interface SuspectAnchor {
  label: string;
  name: string;
  path: string[];
  fields: string[];
  expression: string | null;
}

export interface Suspect {
  kind: "object" | "group";
  type: string;
  count: number;
  retained: number;
  retained_objects: number;
  percent: number;
  objects: Retainer[];
  accumulation_point: Retainer;
  anchor: SuspectAnchor | null;
  accumulated: { type: string; count: number; bytes: number }[];
}

export interface SuspectsAnswer {
  dump: string;
  threshold: number;
  live_bytes: number;
  live_objects: number;
  suspects: Suspect[];
}

const number = (n: number) => n.toLocaleString("en-US");
const percent = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : "0.0%");

/** Rows of cells as columns: numbers (all cells but the last two) to the right. */
function columns(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const last = rows[0].length - 2;
  return rows.map((r) => r.map((cell, c) => (c < last ? cell.padStart(widths[c]) : c === last ? cell.padEnd(widths[c]) : cell)).join("  ").trimEnd());
}

function retains(r: Pick<Retainer, "retained" | "retained_objects">, live: number): string {
  return `retains ${number(r.retained)} bytes (${percent(r.retained, live)} of the heap) in ${number(r.retained_objects)} objects`;
}

/** The largest retainers, largest first, with the share of the live heap and the anchor. */
export function topText(answer: TopAnswer, dumpName: string): string {
  const live = answer.live_bytes;
  const head = answer.parent
    ? `Retained under ${answer.parent.address} (${answer.parent.type}) in ${dumpName}: it ${retains(answer.parent, live)}`
    : `Largest retainers in ${dumpName}: live heap ${number(live)} bytes in ${number(answer.live_objects)} objects`;
  const rows = [
    ["retained", "%", "objects", "size", "address", "type  ← anchor"],
    ...answer.objects.map((o) => [
      number(o.retained),
      percent(o.retained, live),
      number(o.retained_objects),
      number(o.size),
      o.address,
      `${o.type}  ← ${o.anchor ?? "no root"}`,
    ]),
  ];
  const out = [head, "", ...columns(rows)];
  if (answer.objects.length === 0) {
    out.push("(it dominates no other object)");
  }
  return out.join("\n") + "\n";
}

/** Each suspect: what it is, where its memory piles up, its anchor chain, the types there. */
export function suspectsText(answer: SuspectsAnswer, dumpName: string): string {
  const live = answer.live_bytes;
  const found = answer.suspects;
  const out = [
    `${found.length} leak suspect${found.length === 1 ? "" : "s"} in ${dumpName}: retaining ≥ ${100 * answer.threshold}% of the live heap (${number(live)} bytes)`,
  ];
  found.forEach((s, i) => {
    const what = s.kind === "group" ? `${number(s.count)} objects of type ${s.type}` : `${s.type} @ ${s.objects[0]?.address ?? "?"}`;
    out.push("", `Suspect ${i + 1}: ${what} ${retains(s, live)}`);
    out.push(`  accumulation point: ${s.accumulation_point.type} @ ${s.accumulation_point.address}, ${retains(s.accumulation_point, live)}`);
    if (s.anchor) {
      out.push(`  anchor: ${s.anchor.label}, chain of ${s.anchor.path.length} object(s)`);
      if (s.anchor.expression) {
        out.push(`    path: ${s.anchor.expression} → ${s.accumulation_point.type}`);
      }
    }
    out.push("  accumulated under it:");
    const rows = [["bytes", "%", "count", "type", ""], ...s.accumulated.map((t) => [number(t.bytes), percent(t.bytes, live), number(t.count), t.type, ""])];
    out.push(...columns(rows).map((line) => `    ${line}`));
  });
  return out.join("\n") + "\n";
}
