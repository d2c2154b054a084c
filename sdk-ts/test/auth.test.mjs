// End-to-end tests of sign-in (AuthService), accounts (UserService) and the
// session helper against the real `emporium dev` server, over both protocols.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import {
  Code,
  Role,
  createEmporiumClient,
  createSession,
  fieldViolations,
  isConnectError,
} from "../dist/index.js";
import { startEmporium } from "./support/server.mjs";

let server;

before(async () => {
  // The defaults allow 10 logins and registrations per address, 5 logins per
  // account and 20 other AuthService calls before throttling; this file makes
  // more than that within seconds, from one address.
  server = await startEmporium({
    args: ["--rate-limits", "login=100:1000,login-account=100:1000,login-account-all=100:1000,auth=100:1000"],
  });
});

after(async () => {
  await server?.stop();
});

const ADMIN_EMAIL = "admin@example.com";

/** Asserts that `promise` rejects with a ConnectError of code `code`. */
async function rejectsWithCode(promise, code) {
  await assert.rejects(promise, (err) => {
    assert.ok(isConnectError(err), `expected a ConnectError, got ${err}`);
    assert.equal(err.code, code, `expected ${Code[code]}, got ${Code[err.code]} (${err.message})`);
    return true;
  });
}

/** A fetch that counts requests per RPC method name ("Refresh", "GetMe", ...). */
function countingFetch() {
  const counts = new Map();
  const fetch = (url, init) => {
    const method = new URL(String(url)).pathname.split("/").pop();
    counts.set(method, (counts.get(method) ?? 0) + 1);
    return globalThis.fetch(url, init);
  };
  return { fetch, count: (method) => counts.get(method) ?? 0 };
}

const newPassword = () => `Correct-Horse-${randomBytes(6).toString("hex")}`;
const newEmail = (tag) => `sdk-${tag}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}@example.com`;

const protocols = [
  { name: "connect (JSON)", protocol: "connect", useBinaryFormat: false },
  { name: "grpc-web (binary)", protocol: "grpc-web", useBinaryFormat: true },
];

for (const p of protocols) {
  describe(`auth and users over ${p.name}`, () => {
    const clientOptions = (extra = {}) => ({
      baseUrl: server.baseUrl,
      protocol: p.protocol,
      useBinaryFormat: p.useBinaryFormat,
      timeoutMs: 30_000,
      ...extra,
    });
    /** @type {import("../dist/index.js").EmporiumClient} */
    let shop;
    const customer = { email: "", password: "", id: "" };

    before(async () => {
      shop = createEmporiumClient(clientOptions());
      customer.email = newEmail(p.protocol);
      customer.password = newPassword();
      await shop.users.register({
        email: customer.email,
        password: customer.password,
        displayName: "SDK Tester",
      });
      // Register names no account (it answers alike for taken emails).
      const { tokens } = await shop.auth.login({ email: customer.email, password: customer.password });
      customer.id = tokens.userId;
    });

    it("the admin signs in with the password from the data directory", async () => {
      const password = (await readFile(join(server.dataDir, "admin-password"), "utf8")).trim();
      assert.ok(password.length >= 16, "admin-password holds a password");
      assert.ok(
        server.logs().stdout.includes(`Admin login:   ${ADMIN_EMAIL} / ${password}`),
        "the banner shows the same password",
      );

      const { tokens } = await shop.auth.login({ email: ADMIN_EMAIL, password });
      assert.ok(tokens?.accessToken && tokens.refreshToken && tokens.userId);
      const ttl = Number(tokens.accessTokenExpireTime.seconds) * 1000 - Date.now();
      assert.ok(ttl > 14 * 60_000 && ttl <= 15 * 60_000 + 5_000, `access token lives 15 min, got ${ttl} ms`);

      const admin = createEmporiumClient(clientOptions({ token: tokens.accessToken }));
      const { user } = await admin.users.getMe({});
      assert.equal(user?.email, ADMIN_EMAIL);
      assert.equal(user?.id, tokens.userId);
      assert.ok(user?.roles.includes(Role.ADMIN), `admin roles: ${user?.roles}`);

      const { users } = await admin.users.listUsers({ query: customer.email });
      assert.deepEqual(users.map((u) => u.id), [customer.id], "the admin finds the new customer");
    });

    it("a new user registers, signs in, and GetMe returns them", async () => {
      const email = newEmail(`${p.protocol}-reg`);
      const password = newPassword();
      // The email is normalised (lower-cased).
      const registered = await shop.users.register({
        email: email.toUpperCase(),
        password,
        displayName: "Ada Shopper",
      });
      assert.equal(registered.user, undefined, "Register does not describe the account");

      const { tokens } = await shop.auth.login({ email, password });
      assert.ok(tokens?.userId);
      const me = createEmporiumClient(clientOptions({ token: tokens.accessToken }));
      const { user } = await me.users.getMe({});
      assert.equal(user?.id, tokens.userId);
      assert.equal(user?.email, email);
      assert.deepEqual(user?.roles, [Role.CUSTOMER]);
      assert.equal(user?.displayName, "Ada Shopper");
      assert.equal(user?.emailVerified, false);
    });

    it("Register answers a taken email as it answers a new one", async () => {
      const again = await shop.users.register({ email: customer.email.toUpperCase(), password: newPassword() });
      const fresh = await shop.users.register({ email: newEmail(`${p.protocol}-fresh`), password: newPassword() });
      assert.deepEqual(again, fresh);
      // The owner's password still works; the sign-up's did not take over.
      const { tokens } = await shop.auth.login({ email: customer.email, password: customer.password });
      assert.equal(tokens?.userId, customer.id);
    });

    it("Register refuses short and breached passwords", async () => {
      const short = shop.users.register({ email: newEmail("short"), password: "too-short" });
      await rejectsWithCode(short, Code.InvalidArgument);
      assert.ok(fieldViolations(await short.catch((e) => e)).some((v) => v.field === "password"));
      await rejectsWithCode(
        shop.users.register({ email: newEmail("breached"), password: "password1234" }),
        Code.InvalidArgument,
      );
    });

    it("a wrong password gets Unauthenticated", async () => {
      await rejectsWithCode(
        shop.auth.login({ email: customer.email, password: `${customer.password}-wrong` }),
        Code.Unauthenticated,
      );
      await rejectsWithCode(
        shop.auth.login({ email: newEmail("nobody"), password: customer.password }),
        Code.Unauthenticated,
      );
      const session = createSession(clientOptions());
      await rejectsWithCode(session.login(customer.email, "not-the-password"), Code.Unauthenticated);
      assert.equal(await session.tokens(), undefined);
    });

    it("a customer calling ListUsers gets PermissionDenied", async () => {
      const session = createSession(clientOptions());
      await session.login(customer.email, customer.password);
      await rejectsWithCode(session.client.users.listUsers({}), Code.PermissionDenied);
      await rejectsWithCode(session.client.users.getUser({ id: customer.id }), Code.PermissionDenied);
      await rejectsWithCode(shop.users.listUsers({}), Code.Unauthenticated); // no token at all
      await session.logout();
    });

    it("the session refreshes, and 10 concurrent calls share one Refresh", async () => {
      const net = countingFetch();
      // A skew longer than the token's 15 minutes: every call finds the token due.
      const session = createSession(clientOptions({ fetch: net.fetch, refreshSkewMs: 16 * 60_000 }));
      const first = await session.login(customer.email, customer.password);

      const results = await Promise.all(Array.from({ length: 10 }, () => session.client.users.getMe({})));
      assert.ok(results.every((r) => r.user?.id === customer.id));
      assert.equal(net.count("Refresh"), 1, "one Refresh request for 10 concurrent calls");
      assert.equal(net.count("GetMe"), 10);
      const second = await session.tokens();
      assert.notEqual(second.refreshToken, first.refreshToken, "the refresh token rotated");
      assert.notEqual(second.accessToken, first.accessToken);

      // An explicit refresh with 10 calls in flight: still one request.
      const [third] = await Promise.all([
        session.refresh(),
        ...Array.from({ length: 10 }, () => session.client.users.getMe({})),
      ]);
      assert.equal(net.count("Refresh"), 2);
      assert.notEqual(third.refreshToken, second.refreshToken);

      // The server's side of single-flight: a spent refresh token is refused,
      // and presenting it ends the whole session.
      const reasons = [];
      const other = createSession(clientOptions({ onSignedOut: (r) => reasons.push(r) }));
      await other.setTokens({ accessToken: third.accessToken, refreshToken: third.refreshToken, userId: third.userId });
      await rejectsWithCode(shop.auth.refresh({ refreshToken: second.refreshToken }), Code.Unauthenticated);
      await rejectsWithCode(session.refresh(), Code.Unauthenticated);
      assert.equal(await session.tokens(), undefined);
      await rejectsWithCode(other.refresh(), Code.Unauthenticated);
      assert.equal(reasons.length, 1);
    });

    it("a refused access token is refreshed once and every call retried", async () => {
      const { tokens } = await shop.auth.login({ email: customer.email, password: customer.password });
      // A stored session whose access token the server will refuse.
      const stored = new Map([
        [
          "emporium.session",
          JSON.stringify({
            v: 1,
            accessToken: "not-a-valid-access-token",
            accessTokenExpiresAt: Date.now() + 10 * 60_000,
            refreshToken: tokens.refreshToken,
            refreshTokenExpiresAt: Number(tokens.refreshTokenExpireTime.seconds) * 1000,
            userId: tokens.userId,
          }),
        ],
      ]);
      const storage = {
        get: async (k) => stored.get(k),
        set: async (k, v) => void stored.set(k, v),
        remove: async (k) => void stored.delete(k),
      };
      const net = countingFetch();
      const session = createSession(clientOptions({ fetch: net.fetch, storage }));

      const results = await Promise.all(Array.from({ length: 10 }, () => session.client.users.getMe({})));
      assert.ok(results.every((r) => r.user?.id === customer.id));
      assert.equal(net.count("Refresh"), 1);
      assert.equal(net.count("GetMe"), 20, "10 refused, 10 retried");
      const saved = JSON.parse(stored.get("emporium.session"));
      assert.notEqual(saved.refreshToken, tokens.refreshToken, "the rotated tokens were stored");
      await session.logout();
      assert.equal(stored.size, 0);
    });

    it("after logout the refresh token is dead", async () => {
      const net = countingFetch();
      const reasons = [];
      const session = createSession(clientOptions({ fetch: net.fetch, onSignedOut: (r) => reasons.push(r) }));
      const { refreshToken } = await session.login(customer.email, customer.password);
      assert.equal((await session.client.users.getMe({})).user?.id, customer.id);

      await session.logout();
      assert.equal(net.count("Logout"), 1);
      assert.equal(await session.tokens(), undefined);
      await rejectsWithCode(shop.auth.refresh({ refreshToken }), Code.Unauthenticated);
      await rejectsWithCode(session.refresh(), Code.Unauthenticated);
      await rejectsWithCode(session.client.users.getMe({}), Code.Unauthenticated);
      assert.equal(reasons.length, 0, "an explicit logout is not reported");
    });

    it("after a logout elsewhere, refresh fails and onSignedOut fires", async () => {
      const reasons = [];
      const phone = createSession(clientOptions({ onSignedOut: (r) => reasons.push(r) }));
      await phone.login(customer.email, customer.password);
      const laptop = createSession(clientOptions());
      await laptop.login(customer.email, customer.password);

      await laptop.logoutEverywhere();
      assert.equal(await laptop.tokens(), undefined);

      await rejectsWithCode(phone.refresh(), Code.Unauthenticated);
      assert.equal(reasons.length, 1);
      assert.equal(reasons[0].code, Code.Unauthenticated);
      assert.equal(await phone.tokens(), undefined);
    });
  });
}
