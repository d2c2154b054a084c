// Prints how much JavaScript the home page loads, gzipped: the entry chunk,
// everything it imports statically, and the home route's own chunk with its
// imports (what a first visit to / downloads). Fails above the budget.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET = 200 * 1024;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const entry = html.match(/<script type="module"[^>]*src="\/([^"]+)"/)?.[1];
if (!entry) throw new Error("no module script in dist/index.html: run npm run build");

const seen = new Set();
function visit(file) {
  if (seen.has(file)) return;
  seen.add(file);
  const code = readFileSync(join(dist, file), "utf8");
  // Static imports between chunks: import … from "./x.js" and import "./x.js".
  for (const m of code.matchAll(/(?:from|import)\s*["'`]\.\/([\w.-]+\.js)["'`]/g)) visit(`assets/${m[1]}`);
}
visit(entry);
const code = readFileSync(join(dist, entry), "utf8");
const home = code.match(/\.\/(Home-[\w-]+\.js)/)?.[1];
if (home) visit(`assets/${home}`);

let total = 0;
for (const f of [...seen].sort()) {
  const gz = gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
  total += gz;
  console.log(`${(gz / 1024).toFixed(1).padStart(7)} kB  ${f}`);
}
console.log(`${(total / 1024).toFixed(1).padStart(7)} kB  home page JavaScript, gzipped (budget ${BUDGET / 1024} kB)`);
if (total > BUDGET) {
  console.error("over budget");
  process.exit(1);
}
