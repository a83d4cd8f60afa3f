import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { failureMessage } from "../../src/logic/failure";

describe("failure message", () => {
  test("names the steps that ran before the failure", () => {
    const message = failureMessage("upgrade of revision 4d5e6f708192 ... raised RuntimeError: no", {
      steps: ["upgrade 3c4d5e6f7081"],
    });
    assert.equal(
      message,
      "upgrade of revision 4d5e6f708192 ... raised RuntimeError: no (1 step ran before it and stays applied: upgrade 3c4d5e6)",
    );
  });

  test("is the server's message alone when nothing ran or no data came", () => {
    assert.equal(failureMessage("no database URL", { steps: [] }), "no database URL");
    assert.equal(failureMessage("no database URL", undefined), "no database URL");
    assert.equal(failureMessage("x", { steps: [5, "upgrade a1b2c3d4e5f6", "upgrade b2"] }), "x (2 steps ran before it and stay applied: upgrade a1b2c3d, upgrade b2)");
  });
});
