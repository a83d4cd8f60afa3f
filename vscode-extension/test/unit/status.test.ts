import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { currentLabel, statusActions, statusView } from "../../src/logic/status";
import { status } from "./fixtures";

describe("status bar text", () => {
  test("up to date", () => {
    const view = statusView({ kind: "running", status: status() }, "shop");
    assert.equal(view.text, "$(database) 3c4d5e6 · up to date");
    assert.equal(view.needsAction, false);
  });

  test("pending revisions, drift and several heads, in the warning colour", () => {
    assert.equal(
      statusView({ kind: "running", status: status({ pending: 2 }) }, "shop").text,
      "$(database) 3c4d5e6 · 2 pending",
    );
    assert.equal(
      statusView({ kind: "running", status: status({ drift: 3 }) }, "shop").text,
      "$(database) 3c4d5e6 · drift 3",
    );
    const heads = statusView({ kind: "running", status: status({ heads: ["a1", "b2"] }) }, "shop");
    assert.equal(heads.text, "$(database) 3c4d5e6 · 2 heads");
    assert.equal(heads.needsAction, true);
  });

  test("changes made by hand are counted apart from model drift", () => {
    const view = statusView({ kind: "running", status: status({ handMade: 2 }) }, "shop");
    assert.equal(view.text, "$(database) 3c4d5e6 · 2 changed by hand");
    assert.equal(view.needsAction, true);
    assert.match(view.tooltip, /2 changes made in the database by hand/);
    assert.doesNotMatch(view.tooltip, /model change/);
  });

  test("a database at base, and one that could not be read", () => {
    assert.equal(
      statusView({ kind: "running", status: status({ current: [], pending: 3 }) }, "shop").text,
      "$(database) base · 3 pending",
    );
    const unreachable = statusView(
      { kind: "running", status: status({ current: null, databaseReachable: false, lastError: "connection refused" }) },
      "shop",
    );
    assert.equal(unreachable.text, "$(database) ? · no database");
    assert.match(unreachable.tooltip, /connection refused/);
  });

  test("an untrusted workspace says why", () => {
    const view = statusView(
      {
        kind: "running",
        status: status({ trusted: false, current: null, lastError: "not trusted: trust it to enable" }),
      },
      "shop",
    );
    assert.equal(view.text, "$(shield) Distill off: untrusted workspace");
    assert.equal(view.tooltip, "not trusted: trust it to enable");
  });

  test("a server that cannot start names the fix", () => {
    const missing = statusView({ kind: "not-installed", python: "/venv/bin/python" }, "shop");
    assert.equal(missing.text, "$(warning) Distill not installed");
    assert.match(missing.tooltip, /not installed in \/venv\/bin\/python/);
    assert.equal(missing.needsAction, true);
  });

  test("merged current revisions are joined", () => {
    assert.equal(currentLabel(["3c4d5e6f7081", "9b1e0c44aa21"]), "3c4d5e6+9b1e0c4");
  });
});

describe("status bar actions", () => {
  const commands = (state: Parameters<typeof statusActions>[0]): string[] => statusActions(state).map((a) => a.command);

  test("what needs doing comes first", () => {
    const actions = commands({ kind: "running", status: status({ pending: 2, drift: 1, heads: ["a", "b"] }) });
    assert.deepEqual(actions.slice(0, 4), [
      "distill.upgradeToHead",
      "distill.newRevision",
      "distill.checkDrift",
      "distill.mergeHeads",
    ]);
  });

  test("changes made by hand: what differs is offered, never a new revision", () => {
    const actions = statusActions({ kind: "running", status: status({ handMade: 2 }) });
    assert.deepEqual(
      actions.slice(0, 1).map((a) => [a.command, a.description]),
      [["distill.checkDrift", "2 changes by hand"]],
    );
    assert.ok(!actions.some((a) => a.command === "distill.newRevision"));
  });

  test("nothing to fix: no upgrade or merge offered first", () => {
    assert.equal(commands({ kind: "running", status: status() })[0], "distill.showHistory");
  });

  test("untrusted: manage trust; not installed: install", () => {
    assert.deepEqual(commands({ kind: "running", status: status({ trusted: false }) }), [
      "workbench.trust.manage",
      "distill.showLog",
    ]);
    assert.equal(commands({ kind: "not-installed", python: "python3" })[0], "distill.installDistill");
  });
});
