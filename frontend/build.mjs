// Builds the cockpit's Apache ECharts modules into src/edubrain/cockpit/static/vendor/:
// charts.<hash>.js (bars, lines), map.<hash>.js (geo, scatter) and the chunk they share, each
// with a .gz twin, and manifest.json (entry → file, with the chunks to preload).
//   cd frontend && npm ci && npm run build
// Commit the output: the Python package serves it and Node is not needed at run time. The hash
// in each name lets the server cache the files for a year.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const here = import.meta.dirname;
const out = join(here, "..", "src", "edubrain", "cockpit", "static", "vendor");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await esbuild.build({
  entryPoints: { charts: join(here, "charts.js"), map: join(here, "map.js") },
  bundle: true,
  splitting: true,
  format: "esm",
  minify: true,
  target: "es2020",
  legalComments: "none",
  banner: { js: "/*! Apache ECharts 6 (Apache-2.0), custom build for edubrain */" },
  define: { "process.env.NODE_ENV": '"production"' },
  entryNames: "[name].[hash]",
  chunkNames: "echarts-core.[hash]",
  outdir: out,
  metafile: true,
  write: true,
});
const manifest = {};
for (const [file, meta] of Object.entries(result.metafile.outputs)) {
  if (!meta.entryPoint) continue;
  const name = basename(meta.entryPoint, ".js");
  manifest[name] = {
    file: basename(file),
    preload: meta.imports.filter((i) => i.kind === "import-statement").map((i) => basename(i.path)),
  };
}
for (const name of readdirSync(out)) {
  const body = readFileSync(join(out, name));
  writeFileSync(join(out, `${name}.gz`), gzipSync(body, { level: 9 }));
  console.log(`${name}: ${body.length} bytes, gzip ${gzipSync(body, { level: 9 }).length}`);
}
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
// The licences travel with the code: ECharts (Apache-2.0, with its NOTICE) and zrender (BSD-3).
const notices = [
  ["echarts", "LICENSE"],
  ["echarts", "NOTICE"],
  ["zrender", "LICENSE"],
].map(([pkg, file]) => `==== ${pkg}/${file} ====\n` + readFileSync(join(here, "node_modules", pkg, file), "utf8"));
writeFileSync(join(out, "LICENSES.txt"), notices.join("\n"));
