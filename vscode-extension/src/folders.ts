// One server per workspace folder that has Distill (or Alembic) settings at its root,
// kept in step with the folders, the settings, workspace trust and the Python extension.
import * as path from "node:path";
import * as vscode from "vscode";
import { CONFIG_FILES, detectConfig, type ConfigFile } from "./logic/config";
import { problemKinds } from "./logic/state";
import { notifyProblem } from "./problems";
import { onPythonEnvironmentChange } from "./python";
import { FolderServer } from "./server";
import { RESTART_SETTINGS } from "./settings";

export class Servers implements vscode.Disposable {
  private readonly byFolder = new Map<string, FolderServer>();
  private readonly changed = new vscode.EventEmitter<FolderServer | undefined>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Fired with a server whose state changed, or undefined when servers came or went. */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly output: vscode.OutputChannel,
    private readonly safeCwd: string,
  ) {}

  async activate(): Promise<void> {
    const watcher = vscode.workspace.createFileSystemWatcher(`**/{${CONFIG_FILES.join(",")}}`);
    const onConfigFile = (uri: vscode.Uri): void => {
      const folder = vscode.workspace.getWorkspaceFolder(uri);
      if (folder && path.dirname(uri.fsPath) === folder.uri.fsPath) void this.sync();
    };
    this.disposables.push(
      watcher,
      watcher.onDidCreate(onConfigFile),
      watcher.onDidChange(onConfigFile),
      watcher.onDidDelete(onConfigFile),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.sync()),
      vscode.workspace.onDidChangeConfiguration((event) => {
        for (const server of this.byFolder.values()) {
          if (RESTART_SETTINGS.some((setting) => event.affectsConfiguration(setting, server.folder))) {
            void server.restart();
          }
        }
      }),
      // Untrusted, the servers run without executing anything: trusted now, they do.
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.restartAll()),
    );
    const pythonChange = await onPythonEnvironmentChange(() => {
      for (const server of this.byFolder.values()) {
        if (server.interpreter?.source !== "setting") void server.restart();
      }
    });
    if (pythonChange) this.disposables.push(pythonChange);
    await this.sync();
  }

  all(): FolderServer[] {
    return [...this.byFolder.values()];
  }

  /** The server of the folder that holds `uri`. */
  forUri(uri: vscode.Uri | undefined): FolderServer | undefined {
    const folder = uri && vscode.workspace.getWorkspaceFolder(uri);
    return folder && this.byFolder.get(folder.uri.toString());
  }

  /** The server the user is most likely working with: the active editor's, else the only one. */
  active(): FolderServer | undefined {
    const found = this.forUri(vscode.window.activeTextEditor?.document.uri);
    if (found) return found;
    const servers = this.all();
    return servers.length === 1 ? servers[0] : undefined;
  }

  async restartAll(): Promise<void> {
    await Promise.all(this.all().map((server) => server.restart()));
  }

  /** Starts a server for each folder that now has settings, stops those that lost them. */
  private async sync(): Promise<void> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const wanted = new Set<string>();
    for (const folder of folders) {
      const config = await configOf(folder);
      if (config === undefined) continue;
      const key = folder.uri.toString();
      wanted.add(key);
      if (!this.byFolder.has(key)) this.add(new FolderServer(folder, this.output, this.safeCwd));
    }
    for (const [key, server] of this.byFolder) {
      if (!wanted.has(key)) {
        this.byFolder.delete(key);
        server.dispose();
        this.changed.fire(undefined);
      }
    }
  }

  private add(server: FolderServer): void {
    this.byFolder.set(server.folder.uri.toString(), server);
    server.onDidChange(() => {
      this.changed.fire(server);
      if (problemKinds.has(server.state.kind)) void notifyProblem(server);
    });
    this.changed.fire(undefined);
    void server.start();
  }

  dispose(): void {
    for (const server of this.byFolder.values()) server.dispose();
    this.byFolder.clear();
    for (const disposable of this.disposables) disposable.dispose();
    this.changed.dispose();
  }
}

async function configOf(folder: vscode.WorkspaceFolder): Promise<ConfigFile | undefined> {
  const contents: Partial<Record<ConfigFile, string>> = {};
  for (const name of CONFIG_FILES) {
    try {
      const bytes = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder.uri, name));
      contents[name] = new TextDecoder().decode(bytes);
    } catch {
      // absent: not this kind of project
    }
  }
  return detectConfig(contents);
}
