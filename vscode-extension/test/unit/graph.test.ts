import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { layoutGraph } from "../../src/logic/graph";
import { revision, shop } from "./fixtures";

function actions(revisions: ReturnType<typeof shop>): Record<string, string[]> {
  return Object.fromEntries(layoutGraph(revisions).nodes.map((n) => [n.revision.id.slice(0, 4), n.actions.map((a) => a.label)]));
}

describe("revision graph", () => {
  test("a straight history is one lane, newest first, each revising the next", () => {
    const graph = layoutGraph(shop("2b3c4d5e6f70"));
    assert.deepEqual(
      graph.nodes.map((n) => [n.revision.id.slice(0, 4), n.row, n.lane, n.state, n.badges]),
      [
        ["3c4d", 0, 0, "pending", ["head"]],
        ["2b3c", 1, 0, "current", ["current"]],
        ["1a2b", 2, 0, "applied", []],
      ],
    );
    assert.equal(graph.lanes, 1);
    assert.deepEqual(graph.edges.map((e) => [e.from.slice(0, 4), e.to.slice(0, 4), e.kind]), [
      ["3c4d", "2b3c", "revises"],
      ["2b3c", "1a2b", "revises"],
    ]);
  });

  test("each state offers what can apply: no downgrade on a pending or current revision", () => {
    assert.deepEqual(actions(shop("2b3c4d5e6f70")), {
      "3c4d": ["Upgrade to here", "Show SQL", "Open"],
      "2b3c": ["Show SQL", "Open"],
      "1a2b": ["Downgrade to here", "Show SQL", "Open"],
    });
    assert.deepEqual(actions(shop("base")), {
      "3c4d": ["Upgrade to here", "Show SQL", "Open"],
      "2b3c": ["Upgrade to here", "Show SQL", "Open"],
      "1a2b": ["Upgrade to here", "Show SQL", "Open"],
    });
    // The database unreachable: its state is unknown, so only what needs no database.
    const unknown = shop("base").map((r) => ({ ...r, applied: null }));
    assert.deepEqual(Object.values(actions(unknown)), [
      ["Show SQL", "Open"], ["Show SQL", "Open"], ["Show SQL", "Open"],
    ]);
    // The Show SQL of a revision is its own range, as the code lens's.
    const sql = layoutGraph(shop("base")).nodes[0]!.actions.find((a) => a.action === "showSql");
    assert.equal(sql?.argument, "2b3c4d5e6f70:3c4d5e6f7081");
  });

  test("branches get lanes of their own, a merge joins them, depends_on is its own edge", () => {
    const graph = layoutGraph([
      revision("m", ["b", "c"], { isHead: true, applied: false }),
      revision("b", ["a"], { applied: false }),
      revision("c", ["a"], { applied: false, dependsOn: ["x"] }),
      revision("x", [], { applied: false }),
      revision("a", [], { applied: false, isBranchPoint: true }),
    ]);
    const lane = Object.fromEntries(graph.nodes.map((n) => [n.revision.id, n.lane]));
    assert.equal(lane.m, 0);
    assert.equal(lane.b, 0);
    assert.notEqual(lane.c, lane.b);
    assert.equal(lane.a, 0); // both branches come back to their base's lane
    assert.equal(graph.lanes >= 2, true);
    assert.deepEqual(graph.nodes.find((n) => n.revision.id === "m")?.badges, ["head", "merge"]);
    assert.deepEqual(graph.nodes.find((n) => n.revision.id === "a")?.badges, ["branch point"]);
    assert.deepEqual(
      graph.edges.filter((e) => e.kind === "depends").map((e) => [e.from, e.to]),
      [["c", "x"]],
    );
  });
});
