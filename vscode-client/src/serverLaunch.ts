// Which command starts heapspurs-lsp. The ordering is a pure function (unit-tested); the
// probe runs each candidate with --version and takes the first that answers.

import { execFile } from "node:child_process";

export interface LaunchSettings {
  /** heapspurs.server.path: a command that starts the server. */
  path?: string;
  /** heapspurs.server.python: an interpreter that has the heapspurs package. */
  python?: string;
}

export interface Launch {
  command: string;
  args: string[];
  /** Where the candidate came from, for messages. */
  source: string;
}

export const INSTALL_HINT = "pip install heapspurs (Python 3.10 or newer; from a checkout: pip install ./)";

/**
 * Candidates in the order they are tried: an explicit setting is the only candidate;
 * otherwise `heapspurs-lsp` on PATH, then the Python extension's interpreter, then the
 * extension's private environment (when it was made).
 */
export function launchCandidates(settings: LaunchSettings, extensionPython?: string, privatePython?: string): Launch[] {
  const path = settings.path?.trim();
  if (path) {
    return [{ command: path, args: [], source: "heapspurs.server.path" }];
  }
  const python = settings.python?.trim();
  if (python) {
    return [pythonLaunch(python, "heapspurs.server.python")];
  }
  const out: Launch[] = [{ command: "heapspurs-lsp", args: [], source: "heapspurs-lsp on PATH" }];
  if (extensionPython) {
    out.push(pythonLaunch(extensionPython, "the Python extension's interpreter"));
  }
  if (privatePython) {
    out.push(pythonLaunch(privatePython, "the extension's private environment"));
  }
  return out;
}

function pythonLaunch(python: string, source: string): Launch {
  return { command: python, args: ["-m", "heapspurs.lsp"], source };
}

export type Probe = (launch: Launch) => Promise<string | undefined>;

/** Runs `command args --version`; answers why it failed, or undefined when it worked. */
export const probeVersion: Probe = (launch) =>
  new Promise((resolve) => {
    execFile(launch.command, [...launch.args, "--version"], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (!error && stdout.includes("heapspurs")) {
        resolve(undefined);
      } else {
        const why = error?.message ?? (stderr || stdout || "no version printed");
        resolve(why.split("\n")[0]);
      }
    });
  });

export interface LaunchChoice {
  launch?: Launch;
  /** One line per candidate that failed: "source (command): why". */
  failures: string[];
}

export async function chooseLaunch(candidates: Launch[], probe: Probe = probeVersion): Promise<LaunchChoice> {
  const failures: string[] = [];
  for (const launch of candidates) {
    const why = await probe(launch);
    if (why === undefined) {
      return { launch, failures };
    }
    failures.push(`${launch.source} (${[launch.command, ...launch.args].join(" ")}): ${why}`);
  }
  return { failures };
}
