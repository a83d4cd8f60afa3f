// The command palette's "Distill: …" commands, the status bar's menu and the tree's context menu.
import * as vscode from "vscode";
import type { Servers } from "./folders";
import { revisionItem, ownRange } from "./logic/revisions";
import type { Revision } from "./logic/protocol";
import { statusActions, statusView } from "./logic/status";
import * as ops from "./operations";
import { installDistill } from "./problems";
import type { FolderServer } from "./server";
import type { RevisionNode } from "./tree";
import { guarded, openUri } from "./ui";

export function registerCommands(servers: Servers, output: vscode.OutputChannel): vscode.Disposable[] {
  /** A palette command: runs for the active folder's server (asking when that is unclear). */
  const palette = (id: string, run: (server: FolderServer) => Promise<void>): vscode.Disposable =>
    vscode.commands.registerCommand(id, (folder?: vscode.Uri) =>
      guarded(async () => {
        const server = folder ? servers.forUri(folder) : await pickServer(servers);
        if (server) await run(server);
      }),
    );
  const onRevision = (id: string, run: (node: RevisionNode) => Promise<void>): vscode.Disposable =>
    vscode.commands.registerCommand(id, (node: RevisionNode) => guarded(() => run(node)));

  return [
    palette("distill.upgradeToHead", (server) => ops.upgrade(server, "head")),
    palette("distill.upgradeTo", async (server) => {
      const target = await pickRevision(server, "Upgrade to", (r) => r.applied === false, ["head"]);
      if (target) await ops.upgrade(server, target);
    }),
    palette("distill.downgradeOne", (server) => ops.downgrade(server, "-1")),
    palette("distill.downgradeTo", async (server) => {
      const target = await pickRevision(server, "Downgrade to", (r) => r.applied === true && !r.isCurrent, ["base"]);
      if (target) await ops.downgrade(server, target);
    }),
    palette("distill.newRevision", async (server) => {
      // Proposed: the name of its changes ("add customers.phone"); left empty, the server
      // names it so too.
      const proposed = await server.proposedMessage().catch(() => null);
      const message = await askMessage(
        "Message of the new revision (the model changes are generated into it); leave empty to name it after them",
        { optional: true, value: proposed ?? "" },
      );
      if (message !== undefined) await ops.newRevision(server, { message: message.trim(), autogenerate: true });
    }),
    palette("distill.newEmptyRevision", async (server) => {
      const message = await askMessage("Message of the new, empty revision (its ops are yours to write)", {
        value: "data migration",
      });
      if (message !== undefined) await ops.newRevision(server, { message, autogenerate: false });
    }),
    palette("distill.showCurrent", (server) => ops.showCurrent(server)),
    palette("distill.showHistory", (server) => showHistory(server)),
    palette("distill.stampTo", async (server) => {
      const target = await pickRevision(server, "Stamp the database as", () => true, ["head", "base"]);
      if (target) await ops.stamp(server, target);
    }),
    palette("distill.showSqlTo", async (server) => {
      const revisions = (await server.revisions()).revisions;
      const from = revisions.filter((r) => r.isCurrent).map((r) => r.id);
      const target = await pickRevision(
        server,
        "Show the SQL that upgrades the database to",
        (r) => r.applied === false,
        ["head"],
        revisions,
      );
      if (target) await ops.showSql(server, `${from.length === 1 ? from[0] : "base"}:${target}`);
    }),
    palette("distill.checkDrift", (server) => ops.checkDrift(server, output)),
    palette("distill.mergeHeads", async (server) => {
      const message = await askMessage("Message of the merge revision", { value: "merge heads" });
      if (message !== undefined) await ops.mergeHeads(server, message);
    }),
    palette("distill.installDistill", async (server) => installDistill(server)),
    vscode.commands.registerCommand("distill.restartServer", (folder?: vscode.Uri) =>
      guarded(async () => {
        const server = servers.forUri(folder) ?? servers.active();
        await (server ? server.restart() : servers.restartAll());
      }),
    ),
    vscode.commands.registerCommand("distill.showLog", () => output.show()),
    vscode.commands.registerCommand("distill.statusActions", (folder?: vscode.Uri) =>
      guarded(async () => {
        const server = servers.forUri(folder) ?? servers.active();
        if (server) await pickAction(server);
      }),
    ),
    onRevision("distill.upgradeToHere", (node) => ops.upgrade(node.server, node.revision.id)),
    onRevision("distill.downgradeToHere", (node) => ops.downgrade(node.server, node.revision.id)),
    onRevision("distill.openRevisionFile", (node) => openUri(node.revision.uri)),
    onRevision("distill.showRevisionSql", (node) => ops.showSql(node.server, ownRange(node.revision))),
  ];
}

async function pickServer(servers: Servers): Promise<FolderServer | undefined> {
  const active = servers.active();
  if (active) return active;
  const all = servers.all();
  if (all.length === 0) {
    throw new Error(
      "no folder of this workspace has Distill settings: add [tool.distill] to pyproject.toml, or a distill.toml.",
    );
  }
  const picked = await vscode.window.showQuickPick(
    all.map((server) => ({ label: server.folder.name, description: server.folder.uri.fsPath, server })),
    { placeHolder: "Which project?" },
  );
  return picked?.server;
}

async function pickAction(server: FolderServer): Promise<void> {
  const view = statusView(server.state, server.folder.name);
  const picked = await vscode.window.showQuickPick(statusActions(server.state), {
    placeHolder: view.tooltip.split("\n").slice(0, 3).join(" — "),
  });
  if (picked) await vscode.commands.executeCommand(picked.command, server.folder.uri);
}

/** A revision id (or one of `extra`, e.g. "head") picked from the revisions that `keep`. */
async function pickRevision(
  server: FolderServer,
  title: string,
  keep: (revision: Revision) => boolean,
  extra: string[],
  known?: Revision[],
): Promise<string | undefined> {
  const revisions = known ?? (await server.revisions()).revisions;
  const items: (vscode.QuickPickItem & { target: string })[] = [
    ...extra.map((target) => ({ label: target, target })),
    ...revisions.filter(keep).map((revision) => {
      const item = revisionItem(revision);
      return { label: `$(${item.icon}) ${item.label}`, description: item.description, target: revision.id };
    }),
  ];
  const picked = await vscode.window.showQuickPick(items, { placeHolder: `${title}…`, matchOnDescription: true });
  return picked?.target;
}

async function showHistory(server: FolderServer): Promise<void> {
  const revisions = (await server.revisions()).revisions;
  const picked = await vscode.window.showQuickPick(
    revisions.map((revision) => {
      const item = revisionItem(revision);
      return {
        label: `$(${item.icon}) ${item.label}`,
        description: item.description,
        detail: revision.createDate ?? undefined,
        revision,
      };
    }),
    { placeHolder: `History of ${server.folder.name}, newest first: pick one to open its file` },
  );
  if (picked) await openUri(picked.revision.uri);
}

function askMessage(prompt: string, options: { value?: string; optional?: boolean } = {}): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    prompt,
    value: options.value,
    placeHolder: options.optional ? "named after its changes, e.g. add customers.phone" : "add phone to customers",
    validateInput: (text) => (text.trim() || options.optional ? undefined : "A revision needs a message"),
  });
}
