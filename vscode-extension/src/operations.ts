// What each Distill action does once it knows its folder and target, whoever asked:
// the command palette, the status bar, the tree, or a quick fix / code lens from the server.
import * as vscode from "vscode";
import {
  downgradeConfirmation,
  downgradeSqlRange,
  revertedBy,
  stampConfirmation,
  type Confirmation,
} from "./logic/confirm";
import {
  shortId,
  type CheckResult,
  type CurrentResult,
  type NewFileResult,
  type RunResult,
  type SqlResult,
} from "./logic/protocol";
import { currentLabel, plural } from "./logic/status";
import type { FolderServer } from "./server";
import { folderSettings } from "./settings";
import { openSql, withProgress } from "./ui";

export async function upgrade(server: FolderServer, target: string): Promise<void> {
  const result = await withProgress(`Upgrading ${server.folder.name} to ${label(target)}`, () =>
    server.execute<RunResult>("distill.upgrade", [target]),
  );
  void vscode.window.showInformationMessage(runSummary("Upgraded", server, result));
}

export async function downgrade(server: FolderServer, target: string): Promise<void> {
  if (folderSettings(server.folder).confirmDestructive) {
    const revisions = (await server.revisions()).revisions;
    const current = revisions.filter((r) => r.isCurrent);
    const reverted = target === "-1" ? current : revertedBy(revisions, target);
    const confirmation = downgradeConfirmation(reverted, target, databaseOf(server));
    const sqlRange = downgradeSqlRange(
      current.map((r) => r.id),
      target,
    );
    if (!(await confirm(confirmation, server, sqlRange))) return;
  }
  const result = await withProgress(`Downgrading ${server.folder.name} to ${label(target)}`, () =>
    server.execute<RunResult>("distill.downgrade", [target]),
  );
  void vscode.window.showInformationMessage(runSummary("Downgraded", server, result));
}

export async function stamp(server: FolderServer, target: string): Promise<void> {
  if (folderSettings(server.folder).confirmDestructive) {
    const status = server.state.kind === "running" ? server.state.status : undefined;
    const confirmation = stampConfirmation(target, status?.current ?? null, databaseOf(server));
    if (!(await confirm(confirmation, server, undefined))) return;
  }
  const result = await server.execute<{ current: string[] }>("distill.stamp", [target]);
  void vscode.window.showInformationMessage(
    `Distill: ${databaseOf(server)} is stamped ${currentLabel(result.current)}.`,
  );
}

/** A modal question; "Show SQL" opens what would run and asks again. */
async function confirm(
  confirmation: Confirmation,
  server: FolderServer,
  sqlRange: string | undefined,
): Promise<boolean> {
  const buttons = sqlRange ? [confirmation.button, "Show SQL"] : [confirmation.button];
  for (;;) {
    const choice = await vscode.window.showWarningMessage(
      confirmation.message,
      { modal: true, detail: confirmation.detail },
      ...buttons,
    );
    if (choice !== "Show SQL" || sqlRange === undefined) return choice === confirmation.button;
    await showSql(server, sqlRange);
  }
}

export interface RevisionOptions {
  message?: string;
  autogenerate?: boolean;
  renames?: string[];
}

export async function newRevision(server: FolderServer, options: RevisionOptions): Promise<void> {
  const result = await withProgress(`Generating a revision in ${server.folder.name}`, () =>
    server.execute<NewFileResult>("distill.revision", [options]),
  );
  // The server opens the new file (window/showDocument), as a preview tab the next
  // file opened would replace: shown again here, kept (pinned). Its notes (e.g. a
  // likely rename) are worth a look before the revision is applied.
  if (result.uri) await vscode.window.showTextDocument(vscode.Uri.parse(result.uri), { preview: false });
  for (const note of result.notes ?? []) void vscode.window.showWarningMessage(`Distill: ${note}`);
}

/** A change made by hand that the models made too: a revision of it, stamped as applied. */
export async function keepDatabaseChange(server: FolderServer): Promise<void> {
  const result = await withProgress(`Keeping the database's change in ${server.folder.name}`, () =>
    server.execute<NewFileResult & { stamped: string[] }>("distill.keepDatabaseChange"),
  );
  if (result.uri) await vscode.window.showTextDocument(vscode.Uri.parse(result.uri), { preview: false });
  void vscode.window.showInformationMessage(
    `Distill: the change made by hand is now revision ${result.stamped.map(shortId).join(", ")}, ` +
      `marked applied in ${databaseOf(server)}.`,
  );
}

export async function mergeHeads(server: FolderServer, message: string): Promise<void> {
  await withProgress(`Merging heads in ${server.folder.name}`, () =>
    server.execute<NewFileResult>("distill.merge", [{ message }]),
  );
}

export async function showSql(server: FolderServer, range: string): Promise<void> {
  // With progress: on a long history the SQL takes a moment; a failure is shown by the caller.
  const result = await withProgress(`Writing the SQL of ${range}`, () =>
    server.execute<SqlResult>("distill.showSql", [range]),
  );
  await openSql(`-- distill: SQL for ${range} (${server.folder.name})\n${result.sql}`);
}

export async function checkDrift(server: FolderServer, output: vscode.OutputChannel): Promise<void> {
  const result = await withProgress(`Checking ${server.folder.name}`, () =>
    server.execute<CheckResult>("distill.check"),
  );
  if (result.ok) {
    void vscode.window.showInformationMessage(
      `Distill: no drift in ${server.folder.name}: the models, the migrations and the database agree.`,
    );
    return;
  }
  output.appendLine(`[${server.folder.name}] distill check (database: ${result.database})`);
  for (const line of result.lines) output.appendLine(`  ${line}`);
  const choice = await vscode.window.showWarningMessage(
    `Distill: ${plural(result.lines.length, "difference")} in ${server.folder.name}.`,
    "Show Details",
  );
  if (choice) output.show(true);
}

export async function showCurrent(server: FolderServer): Promise<void> {
  const { current } = await server.execute<CurrentResult>("distill.current");
  const at = current.length
    ? current.map((c) => `${shortId(c.id)}${c.isHead ? " (head)" : ""} ${c.message ?? ""}`.trimEnd()).join(", ")
    : "base (nothing applied)";
  void vscode.window.showInformationMessage(`Distill: ${databaseOf(server)} is at ${at}.`);
}

function runSummary(verb: string, server: FolderServer, result: RunResult): string {
  const steps = result.steps ?? [];
  if (steps.length === 0)
    return `Distill: nothing to do, ${databaseOf(server)} is at ${currentLabel(result.after ?? null)}.`;
  return (
    `Distill: ${verb} ${databaseOf(server)} from ${currentLabel(result.before ?? null)} ` +
    `to ${currentLabel(result.after ?? null)} (${plural(steps.length, "revision")}).`
  );
}

function databaseOf(server: FolderServer): string {
  return `the database of ${server.folder.name}`;
}

function label(target: string): string {
  return /^[0-9a-f]{8,}$/.test(target) ? shortId(target) : target;
}
