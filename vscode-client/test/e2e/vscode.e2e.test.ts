// The user story in a real VS Code (code-server + headless Chromium): a workspace with a
// real Go 1.27 heap dump, its binary, its OID file and a log naming a leaked object. Hover
// the address and see its anchor; right-click → Show Anchors; Show Owner Graph and click an
// owner to refocus the graph.

import assert from "node:assert/strict";
import { Page } from "playwright-core";
import { describeInVsCode, globalAddress, leak, makeWorkspace, SERVER, stackHeld } from "./session";
import {
  activeEditor,
  clickTab,
  contextMenu,
  contextMenuItems,
  editorText,
  hoverUntil,
  openFile,
  palette,
  resultRows,
  waitForResult,
  sampleStatus,
  resultsPanel,
  statusItem,
  tabTitles,
  textPoint,
  webview,
} from "./workbench";

const RESTARTS = 4;

/** Picks the quick pick's row with `text` (a click right after it opens can be lost). */
async function choose(page: Page, text: string): Promise<void> {
  const input = page.locator(".quick-input-widget input").first();
  await input.waitFor();
  await input.fill(text);
  await page.locator(".quick-input-list .monaco-list-row.focused", { hasText: text }).waitFor();
  await page.keyboard.press("Enter");
  await input.waitFor({ state: "hidden" });
}

describeInVsCode(
  "heapspurs in VS Code",
  () => ({
    workspace: makeWorkspace(),
    // code-server hands extensions a login shell's PATH, so the server is named in the
    // settings; unit tests cover the default search
    settings: { "heapspurs.oidFiles": ["oid.txt"], "heapspurs.server.path": SERVER, "heapspurs.trace.server": "messages" },
    open: (page) => openFile(page, "leak.log"),
  }),
  (session) => {
    const { step, shot } = session;
    step("across server restarts the status bar says starting, then the dump, never 'no dumps'", async () => {
      const { page } = session;
      const sampler = await sampleStatus(page);
      await statusItem(page).filter({ hasText: "1 dump" }).waitFor({ timeout: 90_000 });
      for (let i = 1; i <= RESTARTS; i++) {
        await palette(page, "heapspurs: Restart Server");
        // done when the restart is over, or at once when 'no dumps' shows (the bug itself)
        await page.waitForFunction(
          (n) => {
            const seen = (window as unknown as { heapspursSamples: string[] }).heapspursSamples;
            const restarted = seen.filter((t) => t.includes("starting")).length >= n && /1 dump$/.test(seen[seen.length - 1]);
            return restarted || seen.some((t) => /no dumps/.test(t));
          },
          i,
          { timeout: 60_000, polling: 50 },
        );
      }
      const seen = await sampler.stop();
      assert.ok(!seen.some((text) => /no dumps/.test(text)), `the status bar said: ${seen.join(" | ")}`);
      for (let i = 1; i < seen.length; i++) {
        if (seen[i].includes("starting")) {
          assert.doesNotMatch(seen[i - 1], /starting/);
        }
      }
    });

    step("after the restarts no 'Notify file events failed' pop-up, and a normal exit is not logged as an error", async () => {
      const { page } = session;
      assert.equal(await page.locator(".notification-toast", { hasText: "Notify file events failed" }).count(), 0);
      const log = session.extensionLog();
      // the file watchers are registered once per start: twice, and the editor delivers each
      // event twice (the trace, at heapspurs.trace.server = messages, lists the requests)
      const starts = log.slice(log.indexOf("(trace).log")).split("Sending request 'initialize").slice(1);
      assert.ok(starts.length > 0, "the trace shows a server start");
      for (const start of starts) {
        const requests = (method: string) => start.split(`Received request 'client/${method}`).length - 1;
        assert.ok(requests("registerCapability") - requests("unregisterCapability") <= 1, `registered twice:\n${start.slice(0, 4000)}`);
      }
      assert.doesNotMatch(log, /\[Error[^\]]*\] Server process exited with code 0/);
      assert.match(log, /exited normally \(code 0\)/);
    });

    step("hovering the address in the log shows its object and its anchor", async () => {
      const hover = await hoverUntil(session.page, leak.address, leak.anchor.name ?? "");
      const text = await hover.innerText();
      assert.match(text, new RegExp(leak.oid_name.replace(/[.[\]]/g, "\\$&")));
      assert.match(text, /Anchors/);
      await shot("hover");
    });

    step("the hover's Owners link shows the owners in the results view, one level at a time up to the root", async () => {
      const { page } = session;
      const tabs = await tabTitles(page);
      const hover = await hoverUntil(page, leak.address, leak.anchor.name ?? "");
      await hover.getByRole("link", { name: "Owners" }).first().click();
      await waitForResult(page, `Owners of ${leak.address}`);
      const rows = resultRows(page);
      await rows.filter({ hasText: leak.address }).first().waitFor();
      const target = rows.filter({ hasText: leak.address }).first();
      assert.match(await target.innerText(), new RegExp(leak.oid_name.replace(/[.[\]]/g, "\\$&")), "the object's type");
      // expand the deepest unexpanded owners, a level at a time, until the global shows
      const root = rows.filter({ hasText: `global ${leak.anchor.name}` });
      for (let level = 2; !(await root.count()); level++) {
        assert.ok(level < 10, "the global is reached within 10 levels");
        const closed = resultsPanel(page).locator(`.monaco-list-row[aria-level="${level}"][aria-expanded="false"]`);
        await closed.first().waitFor();
        for (const row of await closed.all()) {
          await row.locator(".monaco-tl-twistie").click();
        }
        await resultsPanel(page).locator(`.monaco-list-row[aria-level="${level + 1}"]`).first().waitFor();
      }
      const text = (await rows.allInnerTexts()).join("\n");
      assert.match(text, /main\.Session/, "owners say their type");
      assert.match(text, /\.Requests/, "and the field that points");
      assert.match(text, /\d+ B/, "and their size");
      assert.deepEqual(await tabTitles(page), tabs, "no new editor tab");
      await shot("owners-view");
    });

    step("right-click → Show Anchors shows the chain in the same view, with types and fields", async () => {
      const { page } = session;
      await clickTab(page, "leak.log");
      const tabs = await tabTitles(page);
      await contextMenu(page, leak.address, "Show Anchors");
      await waitForResult(page, `Anchors of ${leak.address}`);
      const anchor = resultRows(page).filter({ hasText: new RegExp(`global ${leak.anchor.name}.*chain of \\d+ object`) });
      await anchor.first().waitFor();
      assert.match(await anchor.first().innerText(), new RegExp(`${leak.anchor.name}.*\\.Requests`), "the Go path");
      const links = resultsPanel(page).locator('.monaco-list-row[aria-level="2"]');
      assert.ok((await links.count()) > 1, "the chain's objects are listed under the anchor");
      assert.match(await links.last().innerText(), new RegExp(leak.address));
      assert.deepEqual(await tabTitles(page), tabs, "no new editor tab");
      await shot("anchors");
    });

    step("clicking an address in the results view runs a command on it; the history shows the earlier result", async () => {
      const { page } = session;
      const owner = resultRows(page).filter({ hasText: /(^|\s)main\.Session\s*0x/ }).first();
      const address = /0x[0-9a-f]+/.exec(await owner.innerText())?.[0];
      assert.ok(address);
      await owner.click();
      await choose(page, "Show Owners");
      await waitForResult(page, `Owners of ${address}`);
      await resultRows(page).filter({ hasText: "map.group" }).first().waitFor();
      await shot("owners-of-a-clicked-address");
      await resultsPanel(page).getByRole("button", { name: "Result History…" }).click();
      await choose(page, `Anchors of ${leak.address}`);
      await waitForResult(page, `Anchors of ${leak.address}`);
      await resultRows(page).filter({ hasText: `global ${leak.anchor.name}` }).first().waitFor();
    });

    step("Show Hexdump opens one result document, whose addresses get the same hover", async () => {
      const { page } = session;
      await clickTab(page, "leak.log");
      await contextMenu(page, leak.address, "Show Hexdump");
      await page.getByRole("tab", { name: new RegExp(`Hexdump of ${leak.address}`) }).waitFor();
      const hover = await hoverUntil(session.page, leak.object, leak.anchor.name ?? "");
      assert.match(await hover.innerText(), new RegExp(`Object\\s+${leak.object}`));
    });

    step("Show Anchors on a global says what the address is, in the result, not as an error", async () => {
      const { page } = session;
      await clickTab(page, "leak.log");
      await contextMenu(page, globalAddress, "Show Anchors");
      const popup = page.locator(".notification-toast", { hasText: new RegExp(`${globalAddress}|bss|not in this dump`) });
      await Promise.race([waitForResult(page, `Anchors of ${globalAddress}`), popup.first().waitFor({ timeout: 60_000 })]);
      assert.equal(await popup.count(), 0, `a pop-up said: ${(await popup.allInnerTexts()).join(" | ")}`);
      await resultRows(page).filter({ hasText: "is not a heap object" }).first().waitFor();
      const text = (await resultRows(page).allInnerTexts()).join("\n");
      assert.match(text, new RegExp(`bss segment: global ${leak.anchor.name}`));
      assert.doesNotMatch(text, /\*\*|not in this dump/);
      assert.equal(await page.locator(".notification-toast").count(), 0, "no pop-up");
      await shot("anchors-of-a-global");
    });

    step("the status item's quick pick lists the dump with its state and the actions", async () => {
      const { page } = session;
      await statusItem(page).click();
      const rows = page.locator(".quick-input-list .monaco-list-row");
      await rows.filter({ hasText: "service.heapdump" }).waitFor();
      assert.match(await rows.filter({ hasText: "service.heapdump" }).innerText(), /ready · [\d,]+ objects/);
      for (const action of ["Load Heap Dump…", "Show Type Histogram", "Restart Server", "Show Log", "Open Settings"]) {
        await rows.filter({ hasText: action }).first().waitFor();
      }
      await shot("status-quick-pick");
      await rows.filter({ hasText: "Show Log" }).click();
      await page.locator(".part.panel .view-lines", { hasText: "heapspurs-lsp" }).first().waitFor();
      await page.keyboard.press("Control+J"); // hide the panel again
    });

    step("Show Type Histogram shows the types as a table, largest first", async (t) => {
      const { page } = session;
      await palette(page, "heapspurs: Show Type Histogram");
      const notYet = page.locator(".notification-toast", { hasText: "has no type histogram yet" });
      const tab = page.getByRole("tab", { name: /Types of service\.heapdump/ });
      await Promise.race([notYet.waitFor({ timeout: 60_000 }), tab.waitFor({ timeout: 60_000 })]);
      if (await notYet.isVisible()) {
        await notYet.getByRole("button", { name: /Clear|Close/ }).first().click().catch(() => undefined);
        t.skip("the server does not answer heapspurs/histogram yet (MethodNotFound)");
        return;
      }
      const text = await editorText(page);
      assert.match(text, /^ *bytes +count +type/m);
      const bytes = [...text.matchAll(/^ *([\d,]+) +[\d,]+ +(?!total)\S/gm)].map((m) => Number(m[1].replace(/,/g, "")));
      assert.ok(bytes.length > 1, text);
      assert.deepEqual(bytes, [...bytes].sort((a, b) => b - a), "largest bytes first");
      await page.keyboard.press("Control+End");
      await activeEditor(page).locator(".view-lines", { hasText: "total of" }).waitFor();
      assert.match(await editorText(page), /typed: [\d,]+ of [\d,]+ heap bytes/);
      assert.ok(!(await tabTitles(page)).some((t) => t.includes("Hexdump of")), "the histogram took the hexdump's tab");
      await shot("histogram");
    });

    step("Show Owner Graph draws the graph beside the editor, also when its webview starts late", async () => {
      const { page } = session;
      // a busy machine: the webview's script starts late, after the answer is in; the
      // graph must wait for the webview's ready message (the renderer is slowed down 8x)
      const cdp = await page.context().newCDPSession(page);
      await clickTab(page, "leak.log");
      await contextMenu(page, leak.address, "Show Owner Graph");
      await cdp.send("Emulation.setCPUThrottlingRate", { rate: 8 });
      const graph = webview(page);
      const target = graph.locator(`svg g.node#obj_${leak.address}`);
      try {
        // slowed down, a loaded CI machine once took over a minute to fetch the webview's
        // script and style sheet
        await target.waitFor({ timeout: 120_000 });
      } finally {
        // a failure here must not leave every later step slowed down eightfold
        await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
        await cdp.detach();
      }
      assert.equal(await target.locator("polygon").first().getAttribute("fill"), "yellow");
      await shot("graph");
    });

    /** The leak's graph is shown (asked again if the first request left the tab blank: the step before checks that). */
    async function leakGraphShown(page: Page): Promise<void> {
      const target = webview(page).locator(`svg g.node#obj_${leak.address}`);
      if (!(await target.isVisible())) {
        await clickTab(page, "leak.log");
        await contextMenu(page, leak.address, "Show Owner Graph");
        await target.waitFor({ timeout: 60_000 });
      }
    }

    step("the graph's title is not cut and a legend explains its colours", async () => {
      await leakGraphShown(session.page);
      const graph = webview(session.page);
      const cut = await graph.locator("#title").evaluate((e) => e.scrollWidth > e.clientWidth);
      assert.ok(!cut, "the title is shown whole");
      await graph.locator("#legend", { hasText: "has a finalizer" }).waitFor({ timeout: 10_000 });
    });

    let refocused = "";
    step("clicking an owner in the graph refocuses it, without a DataCloneError", async () => {
      const { page } = session;
      await leakGraphShown(page);
      const graph = webview(page);
      const owners = graph.locator(`svg g.node[id^="obj_0x"]:not(#obj_${leak.address})`);
      refocused = (await owners.first().getAttribute("id"))?.slice("obj_".length) ?? "";
      assert.ok(refocused, "the graph shows at least one owning object");
      await owners.first().click();
      await graph.locator(`svg g.node#obj_${refocused} polygon[fill="yellow"]`).waitFor();
      const cloneErrors = session.consoleErrors.filter((e) => /DataCloneError|could not be cloned/.test(e));
      assert.deepEqual(cloneErrors, [], "a click on a node posts nothing that cannot be cloned");
      assert.match(await graph.locator("#title").innerText(), new RegExp(refocused));
      assert.equal(await page.locator("iframe.webview").count(), 1, "one graph panel, reused");
      await shot("graph-refocused");

      await graph.getByRole("button", { name: `Anchors of ${refocused}` }).click();
      await waitForResult(page, `Anchors of ${refocused}`);
      await resultRows(page).filter({ hasText: `global ${leak.anchor.name}` }).first().waitFor();
    });

    step("an object node of the graph is reached with the keyboard, and Enter refocuses the graph on it", async () => {
      const { page } = session;
      const graph = webview(page);
      const next = graph.locator('svg g.node[id^="obj_0x"]').filter({ hasNot: graph.locator('polygon[fill="yellow"]') }).first();
      const nextAddress = (await next.getAttribute("id"))?.slice("obj_".length);
      await next.focus();
      assert.equal(await next.evaluate((e) => e.ownerDocument.activeElement === e), true, "the node takes the focus");
      await page.keyboard.press("Enter");
      await graph.locator(`svg g.node#obj_${nextAddress} polygon[fill="yellow"]`).waitFor();
    });

    step("the owner graph of an object held by a goroutine marks the frame that holds it", async () => {
      const { page } = session;
      await clickTab(page, "leak.log");
      const { x, y } = await textPoint(page, "opened");
      await page.mouse.click(x, y);
      await palette(page, "heapspurs: Show Owner Graph");
      await page.locator(".quick-input-widget input").first().fill(stackHeld.address);
      await page.keyboard.press("Enter");
      const graph = webview(page);
      const stack = graph.locator('svg g.node[id^="root_"]', { hasText: `goroutine ${stackHeld.root.goroutine}` });
      await stack.waitFor({ timeout: 60_000 });
      const bold = await stack.locator('text[font-weight="bold"]').allTextContents();
      assert.deepEqual(bold, [`▶ ${stackHeld.root.function}`], "only the holding frame is bold, behind an arrow");
      assert.ok((await stack.locator("text").count()) > 2, "the whole stack is listed");
      await graph.locator("svg g.edge text", { hasText: stackHeld.path }).first().waitFor();
      await graph.locator("#legend", { hasText: "the stack frame holding it" }).waitFor();
      await shot("graph-holding-frame");
    });

    step("the context menu has a heapspurs submenu only in documents with an address", async () => {
      const { page } = session;
      await openFile(page, "notes.txt");
      const plain = await contextMenuItems(page, "Nothing");
      assert.deepEqual(
        plain.filter((item) => /^(heapspurs|Show (Anchors|Owners|Hexdump|Owner Graph)|Hexdump)$/.test(item)),
        [],
        "no heapspurs items where no address is",
      );
      await openFile(page, "leak.log");
      // notes.txt took leak.log's preview tab: leak.log was closed and opened again, and its
      // context key comes back from the extension host a moment after the editor shows
      const deadline = Date.now() + 5000;
      let items = await contextMenuItems(page, leak.address);
      while (!items.includes("heapspurs") && Date.now() < deadline) {
        await page.waitForTimeout(250);
        items = await contextMenuItems(page, leak.address);
      }
      assert.ok(items.includes("heapspurs"), items.join(", "));
    });

    step("hovers still answer in a log closed and opened again, after the context menu", async () => {
      const { page } = session;
      // VS Code itself asks for no hover after a right-click closed with Escape until the
      // next click in the editor (the menu takes the mouse-up, and the editor's hover
      // controller still thinks a button is down; the trace shows no hover request at all)
      const { x, y } = await textPoint(page, "opened");
      await page.mouse.click(x, y);
      const hover = await hoverUntil(page, leak.address, leak.anchor.name ?? "", 20_000);
      assert.match(await hover.innerText(), /Anchors/);
    });
  },
);
