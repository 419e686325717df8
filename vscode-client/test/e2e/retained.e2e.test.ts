// Retained sizes in a real VS Code, on the planted-leak fixture (tests/fixtures/leakcache/
// go1.27: a response cache that grows without bound): "Show Top Retainers" and "Show Leak
// Suspects" show result documents that name the leaking global first, and a hover on the
// cache's address says what it retains (the first step: it waits for the dump to load).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_DIR } from "./codeServer";
import { SERVER, describeInVsCode } from "./session";
import { editorText, hoverUntil, openFile, palette } from "./workbench";

const FIXTURE = join(REPO_DIR, "tests/fixtures/leakcache/go1.27");
const leak = (JSON.parse(readFileSync(join(FIXTURE, "truth.json"), "utf8")) as { leak: { global: string; type: string } }).leak;

/** The largest retainer as the CLI answers it: the object the editor must agree on. */
const top = JSON.parse(
  execFileSync(join(REPO_DIR, ".venv/bin/heapspurs"), [join(FIXTURE, "heap.dump"), "--program", join(FIXTURE, "leakcache"), "--top", "1", "--json", "--no-cache"]).toString(),
) as { objects: { address: string; retained: number }[] };
const cache = top.objects[0];

function makeWorkspace(): string {
  const folder = mkdtempSync(join(tmpdir(), "heapspurs-retained-"));
  copyFileSync(join(FIXTURE, "heap.dump"), join(folder, "service.heapdump"));
  copyFileSync(join(FIXTURE, "leakcache"), join(folder, "leakcache"));
  writeFileSync(join(folder, "memory.log"), `2026-12-01T10:00:00Z WARN cache is big at=${cache.address}\n`);
  return folder;
}

describeInVsCode(
  "heapspurs retained sizes in VS Code",
  () => ({
    workspace: makeWorkspace(),
    settings: { "heapspurs.server.path": SERVER },
    open: (page) => openFile(page, "memory.log"),
  }),
  (session) => {
    const { step, shot } = session;

    step("a hover on the cache's address says what it retains (once the dump is loaded)", async () => {
      const { page } = session;
      // the first answer waits for the load, the types and the tree (slow on a cold machine)
      const hover = await hoverUntil(page, cache.address, /retains: \d+ bytes/, 240_000);
      assert.match(await hover.innerText(), new RegExp(`retains: ${cache.retained} bytes`));
      await page.keyboard.press("Escape");
    });

    step("Show Leak Suspects names the growing cache first, with its Go path", async () => {
      const { page } = session;
      await palette(page, "heapspurs: Show Leak Suspects");
      await page.getByRole("tab", { name: /Leak suspects of service\.heapdump/ }).waitFor({ timeout: 90_000 });
      const text = await editorText(page);
      assert.match(text, new RegExp(`^Suspect 1: ${leak.type.replace(".", "\\.")} @ ${cache.address}`, "m"));
      assert.match(text, new RegExp(`path: ${leak.global.replace(".", "\\.")}`));
      assert.match(text, /accumulation point:/);
      await shot("leak-suspects");
    });

    step("Show Top Retainers lists the largest retainers with their anchors", async () => {
      const { page } = session;
      await palette(page, "heapspurs: Show Top Retainers");
      await page.getByRole("tab", { name: /Top retainers of service\.heapdump/ }).waitFor({ timeout: 90_000 });
      const text = await editorText(page);
      const first = text.split("\n").find((line) => line.includes(cache.address));
      assert.ok(first, `no row for ${cache.address}`);
      assert.match(first, new RegExp(`← global ${leak.global.replace(".", "\\.")} \\(bss\\)`));
      await shot("top-retainers");
    });

    step("the Heap view's Leak Suspects tree names the cache, its Go path and its accumulation point", async () => {
      const { page } = session;
      await palette(page, "Heap: Focus on Leak Suspects View");
      const tree = page.getByRole("tree", { name: "Leak Suspects" });
      await tree.getByRole("treeitem", { name: new RegExp(`^Suspect 1: ${leak.type.replace(".", "\\.")} retains`) }).first().waitFor({ timeout: 90_000 });
      await tree.getByRole("treeitem", { name: new RegExp(`^${leak.global.replace(".", "\\.")}\\.`) }).first().waitFor();
      const point = tree.getByRole("treeitem", { name: /^accumulation point → / }).first();
      await point.locator(".monaco-tl-twistie").click();
      // what the accumulation point alone holds: the cache's tables, a level down
      await tree.getByRole("treeitem", { name: /map\.table|map\.group/ }).first().waitFor({ timeout: 60_000 });
      await shot("heap-suspects");
    });
  },
);
