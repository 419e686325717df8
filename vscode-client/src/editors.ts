// The text editor an address command is about. While a webview has focus VS Code has no
// active text editor, so the last one is remembered.

import * as vscode from "vscode";

export class EditorTracker implements vscode.Disposable {
  private last: vscode.TextEditor | undefined = vscode.window.activeTextEditor;
  private readonly subscription = vscode.window.onDidChangeActiveTextEditor((editor) => {
    if (editor) {
      this.last = editor;
    }
  });

  current(): vscode.TextEditor | undefined {
    const active = vscode.window.activeTextEditor;
    if (active) {
      return active;
    }
    const last = this.last;
    return last && !last.document.isClosed ? last : undefined;
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
