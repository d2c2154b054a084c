// The one connection to the shop's API: a session of @emporium/sdk whose
// client carries the staff member's access token (refreshed as needed) and
// whose tokens survive reloads in localStorage, under a key of the panel's
// own so a shopper's session in the shop's tab is never mixed in. Everything
// the panel says to the edge goes through `admin`.
import { createAuditClient, createSession, type AuditedService, type ConnectError, type TokenStorage } from "@emporium/sdk";

function browserStorage(store: Storage | undefined): TokenStorage | undefined {
  if (!store) return undefined;
  return {
    get: (k) => store.getItem(k),
    set: (k, v) => store.setItem(k, v),
    remove: (k) => store.removeItem(k),
  };
}

/** Fired (on `authEvents`) when the server ends the session (signed out everywhere, disabled). */
export const SIGNED_OUT = "emporium-admin:signed-out";
export const authEvents = new EventTarget();

export const session = createSession({
  baseUrl: "/",
  storage: browserStorage(globalThis.localStorage),
  storageKey: "emporium.admin.session",
  // Tabs share the stored tokens: one refresh at a time across them.
  lock: globalThis.navigator?.locks
    ? <T>(fn: () => Promise<T>) => globalThis.navigator.locks.request("emporium-admin-refresh", fn) as Promise<T>
    : undefined,
  timeoutMs: 30_000,
  onSignedOut: (reason: ConnectError) => {
    authEvents.dispatchEvent(new CustomEvent(SIGNED_OUT, { detail: reason }));
  },
});

/** The typed clients of every service, signed in as the staff member. */
export const admin = session.client;

/** A fresh idempotency key: one per click of a button that changes something. */
export function newKey(prefix: string): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

/** One service's audit log (admin only), signed in as the session is. */
export function auditLog(service: AuditedService) {
  return createAuditClient({ baseUrl: "/", token: () => session.accessToken(), timeoutMs: 30_000 }, service);
}
