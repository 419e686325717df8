import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Launch, chooseLaunch, launchCandidates, probeVersion } from "../../src/serverLaunch";

describe("launchCandidates", () => {
  it("uses an explicit server path alone", () => {
    assert.deepEqual(launchCandidates({ path: " /opt/bin/heapspurs-lsp ", python: "/usr/bin/python3" }, "/py"), [
      { command: "/opt/bin/heapspurs-lsp", args: [], source: "heapspurs.server.path" },
    ]);
  });

  it("runs the module with an explicit interpreter", () => {
    assert.deepEqual(launchCandidates({ path: "", python: "/venv/bin/python" }), [
      { command: "/venv/bin/python", args: ["-m", "heapspurs.lsp"], source: "heapspurs.server.python" },
    ]);
  });

  it("defaults to heapspurs-lsp on PATH, then the Python extension's interpreter", () => {
    const candidates = launchCandidates({}, "/home/u/.venv/bin/python");
    assert.deepEqual(
      candidates.map((c) => [c.command, ...c.args]),
      [["heapspurs-lsp"], ["/home/u/.venv/bin/python", "-m", "heapspurs.lsp"]],
    );
    assert.equal(launchCandidates({}).length, 1);
  });

  it("tries the private environment last, once it was made", () => {
    const candidates = launchCandidates({}, undefined, "/storage/venv/bin/python");
    assert.deepEqual(
      candidates.map((c) => [c.command, ...c.args]),
      [["heapspurs-lsp"], ["/storage/venv/bin/python", "-m", "heapspurs.lsp"]],
    );
    assert.equal(candidates[1].source, "the extension's private environment");
    assert.equal(launchCandidates({ path: "/opt/lsp" }, undefined, "/storage/venv/bin/python").length, 1, "a setting wins");
  });
});

describe("chooseLaunch with real processes", () => {
  const folder = mkdtempSync(join(tmpdir(), "heapspurs-launch-"));
  const script = (name: string, body: string) => {
    const path = join(folder, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return { command: path, args: [], source: name } satisfies Launch;
  };

  it("takes the first candidate that prints a heapspurs version and says why the others failed", async () => {
    const missing = { command: join(folder, "not-there"), args: [], source: "missing" };
    const wrong = script("wrong", "echo 'something else 1.0'");
    const good = script("good", "echo 'heapspurs-lsp 0.1.0'");
    const choice = await chooseLaunch([missing, wrong, good], probeVersion);
    assert.equal(choice.launch, good);
    assert.equal(choice.failures.length, 2);
    assert.match(choice.failures[0], /^missing \(.*not-there\): .*ENOENT/);
    assert.match(choice.failures[1], /^wrong .*something else/);
  });

  it("answers no launch when nothing works", async () => {
    const failing = script("failing", "echo 'No module named heapspurs' >&2; exit 1");
    const choice = await chooseLaunch([failing], probeVersion);
    assert.equal(choice.launch, undefined);
    assert.equal(choice.failures.length, 1);
  });
});
