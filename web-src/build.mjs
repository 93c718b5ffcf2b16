// Bundles the demo page (src/main.js, OpenLayers, proj4 and the page's CSS) into
// ../src/petacube/web/assets/, minified, so that the Python package ships it and the page
// loads nothing from the internet. build-info.json records a hash of the sources, which
// tests/web/test_bundle.py compares to catch a bundle that was not rebuilt.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, "..", "src", "petacube", "web", "assets");

/** The files whose content the bundle is made from, in a stable order. */
export function sourceFiles() {
  const src = readdirSync(join(here, "src")).sort().map((name) => join("src", name));
  return ["build.mjs", "package.json", "package-lock.json", ...src];
}

export function sourceHash() {
  const hash = createHash("sha256");
  for (const rel of sourceFiles()) {
    hash.update(rel + "\0");
    hash.update(readFileSync(join(here, rel)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: { app: join(here, "src", "main.js") },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outdir,
  legalComments: "linked",
  logLevel: "info",
});
// the bundle carries OpenLayers and proj4: ship their licences beside it
const licences = ["ol", "proj4"].map((name) => {
  const dir = join(here, "node_modules", name);
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  return `${name}\n${"=".repeat(name.length)}\n\n${readFileSync(join(dir, file), "utf8").trim()}\n`;
});
writeFileSync(join(outdir, "THIRD-PARTY-LICENSES.txt"), licences.join("\n\n"));
const lock = JSON.parse(readFileSync(join(here, "package-lock.json"), "utf8"));
const versions = Object.fromEntries(
  ["ol", "proj4", "esbuild"].map((name) => [name, lock.packages[`node_modules/${name}`]?.version]),
);
writeFileSync(
  join(outdir, "build-info.json"),
  JSON.stringify({ sources_sha256: sourceHash(), files: sourceFiles(), versions }, null, 2) + "\n",
);
