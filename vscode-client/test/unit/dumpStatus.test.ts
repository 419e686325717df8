import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { anyLoading, baseName, dumpRow, statusText } from "../../src/dumpStatus";
import { DumpInfo } from "../../src/protocol";

const dump = (over: Partial<DumpInfo>): DumpInfo => ({
  uri: "file:///work/space/heap%20one.dump",
  state: "ready",
  progress: 1,
  objects: 1234567,
  program: "file:///work/space/service",
  error: null,
  ...over,
});

describe("status bar text", () => {
  it("says starting, none, loading with the mean progress, ready and failed", () => {
    assert.match(statusText(undefined), /starting/);
    assert.match(statusText(undefined, "stopped"), /no server/);
    assert.match(statusText([dump({})], "stopped"), /no server/);
    assert.match(statusText([]), /no dumps/);
    assert.doesNotMatch(statusText([]), /search/, "no dumps is not a search");
    assert.match(statusText([dump({})], "starting"), /starting/, "a restarting server does not show the old count");
    assert.match(statusText([dump({ state: "loading", progress: 0.2 }), dump({ state: "loading", progress: 0.6 })]), /loading 40%/);
    assert.match(statusText([dump({})]), /\$\(database\) heapspurs: 1 dump$/);
    assert.match(statusText([dump({}), dump({ state: "error", error: "bad" })]), /1 dump, 1 failed/);
  });

  it("polls while anything loads or before the first answer", () => {
    assert.equal(anyLoading(undefined), true);
    assert.equal(anyLoading([dump({ state: "loading" })]), true);
    assert.equal(anyLoading([dump({})]), false);
  });
});

describe("dump rows", () => {
  it("names the file, its state, object count and matched binary", () => {
    assert.deepEqual(dumpRow(dump({})), {
      label: "heap one.dump",
      description: "ready · 1,234,567 objects",
      detail: "binary: service",
    });
  });

  it("shows the load error first and says when no binary matched", () => {
    const row = dumpRow(dump({ state: "error", program: null, error: "byte offset 12: truncated" }));
    assert.equal(row.description, "error");
    assert.equal(row.detail, "byte offset 12: truncated · no matched binary (no symbol names)");
    assert.equal(baseName("file:///a/b/c.heapdump"), "c.heapdump");
  });
});
