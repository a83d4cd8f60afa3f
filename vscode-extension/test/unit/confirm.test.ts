import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { downgradeConfirmation, downgradeSqlRange, revertedBy, stampConfirmation } from "../../src/logic/confirm";
import { shop } from "./fixtures";

describe("downgrade confirmation", () => {
  test("lists the revisions whose downgrade() runs, newest first", () => {
    const reverted = revertedBy(shop("3c4d5e6f7081"), "1a2b3c4d5e6f");
    assert.deepEqual(
      reverted.map((r) => r.id),
      ["3c4d5e6f7081", "2b3c4d5e6f70"],
    );
    const text = downgradeConfirmation(reverted, "1a2b3c4d5e6f", "the database of shop");
    assert.equal(text.message, "Downgrade the database of shop to 1a2b3c4?");
    assert.match(text.detail, /runs the downgrade\(\) of 2 revisions:\n↓ 3c4d5e6 message of 3c4d5e6f7081\n↓ 2b3c4d5/);
    assert.equal(text.button, "Downgrade");
  });

  test("each revision names what its downgrade() drops, when the server read it", () => {
    const read = [["column customers.email"], ["table orders"]];
    const base = revertedBy(shop("3c4d5e6f7081"), "1a2b3c4d5e6f");
    const reverted = base.map((r, i) => ({ ...r, drops: read[i] ?? [] }));
    const text = downgradeConfirmation(reverted, "1a2b3c4d5e6f", "db");
    assert.match(text.detail, /↓ 3c4d5e6 message of 3c4d5e6f7081 — drops column customers\.email\n/);
    assert.match(text.detail, /↓ 2b3c4d5 message of 2b3c4d5e6f70 — drops table orders\n\nWhat is dropped goes with its data\.$/);
    const nothing = downgradeConfirmation(base.slice(0, 1).map((r) => ({ ...r, drops: [] })), "2b3c4d5e6f70", "db");
    assert.doesNotMatch(nothing.detail, /dropped/);
  });

  test("to base reverts everything applied; pending revisions are not touched", () => {
    assert.deepEqual(
      revertedBy(shop("2b3c4d5e6f70"), "base").map((r) => r.id),
      ["2b3c4d5e6f70", "1a2b3c4d5e6f"],
    );
    assert.match(downgradeConfirmation([], "base", "db").message, /to base \(nothing applied\)/);
  });
});

describe("the SQL a downgrade shows before it runs", () => {
  test("from the one current revision down to the target", () => {
    assert.equal(downgradeSqlRange(["3c4d5e6f7081"], "1a2b3c4d5e6f"), "3c4d5e6f7081:1a2b3c4d5e6f");
    assert.equal(downgradeSqlRange(["3c4d5e6f7081"], "-1"), "3c4d5e6f7081:3c4d5e6f7081-1");
  });

  test("none for several current revisions, nothing applied, or base", () => {
    assert.equal(downgradeSqlRange(["a", "b"], "-1"), undefined);
    assert.equal(downgradeSqlRange([], "-1"), undefined);
    assert.equal(downgradeSqlRange(["a"], "base"), undefined);
  });
});

describe("stamp confirmation", () => {
  test("says that nothing runs", () => {
    const text = stampConfirmation("3c4d5e6f7081", ["1a2b3c4d5e6f"], "the database of shop");
    assert.equal(text.message, "Stamp the database of shop as 3c4d5e6?");
    assert.match(text.detail, /from 1a2b3c4 to 3c4d5e6: no migration runs/);
    assert.match(stampConfirmation("head", [], "db").detail, /from base to head/);
  });
});
