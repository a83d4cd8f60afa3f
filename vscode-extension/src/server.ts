// One folder's language server: which Python runs it, starting and stopping it, and
// what it reports (its state, `distill/status`, `distill/revisions`, commands).
import * as os from "node:os";
import * as vscode from "vscode";
import {
  ExecuteCommandRequest,
  RevealOutputChannelOn,
  State,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";
import { DistillClient } from "./client";
import { failureMessage } from "./logic/failure";
import { resolveInterpreter, SERVER_ARGS, type Interpreter } from "./logic/interpreter";
import { initializationOptions } from "./logic/options";
import type { RevisionsResult, ServerCommand, ServerStatus } from "./logic/protocol";
import type { ServerState } from "./logic/state";
import { probeDistill } from "./probe";
import { pythonExtensionInterpreter } from "./python";
import { folderSettings } from "./settings";

/** The custom requests take no parameters, but pygls rejects a request without `params`. */
const NO_PARAMS = {};

const SOURCE_LABELS = { setting: "distill.interpreter", "python-extension": "the Python extension", default: "PATH" };

export class FolderServer implements vscode.Disposable {
  private client: DistillClient | undefined;
  private current: ServerState = { kind: "starting" };
  private readonly changed = new vscode.EventEmitter<FolderServer>();
  private refreshTimer: NodeJS.Timeout | undefined;
  /** Bumped by every start and stop, so a start that a restart overtook ends quietly. */
  private generation = 0;
  interpreter: Interpreter | undefined;
  /** Fired when the state or the server's status changes. */
  readonly onDidChange = this.changed.event;

  constructor(
    readonly folder: vscode.WorkspaceFolder,
    private readonly output: vscode.OutputChannel,
    /** A folder of ours with no Python package in it (see `start`). */
    private readonly safeCwd: string,
  ) {}

  get state(): ServerState {
    return this.current;
  }

  async start(): Promise<void> {
    const generation = ++this.generation;
    this.setState({ kind: "starting" });
    const settings = folderSettings(this.folder);
    const interpreter = resolveInterpreter(
      {
        setting: settings.interpreter,
        pythonExtension: settings.interpreter ? undefined : await pythonExtensionInterpreter(this.folder, this.output),
      },
      this.folder.uri.fsPath,
      os.homedir(),
    );
    this.interpreter = interpreter;
    const trusted = vscode.workspace.isTrusted;
    // The server's arguments keep its working directory off `sys.path` (SERVER_ARGS); an
    // untrusted workspace is not even its working directory. The server finds the project
    // from the workspace folder it is given, not from its working directory.
    const cwd = trusted ? this.folder.uri.fsPath : this.safeCwd;
    this.log(`Python: ${interpreter.command} (from ${SOURCE_LABELS[interpreter.source]})`);
    const probe = await probeDistill(interpreter.command, cwd);
    if (generation !== this.generation) return;
    if (probe.kind === "not-installed") return this.setState({ kind: "not-installed", python: interpreter.command });
    if (probe.kind === "no-python") {
      return this.setState({ kind: "no-python", python: interpreter.command, reason: probe.reason });
    }
    const serverOptions: ServerOptions = {
      command: interpreter.command,
      args: SERVER_ARGS,
      options: { cwd },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file", language: "python", pattern: `${this.folder.uri.fsPath}/**/*` }],
      workspaceFolder: this.folder,
      outputChannel: this.output,
      traceOutputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      // With the Python extension, Pylance or Jedi complete `op.` from Distill's typed `Operations`.
      initializationOptions: initializationOptions(
        settings,
        trusted,
        vscode.extensions.getExtension("ms-python.python") !== undefined,
      ),
      middleware: {
        // Every analysis publishes diagnostics: the moment to ask for the new status.
        handleDiagnostics: (uri, diagnostics, next) => {
          next(uri, diagnostics);
          this.refreshSoon();
        },
      },
    };
    const client = new DistillClient("distill", "Distill", serverOptions, clientOptions);
    this.client = client;
    // Also after the client restarts a server that crashed, which it does by itself.
    client.onDidChangeState((event) => {
      if (this.client !== client) return;
      if (event.newState === State.Running) {
        this.setState({ kind: "running", status: undefined });
        this.refreshSoon(0);
      } else if (event.newState === State.Stopped) {
        this.setState({ kind: "stopped", reason: "it exited; the Distill output has its log" });
      }
    });
    try {
      await client.start();
    } catch (error) {
      if (this.client === client) this.setState({ kind: "stopped", reason: messageOf(error) });
    }
  }

  async stop(): Promise<void> {
    this.generation++;
    clearTimeout(this.refreshTimer);
    const client = this.client;
    this.client = undefined;
    if (client?.isRunning()) {
      await client.stop(3000).catch((error: unknown) => this.log(`stopping the server: ${messageOf(error)}`));
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Ask for `distill/status` shortly: bursts of diagnostics make one request. */
  refreshSoon(delayMs = 150): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refreshStatus(), delayMs);
  }

  private async refreshStatus(): Promise<void> {
    const client = this.client;
    if (client === undefined || !client.isRunning()) return;
    try {
      const status = await client.sendRequest<ServerStatus>("distill/status", NO_PARAMS);
      if (this.client === client) this.setState({ kind: "running", status });
    } catch (error) {
      this.log(`distill/status failed: ${messageOf(error)}`);
    }
  }

  /** `workspace/executeCommand`; rejects with the server's one-line message on a user error. */
  async execute<T>(command: ServerCommand, args: unknown[] = []): Promise<T> {
    const result: unknown = await this.runningClient().sendRequest(ExecuteCommandRequest.type, {
      command,
      arguments: args,
    });
    this.refreshSoon();
    return result as T;
  }

  /** The name of the model changes ("add customers.phone"), to propose as a message. */
  async proposedMessage(): Promise<string | null> {
    const answer = await this.runningClient().sendRequest<{ message: string | null }>(
      "distill/proposedMessage",
      NO_PARAMS,
    );
    return answer.message;
  }

  revisions(): Promise<RevisionsResult> {
    return this.runningClient().sendRequest<RevisionsResult>("distill/revisions", NO_PARAMS);
  }

  private runningClient(): DistillClient {
    const client = this.client;
    if (client === undefined || !client.isRunning()) {
      throw new Error(`Distill is not running for ${this.folder.name}: run "Distill: Restart Server".`);
    }
    return client;
  }

  private setState(state: ServerState): void {
    if (JSON.stringify(state) === JSON.stringify(this.current)) return;
    this.current = state;
    this.changed.fire(this);
  }

  private log(line: string): void {
    this.output.appendLine(`[${this.folder.name}] ${line}`);
  }

  dispose(): void {
    void this.stop();
    this.changed.dispose();
  }
}

export function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return failureMessage(error.message, (error as { data?: unknown }).data);
}
