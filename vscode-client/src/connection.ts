// The language client: finds and starts heapspurs-lsp, restarts it, makes hover links run
// the client's commands, and sends it requests.

import * as vscode from "vscode";
import { ExecuteCommandRequest, LanguageClient, LanguageClientOptions, ServerOptions, State } from "vscode-languageclient/node";
import { HOVER_LINK_COMMANDS, linksToClientCommands } from "./commandArgs";
import { AddressArgs, CommandAnswer, DumpsAnswer, GraphAnswer, REQUEST_DUMPS, REQUEST_GRAPH } from "./protocol";
import { ServerState } from "./dumpStatus";
import { RESULT_SCHEME } from "./resultDocuments";
import { INSTALL_HINT, Launch, chooseLaunch, launchCandidates } from "./serverLaunch";

export const SECTION = "heapspurs";

export class ServerConnection implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient | undefined> | undefined;
  private failed = false;
  readonly output = vscode.window.createOutputChannel("heapspurs", { log: true });
  private readonly traceOutput = vscode.window.createOutputChannel("heapspurs (trace)");
  private readonly started = new vscode.EventEmitter<void>();
  /** Fires each time a server starts: first, on Restart Server, after a crash. */
  readonly onDidStart = this.started.event;

  /** The running client, starting it first if needed; undefined when no server can start. */
  ready(): Promise<LanguageClient | undefined> {
    this.starting ??= this.start();
    return this.starting;
  }

  get state(): ServerState {
    return this.client?.isRunning() ? "running" : this.failed ? "stopped" : "starting";
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.ready();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.starting = undefined;
    if (client) {
      await client.stop().catch((err: unknown) => this.output.warn(`stopping the server: ${String(err)}`));
    }
  }

  async executeCommand(command: string, args: AddressArgs | { uri: string }): Promise<CommandAnswer> {
    const client = await this.require();
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [args] })) as CommandAnswer;
  }

  async graph(args: AddressArgs): Promise<GraphAnswer> {
    return (await this.require()).sendRequest<GraphAnswer>(REQUEST_GRAPH, args);
  }

  /** The dumps, or undefined while no server runs. */
  async dumps(): Promise<DumpsAnswer | undefined> {
    const client = this.client;
    if (!client?.isRunning()) {
      return undefined;
    }
    return client.sendRequest<DumpsAnswer>(REQUEST_DUMPS);
  }

  dispose(): void {
    void this.stop();
    this.output.dispose();
    this.traceOutput.dispose();
    this.started.dispose();
  }

  private async require(): Promise<LanguageClient> {
    const client = await this.ready();
    if (!client) {
      throw new Error("the heapspurs language server is not running (see the notification)");
    }
    return client;
  }

  private async start(): Promise<LanguageClient | undefined> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const candidates = launchCandidates(
      { path: config.get<string>("server.path"), python: config.get<string>("server.python") },
      await pythonOfPythonExtension(),
    );
    const { launch, failures } = await chooseLaunch(candidates);
    failures.forEach((line) => this.output.warn(`cannot start the server with ${line}`));
    this.failed = !launch;
    if (!launch) {
      void offerInstall(failures.length);
      return undefined;
    }
    this.output.info(`starting ${[launch.command, ...launch.args].join(" ")} (${launch.source})`);
    const client = new LanguageClient("heapspurs", "heapspurs", serverOptions(launch), this.clientOptions());
    client.onDidChangeState(({ newState }) => newState === State.Running && this.started.fire());
    this.client = client;
    try {
      await client.start();
    } catch (err) {
      // it answered --version but not the protocol: a wrong program, or it crashed
      this.client = undefined;
      this.failed = true;
      this.output.error(`the server stopped while starting: ${String(err)}`);
      void vscode.window.showErrorMessage(
        `heapspurs: ${launch.command} started but did not speak the language server protocol; see the "heapspurs" output.`,
      );
      return undefined;
    }
    return client;
  }

  private clientOptions(): LanguageClientOptions {
    return {
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }, { scheme: RESULT_SCHEME }],
      synchronize: { configurationSection: SECTION },
      initializationOptions: { [SECTION]: settingsSnapshot() },
      outputChannel: this.output,
      traceOutputChannel: this.traceOutput,
      middleware: {
        provideHover: async (document, position, token, next) => {
          const hover = await next(document, position, token);
          return hover ? withClientLinks(hover) : hover;
        },
      },
    };
  }
}

/** The settings section as plain JSON (the configuration object also carries methods). */
function settingsSnapshot(): unknown {
  return JSON.parse(JSON.stringify(vscode.workspace.getConfiguration(SECTION)));
}

function serverOptions(launch: Launch): ServerOptions {
  return { command: launch.command, args: launch.args, options: { env: process.env } };
}

/** Hover links point at the client's commands, and only those may run from the hover. */
function withClientLinks(hover: vscode.Hover): vscode.Hover {
  const contents = hover.contents.map((part) => {
    if (!(part instanceof vscode.MarkdownString)) {
      return part;
    }
    const markdown = new vscode.MarkdownString(linksToClientCommands(part.value));
    markdown.isTrusted = { enabledCommands: HOVER_LINK_COMMANDS };
    return markdown;
  });
  return new vscode.Hover(contents, hover.range);
}

interface PythonExtensionApi {
  environments?: { getActiveEnvironmentPath?(resource?: vscode.Uri): { path?: string } };
  /** The older API, still answered by current versions. */
  settings?: { getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] } };
}

/** The interpreter the Python extension has selected, when that extension is installed. */
async function pythonOfPythonExtension(): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>("ms-python.python");
  if (!extension) {
    return undefined;
  }
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
    return (
      api.environments?.getActiveEnvironmentPath?.(resource)?.path ??
      api.settings?.getExecutionDetails?.(resource).execCommand?.[0]
    );
  } catch {
    return undefined;
  }
}

async function offerInstall(tried: number): Promise<void> {
  const open = "Open Settings";
  const choice = await vscode.window.showErrorMessage(
    `heapspurs: the language server could not start (${tried} way${tried === 1 ? "" : "s"} tried; see the ` +
      `"heapspurs" output). Install it with \`${INSTALL_HINT}\`, or set heapspurs.server.path or ` +
      "heapspurs.server.python.",
    open,
  );
  if (choice === open) {
    await vscode.commands.executeCommand("workbench.action.openSettings", "heapspurs.server");
  }
}
