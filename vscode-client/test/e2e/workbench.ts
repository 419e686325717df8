// Driving the VS Code workbench in headless Chromium with playwright-core.

import { Browser, FrameLocator, Locator, Page, chromium } from "playwright-core";

export async function openWorkbench(url: string): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  await page.goto(url);
  await page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
  return { browser, page };
}

/**
 * Does `act`, then waits up to 10 s for `done`; again, after `undo` (if given), up to
 * `attempts` times in all: on a loaded machine a click or a key can be lost, or come
 * before what it acts on is there.
 */
export async function retried(
  attempts: number,
  act: () => Promise<void>,
  done: Locator,
  undo?: () => Promise<void>,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await act();
    try {
      await done.waitFor({ timeout: 10_000 });
      return;
    } catch (err) {
      if (attempt === attempts) {
        throw err;
      }
      await undo?.();
    }
  }
}

/**
 * Opens a workspace file from the Explorer, until its tab is the active one (a click can
 * land while the tree draws itself again, after a new folder, and be lost).
 */
export async function openFile(page: Page, name: string): Promise<void> {
  const tab = page.locator(".editor-group-container.active .tab.active", { hasText: name }).first();
  await retried(6, () => page.getByRole("treeitem", { name }).first().click({ timeout: 30_000 }), tab);
  await activeEditor(page).locator(".view-lines").waitFor();
}

/**
 * Brings `text` of the active editor into view with Find, closes Find and clicks the line:
 * the editor's text then has the focus, as after a user's click. (VS Code drops a CodeLens
 * request still waiting to be sent when the text loses the focus, and asks again when it
 * gets it back: with the focus left in Find, a file's CodeLenses may never come.)
 */
export async function revealInEditor(page: Page, text: string): Promise<void> {
  const editor = activeEditor(page);
  await editor.locator(".view-lines").click();
  await page.keyboard.press("Control+F");
  const find = editor.locator(".find-widget.visible");
  const input = find.locator("textarea, input").first();
  await input.waitFor();
  await input.fill(text);
  await find.locator(".matchesCount", { hasText: /\d+ of \d+/ }).waitFor();
  await input.press("Enter");
  await find.getByRole("button", { name: /^Close/ }).click(); // (Escape may go to a notification first)
  await find.waitFor({ state: "hidden" });
  await editor.locator(".view-line", { hasText: text }).first().click();
}

export function activeEditor(page: Page): Locator {
  return page.locator(".editor-group-container.active .editor-instance .monaco-editor").first();
}

/** The text of the active editor (VS Code draws spaces as no-break spaces). */
export async function editorText(page: Page): Promise<string> {
  const text = await activeEditor(page).locator(".view-lines").innerText();
  return text.replace(/\u00a0/g, " ");
}

/** The centre of `text` where the active editor draws it. */
export async function textPoint(page: Page, text: string): Promise<{ x: number; y: number }> {
  const lines = activeEditor(page).locator(".view-lines");
  const point = await lines.evaluate((root, wanted) => {
    // per drawn line, its text nodes joined: a syntax colouring may split the text in tokens
    for (const line of Array.from(root.querySelectorAll(".view-line"))) {
      const nodes: Node[] = [];
      const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        nodes.push(node);
      }
      const joined = nodes.map((n) => n.textContent ?? "").join("");
      const at = joined.indexOf(wanted);
      if (at < 0) {
        continue;
      }
      const range = document.createRange();
      let start = 0;
      for (const node of nodes) {
        const end = start + (node.textContent ?? "").length;
        if (start <= at && at < end) {
          range.setStart(node, at - start);
        }
        if (start < at + wanted.length && at + wanted.length <= end) {
          range.setEnd(node, at + wanted.length - start);
        }
        start = end;
      }
      const box = range.getBoundingClientRect();
      return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
    }
    return undefined;
  }, text);
  if (!point) {
    throw new Error(`${text} is not shown in the active editor`);
  }
  return point;
}

/**
 * Hovers `text` until VS Code shows a hover containing `expected`. The first hovers can
 * come before the extension has started or the dump has loaded; between tries the stale
 * hover is dismissed, or VS Code would show it again without asking the server.
 */
export async function hoverUntil(page: Page, text: string, expected: string | RegExp, timeoutMs = 90_000): Promise<Locator> {
  const deadline = Date.now() + timeoutMs;
  const hover = page.locator(".monaco-hover:not(.hidden)").filter({ hasText: expected });
  for (;;) {
    // the editor may still be drawing the document: wait for the text as for the hover
    const { x, y } = await textPoint(page, text).catch((err: unknown) => {
      if (Date.now() > deadline) {
        throw err;
      }
      return { x: 5, y: 5 };
    });
    await page.mouse.move(x, y);
    try {
      await hover.first().waitFor({ state: "visible", timeout: 4000 });
      return hover.first();
    } catch (err) {
      if (Date.now() > deadline) {
        throw err;
      }
    }
    await page.mouse.move(5, 5);
    await page.keyboard.press("Escape");
    await page.locator(".monaco-hover:not(.hidden)").waitFor({ state: "hidden", timeout: 5000 }).catch(() => undefined);
    await page.waitForTimeout(1000);
  }
}

/**
 * Right-click `text`, then heapspurs ▸ `item`. A build without the submenu (an older one,
 * run with HEAPSPURS_E2E_VSIX) gets `item` from the menu itself: the submenu has a step of
 * its own, and the other steps then fail at what they check, not here.
 */
export async function contextMenu(page: Page, text: string, item: string): Promise<void> {
  const { x, y } = await textPoint(page, text);
  await page.mouse.click(x, y, { button: "right" });
  const submenu = page.getByRole("menuitem", { name: "heapspurs", exact: true });
  const entry = page.getByRole("menuitem", { name: item, exact: true });
  await submenu.or(entry).first().waitFor();
  // VS Code's menu ignores a click that comes right after it opened: point, then Enter
  if (await submenu.count()) {
    await submenu.hover();
  }
  await entry.waitFor();
  await entry.hover();
  await page.keyboard.press("Enter");
}

/** The names of the editor context menu's items at `text` (the menu is closed again). */
export async function contextMenuItems(page: Page, text: string): Promise<string[]> {
  const { x, y } = await textPoint(page, text);
  await page.mouse.click(x, y, { button: "right" });
  const items = page.getByRole("menuitem");
  await items.first().waitFor();
  const names = (await items.allInnerTexts()).map((name) => name.split("\n")[0].trim());
  await page.keyboard.press("Escape");
  return names;
}

/** The heapspurs status-bar item. */
export function statusItem(page: Page): Locator {
  return page.locator(".statusbar-item", { hasText: "heapspurs:" }).first();
}

/**
 * Samples the status-bar item's text every 50 ms in the page itself (nothing is missed
 * while the test waits); `stop` answers every distinct text in the order seen.
 */
export async function sampleStatus(page: Page): Promise<{ stop: () => Promise<string[]> }> {
  await page.evaluate(() => {
    const w = window as unknown as { heapspursSamples: string[]; heapspursSampler: number };
    w.heapspursSamples = [];
    w.heapspursSampler = window.setInterval(() => {
      const item = [...document.querySelectorAll(".statusbar-item")].find((e) => e.textContent?.includes("heapspurs:"));
      const text = item?.textContent?.trim() ?? "(no item)";
      if (w.heapspursSamples[w.heapspursSamples.length - 1] !== text) {
        w.heapspursSamples.push(text);
      }
    }, 50);
  });
  return {
    stop: () =>
      page.evaluate(() => {
        const w = window as unknown as { heapspursSamples: string[]; heapspursSampler: number };
        window.clearInterval(w.heapspursSampler);
        return w.heapspursSamples;
      }),
  };
}

export function webview(page: Page): FrameLocator {
  return page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");
}

export async function clickTab(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole("tab", { name }).first().click();
}

/**
 * Runs a command from the palette (F1), by its title. The palette lists the commands known
 * when it opens: on a loaded machine the extension's may come later, so it is opened again.
 */
export async function palette(page: Page, command: string): Promise<void> {
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: command }).first();
  const open = async () => {
    await page.locator(".monaco-workbench").focus(); // not the webview's frame: F1 goes to VS Code
    await page.keyboard.press("F1");
    const input = page.locator(".quick-input-widget input").first();
    await input.waitFor();
    await input.fill(`>${command}`);
  };
  await retried(6, open, row, () => page.keyboard.press("Escape"));
  await page.keyboard.press("Enter");
}

/** The panel, where the heapspurs results view shows (beside Output and Terminal). */
export function resultsPanel(page: Page): Locator {
  return page.locator(".part.panel");
}

/** The rows of the heapspurs results view (a tree in the panel). */
export function resultRows(page: Page): Locator {
  return resultsPanel(page).locator(".monaco-list-row");
}

/** Waits until the results view says it shows `title` (in its message above the rows). */
export async function waitForResult(page: Page, title: string): Promise<void> {
  await page.waitForFunction(
    (wanted) => [...document.querySelectorAll(".part.panel .message")].some((e) => e.textContent?.includes(wanted)),
    title,
    { timeout: 60_000 },
  );
}

/** Titles of the open editor tabs. */
export async function tabTitles(page: Page): Promise<string[]> {
  return page.locator(".tabs-container .tab").evaluateAll((tabs) => tabs.map((t) => t.getAttribute("aria-label") ?? ""));
}

/**
 * WCAG's contrast ratio of an element's text against what it is drawn on (the nearest
 * ancestor with an opaque background): 4.5 is legible, high contrast themes give 7 or more.
 */
export async function textContrast(element: Locator): Promise<number> {
  return element.evaluate((e) => {
    const rgb = (css: string) => (css.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]: number[]) => {
      const linear = (c: number) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
      return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    };
    let back: Element | null = e;
    while (back && (rgb(getComputedStyle(back).backgroundColor)[3] ?? 1) === 0) {
      back = back.parentElement;
    }
    const fore = luminance(rgb(getComputedStyle(e).color));
    const under = back ? luminance(rgb(getComputedStyle(back).backgroundColor)) : 1;
    return (Math.max(fore, under) + 0.05) / (Math.min(fore, under) + 0.05);
  });
}

/** Whether the element is drawn whole inside the page and its text is not cut off. */
export async function shownWhole(element: Locator): Promise<boolean> {
  return element.evaluate((e) => {
    const box = e.getBoundingClientRect();
    const inside = box.left >= 0 && box.top >= 0 && box.right <= window.innerWidth && box.bottom <= window.innerHeight;
    return inside && box.width > 0 && e.scrollWidth <= e.clientWidth + 1;
  });
}
