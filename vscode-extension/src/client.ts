import type { DynamicFeature, StaticFeature } from "vscode-languageclient";
import { LanguageClient } from "vscode-languageclient/node";

/**
 * A language client that leaves the server's commands (`executeCommandProvider`) to the
 * extension. The stock client registers each command id with VS Code, and the second
 * folder's client would fail on ids the first one took; `serverCommands` registers
 * them once and routes each call to the right folder's server.
 */
export class DistillClient extends LanguageClient {
  override registerFeature(feature: StaticFeature | DynamicFeature<unknown>): void {
    if ("registrationType" in feature && feature.registrationType.method === "workspace/executeCommand") return;
    super.registerFeature(feature);
  }
}
