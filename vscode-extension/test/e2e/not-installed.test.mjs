// A Python without Distill: one notification that names the fix, with the button that
// installs it in a terminal, and a status bar that says so. No server crash loop.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { LONG, RUNS, openWorkbench, scenario } from "./harness.mjs";

const bare = path.join(RUNS, "python-without-distill");

scenario(
  "Distill not installed in the interpreter",
  () => {
    execFileSync("python3", ["-m", "venv", "--without-pip", bare]);
    return openWorkbench({ name: "not-installed", trust: true, python: path.join(bare, "bin", "python") });
  },
  [
    [
      "a notification offers to install it, the status bar says it is missing",
      async (bench) => {
        const toast = bench.page.locator(".notification-toast", { hasText: "Distill is not installed in" });
        await toast.waitFor({ timeout: LONG });
        await toast.locator(".monaco-button", { hasText: "Install Distill" }).waitFor();
        await bench.waitForStatus(/Distill not installed$/);
        await bench.screenshot("08-not-installed");
      },
    ],
    [
      '"Install Distill" runs pip in a terminal',
      async (bench) => {
        await bench.page
          .locator(".notification-toast", { hasText: "Distill is not installed in" })
          .locator(".monaco-button", { hasText: "Install Distill" })
          .click();
        await bench.page.locator(".part.panel", { hasText: "Install Distill" }).waitFor({ timeout: LONG });
        await bench.page.locator(".notification-toast", { hasText: "Restart Server" }).waitFor();
      },
    ],
  ],
);
