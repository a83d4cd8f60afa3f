import type { Revision, ServerStatus } from "../../src/logic/protocol";

export function status(overrides: Partial<ServerStatus> = {}): ServerStatus {
  return {
    project: "/work/shop",
    trusted: true,
    current: ["3c4d5e6f7081"],
    heads: ["3c4d5e6f7081"],
    pending: 0,
    drift: 0,
    databaseReachable: true,
    lastError: null,
    ...overrides,
  };
}

export function revision(id: string, parents: string[], overrides: Partial<Revision> = {}): Revision {
  return {
    id,
    message: `message of ${id}`,
    parents,
    dependsOn: [],
    branchLabels: [],
    createDate: "2026-11-23 10:00:00",
    uri: `file:///work/shop/migrations/versions/${id}.py`,
    isHead: false,
    applied: true,
    isCurrent: false,
    isMerge: parents.length > 1,
    isBranchPoint: false,
    ...overrides,
  };
}

/** The example project's three revisions, newest first, the database at `current`. */
export function shop(current: "1a2b3c4d5e6f" | "2b3c4d5e6f70" | "3c4d5e6f7081" | "base"): Revision[] {
  const ids = ["3c4d5e6f7081", "2b3c4d5e6f70", "1a2b3c4d5e6f"];
  const at = ids.indexOf(current);
  return ids.map((id, index) =>
    revision(id, index + 1 < ids.length ? [ids[index + 1]!] : [], {
      isHead: index === 0,
      applied: at !== -1 && index >= at,
      isCurrent: index === at,
    }),
  );
}
