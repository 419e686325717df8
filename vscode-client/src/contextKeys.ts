// The context key that gates the editor context menu's heapspurs submenu: the paths of the
// open documents that hold a hex address (`resourcePath in heapspurs.documentsWithAddresses`).
// Kept per document, not per cursor: a right-click moves the cursor and shows the menu at
// once, before a key set from the cursor's new place could reach the workbench.

import * as vscode from "vscode";
import { hexWords, isAddress } from "./address";

export const DOCUMENTS_WITH_ADDRESSES = "heapspurs.documentsWithAddresses";
const MAX_SCANNED_CHARS = 4_000_000; // a bigger document is assumed to hold some

export class AddressContext implements vscode.Disposable {
  private readonly paths = new Set<string>();
  private readonly subscriptions = [
    vscode.workspace.onDidOpenTextDocument((d) => this.update(d)),
    vscode.workspace.onDidChangeTextDocument((e) => this.update(e.document)),
    vscode.workspace.onDidCloseTextDocument((d) => this.forget(d)),
  ];

  constructor() {
    vscode.workspace.textDocuments.forEach((d) => this.update(d, false));
    this.publish();
  }

  private update(document: vscode.TextDocument, publish = true): void {
    const path = document.uri.path;
    const had = this.paths.has(path);
    const has = holdsAddress(document);
    if (has !== had) {
      if (has) {
        this.paths.add(path);
      } else {
        this.paths.delete(path);
      }
      if (publish) {
        this.publish();
      }
    }
  }

  private forget(document: vscode.TextDocument): void {
    if (this.paths.delete(document.uri.path)) {
      this.publish();
    }
  }

  private publish(): void {
    void vscode.commands.executeCommand("setContext", DOCUMENTS_WITH_ADDRESSES, [...this.paths]);
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
  }
}

function holdsAddress(document: vscode.TextDocument): boolean {
  const text = document.getText();
  return text.length > MAX_SCANNED_CHARS || hexWords(text).some((w) => isAddress(w.text));
}
