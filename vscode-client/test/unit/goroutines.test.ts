import assert from "node:assert/strict";
import { it } from "node:test";
import { Goroutine, goroutinesText, groupedText, ownFrame } from "../../src/goroutines";

const frame = (fn: string, line: number) => ({ function: fn, file: `x/${fn}.go`, line, pc: "0x1" });

function goroutine(id: number, leaked: boolean | null, bytes: number, fn: string): Goroutine {
  return {
    id,
    status: "waiting",
    wait_reason: "chan receive",
    wait_minutes: null,
    leaked,
    why: leaked ? "waits on channel 0xc0, which no root and no goroutine that can run reaches" : null,
    retained: { bytes, objects: 1 },
    frames: [frame("runtime.gopark", 1), frame("runtime.chanrecv1", 2), frame(fn, 76), frame("runtime.goexit", 3)],
    created_by: { function: "main.start", file: "main.go", line: 70, pc: "0x2" },
  };
}

it("lists the leaked goroutines first, largest retained first, then the server's groups", () => {
  const text = goroutinesText(
    {
      dump: "file:///w/service.heapdump",
      leaked: 2,
      markdown: "### heapspurs\n\n**Goroutines**\n\n```text\ngoroutine profile: total 3, leaked 2\n\n1 @ 0x1\n```",
      goroutines: [goroutine(18, true, 112, "main.small"), goroutine(19, false, 0, "main.parked"), goroutine(20, true, 4096, "main.big")],
    },
    "service.heapdump",
  );
  const lines = text.split("\n");
  assert.equal(lines[0], "Goroutines in service.heapdump: 3, 2 leaked");
  assert.match(lines[3], /^ {2}goroutine 20 \[chan receive\] main\.big \(x\/main\.big\.go:76\), retains 4,096 bytes$/);
  assert.match(lines[5], /^ {2}goroutine 18 /);
  assert.ok(text.includes("goroutine profile: total 3, leaked 2\n\n1 @ 0x1\n"));
  assert.ok(!text.includes("goroutine 19 ["));
});

it("counts from the server's totals when it sent only the first goroutines", () => {
  const text = goroutinesText(
    { dump: "file:///d", total: 100000, leaked: 33334, unknown: 0, omitted: 99999, markdown: "", goroutines: [goroutine(7, true, 64, "main.f")] },
    "d",
  );
  const lines = text.split("\n");
  assert.equal(lines[0], "Goroutines in d: 100,000, 33,334 leaked");
  assert.ok(lines.includes("  … 33,333 more leaked goroutines (all of them are in the groups below)"));
});

it("says how many have no verdict, and names a frame without a file by its pc", () => {
  const g = goroutine(5, null, 0, "main.f");
  g.frames = [{ function: "main.f", file: null, line: null, pc: "0xabc", reason: "no --program" }];
  const text = goroutinesText({ dump: "file:///d", leaked: 0, markdown: "", goroutines: [g] }, "d");
  assert.equal(text.split("\n")[0], "Goroutines in d: 1, 0 leaked, 1 not decided");
  assert.equal(ownFrame(g)?.pc, "0xabc");
});

it("takes the grouped text out of a fence longer than any backticks inside", () => {
  assert.equal(groupedText("a\n\n````text\nx ``` y\n````"), "x ``` y");
  assert.equal(groupedText("no block"), "");
});
