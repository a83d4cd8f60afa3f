// The status bar item: the active project's revision and what needs doing.
import * as vscode from "vscode";
import type { Servers } from "./folders";
import { statusView } from "./logic/status";

export function createStatusBar(servers: Servers): vscode.Disposable {
  const item = vscode.window.createStatusBarItem("distill.status", vscode.StatusBarAlignment.Left, 50);
  item.name = "Distill";
  const update = (): void => {
    const server = servers.active() ?? servers.all()[0];
    if (server === undefined) return item.hide();
    const view = statusView(server.state, server.folder.name);
    item.text = view.text;
    item.tooltip = view.tooltip;
    item.backgroundColor = view.needsAction ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
    item.command = { command: "distill.statusActions", title: "Distill actions", arguments: [server.folder.uri] };
    item.show();
  };
  update();
  return vscode.Disposable.from(item, servers.onDidChange(update), vscode.window.onDidChangeActiveTextEditor(update));
}
