// The server's initialization options (docs/language-server.md, "Settings").

export interface FolderSettings {
  interpreter: string | undefined;
  databaseUrl: string | undefined;
  debounceMs: number;
  timeout: number;
  confirmDestructive: boolean;
  inlayHints: boolean;
}

export interface InitializationOptions {
  trusted: boolean;
  debounceMs: number;
  timeout: number;
  inlayHints: boolean;
  /** The extension asks before a downgrade or a stamp itself (distill.confirmDestructive). */
  clientConfirms: boolean;
  /** `op.` completion from Distill: off where a Python language server (Pylance, Jedi) gives it. */
  opCompletion: boolean;
  databaseUrl?: string;
}

export function initializationOptions(
  settings: FolderSettings,
  trusted: boolean,
  pythonLanguageServer = false,
): InitializationOptions {
  const options: InitializationOptions = {
    trusted,
    debounceMs: Math.max(0, Math.round(settings.debounceMs)),
    timeout: Math.max(1, settings.timeout),
    inlayHints: settings.inlayHints,
    clientConfirms: true,
    opCompletion: !pythonLanguageServer,
  };
  const url = settings.databaseUrl?.trim();
  if (url) options.databaseUrl = url;
  return options;
}
