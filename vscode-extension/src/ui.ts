// Small helpers every command uses: errors as one notification, progress, SQL editors.
import * as vscode from "vscode";
import { messageOf } from "./server";

/** Runs `work`; an error (the server's one-line message for a user error) becomes one notification. */
export async function guarded<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    void vscode.window.showErrorMessage(`Distill: ${messageOf(error)}`);
    return undefined;
  }
}

export function withProgress<T>(title: string, work: () => Promise<T>): Thenable<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Distill: ${title}…` },
    work,
  );
}

export async function openSql(sql: string): Promise<void> {
  const document = await vscode.workspace.openTextDocument({ language: "sql", content: sql });
  await vscode.window.showTextDocument(document, { preview: false });
}

export async function openUri(uri: string | null): Promise<void> {
  if (uri === null) throw new Error("this revision has no file");
  await vscode.window.showTextDocument(vscode.Uri.parse(uri));
}
