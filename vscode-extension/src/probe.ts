import { execFile } from "node:child_process";
import { PROBE_DISTILL, PROBE_MISSING_EXIT } from "./logic/interpreter";

export type ProbeResult = { kind: "ok" } | { kind: "not-installed" } | { kind: "no-python"; reason: string };

/**
 * Whether `python` can run Distill, asked before the server starts: a missing package
 * then gets one notification with a fix instead of a server that dies at once and is
 * restarted over and over.
 */
export function probeDistill(python: string, cwd: string): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(python, ["-c", PROBE_DISTILL], { cwd, timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error === null) return resolve({ kind: "ok" });
      if (error.code === PROBE_MISSING_EXIT) return resolve({ kind: "not-installed" });
      const reason =
        error.code === "ENOENT"
          ? `The Python interpreter "${python}" was not found.`
          : `"${python}" could not run: ${(stderr.trim().split("\n").pop() ?? "") || error.message}`;
      resolve({ kind: "no-python", reason });
    });
  });
}
