import assert from "node:assert/strict";
import { it } from "node:test";
import { histogramText, notAnObject } from "../../src/histogram";
import { notAnObjectResult } from "../../src/resultTree";

it("lays the histogram out as aligned columns, largest bytes first, with a total and the note", () => {
  const text = histogramText(
    {
      dump: "file:///w/service.heapdump",
      types: [
        { type: "main.Item", count: 2100, bytes: 67200 },
        { type: "[9000]*main.Item", count: 1, bytes: 73728 },
        { type: "string", count: 3, bytes: 48 },
      ],
      typed_bytes: 140976,
      total_bytes: 200000,
      note: "untyped objects are left out",
    },
    "service.heapdump",
  );
  const lines = text.split("\n");
  assert.equal(lines[0], "Types in service.heapdump, largest first");
  assert.deepEqual(lines.slice(2, 6), [
    "  bytes  count  type",
    " 73,728      1  [9000]*main.Item",
    " 67,200  2,100  main.Item",
    "     48      3  string",
  ]);
  assert.equal(lines[6], "-------  -----");
  assert.equal(lines[7], "140,976  2,104  total of 3 types");
  assert.match(text, /typed: 140,976 of 200,000 heap bytes \(70\.5%\)/);
  assert.match(text, /note: untyped objects are left out\n$/);
});

it("recognises an address that is no object and says what it is", () => {
  const error = { code: -32602, data: { address: "0x6a9c98", places: [{ dump: "file:///a", name: "a.heapdump", what: "0x6a9c98 is in the bss segment: global main.gSessions" }] } };
  const found = notAnObject(error);
  assert.ok(found);
  const result = notAnObjectResult("anchors", found);
  assert.equal(result.title, "Anchors of 0x6a9c98");
  assert.deepEqual(
    result.rows.map((r) => (r.kind === "note" ? [r.text, r.detail] : r.kind)),
    [
      ["0x6a9c98 is not a heap object, so it has no anchors", undefined],
      ["0x6a9c98 is in the bss segment: global main.gSessions", "a.heapdump"],
    ],
  );
  assert.equal(notAnObject({ code: -32602, data: { dumps: ["file:///a", "file:///b"] } }), undefined);
  assert.equal(notAnObject(new Error("x")), undefined);
});
