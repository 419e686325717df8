// The rest of the extension in a real VS Code, in a dark theme, with a server that has no
// Graphviz: a dump outside the dump globs loaded with "Load Heap Dump…" (which also starts
// the extension: no dump, no activation), the status bar and its dump list, palette commands
// (address from the cursor, from the last text editor while the graph has focus, from a
// validated input box), the graph drawn by the extension's own Graphviz build, pan and zoom,
// Save SVG, a setting changed live, Restart Server keeping the hand-loaded dump, a server
// that cannot start, and an address found in two dumps.

import assert from "node:assert/strict";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Page } from "playwright-core";
import { SERVER, describeInVsCode, leak, makeWorkspace } from "./session";
import {
  activeEditor,
  clickTab,
  editorText,
  hoverUntil,
  openFile,
  palette,
  resultRows,
  waitForResult,
  textPoint,
  webview,
} from "./workbench";

const DUMP_NAME = "captured.bin"; // matched by no default glob of heapspurs.dumps

/** A server command whose PATH has no `dot`, as on a machine without Graphviz. */
function serverWithoutGraphviz(workspace: string): string {
  const wrapper = join(workspace, "heapspurs-lsp-no-graphviz");
  writeFileSync(wrapper, `#!/bin/sh\nPATH=/nonexistent exec ${SERVER} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

/** Edits the workspace's .vscode/settings.json, as a user would (VS Code watches it). */
function setWorkspaceSetting(workspace: string, key: string, value: unknown): void {
  const file = join(workspace, ".vscode/settings.json");
  mkdirSync(dirname(file), { recursive: true });
  const settings = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : {};
  writeFileSync(file, JSON.stringify({ ...settings, [key]: value }, null, 2));
}

function quickInput(page: Page) {
  return page.locator(".quick-input-widget input").first();
}

/** Types a path into VS Code's own file dialog once it has filled in its folder. */
async function answerFileDialog(page: Page, path: string): Promise<void> {
  const input = quickInput(page);
  await page.waitForFunction(() => document.querySelector<HTMLInputElement>(".quick-input-widget input")?.value.startsWith("/"));
  await page.locator(".quick-input-list .monaco-list-row").first().waitFor();
  await input.fill(path);
  await page.waitForFunction((wanted) => document.querySelector<HTMLInputElement>(".quick-input-widget input")?.value === wanted, path);
  await page.keyboard.press("Enter");
}

const statusItem = (page: Page) => page.locator("#heapspurs\\.heapspurs\\.heapspurs\\.dumps, .statusbar-item", { hasText: "heapspurs:" }).first();

const workspace = makeWorkspace(DUMP_NAME);

describeInVsCode(
  "heapspurs palette commands, dump loading and the bundled Graphviz",
  () => ({
    workspace,
    settings: {
      "heapspurs.server.path": serverWithoutGraphviz(workspace),
      "heapspurs.oidFiles": ["oid.txt"],
      "workbench.colorTheme": "Default Dark Modern",
    },
    open: (page) => openFile(page, "leak.log"),
  }),
  (session) => {
    const { step, shot } = session;

    step("Load Heap Dump… loads a file the globs do not match; the status bar lists it", async () => {
      const { page } = session;
      await palette(page, "heapspurs: Load Heap Dump…");
      await answerFileDialog(page, join(session.workspace, DUMP_NAME));
      await page.locator(".notification-toast", { hasText: /ready, \d+ objects/ }).waitFor({ timeout: 60_000 });
      await statusItem(page).filter({ hasText: "1 dump" }).waitFor();
      await statusItem(page).click();
      const row = page.locator(".quick-input-list .monaco-list-row", { hasText: DUMP_NAME });
      await row.waitFor();
      const text = await row.innerText();
      assert.match(text, /ready · [\d,]+ objects/);
      assert.match(text, /binary: service/);
      await shot("dump-list");
      await page.keyboard.press("Escape");
    });

    step("Show Owner Graph from the palette takes the address under the cursor; without Graphviz the extension draws it", async () => {
      const { page } = session;
      await clickTab(page, "leak.log");
      const { x, y } = await textPoint(page, leak.address);
      await page.mouse.click(x, y);
      await palette(page, "heapspurs: Show Owner Graph");
      const graph = webview(page);
      await graph.locator(`svg g.node#obj_${leak.address}`).waitFor({ timeout: 60_000 });
      await graph.locator("#notes", { hasText: "Drawn by the extension's bundled Graphviz" }).waitFor();
      assert.match(await graph.locator("#notes").innerText(), /dot/i, "the note says why: no dot on the server");
      await shot("graph-bundled-graphviz-dark");
    });

    step("a palette command while the graph has focus uses the last text editor", async () => {
      const { page } = session;
      await webview(page).locator("#viewport").click({ position: { x: 5, y: 5 } });
      await palette(page, "heapspurs: Show Hexdump");
      await page.getByRole("tab", { name: new RegExp(`Hexdump of ${leak.address}`) }).waitFor();
      assert.match(await editorText(page), new RegExp(`${leak.oid_name} @ ${leak.address}`));
    });

    step("the wheel zooms the graph", async () => {
      const graph = webview(session.page);
      const scale = async () => (await graph.locator("#canvas").getAttribute("style"))?.match(/scale\(([\d.]+)\)/)?.[1];
      const before = Number(await scale());
      await graph.locator("#viewport").hover();
      await session.page.mouse.wheel(0, -400);
      await session.page.waitForFunction(() => true);
      const after = Number(await scale());
      assert.ok(after > before * 1.5, `zoomed in from ${before} to ${after}`);
      await graph.getByRole("button", { name: "Fit" }).click();
      assert.equal(Number(await scale()), before);
    });

    step("Save SVG writes the graph the panel shows", async () => {
      const { page } = session;
      await webview(page).getByRole("button", { name: "Save SVG" }).click();
      const target = join(session.workspace, `owners-${leak.address}.svg`);
      await answerFileDialog(page, target);
      await page.locator(".notification-toast", { hasText: /Saved the owner graph/ }).waitFor(); // not "heapspurs: saved …"
      assert.ok(existsSync(target));
      const svg = readFileSync(target, "utf8");
      assert.match(svg, /<svg/);
      assert.ok(svg.includes(`obj_${leak.address}`));
    });

    step("heapspurs.graph.maxNodes applies live: a smaller graph says it was truncated", async () => {
      const { page } = session;
      setWorkspaceSetting(session.workspace, "heapspurs.graph.maxNodes", 2);
      const notes = webview(page).locator("#notes", { hasText: "Truncated at 2 nodes" });
      for (let attempt = 0; ; attempt++) {
        await clickTab(page, "leak.log");
        await palette(page, "heapspurs: Show Owner Graph");
        try {
          await notes.waitFor({ timeout: 3000 });
          break;
        } catch (err) {
          if (attempt === 10) {
            throw err; // the setting never reached the server
          }
        }
      }
      assert.equal(await webview(page).locator('svg g.node[id^="obj_0x"]').count(), 2);
      setWorkspaceSetting(session.workspace, "heapspurs.graph.maxNodes", 200);
    });

    step("Restart Server loads the hand-loaded dump again", async () => {
      const { page } = session;
      await palette(page, "heapspurs: Restart Server");
      await statusItem(page).filter({ hasText: "1 dump" }).waitFor({ timeout: 60_000 });
      await clickTab(page, "leak.log");
      const hover = await hoverUntil(page, leak.address, leak.anchor.name ?? "");
      assert.match(await hover.innerText(), new RegExp(DUMP_NAME.replace(".", "\\.")));
    });

    step("a server that cannot start gets one notification with a way to the settings", async () => {
      const { page } = session;
      const server = serverWithoutGraphviz(session.workspace);
      setWorkspaceSetting(session.workspace, "heapspurs.server.path", join(session.workspace, "no-such-server"));
      const toast = page.locator(".notification-toast", { hasText: "could not start" });
      await toast.waitFor({ timeout: 30_000 });
      const said = await toast.innerText();
      assert.match(said, /pip install heapspurs/);
      await statusItem(page).filter({ hasText: "no server" }).waitFor();
      await shot("server-missing");
      await toast.getByRole("button", { name: "Open Settings" }).click();
      const settings = page.locator(".settings-editor");
      await settings.locator(".setting-item", { hasText: "Server: Path" }).first().waitFor();
      for (let i = 0; i < 3 && (await settings.isVisible()); i++) {
        await page.keyboard.press("Escape");
        await settings.waitFor({ state: "hidden", timeout: 2000 }).catch(() => undefined);
      }
      setWorkspaceSetting(session.workspace, "heapspurs.server.path", server);
      await statusItem(page).filter({ hasText: "1 dump" }).waitFor({ timeout: 60_000 });
      assert.doesNotMatch(said, /why is this Go object alive/, "the source is the short name, not the display name");
    });

    step("with no address under the cursor the palette asks for one and validates it", async () => {
      const { page } = session;
      await clickTab(page, "leak.log");
      const { x, y } = await textPoint(page, "opened");
      await page.mouse.click(x, y);
      await palette(page, "heapspurs: Show Anchors");
      await quickInput(page).fill("c000zz");
      await page.locator(".quick-input-message", { hasText: "not a hex address" }).waitFor();
      await quickInput(page).fill(leak.address);
      await page.keyboard.press("Enter");
      await waitForResult(page, `Anchors of ${leak.address}`);
      await resultRows(page).filter({ hasText: `global ${leak.anchor.name}` }).first().waitFor();
      assert.ok(await activeEditor(page).isVisible());
    });

    step("an address that is an object in two dumps asks which one", async () => {
      const { page } = session;
      copyFileSync(join(session.workspace, DUMP_NAME), join(session.workspace, "second.heapdump"));
      await statusItem(page).filter({ hasText: "2 dumps" }).waitFor({ timeout: 60_000 });
      await clickTab(page, "leak.log");
      const { x, y } = await textPoint(page, leak.address);
      await page.mouse.click(x, y);
      await palette(page, "heapspurs: Show Owners");
      await page.locator(".quick-input-widget", { hasText: "is an object in several dumps" }).waitFor();
      await page.locator(".quick-input-list .monaco-list-row", { hasText: "second.heapdump" }).click();
      await waitForResult(page, `Owners of ${leak.address}`);
      await page.waitForFunction(() => document.querySelector(".part.panel")?.textContent?.includes("second.heapdump"));
      await resultRows(page).filter({ hasText: leak.address }).first().waitFor();
    });

    step("the palette lists every command as 'heapspurs: …', each result command as 'Show …'", async () => {
      const { page } = session;
      await page.locator(".monaco-workbench").focus(); // not a webview's frame: F1 goes to VS Code
      await page.keyboard.press("F1");
      await quickInput(page).fill(">heapspurs:");
      const rows = page.locator(".quick-input-list .monaco-list-row");
      await rows.filter({ hasText: "Restart Server" }).first().waitFor();
      const labels = (await rows.allInnerTexts()).map((text) => text.split("\n")[0].trim()).filter((l) => /^heapspurs:/i.test(l));
      await page.keyboard.press("Escape");
      assert.ok(labels.length >= 5, labels.join(", "));
      assert.deepEqual(labels.filter((l) => !l.startsWith("heapspurs: ")), [], "one spelling of the category");
      for (const result of ["Anchors", "Owners", "Hexdump", "Owner Graph"]) {
        assert.ok(labels.includes(`heapspurs: Show ${result}`), `'heapspurs: Show ${result}' in ${labels.join(", ")}`);
      }
    });
  },
);
