// What an address command is about, from however it was invoked: a hover link passes
// `{"address", "dump"}`; the editor context menu passes the document's URI; the palette
// passes nothing. Pure functions (no vscode API), unit-tested in plain Node.

import { AddressArgs, CLIENT_COMMANDS, SERVER_COMMANDS } from "./protocol";

/** The address arguments a hover link carried, or undefined for any other invocation. */
export function argsFromInvocation(args: readonly unknown[]): AddressArgs | undefined {
  let first = args[0];
  if (Array.isArray(first)) {
    first = first[0]; // some callers pass the link's argument array as one argument
  }
  if (typeof first !== "object" || first === null) {
    return undefined;
  }
  const { address, dump, depth } = first as Record<string, unknown>;
  if (typeof address !== "string") {
    return undefined;
  }
  const out: AddressArgs = { address };
  if (typeof dump === "string") {
    out.dump = dump;
  }
  if (typeof depth === "number" && Number.isInteger(depth)) {
    out.depth = depth;
  }
  return out;
}

const LINK_TARGETS: Record<string, string> = {
  [SERVER_COMMANDS.anchors]: CLIENT_COMMANDS.anchors,
  [SERVER_COMMANDS.owners]: CLIENT_COMMANDS.owners,
  [SERVER_COMMANDS.hexdump]: CLIENT_COMMANDS.hexdump,
  [SERVER_COMMANDS.graph]: CLIENT_COMMANDS.graph,
};

/**
 * Hover links name the server's commands, which answer JSON and show nothing; in VS Code
 * they should open the result, so they are pointed at the client's commands, which take
 * the same arguments.
 */
export function linksToClientCommands(markdown: string): string {
  return markdown.replace(/\(command:(heapspurs\.[A-Za-z]+)\?/g, (whole, name: string) => {
    const target = LINK_TARGETS[name];
    return target ? `(command:${target}?` : whole;
  });
}

/**
 * The dumps to choose from when the server refused an address because it is an object in
 * several loaded dumps (its InvalidParams error carries `data: {"dumps": [uri, …]}`).
 */
export function dumpsToChooseFrom(error: unknown): string[] | undefined {
  const data = (error as { data?: unknown } | null)?.data;
  const dumps = (data as { dumps?: unknown } | null | undefined)?.dumps;
  return Array.isArray(dumps) && dumps.length > 1 && dumps.every((d) => typeof d === "string") ? dumps : undefined;
}

/** The client commands a hover may run (MarkdownString.isTrusted.enabledCommands). */
export const HOVER_LINK_COMMANDS = Object.values(LINK_TARGETS);

/** A result document's text from the server's markdown: headings and code blocks as plain text. */
export function resultText(markdown: string): string {
  const lines: string[] = [];
  let inCode = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) {
      inCode = !inCode;
      continue;
    }
    lines.push(inCode ? line : proseLine(line));
  }
  return lines.join("\n").replace(/\n{3,}/g, "\n\n").trim() + "\n";
}

function proseLine(line: string): string {
  const heading = /^#+\s+(.*)$/.exec(line);
  const bold = /^\*\*(.*?)\*\*(.*)$/.exec(line);
  const text = heading ? heading[1] : bold ? bold[1] + bold[2] : line;
  return text.replace(/`/g, "");
}
