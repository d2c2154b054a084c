// Prints how much JavaScript a first visit to /admin/ loads, gzipped, and
// fails above the budget. Two first visits count: signed out (the entry, what
// it imports statically, and the sign-in page's chunk with its imports) and
// signed in (the entry, the layout and the dashboard with their imports; the
// dashboard's chart, ECharts, is loaded after its numbers and not counted).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET = 250 * 1024;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const entry = html.match(/<script type="module"[^>]*src="\/admin\/([^"]+)"/)?.[1];
if (!entry) throw new Error("no module script in dist/index.html: run npm run build");
const assets = readdirSync(join(dist, "assets"));

function chunk(name) {
  const file = assets.find((f) => f.startsWith(`${name}-`) && f.endsWith(".js"));
  if (!file) throw new Error(`no ${name} chunk in dist/assets`);
  return `assets/${file}`;
}

function closure(files) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(join(dist, file), "utf8");
    // Static imports between chunks: import … from "./x.js" and import "./x.js".
    for (const m of code.matchAll(/(?:from|import)\s*["'`]\.\/([\w.-]+\.js)["'`]/g)) visit(`assets/${m[1]}`);
  };
  files.forEach(visit);
  return seen;
}

const sizes = new Map();
const gz = (f) => sizes.get(f) ?? sizes.set(f, gzipSync(readFileSync(join(dist, f)), { level: 9 }).length).get(f);

let failed = false;
for (const [visit, pages] of [["signed out, /admin/sign-in", ["SignIn"]], ["signed in, /admin/ (dashboard)", ["AdminLayout", "Dashboard"]]]) {
  const files = closure([entry, ...pages.map(chunk)]);
  if ([...files].some((f) => /charts-/.test(f))) {
    console.error(`${visit}: ECharts is in the first load; keep the chart an async component`);
    failed = true;
  }
  let total = 0;
  console.log(visit);
  for (const f of [...files].sort()) {
    total += gz(f);
    console.log(`${(gz(f) / 1024).toFixed(1).padStart(7)} kB  ${f}`);
  }
  console.log(`${(total / 1024).toFixed(1).padStart(7)} kB  JavaScript, gzipped (budget ${BUDGET / 1024} kB)\n`);
  if (total > BUDGET) {
    console.error(`${visit}: over budget`);
    failed = true;
  }
}
if (failed) process.exit(1);
