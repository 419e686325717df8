import assert from "node:assert/strict";
import { it } from "node:test";
import { SuspectsAnswer, TopAnswer, suspectsText, topText } from "../../src/retained";

const cache = { address: "0x2845", size: 16, type: "main.Cache", name: null, retained: 1260448, retained_objects: 5959 };

it("lays the top retainers out as aligned columns with the share of the heap and the anchor", () => {
  const answer: TopAnswer = {
    dump: "file:///w/service.heapdump",
    live_bytes: 1704344,
    live_objects: 8188,
    parent: null,
    objects: [
      { ...cache, anchor: "global main.gCache (bss)" },
      { address: "0x2846048", size: 24, type: "main.Table", name: null, retained: 106952, retained_objects: 1997, anchor: "global main.gTable (bss)" },
      { address: "0x2847", size: 32768, type: "[32768]uint8", name: null, retained: 32768, retained_objects: 1, anchor: null },
    ],
  };
  const lines = topText(answer, "service.heapdump").split("\n");
  assert.equal(lines[0], "Largest retainers in service.heapdump: live heap 1,704,344 bytes in 8,188 objects");
  assert.deepEqual(lines.slice(2, 6), [
    " retained      %  objects    size  address    type  ← anchor",
    "1,260,448  74.0%    5,959      16  0x2845     main.Cache  ← global main.gCache (bss)",
    "  106,952   6.3%    1,997      24  0x2846048  main.Table  ← global main.gTable (bss)",
    "   32,768   1.9%        1  32,768  0x2847     [32768]uint8  ← no root",
  ]);
});

it("heads a drill-down with the object it is under, and says when it dominates nothing", () => {
  const text = topText({ dump: "file:///w/a.heapdump", live_bytes: 2000, live_objects: 9, parent: { ...cache, retained: 500, retained_objects: 3 }, objects: [] }, "a.heapdump");
  assert.match(text, /^Retained under 0x2845 \(main.Cache\) in a.heapdump: it retains 500 bytes \(25.0% of the heap\) in 3 objects\n/);
  assert.match(text, /\(it dominates no other object\)\n$/);
});

it("writes each leak suspect with its accumulation point, Go path and accumulated types", () => {
  const answer: SuspectsAnswer = {
    dump: "file:///w/service.heapdump",
    threshold: 0.1,
    live_bytes: 1704344,
    live_objects: 8188,
    suspects: [
      {
        kind: "object",
        type: "main.Cache",
        count: 1,
        retained: 1260448,
        retained_objects: 5959,
        percent: 73.96,
        objects: [cache],
        accumulation_point: { address: "0x2848", size: 32, type: "[4]*map.table[string]*main.Entry", name: null, retained: 1260384, retained_objects: 5957 },
        anchor: { label: "global main.gCache (bss)", name: "main.gCache", path: ["0x2845", "0x2849", "0x2848"], fields: ["", ".items", ""], expression: "main.gCache.items" },
        accumulated: [
          { type: "[512]uint8", count: 2000, bytes: 1024000 },
          { type: "main.Entry", count: 2000, bytes: 96000 },
        ],
      },
      { kind: "group", type: "[32768]uint8", count: 8, retained: 262144, retained_objects: 8, percent: 15.38, objects: [], accumulation_point: { ...cache, type: "[32768]uint8", retained: 32768, retained_objects: 1 }, anchor: null, accumulated: [] },
    ],
  };
  const text = suspectsText(answer, "service.heapdump");
  const lines = text.split("\n");
  assert.equal(lines[0], "2 leak suspects in service.heapdump: retaining ≥ 10% of the live heap (1,704,344 bytes)");
  assert.equal(lines[2], "Suspect 1: main.Cache @ 0x2845 retains 1,260,448 bytes (74.0% of the heap) in 5,959 objects");
  assert.equal(lines[4], "  anchor: global main.gCache (bss), chain of 3 object(s)");
  assert.equal(lines[5], "    path: main.gCache.items → [4]*map.table[string]*main.Entry");
  assert.deepEqual(lines.slice(7, 10), ["        bytes      %  count  type", "    1,024,000  60.1%  2,000  [512]uint8", "       96,000   5.6%  2,000  main.Entry"]);
  assert.match(text, /Suspect 2: 8 objects of type \[32768\]uint8 retains 262,144 bytes \(15.4% of the heap\)/);
});
