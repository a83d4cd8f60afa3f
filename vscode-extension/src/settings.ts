import * as vscode from "vscode";
import type { FolderSettings } from "./logic/options";

/** The `distill.*` settings that apply to `folder` (in an untrusted workspace VS Code
 * leaves out the workspace values of the restricted ones: interpreter, databaseUrl). */
export function folderSettings(folder: vscode.WorkspaceFolder): FolderSettings {
  const config = vscode.workspace.getConfiguration("distill", folder);
  return {
    interpreter: config.get<string>("interpreter") || undefined,
    databaseUrl: config.get<string>("databaseUrl") || undefined,
    debounceMs: config.get<number>("debounceMs", 300),
    timeout: config.get<number>("timeout", 10),
    confirmDestructive: config.get<boolean>("confirmDestructive", true),
    inlayHints: config.get<boolean>("inlayHints", false),
  };
}

/** A change of these restarts the folder's server (trace.server is applied live by the client). */
export const RESTART_SETTINGS = ["interpreter", "databaseUrl", "debounceMs", "timeout", "inlayHints"].map((s) => `distill.${s}`);
