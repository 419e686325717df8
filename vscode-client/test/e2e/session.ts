// One VS Code session per test file: a workspace made from the Go 1.27 fixture, code-server
// with the packaged extension, headless Chromium on it, and steps that leave a screenshot
// and the extension's log when they fail. Screenshots go to test-results/e2e/.

import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestContext, after, before, describe, it } from "node:test";
import { Browser, Page } from "playwright-core";
import { CLIENT_DIR, CodeServer, CodeServerOptions, REPO_DIR, missingPrerequisites, startCodeServer } from "./codeServer";
import { openWorkbench } from "./workbench";

export const FIXTURE = join(REPO_DIR, "tests/fixtures/data/go1.27");
export const SHOTS = join(CLIENT_DIR, "test-results/e2e");
/** The language server command; HEAPSPURS_E2E_SERVER names another one (with HEAPSPURS_E2E_VSIX). */
export const SERVER = process.env.HEAPSPURS_E2E_SERVER ?? join(REPO_DIR, ".venv/bin/heapspurs-lsp");

interface Scenario {
  address: string;
  object: string;
  oid_name: string;
  anchor: { kind: string; name?: string };
}
interface TypeEntry {
  name: string;
  address: string;
  type: string;
  path: string;
  root: { function?: string; goroutine?: number; name?: string };
}
const truth = JSON.parse(readFileSync(join(FIXTURE, "truth.json"), "utf8")) as {
  scenarios: Record<string, Scenario>;
  types: TypeEntry[];
};
/** The fixture program's leaked request, held by a global through a map and a session. */
export const leak = truth.scenarios.leak;
/** An object held only by a goroutine's stack variable (`held`). */
export const stackHeld = truth.types.find((t) => t.name === "stack_held") as TypeEntry;

/** The address of the global that anchors the leak (from the binary's symbols). */
export const globalAddress = execFileSync(join(REPO_DIR, ".venv/bin/python"), [
  "-c",
  "import sys; from heapspurs.names.elf import read_symbols; print(hex(read_symbols(sys.argv[1]).address_of(sys.argv[2])))",
  join(FIXTURE, "scenarios"),
  leak.anchor.name ?? "",
])
  .toString()
  .trim();

/** A workspace as a user would have it: the dump, the binary, OID names and a log. */
export function makeWorkspace(dumpName = "service.heapdump"): string {
  const folder = mkdtempSync(join(tmpdir(), "heapspurs-workspace-"));
  copyFileSync(join(FIXTURE, "heap.dump"), join(folder, dumpName));
  copyFileSync(join(FIXTURE, "scenarios"), join(folder, "service"));
  copyFileSync(join(FIXTURE, "oid.txt"), join(folder, "oid.txt"));
  writeFileSync(join(folder, "notes.txt"), "Nothing here looks like an address.\n");
  writeFileSync(
    join(folder, "leak.log"),
    [
      "2026-11-26T08:00:01Z INFO session opened id=42",
      `2026-11-26T08:00:02Z WARN request ${leak.address} still referenced after close`,
      "2026-11-26T08:00:03Z INFO heap in use 12 MB",
      `2026-11-26T08:00:04Z DEBUG sessions table at ${globalAddress}`,
      "",
    ].join("\n"),
  );
  return folder;
}

export interface Session {
  page: Page;
  workspace: string;

  /** A test step; on failure a screenshot and the extension's log say what the user saw. */
  step(name: string, body: (t: TestContext) => Promise<void>): void;
  shot(name: string): Promise<void>;
  /** The extension's output channels as written to the profile's logs. */
  extensionLog(): string;
  /** Errors the workbench and its webviews wrote to the console since the start. */
  consoleErrors: string[];
}

export interface SessionOptions extends CodeServerOptions {
  /** The file opened first. */
  open: (page: Page) => Promise<void>;
}

/**
 * HEAPSPURS_E2E_SKIP, a regular expression of step names not to run: with an older build
 * (HEAPSPURS_E2E_VSIX) the later steps then show their own failures, not an earlier one's.
 */
function skipped(name: string): string | false {
  const pattern = process.env.HEAPSPURS_E2E_SKIP;
  return pattern && new RegExp(pattern).test(name) ? `HEAPSPURS_E2E_SKIP=${pattern}` : false;
}

/** A suite run in one VS Code session; scripts/test.sh (CI) requires it to run. */
export function describeInVsCode(title: string, options: () => SessionOptions, body: (session: Session) => void): void {
  const missing = missingPrerequisites().join(", ");
  if (missing && process.env.HEAPSPURS_E2E_REQUIRED) {
    throw new Error(`the end-to-end test needs ${missing}: run it with "npm run test:e2e", which installs them`);
  }
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  const session: Session = {
    page: undefined as unknown as Page,
    workspace: "",
    consoleErrors: [],
    extensionLog: () => server?.extensionLog() ?? "",
    shot: async (name) => {
      mkdirSync(SHOTS, { recursive: true });
      await session.page.screenshot({ path: join(SHOTS, `${name}.png`) });
    },
    step: (name, run) =>
      it(name, { skip: skipped(name) }, async (t) => {
        try {
          await run(t);
        } catch (err) {
          await session.shot(`failed-${name.replace(/\W+/g, "-")}`).catch(() => undefined);
          console.error(server?.extensionLog());
          // a menu or quick input left open would block the next steps' clicks
          await session.page.keyboard.press("Escape").catch(() => undefined);
          await session.page.keyboard.press("Escape").catch(() => undefined);
          throw err;
        }
      }),
  };
  describe(title, { skip: missing ? `missing ${missing}` : false }, () => {
    before(async () => {
      const { open, ...codeServerOptions } = options();
      session.workspace = codeServerOptions.workspace;
      server = await startCodeServer(codeServerOptions);
      ({ browser, page: session.page } = await openWorkbench(
        `${server.url}/?folder=${encodeURIComponent(session.workspace)}`,
      ));
      session.page.on("console", (message) => {
        if (message.type() === "error") {
          session.consoleErrors.push(message.text());
        }
      });
      session.page.on("pageerror", (error) => session.consoleErrors.push(String(error)));
      await open(session.page);
    });
    after(async () => {
      await browser?.close();
      await server?.stop();
    });
    body(session);
  });
}
