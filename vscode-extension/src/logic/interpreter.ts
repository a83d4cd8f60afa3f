// Which Python runs the server, and how the install command is typed.

export type InterpreterSource = "setting" | "python-extension" | "default";

export interface Interpreter {
  command: string;
  source: InterpreterSource;
}

export interface InterpreterChoices {
  /** `distill.interpreter`, as written in the settings. */
  setting: string | undefined;
  /** The active environment of the Python extension, when it is installed and has one. */
  pythonExtension: string | undefined;
}

/**
 * An explicit `distill.interpreter` wins, as `ruff.interpreter` and `pylint.interpreter`
 * do: a user who names a Python means it. Then the Python extension's environment for
 * the folder, then `python3` on PATH.
 */
export function resolveInterpreter(choices: InterpreterChoices, folder: string, home: string): Interpreter {
  const setting = choices.setting?.trim();
  if (setting) return { command: expandVariables(setting, folder, home), source: "setting" };
  const fromExtension = choices.pythonExtension?.trim();
  if (fromExtension) return { command: fromExtension, source: "python-extension" };
  return { command: "python3", source: "default" };
}

/** `${workspaceFolder}`, `${userHome}` and a leading `~`, as in the settings of other Python tools. */
export function expandVariables(value: string, folder: string, home: string): string {
  const expanded = value.replaceAll("${workspaceFolder}", folder).replaceAll("${userHome}", home);
  return expanded === "~" || expanded.startsWith("~/") ? home + expanded.slice(1) : expanded;
}

/** The line typed into a terminal to install Distill with `python`. */
export function pipInstallCommand(python: string, platform: NodeJS.Platform): string {
  if (platform === "win32") {
    // PowerShell (the default there) runs a quoted path only behind the call operator.
    return /[\s'"&()]/.test(python) ? `& "${python}" -m pip install distill` : `${python} -m pip install distill`;
  }
  const quoted = /^[\w@%+=:,./-]+$/.test(python) ? python : `'${python.replaceAll("'", `'\\''`)}'`;
  return `${quoted} -m pip install distill`;
}

/**
 * A one-line Python program that says whether Distill can be imported, without
 * importing it (so no user or package code runs): exit 0 yes, 3 no.
 */
export const PROBE_DISTILL = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('distill') else 3)";
export const PROBE_MISSING_EXIT = 3;

/**
 * The server's arguments: `python -m distill lsp`, except that `-m` puts the working folder
 * (the workspace, when it is trusted) first on `sys.path`, so a workspace folder named
 * `distill/` or `sqlalchemy/` would be imported in place of the real package. `-P` avoids
 * that on Python 3.11+ only; this bootstrap takes the folder off `sys.path` before the first
 * import, on 3.10 too, and then runs the module as `-m` would.
 */
export const SERVER_ARGS = [
  "-c",
  "import sys\nif sys.path and sys.path[0] == '':\n    del sys.path[0]\nimport runpy\n" +
    "runpy.run_module('distill', run_name='__main__', alter_sys=True)\n",
  "lsp",
];
