// Goroutines in a real VS Code: "Show Goroutines and Leaks" on the goroutine-leak fixture
// (tests/fixtures/goleaks/go1.27) shows the leaked goroutines first as a result document,
// and a hover on "goroutine N" in a panic trace shows its stack, its verdict and a link to
// the workspace's source file; the Heap view's Goroutines tree lists the leaked goroutine
// (groups of one stack, leaked first) and a click on its frame opens main.go at the line.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_DIR } from "./codeServer";
import { SERVER, describeInVsCode } from "./session";
import { editorText, hoverUntil, openFile, palette } from "./workbench";

const FIXTURE = join(REPO_DIR, "tests/fixtures/goleaks/go1.27");
const SOURCE = join(REPO_DIR, "tests/fixtures/src/goleaks");

interface Case {
  case: string;
  id: number;
  leaked: boolean;
}
const cases = (JSON.parse(readFileSync(join(FIXTURE, "truth.json"), "utf8")) as { goroutines: Case[] }).goroutines;
const leakedCase = cases.find((c) => c.case === "own_chan_recv") as Case;

/** The leaked goroutine's own frame (function and line) as the CLI gives it. */
const leakedFrame = (() => {
  const cli = join(REPO_DIR, ".venv/bin/heapspurs");
  const answer = JSON.parse(execFileSync(cli, [join(FIXTURE, "heap.dump"), "--program", join(FIXTURE, "goleaks"), "--goroutines", "--json"]).toString()) as {
    goroutines: { id: number; frames: { function: string; line: number }[] }[];
  };
  const goroutine = answer.goroutines.find((g) => g.id === leakedCase.id);
  return goroutine?.frames.find((f) => f.function.startsWith("main.")) as { function: string; line: number };
})();

/** The module's checkout with its dump and binary, and a panic trace naming a goroutine. */
function makeWorkspace(): string {
  const folder = mkdtempSync(join(tmpdir(), "heapspurs-goroutines-"));
  copyFileSync(join(FIXTURE, "heap.dump"), join(folder, "service.heapdump"));
  copyFileSync(join(FIXTURE, "goleaks"), join(folder, "goleaks"));
  for (const name of ["main.go", "go.mod"]) {
    copyFileSync(join(SOURCE, name), join(folder, name));
  }
  writeFileSync(join(folder, "panic.log"), `panic: stuck\n\ngoroutine ${leakedCase.id} [chan receive]:\nmain.ownChanRecv(...)\n`);
  return folder;
}

describeInVsCode(
  "heapspurs goroutines in VS Code",
  () => ({
    workspace: makeWorkspace(),
    settings: { "heapspurs.server.path": SERVER },
    open: (page) => openFile(page, "panic.log"),
  }),
  (session) => {
    const { step, shot } = session;

    step("a hover on 'goroutine N' says it leaked, with its stack linked to the source", async () => {
      // the editor draws the number as its own token: hover the word before it
      const hover = await hoverUntil(session.page, "goroutine", /leaked/);
      const text = await hover.innerText();
      assert.match(text, /main\.ownChanRecv/);
      assert.match(text, /retains \d+ bytes/);
      assert.ok((await hover.locator("a", { hasText: "main.go:" }).count()) > 0, "a frame links to main.go");
      await shot("goroutine-hover");
      await session.page.keyboard.press("Escape");
    });

    step("Show Goroutines and Leaks lists the leaked goroutines first, then every stack group", async () => {
      const { page } = session;
      await palette(page, "heapspurs: Show Goroutines and Leaks");
      await page.getByRole("tab", { name: /Goroutines of service\.heapdump/ }).waitFor({ timeout: 90_000 });
      const text = await editorText(page);
      const leaked = cases.filter((c) => c.leaked).length;
      assert.match(text, new RegExp(`^Goroutines in service\\.heapdump: \\d+, ${leaked} leaked`));
      for (const c of cases.filter((c) => c.leaked)) {
        assert.match(text, new RegExp(`^ {2}goroutine ${c.id} \\[`, "m"), c.case);
      }
      assert.match(text, /goroutine profile: total \d+, leaked \d+/);
      await shot("goroutines");
    });

    step("the Heap view's Goroutines tree lists the leaked goroutine; its frame opens main.go at the line", async () => {
      const { page } = session;
      await palette(page, "Heap: Focus on Goroutines View");
      const tree = page.getByRole("tree", { name: "Goroutines" });
      const goroutine = tree.getByRole("treeitem", { name: new RegExp(`^goroutine ${leakedCase.id} \\[.*\\] leaked`) }).first();
      await goroutine.waitFor({ timeout: 90_000 });
      await goroutine.locator(".monaco-tl-twistie").click();
      const frame = tree.getByRole("treeitem", { name: new RegExp(`^${leakedFrame.function.replace(".", "\\.")} .*main\\.go:${leakedFrame.line}`) }).first();
      await frame.locator(".monaco-icon-label").click();
      await page.getByRole("tab", { name: /^main\.go/ }).waitFor({ timeout: 30_000 });
      await page.locator(".statusbar-item", { hasText: `Ln ${leakedFrame.line},` }).waitFor({ timeout: 30_000 });
      await shot("goroutines-view-source");
    });
  },
);
