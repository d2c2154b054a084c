// Starts the real `emporium dev` binary for the tests: a fresh data dir, a
// free port, readiness through GET /healthz, and a clean stop.
//
// Binary: $EMPORIUM_BIN (relative paths resolve against the current
// directory), default <repo>/bin/emporium, i.e. ../bin/emporium from sdk-ts.
// Build it with `go tool task build` in the repository root.

import { spawn } from "node:child_process";
import { constants as fsConstants } from "node:fs";
import { access, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const READY_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 100;
const STOP_TIMEOUT_MS = 15_000;
const MAX_CAPTURE = 64 * 1024;

const exe = process.platform === "win32" ? ".exe" : "";

export function emporiumBinary() {
  const fromEnv = process.env.EMPORIUM_BIN;
  if (fromEnv) {
    return resolve(fromEnv);
  }
  // test/support/ → sdk-ts/ → repository root
  return fileURLToPath(new URL(`../../../bin/emporium${exe}`, import.meta.url));
}

/** A TCP port that was free a moment ago (listen on port 0, read it, close). */
export async function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close((err) => (err ? reject(err) : resolvePort(port)));
    });
  });
}

/** Keeps the last MAX_CAPTURE characters of a stream. */
function capture(stream) {
  const state = { text: "" };
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    state.text += chunk;
    if (state.text.length > MAX_CAPTURE) {
      state.text = state.text.slice(-MAX_CAPTURE);
    }
  });
  return state;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `emporium dev` and resolves once /healthz answers 200.
 * Returns { baseUrl, port, dataDir, stop(), logs() }. Throws (never skips)
 * when the binary is missing or the server does not become ready.
 *
 * @param {{ args?: string[] }} [options] args: extra flags for `emporium dev`,
 *   e.g. ["--rate-limits", "login=50:100"].
 */
export async function startEmporium(options = {}) {
  const bin = emporiumBinary();
  try {
    await access(bin, fsConstants.X_OK);
  } catch {
    throw new Error(
      `emporium binary not found (or not executable) at ${bin}.\n` +
        `Build it first: run \`go tool task build\` in the repository root ` +
        `(it writes bin/emporium), or point EMPORIUM_BIN at a built binary.`,
    );
  }

  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), "emporium-sdk-test-"));
  const args = ["dev", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, ...(options.args ?? [])];
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  const stdout = capture(child.stdout);
  const stderr = capture(child.stderr);

  let exited = null; // { code, signal } once the process has exited
  const exitPromise = new Promise((r) => {
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      r(exited);
    });
  });
  let spawnError = null;
  child.once("error", (err) => {
    spawnError = err;
  });
  // Never leave a server behind, even if the test process dies abruptly.
  const killOnExit = () => {
    if (exited === null) child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);

  const baseUrl = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener("exit", killOnExit);
    if (exited === null && spawnError === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exitPromise;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  };

  const describe = (why) =>
    `${why}\ncommand: ${bin} ${args.join(" ")}\n` +
    `--- stderr (tail) ---\n${stderr.text || "(empty)"}\n` +
    `--- stdout (tail) ---\n${stdout.text || "(empty)"}`;

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastProblem = "no answer yet";
  for (;;) {
    if (spawnError !== null) {
      await stop();
      throw new Error(describe(`could not start emporium: ${spawnError.message}`));
    }
    if (exited !== null) {
      const how = exited.signal ? `signal ${exited.signal}` : `exit code ${exited.code}`;
      await stop();
      throw new Error(describe(`emporium exited before it was ready (${how})`));
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        describe(`emporium was not ready within ${READY_TIMEOUT_MS / 1000} s (last: ${lastProblem})`),
      );
    }
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer().catch(() => {});
      if (res.status === 200) {
        break;
      }
      lastProblem = `GET /healthz answered ${res.status}`;
    } catch (err) {
      lastProblem = `GET /healthz failed: ${err?.cause?.code ?? err?.message ?? err}`;
    }
    await sleep(POLL_INTERVAL_MS);
  }

  return {
    baseUrl,
    port,
    dataDir,
    stop,
    logs: () => ({ stdout: stdout.text, stderr: stderr.text }),
  };
}
