// What the destructive commands (downgrade, stamp) say before they run.
import { shortId, type Revision } from "./protocol";
import { ancestorsOf } from "./revisions";

export interface Confirmation {
  message: string;
  detail: string;
  button: string;
}

/** Applied revisions that downgrading to `target` reverts, newest first ("base": all). */
export function revertedBy(revisions: Revision[], target: string): Revision[] {
  const kept = target === "base" ? new Set<string>() : ancestorsOf(revisions, target);
  return revisions.filter((r) => (r.applied === true || r.isCurrent) && !kept.has(r.id));
}

export function downgradeConfirmation(reverted: Revision[], target: string, database: string): Confirmation {
  const to = target === "base" ? "base (nothing applied)" : shortId(target);
  // Per revision, what its downgrade() drops, as the server read it from the file.
  const lines = reverted.map((r) => {
    const head = `↓ ${shortId(r.id)} ${r.message ?? ""}`.trimEnd();
    return r.drops?.length ? `${head} — drops ${r.drops.join(", ")}` : head;
  });
  const known = reverted.every((r) => Array.isArray(r.drops));
  const warning = known
    ? reverted.some((r) => r.drops?.length)
      ? "\n\nWhat is dropped goes with its data."
      : ""
    : "\n\nTables and columns they created are dropped with their data.";
  return {
    message: `Downgrade ${database} to ${to}?`,
    detail:
      (lines.length
        ? `This runs the downgrade() of ${reverted.length === 1 ? "1 revision" : `${reverted.length} revisions`}:\n${lines.join("\n")}`
        : "No applied revision is reverted.") + warning,
    button: "Downgrade",
  };
}

export function stampConfirmation(target: string, current: string[] | null, database: string): Confirmation {
  const from = current === null ? "an unknown revision" : current.length ? current.map(shortId).join(", ") : "base";
  const to = ["base", "head", "heads"].includes(target) ? target : shortId(target);
  return {
    message: `Stamp ${database} as ${to}?`,
    detail:
      `This only rewrites the version table, from ${from} to ${to}: no migration runs and no ` +
      "table changes. Distill will then take the database's schema to be the one of that revision.",
    button: "Stamp",
  };
}

/**
 * The `FROM:TO` range whose offline SQL is this downgrade, when the server can show it:
 * from a single current revision (several would need one range each) to a revision
 * (the server's offline SQL does not go down to base).
 */
export function downgradeSqlRange(current: string[], target: string): string | undefined {
  const [from, ...others] = current;
  if (from === undefined || others.length || target === "base") return undefined;
  return `${from}:${target === "-1" ? `${from}-1` : target}`;
}
