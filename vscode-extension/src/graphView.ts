// "Distill: Show Revision Graph": the DAG of a project's revisions in a webview — lanes for
// branches and merges, dashed edges for depends_on, head/current badges, each revision's
// state, and the actions its state allows (logic/graph.ts). It follows the server's status.
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import type { Servers } from "./folders";
import { layoutGraph, type Graph, type GraphAction } from "./logic/graph";
import { shortId } from "./logic/protocol";
import * as ops from "./operations";
import { messageOf, type FolderServer } from "./server";
import { guarded, openUri } from "./ui";

const ROW = 34;
const LANE = 18;

export class GraphView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private server: FolderServer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(servers: Servers) {
    this.subscription = servers.onDidChange((changed) => {
      if (changed === this.server) this.refreshSoon();
    });
  }

  async show(server: FolderServer): Promise<void> {
    this.server = server;
    if (this.panel === undefined) {
      this.panel = vscode.window.createWebviewPanel(
        "distill.graph",
        "Revision Graph",
        vscode.ViewColumn.Active,
        { enableScripts: true, localResourceRoots: [] },
      );
      this.panel.onDidDispose(() => (this.panel = undefined));
      this.panel.webview.onDidReceiveMessage((message: GraphAction) => guarded(() => this.act(message)));
    }
    this.panel.title = `Revision Graph — ${server.folder.name}`;
    this.panel.reveal();
    await this.render();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.subscription.dispose();
    this.panel?.dispose();
  }

  private refreshSoon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.render(), 200);
  }

  private async render(): Promise<void> {
    const panel = this.panel;
    const server = this.server;
    if (panel === undefined || server === undefined) return;
    let body: string;
    try {
      const result = await server.revisions();
      body = result.error ? paragraph(`The revisions cannot be read: ${result.error}`) : graphHtml(layoutGraph(result.revisions));
    } catch (error) {
      body = paragraph(messageOf(error));
    }
    panel.webview.html = page(body);
  }

  private async act(message: GraphAction): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    if (message.action === "open") return openUri(message.argument);
    if (message.action === "showSql") return ops.showSql(server, message.argument);
    if (message.action === "upgrade") return ops.upgrade(server, message.argument);
    if (message.action === "downgrade") return ops.downgrade(server, message.argument);
  }
}

export function registerGraphView(servers: Servers): vscode.Disposable[] {
  const view = new GraphView(servers);
  return [
    view,
    vscode.commands.registerCommand("distill.showGraph", () =>
      guarded(async () => {
        const server = servers.active() ?? servers.all()[0];
        if (server === undefined) throw new Error("no folder of this workspace has Distill settings");
        await view.show(server);
      }),
    ),
  ];
}

function graphHtml(graph: Graph): string {
  if (graph.nodes.length === 0) return paragraph("No revisions yet: generate the first one.");
  const at = new Map(graph.nodes.map((n) => [n.revision.id, n]));
  const x = (lane: number) => lane * LANE + LANE / 2 + 4;
  const y = (row: number) => row * ROW + ROW / 2;
  const edges = graph.edges
    .map((edge) => {
      const from = at.get(edge.from)!;
      const to = at.get(edge.to)!;
      const [x1, y1, x2, y2] = [x(from.lane), y(from.row), x(to.lane), y(to.row)];
      const dashed = edge.kind === "depends" ? ' stroke-dasharray="3 3"' : "";
      return `<path class="edge ${edge.kind}" d="M${x1} ${y1} C${x1} ${y1 + ROW / 2}, ${x2} ${y2 - ROW / 2}, ${x2} ${y2}"${dashed}/>`;
    })
    .join("");
  const dots = graph.nodes
    .map((n) => `<circle class="node ${n.state}" cx="${x(n.lane)}" cy="${y(n.row)}" r="6"><title>${n.state}</title></circle>`)
    .join("");
  const width = graph.lanes * LANE + 8;
  const rows = graph.nodes
    .map((n) => {
      const badges = n.badges.map((b) => `<span class="badge ${b.replace(/\W/g, "")}">${escape(b)}</span>`).join("");
      const buttons = n.actions
        .map((a) => `<button data-action="${a.action}" data-argument="${escape(a.argument)}">${escape(a.label)}</button>`)
        .join("");
      return (
        `<div class="row ${n.state}" data-id="${n.revision.id}" style="top:${n.row * ROW}px">` +
        `<code>${shortId(n.revision.id)}</code> <span class="message">${escape(n.revision.message ?? "(no message)")}</span>` +
        // "current" is a badge already; the other states are said in words.
        `${badges}${n.state === "current" ? "" : `<span class="state">${n.state}</span>`}` +
        `<span class="actions">${buttons}</span></div>`
      );
    })
    .join("");
  const height = graph.nodes.length * ROW;
  return (
    `<div class="graph" style="height:${height}px;--left:${width + 8}px">` +
    `<svg width="${width}" height="${height}">${edges}${dots}</svg>${rows}</div>`
  );
}

function page(body: string): string {
  const nonce = randomBytes(16).toString("base64");
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}';">
<style>
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); }
.graph { position: relative; }
svg { position: absolute; left: 0; top: 0; }
.edge { fill: none; stroke: var(--vscode-descriptionForeground); stroke-width: 1.5; }
.node { stroke: var(--vscode-charts-green); stroke-width: 2; fill: var(--vscode-editor-background); }
.node.applied, .node.current { fill: var(--vscode-charts-green); }
.node.current { stroke: var(--vscode-charts-blue); stroke-width: 3; }
.node.unknown { stroke: var(--vscode-descriptionForeground); }
.row { position: absolute; left: var(--left); right: 0; height: ${ROW}px; line-height: ${ROW}px; white-space: nowrap; }
.row:hover { background: var(--vscode-list-hoverBackground); }
.message { cursor: pointer; }
.badge { margin-left: 6px; padding: 1px 6px; border-radius: 8px; font-size: 0.85em;
  background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
.badge.current { background: var(--vscode-charts-blue); }
.state { margin-left: 8px; color: var(--vscode-descriptionForeground); font-size: 0.9em; }
.actions { margin-left: 12px; }
button { margin-right: 4px; border: none; padding: 2px 8px; cursor: pointer;
  background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); }
button:hover { background: var(--vscode-button-secondaryHoverBackground); }
</style></head><body>${body}
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
document.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (button) { vscode.postMessage({ action: button.dataset.action, argument: button.dataset.argument }); return; }
  const message = event.target.closest(".message");
  const open = message && message.parentElement.querySelector('button[data-action="open"]');
  if (open) vscode.postMessage({ action: "open", argument: open.dataset.argument });
});
</script></body></html>`;
}

function paragraph(text: string): string {
  return `<p>${escape(text)}</p>`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
