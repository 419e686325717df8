// The owner graph in one webview panel beside the editor, reused for every graph. The
// server draws the SVG; when it cannot (no Graphviz there), the webview draws the DOT text
// with the Graphviz WebAssembly build shipped in media/dist.

import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import { AddressArgs, GraphAnswer } from "./protocol";
import { FromWebview, ToWebview } from "./webviewMessages";

export interface GraphActions {
  /** The graph, or undefined when the user declined to pick a dump. */
  graph(args: AddressArgs): Promise<GraphAnswer | undefined>;
  showAnchors(args: AddressArgs): Promise<void>;
}

export class GraphPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private dump: string | undefined;
  private shown = 0; // answers only the latest request
  /** The webview's script said `ready`: messages posted before that would be lost. */
  private webviewReady = false;
  /** What the webview should show (sent on `ready` when it came before). */
  private latest: ToWebview | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly actions: GraphActions,
  ) {}

  async show(args: AddressArgs): Promise<void> {
    const panel = this.reveal();
    const request = ++this.shown;
    panel.title = `Owner graph · ${args.address}`;
    void this.post({ type: "loading", address: args.address });
    try {
      const answer = await this.actions.graph(args);
      if (request !== this.shown) {
        return;
      }
      if (answer) {
        this.dump = answer.dump;
        void this.post({ type: "graph", answer });
      } else {
        void this.post({ type: "error", address: args.address, message: "no dump was picked" });
      }
    } catch (err) {
      if (request === this.shown) {
        void this.post({ type: "error", address: args.address, message: messageOf(err) });
      }
    }
  }

  dispose(): void {
    this.panel?.dispose();
  }

  private reveal(): vscode.WebviewPanel {
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Beside, true);
      return this.panel;
    }
    const media = vscode.Uri.joinPath(this.extensionUri, "media");
    const panel = vscode.window.createWebviewPanel(
      "heapspurs.graph",
      "Owner graph",
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [media], retainContextWhenHidden: true },
    );
    panel.webview.html = graphHtml(panel.webview, media);
    panel.webview.onDidReceiveMessage((message: FromWebview) => this.onMessage(message));
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.webviewReady = false;
      this.latest = undefined;
    });
    this.panel = panel;
    return panel;
  }

  private post(message: ToWebview): Thenable<boolean> {
    this.latest = message;
    return this.webviewReady && this.panel ? this.panel.webview.postMessage(message) : Promise.resolve(false);
  }

  private async onMessage(message: FromWebview): Promise<void> {
    switch (message.type) {
      case "ready":
        this.webviewReady = true;
        if (this.latest) {
          void this.post(this.latest);
        }
        return;
      case "focus":
        return this.show({ address: message.address, dump: this.dump });
      case "anchors":
        return this.actions.showAnchors({ address: message.address, dump: this.dump });
      case "save":
        return saveSvg(message.address, message.svg);
    }
  }
}

async function saveSvg(address: string, svg: string): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const suggested = folder ? vscode.Uri.joinPath(folder, `owners-${address}.svg`) : undefined;
  const target = await vscode.window.showSaveDialog({ defaultUri: suggested, filters: { SVG: ["svg"] } });
  if (target) {
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(svg));
    void vscode.window.showInformationMessage(`Saved the owner graph to ${target.fsPath}`);
  }
}

function graphHtml(webview: vscode.Webview, media: vscode.Uri): string {
  const nonce = randomBytes(16).toString("base64");
  const asset = (...path: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(media, ...path)).toString();
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}' 'wasm-unsafe-eval'`,
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset("graph.css")}">
<title>Owner graph</title>
</head>
<body data-viz="${asset("dist", "viz-global.js")}" data-nonce="${nonce}">
<div id="toolbar">
  <span id="title" title="Owner graph">Owner graph</span>
  <span id="buttons">
  <button id="anchors" disabled>Anchors</button>
  <button id="fit" title="Fit to the panel">Fit</button>
  <button id="zoom-out" title="Zoom out">−</button>
  <button id="zoom-in" title="Zoom in">+</button>
  <button id="save" disabled>Save SVG</button>
  </span>
</div>
<div id="legend" aria-label="Legend">
  <span><i class="swatch target"></i>the object</span>
  <span><i class="swatch finalizer"></i>has a finalizer</span>
  <span><i class="swatch cycle"></i>on a finalizer cycle</span>
  <span><i class="swatch orphan"></i>nothing points at it</span>
  <span><i class="swatch root"></i>root (global, goroutine)</span>
  <span><b>▶ frame</b>the stack frame holding it (its variable on the edge)</span>
  <span><i class="line interior"></i>interior pointer (+offset)</span>
  <span class="hint">Click or Enter on an object: its graph · Right-click: more (anchors, owners, hexdump, its type) · Tab: next object</span>
</div>
<div id="notes" role="status"></div>
<div id="viewport"><div id="canvas"></div></div>
<script nonce="${nonce}" src="${asset("dist", "graph.js")}"></script>
</body>
</html>`;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
