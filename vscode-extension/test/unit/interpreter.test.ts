import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { expandVariables, pipInstallCommand, resolveInterpreter } from "../../src/logic/interpreter";

describe("interpreter resolution", () => {
  const resolve = (setting?: string, pythonExtension?: string) =>
    resolveInterpreter({ setting, pythonExtension }, "/work/shop", "/home/ada");

  test("distill.interpreter first, then the Python extension, then python3", () => {
    assert.deepEqual(resolve("/venv/bin/python", "/ext/python"), { command: "/venv/bin/python", source: "setting" });
    assert.deepEqual(resolve(undefined, "/ext/python"), { command: "/ext/python", source: "python-extension" });
    assert.deepEqual(resolve("  ", ""), { command: "python3", source: "default" });
  });

  test("variables in the setting", () => {
    assert.equal(resolve("${workspaceFolder}/.venv/bin/python").command, "/work/shop/.venv/bin/python");
    assert.equal(expandVariables("~/venvs/shop/bin/python", "/w", "/home/ada"), "/home/ada/venvs/shop/bin/python");
    assert.equal(expandVariables("${userHome}/py", "/w", "/home/ada"), "/home/ada/py");
  });
});

describe("pip install command", () => {
  test("quoted for the shell only when needed", () => {
    assert.equal(pipInstallCommand("/venv/bin/python", "linux"), "/venv/bin/python -m pip install distill");
    assert.equal(pipInstallCommand("/my env/bin/python", "darwin"), "'/my env/bin/python' -m pip install distill");
    assert.equal(pipInstallCommand("/it's/python", "linux"), `'/it'\\''s/python' -m pip install distill`);
    assert.equal(
      pipInstallCommand("C:\\Program Files\\Python\\python.exe", "win32"),
      '& "C:\\Program Files\\Python\\python.exe" -m pip install distill',
    );
  });
});
