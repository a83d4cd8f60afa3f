// The one notification a user gets when the server cannot start, with the button that fixes it.
import * as vscode from "vscode";
import { pipInstallCommand } from "./logic/interpreter";
import { hasPythonExtension } from "./python";
import type { FolderServer } from "./server";

const INSTALL = "Install Distill";
const SELECT = "Select Interpreter";

export async function notifyProblem(server: FolderServer): Promise<void> {
  const state = server.state;
  if (state.kind === "not-installed") {
    const choice = await vscode.window.showErrorMessage(
      `Distill is not installed in ${state.python} (${server.folder.name}). Install it there, or select the project's interpreter.`,
      INSTALL,
      SELECT,
    );
    if (choice === INSTALL) installDistill(server);
    if (choice === SELECT) await selectInterpreter();
  } else if (state.kind === "no-python") {
    const choice = await vscode.window.showErrorMessage(
      `${state.reason} Select the project's interpreter (setting "distill.interpreter").`,
      SELECT,
    );
    if (choice === SELECT) await selectInterpreter();
  }
}

/** Runs pip in a terminal, where the user sees it work (and can answer a prompt). */
export function installDistill(server: FolderServer): void {
  const python = server.interpreter?.command ?? "python3";
  const terminal = vscode.window.createTerminal({ name: "Install Distill", cwd: server.folder.uri });
  terminal.show();
  terminal.sendText(pipInstallCommand(python, process.platform));
  void vscode.window
    .showInformationMessage('When the installation has finished, run "Distill: Restart Server".', "Restart Server")
    .then((choice) => choice && server.restart());
}

async function selectInterpreter(): Promise<void> {
  if (hasPythonExtension()) {
    await vscode.commands.executeCommand("python.setInterpreter");
  } else {
    await vscode.commands.executeCommand("workbench.action.openSettings", "distill.interpreter");
  }
}
