// The Python extension (ms-python.python), when installed: the folder's active environment.
// Only the few members used here are typed; the extension's API is stable for them.
import * as vscode from "vscode";

interface EnvironmentPath {
  readonly id: string;
  readonly path: string;
}

interface PythonExtensionApi {
  readonly ready?: Promise<void>;
  readonly environments: {
    getActiveEnvironmentPath(resource?: vscode.Uri): EnvironmentPath;
    resolveEnvironment(environment: EnvironmentPath): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
    readonly onDidChangeActiveEnvironmentPath: vscode.Event<EnvironmentPath & { resource?: unknown }>;
  };
}

const PYTHON_EXTENSION = "ms-python.python";

async function pythonApi(): Promise<PythonExtensionApi | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION);
  if (extension === undefined) return undefined;
  const api = extension.isActive ? extension.exports : await extension.activate();
  await api.ready;
  return api?.environments ? api : undefined;
}

export function hasPythonExtension(): boolean {
  return vscode.extensions.getExtension(PYTHON_EXTENSION) !== undefined;
}

/** The executable of the folder's active environment, or undefined (no extension, no environment). */
export async function pythonExtensionInterpreter(
  folder: vscode.WorkspaceFolder,
  log: vscode.OutputChannel,
): Promise<string | undefined> {
  try {
    const api = await pythonApi();
    if (api === undefined) return undefined;
    const environment = await api.environments.resolveEnvironment(
      api.environments.getActiveEnvironmentPath(folder.uri),
    );
    return environment?.executable.uri?.fsPath;
  } catch (error) {
    // A broken or older Python extension must not keep Distill from starting.
    log.appendLine(`The Python extension's environment could not be read: ${String(error)}`);
    return undefined;
  }
}

/** Calls `listener` when the user picks another environment in the Python extension. */
export async function onPythonEnvironmentChange(listener: () => void): Promise<vscode.Disposable | undefined> {
  try {
    return (await pythonApi())?.environments.onDidChangeActiveEnvironmentPath(listener);
  } catch {
    return undefined;
  }
}
