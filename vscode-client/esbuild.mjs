// Bundles the extension (dist/extension.js, Node) and the graph webview script
// (media/dist/graph.js, browser), and copies the Graphviz WebAssembly build the webview
// falls back to (media/dist/viz-global.js).
import { copyFile, mkdir } from "node:fs/promises";
import * as esbuild from "esbuild";

const production = process.argv.includes("--production");
const watch = process.argv.includes("--watch");
const common = { bundle: true, minify: production, sourcemap: !production, logLevel: "warning" };

const builds = [
  { ...common, entryPoints: ["src/extension.ts"], outfile: "dist/extension.js", platform: "node", format: "cjs", external: ["vscode"], target: "node20" },
  { ...common, entryPoints: ["webview/graph.ts"], outfile: "media/dist/graph.js", platform: "browser", format: "iife", target: "es2022" },
];

await mkdir("media/dist", { recursive: true });
await copyFile("node_modules/@viz-js/viz/dist/viz-global.js", "media/dist/viz-global.js");
if (watch) {
  for (const options of builds) {
    await (await esbuild.context(options)).watch();
  }
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
