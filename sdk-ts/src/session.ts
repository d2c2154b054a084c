import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import {
  createEmporiumClientFromTransport,
  createTransport,
  type EmporiumClient,
  type EmporiumClientOptions,
} from "./client.js";
import { AuthService, type Tokens } from "./gen/emporium/auth/v1/auth_pb.js";

/**
 * Where a session keeps its tokens between page loads or app starts. Values
 * are strings; every method may be synchronous or return a promise, so both
 * localStorage and React Native's AsyncStorage fit in one line:
 *
 * ```ts
 * const storage = {
 *   get: (k) => localStorage.getItem(k),
 *   set: (k, v) => localStorage.setItem(k, v),
 *   remove: (k) => localStorage.removeItem(k),
 * };
 * ```
 */
export interface TokenStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
  remove(key: string): void | Promise<void>;
}

/** The tokens of a signed-in session, as {@link Session.tokens} returns them. */
export interface SessionTokens {
  /** Sent as `Authorization: Bearer <accessToken>`. */
  accessToken: string;
  /**
   * When the access token expires, in milliseconds since the epoch on this
   * device's clock (computed from the token's own lifetime, so a device clock
   * that is off does not matter).
   */
  accessTokenExpiresAt: number;
  /** Opaque and single-use: only the session itself should send it. */
  refreshToken: string;
  /** When the refresh token expires (server clock), in ms since the epoch. */
  refreshTokenExpiresAt: number;
  userId: string;
}

/** Options of {@link createSession}: those of the client, minus `token`, plus these. */
export interface SessionOptions extends Omit<EmporiumClientOptions, "token"> {
  /** Keeps the tokens across reloads; default: in memory only. */
  storage?: TokenStorage;
  /** The key under which `storage` keeps them; default "emporium.session". */
  storageKey?: string;
  /** Refresh this many ms before the access token expires; default 60000. */
  refreshSkewMs?: number;
  /**
   * Called when the server refuses to refresh the session (it was logged
   * out, logged out everywhere, the password changed, the account was
   * disabled, or the refresh token expired). The tokens are already cleared.
   * Not called by {@link Session.logout} and {@link Session.logoutEverywhere}.
   * Exceptions it throws are ignored.
   */
  onSignedOut?: (reason: ConnectError) => void;
  /**
   * Runs each refresh under a lock shared by every instance that uses the
   * same storage, e.g. the browser tabs of a shop:
   * `lock: (fn) => navigator.locks.request("emporium-refresh", fn)`.
   * Inside the lock the session first re-reads storage, and takes the tokens
   * another instance refreshed instead of spending the same refresh token a
   * second time (which the server treats as theft and answers by ending the
   * session).
   */
  lock?: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** A signed-in (or signed-out) user of the API, see {@link createSession}. */
export interface Session {
  /** The typed clients; every call carries the session's access token, if any. */
  readonly client: EmporiumClient;
  /** The transport behind `client` (for @connectrpc/connect-query). */
  readonly transport: Transport;
  /** Signs in with AuthService.Login and keeps the tokens. */
  login(email: string, password: string): Promise<SessionTokens>;
  /** Keeps tokens obtained elsewhere, e.g. from AuthService.FinishProviderLogin. */
  setTokens(tokens: Tokens | undefined): Promise<SessionTokens>;
  /**
   * Refreshes now. Concurrent refreshes (explicit, before expiry, or after
   * an Unauthenticated answer) share one AuthService.Refresh request.
   * Rejects with Unauthenticated when signed out.
   */
  refresh(): Promise<SessionTokens>;
  /** The current access token, refreshed first when it is about to expire; undefined when signed out. */
  accessToken(): Promise<string | undefined>;
  /** The current tokens, or undefined when signed out. */
  tokens(): Promise<SessionTokens | undefined>;
  /** Ends this session on the server (AuthService.Logout) and forgets the tokens. */
  logout(): Promise<void>;
  /** Ends every session of the user (AuthService.LogoutEverywhere) and forgets the tokens. */
  logoutEverywhere(): Promise<void>;
}

const DEFAULT_STORAGE_KEY = "emporium.session";
const DEFAULT_SKEW_MS = 60_000;

/**
 * A session: signs in, keeps the tokens, and gives every call of
 * `session.client` a valid access token:
 *
 * ```ts
 * const session = createSession({ baseUrl: "/", onSignedOut: () => router.push("/login") });
 * await session.login(email, password);
 * const { user } = await session.client.users.getMe({});
 * ```
 *
 * The access token is refreshed shortly before it expires, and once after an
 * Unauthenticated answer (the call is then retried once). Refreshes never
 * overlap: concurrent calls share one Refresh request, because the server
 * rotates refresh tokens and ends the session when one is used twice.
 */
export function createSession(opts: SessionOptions): Session {
  const {
    storage,
    storageKey = DEFAULT_STORAGE_KEY,
    refreshSkewMs = DEFAULT_SKEW_MS,
    onSignedOut,
    lock,
    token: _ignored, // a JavaScript caller's own token would fight the session's
    ...clientOpts
  }: SessionOptions & { token?: unknown } = opts;
  if (!(Number.isFinite(refreshSkewMs) && refreshSkewMs >= 0)) {
    throw new TypeError(`@emporium/sdk: refreshSkewMs must be a number ≥ 0, got ${String(refreshSkewMs)}`);
  }
  // Login, Refresh and Logout go out without a bearer token and without the retry.
  const auth: Client<typeof AuthService> = createClient(AuthService, createTransport(clientOpts));

  let state: SessionTokens | undefined;
  let previousAccessToken: string | undefined; // of the state before the last refresh
  let epoch = 0; // changes on every sign-in and sign-out
  let inflight: Promise<SessionTokens> | undefined;
  let loaded: Promise<void> | undefined;

  const ready = () => (loaded ??= readStorage().then((s) => void (state ??= s)));

  async function readStorage(): Promise<SessionTokens | undefined> {
    if (!storage) return undefined;
    try {
      return parseStored(await storage.get(storageKey));
    } catch {
      return undefined;
    }
  }

  // Storage is best effort: the state in memory is what this instance uses.
  async function writeStorage(s: SessionTokens | undefined): Promise<void> {
    if (!storage) return;
    try {
      if (s) await storage.set(storageKey, JSON.stringify({ v: 1, ...s }));
      else await storage.remove(storageKey);
    } catch {
      // ignored, see above
    }
  }

  async function signIn(tokens: Tokens | undefined): Promise<SessionTokens> {
    const s = fromTokens(tokens);
    await ready();
    epoch++;
    previousAccessToken = undefined;
    state = s;
    await writeStorage(s);
    return s;
  }

  async function clear(): Promise<void> {
    epoch++;
    state = undefined;
    previousAccessToken = undefined;
    await writeStorage(undefined);
  }

  function refresh(): Promise<SessionTokens> {
    inflight ??= (async () => {
      await ready();
      return lock ? await lock(refreshNow) : await refreshNow();
    })().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  async function refreshNow(): Promise<SessionTokens> {
    // Another instance sharing the storage may have refreshed already: its
    // rotation has a later refresh expiry. Take its tokens rather than spend ours.
    const stored = await readStorage();
    if (stored && (!state || stored.refreshTokenExpiresAt > state.refreshTokenExpiresAt)) {
      previousAccessToken = state?.accessToken;
      state = stored;
      return stored;
    }
    const current = state;
    if (!current) {
      throw new ConnectError("not signed in", Code.Unauthenticated);
    }
    const startEpoch = epoch;
    let res;
    try {
      res = await auth.refresh({ refreshToken: current.refreshToken });
    } catch (err) {
      const ce = ConnectError.from(err);
      if (epoch === startEpoch && (ce.code === Code.Unauthenticated || ce.code === Code.InvalidArgument)) {
        await clear();
        try {
          onSignedOut?.(ce);
        } catch {
          // ignored, as documented
        }
      }
      throw ce; // transient failures keep the tokens: a later call tries again
    }
    const next = fromTokens(res.tokens);
    if (epoch !== startEpoch) {
      // Signed in anew meanwhile: that session wins.
      if (state) return state;
      throw new ConnectError("signed out during refresh", Code.Unauthenticated);
    }
    previousAccessToken = current.accessToken;
    state = next;
    await writeStorage(next);
    return next;
  }

  async function accessToken(): Promise<string | undefined> {
    await ready();
    const s = state;
    if (!s) return undefined;
    if (Date.now() < s.accessTokenExpiresAt - refreshSkewMs) return s.accessToken;
    try {
      return (await refresh()).accessToken;
    } catch (err) {
      // A transient failure with a token that still works: use it.
      if (state === s && Date.now() < s.accessTokenExpiresAt) return s.accessToken;
      throw err;
    }
  }

  // After an Unauthenticated answer to a call that carried the session's
  // token, refresh (or take a refresh that happened meanwhile) and retry once.
  const retryOnce: Interceptor = (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      if (
        req.stream ||
        !(err instanceof ConnectError && err.code === Code.Unauthenticated) ||
        // These answer Unauthenticated about their input, not about the token.
        (req.method.parent.typeName === AuthService.typeName && req.method.name !== "LogoutEverywhere")
      ) {
        throw err;
      }
      const sent = req.header.get("Authorization")?.replace(/^Bearer /, "");
      const s = state;
      if (!s || !sent || (sent !== s.accessToken && sent !== previousAccessToken)) {
        throw err; // no token, or one the caller set itself
      }
      let token = s.accessToken;
      if (sent === s.accessToken) {
        try {
          token = (await refresh()).accessToken;
        } catch {
          throw err;
        }
      }
      req.header.set("Authorization", `Bearer ${token}`);
      return await next(req);
    }
  };

  const transport = createTransport({
    ...clientOpts,
    token: accessToken,
    interceptors: [retryOnce, ...(opts.interceptors ?? [])],
  });
  const client = createEmporiumClientFromTransport(transport);

  return {
    client,
    transport,
    login: async (email, password) => signIn((await auth.login({ email, password })).tokens),
    setTokens: signIn,
    refresh,
    accessToken,
    tokens: async () => {
      await ready();
      return state;
    },
    logout: async () => {
      await ready();
      await inflight?.catch(() => undefined); // log out with the newest refresh token
      const s = state;
      await clear();
      if (s) await auth.logout({ refreshToken: s.refreshToken });
    },
    logoutEverywhere: async () => {
      await client.auth.logoutEverywhere({});
      await inflight?.catch(() => undefined);
      await clear();
    },
  };
}

function fromTokens(t: Tokens | undefined): SessionTokens {
  if (!t?.accessToken || !t.refreshToken) {
    throw new ConnectError("the server returned no tokens", Code.Internal);
  }
  const lifetime = jwtLifetimeMs(t.accessToken);
  let accessTokenExpiresAt = Number.POSITIVE_INFINITY; // unknown: refresh after an Unauthenticated answer only
  if (lifetime !== undefined) {
    accessTokenExpiresAt = Date.now() + lifetime;
  } else if (t.accessTokenExpireTime) {
    accessTokenExpiresAt = timestampMs(t.accessTokenExpireTime);
  }
  return {
    accessToken: t.accessToken,
    accessTokenExpiresAt,
    refreshToken: t.refreshToken,
    refreshTokenExpiresAt: t.refreshTokenExpireTime ? timestampMs(t.refreshTokenExpireTime) : 0,
    userId: t.userId,
  };
}

/** exp − iat of a JWT, in ms, or undefined when it cannot be read. */
function jwtLifetimeMs(jwt: string): number | undefined {
  const payload = jwt.split(".")[1];
  if (!payload || typeof globalThis.atob !== "function") return undefined;
  try {
    const b64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const claims: unknown = JSON.parse(globalThis.atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)));
    if (typeof claims === "object" && claims !== null) {
      const { exp, iat } = claims as { exp?: unknown; iat?: unknown };
      if (typeof exp === "number" && typeof iat === "number" && exp > iat) return (exp - iat) * 1000;
    }
  } catch {
    // not a JWT we can read
  }
  return undefined;
}

function parseStored(raw: string | null | undefined): SessionTokens | undefined {
  if (!raw) return undefined;
  try {
    const o = JSON.parse(raw) as Partial<SessionTokens> & { v?: unknown };
    if (
      o.v === 1 &&
      typeof o.accessToken === "string" &&
      typeof o.refreshToken === "string" &&
      typeof o.userId === "string" &&
      typeof o.refreshTokenExpiresAt === "number"
    ) {
      return {
        accessToken: o.accessToken,
        // Infinity does not survive JSON (it becomes null).
        accessTokenExpiresAt: typeof o.accessTokenExpiresAt === "number" ? o.accessTokenExpiresAt : Number.POSITIVE_INFINITY,
        refreshToken: o.refreshToken,
        refreshTokenExpiresAt: o.refreshTokenExpiresAt,
        userId: o.userId,
      };
    }
  } catch {
    // corrupt: treated as signed out
  }
  return undefined;
}
