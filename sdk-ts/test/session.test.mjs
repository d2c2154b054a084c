// The session helper without a server: a fake AuthService/UserService in a
// fetch function, to show what the real server cannot (expiry on demand,
// transient failures, two instances sharing storage).

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Code, ConnectError, createSession, isConnectError } from "../dist/index.js";

const b64url = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A fake edge: Login (password "right-password"), Refresh (rotating, reuse
 * revokes everything), Logout, LogoutEverywhere, and UserService.GetMe,
 * which wants a valid access token. Access tokens are JWT-shaped with a
 * lifetime of `lifetimeS` seconds (changeable between calls).
 */
function fakeEdge({ lifetimeS = 900, refreshDelayMs = 20 } = {}) {
  const edge = {
    lifetimeS,
    refreshDelayMs,
    /** When set, Refresh fails with this Connect code. */
    refreshFails: undefined,
    /** When true, every access token is refused. */
    refuseAllAccess: false,
    calls: [],
    validAccess: new Set(),
    liveRefresh: new Set(),
    n: 0,
    count: (method) => edge.calls.filter((c) => c.method === method).length,
    issue() {
      const n = ++edge.n;
      const iat = Math.floor(Date.now() / 1000);
      const accessToken = `${b64url({ alg: "none" })}.${b64url({ sub: "u1", iat, exp: iat + edge.lifetimeS, n })}.sig`;
      const refreshToken = `refresh-${n}`;
      edge.validAccess.add(accessToken);
      edge.liveRefresh.add(refreshToken);
      return {
        accessToken,
        accessTokenExpireTime: new Date((iat + edge.lifetimeS) * 1000).toISOString(),
        refreshToken,
        refreshTokenExpireTime: new Date(Date.now() + 30 * 864e5 + n).toISOString(),
        userId: "u1",
      };
    },
    fetch: async (url, init) => {
      const method = new URL(String(url)).pathname.split("/").pop();
      const headers = new Headers(init.headers);
      const raw = typeof init.body === "string" ? init.body : new TextDecoder().decode(init.body);
      const body = JSON.parse(raw || "{}");
      const auth = headers.get("Authorization");
      edge.calls.push({ method, auth, body });
      const ok = (b) => new Response(JSON.stringify(b), { status: 200, headers: { "Content-Type": "application/json" } });
      const fail = (code, message, status) =>
        new Response(JSON.stringify({ code, message }), { status, headers: { "Content-Type": "application/json" } });
      const unauthenticated = (m) => fail("unauthenticated", m, 401);
      const authed = () =>
        auth?.startsWith("Bearer ") && !edge.refuseAllAccess && edge.validAccess.has(auth.slice(7));
      switch (method) {
        case "Login":
          return body.password === "right-password"
            ? ok({ tokens: edge.issue() })
            : unauthenticated("wrong email or password");
        case "Refresh": {
          await sleep(edge.refreshDelayMs);
          if (edge.refreshFails) return fail(edge.refreshFails, "refresh failed", 503);
          if (!edge.liveRefresh.has(body.refreshToken)) {
            edge.liveRefresh.clear();
            return unauthenticated("invalid refresh token");
          }
          edge.liveRefresh.delete(body.refreshToken);
          return ok({ tokens: edge.issue() });
        }
        case "Logout":
          edge.liveRefresh.delete(body.refreshToken);
          return ok({});
        case "LogoutEverywhere":
          if (!authed()) return unauthenticated("sign in first");
          edge.liveRefresh.clear();
          return ok({});
        case "GetMe":
          await edge.beforeGetMe?.();
          if (auth && !authed()) return unauthenticated("invalid bearer token");
          if (!auth) return unauthenticated("sign in first: this method needs credentials");
          return ok({ user: { id: "u1", email: "u1@example.com" } });
        case "ListCategories":
          if (auth && !authed()) return unauthenticated("invalid bearer token");
          return ok({});
        default:
          return fail("unimplemented", method, 404);
      }
    },
  };
  return edge;
}

/** A storage adapter over a Map; `async` makes every method return a promise (like AsyncStorage). */
function mapStorage({ async = false } = {}) {
  const map = new Map();
  const wrap = (v) => (async ? Promise.resolve(v) : v);
  return {
    map,
    get: (k) => wrap(map.get(k)),
    set: (k, v) => wrap(void map.set(k, v)),
    remove: (k) => wrap(void map.delete(k)),
  };
}

/** A mutex in the shape of SessionOptions.lock (like navigator.locks.request). */
function mutex() {
  let tail = Promise.resolve();
  return (fn) => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

const unauthenticated = (err) => isConnectError(err, Code.Unauthenticated);

describe("createSession", () => {
  it("logs in, keeps the tokens and sends the access token on every call", async () => {
    const edge = fakeEdge();
    const session = createSession({ baseUrl: "http://edge.test", fetch: edge.fetch });
    assert.equal(await session.tokens(), undefined);
    assert.equal(await session.accessToken(), undefined);

    const tokens = await session.login("u1@example.com", "right-password");
    assert.equal(tokens.userId, "u1");
    assert.equal(tokens.refreshToken, "refresh-1");
    const lifetime = tokens.accessTokenExpiresAt - Date.now();
    assert.ok(lifetime > 890_000 && lifetime <= 900_000, `expiry from the JWT's lifetime, got ${lifetime} ms`);
    assert.equal(edge.calls[0].auth, null, "Login carries no bearer token");

    const { user } = await session.client.users.getMe({});
    assert.equal(user?.id, "u1");
    await session.client.products.listCategories({});
    assert.deepEqual(
      edge.calls.slice(1).map((c) => c.auth),
      [`Bearer ${tokens.accessToken}`, `Bearer ${tokens.accessToken}`],
    );
    assert.equal(edge.count("Refresh"), 0);
  });

  it("rejects a wrong password with Unauthenticated and stays signed out", async () => {
    const edge = fakeEdge();
    const session = createSession({ baseUrl: "http://edge.test", fetch: edge.fetch });
    await assert.rejects(session.login("u1@example.com", "wrong-password"), unauthenticated);
    assert.equal(await session.tokens(), undefined);
    assert.equal(edge.count("Login"), 1, "a wrong password is not retried");
  });

  it("refreshes before expiry, with one Refresh for 10 concurrent calls", async () => {
    const edge = fakeEdge({ lifetimeS: 30 }); // less than the 60 s skew: due at once
    const session = createSession({ baseUrl: "http://edge.test", fetch: edge.fetch });
    const first = await session.login("u1@example.com", "right-password");
    edge.lifetimeS = 900;

    const results = await Promise.all(Array.from({ length: 10 }, () => session.client.users.getMe({})));
    assert.equal(results.length, 10);
    assert.equal(edge.count("Refresh"), 1, "one Refresh for all 10 calls");
    const second = await session.tokens();
    assert.notEqual(second.refreshToken, first.refreshToken, "the refresh token rotated");
    const sent = edge.calls.filter((c) => c.method === "GetMe").map((c) => c.auth);
    assert.deepEqual(sent, Array(10).fill(`Bearer ${second.accessToken}`), "every call waited for the new token");

    await session.client.users.getMe({});
    assert.equal(edge.count("Refresh"), 1, "a fresh token is not refreshed again");
  });

  it("refreshes once after Unauthenticated and retries each call once", async () => {
    const edge = fakeEdge();
    const session = createSession({ baseUrl: "http://edge.test", fetch: edge.fetch });
    const first = await session.login("u1@example.com", "right-password");
    edge.validAccess.delete(first.accessToken); // e.g. the signing key rotated

    const results = await Promise.all(Array.from({ length: 10 }, () => session.client.users.getMe({})));
    assert.ok(results.every((r) => r.user?.id === "u1"));
    assert.equal(edge.count("Refresh"), 1, "the 10 failed calls shared one Refresh");
    assert.equal(edge.count("GetMe"), 20, "each call was sent twice");
    const second = await session.tokens();
    assert.equal(
      edge.calls.filter((c) => c.method === "GetMe" && c.auth === `Bearer ${second.accessToken}`).length,
      10,
    );
  });

  it("retries a call refused after a refresh with the new token, without another refresh", async () => {
    const edge = fakeEdge();
    const session = createSession({ baseUrl: "http://edge.test", fetch: edge.fetch });
    const first = await session.login("u1@example.com", "right-password");
    edge.validAccess.delete(first.accessToken);
    let release;
    const held = new Promise((r) => (release = r));
    let received;
    const arrived = new Promise((r) => (received = r));
    edge.beforeGetMe = () => {
      edge.beforeGetMe = undefined; // hold only the first
      received();
      return held;
    };
    const call = session.client.users.getMe({}); // sent with the old token, answered late
    await arrived;
    const second = await session.refresh();
    release();
    const { user } = await call;
    assert.equal(user?.id, "u1");
    assert.equal(edge.count("Refresh"), 1, "the refresh that happened meanwhile was enough");
    assert.deepEqual(
      edge.calls.filter((c) => c.method === "GetMe").map((c) => c.auth),
      [`Bearer ${first.accessToken}`, `Bearer ${second.accessToken}`],
    );
  });

  it("retries only once", async () => {
    const edge = fakeEdge();
    const session = createSession({ baseUrl: "http://edge.test", fetch: edge.fetch });
    await session.login("u1@example.com", "right-password");
    edge.refuseAllAccess = true;
    await assert.rejects(session.client.users.getMe({}), unauthenticated);
    assert.equal(edge.count("GetMe"), 2);
    assert.equal(edge.count("Refresh"), 1);
  });

  it("does not retry an anonymous call, a call with its own header, or AuthService's own answers", async () => {
    const edge = fakeEdge();
    const session = createSession({ baseUrl: "http://edge.test", fetch: edge.fetch });
    await assert.rejects(session.client.users.getMe({}), unauthenticated);
    await session.login("u1@example.com", "right-password");
    await assert.rejects(
      session.client.users.getMe({}, { headers: { Authorization: "Bearer someone-elses" } }),
      unauthenticated,
    );
    await assert.rejects(session.client.auth.login({ email: "u1@example.com", password: "nope" }), unauthenticated);
    await assert.rejects(session.client.auth.refresh({ refreshToken: "not-live" }), unauthenticated);
    assert.equal(edge.count("Refresh"), 1, "only the explicit one");
    assert.equal(edge.count("GetMe"), 2);
    assert.equal(edge.count("Login"), 2);
  });

  it("signs out and calls onSignedOut once when the server refuses to refresh", async () => {
    const edge = fakeEdge({ lifetimeS: 30 });
    const storage = mapStorage();
    const reasons = [];
    const session = createSession({
      baseUrl: "http://edge.test",
      fetch: edge.fetch,
      storage,
      onSignedOut: (reason) => reasons.push(reason),
    });
    await session.login("u1@example.com", "right-password");
    assert.equal(storage.map.size, 1);
    edge.liveRefresh.clear(); // logged out elsewhere

    const results = await Promise.allSettled(Array.from({ length: 5 }, () => session.client.users.getMe({})));
    assert.ok(results.every((r) => r.status === "rejected" && unauthenticated(r.reason)));
    assert.equal(edge.count("Refresh"), 1);
    assert.equal(edge.count("GetMe"), 0, "calls fail before they are sent");
    assert.equal(reasons.length, 1);
    assert.ok(reasons[0] instanceof ConnectError && reasons[0].code === Code.Unauthenticated);
    assert.equal(await session.tokens(), undefined);
    assert.equal(storage.map.size, 0, "storage cleared");

    await session.client.products.listCategories({});
    assert.equal(edge.calls.at(-1).auth, null, "later calls are anonymous");
    await assert.rejects(session.refresh(), unauthenticated);
    assert.equal(edge.count("Refresh"), 1, "no Refresh without a session");
    assert.equal(reasons.length, 1);
  });

  it("keeps the session through a transient refresh failure", async () => {
    const edge = fakeEdge({ lifetimeS: 30 }); // due for refresh, but still valid
    const reasons = [];
    const session = createSession({
      baseUrl: "http://edge.test",
      fetch: edge.fetch,
      onSignedOut: (r) => reasons.push(r),
    });
    const tokens = await session.login("u1@example.com", "right-password");
    edge.refreshFails = "unavailable";
    const { user } = await session.client.users.getMe({});
    assert.equal(user?.id, "u1", "the still-valid token was used");
    await assert.rejects(session.refresh(), (err) => isConnectError(err, Code.Unavailable));
    assert.deepEqual(await session.tokens(), tokens);
    assert.equal(reasons.length, 0);

    edge.refreshFails = undefined;
    const next = await session.refresh();
    assert.notEqual(next.refreshToken, tokens.refreshToken);
  });

  it("logout revokes the newest refresh token, even during a refresh, and clears", async () => {
    const edge = fakeEdge({ refreshDelayMs: 50 });
    const reasons = [];
    const session = createSession({ baseUrl: "http://edge.test", fetch: edge.fetch, onSignedOut: (r) => reasons.push(r) });
    await session.login("u1@example.com", "right-password");
    const refreshing = session.refresh();
    await session.logout();
    const rotated = await refreshing;
    const logout = edge.calls.find((c) => c.method === "Logout");
    assert.equal(logout.body.refreshToken, rotated.refreshToken);
    assert.equal(logout.auth, null);
    assert.equal(await session.tokens(), undefined);
    await assert.rejects(session.refresh(), unauthenticated);
    assert.equal(reasons.length, 0, "an explicit logout is not reported as onSignedOut");
    await session.logout(); // twice is fine
    assert.equal(edge.count("Logout"), 1);
  });

  it("logoutEverywhere sends the access token and clears", async () => {
    const edge = fakeEdge();
    const session = createSession({ baseUrl: "http://edge.test", fetch: edge.fetch });
    const tokens = await session.login("u1@example.com", "right-password");
    await session.logoutEverywhere();
    assert.equal(edge.calls.at(-1).method, "LogoutEverywhere");
    assert.equal(edge.calls.at(-1).auth, `Bearer ${tokens.accessToken}`);
    assert.equal(edge.liveRefresh.size, 0);
    assert.equal(await session.tokens(), undefined);
  });

  it("keeps the tokens in storage, sync or async", async () => {
    for (const async of [false, true]) {
      const edge = fakeEdge();
      const storage = mapStorage({ async });
      const a = createSession({ baseUrl: "http://edge.test", fetch: edge.fetch, storage, storageKey: "shop" });
      const tokens = await a.login("u1@example.com", "right-password");
      assert.deepEqual([...storage.map.keys()], ["shop"]);

      // A reload: a new session on the same storage is signed in without Login.
      const b = createSession({ baseUrl: "http://edge.test", fetch: edge.fetch, storage, storageKey: "shop" });
      assert.deepEqual(await b.tokens(), tokens);
      await b.client.users.getMe({});
      assert.equal(edge.calls.at(-1).auth, `Bearer ${tokens.accessToken}`);
      await b.logout();
      assert.equal(storage.map.size, 0);
    }
  });

  it("ignores corrupt storage", async () => {
    const storage = mapStorage();
    storage.map.set("emporium.session", "{not json");
    const session = createSession({ baseUrl: "http://edge.test", fetch: fakeEdge().fetch, storage });
    assert.equal(await session.tokens(), undefined);
  });

  it("two instances sharing storage and a lock spend a refresh token once", async () => {
    const edge = fakeEdge({ lifetimeS: 30 });
    const storage = mapStorage({ async: true });
    const lock = mutex();
    const tab1 = createSession({ baseUrl: "http://edge.test", fetch: edge.fetch, storage, lock });
    await tab1.login("u1@example.com", "right-password");
    const tab2 = createSession({ baseUrl: "http://edge.test", fetch: edge.fetch, storage, lock });
    edge.lifetimeS = 900;

    await Promise.all([
      ...Array.from({ length: 5 }, () => tab1.client.users.getMe({})),
      ...Array.from({ length: 5 }, () => tab2.client.users.getMe({})),
    ]);
    assert.equal(edge.count("Refresh"), 1, "tab 2 took the tokens tab 1 refreshed");
    assert.deepEqual(await tab2.tokens(), await tab1.tokens());
    assert.equal(edge.liveRefresh.size, 1, "no reuse: the session is alive");
  });

  it("takes tokens from FinishProviderLogin with setTokens", async () => {
    const edge = fakeEdge();
    const session = createSession({ baseUrl: "http://edge.test", fetch: edge.fetch });
    const tokens = edge.issue();
    const res = await session.setTokens({
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      userId: "u1",
    });
    assert.equal(res.accessToken, tokens.accessToken);
    await session.client.users.getMe({});
    assert.equal(edge.calls.at(-1).auth, `Bearer ${tokens.accessToken}`);
    await assert.rejects(session.setTokens(undefined), (err) => isConnectError(err, Code.Internal));
  });

  it("rejects bad options early", () => {
    assert.throws(() => createSession({ baseUrl: "" }), TypeError);
    assert.throws(() => createSession({ baseUrl: "http://x", refreshSkewMs: -1 }), TypeError);
  });
});
