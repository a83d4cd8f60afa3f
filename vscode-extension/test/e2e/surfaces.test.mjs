// The editor's other surfaces, on the example at base (3 revisions pending, SQLite): the
// lenses follow the revision's state, Show SQL writes the rebuild without a database,
// `op.` completes with docstrings, the hover card on a model, the revision graph.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { LONG, openWorkbench, scenario } from "./harness.mjs";

const EMAIL_LINE = 20; // email: Mapped[str | None] = ...
const THIRD = "3c4d5e6f7081_add_customer_email.py";
// A revision whose SQLite rebuild no offline copy can know: its table was made by hand.
const LEGACY = "4d5e6f708192_legacy.py";
const LEGACY_TEXT = `"""legacy

Revision ID: 4d5e6f708192
"""
from distill import op

revision = "4d5e6f708192"
down_revision = "3c4d5e6f7081"
branch_labels = None
depends_on = None


def upgrade():
    op.create_unique_constraint("uq_legacy_n", "legacy_totals", ["n"])


def downgrade():
    pass
`;

scenario(
  "lenses, Show SQL, completion, hover card, revision graph (trusted workspace)",
  () => openWorkbench({ name: "surfaces", trust: true }),
  [
    [
      "the lens on a revision not applied offers no downgrade",
      async (bench) => {
        await bench.openFile("models.py");
        await bench.waitForStatus(/base · 3 pending$/);
        await bench.openFile(THIRD);
        const lenses = lensTexts(bench);
        await bench.waitFor(async () => (await lenses()).includes("Show SQL"), "the code lens");
        const shown = await lenses();
        assert.ok(shown.includes("Upgrade to here"), shown.join(" | "));
        assert.ok(!shown.some((text) => text.startsWith("Downgrade")), shown.join(" | "));
        await bench.screenshot("09-lens-not-applied");
      },
    ],
    [
      "Show SQL opens an SQL editor with SQLite's table rebuild, no database needed",
      async (bench) => {
        await bench.page.locator(".codelens-decoration a", { hasText: "Show SQL" }).first().click();
        const sqlEditor = bench.page.locator(".monaco-editor .view-lines", { hasText: "_distill_tmp_customers" });
        await sqlEditor.first().waitFor({ timeout: LONG });
        const text = plain(await sqlEditor.first().innerText());
        assert.match(text, /CONSTRAINT uq_customers_email UNIQUE \(email\)/);
        assert.match(text, /ALTER TABLE _distill_tmp_customers RENAME TO customers/);
        await bench.screenshot("10-show-sql-offline");
        await revertAndClose(bench);
      },
    ],
    [
      "SQL that cannot be written offline is the one-line error, at once",
      async (bench) => {
        const file = path.join(bench.workspace, "migrations", "versions", LEGACY);
        writeFileSync(file, LEGACY_TEXT);
        try {
          // Quick open finds a new file only once the file watcher has reported it.
          await bench.page
            .locator(".explorer-folders-view .monaco-list-row", { hasText: LEGACY })
            .waitFor({ timeout: LONG });
          await bench.openFile(LEGACY);
          const lens = bench.page.locator(".codelens-decoration a", { hasText: "Show SQL" }).first();
          await lens.waitFor({ timeout: LONG });
          const started = Date.now();
          await lens.click();
          // (The analysis says too that this history cannot be replayed: another notification.)
          const toast = bench.page.locator(".notifications-toasts .notification-list-item", {
            hasText: "with --sql Distill knows the tables the revisions create",
          });
          await toast.first().waitFor({ timeout: LONG });
          const said = plain(await toast.first().innerText());
          assert.match(said, /upgrade of revision 4d5e6f708192 .*table 'legacy_totals' does not exist/);
          assert.match(said, /copy_from=sa\.Table\(\.\.\.\)/);
          console.log(`the error showed ${Date.now() - started} ms after the click`);
          await bench.screenshot("10b-show-sql-error");
          await bench.runCommand("Notifications: Clear All Notifications");
          await bench.page.locator(".quick-input-widget").waitFor({ state: "hidden" });
          await revertAndClose(bench);
        } finally {
          rmSync(file);
        }
      },
    ],
    [
      "completion after op. lists add_column with its docstring",
      async (bench) => {
        await bench.openFile(THIRD);
        await bench.page.keyboard.press("Control+End");
        await bench.page.keyboard.press("Enter");
        await bench.page.keyboard.type("    op.add_co");
        const item = bench.page.locator(".suggest-widget .monaco-list-row", { hasText: "add_column" });
        await bench.waitFor(async () => {
          if (!(await item.isVisible())) await bench.page.keyboard.press("Control+Space");
          await item.first().waitFor({ timeout: 3000 }).catch(() => {});
          return item.first().isVisible();
        }, "add_column in the suggestions");
        const details = bench.page.locator(".suggest-details", { hasText: "Add a column" });
        await bench.waitFor(async () => {
          if (!(await details.isVisible())) await bench.page.keyboard.press("Control+Space"); // toggles details
          await details.waitFor({ timeout: 3000 }).catch(() => {});
          return details.isVisible();
        }, "the docstring beside the suggestion");
        await bench.screenshot("11-op-completion");
        await bench.page.keyboard.press("Escape");
        await revertAndClose(bench);
      },
    ],
    [
      "hover on a model column shows the card",
      async (bench) => {
        await bench.openFile("models.py");
        await bench.goToLine(EMAIL_LINE);
        const line = bench.page.locator(".monaco-editor .view-line", { hasText: "email: Mapped" }).first();
        // The card of the analysis after the legacy revision went: 3 revisions behind again.
        const card = bench.page.locator(".monaco-hover", { hasText: "3 revision(s) behind head" });
        await bench.waitFor(async () => {
          await line.hover({ position: { x: 20, y: 5 } });
          await card.first().waitFor({ timeout: 3000 }).catch(() => {});
          return card.first().isVisible();
        }, "the hover card");
        const text = plain(await card.first().innerText());
        assert.match(text, /VARCHAR\(255\)/);
        assert.match(text, /created by 3c4d5e6 add customer email/);
        assert.match(text, /at base, 3 revision\(s\) behind head/);
        await bench.screenshot("12-hover-card");
        await bench.page.keyboard.press("Escape");
      },
    ],
    [
      "the revision graph shows each revision's state, badges and actions",
      async (bench) => {
        await bench.runCommand("Distill: Show Revision Graph");
        const view = bench.page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");
        const rows = view.locator(".row");
        await bench.waitFor(async () => (await rows.count()) === 3, "3 revisions in the graph", LONG);
        const first = await rows.first().innerText();
        assert.match(first, /3c4d5e6 add customer email/);
        assert.match(first, /head/);
        assert.match(first, /pending/);
        assert.match(first, /Upgrade to here/);
        assert.doesNotMatch(first, /Downgrade/);
        assert.equal(await view.locator("circle.node.pending").count(), 3);
        await bench.screenshot("13-revision-graph");
        // Its action runs the upgrade, and the graph follows the new state.
        await rows.nth(1).locator("button", { hasText: "Upgrade to here" }).click();
        await bench.waitFor(async () => (await view.locator(".badge.current").count()) === 1, "a current badge");
        const second = await rows.nth(1).innerText();
        assert.match(second, /current/);
        assert.match(await rows.nth(2).innerText(), /Downgrade to here/);
        await bench.waitForStatus(/2b3c4d5 · 1 pending$/);
        await bench.screenshot("14-revision-graph-upgraded");
      },
    ],
  ],
);

async function revertAndClose(bench) {
  await bench.runCommand("View: Revert and Close Editor");
  // Keys pressed while the palette closes would reach it, not the workbench.
  await bench.page.locator(".quick-input-widget").waitFor({ state: "hidden" });
}

/** The editor renders spaces as non-breaking ones. */
function plain(text) {
  return text.replace(/\u00a0/g, " ");
}

function lensTexts(bench) {
  return async () =>
    (await bench.page.locator(".codelens-decoration a").allInnerTexts()).map((text) => text.trim());
}
