// The status bar item and its quick pick, computed from the server's state.
import { shortId, type ServerStatus } from "./protocol";
import type { ServerState } from "./state";

export interface StatusView {
  text: string;
  tooltip: string;
  /** Shown in the warning colour: something needs the user's action. */
  needsAction: boolean;
}

export function statusView(state: ServerState, folder: string): StatusView {
  switch (state.kind) {
    case "starting":
      return view("$(sync~spin) Distill", `Distill (${folder}): starting the language server`);
    case "not-installed":
      return view(
        "$(warning) Distill not installed",
        `Distill is not installed in ${state.python}. Click to install it.`,
        true,
      );
    case "no-python":
      return view("$(warning) Distill: no Python", state.reason, true);
    case "stopped":
      return view("$(error) Distill stopped", `The Distill server stopped: ${state.reason}`, true);
    case "running":
      return state.status === undefined
        ? view("$(database) Distill", `Distill (${folder}): analysing…`)
        : runningView(state.status, folder);
  }
}

function runningView(status: ServerStatus, folder: string): StatusView {
  if (!status.trusted) {
    // The server starts without importing or running anything: say why here, where
    // the user looks, not only in the Problems panel.
    return view(
      "$(shield) Distill off: untrusted workspace",
      status.lastError ?? "This workspace is not trusted, so Distill imports and runs nothing.",
    );
  }
  if (status.project === null) {
    return view(
      "$(database) Distill: no settings",
      status.lastError ?? `No Distill settings in ${folder}: add [tool.distill] to pyproject.toml or a distill.toml.`,
      true,
    );
  }
  const parts = stateParts(status);
  const needsAction = parts.length > 0;
  const text = `$(database) ${currentLabel(status.current)} · ${needsAction ? parts.join(" · ") : "up to date"}`;
  return view(text, tooltipLines(status, folder).join("\n"), needsAction);
}

function stateParts(status: ServerStatus): string[] {
  const parts: string[] = [];
  if (status.current === null) parts.push("no database");
  if (status.pending > 0) parts.push(`${status.pending} pending`);
  if (status.drift > 0) parts.push(`drift ${status.drift}`);
  if ((status.handMade ?? 0) > 0) parts.push(`${status.handMade} changed by hand`);
  if (status.heads.length > 1) parts.push(`${status.heads.length} heads`);
  if (status.lastError !== null && status.databaseReachable) parts.push("error");
  return parts;
}

export function currentLabel(current: string[] | null): string {
  if (current === null) return "?";
  if (current.length === 0) return "base";
  return current.map(shortId).join("+");
}

function tooltipLines(status: ServerStatus, folder: string): string[] {
  const lines = [`Distill — ${folder}`];
  lines.push(
    status.current === null
      ? "Database revision unknown (the database could not be read)"
      : `Database at ${status.current.length ? status.current.join(", ") : "base (nothing applied)"}`,
  );
  if (status.pending > 0) lines.push(plural(status.pending, "revision") + " not applied yet");
  if (status.drift > 0) lines.push(plural(status.drift, "model change") + " not in a migration");
  if ((status.handMade ?? 0) > 0) {
    lines.push(plural(status.handMade ?? 0, "change") + " made in the database by hand (not in its revision)");
  }
  if (status.heads.length > 1) lines.push(`${status.heads.length} heads: merge them`);
  if (status.lastError !== null) lines.push(status.lastError);
  lines.push("Click for actions");
  return lines;
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function view(text: string, tooltip: string, needsAction = false): StatusView {
  return { text, tooltip, needsAction };
}

/** One entry of the quick pick that clicking the status bar opens. */
export interface Action {
  command: string;
  label: string;
  description?: string;
}

const ACTION_LABELS = {
  "distill.upgradeToHead": "$(arrow-up) Upgrade to Head",
  "distill.newRevision": "$(new-file) New Revision",
  "distill.checkDrift": "$(checklist) Check Drift",
  "distill.mergeHeads": "$(git-merge) Merge Heads",
  "distill.showHistory": "$(history) Show History",
  "distill.showCurrent": "$(database) Show Current Revision",
  "distill.upgradeTo": "$(arrow-up) Upgrade to…",
  "distill.downgradeOne": "$(arrow-down) Downgrade One Revision",
  "distill.installDistill": "$(cloud-download) Install Distill",
  "distill.restartServer": "$(debug-restart) Restart Server",
  "distill.showLog": "$(output) Show Log",
  "workbench.trust.manage": "$(shield) Manage Workspace Trust",
} as const;
type ActionCommand = keyof typeof ACTION_LABELS;

/** The actions worth offering in this state, the ones that fix something first. */
export function statusActions(state: ServerState): Action[] {
  const pick = (command: ActionCommand, description?: string): Action => ({
    command,
    label: ACTION_LABELS[command],
    description,
  });
  switch (state.kind) {
    case "not-installed":
      return [pick("distill.installDistill", state.python), pick("distill.restartServer"), pick("distill.showLog")];
    case "starting":
    case "no-python":
    case "stopped":
      return [pick("distill.restartServer"), pick("distill.showLog")];
    case "running":
      break;
  }
  const status = state.status;
  if (status !== undefined && !status.trusted) {
    return [pick("workbench.trust.manage"), pick("distill.showLog")];
  }
  const actions: Action[] = [];
  if (status !== undefined) {
    if (status.pending > 0) actions.push(pick("distill.upgradeToHead", plural(status.pending, "revision")));
    if (status.drift > 0) {
      actions.push(pick("distill.newRevision", plural(status.drift, "model change")));
      actions.push(pick("distill.checkDrift"));
    } else if ((status.handMade ?? 0) > 0) {
      // A new revision would hold none of them: only what differs is worth offering.
      actions.push(pick("distill.checkDrift", plural(status.handMade ?? 0, "change") + " by hand"));
    }
    if (status.heads.length > 1) actions.push(pick("distill.mergeHeads", `${status.heads.length} heads`));
  }
  actions.push(
    pick("distill.showHistory"),
    pick("distill.showCurrent"),
    pick("distill.upgradeTo"),
    pick("distill.downgradeOne"),
    pick("distill.restartServer"),
    pick("distill.showLog"),
  );
  return actions;
}
