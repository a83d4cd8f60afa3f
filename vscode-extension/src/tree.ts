// The "Migrations" view in the Explorer: each project's revisions, head first.
import * as vscode from "vscode";
import type { Servers } from "./folders";
import type { Revision } from "./logic/protocol";
import { revisionItem } from "./logic/revisions";
import { statusView } from "./logic/status";
import { messageOf, type FolderServer } from "./server";

export interface RevisionNode {
  kind: "revision";
  server: FolderServer;
  revision: Revision;
}
interface FolderNode {
  kind: "folder";
  server: FolderServer;
}
interface MessageNode {
  kind: "message";
  text: string;
  tooltip?: string;
}
type Node = RevisionNode | FolderNode | MessageNode;

export class MigrationsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private timer: NodeJS.Timeout | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly servers: Servers) {
    // A status change (an upgrade, a new revision, a database moved by the CLI) is
    // what changes the tree; a burst of them makes one refresh.
    this.subscription = servers.onDidChange(() => this.refresh());
  }

  refresh(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.changed.fire(), 200);
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node?.kind === "folder") return revisionNodes(node.server);
    if (node !== undefined) return [];
    const servers = this.servers.all();
    if (servers.length === 1) return revisionNodes(servers[0]!);
    return servers.map((server) => ({ kind: "folder", server }));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === "message") {
      const item = new vscode.TreeItem(node.text);
      item.tooltip = node.tooltip;
      return item;
    }
    if (node.kind === "folder") {
      const item = new vscode.TreeItem(node.server.folder.name, vscode.TreeItemCollapsibleState.Expanded);
      item.iconPath = vscode.ThemeIcon.Folder;
      item.description = statusView(node.server.state, node.server.folder.name).text.replace(/^\$\([^)]*\)\s*/, "");
      return item;
    }
    const view = revisionItem(node.revision);
    const item = new vscode.TreeItem(view.label);
    item.id = `${node.server.folder.uri.toString()}#${view.id}`;
    item.description = view.description;
    item.tooltip = new vscode.MarkdownString(view.tooltip);
    item.iconPath = new vscode.ThemeIcon(view.icon, stateColour(view.state));
    item.contextValue = view.contextValue;
    if (view.uri) item.command = { command: "distill.openRevisionFile", title: "Open File", arguments: [node] };
    return item;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.subscription.dispose();
    this.changed.dispose();
  }
}

async function revisionNodes(server: FolderServer): Promise<Node[]> {
  if (server.state.kind !== "running") {
    const view = statusView(server.state, server.folder.name);
    return [{ kind: "message", text: view.text.replace(/^\$\([^)]*\)\s*/, ""), tooltip: view.tooltip }];
  }
  try {
    const result = await server.revisions();
    if (result.error) return [{ kind: "message", text: result.error }];
    if (result.revisions.length === 0)
      return [{ kind: "message", text: "No revisions yet: run Distill: New Revision" }];
    return result.revisions.map((revision) => ({ kind: "revision", server, revision }));
  } catch (error) {
    return [{ kind: "message", text: messageOf(error) }];
  }
}

function stateColour(state: string): vscode.ThemeColor | undefined {
  if (state === "pending") return new vscode.ThemeColor("list.warningForeground");
  if (state === "current" || state === "applied") return new vscode.ThemeColor("testing.iconPassed");
  return undefined;
}
