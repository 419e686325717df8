// The language client: finds and starts heapspurs-lsp, restarts it, makes hover links run
// the client's commands, and sends it requests.

import { existsSync } from "node:fs";
import * as vscode from "vscode";
import {
  ClientCapabilities,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  StaticFeature,
} from "vscode-languageclient/node";
import { HOVER_LINK_COMMANDS, linksToClientCommands } from "./commandArgs";
import {
  AddressArgs,
  CLIENT_COMMANDS,
  CommandAnswer,
  DumpsAnswer,
  GraphAnswer,
  HistogramAnswer,
  HistogramArgs,
  NOTE_DUMPS_CHANGED,
  REQUEST_DIRECT_OWNERS,
  REQUEST_DUMPS,
  REQUEST_GRAPH,
  REQUEST_HISTOGRAM,
} from "./protocol";
import { ServerState } from "./dumpStatus";
import { messageOf } from "./graphPanel";
import { RESULT_SCHEME } from "./resultDocuments";
import { bundledWheel, createPrivateEnvironment, privatePython } from "./privateEnv";
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
  private readonly stateChanged = new vscode.EventEmitter<ServerState>();
  /** Fires when `state` changes (a server starting, running, stopping, failing). */
  readonly onDidChangeState = this.stateChanged.event;
  private readonly dumpsChanged = new vscode.EventEmitter<DumpsAnswer>();
  /** The dumps as the running server pushes them (heapspurs/dumpsChanged). */
  readonly onDidChangeDumps = this.dumpsChanged.event;

  /**
   * `paths`: the extension's folder (its bundled wheel) and global storage (the private
   * environment), when the extension has them.
   */
  constructor(private readonly paths?: { extension: string; storage: string }) {}

  /** Counts stops: a start that a stop overtook gives way to the next start. */
  private generation = 0;
  private restarting: Promise<void> = Promise.resolve();
  private disposed = false;

  /** The running client, starting it first if needed; undefined when no server can start. */
  ready(): Promise<LanguageClient | undefined> {
    if (this.disposed) {
      return Promise.resolve(undefined);
    }
    this.starting ??= this.start(this.generation);
    return this.starting;
  }

  get state(): ServerState {
    return this.client?.isRunning() ? "running" : this.failed ? "stopped" : "starting";
  }

  /** Restarts one after the other: a second Restart Server waits for the first. */
  restart(): Promise<void> {
    this.restarting = this.restarting.then(async () => {
      await this.stop();
      await this.ready();
    });
    return this.restarting;
  }

  async stop(): Promise<void> {
    this.generation++;
    const client = this.client;
    this.client = undefined;
    this.starting = undefined;
    this.stateChanged.fire(this.state);
    if (client) {
      await client.stop().catch((err: unknown) => this.output.warn(`stopping the server: ${String(err)}`));
    }
  }

  showLog(): void {
    this.output.show(true);
  }

  async histogram(args: HistogramArgs): Promise<HistogramAnswer> {
    return (await this.require()).sendRequest<HistogramAnswer>(REQUEST_HISTOGRAM, args);
  }

  async executeCommand(command: string, args: AddressArgs | { uri: string }): Promise<CommandAnswer> {
    const client = await this.require();
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [args] })) as CommandAnswer;
  }

  /** One level of owners (heapspurs/directOwners), answered as the results view takes it. */
  async directOwners<T>(args: AddressArgs): Promise<T> {
    return (await this.require()).sendRequest<T>(REQUEST_DIRECT_OWNERS, args);
  }

  /** A custom request of the heap views (heapspurs/types, heapspurs/retainers). */
  async request<T>(method: string, params: object): Promise<T> {
    return (await this.require()).sendRequest<T>(method, params);
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
    this.disposed = true;
    void this.stop();
    this.output.dispose();
    this.traceOutput.dispose();
    this.started.dispose();
    this.stateChanged.dispose();
    this.dumpsChanged.dispose();
  }

  /**
   * No server could start: offer the private environment (when the .vsix carries the
   * wheel), the install command and the settings.
   */
  private async offerInstall(tried: number): Promise<void> {
    const open = "Open Settings";
    const create = "Create Private Environment";
    const wheel = this.paths ? bundledWheel(this.paths.extension) : undefined;
    const choice = await vscode.window.showErrorMessage(
      `The heapspurs language server could not start (${tried} way${tried === 1 ? "" : "s"} tried; see the ` +
        `"heapspurs" output). ${wheel ? "Create a private Python environment with it, or install" : "Install"} ` +
        `it with \`${INSTALL_HINT}\`, or set heapspurs.server.path or heapspurs.server.python.`,
      ...(wheel ? [create] : []),
      open,
    );
    if (choice === open) {
      await vscode.commands.executeCommand("workbench.action.openSettings", "heapspurs.server");
    } else if (choice === create && wheel && this.paths) {
      try {
        await createPrivateEnvironment(this.paths.storage, wheel, this.output);
        this.output.info("the private environment is ready: starting the server from it");
        await vscode.commands.executeCommand(CLIENT_COMMANDS.restart);
      } catch (err) {
        void vscode.window.showErrorMessage(`heapspurs: the private environment could not be made: ${messageOf(err)} (see the "heapspurs" output)`);
      }
    }
  }

  private async require(): Promise<LanguageClient> {
    const client = await this.ready();
    if (!client) {
      throw new Error("the heapspurs language server is not running (see the notification)");
    }
    return client;
  }

  private async start(generation: number): Promise<LanguageClient | undefined> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const mine = this.paths ? privatePython(this.paths.storage) : undefined;
    const candidates = launchCandidates(
      { path: config.get<string>("server.path"), python: config.get<string>("server.python") },
      await pythonOfPythonExtension(),
      mine && existsSync(mine) ? mine : undefined,
    );
    const { launch, failures } = await chooseLaunch(candidates);
    if (generation !== this.generation) {
      return this.ready(); // stopped while probing: the start after that stop is the one
    }
    failures.forEach((line) => this.output.warn(`cannot start the server with ${line}`));
    this.failed = !launch;
    if (!launch) {
      this.stateChanged.fire(this.state);
      void this.offerInstall(failures.length);
      return undefined;
    }
    this.output.info(`starting ${[launch.command, ...launch.args].join(" ")} (${launch.source})`);
    const client = new HeapspursClient("heapspurs", "heapspurs", serverOptions(launch), this.clientOptions());
    client.registerFeature(dumpsChangedCapability);
    leaveCommandsToTheClient(client);
    client.onDidChangeState(({ newState }) => {
      if (client !== this.client) {
        return; // a client stopped by a restart: its last words do not matter
      }
      this.stateChanged.fire(this.state);
      if (newState === State.Running) {
        this.started.fire();
      }
    });
    client.onNotification(NOTE_DUMPS_CHANGED, (answer: DumpsAnswer) => client === this.client && this.dumpsChanged.fire(answer));
    this.client = client;
    try {
      await client.start();
    } catch (err) {
      // it answered --version but not the protocol: a wrong program, or it crashed
      this.client = undefined;
      this.failed = true;
      this.stateChanged.fire(this.state);
      this.output.error(`the server stopped while starting: ${String(err)}`);
      void vscode.window.showErrorMessage(
        `${launch.command} started but did not speak the language server protocol; see the "heapspurs" output.`,
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

/**
 * The language client, but a server that exits with code 0 (after shutdown and exit, on
 * every Restart Server) is not logged as an error.
 */
class HeapspursClient extends LanguageClient {
  override error(message: string, data?: unknown, showNotification?: boolean | "force"): void {
    if (message === "Server process exited with code 0.") {
      this.info("the server process exited normally (code 0)", data, false);
      return;
    }
    super.error(message, data, showNotification);
  }
}

/**
 * The language client registers every command the server advertises as a VS Code command;
 * `heapspurs.histogram` is both a server command and the client's own (which asks for the
 * dump and shows the table), and a second registration of a name fails the start.
 */
function leaveCommandsToTheClient(client: LanguageClient): void {
  const feature = client.getFeature(ExecuteCommandRequest.method);
  const register = feature.register.bind(feature);
  feature.register = (data) => {
    const commands = data.registerOptions.commands.filter((command) => !CLIENT_OWNED_COMMANDS.has(command));
    register({ ...data, registerOptions: { ...data.registerOptions, commands } });
  };
}

const CLIENT_OWNED_COMMANDS: ReadonlySet<string> = new Set(Object.values(CLIENT_COMMANDS));

/** Asks the server to push its dumps (heapspurs/dumpsChanged) instead of being polled. */
const dumpsChangedCapability: StaticFeature = {
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    capabilities.experimental = { ...(capabilities.experimental as object | undefined), heapspurs: { dumpsChanged: true } };
  },
  initialize(): void {
    // nothing to set up: the notification handler is registered on the client
  },
  getState: () => ({ kind: "static" }),
  clear(): void {
    // nothing to clear
  },
};

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


