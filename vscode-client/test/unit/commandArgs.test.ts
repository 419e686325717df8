import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  HOVER_LINK_COMMANDS,
  argsFromInvocation,
  dumpsToChooseFrom,
  linksToClientCommands,
  resultText,
} from "../../src/commandArgs";

describe("argsFromInvocation", () => {
  it("takes address, dump and depth from a hover link's argument", () => {
    const args = { address: "0xc000010000", dump: "file:///w/heap.dump", depth: -1 };
    assert.deepEqual(argsFromInvocation([args]), args);
    assert.deepEqual(argsFromInvocation([[args]]), args);
  });

  it("ignores what the editor context menu passes (the document URI) and the palette's nothing", () => {
    const documentUri = { scheme: "file", path: "/w/service.log", fsPath: "/w/service.log" };
    assert.equal(argsFromInvocation([documentUri, { groupId: 0 }]), undefined);
    assert.equal(argsFromInvocation([]), undefined);
    assert.equal(argsFromInvocation([undefined]), undefined);
    assert.equal(argsFromInvocation(["0xc000010000"]), undefined);
  });

  it("drops fields of the wrong type instead of passing them to the server", () => {
    assert.deepEqual(argsFromInvocation([{ address: "0x10", dump: 3, depth: 1.5 }]), { address: "0x10" });
  });
});

describe("linksToClientCommands", () => {
  const link = (command: string) =>
    `[Anchors](command:${command}?${encodeURIComponent(JSON.stringify([{ address: "0x1" }]))})`;

  it("points the server's command links at the client's commands, keeping the arguments", () => {
    const markdown = ["anchors", "owners", "hexdump", "graph"].map((c) => link(`heapspurs.${c}`)).join(" · ");
    const rewritten = linksToClientCommands(markdown);
    for (const command of HOVER_LINK_COMMANDS) {
      assert.ok(rewritten.includes(link(command)), `${command} in ${rewritten}`);
    }
    assert.ok(!rewritten.includes("command:heapspurs.anchors?"));
  });

  it("leaves other links and text alone", () => {
    const markdown = "see [docs](https://example.invalid) and (command:heapspurs.loadDump?[]) `heapspurs.anchors`";
    assert.equal(linksToClientCommands(markdown), markdown);
  });
});

describe("resultText", () => {
  it("turns the server's markdown into plain text, keeping code lines and their indentation", () => {
    const markdown = [
      "### heapspurs · `heap.dump` (go1.27.3)",
      "",
      "**Owners** (3 levels)",
      "",
      "```text",
      "main.Thing @ 0xc000010000",
      "  <- `quoted` stays in code",
      "```",
    ].join("\n");
    assert.equal(
      resultText(markdown),
      ["heapspurs · heap.dump (go1.27.3)", "", "Owners (3 levels)", "", "main.Thing @ 0xc000010000", "  <- `quoted` stays in code", ""].join("\n"),
    );
  });
});

describe("dumpsToChooseFrom", () => {
  it("reads the dumps an ambiguous-address error names", () => {
    const error = { code: -32602, message: "0x10 is an object in several dumps", data: { dumps: ["file:///a", "file:///b"] } };
    assert.deepEqual(dumpsToChooseFrom(error), ["file:///a", "file:///b"]);
  });

  it("finds nothing to choose in other errors", () => {
    assert.equal(dumpsToChooseFrom(new Error("in no object")), undefined);
    assert.equal(dumpsToChooseFrom({ data: { dumps: ["file:///a"] } }), undefined);
    assert.equal(dumpsToChooseFrom({ data: { dumps: [1, 2] } }), undefined);
    assert.equal(dumpsToChooseFrom(null), undefined);
  });
});
