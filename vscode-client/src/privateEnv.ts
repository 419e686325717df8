// The extension's private Python environment, as Microsoft's Python tool extensions make
// theirs: when no heapspurs server is configured or found, the extension offers to create a
// virtual environment in its global storage with the user's python3 (3.10 or newer) and to
// install the heapspurs wheel the .vsix carries (and its dependencies, from the package
// index) into it; the server then starts from there.

import { execFile, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as vscode from "vscode";

const MIN_PYTHON: [number, number] = [3, 10];

/** The heapspurs wheel bundled in the .vsix (`bundled/heapspurs-*.whl`), if any. */
export function bundledWheel(extensionPath: string): string | undefined {
  const folder = path.join(extensionPath, "bundled");
  const wheel = existsSync(folder) ? readdirSync(folder).find((name) => /^heapspurs-.*\.whl$/.test(name)) : undefined;
  return wheel ? path.join(folder, wheel) : undefined;
}

/** The private environment's interpreter (it may not exist yet). */
export function privatePython(storagePath: string): string {
  return process.platform === "win32" ? path.join(storagePath, "venv", "Scripts", "python.exe") : path.join(storagePath, "venv", "bin", "python");
}

/** The first of python3, python that is 3.10 or newer: its command, else undefined. */
async function userPython(): Promise<string | undefined> {
  for (const command of ["python3", "python"]) {
    try {
      const { stdout } = await promisify(execFile)(command, ["-c", "import sys; print('%d %d' % sys.version_info[:2])"], { timeout: 30_000 });
      const [major, minor] = stdout.trim().split(" ").map(Number);
      if (major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1])) {
        return command;
      }
    } catch {
      // not installed, or not runnable: the next one
    }
  }
  return undefined;
}

/** Runs `command args`, its output going to `log` line by line; rejects with its last lines. */
function run(command: string, args: string[], log: vscode.LogOutputChannel, token: vscode.CancellationToken): Promise<void> {
  return new Promise((resolve, reject) => {
    log.info(`running ${[command, ...args].join(" ")}`);
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    const tail: string[] = [];
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n").filter(Boolean)) {
        log.info(line);
        tail.push(line);
        tail.splice(0, Math.max(0, tail.length - 5));
      }
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    token.onCancellationRequested(() => child.kill());
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(command)} ${args[0]} … failed (${code}): ${tail.join(" / ")}`))));
  });
}

/**
 * Creates the private environment and installs `wheel` into it, with a progress
 * notification (cancellable). Resolves with its interpreter; rejects with why not.
 */
export async function createPrivateEnvironment(storagePath: string, wheel: string, log: vscode.LogOutputChannel): Promise<string> {
  const python = await userPython();
  if (!python) {
    throw new Error(`no python3 ${MIN_PYTHON.join(".")} or newer on PATH: install one, or set heapspurs.server.python`);
  }
  const target = privatePython(storagePath);
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "heapspurs: creating a private Python environment", cancellable: true },
    async (progress, token) => {
      progress.report({ message: `with ${python}…` });
      await vscode.workspace.fs.createDirectory(vscode.Uri.file(storagePath));
      await run(python, ["-m", "venv", "--clear", path.join(storagePath, "venv")], log, token);
      progress.report({ message: "installing heapspurs and its dependencies (numpy, numba, …): a few minutes…" });
      await run(target, ["-m", "pip", "install", "--disable-pip-version-check", wheel], log, token);
    },
  );
  return target;
}
