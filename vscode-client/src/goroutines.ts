// The goroutines answer (`heapspurs/goroutines`) as a result document: a summary of the
// leaked goroutines first, then every goroutine grouped by identical stack (the server's
// pprof-style text). Pure functions (no vscode API), unit-tested in plain Node.

export const COMMAND_SHOW_GOROUTINES = "heapspurs.showGoroutines";
export const SERVER_COMMAND_GOROUTINES = "heapspurs.goroutines";
/** Goroutines the command asks for: the leaked first; the groups still cover them all. */
export const GOROUTINES_LIMIT = 1000;

export interface GoroutineFrame {
  function: string;
  file: string | null;
  line: number | null;
  pc: string;
  reason?: string;
}

export interface Goroutine {
  id: number;
  status: string;
  wait_reason: string;
  wait_minutes: number | null;
  leaked: boolean | null;
  why: string | null;
  retained: { bytes: number; objects: number };
  frames: GoroutineFrame[];
  created_by: { function: string | null; file: string | null; line: number | null; pc: string };
}

export interface GoroutinesAnswer {
  dump: string;
  goroutines: Goroutine[];
  total?: number;
  leaked: number;
  unknown?: number;
  omitted?: number;
  markdown: string;
}

const number = (n: number) => n.toLocaleString("en-US");

/** The first frame that is the program's own (not the runtime's or sync's waiting code). */
export function ownFrame(g: Goroutine): GoroutineFrame | undefined {
  const runtime = /^(runtime|internal\/|sync[./]|syscall\.|time\.)/;
  return g.frames.find((f) => !runtime.test(f.function)) ?? g.frames[0];
}

function where(f: GoroutineFrame | undefined): string {
  if (!f) {
    return "";
  }
  return f.file ? `${f.function} (${f.file}:${f.line})` : `${f.function} (${f.pc})`;
}

/** The server's grouped text, out of the markdown's fenced block. */
export function groupedText(markdown: string): string {
  const match = /(`{3,})text\n([\s\S]*?)\n\1/.exec(markdown);
  return match ? match[2] : "";
}

/** Header, one line per leaked goroutine (largest retained first), then the groups. */
export function goroutinesText(answer: GoroutinesAnswer, dumpName: string): string {
  const leaked = answer.goroutines.filter((g) => g.leaked === true).sort((a, b) => b.retained.bytes - a.retained.bytes || a.id - b.id);
  const unknown = answer.unknown ?? answer.goroutines.filter((g) => g.leaked === null).length;
  const total = answer.total ?? answer.goroutines.length;
  const out = [
    `Goroutines in ${dumpName}: ${number(total)}, ${number(answer.leaked ?? leaked.length)} leaked` +
      (unknown ? `, ${number(unknown)} not decided` : ""),
    "",
  ];
  if (leaked.length) {
    out.push("Leaked (blocked forever: nothing that can run reaches what they wait on):");
    for (const g of leaked) {
      out.push(`  goroutine ${g.id} [${g.wait_reason}] ${where(ownFrame(g))}, retains ${number(g.retained.bytes)} bytes`);
      if (g.why) {
        out.push(`    ${g.why}`);
      }
    }
    const more = answer.leaked - leaked.length;
    if (more > 0) {
      out.push(`  … ${number(more)} more leaked goroutines (all of them are in the groups below)`);
    }
    out.push("");
  }
  out.push(groupedText(answer.markdown));
  return out.join("\n").trimEnd() + "\n";
}
