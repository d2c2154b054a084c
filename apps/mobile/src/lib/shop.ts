// The one connection to the shop's API: a session of @emporium/sdk whose
// client carries the shopper's access token (refreshed by the SDK) and a
// traceparent on every request. Everything the app says to the edge goes
// through `shop`.
import { createSession, type ConnectError } from "@emporium/sdk";
import { apiBaseUrl } from "./config";
import { tokenStorage } from "./storage";
import { traceparent } from "./trace";

type Listener = (reason: ConnectError) => void;
const listeners = new Set<Listener>();

/** Called when the server ends the session (its refresh failed): sign in again. */
export function onSignedOut(fn: Listener): () => void {
  listeners.add(fn);
  return () => void listeners.delete(fn);
}

export const baseUrl = apiBaseUrl();

export const session = createSession({
  baseUrl,
  storage: tokenStorage(),
  // A slow mobile network: give up after 15 s (DeadlineExceeded) and let the
  // screen offer a retry, with the same idempotency key where there is one.
  timeoutMs: 15_000,
  interceptors: [traceparent],
  onSignedOut: (reason) => {
    for (const fn of listeners) fn(reason);
  },
});

/** The typed clients of every service, signed in when the shopper is. */
export const shop = session.client;
