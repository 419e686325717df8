// Hexdump answers and the type histogram as read-only documents of their own scheme,
// titled with the address. Their language id is served by the language server like any
// text, so the addresses in them get the same hovers. One is open at a time: a new result
// closes the tab of the last one, so results never pile up over the user's files.

import * as vscode from "vscode";
import { resultText } from "./commandArgs";
import { CommandAnswer, ResultKind } from "./protocol";

export const RESULT_SCHEME = "heapspurs";
export const RESULT_LANGUAGE = "heapspurs-result";

const TITLES: Record<ResultKind, string> = { anchors: "Anchors", owners: "Owners", hexdump: "Hexdump" };

export class ResultDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changes = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changes.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(RESULT_SCHEME, this);

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? "This result is gone (the window was reloaded): run the command again.\n";
  }

  /**
   * Opens (or refreshes) the document of one answer and shows it in `column`: that of the
   * text editor it is about, so that it does not cover the graph tab.
   */
  async show(kind: ResultKind, address: string, answer: CommandAnswer, column?: vscode.ViewColumn): Promise<vscode.TextEditor> {
    return this.showText(resultUri(kind, address, answer), resultText(answer.markdown), column);
  }

  /** A result titled `title` (the tab's name) with `text`, about `dump` when given. */
  showTitled(title: string, text: string, dump?: string, column?: vscode.ViewColumn): Promise<vscode.TextEditor> {
    const query = dump ? new URLSearchParams({ dump }).toString() : "";
    return this.showText(vscode.Uri.from({ scheme: RESULT_SCHEME, path: `/${title}`, query }), text, column);
  }

  private async showText(uri: vscode.Uri, text: string, column?: vscode.ViewColumn): Promise<vscode.TextEditor> {
    this.texts.set(uri.toString(), text);
    this.changes.fire(uri);
    let document = await vscode.workspace.openTextDocument(uri);
    if (document.languageId !== RESULT_LANGUAGE) {
      document = await vscode.languages.setTextDocumentLanguage(document, RESULT_LANGUAGE);
    }
    const editor = await vscode.window.showTextDocument(document, { preview: false, viewColumn: column });
    await closeOtherResults(uri);
    return editor;
  }

  dispose(): void {
    this.registration.dispose();
    this.changes.dispose();
  }
}

async function closeOtherResults(shown: vscode.Uri): Promise<void> {
  const others = vscode.window.tabGroups.all
    .flatMap((group) => group.tabs)
    .filter((tab) => tab.input instanceof vscode.TabInputText && tab.input.uri.scheme === RESULT_SCHEME)
    .filter((tab) => (tab.input as vscode.TabInputText).uri.toString() !== shown.toString());
  await vscode.window.tabGroups.close(others, true);
}

/** `heapspurs:/Hexdump of 0x…?dump=…`: the path is the tab's title. */
function resultUri(kind: ResultKind, address: string, answer: CommandAnswer): vscode.Uri {
  return vscode.Uri.from({
    scheme: RESULT_SCHEME,
    path: `/${TITLES[kind]} of ${address}`,
    query: new URLSearchParams({ dump: answer.dump }).toString(),
  });
}
