// What grew, in a real VS Code: two dumps of one growing process (tests/fixtures/growth/
// go1.27: sessions and requests grow under one global, blobs arrive under another) in the
// workspace; "Compare with Baseline…" picks the newer dump, then the older one, and the
// result document names the type that grew most and the global that holds the new objects.
// "Export to Parquet…" writes the dump's tables into the folder the user confirms. In the
// program's main.go, a CodeLens above the planted type says how many are live in each dump
// and opens their list. The Heap views: Types expanded three levels (dump → type → one of
// its objects → its owners), then that object's anchors and graph; Retainers drilled down.
// Last, on a 1366×768 screen in the high contrast theme, the views and the graph stay legible.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Page } from "playwright-core";
import { REPO_DIR } from "./codeServer";
import { SERVER, describeInVsCode } from "./session";
import {
  activeEditor,
  clickTab,
  editorText,
  openFile,
  palette,
  resultRows,
  retried,
  revealInEditor,
  shownWhole,
  statusItem,
  textContrast,
  waitForResult,
  webview,
} from "./workbench";

const FIXTURE = join(REPO_DIR, "tests/fixtures/growth/go1.27");
const SOURCE = join(REPO_DIR, "tests/fixtures/src/growth");
const truth = JSON.parse(readFileSync(join(FIXTURE, "truth.json"), "utf8")) as {
  growth: { anchor: string; type: string };
  intervals: { types: Record<string, { new: number; freed: number }> }[];
};
const grown = truth.intervals[0].types[truth.growth.type];

/** The CLI's --top answer on the newer dump: what the Retainers view must show. */
function top(...more: string[]): { type: string; address: string }[] {
  const cli = join(REPO_DIR, ".venv/bin/heapspurs");
  const args = [join(FIXTURE, "heap2.dump"), "--program", join(FIXTURE, "growth"), "--top", "1", "--json", ...more];
  return (JSON.parse(execFileSync(cli, args).toString()) as { objects: { type: string; address: string }[] }).objects;
}
const biggest = top()[0];
const biggestChild = top("--address", biggest.address)[0];
const pattern = (text: string) => text.replace(/[.*[\]]/g, "\\$&");

function makeWorkspace(): string {
  const folder = mkdtempSync(join(tmpdir(), "heapspurs-compare-"));
  copyFileSync(join(FIXTURE, "heap1.dump"), join(folder, "before.heapdump"));
  copyFileSync(join(FIXTURE, "heap2.dump"), join(folder, "after.heapdump"));
  copyFileSync(join(FIXTURE, "growth"), join(folder, "growth"));
  for (const name of ["main.go", "go.mod"]) {
    copyFileSync(join(SOURCE, name), join(folder, name));
  }
  const hourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(join(folder, "before.heapdump"), hourAgo, hourAgo); // the older dump
  writeFileSync(join(folder, "notes.txt"), "Memory grows by about 200 KB an hour.\n");
  return folder;
}

/** Runs the palette command until its first quick pick (titled `title`) opens: the dumps load first. */
async function paletteUntilPick(page: Page, command: string, title: string): Promise<void> {
  const pick = page.locator(".quick-input-widget", { hasText: title });
  await retried(24, () => palette(page, command), pick, () => page.keyboard.press("Escape"));
}

/** Picks the quick pick's row that starts with `label` (in the pick titled `title`). */
async function choose(page: Page, title: string, label: string): Promise<void> {
  const widget = page.locator(".quick-input-widget", { hasText: title });
  await widget.waitFor();
  await page.locator(".quick-input-widget input").first().fill(label);
  await page.locator(".quick-input-list .monaco-list-row.focused", { hasText: label }).waitFor();
  await page.keyboard.press("Enter");
  await widget.waitFor({ state: "hidden" });
}

describeInVsCode(
  "heapspurs compare and export in VS Code",
  () => ({
    workspace: makeWorkspace(),
    settings: { "heapspurs.server.path": SERVER, "heapspurs.trace.server": "messages" },
    open: (page) => openFile(page, "notes.txt"),
  }),
  (session) => {
    const { step, shot } = session;

    step("Compare with Baseline… offers the newer dump first, then the older one", async () => {
      const { page } = session;
      await paletteUntilPick(page, "heapspurs: Compare with Baseline…", "Compare which dump");
      const first = page.locator(".quick-input-list .monaco-list-row").first();
      assert.match(await first.innerText(), /^after\.heapdump/, "the newest dump is the first row");
      await choose(page, "Compare which dump", "after.heapdump");
      await choose(page, "Compare after.heapdump with which older dump", "before.heapdump");
    });

    step("the result names the type that grew most, with new/freed counts, and its holder", async () => {
      const { page } = session;
      await page.getByRole("tab", { name: /What grew in after\.heapdump since before\.heapdump/ }).waitFor({ timeout: 120_000 });
      const text = await editorText(page);
      assert.match(text, /^same process as .*before\.heapdump/m, "one line says how the dumps compare");
      const row = text.split("\n").find((line) => / main\.\w+$/.test(line.trimEnd()));
      assert.ok(row, "a row names a main type");
      const cells = row.trim().split(/\s+/);
      assert.equal(cells[cells.length - 1], truth.growth.type, "the largest growth in bytes is the planted one");
      assert.equal(Number(cells[4]), grown.new, "its new objects");
      assert.equal(Number(cells[5]), grown.freed, "its freed objects");
      // the growth groups follow the table, below the first screen
      await revealInEditor(page, "new since the baseline");
      const end = await editorText(page);
      assert.match(end, /^new since the baseline: \d+ objects/m);
      const group = new RegExp(`${truth.growth.type.replace(".", "\\.")}\\s+<- global ${truth.growth.anchor.replace(".", "\\.")}`);
      assert.match(end, group, "the growth group's anchor is the global that holds the new objects");
      assert.match(end, new RegExp(`path: ${truth.growth.anchor.replace(".", "\\.")}`));
      await shot("compare");
    });

    step("Export to Parquet… writes the dump's tables into the confirmed folder", async () => {
      const { page, workspace } = session;
      await paletteUntilPick(page, "heapspurs: Export to Parquet…", "Export which dump");
      await choose(page, "Export which dump", "after.heapdump");
      const input = page.locator(".quick-input-widget input").first();
      await page.locator(".quick-input-widget", { hasText: "Export after.heapdump" }).waitFor();
      const folder = join(workspace, "after-tables");
      await input.fill(folder);
      await page.keyboard.press("Enter");
      await page.locator(".notifications-toasts", { hasText: "Exported after.heapdump" }).waitFor({ timeout: 120_000 });
      await shot("export");
      const files = readdirSync(folder);
      for (const table of ["objects", "references", "roots", "goroutines", "types"]) {
        assert.ok(files.includes(`${table}.parquet`), `${table}.parquet in ${files.join(", ")}`);
      }
      assert.ok(!existsSync(join(folder, "contents.parquet")), "no object bytes unless asked");
    });

    step("a CodeLens above the planted type in main.go says how many are live, and lists them", async () => {
      const { page } = session;
      await openFile(page, "main.go");
      const typeName = truth.growth.type.replace("main.", "");
      await revealInEditor(page, `type ${typeName} struct`); // below the first screen
      const lens = activeEditor(page).locator(".codelens-decoration a", { hasText: `after.heapdump: ${grown.new} live` });
      await lens.waitFor({ timeout: 60_000 });
      const before = activeEditor(page).locator(".codelens-decoration a", { hasText: "before.heapdump: 0 live" });
      assert.ok((await before.count()) > 0, `the baseline has no ${typeName} yet`);
      await shot("codelens");
      await lens.click();
      await page.getByRole("tab", { name: new RegExp(`Instances of ${truth.growth.type.replace(".", "\\.")} in after\\.heapdump`) }).waitFor({ timeout: 60_000 });
      const text = await editorText(page);
      assert.match(text, new RegExp(`^${grown.new} objects of ${truth.growth.type.replace(".", "\\.")}, largest retained first`, "m"));
      await shot("instances");
    });

    step("the Heap view's Types tree expands dump → type → its objects → owners, then anchors and graph", async () => {
      const { page } = session;
      await page.locator(".activitybar [aria-label^='Heap']").first().click();
      const types = page.getByRole("tree", { name: "Types" });
      const row = (name: string | RegExp) => types.getByRole("treeitem", { name }).first();
      await row(/^after\.heapdump/).click({ timeout: 60_000 });
      await row(new RegExp(`^${truth.growth.type.replace(".", "\\.")} `)).click({ timeout: 60_000 });
      const instance = row(/^main\.Blob 0x/);
      await instance.waitFor({ timeout: 60_000 });
      await instance.locator(".monaco-tl-twistie").click();
      const owner = row(/^\[1023\]\*main\.Blob/);
      await owner.waitFor({ timeout: 60_000 });
      await shot("heap-types");
      const address = /0x[0-9a-f]+/.exec((await instance.getAttribute("aria-label")) ?? "")?.[0];
      assert.ok(address, "the object row shows its address");
      await instance.locator(".monaco-icon-label").click();
      await choose(page, address, "Show Anchors");
      await waitForResult(page, `Anchors of ${address}`);
      await resultRows(page).filter({ hasText: `global ${truth.growth.anchor}` }).first().waitFor({ timeout: 30_000 });
      await instance.locator(".monaco-icon-label").click();
      await choose(page, address, "Show Owner Graph");
      await page.getByRole("tab", { name: new RegExp(`Owner graph · ${address}`) }).waitFor({ timeout: 60_000 });
      await shot("heap-types-graph");
    });

    step("a right-click on a graph node offers the address commands: Hexdump of that owner", async () => {
      const { page } = session;
      const owner = webview(page).locator("g.node[id^='obj_']").filter({ hasText: "[1023]*main.Blob" }).first();
      await owner.waitFor({ timeout: 60_000 });
      const address = /obj_(0x[0-9a-f]+)/.exec((await owner.getAttribute("id")) ?? "")?.[1];
      assert.ok(address, "the owner node names its address");
      await owner.click({ button: "right" });
      const items = ["Expand Owners Here", "Show Anchors", "Show Owners", "Show Hexdump"];
      for (const name of items) {
        await page.getByRole("menuitem", { name, exact: true }).waitFor({ timeout: 10_000 });
      }
      const hexdump = page.getByRole("menuitem", { name: "Show Hexdump", exact: true });
      await hexdump.hover(); // VS Code's menu ignores a click right after it opened
      await page.keyboard.press("Enter");
      await page.getByRole("tab", { name: new RegExp(`Hexdump of ${address}`) }).waitFor({ timeout: 60_000 });
    });

    step("the Heap view's Retainers tree starts at the largest retainer and drills down", async () => {
      const { page } = session;
      await page.keyboard.press("Escape");
      await palette(page, "Heap: Focus on Retainers View");
      const retainers = page.getByRole("tree", { name: "Retainers" });
      const row = (name: string | RegExp) => retainers.getByRole("treeitem", { name }).first();
      await row(/^after\.heapdump/).click({ timeout: 60_000 });
      const first = row(new RegExp(`^${pattern(biggest.type)} ${biggest.address}`));
      await first.waitFor({ timeout: 60_000 });
      await first.locator(".monaco-tl-twistie").click();
      await row(new RegExp(`^${pattern(biggestChild.type)} ${biggestChild.address}`)).waitFor({ timeout: 60_000 });
      await shot("heap-retainers");
    });

    step("a type row's inline action opens the type's declaration in main.go", async () => {
      const { page } = session;
      await palette(page, "Heap: Focus on Types View");
      const types = page.getByRole("tree", { name: "Types" });
      const typeRow = types.getByRole("treeitem", { name: new RegExp(`^${pattern(truth.growth.type)} `) }).first();
      await typeRow.hover();
      await typeRow.getByRole("button", { name: "Go to Type Declaration" }).click();
      await page.getByRole("tab", { name: /^main\.go/ }).waitFor({ timeout: 30_000 });
      const source = readFileSync(join(SOURCE, "main.go"), "utf8").split("\n");
      const line = 1 + source.findIndex((text) => text.startsWith(`type ${truth.growth.type.replace("main.", "")} struct`));
      await page.locator(".statusbar-item", { hasText: `Ln ${line},` }).waitFor({ timeout: 30_000 });
    });

    step("Set as Baseline on the older dump: the Types view shows each type's growth", async () => {
      const { page } = session;
      await palette(page, "Heap: Focus on Dumps View");
      const dumps = page.getByRole("tree", { name: "Dumps" });
      await dumps.getByRole("treeitem", { name: /^before\.heapdump/ }).first().click({ button: "right" });
      const item = page.getByRole("menuitem", { name: /^Set as Baseline/ });
      await item.waitFor();
      await item.hover(); // VS Code's menu ignores a click right after it opened
      await page.keyboard.press("Enter");
      await palette(page, "Heap: Focus on Types View");
      const types = page.getByRole("tree", { name: "Types" });
      const dumpRow = types.getByRole("treeitem", { name: /^after\.heapdump/ }).first();
      await dumpRow.waitFor({ timeout: 30_000 });
      if ((await dumpRow.getAttribute("aria-expanded")) !== "true") {
        await dumpRow.click();
      }
      const growth = new RegExp(`^${pattern(truth.growth.type)} ${grown.new} \\(\\+${grown.new}\\) .* ${grown.new} new, ${grown.freed} freed`);
      await types.getByRole("treeitem", { name: growth }).first().waitFor({ timeout: 60_000 });
      await shot("heap-types-growth");
    });

    step("Unload on a dump in the Dumps view takes it out of every view", async () => {
      const { page } = session;
      await palette(page, "Heap: Focus on Dumps View");
      const dumps = page.getByRole("tree", { name: "Dumps" });
      const before = dumps.getByRole("treeitem", { name: /^before\.heapdump/ }).first();
      await before.click({ button: "right" });
      const unload = page.getByRole("menuitem", { name: "Unload", exact: true });
      await unload.waitFor();
      await unload.hover(); // VS Code's menu ignores a click right after it opened
      await page.keyboard.press("Enter");
      await before.waitFor({ state: "detached", timeout: 30_000 });
      await statusItem(page).filter({ hasText: /1 dump/ }).waitFor({ timeout: 30_000 });
      const types = page.getByRole("tree", { name: "Types" });
      assert.equal(await types.getByRole("treeitem", { name: /^before\.heapdump/ }).count(), 0, "gone from Types too");
    });
    step("a graph node's Show in Types View selects its type's row in the Types view", async () => {
      const { page } = session;
      await clickTab(page, /^Owner graph/);
      const owner = webview(page).locator("g.node[id^='obj_']").filter({ hasText: "[1023]*main.Blob" }).first();
      await owner.click({ button: "right" });
      const item = page.getByRole("menuitem", { name: "Show in Types View", exact: true });
      await item.waitFor({ timeout: 10_000 });
      await item.hover(); // VS Code's menu ignores a click right after it opened
      await page.keyboard.press("Enter");
      const types = page.getByRole("tree", { name: "Types" });
      await types.locator(".monaco-list-row.selected", { hasText: "[1023]*main.Blob" }).waitFor({ timeout: 30_000 });
    });

    step("on a 1366×768 screen in the high contrast theme, the Types view and the graph stay legible", async () => {
      const { page } = session;
      await page.setViewportSize({ width: 1366, height: 768 });
      // the palette's first row for this title is the marketplace's: pick the command by its label
      await page.locator(".monaco-workbench").focus();
      await page.keyboard.press("F1");
      await page.locator(".quick-input-widget input").first().fill(">Preferences: Color Theme");
      await page.locator(".quick-input-list .monaco-list-row", { hasText: /^Preferences: Color Theme/ }).first().click();
      await page.locator(".quick-input-list .monaco-list-row", { hasText: "Dark Modern" }).first().waitFor(); // the theme picker
      await page.locator(".quick-input-widget input").first().fill("Dark High Contrast");
      await page.locator(".quick-input-list .monaco-list-row.focused", { hasText: "Dark High Contrast" }).waitFor();
      await page.keyboard.press("Enter");
      await page.locator(".monaco-workbench.hc-black").waitFor({ timeout: 30_000 });
      await palette(page, "Heap: Focus on Types View");
      const types = page.getByRole("tree", { name: "Types" });
      // the row the graph's "Show in Types View" selected, kept in view at this height
      const typeName = types.locator(".monaco-list-row.selected .label-name", { hasText: "[1023]*main.Blob" }).first();
      await typeName.waitFor({ timeout: 30_000 });
      assert.ok(await shownWhole(typeName), "the type's name is shown whole in the Types view");
      const contrast = await textContrast(typeName);
      assert.ok(contrast >= 7, `the type's name has a contrast of ${contrast.toFixed(1)}:1 (high contrast: 7:1 or more)`);
      await shot("heap-types-high-contrast-1366x768");
      await clickTab(page, /^Owner graph/);
      const title = webview(page).locator("#title");
      await title.waitFor({ timeout: 30_000 });
      assert.ok((await textContrast(title)) >= 7, "the graph's title stands out from its background");
      const label = webview(page).locator("g.node[id^='obj_'] text").first();
      const box = await label.boundingBox();
      assert.ok(box && box.height >= 7, `a node's label is ${box?.height.toFixed(1)} px high (7 or more to read it)`);
      const target = webview(page).locator('g.node:has(polygon[fill="yellow"])').first();
      const place = await target.boundingBox();
      const room = await webview(page).locator("#viewport").boundingBox();
      assert.ok(place && room, "the asked object's node and the graph's area are drawn");
      const seen = place.x >= room.x && place.y >= room.y && place.x + place.width <= room.x + room.width && place.y + place.height <= room.y + room.height;
      assert.ok(seen, "the asked object's node is in view without scrolling");
      await shot("graph-high-contrast-1366x768");
    });
  },
);
