// The one connection to the shop's API: a session of @emporium/sdk whose
// client carries the shopper's access token (refreshed as needed) and whose
// tokens survive reloads in localStorage. Everything the app says to the
// edge goes through `shop` (or `session.transport` for connect-query).
import { createSession, type ConnectError, type TokenStorage } from "@emporium/sdk";

function browserStorage(store: Storage | undefined): TokenStorage | undefined {
  if (!store) return undefined;
  return {
    get: (k) => store.getItem(k),
    set: (k, v) => store.setItem(k, v),
    remove: (k) => store.removeItem(k),
  };
}

/** Fired (on `authEvents`) when the server ends the session, e.g. after a sign-out everywhere. */
export const SIGNED_OUT = "emporium:signed-out";
export const authEvents = new EventTarget();

export const session = createSession({
  baseUrl: "/",
  storage: browserStorage(globalThis.localStorage),
  // Tabs share the stored tokens: one refresh at a time across them.
  lock: globalThis.navigator?.locks
    ? <T,>(fn: () => Promise<T>) => globalThis.navigator.locks.request("emporium-refresh", fn) as Promise<T>
    : undefined,
  timeoutMs: 20_000,
  onSignedOut: (reason: ConnectError) => {
    authEvents.dispatchEvent(new CustomEvent(SIGNED_OUT, { detail: reason }));
  },
});

/** The typed clients of every service, signed in when the shopper is. */
export const shop = session.client;
