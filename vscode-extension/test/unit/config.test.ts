import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { detectConfig, pyprojectHasDistill } from "../../src/logic/config";
import { initializationOptions } from "../../src/logic/options";

describe("config detection", () => {
  test("distill.toml, pyproject.toml with [tool.distill], alembic.ini", () => {
    assert.equal(detectConfig({ "distill.toml": "" }), "distill.toml");
    assert.equal(
      detectConfig({ "pyproject.toml": '[project]\nname = "x"\n\n[tool.distill]\nurl = "sqlite://"\n' }),
      "pyproject.toml",
    );
    assert.equal(detectConfig({ "alembic.ini": "[alembic]\n" }), "alembic.ini");
    assert.equal(detectConfig({ "pyproject.toml": '[tool.alembic]\nscript_location = "a"\n' }), "pyproject.toml");
    assert.equal(detectConfig({}), undefined);
  });

  test("a pyproject.toml without Distill settings is not a project", () => {
    assert.equal(detectConfig({ "pyproject.toml": "[tool.ruff]\nline-length = 100\n" }), undefined);
    assert.equal(pyprojectHasDistill('# [tool.distill]\nx = "[tool.distill]"\n'), false);
    assert.equal(pyprojectHasDistill("[tool.distillery]\n"), false);
  });

  test("sub-tables and spacing count", () => {
    assert.equal(pyprojectHasDistill("[tool.distill.lint]\n"), true);
    assert.equal(pyprojectHasDistill("  [ tool.distill ]  # settings\n"), true);
  });
});

describe("initialization options", () => {
  const settings = {
    interpreter: undefined,
    databaseUrl: undefined,
    debounceMs: 300,
    timeout: 10,
    confirmDestructive: true,
    inlayHints: false,
  };

  test("trust and timings are passed; no database URL unless one is set", () => {
    assert.deepEqual(initializationOptions(settings, false), {
      trusted: false,
      debounceMs: 300,
      timeout: 10,
      inlayHints: false,
      clientConfirms: true,
      opCompletion: true,
    });
    assert.deepEqual(initializationOptions({ ...settings, databaseUrl: " sqlite:///copy.db ", debounceMs: -5 }, true), {
      trusted: true,
      debounceMs: 0,
      timeout: 10,
      inlayHints: false,
      clientConfirms: true,
      opCompletion: true,
      databaseUrl: "sqlite:///copy.db",
    });
  });

  test("op. completion is left to Pylance or Jedi where the Python extension runs", () => {
    assert.equal(initializationOptions(settings, true, true).opCompletion, false);
    assert.equal(initializationOptions(settings, true, false).opCompletion, true);
  });
});
