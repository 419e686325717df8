// The user story in a real VS Code (code-server + headless Chromium): a workspace with a
// real Go 1.27 heap dump, its binary, its OID file and a log naming a leaked object. Hover
// the address and see its anchor; right-click → Show Anchors; Show Owner Graph and click an
// owner to refocus the graph. Screenshots go to test-results/e2e/.

import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Browser, Page } from "playwright-core";
import { CLIENT_DIR, CodeServer, REPO_DIR, missingPrerequisites, startCodeServer } from "./codeServer";
import { clickTab, contextMenu, editorText, hoverUntil, openFile, openWorkbench, webview } from "./workbench";

const FIXTURE = join(REPO_DIR, "tests/fixtures/data/go1.27");
const SHOTS = join(CLIENT_DIR, "test-results/e2e");

interface Scenario {
  address: string;
  oid_name: string;
  anchor: { kind: string; name?: string };
}
const truth = JSON.parse(readFileSync(join(FIXTURE, "truth.json"), "utf8")) as { scenarios: Record<string, Scenario> };
const leak = truth.scenarios.leak;

/** A workspace as a user would have it: the dump, the binary, OID names and a log. */
function makeWorkspace(): string {
  const folder = mkdtempSync(join(tmpdir(), "heapspurs-workspace-"));
  copyFileSync(join(FIXTURE, "heap.dump"), join(folder, "service.heapdump"));
  copyFileSync(join(FIXTURE, "scenarios"), join(folder, "service"));
  copyFileSync(join(FIXTURE, "oid.txt"), join(folder, "oid.txt"));
  writeFileSync(
    join(folder, "leak.log"),
    [
      "2026-11-26T08:00:01Z INFO session opened id=42",
      `2026-11-26T08:00:02Z WARN request ${leak.address} still referenced after close`,
      "2026-11-26T08:00:03Z INFO heap in use 12 MB",
      "",
    ].join("\n"),
  );
  return folder;
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** The test body; on failure a screenshot and the extension's log say what the user saw. */
function step(name: string, body: () => Promise<void>): void {
  it(name, async () => {
    try {
      await body();
    } catch (err) {
      await shot(page, `failed-${name.replace(/\W+/g, "-")}`).catch(() => undefined);
      console.error(server.extensionLog());
      throw err;
    }
  });
}

let server: CodeServer;
let page: Page;

describe("heapspurs in VS Code", { skip: missingPrerequisites().join(", ") || false }, () => {
  let browser: Browser;

  before(async () => {
    const workspace = makeWorkspace();
    server = await startCodeServer({
      workspace,
      // code-server gives extensions a login shell's PATH, so the server is named here;
      // the unit tests cover the default search
      settings: { "heapspurs.oidFiles": ["oid.txt"], "heapspurs.server.path": join(REPO_DIR, ".venv/bin/heapspurs-lsp") },
    });
    ({ browser, page } = await openWorkbench(`${server.url}/?folder=${encodeURIComponent(workspace)}`));
    await openFile(page, "leak.log");
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  step("hovering the address in the log shows its object and its anchor", async () => {
    const hover = await hoverUntil(page, leak.address, leak.anchor.name ?? "");
    const text = await hover.innerText();
    assert.match(text, new RegExp(leak.oid_name.replace(/[.[\]]/g, "\\$&")));
    assert.match(text, /Anchors/);
    await shot(page, "hover");
  });

  step("the hover's Owners link opens the owner tree of that address", async () => {
    const hover = await hoverUntil(page, leak.address, leak.anchor.name ?? "");
    await hover.getByRole("link", { name: "Owners" }).first().click();
    await page.getByRole("tab", { name: new RegExp(`Owners of ${leak.address}`) }).waitFor();
    const text = await editorText(page);
    assert.match(text, new RegExp(`${leak.oid_name} @ ${leak.address}`));
    assert.match(text, /\n {2}\S.* @ 0x[0-9a-f]+/, "first-level owners are indented under the object");
    assert.match(text, /\n {4}\S.* @ 0x[0-9a-f]+/, "their owners one level deeper");
  });

  step("right-click → Show Anchors opens the anchor document", async () => {
    await clickTab(page, "leak.log");
    await contextMenu(page, leak.address, "Show Anchors");
    await page.getByRole("tab", { name: new RegExp(`Anchors of ${leak.address}`) }).waitFor();
    const text = await editorText(page);
    assert.ok(text.includes(`global ${leak.anchor.name}`), text);
    assert.match(text, /chain of \d+ object/);
    await shot(page, "anchors");
  });

  step("Show Owner Graph draws the graph beside the editor; clicking an owner refocuses it", async () => {
    await clickTab(page, "leak.log");
    await contextMenu(page, leak.address, "Show Owner Graph");
    const graph = webview(page);
    const target = graph.locator(`svg g.node#obj_${leak.address}`);
    await target.waitFor({ timeout: 60_000 });
    assert.equal(await target.locator("polygon").first().getAttribute("fill"), "yellow");
    await shot(page, "graph");

    const owners = graph.locator(`svg g.node[id^="obj_0x"]:not(#obj_${leak.address})`);
    const owner = (await owners.first().getAttribute("id"))?.slice("obj_".length);
    assert.ok(owner, "the graph shows at least one owning object");
    await owners.first().click();
    await graph.locator("#title").filter({ hasText: owner }).waitFor();
    const refocused = graph.locator(`svg g.node#obj_${owner} polygon`).first();
    assert.equal(await refocused.getAttribute("fill"), "yellow");
    assert.equal(await page.locator("iframe.webview").count(), 1, "one graph panel, reused");
    await shot(page, "graph-refocused");

    await graph.getByRole("button", { name: `Anchors of ${owner}` }).click();
    await page.getByRole("tab", { name: new RegExp(`Anchors of ${owner}`) }).waitFor();
    assert.ok((await editorText(page)).includes(`global ${leak.anchor.name}`));
  });
});
