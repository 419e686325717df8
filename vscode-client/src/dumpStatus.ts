// Status-bar text and quick-pick rows for the loaded dumps (`heapspurs/dumps`). Pure
// functions (no vscode API), unit-tested in plain Node.

import { DumpInfo } from "./protocol";

export function baseName(uri: string): string {
  const path = decodeURIComponent(uri.replace(/^file:\/\//, ""));
  return path.slice(path.lastIndexOf("/") + 1) || path;
}

export type ServerState = "starting" | "running" | "stopped";

/** One line for the status bar, with a codicon. */
export function statusText(dumps: readonly DumpInfo[] | undefined, server: ServerState = "running"): string {
  if (server === "stopped") {
    return "$(error) heapspurs: no server";
  }
  if (dumps === undefined || server === "starting") {
    return "$(loading~spin) heapspurs: starting";
  }
  if (dumps.length === 0) {
    return "$(circle-slash) heapspurs: no dumps";
  }
  const loading = dumps.filter((d) => d.state === "loading");
  if (loading.length > 0) {
    const done = loading.reduce((sum, d) => sum + d.progress, 0) / loading.length;
    return `$(sync~spin) heapspurs: loading ${Math.round(done * 100)}%`;
  }
  const failed = dumps.filter((d) => d.state === "error").length;
  const ready = dumps.length - failed;
  const readyText = `${ready} dump${ready === 1 ? "" : "s"}`;
  return failed > 0 ? `$(warning) heapspurs: ${readyText}, ${failed} failed` : `$(database) heapspurs: ${readyText}`;
}

export interface DumpRow {
  label: string;
  description: string;
  detail: string;
}

export function dumpRow(dump: DumpInfo): DumpRow {
  const state =
    dump.state === "ready"
      ? `ready · ${dump.objects.toLocaleString("en-US")} objects`
      : dump.state === "loading"
        ? `loading ${Math.round(dump.progress * 100)}%`
        : "error";
  const details = [dump.program ? `binary: ${baseName(dump.program)}` : "no matched binary (no symbol names)"];
  if (dump.error) {
    details.unshift(dump.error);
  }
  if (dump.warning) {
    details.push(dump.warning);
  }
  return { label: baseName(dump.uri), description: state, detail: details.join(" · ") };
}

export function anyLoading(dumps: readonly DumpInfo[] | undefined): boolean {
  return dumps === undefined || dumps.some((d) => d.state === "loading");
}
