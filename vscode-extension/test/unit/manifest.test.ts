// package.json is code too: the commands the logic names must exist there.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { statusActions } from "../../src/logic/status";
import { status } from "./fixtures";

interface Manifest {
  contributes: {
    commands: { command: string; category?: string }[];
    menus: Record<string, { command: string }[]>;
    configuration: { properties: Record<string, unknown> };
  };
  capabilities: { untrustedWorkspaces: { supported: string; restrictedConfigurations: string[] } };
}

const manifest = JSON.parse(readFileSync("package.json", "utf8")) as Manifest;
const declared = new Set(manifest.contributes.commands.map((c) => c.command));

describe("package.json", () => {
  test("every status-bar action and menu entry is a declared command", () => {
    const states = [
      { kind: "running", status: status({ pending: 1, drift: 1, heads: ["a", "b"] }) },
      { kind: "not-installed", python: "python3" },
    ] as const;
    const used = states.flatMap((state) => statusActions(state).map((a) => a.command));
    const fromMenus = Object.values(manifest.contributes.menus).flatMap((entries) => entries.map((e) => e.command));
    for (const command of [...used, ...fromMenus]) {
      if (!command.startsWith("workbench.")) assert.ok(declared.has(command), `${command} is not declared`);
    }
  });

  test("the palette commands are in the Distill category", () => {
    for (const command of manifest.contributes.commands) assert.equal(command.category, "Distill", command.command);
  });

  test("limited support in untrusted workspaces, the interpreter from user settings only", () => {
    const trust = manifest.capabilities.untrustedWorkspaces;
    assert.equal(trust.supported, "limited");
    assert.deepEqual(trust.restrictedConfigurations, ["distill.interpreter", "distill.databaseUrl"]);
  });

  test("the documented settings exist", () => {
    const settings = Object.keys(manifest.contributes.configuration.properties);
    for (const name of ["interpreter", "databaseUrl", "debounceMs", "confirmDestructive", "trace.server"]) {
      assert.ok(settings.includes(`distill.${name}`), name);
    }
  });
});
