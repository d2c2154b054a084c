// Starts a real `emporium dev` for the apps' end-to-end tests (apps/web,
// apps/admin, apps/mobile): a fresh data directory, a free port, the built
// apps the edge should serve (webDir at /, adminDir at /admin/), and sign-in
// limits raised (the tests sign in
// more often than one address normally may).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, "../..");

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/**
 * Starts the shop with `webDir` (a built app with an index.html) served at /
 * and `adminDir` (the built admin panel) at /admin/; either may be left out.
 * `extraArgs` go to `emporium dev` as they are.
 */
export async function startShop({ webDir, adminDir, extraArgs = [] }) {
  const bin = process.env.EMPORIUM_BIN ?? join(repoRoot, "bin/emporium");
  if (!existsSync(bin)) throw new Error(`no emporium binary at ${bin}: run \`go tool task build\` at the repository root, or set EMPORIUM_BIN`);
  const dirs = [];
  for (const [flag, dir] of [["--web-dir", webDir], ["--admin-dir", adminDir]]) {
    if (!dir) continue;
    if (!existsSync(join(dir, "index.html"))) throw new Error(`no ${dir}/index.html: build the app first`);
    dirs.push(flag, dir);
  }
  const dataDir = mkdtempSync(join(tmpdir(), "emporium-e2e-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let output = "";
  const child = spawn(bin, [
    "dev", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, ...dirs, "--log-level", "warn",
    "--rate-limits", "default=1000:2000,auth=100:200,login=100:200,login-account=100:200,login-account-all=100:200",
    ...extraArgs,
  ], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise((ok) => child.on("exit", ok));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`emporium dev exited early:\n${output}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`emporium dev did not become healthy:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    output: () => output,
    /** The dev admin's generated password. */
    adminPassword: () => readFileSync(join(dataDir, "admin-password"), "utf8").trim(),
    /** The first dev-mailbox message that matches, waiting for its delivery (messages go out through jobs). */
    async mailTo(match, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const { messages } = await (await fetch(`${base}/dev/mailbox?format=json`)).json();
        const found = messages.find(match);
        if (found || Date.now() > until) return found;
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
