// The revision graph: lanes for the DAG (branches, merges, depends_on) and the actions each
// revision offers in its state. Free of `vscode`, so it is unit-tested; graphView.ts draws it.
import type { Revision } from "./protocol";
import { ownRange, revisionItem, type RevisionState } from "./revisions";

export interface GraphNode {
  revision: Revision;
  row: number; // newest first, as the server orders them
  lane: number;
  state: RevisionState;
  badges: string[]; // "head", "current", "merge", "branch point", "@label"
  actions: GraphAction[];
}

export interface GraphEdge {
  from: string; // the newer revision
  to: string; // what it revises (or depends on)
  kind: "revises" | "depends";
}

export interface GraphAction {
  label: string;
  /** What the view asks the extension to do with the revision. */
  action: "upgrade" | "downgrade" | "showSql" | "open";
  argument: string;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  lanes: number;
}

/**
 * Lanes as `git log --graph` draws them: a revision takes the lane that waits for it
 * (the lane of a newer revision it is the first parent of) or a new one; its first parent
 * then waits in that lane, its other parents (a merge) in lanes of their own.
 */
export function layoutGraph(revisions: Revision[]): Graph {
  const waiting: (string | null)[] = []; // lane -> the revision it waits for
  const nodes: GraphNode[] = [];
  const known = new Set(revisions.map((r) => r.id));
  revisions.forEach((revision, row) => {
    let lane = waiting.indexOf(revision.id);
    if (lane < 0) {
      lane = waiting.indexOf(null);
      if (lane < 0) lane = waiting.push(null) - 1;
    }
    // Other lanes that waited for it too (two children on one parent) end here.
    waiting.forEach((id, other) => {
      if (id === revision.id && other !== lane) waiting[other] = null;
    });
    const [first, ...others] = revision.parents.filter((p) => known.has(p));
    waiting[lane] = first ?? null;
    for (const parent of others) {
      if (!waiting.includes(parent)) {
        const free = waiting.indexOf(null);
        if (free < 0) waiting.push(parent);
        else waiting[free] = parent;
      }
    }
    const state = revisionItem(revision).state;
    nodes.push({ revision, row, lane, state, badges: badgesOf(revision), actions: actionsOf(revision, state) });
  });
  const edges: GraphEdge[] = revisions.flatMap((r) => [
    ...r.parents.filter((p) => known.has(p)).map((to) => ({ from: r.id, to, kind: "revises" as const })),
    ...r.dependsOn.filter((p) => known.has(p)).map((to) => ({ from: r.id, to, kind: "depends" as const })),
  ]);
  return { nodes, edges, lanes: Math.max(1, ...nodes.map((n) => n.lane + 1)) };
}

function badgesOf(revision: Revision): string[] {
  const badges: string[] = [];
  if (revision.isHead) badges.push("head");
  if (revision.isCurrent) badges.push("current");
  if (revision.isMerge) badges.push("merge");
  if (revision.isBranchPoint) badges.push("branch point");
  for (const label of revision.branchLabels) badges.push(`@${label}`);
  return badges;
}

/** What a revision offers in its state: the same rules as the code lenses and the tree. */
export function actionsOf(revision: Revision, state: RevisionState): GraphAction[] {
  const actions: GraphAction[] = [];
  if (state === "pending") actions.push({ label: "Upgrade to here", action: "upgrade", argument: revision.id });
  // An applied revision below the current one; the current one is where the database is.
  if (state === "applied") actions.push({ label: "Downgrade to here", action: "downgrade", argument: revision.id });
  actions.push({ label: "Show SQL", action: "showSql", argument: ownRange(revision) });
  if (revision.uri) actions.push({ label: "Open", action: "open", argument: revision.uri });
  return actions;
}
