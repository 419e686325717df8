// Installing like a real extension: a fresh profile, no heapspurs server configured and none
// on PATH (no Python extension either). The extension says it cannot start the server and
// offers a private environment; accepting makes one in its global storage with the
// machine's python3, installs the wheel the .vsix carries (its dependencies from the
// package index) and starts the server from it: the workspace's dump loads and a hover on
// an address answers.

import assert from "node:assert/strict";
import { homedir } from "node:os";
import { join } from "node:path";
import { describeInVsCode, leak, makeWorkspace } from "./session";
import { hoverUntil, openFile, statusItem } from "./workbench";

/** PATH without this checkout's venv, so that no heapspurs-lsp is found. */
const barePath = (process.env.PATH ?? "")
  .split(":")
  .filter((dir) => dir && !dir.includes(".venv"))
  .join(":");

describeInVsCode(
  "heapspurs installs its own server",
  () => ({
    workspace: makeWorkspace(),
    settings: {},
    // pip's cache of this machine: the same downloads a user's first install makes, once
    env: { PATH: barePath, PIP_CACHE_DIR: process.env.PIP_CACHE_DIR ?? join(homedir(), ".cache", "pip") },
    open: (page) => openFile(page, "leak.log"),
  }),
  (session) => {
    const { step, shot } = session;

    step("with no server anywhere, the error offers to create a private environment", async () => {
      const { page } = session;
      const toast = page.locator(".notification-toast", { hasText: "could not start" });
      await toast.waitFor({ timeout: 120_000 });
      assert.match(await toast.innerText(), /private Python environment/);
      await shot("install-offer");
      await toast.getByRole("button", { name: "Create Private Environment" }).click();
    });

    step("the environment is made, the server starts from it and the dump loads", async () => {
      const { page } = session;
      await page.locator(".notification-toast", { hasText: "creating a private Python environment" }).waitFor({ timeout: 60_000 });
      await shot("install-progress");
      // pip installs numpy, numba, pyarrow…; then the server compiles its kernels
      await statusItem(page).filter({ hasText: /1 dump/ }).waitFor({ timeout: 900_000 });
      const log = session.extensionLog();
      assert.match(log, /starting .*venv\/bin\/python -m heapspurs\.lsp \(the extension's private environment\)/);
    });

    step("a hover on the leaked request's address answers from the new server", async () => {
      const hover = await hoverUntil(session.page, leak.address, /Object/, 300_000);
      assert.match(await hover.innerText(), new RegExp(leak.anchor.name ?? "main"));
      await shot("install-hover");
    });
  },
);
