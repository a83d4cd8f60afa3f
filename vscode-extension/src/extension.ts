// Distill for VS Code: a language client per project folder, and the commands, status
// bar and tree around it. The server (`python -m distill lsp`) does the analysis.
import * as vscode from "vscode";
import { registerCommands } from "./commands";
import { Servers } from "./folders";
import { registerGraphView } from "./graphView";
import { registerServerCommands } from "./serverCommands";
import { createStatusBar } from "./statusBar";
import { MigrationsTree } from "./tree";

let servers: Servers | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("Distill");
  servers = new Servers(output, context.extensionUri.fsPath);
  const tree = new MigrationsTree(servers);
  context.subscriptions.push(
    output,
    servers,
    tree,
    vscode.window.registerTreeDataProvider("distill.migrations", tree),
    vscode.commands.registerCommand("distill.refreshMigrations", () => tree.refresh()),
    createStatusBar(servers),
    ...registerCommands(servers, output),
    ...registerServerCommands(servers, output),
    ...registerGraphView(servers),
    // Coming back to the window: the CLI may have moved the database meanwhile.
    vscode.window.onDidChangeWindowState((state) => {
      if (state.focused) for (const server of servers?.all() ?? []) server.refreshSoon();
    }),
  );
  await servers.activate();
}

export async function deactivate(): Promise<void> {
  await Promise.all((servers?.all() ?? []).map((server) => server.stop()));
}
