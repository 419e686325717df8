// The type histogram (`heapspurs/histogram`) as an aligned text table. Pure functions (no
// vscode API), unit-tested in plain Node.

import { HistogramAnswer, NotAnObject } from "./protocol";

const number = (n: number) => n.toLocaleString("en-US");

/** Largest bytes first, a total line, then the server's note. */
export function histogramText(answer: HistogramAnswer, dumpName: string): string {
  const rows = [...answer.types].sort((a, b) => b.bytes - a.bytes || b.count - a.count || a.type.localeCompare(b.type));
  const count = rows.reduce((sum, row) => sum + row.count, 0);
  const table = [
    ["bytes", "count", "type"],
    ...rows.map((row) => [number(row.bytes), number(row.count), row.type]),
    [number(answer.typed_bytes), number(count), `total of ${number(rows.length)} type${rows.length === 1 ? "" : "s"}`],
  ];
  const widths = [0, 1].map((column) => Math.max(...table.map((cells) => cells[column].length)));
  const line = (cells: string[]) => `${cells[0].padStart(widths[0])}  ${cells[1].padStart(widths[1])}  ${cells[2]}`.trimEnd();
  const rule = `${"-".repeat(widths[0])}  ${"-".repeat(widths[1])}`;
  const share = answer.total_bytes > 0 ? ` (${((100 * answer.typed_bytes) / answer.total_bytes).toFixed(1)}%)` : "";
  const out = [
    `Types in ${dumpName}, largest first`,
    "",
    line(table[0]),
    ...table.slice(1, -1).map(line),
    rule,
    line(table[table.length - 1]),
    "",
    `typed: ${number(answer.typed_bytes)} of ${number(answer.total_bytes)} heap bytes${share}`,
  ];
  if (answer.note) {
    out.push(`note: ${answer.note}`);
  }
  return out.join("\n") + "\n";
}

/** The InvalidParams data of an address that is no heap object, when the error has it. */
export function notAnObject(error: unknown): NotAnObject | undefined {
  const data = (error as { data?: unknown } | null)?.data as Partial<NotAnObject> | null | undefined;
  return typeof data?.address === "string" && Array.isArray(data.places) && data.places.length > 0 ? (data as NotAnObject) : undefined;
}
