// Restricted mode: with workspace trust on and the folder not trusted, the server
// starts in its no-execution mode: no model is imported, no squiggle, and the status
// bar says why.
import assert from "node:assert/strict";
import { markImports, modelsWereImported, openWorkbench, scenario } from "./harness.mjs";

scenario("untrusted workspace", () => openWorkbench({ name: "untrusted", trust: false, prepare: markImports }), [
  [
    "the status bar says why Distill is off",
    async (bench) => {
      await bench.openFile("models.py");
      await bench.waitForStatus(/Distill off: untrusted workspace$/);
      await bench.statusItem().hover();
      await bench.page.locator(".monaco-hover", { hasText: "not trusted" }).first().waitFor();
    },
  ],
  [
    "no squiggle, and the models were never imported",
    async (bench) => {
      // Long enough for a trusted server to have analysed (it takes ~2 s here).
      await bench.page.waitForTimeout(4000);
      assert.deepEqual(await bench.squiggleLines("warning"), []);
      assert.deepEqual(await bench.squiggleLines("error"), []);
      assert.equal(modelsWereImported(bench.workspace), false, "user code ran");
      await bench.statusItem().hover();
      await bench.page.locator(".monaco-hover", { hasText: "not trusted" }).first().waitFor();
      await bench.screenshot("07-untrusted");
    },
  ],
]);
