import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ancestorsOf, ownRange, revisionItems } from "../../src/logic/revisions";
import { revision, shop } from "./fixtures";

describe("tree items", () => {
  test("head first, with applied / pending state", () => {
    const items = revisionItems({
      revisions: shop("2b3c4d5e6f70"),
      current: ["2b3c4d5e6f70"],
      heads: ["3c4d5e6f7081"],
    });
    assert.deepEqual(
      items.map((i) => [i.label, i.description, i.contextValue]),
      [
        ["3c4d5e6 message of 3c4d5e6f7081", "pending · head", "revision pending"],
        ["2b3c4d5 message of 2b3c4d5e6f70", "current", "revision current"],
        ["1a2b3c4 message of 1a2b3c4d5e6f", "applied", "revision applied"],
      ],
    );
    assert.deepEqual(
      items.map((i) => i.icon),
      ["circle-large-outline", "database", "pass"],
    );
  });

  test("merges and branch points are marked", () => {
    const items = revisionItems({
      revisions: [
        revision("m", ["a", "b"], { isHead: true, applied: false }),
        revision("b", ["root"]),
        revision("a", ["root"], { branchLabels: ["billing"] }),
        revision("root", [], { isBranchPoint: true, isCurrent: true }),
      ],
      current: ["root"],
      heads: ["m"],
    });
    assert.equal(items[0]!.icon, "git-merge");
    assert.equal(items[0]!.description, "pending · head · merge");
    assert.equal(items[2]!.description, "applied · @billing");
    assert.equal(items[3]!.icon, "git-branch");
    assert.equal(items[3]!.description, "current · branch point");
  });

  test("a database that could not be read leaves the state unknown", () => {
    const [item] = revisionItems({ revisions: [revision("a", [], { applied: null })], current: [], heads: ["a"] });
    assert.equal(item!.state, "unknown");
    assert.equal(item!.icon, "question");
  });

  test("the tooltip names the revision, its parents and its date", () => {
    const [item] = revisionItems({ revisions: shop("base").slice(0, 1), current: [], heads: [] });
    assert.match(item!.tooltip, /Revision `3c4d5e6f7081` — pending/);
    assert.match(item!.tooltip, /Revises `2b3c4d5e6f70`/);
    assert.match(item!.tooltip, /Created 2026-11-23/);
  });
});

describe("revision ranges", () => {
  test("the SQL range of one revision, as the server's code lens", () => {
    assert.equal(ownRange(revision("a", [])), "base:a");
    assert.equal(ownRange(revision("b", ["a"])), "a:b");
    assert.equal(ownRange(revision("m", ["a", "b"])), "m-1:m");
  });

  test("ancestors follow parents and depends_on", () => {
    const revisions = [
      revision("c", ["b"], { dependsOn: ["x"] }),
      revision("b", ["a"]),
      revision("a", []),
      revision("x", []),
    ];
    assert.deepEqual([...ancestorsOf(revisions, "c")].sort(), ["a", "b", "c", "x"]);
  });
});
