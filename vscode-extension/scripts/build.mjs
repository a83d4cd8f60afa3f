// Bundles the extension (dist/extension.js) or, with --unit, the unit tests (dist-test/).
//   node scripts/build.mjs [--production] [--unit]
import { readdirSync } from "node:fs";
import { build } from "esbuild";

const production = process.argv.includes("--production");
const common = { bundle: true, platform: "node", format: "cjs", target: "node18", logLevel: "warning" };

if (process.argv.includes("--unit")) {
  const tests = readdirSync("test/unit").filter((name) => name.endsWith(".test.ts"));
  await build({ ...common, entryPoints: tests.map((name) => `test/unit/${name}`), outdir: "dist-test" });
} else {
  await build({
    ...common,
    entryPoints: ["src/extension.ts"],
    outfile: "dist/extension.js",
    external: ["vscode"], // provided by VS Code at run time
    minify: production,
    sourcemap: !production,
  });
}
