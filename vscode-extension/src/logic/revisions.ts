// Tree items of the "Migrations" view, from a `distill/revisions` result.
import { shortId, type Revision, type RevisionsResult } from "./protocol";

export type RevisionState = "current" | "applied" | "pending" | "unknown";

export interface RevisionItem {
  id: string;
  label: string;
  description: string;
  tooltip: string; // markdown
  state: RevisionState;
  /** A codicon id; merges and branch points get their own so they stand out in the list. */
  icon: string;
  /** For the context menu's `when` clauses: "revision <state>" (e.g. `viewItem =~ /pending/`). */
  contextValue: string;
  uri: string | null;
}

/** The revisions head-first, as the server orders them. */
export function revisionItems(result: RevisionsResult): RevisionItem[] {
  return result.revisions.map(revisionItem);
}

export function revisionItem(revision: Revision): RevisionItem {
  const state = stateOf(revision);
  const marks: string[] = [state];
  if (revision.isHead) marks.push("head");
  if (revision.isMerge) marks.push("merge");
  if (revision.isBranchPoint) marks.push("branch point");
  if (revision.branchLabels.length) marks.push(`@${revision.branchLabels.join(", @")}`);
  return {
    id: revision.id,
    label: `${shortId(revision.id)} ${revision.message ?? "(no message)"}`,
    description: marks.join(" · "),
    tooltip: tooltipOf(revision, state),
    state,
    icon: iconOf(revision, state),
    contextValue: `revision ${state}`,
    uri: revision.uri,
  };
}

function stateOf(revision: Revision): RevisionState {
  if (revision.isCurrent) return "current";
  if (revision.applied === null) return "unknown";
  return revision.applied ? "applied" : "pending";
}

function iconOf(revision: Revision, state: RevisionState): string {
  if (revision.isMerge) return "git-merge";
  if (revision.isBranchPoint) return "git-branch";
  return { current: "database", applied: "pass", pending: "circle-large-outline", unknown: "question" }[state];
}

function tooltipOf(revision: Revision, state: RevisionState): string {
  const lines = [`**${revision.message ?? "(no message)"}**`, "", `Revision \`${revision.id}\` — ${state}`];
  lines.push(
    revision.parents.length
      ? `Revises ${revision.parents.map((p) => `\`${p}\``).join(", ")}`
      : "Revises nothing (a base)",
  );
  if (revision.dependsOn.length) lines.push(`Depends on ${revision.dependsOn.map((p) => `\`${p}\``).join(", ")}`);
  if (revision.createDate) lines.push(`Created ${revision.createDate}`);
  // Two spaces before a newline are a markdown line break: one fact per line.
  return lines.join("  \n");
}

/** Revision ids from `target` down to the base: what stays applied after a downgrade to it. */
export function ancestorsOf(revisions: Revision[], target: string): Set<string> {
  const byId = new Map(revisions.map((r) => [r.id, r]));
  const seen = new Set<string>();
  const stack = [target];
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
    if (seen.has(id)) continue;
    seen.add(id);
    const revision = byId.get(id);
    if (revision) stack.push(...revision.parents, ...revision.dependsOn);
  }
  return seen;
}

/** The `FROM:TO` range whose offline SQL is this revision's upgrade alone (as the server's lens). */
export function ownRange(revision: Revision): string {
  const [first, ...others] = revision.parents;
  if (first === undefined) return `base:${revision.id}`;
  // A merge stands on all its parents: `<id>-1` steps down to all of them at once.
  return others.length ? `${revision.id}-1:${revision.id}` : `${first}:${revision.id}`;
}
