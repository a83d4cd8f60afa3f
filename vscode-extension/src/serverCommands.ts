// The server's own command ids (`distill.upgrade`, …), which its quick fixes and code
// lenses invoke. Registered once for the window (see client.ts) and sent to the server
// of the active editor's folder, through the same flows as the palette: a downgrade
// from a lens asks for confirmation, Show SQL opens an editor.
import * as vscode from "vscode";
import type { Servers } from "./folders";
import { SERVER_COMMANDS, type ServerCommand } from "./logic/protocol";
import * as ops from "./operations";
import type { FolderServer } from "./server";
import { guarded } from "./ui";

type Handler = (server: FolderServer, args: unknown[]) => Promise<unknown>;

type Handlers = Partial<Record<ServerCommand, Handler>>;

const HANDLERS: Handlers = {
  "distill.upgrade": (server, [target]) => ops.upgrade(server, stringOr(target, "head")),
  "distill.downgrade": (server, [target]) => ops.downgrade(server, stringOr(target, "-1")),
  "distill.stamp": (server, [target]) => ops.stamp(server, stringOr(target, "head")),
  "distill.revision": (server, [options]) => ops.newRevision(server, (options ?? {}) as ops.RevisionOptions),
  "distill.showSql": (server, [range]) => ops.showSql(server, stringOr(range, "head")),
  "distill.keepDatabaseChange": (server) => ops.keepDatabaseChange(server),
};

export function registerServerCommands(servers: Servers, output: vscode.OutputChannel): vscode.Disposable[] {
  // "Show what differs", the quick fix on a change made by hand: the check's lines, shown.
  const handlers: Handlers = { ...HANDLERS, "distill.check": (server) => ops.checkDrift(server, output) };
  return SERVER_COMMANDS.map((command) =>
    vscode.commands.registerCommand(command, (...args: unknown[]) =>
      guarded(async () => {
        const server = servers.active();
        if (server === undefined) throw new Error(`open a file of the project to run ${command}`);
        const handler = handlers[command];
        // The others (merge, ignoreTable, …) have nothing to show: pass them through.
        return handler ? handler(server, args) : server.execute(command, args);
      }),
    ),
  );
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" && value ? value : fallback;
}
