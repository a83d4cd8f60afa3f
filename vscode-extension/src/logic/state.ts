import type { ServerStatus } from "./protocol";

/** What the extension knows about one folder's server, for the status bar and its menu. */
export type ServerState =
  | { kind: "starting" }
  | { kind: "running"; status: ServerStatus | undefined } // undefined: not asked yet
  | { kind: "not-installed"; python: string }
  | { kind: "no-python"; python: string; reason: string }
  | { kind: "stopped"; reason: string };

/** The states in which the server could not start for a reason the user can fix. */
export const problemKinds: ReadonlySet<ServerState["kind"]> = new Set(["not-installed", "no-python"]);
