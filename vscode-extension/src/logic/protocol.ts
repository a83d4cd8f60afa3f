// The shapes of what the Distill language server returns (docs/language-server.md,
// "Commands and requests"). Kept here, free of `vscode`, so the logic that reads
// them can be unit-tested.

/** `distill/status` */
export interface ServerStatus {
  project: string | null;
  trusted: boolean;
  current: string[] | null; // null: the database's revision could not be read
  heads: string[];
  pending: number;
  drift: number;
  /** Database changes made by hand (not model drift: no new revision would hold them). */
  handMade?: number;
  databaseReachable: boolean;
  lastError: string | null;
}

/** One entry of `distill/revisions`, newest first. */
export interface Revision {
  id: string;
  message: string | null;
  parents: string[];
  dependsOn: string[];
  branchLabels: string[];
  createDate: string | null;
  uri: string | null;
  isHead: boolean;
  applied: boolean | null; // null: the database could not be read
  isCurrent: boolean;
  isMerge: boolean;
  isBranchPoint: boolean;
  /** What its downgrade() drops ("table orders", "column customers.email"), for applied ones. */
  drops?: string[] | null;
}

/** `distill/revisions` */
export interface RevisionsResult {
  revisions: Revision[];
  current: string[];
  heads: string[];
  error?: string;
}

/** `distill.upgrade` / `distill.downgrade` */
export interface RunResult {
  before?: string[];
  after?: string[];
  steps?: string[];
}

/** `distill.revision` / `distill.merge` */
export interface NewFileResult {
  path: string;
  uri: string | null;
  notes?: string[];
}

/** `distill.current` */
export interface CurrentResult {
  current: { id: string; isHead: boolean; message: string | null }[];
}

/** `distill.check` */
export interface CheckResult {
  ok: boolean;
  database: string;
  lines: string[];
}

/** `distill.showSql` */
export interface SqlResult {
  sql: string;
}

/** The commands the server executes (`workspace/executeCommand`). */
export const SERVER_COMMANDS = [
  "distill.upgrade",
  "distill.downgrade",
  "distill.stamp",
  "distill.revision",
  "distill.merge",
  "distill.current",
  "distill.heads",
  "distill.history",
  "distill.showSql",
  "distill.check",
  "distill.ignoreTable",
  "distill.keepDatabaseChange",
] as const;
export type ServerCommand = (typeof SERVER_COMMANDS)[number];

export function shortId(id: string): string {
  return id.slice(0, 7);
}
