// A real VS Code (code-server) in headless Chromium, driven like a person would:
// keyboard, quick open, command palette. See shared/E2E-VSCODE.md for the set-up.
import { spawn } from "node:child_process";
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the e2e tests through scripts/e2e.sh`);
  return value;
};
export const CACHE = env("DISTILL_E2E_CACHE");
export const PYTHON = env("DISTILL_E2E_PYTHON");
export const RUNS = env("DISTILL_E2E_RUNS");
const EXTENSIONS = env("DISTILL_E2E_EXTENSIONS");
const EXAMPLE = env("DISTILL_E2E_EXAMPLE");
const IMAGES = env("DISTILL_E2E_IMAGES");
const NODE = env("DISTILL_E2E_NODE");
const CHROMIUM = process.env.DISTILL_E2E_CHROMIUM ?? "/usr/bin/chromium";
const TOOLS = path.join(CACHE, "code-server", "node_modules");
const { chromium } = createRequire(path.join(TOOLS, "noop.js"))("playwright-core");

/** Waits for a status bar, a squiggle, a tree: the first server start imports SQLAlchemy. */
export const LONG = 90_000;

/**
 * Starts code-server on a copy of the example project and opens it in Chromium.
 * `trust`: false runs with workspace trust enabled, so the folder opens untrusted.
 * `python`: the `distill.interpreter` setting (default: the Python with Distill).
 */
export async function openWorkbench({ name, trust, python = PYTHON, prepare = () => {} }) {
  const run = path.join(RUNS, name);
  rmSync(run, { recursive: true, force: true });
  const dirs = Object.fromEntries(["home", "tmp", "config", "data", "user-data"].map((d) => [d, path.join(run, d)]));
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const workspace = path.join(run, "shop");
  cpSync(EXAMPLE, workspace, { recursive: true, filter: (src) => !/(\.db|__pycache__|\.ruff_cache)$/.test(src) });
  prepare(workspace);
  mkdirSync(path.join(dirs["user-data"], "User"), { recursive: true });
  writeFileSync(
    path.join(dirs["user-data"], "User", "settings.json"),
    JSON.stringify(userSettings(trust, python), null, 2),
  );

  const port = await freePort();
  const childEnv = {
    ...process.env,
    HOME: dirs.home,
    TMPDIR: dirs.tmp,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    NODE_DISABLE_COMPILE_CACHE: "1",
    EXTENSIONS_GALLERY: "{}", // no marketplace look-ups
    PATH: `${path.dirname(NODE)}:${process.env.PATH}`,
  };
  const args = [
    path.join(TOOLS, "code-server", "out", "node", "entry.js"),
    "--auth",
    "none",
    "--bind-addr",
    `127.0.0.1:${port}`,
    "--disable-telemetry",
    "--disable-update-check",
    "--ignore-last-opened",
    "--user-data-dir",
    dirs["user-data"],
    "--extensions-dir",
    EXTENSIONS,
    ...(trust ? ["--disable-workspace-trust"] : []),
  ];
  // Its own process group, so that closing ends the server and everything it started.
  const server = spawn(NODE, args, { env: childEnv, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let serverLog = "";
  server.stdout.on("data", (chunk) => (serverLog += chunk));
  server.stderr.on("data", (chunk) => (serverLog += chunk));
  await waitForHealth(port, () => serverLog);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    env: childEnv,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator(".monaco-workbench").waitFor({ timeout: LONG });

  const workbench = new Workbench(page, workspace, dirs["user-data"]);
  workbench.close = async () => {
    await browser.close().catch(() => {});
    try {
      process.kill(-server.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  return workbench;
}

function userSettings(trust, python) {
  return {
    "distill.interpreter": python, // the ms-python extension is not installed: the fallback
    "security.workspace.trust.enabled": !trust,
    "security.workspace.trust.startupPrompt": "never",
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "extensions.ignoreRecommendations": true,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "window.menuBarVisibility": "compact",
    "chat.disableAIFeatures": true,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    // Typing must give exactly the text typed: no suggestions, no auto-closing.
    "editor.quickSuggestions": { other: false, comments: false, strings: false },
    "editor.suggestOnTriggerCharacters": false,
    "editor.autoClosingBrackets": "never",
    "editor.autoClosingQuotes": "never",
    "editor.minimap.enabled": false,
    "editor.fontSize": 14,
  };
}

/**
 * The example's package leaves a file beside the workspace when imported: proof that
 * the models ran (outside the workspace, so that the pictures do not show it).
 */
export function markImports(workspace) {
  appendFileSync(
    path.join(workspace, "shop", "__init__.py"),
    '\nimport pathlib\n\npathlib.Path(__file__).resolve().parents[2].joinpath("IMPORTED").touch()\n',
  );
}

export function modelsWereImported(workspace) {
  return existsSync(path.join(workspace, "..", "IMPORTED"));
}

export class Workbench {
  constructor(page, workspace, userData) {
    this.page = page;
    this.workspace = workspace;
    this.userData = userData;
  }

  /** Opens a file by name through quick open (Ctrl+P). */
  async openFile(name) {
    const row = this.page.locator(".quick-input-list .monaco-list-row.focused", { hasText: name });
    // Quick open keeps its own list of the workspace's files, refreshed a moment after the
    // file watcher reports a new file (the explorer may show it first): ask again.
    for (let attempt = 1; ; attempt++) {
      await this.page.keyboard.press("Control+P");
      const input = this.page.locator(".quick-input-widget input");
      await input.waitFor();
      await input.fill(name);
      // The list updates after the text: Enter before that would open the old first entry.
      try {
        await row.waitFor({ timeout: attempt < 6 ? 5000 : LONG });
        break;
      } catch (error) {
        if (attempt >= 6) throw error;
        await this.page.keyboard.press("Escape");
        await this.page.waitForTimeout(1000);
      }
    }
    await this.page.keyboard.press("Enter");
    await this.page.locator(`.tab.active[aria-label^="${name}"]`).first().waitFor({ timeout: LONG });
    await this.page.locator(".monaco-editor .view-lines").first().waitFor();
  }

  /** Runs a command from the palette by its full title, e.g. "Distill: Upgrade to Head". */
  async runCommand(title) {
    await this.page.keyboard.press("Control+Shift+P");
    const input = this.page.locator(".quick-input-widget input");
    await input.waitFor();
    await input.fill(`>${title}`);
    await this.page
      .locator(".quick-input-list .monaco-list-row", { hasText: title })
      .first()
      .waitFor({ timeout: LONG });
    await this.page.keyboard.press("Enter");
  }

  async goToLine(line) {
    await this.page.keyboard.press("Control+G");
    const input = this.page.locator(".quick-input-widget input");
    await input.waitFor();
    await input.fill(`:${line}`); // the box opens with ":" (go to line); fill replaces it
    await this.page.keyboard.press("Enter");
    // Keys pressed before the box has closed would go to it, not to the editor.
    await this.page.locator(".quick-input-widget").waitFor({ state: "hidden" });
  }

  statusItem() {
    return this.page.locator('.statusbar-item[id$="distill.status"]');
  }

  async waitForStatus(pattern, timeout = LONG) {
    const item = this.statusItem();
    await item.waitFor({ timeout });
    const deadline = Date.now() + timeout;
    let text = "";
    while (Date.now() < deadline) {
      text = ((await item.textContent()) ?? "").trim();
      if (pattern.test(text)) return text;
      await this.page.waitForTimeout(250);
    }
    throw new Error(`status bar still says "${text}", not ${pattern}`);
  }

  /** 1-based line numbers that carry a squiggle of `severity` in the active editor. */
  async squiggleLines(severity) {
    return this.page.evaluate((cls) => {
      const editor = document.querySelector(".editor-group-container.active .monaco-editor");
      if (!editor) return [];
      const numbers = new Map();
      for (const line of editor.querySelectorAll(".margin-view-overlays > div")) {
        numbers.set(line.style.top, Number(line.querySelector(".line-numbers")?.textContent));
      }
      return [...editor.querySelectorAll(`.view-overlays .${cls}`)].map((s) => numbers.get(s.parentElement.style.top));
    }, `squiggly-${severity}`);
  }

  async waitFor(predicate, what, timeout = LONG) {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      if (await predicate()) return;
      await this.page.waitForTimeout(250);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  /** A documentation picture, under vscode-extension/images/. */
  async screenshot(name) {
    await this.page.waitForTimeout(300); // let the last paint land
    await this.page.screenshot({ path: path.join(IMAGES, `${name}.png`) });
  }

  /** The extension host's log and the output channels, for a failure's report. */
  logs() {
    const logs = path.join(this.userData, "logs");
    if (!existsSync(logs)) return "(no logs)";
    const found = [];
    const walk = (dir) => {
      for (const entry of readdirSync(dir)) {
        const full = path.join(dir, entry);
        if (statSync(full).isDirectory()) walk(full);
        else if (/exthost\.log$|output_logging_.*\.log$|\d-Distill\.log$/.test(full)) found.push(full);
      }
    };
    walk(logs);
    return found.map((file) => `==> ${file}\n${readFileSync(file, "utf8").slice(-6000)}`).join("\n");
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitForHealth(port, log) {
  const deadline = Date.now() + LONG;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not start:\n${log()}`);
}

/**
 * One scenario: a workbench opened before the steps and closed after them. The steps
 * run in order; after one fails the rest are skipped (they would only time out), and
 * the failure's screenshot and logs are kept.
 */
export function scenario(title, open, steps) {
  describe(title, () => {
    let bench;
    let failed = false;
    before(async () => {
      bench = await open();
    });
    after(async () => {
      await bench?.close();
    });
    for (const [name, step] of steps) {
      test(name, async (t) => {
        if (failed || !bench) return t.skip("an earlier step failed");
        try {
          await step(bench);
        } catch (error) {
          failed = true;
          await bench.page.screenshot({ path: path.join(RUNS, `failure-${Date.now()}.png`) }).catch(() => {});
          console.error(bench.logs());
          throw error;
        }
      });
    }
  });
}
