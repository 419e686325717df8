// The user story in a real VS Code (code-server + headless Chromium): a workspace with a
// real Go 1.27 heap dump, its binary, its OID file and a log naming a leaked object. Hover
// the address and see its anchor; right-click → Show Anchors; Show Owner Graph and click an
// owner to refocus the graph.

import assert from "node:assert/strict";
import { describeInVsCode, leak, makeWorkspace, SERVER } from "./session";
import { clickTab, contextMenu, editorText, hoverUntil, openFile, webview } from "./workbench";

describeInVsCode(
  "heapspurs in VS Code",
  () => ({
    workspace: makeWorkspace(),
    // code-server hands extensions a login shell's PATH, so the server is named in the
    // settings; unit tests cover the default search
    settings: { "heapspurs.oidFiles": ["oid.txt"], "heapspurs.server.path": SERVER },
    open: (page) => openFile(page, "leak.log"),
  }),
  (session) => {
    const { step, shot } = session;
    step("hovering the address in the log shows its object and its anchor", async () => {
      const hover = await hoverUntil(session.page, leak.address, leak.anchor.name ?? "");
      const text = await hover.innerText();
      assert.match(text, new RegExp(leak.oid_name.replace(/[.[\]]/g, "\\$&")));
      assert.match(text, /Anchors/);
      await shot("hover");
    });

    step("the hover's Owners link opens the owner tree of that address", async () => {
      const { page } = session;
      const hover = await hoverUntil(page, leak.address, leak.anchor.name ?? "");
      await hover.getByRole("link", { name: "Owners" }).first().click();
      await page.getByRole("tab", { name: new RegExp(`Owners of ${leak.address}`) }).waitFor();
      const text = await editorText(page);
      assert.match(text, new RegExp(`${leak.oid_name} @ ${leak.address}`));
      assert.match(text, /\n {2}\S.* @ 0x[0-9a-f]+/, "first-level owners are indented under the object");
      assert.match(text, /\n {4}\S.* @ 0x[0-9a-f]+/, "their owners one level deeper");
    });

    step("right-click → Show Anchors opens the anchor document", async () => {
      const { page } = session;
      await clickTab(page, "leak.log");
      await contextMenu(page, leak.address, "Show Anchors");
      await page.getByRole("tab", { name: new RegExp(`Anchors of ${leak.address}`) }).waitFor();
      const text = await editorText(page);
      assert.ok(text.includes(`global ${leak.anchor.name}`), text);
      assert.match(text, /chain of \d+ object/);
      await shot("anchors");
    });

    step("addresses in a result document get the same hover", async () => {
      const hover = await hoverUntil(session.page, leak.object, leak.anchor.name ?? "");
      assert.match(await hover.innerText(), new RegExp(`Object\\s+${leak.object}`));
    });

    step("Show Owner Graph draws the graph beside the editor; clicking an owner refocuses it", async () => {
      const { page } = session;
      await clickTab(page, "leak.log");
      await contextMenu(page, leak.address, "Show Owner Graph");
      const graph = webview(page);
      const target = graph.locator(`svg g.node#obj_${leak.address}`);
      await target.waitFor({ timeout: 60_000 });
      assert.equal(await target.locator("polygon").first().getAttribute("fill"), "yellow");
      await shot("graph");

      const owners = graph.locator(`svg g.node[id^="obj_0x"]:not(#obj_${leak.address})`);
      const owner = (await owners.first().getAttribute("id"))?.slice("obj_".length);
      assert.ok(owner, "the graph shows at least one owning object");
      await owners.first().click();
      await graph.locator(`svg g.node#obj_${owner} polygon[fill="yellow"]`).waitFor();
      assert.match(await graph.locator("#title").innerText(), new RegExp(owner));
      assert.equal(await page.locator("iframe.webview").count(), 1, "one graph panel, reused");
      await shot("graph-refocused");

      await graph.getByRole("button", { name: `Anchors of ${owner}` }).click();
      await page.getByRole("tab", { name: new RegExp(`Anchors of ${owner}`) }).waitFor();
      assert.ok((await editorText(page)).includes(`global ${leak.anchor.name}`));
    });
  },
);
